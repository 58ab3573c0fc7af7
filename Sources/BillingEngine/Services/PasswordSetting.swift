import BillingDomain
import BillingDocuments
import BillingStorage
import BillingSecurity

/// Setting a password with a one-time token: activation of a platform account and completion
/// of a password reset share it, so neither service depends on the other.
extension Engine {
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
