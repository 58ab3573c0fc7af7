#if canImport(Glibc)
import Glibc
#endif

/// The first step of `verify`: whether the file itself is sound, before any invariant is
/// computed from what it holds.
extension Engine {
    /// How thoroughly verify checks the file (request key "integrity").
    enum IntegrityMode: String, CaseIterable {
        /// `PRAGMA quick_check`: every page and record readable, no index contents (default).
        case quick = "QUICK"
        /// `PRAGMA integrity_check`: also every index agrees with its table.
        case full = "FULL"
        /// Only the invariants.
        case none = "NONE"
    }

    static func integrityMode(_ reader: ObjectReader) throws -> IntegrityMode {
        try reader.optionalChoice("integrity", IntegrityMode.allCases.map(\.rawValue)).flatMap(IntegrityMode.init) ?? .quick
    }

    /// The damage SQLite's own check finds, a file that is not a whole number of pages (cut or
    /// extended outside SQLite) and stored JSON documents that no longer parse, as breaches
    /// `{"check", "subject", "detail"}`.
    static func integrityBreaches(_ db: Connection, mode: IntegrityMode) throws -> [JSONValue] {
        guard mode != .none else { return [] }
        var breaches: [JSONValue] = []
        func breach(_ check: String, _ subject: String, _ detail: String) {
            breaches.append(["check": .string(check), "subject": .string(subject), "detail": .string(detail)])
        }
        do {
            try db.forEach(mode == .full ? "PRAGMA integrity_check" : "PRAGMA quick_check") { row in
                let message = row.text(0)
                if message != "ok" { breach("sqlite_integrity", "database", String(message.prefix(500))) }
            }
        } catch let error as BillingError where error.reason == "database_corrupt" {
            breach("sqlite_integrity", "database", error.message)
        }
        let pageSize = try db.first("PRAGMA page_size") { $0.int(0) } ?? 0
        if let file = try db.first("PRAGMA main.database_list", map: { $0.optionalText(2) }) ?? nil, !file.isEmpty,
           pageSize > 0, let size = fileSize(file), size % pageSize != 0 {
            breach("file_size", "database", "the file is \(size) bytes, not a whole number of \(pageSize)-byte pages: it was cut or extended outside SQLite")
        }
        guard breaches.isEmpty else { return breaches }
        // What the library stores as JSON, by table, key and column.
        let documents = [("config", "id", "document"), ("products", "id", "document"), ("coupons", "id", "scope"),
                         ("order_lines", "order_id || ' line ' || line_no", "product"),
                         ("refund_details", "order_id || ' ' || resource_id", "detail"), ("exports", "id", "request"),
                         ("events", "seq", "data"), ("audit_log", "id", "detail"), ("idempotency", "scope || ' ' || key", "response")]
        for (table, key, column) in documents {
            try db.forEach("SELECT \(key) FROM \(table) WHERE json_valid(\(column)) = 0") { row in
                breach("stored_document", "\(table) \(row.text(0))", "\(table).\(column) is not valid JSON")
            }
        }
        return breaches
    }

    private static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }
}
