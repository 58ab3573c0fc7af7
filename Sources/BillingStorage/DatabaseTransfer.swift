import BillingDomain
import BillingDocuments

/// Copies every row of one database into another, empty one of the same schema version, of
/// either backend: how a portal moves from its SQLite file to PostgreSQL when it grows to
/// several hosts (`billing_engine_copy`).
///
/// The copy is the rows as stored, byte for byte: ids, stored documents, the audit chain and
/// the row digests it lists. Nothing is recomputed, so verify on the copy checks the same
/// chain over the same rows, and reports any row that did not arrive exactly (a changed value
/// is `row_tampered`, a missing one `row_missing`). It is not an operation: it appends no audit
/// row and no event to either database. Into PostgreSQL it adds one thing: the records of the
/// event positions the source gave (`outbox_seals`, `OutboxSeals.recordCopied`), keyed with the
/// copying handle's audit key, since there verify checks positions against them.
package enum DatabaseTransfer {
    /// Every table of the schema, each after the tables its foreign keys name (self references
    /// aside: a table's rows go in key order, and the destination's constraints are deferred to
    /// the commit where the backend can). A test compares this list with the migrated schema.
    package static let tables: [String] = [
        "config", "events", "outbox_head", "outbox_seals", "audit_log", "audit_seals", "row_digests", "idempotency", "id_sequences",
        "login_throttles",
        "accounts", "ledger", "coupons", "coupon_ledger", "platform_accounts", "platform_tokens",
        "products", "commercial_discounts", "orders", "resources", "order_lines",
        "resource_funding", "resource_refunds", "resource_open_orders", "resource_periods",
        "five_day_units", "refund_details", "usage_records", "usage_lines", "usage_funding",
        "package_usage", "package_deductions", "exports",
    ]

    /// Tables whose rows the migrations write (the outbox head): a new database holds them, and
    /// the copy replaces them with the source's.
    package static let seeded: Set<String> = ["outbox_head"]

    /// Refuses a source the copy cannot carry whole: PostgreSQL keeps its identifier counters in
    /// sequences, not in rows (its copy is pg_dump's). Checked before the destination is opened,
    /// so that a refused copy creates nothing.
    package static func checkSource(_ source: Connection) throws {
        guard source.dialect == .sqlite else {
            throw BillingError(.copySourceNotSQLite, "the source is a PostgreSQL database; copy from it with pg_dump, and from an SQLite file with this call")
        }
    }

    /// Copies one read snapshot of `source` into `destination` in one write transaction on
    /// each side, and returns each table's row count as written (as read, but for the
    /// identifier counters a PostgreSQL destination keeps in its sequences: `id_sequences` 0
    /// and their digests left out of `row_digests`), or it throws and the destination keeps
    /// nothing. The destination must be migrated to the
    /// source's version and hold no row but the migrations' own (`seeded`): a copy never
    /// merges into data.
    package static func copy(from source: Connection, to destination: Connection) throws -> [(table: String, rows: Int64)] {
        try checkSource(source)
        return try source.transaction(write: false) {
            let version = try source.schemaStamp().version
            return try destination.transaction(write: true) {
                let target = try destination.schemaStamp().version
                guard target == version else {
                    throw BillingError(.copyVersionMismatch,
                                       "the destination is at schema version \(target), the source at \(version); open both with the same library")
                }
                for table in tables where !seeded.contains(table) {
                    if try destination.first("SELECT 1 FROM \(table) LIMIT 1", map: { _ in true }) != nil {
                        throw BillingError(.destinationNotEmpty,
                                           "the destination's table \(table) holds rows; a copy goes only into an empty database")
                    }
                }
                for table in tables where seeded.contains(table) {
                    try destination.run("DELETE FROM \(table)")
                }
                try destination.deferConstraints()
                // Where the destination draws identifiers from sequences (PostgreSQL), the
                // source's counters go there and not into `id_sequences`, which stays empty:
                // its rows, and their recorded digests, would be stale after the first number
                // drawn (`IdentifierSequence.keptInRows`).
                let countersInRows = IdentifierSequence.keptInRows(destination.dialect)
                let counters = try source.all("SELECT name, next FROM id_sequences ORDER BY name") { (name: $0.text(0), next: $0.int(1)) }
                var counts: [(table: String, rows: Int64)] = []
                for table in tables {
                    let rows: Int64
                    switch table {
                    case "id_sequences" where !countersInRows: rows = 0
                    case "row_digests" where !countersInRows:
                        rows = try copyRows(of: table, from: source, to: destination, where: "table_name <> 'id_sequences'")
                    default: rows = try copyRows(of: table, from: source, to: destination)
                    }
                    counts.append((table, rows))
                }
                // Where a sealer gives positions, verify checks each one against the sealer's
                // records: the positions the source gave at insert are recorded as given.
                if !destination.writersTakeTurns {
                    try OutboxSeals.recordCopied(destination, key: source.session.auditKey)
                }
                try destination.finishCopy(tables: tables, identifierCounters: countersInRows ? [] : counters)
                return counts
            }
        }
    }

    /// Copies one table (the rows `condition` keeps, all without one) in the source's storage
    /// order (on SQLite the order rows were inserted in, so a row comes after the rows of its
    /// own table it names) and returns how many went in.
    private static func copyRows(of table: String, from source: Connection, to destination: Connection,
                                 where condition: String? = nil) throws -> Int64 {
        var insert = ""
        var values: [DatabaseBindable] = []
        var rows: Int64 = 0
        try source.forEach("SELECT * FROM \(table)" + (condition.map { " WHERE " + $0 } ?? "")) { row in
            let count = row.columnCount
            if insert.isEmpty {
                // Quoted: a column may be a reserved word of the other backend (PostgreSQL's
                // `freeze`).
                let columns = (0..<count).map { "\"" + row.columnName($0) + "\"" }
                insert = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: Int(count)).joined(separator: ", ")))"
            }
            values.removeAll(keepingCapacity: true)
            for column in 0..<count {
                switch row.columnKind(column) {
                case .null: values.append(DatabaseValue.null)
                case .integer: values.append(DatabaseValue.integer(row.int(column)))
                case .text: values.append(DatabaseValue.text(row.optionalText(column) ?? ""))
                case .real, .blob:
                    // The library stores integers and text only: anything else was written by
                    // someone else, and neither backend would keep it as it is.
                    throw BillingError(.copyForeignValue,
                                       "\(table).\(row.columnName(column)) holds a value the library never writes (a real number or a blob); run billing_verify on the source")
                }
            }
            _ = try destination.execute(insert, values)
            rows += 1
        }
        return rows
    }
}
