import BillingDomain
import BillingDocuments

/// The file-level checks behind verify's first step: SQLite's own check, the page geometry and
/// the stored JSON documents.
extension InvariantQueries {
    /// The messages of `PRAGMA integrity_check` (`full`) or `PRAGMA quick_check` other than
    /// "ok", and the message of the corruption error the check itself stopped on, if any (the
    /// messages read before it are kept).
    package static func sqliteCheck(_ db: Connection, full: Bool) throws -> (messages: [String], stoppedOn: String?) {
        try db.checkStorage(full: full)
    }

    /// The page size and the path of the main database file (nil or empty for an in-memory one).
    package static func fileGeometry(_ db: Connection) throws -> (pageSize: Int64, file: String?) {
        try db.fileGeometry()
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
            try db.forEach("SELECT \(key) FROM \(table) WHERE \(db.dialect.jsonValid(column)) = 0") { row in
                invalid.append((table, column, row.text(0)))
            }
        }
        return invalid
    }
}
