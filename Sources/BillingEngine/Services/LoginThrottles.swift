import BillingDomain
import BillingDocuments
import BillingStorage
import BillingSecurity

/// The login throttle's keys, shared by logging in (which counts failures against them)
/// and by setting a password (which clears them), and the scheduler's purge of its rows.
extension Engine {
    /// The throttle row of a normalised identifier: a digest, so that what people type into
    /// the identifier field (sometimes their password) is not kept in clear.
    static func throttleKey(_ normalized: String) -> String {
        // `Secrets.tokenDigest("login-identifier:" + normalized)`, the bytes gathered into one
        // array instead of a joined text copied into an array.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(throttleKeyPrefix.count + normalized.utf8.count)
        bytes.append(contentsOf: throttleKeyPrefix)
        bytes.append(contentsOf: normalized.utf8)
        return Secrets.digest(bytes)
    }

    private static let throttleKeyPrefix = Array("login-identifier:".utf8)

    /// The throttle rows of a platform account's three identifiers.
    static func throttleKeys(of platform: PlatformAccount) -> [String] {
        [platform.userName, platform.email, platform.phone].map(throttleKey)
    }

    /// Scheduler job: deletes throttle rows that no longer count, so that failures at
    /// identifiers nobody holds do not pile up.
    static func purgeLoginThrottles(limit: Int64, context: OperationContext) throws -> (purged: Int64, more: Bool) {
        try LoginThrottleStore.purge(context.db, endedBy: context.configuration.loginThrottle.forgottenEndedBy(at: context.now),
                                     limit: limit)
    }
}
