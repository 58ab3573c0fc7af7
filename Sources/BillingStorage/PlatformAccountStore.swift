import BillingDomain
import BillingDocuments
import BillingSecurity

/// Platform accounts (applications and login identities) and their single-use tokens.
package enum PlatformAccountStore {
    private static let columns = """
        id, account_id, status, user_name, email, phone, contact_name, password_hash,
        reject_reason, submitted_at, decided_at, activated_at, password_changed_at
        """

    package static func decode(_ row: Row) throws -> PlatformAccount {
        PlatformAccount(id: row.text(0), accountID: row.text(1),
                        status: try StoredValue.choice(row.optionalText(2), "status of platform account \(row.text(0))"),
                        userName: row.text(3), email: row.text(4), phone: row.text(5), contactName: row.optionalText(6),
                        passwordHash: row.optionalText(7), rejectReason: row.optionalText(8), submittedAt: row.int(9),
                        decidedAt: row.optionalInt(10), activatedAt: row.optionalInt(11), passwordChangedAt: row.optionalInt(12))
    }

    // A login's statements as constant texts, found in the statement cache by address (an
    // interpolated text is built and hashed whole on every call).
    private static let loadSQL = "SELECT \(columns) FROM platform_accounts WHERE id = ?"
    private static let findByUserNameSQL = "SELECT \(columns) FROM platform_accounts WHERE user_name = ? AND status != 'REJECTED'"
    private static let findByEmailSQL = "SELECT \(columns) FROM platform_accounts WHERE email = ? AND status != 'REJECTED'"
    private static let findByPhoneSQL = "SELECT \(columns) FROM platform_accounts WHERE phone = ? AND status != 'REJECTED'"

    package static func load(_ db: Connection, _ id: String) throws -> PlatformAccount? {
        // `firstRow`: the login's writing transaction reads the account here, right after the
        // argon2id pass, where every distinct piece of code runs from a cold cache (the generic
        // `first` looked its result's type up in the runtime's metadata caches).
        try firstRow(db, loadSQL, values: .text(id), map: decode)
    }

    package static func require(_ db: Connection, _ id: String) throws -> PlatformAccount {
        guard let account = try load(db, id) else { throw BillingError.notFound(.platformAccountNotFound, id) }
        return account
    }

    /// The live (not rejected) platform account of a customer account, if any.
    package static func live(_ db: Connection, account: String) throws -> PlatformAccount? {
        try db.first("SELECT \(columns) FROM platform_accounts WHERE account_id = ? AND status != 'REJECTED'", account, map: decode)
    }

    /// The live platform account holding a login identifier.
    package static func find(_ db: Connection, _ identifier: LoginIdentifier) throws -> PlatformAccount? {
        try db.first(text(for: identifier, findByUserNameSQL, findByEmailSQL, findByPhoneSQL), identifier.normalized, map: decode)
    }

    /// The constant text, of three, that queries by the identifier's kind.
    private static func text(for identifier: LoginIdentifier, _ userName: String, _ email: String, _ phone: String) -> String {
        switch identifier {
        case .userName: userName
        case .email: email
        case .phone: phone
        }
    }

    /// What a login reads before it checks the password, outside the lock: which account
    /// holds the identifier, whether it is active, and the hash to verify.
    package struct LoginCandidate: Sendable {
        package let id: String
        package let status: PlatformAccountStatus
        package let passwordHash: String?
    }

    // The three columns alone: the login's write transaction reads the whole account again
    // by id (`load`) and answers with that, so decoding the other ten here was wasted.
    private static let candidateByUserNameSQL =
        "SELECT id, status, password_hash FROM platform_accounts WHERE user_name = ? AND status != 'REJECTED'"
    private static let candidateByEmailSQL =
        "SELECT id, status, password_hash FROM platform_accounts WHERE email = ? AND status != 'REJECTED'"
    private static let candidateByPhoneSQL =
        "SELECT id, status, password_hash FROM platform_accounts WHERE phone = ? AND status != 'REJECTED'"

    /// The live platform account holding a login identifier, as far as a login needs it
    /// before verifying (`find` reads the whole account).
    package static func loginCandidate(_ db: Connection, _ identifier: LoginIdentifier) throws -> LoginCandidate? {
        let sql = text(for: identifier, candidateByUserNameSQL, candidateByEmailSQL, candidateByPhoneSQL)
        return try firstRow(db, sql, values: .text(identifier.normalized)) {
            LoginCandidate(id: $0.text(0), status: try StoredValue.choice($0.optionalText(1), "status of platform account \($0.text(0))"),
                           passwordHash: $0.optionalText(2))
        }
    }

    /// A page of platform accounts in application order (`seq`), with each one's cursor.
    /// Platform accounts in application order after `seq`, of the given statuses and
    /// customer account when asked for (the approver's queue, through `platform_by_status`).
    package static func page(_ db: Connection, statuses: [String]?, account: String?, after sequence: Int64,
                     limit: Int64) throws -> [(account: PlatformAccount, seq: Int64)] {
        var conditions = ["seq > ?"]
        var arguments: [DatabaseValue] = [.integer(sequence)]
        if let statuses {
            conditions.append("status IN (\(statuses.map { _ in "?" }.joined(separator: ", ")))")
            arguments += statuses.map { .text($0) }
        }
        if let account {
            conditions.append("account_id = ?")
            arguments.append(.text(account))
        }
        arguments.append(.integer(limit))
        var rows: [(account: PlatformAccount, seq: Int64)] = []
        try db.forEach("SELECT \(columns), seq FROM platform_accounts WHERE \(conditions.joined(separator: " AND ")) ORDER BY seq LIMIT ?",
                       arguments) {
            rows.append((try decode($0), $0.int(13)))
        }
        return rows
    }

    package static func insert(_ db: Connection, _ account: PlatformAccount, sequence: Int64) throws {
        try db.run("""
            INSERT INTO platform_accounts (id, seq, account_id, status, user_name, email, phone, contact_name, submitted_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, account.id, sequence, account.accountID, account.status.rawValue, account.userName, account.email,
                 account.phone, account.contactName, account.submittedAt)
    }

    package static func update(_ db: Connection, _ account: PlatformAccount) throws {
        try db.run("""
            UPDATE platform_accounts SET status = ?, password_hash = ?, reject_reason = ?,
                decided_at = ?, activated_at = ?, password_changed_at = ? WHERE id = ?
            """, account.status.rawValue, account.passwordHash, account.rejectReason, account.decidedAt, account.activatedAt, account.passwordChangedAt, account.id)
    }

    /// Issues a token: stores only its digest, and ends the earlier unused tokens of the same
    /// purpose so that only the newest link works.
    package static func issueToken(_ db: Connection, account: String, purpose: TokenPurpose, at: Int64, ttl: Int64) throws -> (token: String, expiresAt: Int64) {
        try db.run("UPDATE platform_tokens SET used_at = ? WHERE platform_account_id = ? AND purpose = ? AND used_at IS NULL",
                   at, account, purpose.rawValue)
        let token = try Secrets.randomToken()
        let expiresAt = at + ttl
        try db.run("INSERT INTO platform_tokens (token_hash, platform_account_id, purpose, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                   Secrets.tokenDigest(token), account, purpose.rawValue, at, expiresAt)
        return (token, expiresAt)
    }

    /// The platform account a token is valid for right now; a clear error for an unknown,
    /// used, expired or wrong-purpose token.
    package static func redeemable(_ db: Connection, token: String, purpose: TokenPurpose, at: Int64) throws -> String {
        guard let stored = try db.first("SELECT platform_account_id, purpose, expires_at, used_at FROM platform_tokens WHERE token_hash = ?",
                                        Secrets.tokenDigest(token), map: { ($0.text(0), $0.text(1), $0.int(2), $0.optionalInt(3)) }),
              stored.1 == purpose.rawValue else {
            throw BillingError.refused(.invalidToken, "the token is not valid; request a new link")
        }
        guard stored.3 == nil else { throw BillingError.refused(.tokenUsed, "the token was already used or replaced by a newer one; request a new link") }
        guard at < stored.2 else { throw BillingError.refused(.tokenExpired, "the token expired; request a new link") }
        return stored.0
    }

    /// Marks a token used.
    package static func consume(_ db: Connection, token: String, at: Int64) throws {
        try db.run("UPDATE platform_tokens SET used_at = ? WHERE token_hash = ?", at, Secrets.tokenDigest(token))
    }
}
