/// The append-only audit log: who did what, written in the operation's own transaction.
enum AuditLog {
    static func append(_ db: Connection, at: Int64, actor: String, operation: String,
                       account: String?, subject: String?, detail: JSONValue) throws {
        try db.run("INSERT INTO audit_log (recorded_at, actor, operation, account_id, subject_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
                   at, actor, operation, account, subject, detail.text)
    }

    /// Audit rows after an id, oldest first, optionally of one account.
    static func page(_ db: Connection, after: Int64, limit: Int64, account: String?) throws -> [JSONValue] {
        let sql = account == nil
            ? "SELECT id, recorded_at, actor, operation, account_id, subject_id, detail FROM audit_log WHERE id > ? ORDER BY id LIMIT ?"
            : "SELECT id, recorded_at, actor, operation, account_id, subject_id, detail FROM audit_log WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?"
        let arguments: [SQLiteBindable] = account.map { [$0, after, limit] } ?? [after, limit]
        var rows: [JSONValue] = []
        try db.forEach(sql, arguments) { row in
            rows.append([
                "id": .integer(row.int(0)),
                "recorded_at": .integer(row.int(1)),
                "actor": .string(row.text(2)),
                "operation": .string(row.text(3)),
                "account_id": JSONValue(row.optionalText(4)),
                "subject_id": JSONValue(row.optionalText(5)),
                "detail": (try? JSONValue.parse(row.text(6))) ?? .null,
            ])
        }
        return rows
    }
}
