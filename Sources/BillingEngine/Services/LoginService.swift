extension Engine {
    /// Logs in with a phone number, e-mail address or user name and a password:
    /// `{"identifier", "password"}` → `{"platform_account", "account_id"}`.
    ///
    /// An unknown identifier and a wrong password fail alike (`BILLING_E_AUTH`,
    /// `invalid_credentials`) and take the same time. `login_max_failures` failures in a row
    /// lock the platform account for `login_lockout_seconds` (`account_locked`, emitted as
    /// `platform.locked`). The attempt is audited either way, never with the password. Takes
    /// no idempotency key: each attempt is its own event.
    ///
    /// The hash is verified outside the engine lock (argon2id is slow on purpose), between a
    /// read of the stored hash and a write that records the outcome.
    public func login(_ requestJSON: String?) throws -> String {
        let reader = try ObjectReader(text: requestJSON)
        let identifierText = try reader.string("identifier", maxLength: 254)
        let password = try reader.string("password", maxLength: 1024)
        try reader.finish()
        let identifier = try? LoginIdentifier.parse(identifierText)

        let (candidate, configuration) = try lock.withLock {
            try db.transaction(write: false) { () -> (PlatformAccount?, Configuration) in
                (try identifier.flatMap { try PlatformAccountStore.find(db, $0) }, try loadConfiguration())
            }
        }
        let ops = configuration.passwordHashOpsLimit
        let memory = configuration.passwordHashMemoryBytes
        let storedHash = candidate?.status == .active ? candidate?.passwordHash : nil
        let verified = Secrets.verifyPassword(password, hash: storedHash ?? Engine.decoyHash(ops: ops, memory: memory))
            && storedHash != nil
        let rehash = verified && Secrets.needsRehash(storedHash ?? "", opsLimit: ops, memoryBytes: memory)
            ? try Secrets.hashPassword(password, opsLimit: ops, memoryBytes: memory) : nil

        var failure: BillingError?
        let response: String = try lock.withLock {
            try db.transaction(write: true) {
                let now = instantLocked()
                let configuration = try loadConfiguration()
                let invalid = BillingError(.unauthenticated, "invalid_credentials", "the identifier or the password is wrong")
                guard let id = candidate?.id, var platform = try PlatformAccountStore.load(db, id), platform.status == .active else {
                    try AuditLog.append(db, at: now, actor: "anonymous", operation: "platform.login", account: nil, subject: nil,
                                        detail: ["outcome": "unknown_identifier"])
                    failure = invalid
                    return ""
                }
                func record(_ outcome: String) throws {
                    try AuditLog.append(db, at: now, actor: platform.id, operation: "platform.login", account: platform.accountID,
                                        subject: platform.id, detail: ["outcome": .string(outcome)])
                }
                if let until = platform.lockedUntil, now < until {
                    try record("locked")
                    failure = BillingError(.unauthenticated, "account_locked",
                                           "too many failed logins; try again after \(configuration.calendar.iso8601(until))")
                    return ""
                }
                // A password changed between the read and now makes the verification stale.
                guard verified, platform.passwordHash == storedHash else {
                    platform.failedLogins += 1
                    if platform.failedLogins >= configuration.loginMaxFailures {
                        platform.failedLogins = 0
                        platform.lockedUntil = now + configuration.loginLockoutSeconds
                        try EventLog.append(db, type: "platform.locked", account: platform.accountID, subject: platform.id, at: now,
                                            data: ["locked_until": .integer(now + configuration.loginLockoutSeconds)])
                        try record("wrong_password_locked")
                    } else {
                        try record("wrong_password")
                    }
                    try PlatformAccountStore.update(db, platform)
                    failure = invalid
                    return ""
                }
                platform.failedLogins = 0
                platform.lockedUntil = nil
                if let rehash { platform.passwordHash = rehash }
                try PlatformAccountStore.update(db, platform)
                try record("success")
                return Engine.document(["platform_account": platform.json, "account_id": .string(platform.accountID)])
            }
        }
        if let failure { throw failure }
        return response
    }

    /// Starts a password reset for an active platform account named by its e-mail address,
    /// phone number or user name: `{"actor", "identifier"}` → `{"platform_account", "channel",
    /// "reset_token", "token_expires_at"}`. The host delivers the token over the channel.
    /// Earlier reset tokens stop working. Emits `platform.password_reset_requested`.
    public func requestPasswordReset(_ requestJSON: String?) throws -> String {
        try perform("platform.reset_request", requestJSON, secrets: ["reset_token"], parse: { reader in
            try LoginIdentifier.parse(try reader.string("identifier", maxLength: 254))
        }, apply: { context, identifier in
            guard let platform = try PlatformAccountStore.find(context.db, identifier) else {
                throw BillingError.notFound("platform_account", identifier.normalized)
            }
            guard platform.status == .active else {
                throw BillingError.refused("not_active", "only an ACTIVE platform account can reset its password; it is \(platform.status.rawValue)")
            }
            let channel: String
            switch identifier {
            case .email: channel = "EMAIL"
            case .phone: channel = "PHONE"
            case .userName: channel = "USER_NAME"
            }
            let token = try PlatformAccountStore.issueToken(context.db, account: platform.id, purpose: .resetPassword,
                                                            at: context.now, ttl: context.configuration.tokenTTLSeconds)
            try context.emit("platform.password_reset_requested", account: platform.accountID, subject: platform.id,
                             data: ["channel": .string(channel), "email": .string(platform.email), "phone": .string(platform.phone),
                                    "token_expires_at": .integer(token.expiresAt)])
            context.audit(account: platform.accountID, subject: platform.id, detail: ["channel": .string(channel)])
            return ["platform_account": platform.json, "channel": .string(channel), "reset_token": .string(token.token),
                    "token_expires_at": .integer(token.expiresAt)]
        })
    }

    /// Completes a reset with its token and a new password: `{"actor", "token", "password"}`.
    /// Clears failed logins and any lock. Emits `platform.password_reset`.
    public func completePasswordReset(_ requestJSON: String?) throws -> String {
        try setPassword("platform.reset_complete", requestJSON, purpose: .resetPassword)
    }

    /// One decoy hash per cost setting, made once: verifying against it costs what a real
    /// verification costs.
    static func decoyHash(ops: Int64, memory: Int64) -> String {
        decoyLock.withLock {
            if let cached = decoys[[ops, memory]] { return cached }
            let hash = Secrets.decoyHash(opsLimit: ops, memoryBytes: memory)
            decoys[[ops, memory]] = hash
            return hash
        }
    }
}

private let decoyLock = Lock()
nonisolated(unsafe) private var decoys: [[Int64]: String] = [:]
