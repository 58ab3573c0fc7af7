/// The append-only audit log: who did what, written in the operation's own transaction.
///
/// Rows are chained: each carries BLAKE2b(previous hash, its own fields), so deleting, editing
/// or reordering a row breaks the chain at that row, and `verify` names the first broken link.
enum AuditLog {
    static func append(_ db: Connection, at: Int64, actor: String, operation: String,
                       account: String?, subject: String?, detail: JSONValue) throws {
        let previous = try db.first("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1") { $0.optionalText(0) } ?? nil
        let text = detail.text
        try db.run("INSERT INTO audit_log (recorded_at, actor, operation, account_id, subject_id, detail, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   at, actor, operation, account, subject, text,
                   link(previous: previous ?? "", at: at, actor: actor, operation: operation, account: account, subject: subject, detail: text))
    }

    /// The hash of a row given the one before it.
    static func link(previous: String, at: Int64, actor: String, operation: String, account: String?, subject: String?, detail: String) -> String {
        let fields: JSONValue = ["previous": .string(previous), "at": .integer(at), "actor": .string(actor), "operation": .string(operation),
                                 "account": JSONValue(account), "subject": JSONValue(subject), "detail": .string(detail)]
        return Secrets.tokenDigest(fields.text)
    }

    /// The first row whose hash does not follow from the row before it, if any. Rows written
    /// before the chain existed (no hash) are skipped until the first hashed row.
    static func firstBrokenLink(_ db: Connection) throws -> (id: Int64, detail: String)? {
        var previous: String?
        var broken: (Int64, String)?
        try db.forEach("SELECT id, recorded_at, actor, operation, account_id, subject_id, detail, hash FROM audit_log ORDER BY id") { row in
            guard broken == nil else { return }
            guard let hash = row.optionalText(7) else {
                if previous != nil { broken = (row.int(0), "row has no hash after the chain began") }
                return
            }
            let expected = link(previous: previous ?? "", at: row.int(1), actor: row.text(2), operation: row.text(3),
                                account: row.optionalText(4), subject: row.optionalText(5), detail: row.text(6))
            if previous == nil {
                // The first hashed row starts the chain from an empty previous hash, or from an
                // older row whose hash we no longer have if rows were deleted before it.
                if hash != expected { broken = (row.int(0), "the first row of the chain does not hash to its stored value") }
            } else if hash != expected {
                broken = (row.int(0), "the row does not follow from the row before it (edited, deleted or reordered)")
            }
            previous = hash
        }
        return broken
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
                "detail": try StoredValue.document(row.optionalText(6), "detail of audit row \(row.int(0))"),
            ])
        }
        return rows
    }
}
