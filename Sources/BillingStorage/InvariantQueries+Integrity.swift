import BillingDomain
import BillingDocuments

/// The file-level checks behind verify's first step: SQLite's own check, the page geometry and
/// the stored JSON documents.
extension InvariantQueries {
    /// The messages of `PRAGMA integrity_check` (`full`) or `PRAGMA quick_check` other than
    /// "ok", and the message of the corruption error the check itself stopped on, if any (the
    /// messages read before it are kept).
    package static func sqliteCheck(_ db: Connection, full: Bool) throws -> (messages: [String], stoppedOn: String?) {
        var messages: [String] = []
        do {
            try db.forEach(full ? "PRAGMA integrity_check" : "PRAGMA quick_check") { row in
                let message = row.text(0)
                if message != "ok" { messages.append(message) }
            }
        } catch let error as BillingError where error.reason == "database_corrupt" {
            return (messages, error.message)
        }
        return (messages, nil)
    }

    /// The page size and the path of the main database file (nil or empty for an in-memory one).
    package static func fileGeometry(_ db: Connection) throws -> (pageSize: Int64, file: String?) {
        let pageSize = try db.first("PRAGMA page_size") { $0.int(0) } ?? 0
        let file = try db.first("PRAGMA main.database_list", map: { $0.optionalText(2) }) ?? nil
        return (pageSize, file)
    }

    /// Stored JSON documents that no longer parse: table, column and the row's key as text.
    package static func invalidDocuments(_ db: Connection) throws -> [(table: String, column: String, key: String)] {
        // What the library stores as JSON, by table, key and column.
        let documents = [("config", "id", "document"), ("products", "id", "document"), ("coupons", "id", "scope"),
                         ("order_lines", "order_id || ' line ' || line_no", "product"),
                         ("refund_details", "order_id || ' ' || resource_id", "detail"), ("exports", "id", "request"),
                         ("events", "seq", "data"), ("audit_log", "id", "detail"), ("idempotency", "scope || ' ' || key", "response")]
        var invalid: [(table: String, column: String, key: String)] = []
        for (table, key, column) in documents {
            try db.forEach("SELECT \(key) FROM \(table) WHERE json_valid(\(column)) = 0") { row in
                invalid.append((table, column, row.text(0)))
            }
        }
        return invalid
    }
}
