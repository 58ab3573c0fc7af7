#if canImport(Glibc)
import Glibc
#endif
import BillingDomain
import BillingDocuments
import BillingStorage

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
        let check = try InvariantQueries.sqliteCheck(db, full: mode == .full)
        for message in check.messages { breach("sqlite_integrity", "database", String(message.prefix(500))) }
        if let stoppedOn = check.stoppedOn { breach("sqlite_integrity", "database", stoppedOn) }
        let geometry = try InvariantQueries.fileGeometry(db)
        let pageSize = geometry.pageSize
        if let file = geometry.file, !file.isEmpty, pageSize > 0, let size = fileSize(file), size % pageSize != 0 {
            breach("file_size", "database", "the file is \(size) bytes, not a whole number of \(pageSize)-byte pages: it was cut or extended outside SQLite")
        }
        guard breaches.isEmpty else { return breaches }
        for document in try InvariantQueries.invalidDocuments(db) {
            breach("stored_document", "\(document.table) \(document.key)", "\(document.table).\(document.column) is not valid JSON")
        }
        return breaches
    }

    private static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }
}
