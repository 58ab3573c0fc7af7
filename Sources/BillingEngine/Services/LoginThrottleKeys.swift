/// The keys of the login throttle, shared by logging in (which counts failures against them)
/// and by setting a password (which clears them).
extension Engine {
    /// The throttle row of a normalised identifier: a digest, so that what people type into
    /// the identifier field (sometimes their password) is not kept in clear.
    static func throttleKey(_ normalized: String) -> String {
        Secrets.tokenDigest("login-identifier:" + normalized)
    }

    /// The throttle rows of a platform account's three identifiers.
    static func throttleKeys(of platform: PlatformAccount) -> [String] {
        [platform.userName, platform.email, platform.phone].map(throttleKey)
    }
}
