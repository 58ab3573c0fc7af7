import BillingDomain
import BillingDocuments
import BillingStorage
import BillingSecurity

extension Engine {
    /// The eligibility checks E1–E4 for an account, all of them: `{"account_id"}` →
    /// `{"eligible", "checks": [{"check", "passed", "code"?, "message"?}]}`.
    public func platformEligibility(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: { try $0.string("account_id", maxLength: 64) }) { context, id in
            let account = try AccountStore.require(context.db, id)
            let failures = Eligibility.failures(of: account, hasPlatformAccount: try PlatformAccountStore.live(context.db, account: id) != nil)
            let checks: [JSONValue] = ["E1", "E2", "E3", "E4"].map { check in
                if let failure = failures.first(where: { $0.check == check }) {
                    return ["check": .string(check), "passed": false, "code": .string(failure.code), "message": .string(failure.message)]
                }
                return ["check": .string(check), "passed": true]
            }
            return ["account_id": .string(id), "eligible": .bool(failures.isEmpty), "checks": .array(checks)]
        }
    }

    /// Submits a platform account application: `{"actor", "account_id", "user_name", "email",
    /// "phone", "contact_name"?}`. All of E1–E4 are checked together; if any fails nothing is
    /// created and the error (reason `not_eligible`) lists every failing check. Identifiers are
    /// normalised and must be unused. Emits `platform.application_submitted`.
    public func applyForPlatformAccount(_ requestJSON: String?) throws -> String {
        struct Input { var account: String; var userName: String; var email: String; var phone: String; var contact: String? }
        return try perform("platform.apply", requestJSON, parse: { reader in
            Input(account: try reader.string("account_id", maxLength: 64),
                  userName: try LoginIdentifier.userName(try reader.string("user_name", maxLength: 32)),
                  email: try LoginIdentifier.email(try reader.string("email", maxLength: 254)),
                  phone: try LoginIdentifier.phone(try reader.string("phone", maxLength: 32)),
                  contact: try reader.optionalString("contact_name", maxLength: 128))
        }, apply: { context, input in
            let account = try AccountStore.require(context.db, input.account)
            let failures = Eligibility.failures(of: account, hasPlatformAccount: try PlatformAccountStore.live(context.db, account: account.id) != nil)
            if !failures.isEmpty {
                throw BillingError.refused("not_eligible", "the account cannot open a platform account: "
                    + failures.map { "\($0.check) \($0.code): \($0.message)" }.joined(separator: "; "))
            }
            for (identifier, name) in [(LoginIdentifier.userName(input.userName), "user_name"), (.email(input.email), "email"), (.phone(input.phone), "phone")] {
                if try PlatformAccountStore.find(context.db, identifier) != nil {
                    throw BillingError(.conflict, "\(name)_taken", "the \(name) \(BillingError.quote(identifier.normalized)) is already used by another platform account")
                }
            }
            let sequence = try IdentifierSequence.next(context.db, "platform_account")
            let platform = PlatformAccount(id: IdentifierSequence.format("PA", sequence), accountID: account.id, status: .submitted,
                                           userName: input.userName, email: input.email, phone: input.phone,
                                           contactName: input.contact, passwordHash: nil,
                                           rejectReason: nil, submittedAt: context.now, decidedAt: nil, activatedAt: nil,
                                           passwordChangedAt: nil)
            try PlatformAccountStore.insert(context.db, platform, sequence: sequence)
            try context.emit("platform.application_submitted", account: account.id, subject: platform.id,
                             data: ["user_name": .string(platform.userName), "email": .string(platform.email)])
            context.audit(account: account.id, subject: platform.id, detail: ["user_name": .string(platform.userName)])
            return ["platform_account": platform.json]
        })
    }

    /// Approves a submitted application and issues the password-set token the host mails to
    /// the applicant: `{"actor", "platform_account_id"}` → `{"platform_account",
    /// "password_set_token", "token_expires_at"}`. The token is returned only here (an
    /// idempotent replay returns null for it; use `resendPasswordLink` for a new one).
    public func approvePlatformAccount(_ requestJSON: String?) throws -> String {
        try perform("platform.approve", requestJSON, secrets: ["password_set_token"], parse: {
            try $0.string("platform_account_id", maxLength: 64)
        }, apply: { context, id in
            var platform = try PlatformAccountStore.require(context.db, id)
            guard platform.status == .submitted else {
                throw BillingError.refused("not_submitted", "only a SUBMITTED application can be approved; it is \(platform.status.rawValue)")
            }
            platform.status = .approvedPendingPassword
            platform.decidedAt = context.now
            try PlatformAccountStore.update(context.db, platform)
            let token = try PlatformAccountStore.issueToken(context.db, account: id, purpose: .setPassword, at: context.now,
                                                            ttl: context.configuration.tokenTTLSeconds)
            try context.emit("platform.application_approved", account: platform.accountID, subject: id,
                             data: ["user_name": .string(platform.userName), "email": .string(platform.email),
                                    "token_expires_at": .integer(token.expiresAt)])
            context.audit(account: platform.accountID, subject: id)
            return ["platform_account": platform.json, "password_set_token": .string(token.token),
                    "token_expires_at": .integer(token.expiresAt)]
        })
    }

    /// Issues a new password-set token for an approved application whose link lapsed or was
    /// lost; earlier tokens stop working. Same shape as `approvePlatformAccount`.
    public func resendPasswordLink(_ requestJSON: String?) throws -> String {
        try perform("platform.resend_link", requestJSON, secrets: ["password_set_token"], parse: {
            try $0.string("platform_account_id", maxLength: 64)
        }, apply: { context, id in
            let platform = try PlatformAccountStore.require(context.db, id)
            guard platform.status == .approvedPendingPassword else {
                throw BillingError.refused("not_awaiting_password", "only an approved application waiting for its password gets a new link")
            }
            let token = try PlatformAccountStore.issueToken(context.db, account: id, purpose: .setPassword, at: context.now,
                                                            ttl: context.configuration.tokenTTLSeconds)
            try context.emit("platform.password_link_issued", account: platform.accountID, subject: id,
                             data: ["email": .string(platform.email), "token_expires_at": .integer(token.expiresAt)])
            context.audit(account: platform.accountID, subject: id)
            return ["platform_account": platform.json, "password_set_token": .string(token.token),
                    "token_expires_at": .integer(token.expiresAt)]
        })
    }

    /// Rejects a submitted application: `{"actor", "platform_account_id", "reason"}`. The
    /// identifiers are freed and the account may apply again. Emits
    /// `platform.application_rejected`.
    public func rejectPlatformAccount(_ requestJSON: String?) throws -> String {
        try perform("platform.reject", requestJSON, parse: { reader in
            (try reader.string("platform_account_id", maxLength: 64), try reader.string("reason", maxLength: 500))
        }, apply: { context, input in
            var platform = try PlatformAccountStore.require(context.db, input.0)
            guard platform.status == .submitted else {
                throw BillingError.refused("not_submitted", "only a SUBMITTED application can be rejected; it is \(platform.status.rawValue)")
            }
            platform.status = .rejected
            platform.rejectReason = input.1
            platform.decidedAt = context.now
            try PlatformAccountStore.update(context.db, platform)
            try context.emit("platform.application_rejected", account: platform.accountID, subject: platform.id,
                             data: ["reason": .string(input.1), "email": .string(platform.email)])
            context.audit(account: platform.accountID, subject: platform.id, detail: ["reason": .string(input.1)])
            return ["platform_account": platform.json]
        })
    }

    /// Sets the first password with the token from the approval mail and activates the
    /// platform account: `{"actor", "token", "password"}`. Emits `platform.activated`.
    public func activatePlatformAccount(_ requestJSON: String?) throws -> String {
        try setPassword("platform.activate", requestJSON, purpose: .setPassword)
    }

    /// The platform accounts in application order, for the approver's queue:
    /// `{"status"?: one or a list of SUBMITTED, APPROVED_PENDING_PASSWORD, ACTIVE, REJECTED,
    /// "account_id"?, "after"?, "limit"?: 1–100 (20)}` → `{"platform_accounts", "next_cursor",
    /// "has_more"}`. Each status is read from its own index range (status, seq), so a page
    /// costs the same whatever the number of accounts in other statuses.
    public func listPlatformAccounts(_ requestJSON: String?) throws -> String {
        struct Input { var statuses: [String]?; var account: String?; var after: Int64?; var limit: Int64 }
        return try query(requestJSON, parse: { reader in
            Input(statuses: try reader.optionalChoices("status", PlatformAccountStatus.allCases.map(\.rawValue)),
                  account: try reader.optionalString("account_id", maxLength: 64),
                  after: try reader.optionalString("after", maxLength: 32).map { text -> Int64 in
                      guard let value = Int64(text), value >= 0 else {
                          throw BillingError.invalid("invalid_cursor", "request.after must be a cursor returned as next_cursor")
                      }
                      return value
                  },
                  limit: try reader.optionalInt("limit", in: 1...100) ?? 20)
        }) { context, input in
            let rows = try PlatformAccountStore.page(context.db, statuses: input.statuses, account: input.account,
                                                     after: input.after ?? -1, limit: input.limit + 1)
            let page = rows.prefix(Int(input.limit))
            return ["platform_accounts": .array(page.map { $0.account.json }),
                    "next_cursor": JSONValue(page.last.map { String($0.seq) }),
                    "has_more": .bool(rows.count > page.count)]
        }
    }

    /// A platform account: `{"platform_account_id"}` → `{"platform_account"}`.
    public func getPlatformAccount(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: { try $0.string("platform_account_id", maxLength: 64) }) { context, id in
            ["platform_account": try PlatformAccountStore.require(context.db, id).json]
        }
    }

    /// Redeems a single-use token and sets a new password. The password is checked against the
    /// policy and hashed before the write lock is taken (argon2id takes tens of milliseconds
    /// and must not stall other operations); the write then re-checks that the token is still
    /// good.
    func setPassword(_ operation: String, _ requestJSON: String?, purpose: TokenPurpose) throws -> String {
        struct Input { var token: String; var platformID: String; var hash: String }
        return try perform(operation, requestJSON, secrets: ["token", "password"], parse: { reader in
            let token = try reader.string("token", maxLength: 128)
            let passwordValue = try reader.string("password", maxLength: 1024)
            let (platform, configuration) = try lock.withLock {
                try db.transaction(write: false) { () -> (PlatformAccount, Configuration) in
                    let id = try PlatformAccountStore.redeemable(db, token: token, purpose: purpose, at: instantLocked())
                    return (try PlatformAccountStore.require(db, id), try loadConfiguration())
                }
            }
            try configuration.passwordPolicy.check(passwordValue, identifiers: [platform.userName, platform.email, platform.phone])
            let hash = try Secrets.hashPassword(passwordValue, opsLimit: configuration.passwordHashOpsLimit,
                                                memoryBytes: configuration.passwordHashMemoryBytes)
            return Input(token: token, platformID: platform.id, hash: hash)
        }, apply: { context, input in
            let id = try PlatformAccountStore.redeemable(context.db, token: input.token, purpose: purpose, at: context.now)
            guard id == input.platformID else { throw BillingError.refused("invalid_token", "the token is not valid; request a new link") }
            var platform = try PlatformAccountStore.require(context.db, id)
            switch purpose {
            case .setPassword:
                guard platform.status == .approvedPendingPassword else {
                    throw BillingError.refused("not_awaiting_password", "the platform account is \(platform.status.rawValue)")
                }
                platform.status = .active
                platform.activatedAt = context.now
            case .resetPassword:
                guard platform.status == .active else {
                    throw BillingError.refused("not_active", "only an ACTIVE platform account can reset its password")
                }
            }
            platform.passwordHash = input.hash
            platform.passwordChangedAt = context.now
            try PlatformAccountStore.update(context.db, platform)
            // The holder of a token proved control of the account's channel: every wait on
            // its identifiers ends.
            try LoginThrottleStore.clear(context.db, keys: Engine.throttleKeys(of: platform))
            try PlatformAccountStore.consume(context.db, token: input.token, at: context.now)
            try context.emit(purpose == .setPassword ? "platform.activated" : "platform.password_reset",
                             account: platform.accountID, subject: id, data: ["user_name": .string(platform.userName)])
            context.audit(account: platform.accountID, subject: id)
            return ["platform_account": platform.json]
        })
    }
}
