import BillingDomain
import BillingDocuments
import BillingSecurity

/// The append-only audit log: who did what, written in the operation's own transaction.
///
/// Rows are chained: each carries BLAKE2b(previous hash, its own fields, the rows its operation
/// wrote), so deleting, editing or reordering a row breaks the chain at that row, and `verify`
/// names the first broken link. The head (last id and hash) is what a host keeps elsewhere to
/// detect a cut or recomputed chain (`head`, verify's `audit_head`).
package enum AuditLog {
    /// Appends the operation's audit row, listing (and covering) every row it wrote.
    package static func append(_ db: Connection, at: Int64, actor: String, operation: String,
                       account: String?, subject: String?, detail: JSONValue) throws {
        try appendRow(db, at: at, actor: actor, operation: operation, account: account, subject: subject, detail: detail,
                      writes: try RowCoverage.collect(db))
    }

    /// Appends an audit row with a given list of writes, and keeps their digests.
    package static func appendRow(_ db: Connection, at: Int64, actor: String, operation: String, account: String?,
                          subject: String?, detail: JSONValue, writes: [RowCoverage.Write]) throws {
        let previous = try db.first("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1") { $0.optionalText(0) } ?? nil
        // A keyed chain stays keyed: a handle without the key (or with another one) would
        // append links nobody can check, so it may not write.
        if let previous, previous.hasPrefix(keyedPrefix) {
            guard let key = db.session.auditKey else {
                throw BillingError.refused(.auditKeyRequired,
                                           "this file's audit chain is keyed: open it with the host's audit_key to write to it")
            }
            if !db.session.auditKeyChecked {
                try checkKey(db, key)
                db.session.auditKeyChecked = true
            }
        }
        let text = detail.text
        let rows = RowCoverage.listText(writes)
        try db.run("INSERT INTO audit_log (recorded_at, actor, operation, account_id, subject_id, detail, rows, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   at, actor, operation, account, subject, text, rows,
                   link(previous: previous ?? "", at: at, actor: actor, operation: operation, account: account, subject: subject,
                        detail: text, rows: rows, key: db.session.auditKey))
        try RowCoverage.store(db, writes, audit: db.lastInsertRowID)
    }

    /// What starts the hash of a row linked with the host's key.
    package static let keyedPrefix = "k:"

    /// The hash of a row given the one before it: BLAKE2b of its fields, or with a key the
    /// keyed BLAKE2b marked "k:". Rows written before row coverage have no list of rows
    /// (`rows` nil) and hash as they did then.
    package static func link(previous: String, at: Int64, actor: String, operation: String, account: String?, subject: String?,
                     detail: String, rows: String?, key: [UInt8]? = nil) -> String {
        var fields: [String: JSONValue] = ["previous": .string(previous), "at": .integer(at), "actor": .string(actor),
                                           "operation": .string(operation), "account": JSONValue(account),
                                           "subject": JSONValue(subject), "detail": .string(detail)]
        if let rows { fields["rows"] = .string(rows) }
        let text = JSONValue.object(fields).text
        if let key { return keyedPrefix + Secrets.digest(Array(text.utf8), key: key) }
        return Secrets.tokenDigest(text)
    }

    private static let lastRowQuery =
        "SELECT id, recorded_at, actor, operation, account_id, subject_id, detail, rows, hash FROM audit_log ORDER BY id DESC LIMIT 1"

    /// Refuses a key that does not link the chain's last row (`audit_key_mismatch`).
    package static func checkKey(_ db: Connection, _ key: [UInt8]) throws {
        let previous = try db.first("SELECT hash FROM audit_log WHERE id < (SELECT max(id) FROM audit_log) ORDER BY id DESC LIMIT 1") {
            $0.optionalText(0)
        } ?? nil
        var matches = true
        try db.forEach(lastRowQuery) { row in
            matches = row.optionalText(8) == expected(row, previous: previous ?? "", key: key)
        }
        if !matches {
            throw BillingError.refused(.auditKeyMismatch,
                                       "the audit_key does not link the audit chain's last row: another key was used, or that row was changed")
        }
    }

    private static let chainQuery = "SELECT id, recorded_at, actor, operation, account_id, subject_id, detail, rows, hash FROM audit_log ORDER BY id"

    private static func expected(_ row: Row, previous: String, key: [UInt8]? = nil) -> String {
        link(previous: previous, at: row.int(1), actor: row.text(2), operation: row.text(3), account: row.optionalText(4),
             subject: row.optionalText(5), detail: row.text(6), rows: row.optionalText(7), key: key)
    }

    /// The first row whose hash is missing or does not follow from the row before it, if any,
    /// and how many keyed links could not be checked for want of the key. The first row links
    /// to an empty hash. Once a row is keyed every later one must be; given a key, the last
    /// row must be keyed (a chain recomputed without the key is not).
    package static func firstBrokenLink(_ db: Connection, key: [UInt8]? = nil) throws -> (broken: (id: Int64, detail: String)?, unchecked: Int64) {
        var previous = ""
        var broken: (Int64, String)?
        var unchecked: Int64 = 0
        var keyedSeen = false
        var last: (id: Int64, keyed: Bool)?
        try db.forEach(chainQuery) { row in
            guard broken == nil else { return }
            guard let hash = row.optionalText(8) else {
                broken = (row.int(0), "the row has no hash (the chain was switched off or cut here)")
                return
            }
            let keyed = hash.hasPrefix(keyedPrefix)
            last = (row.int(0), keyed)
            if keyedSeen && !keyed {
                broken = (row.int(0), "an unkeyed row follows keyed ones (the chain was recomputed without the key)")
                return
            }
            keyedSeen = keyedSeen || keyed
            if keyed && key == nil {
                unchecked += 1
            } else if hash != expected(row, previous: previous, key: keyed ? key : nil) {
                broken = (row.int(0), previous.isEmpty
                    ? "the first row of the chain does not hash to its stored value (edited, or rows before it deleted)"
                    : "the row does not follow from the row before it (edited, deleted or reordered)")
            }
            previous = hash
        }
        if broken == nil, key != nil, let last, !last.keyed {
            broken = (last.id, "the chain's last row is not keyed although the host gave its key (recomputed without the key, or no write since the key was set)")
        }
        return (broken, unchecked)
    }

    /// Recomputes every row's hash from the start of the log: only at the upgrade that gives
    /// every row a hash (rows from before the chain existed had none).
    package static func rehashAll(_ db: Connection) throws {
        var previous = ""
        var hashes: [(Int64, String)] = []
        try db.forEach(chainQuery) { row in
            previous = expected(row, previous: previous)
            hashes.append((row.int(0), previous))
        }
        for (id, hash) in hashes { try db.run("UPDATE audit_log SET hash = ? WHERE id = ?", hash, id) }
    }

    /// The chain's head: the last row's id and hash (position 0 and an empty digest for an
    /// empty log).
    package static func head(_ db: Connection) throws -> (position: Int64, digest: String) {
        try db.first("SELECT id, coalesce(hash, '') FROM audit_log ORDER BY id DESC LIMIT 1") { ($0.int(0), $0.text(1)) } ?? (0, "")
    }

    /// The hash of the audit row at a position (empty for a row without one), nil when no row
    /// has that id.
    package static func hash(_ db: Connection, at position: Int64) throws -> String? {
        try db.first("SELECT coalesce(hash, '') FROM audit_log WHERE id = ?", position) { $0.text(0) }
    }

    /// Audit rows after an id, oldest first, optionally of one account.
    package static func page(_ db: Connection, after: Int64, limit: Int64, account: String?) throws -> [JSONValue] {
        let sql = account == nil
            ? "SELECT id, recorded_at, actor, operation, account_id, subject_id, detail FROM audit_log WHERE id > ? ORDER BY id LIMIT ?"
            : "SELECT id, recorded_at, actor, operation, account_id, subject_id, detail FROM audit_log WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?"
        let arguments: [DatabaseBindable] = account.map { [$0, after, limit] } ?? [after, limit]
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
