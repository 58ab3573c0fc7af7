import BillingDomain
import BillingDocuments
import BillingStorage
import BillingSecurity

extension Engine {
    /// Logs in with a phone number, e-mail address or user name and a password:
    /// `{"identifier", "password"}` → `{"platform_account", "account_id"}`.
    ///
    /// An unknown identifier and a wrong password fail alike (`BILLING_E_AUTH`,
    /// `invalid_credentials`), take the same time and count alike toward the identifier's
    /// throttle (`LoginThrottle`): while a wait runs every attempt fails with
    /// `login_throttled`, whatever the password, and names the instant it ends. The attempt is
    /// audited either way, never with the password. Takes no actor (the caller is not known
    /// yet) and no idempotency key: each attempt is its own event.
    ///
    /// The hash is verified outside the engine lock (argon2id is slow on purpose), between a
    /// read of the stored hash and a write that records the outcome.
    public func login(_ requestJSON: String?) throws -> String {
        let reader = try ObjectReader(text: requestJSON)
        let request = try LoginRequest(reader)
        try reader.finish()
        let (identifierText, password) = (request.identifier, request.password)
        let identifier = try? LoginIdentifier.parse(identifierText)
        // Text that is no identifier at all is throttled too, so no answer depends on it.
        let key = Engine.throttleKey(identifier?.normalized ?? identifierText.trimmingSpaces())

        let (candidate, configuration, waiting) = try lock.withLock {
            try db.transaction(write: false) { () -> (PlatformAccountStore.LoginCandidate?, Configuration, Bool) in
                let configuration = try loadConfiguration()
                let throttle = try LoginThrottleStore.load(db, key: key)
                return (try identifier.flatMap { try PlatformAccountStore.loginCandidate(db, $0) }, configuration,
                        configuration.loginThrottle.waitUntil(throttle, at: instantLocked()) != nil)
            }
        }
        // During a wait the password is not looked at, for a known identifier as for an
        // unknown one: a wait that let the right password through would be a free oracle.
        let storedHash = candidate?.status == .active ? candidate?.passwordHash : nil
        var verified = false
        var rehash: String?
        if !waiting {
            let ops = configuration.passwordHashOpsLimit
            let memory = configuration.passwordHashMemoryBytes
            verified = Secrets.verifyPassword(password, hash: storedHash ?? Engine.decoyHash(ops: ops, memory: memory))
                && storedHash != nil
            rehash = verified && Secrets.needsRehash(storedHash ?? "", opsLimit: ops, memoryBytes: memory)
                ? try Secrets.hashPassword(password, opsLimit: ops, memoryBytes: memory) : nil
        }

        var failure: BillingError?
        let response: String = try lock.withLock {
            try RowCoverage.install(db)
            return try db.transaction(write: true) {
                let now = instantLocked()
                let configuration = try loadConfiguration()
                let policy = configuration.loginThrottle
                let throttle = try LoginThrottleStore.load(db, key: key)
                let platform = try candidate.flatMap { try PlatformAccountStore.load(db, $0.id) }.flatMap { $0.status == .active ? $0 : nil }
                func record(_ detailText: String) throws {
                    try AuditLog.append(db, at: now, actor: platform?.id ?? "anonymous", operation: "platform.login",
                                        account: platform?.accountID, subject: platform?.id, detailText: detailText)
                }
                // A wait that began (or, on a moved clock, ended) since the read refuses too:
                // this attempt's password was either not checked or checked too early.
                if let until = policy.waitUntil(throttle, at: now) ?? (waiting ? now : nil) {
                    try record(LoginOutcome.throttled)
                    failure = Engine.loginFailure(throttled: true, retryAfter: until, calendar: configuration.calendar)
                    return ""
                }
                // A password changed between the read and now makes the verification stale
                // (the stored text, byte for byte).
                guard var platform, verified, TextBytes.same(platform.passwordHash, storedHash) else {
                    let next = policy.failing(throttle, at: now)
                    try LoginThrottleStore.save(db, key: key, next)
                    if let platform, let identifier, next.failures == policy.afterFailures {
                        // The host may warn the owner; the caller never sees events.
                        try EventLog.append(db, type: "platform.login_throttled", account: platform.accountID, subject: platform.id,
                                            at: now, data: ["identifier_kind": .string(identifier.kind),
                                                            "failures": .integer(next.failures), "retry_after": .integer(next.retryAfter)])
                    }
                    try record(platform == nil ? LoginOutcome.unknownIdentifier : LoginOutcome.wrongPassword)
                    failure = Engine.loginFailure(throttled: false, retryAfter: next.retryAfter > now ? next.retryAfter : nil,
                                                  calendar: configuration.calendar)
                    return ""
                }
                // The throttle row read above is deleted; when there was none (nearly every
                // login) the delete is skipped: this transaction holds the write lock
                // (PostgreSQL: its snapshot), so no row can appear for it to delete.
                if throttle != nil { try LoginThrottleStore.clear(db, key: key) }
                if let rehash {
                    platform.passwordHash = rehash
                    try PlatformAccountStore.update(db, platform)
                }
                try record(LoginOutcome.success)
                return LoginResponse(platformAccount: platform).documentText
            }
        }
        if let failure { throw failure }
        return response
    }

    /// The one answer of a failed login, the same for a known and an unknown identifier:
    /// `invalid_credentials` for a checked attempt (naming the wait it started, if any), or
    /// `login_throttled` for an attempt refused during a wait. The instant comes last as
    /// "(retry_after <Unix seconds>)", for programs.
    static func loginFailure(throttled: Bool, retryAfter: Int64?, calendar: BusinessCalendar) -> BillingError {
        let wait = retryAfter.map { "the next attempt is possible at \(calendar.iso8601($0)) (retry_after \($0))" }
        var error = throttled
            ? BillingError(.loginThrottled, "too many failed logins for this identifier; \(wait ?? "")")
            : BillingError(.invalidCredentials,
                           "the identifier or the password is wrong" + (wait.map { "; too many failed logins: \($0)" } ?? ""))
        error.retryAfter = retryAfter
        return error
    }

    /// Starts a password reset for the platform account holding an e-mail address, phone
    /// number or user name: `{"actor", "identifier"}` → `{"platform_account", "channel",
    /// "reset_token", "token_expires_at"}`.
    ///
    /// Every well-formed identifier gets the same status and the same keys, so that the
    /// answer cannot tell a caller whether the identifier exists. For an ACTIVE platform
    /// account `reset_token` is a new token (earlier reset tokens stop working) and
    /// `platform_account` says where to send it; otherwise both are null and nothing but the
    /// audit row is written. `channel` and `token_expires_at` do not depend on existence.
    /// Emits `platform.password_reset_requested` for an account only.
    public func requestPasswordReset(_ requestJSON: String?) throws -> String {
        try perform("platform.reset_request", requestJSON, secrets: ["reset_token"], parse: PasswordResetRequest.init) { context, input -> PasswordResetResponse in
            let identifier = input.identifier
            let channel = JSONValue.string(identifier.kind)
            let expiresAt = context.now + context.configuration.tokenTTLSeconds
            guard let platform = try PlatformAccountStore.find(context.db, identifier), platform.status == .active else {
                context.audit(detail: ["channel": channel, "outcome": "no_active_account"])
                return PasswordResetResponse(platformAccount: nil, channel: identifier.kind, resetToken: nil, tokenExpiresAt: expiresAt)
            }
            let token = try PlatformAccountStore.issueToken(context.db, account: platform.id, purpose: .resetPassword,
                                                            at: context.now, ttl: context.configuration.tokenTTLSeconds)
            try context.emit("platform.password_reset_requested", account: platform.accountID, subject: platform.id,
                             data: ["channel": channel, "email": .string(platform.email), "phone": .string(platform.phone),
                                    "token_expires_at": .integer(token.expiresAt)])
            context.audit(account: platform.accountID, subject: platform.id, detail: ["channel": channel, "outcome": "token_issued"])
            return PasswordResetResponse(platformAccount: platform, channel: identifier.kind, resetToken: token.token,
                                         tokenExpiresAt: token.expiresAt)
        }
    }

    /// Completes a reset with its token and a new password: `{"actor", "token", "password"}`.
    /// Ends every login wait on the account's identifiers. Emits `platform.password_reset`.
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

/// The audit details of a login's outcomes, written once as the text of their trees: a login
/// after the argon2id pass runs on cold caches, and writing the tree on each login touched the
/// writer's dictionary code for one key.
private enum LoginOutcome {
    static let success = JSONValue.object(["outcome": "success"]).text
    static let throttled = JSONValue.object(["outcome": "throttled"]).text
    static let unknownIdentifier = JSONValue.object(["outcome": "unknown_identifier"]).text
    static let wrongPassword = JSONValue.object(["outcome": "wrong_password"]).text
}

private let decoyLock = Lock()
nonisolated(unsafe) private var decoys: [[Int64]: String] = [:]
