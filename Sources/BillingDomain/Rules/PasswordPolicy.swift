/// The password policy: length bounds, character classes, and never one of the account's
/// own identifiers.
public struct PasswordPolicy: Equatable, Sendable {
    public var minimumLength: Int64
    public var maximumLength: Int64
    /// How many of lower case, upper case, digits and other characters must appear.
    public var minimumClasses: Int64

    public init(minimumLength: Int64, maximumLength: Int64, minimumClasses: Int64) {
        self.minimumLength = minimumLength
        self.maximumLength = maximumLength
        self.minimumClasses = minimumClasses
    }

    /// Throws a clear error naming the first rule the password breaks.
    public func check(_ password: String, identifiers: [String]) throws {
        let length = Int64(password.count)
        guard length >= minimumLength else {
            throw BillingError.invalid("password_too_short", "the password must have at least \(minimumLength) characters")
        }
        guard length <= maximumLength else {
            throw BillingError.invalid("password_too_long", "the password must have at most \(maximumLength) characters")
        }
        guard !password.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw BillingError.invalid("password_control_character", "the password must not contain control characters")
        }
        var classes = Set<Int>()
        for scalar in password.unicodeScalars {
            if ("a"..."z").contains(scalar) { classes.insert(0) }
            else if ("A"..."Z").contains(scalar) { classes.insert(1) }
            else if ("0"..."9").contains(scalar) { classes.insert(2) }
            else { classes.insert(3) }
        }
        guard classes.count >= minimumClasses else {
            throw BillingError.invalid("password_too_simple",
                                       "the password must mix at least \(minimumClasses) of: lower case, upper case, digits, other characters")
        }
        let lowered = password.lowercased()
        for identifier in identifiers where !identifier.isEmpty {
            let plain = identifier.lowercased()
            let bare = plain.hasPrefix("+86") ? String(plain.dropFirst(3)) : plain
            if lowered == plain || lowered == bare || lowered == String(plain.reversed()) {
                throw BillingError.invalid("password_equals_identifier",
                                           "the password must not be the user name, e-mail address or phone number")
            }
        }
    }
}
