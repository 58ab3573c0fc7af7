import BillingDomain
import BillingDocuments

/// The event outbox: every state change appends a row with a strictly increasing sequence.
/// Writers are serialized by `BEGIN IMMEDIATE`, so sequence order is commit order and a
/// reader paging by sequence never skips an event that commits later.
package enum EventLog {
    package static func append(_ db: Connection, type: String, account: String?, subject: String?, at: Int64, data: JSONValue) throws {
        try db.run("INSERT INTO events (type, account_id, subject_id, occurred_at, data) VALUES (?, ?, ?, ?, ?)",
                   type, account, subject, at, data.text)
    }

    /// Events after a sequence number, oldest first, optionally of one account.
    package static func page(_ db: Connection, after: Int64, limit: Int64, account: String?) throws -> [JSONValue] {
        let sql = account == nil
            ? "SELECT seq, type, account_id, subject_id, occurred_at, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?"
            : "SELECT seq, type, account_id, subject_id, occurred_at, data FROM events WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?"
        let arguments: [DatabaseBindable] = account.map { [$0, after, limit] } ?? [after, limit]
        var rows: [JSONValue] = []
        try db.forEach(sql, arguments) { row in
            rows.append([
                "seq": .integer(row.int(0)),
                "type": .string(row.text(1)),
                "account_id": JSONValue(row.optionalText(2)),
                "subject_id": JSONValue(row.optionalText(3)),
                "occurred_at": .integer(row.int(4)),
                "data": try StoredValue.document(row.optionalText(5), "data of event \(row.int(0))"),
            ])
        }
        return rows
    }

    /// The sequence of the last event appended (0 when the outbox is empty): the cursor after
    /// which only events still to come are listed.
    package static func end(_ db: Connection) throws -> Int64 {
        try db.first("SELECT COALESCE(MAX(seq), 0) FROM events", map: { $0.int(0) }) ?? 0
    }
}
