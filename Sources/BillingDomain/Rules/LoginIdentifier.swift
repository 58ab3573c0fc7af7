/// The three kinds of login identifier (domain-rules §1.3), normalised so that one person's
/// identifier has one spelling: e-mail lower-cased, phone in +<country><number> form.
public enum LoginIdentifier: Equatable, Sendable {
    case userName(String)
    case email(String)
    case phone(String)

    /// The normalised text stored and compared.
    public var normalized: String {
        switch self {
        case .userName(let text), .email(let text), .phone(let text): return text
        }
    }

    /// The kind's name in responses and events: "USER_NAME", "EMAIL" or "PHONE".
    public var kind: String {
        switch self {
        case .userName: return "USER_NAME"
        case .email: return "EMAIL"
        case .phone: return "PHONE"
        }
    }

    /// The characters a phone number is written with (built once, not on every login).
    private static let phoneCharacters = Set("+0123456789 -().")

    /// Classifies free text typed at login: an '@' means e-mail, digits (with an optional '+'
    /// and separators) mean phone, anything else a user name.
    public static func parse(_ text: String) throws -> LoginIdentifier {
        try parseASCII(text) ?? parseAnyText(text)
    }

    /// `parse` by characters, for any text (ASCII text is classified by `parseASCII`, which a
    /// test holds to this).
    package static func parseAnyText(_ text: String) throws -> LoginIdentifier {
        let trimmed = text.trimmingSpaces()
        if trimmed.contains("@") { return .email(try email(trimmed)) }
        if !trimmed.isEmpty, trimmed.allSatisfy({ phoneCharacters.contains($0) }), trimmed.contains(where: \.isNumber) {
            return .phone(try phone(trimmed))
        }
        return .userName(try userName(trimmed))
    }

    /// `parse` of text that is ASCII throughout (what is typed at a login, nearly always), over
    /// its bytes: a login spent more on classifying its identifier by `Character` than on the
    /// SQL that reads its throttle. Nil for any other text (the general path decides). In ASCII
    /// each byte is one scalar and one character, but for "\r\n" (one character of two bytes):
    /// neither it nor either byte is a space, a tab, '@', a phone character or a user name
    /// character, so every test below answers as the general one does.
    package static func parseASCII(_ text: String) throws -> LoginIdentifier? {
        let classified = text.utf8.withContiguousStorageIfAvailable { bytes -> (start: Int, end: Int, kind: Int)? in
            guard !bytes.contains(where: { $0 >= 0x80 }) else { return nil }
            var start = 0, end = bytes.count
            while start < end && (bytes[start] == 0x20 || bytes[start] == 0x09) { start += 1 }
            while end > start && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09) { end -= 1 }
            let trimmed = UnsafeBufferPointer(rebasing: bytes[start..<end])
            if trimmed.contains(UInt8(ascii: "@")) { return (start, end, 0) }
            if !trimmed.isEmpty && trimmed.allSatisfy(isPhoneByte) && trimmed.contains(where: isDigit) { return (start, end, 1) }
            let valid = (3...32).contains(trimmed.count) && isLetter(trimmed[0])
                && trimmed.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
            return (start, end, valid ? 2 : 3)
        }
        guard let (start, end, kind) = classified ?? nil else { return nil }
        // Untrimmed text is kept as it is, not copied.
        let trimmed = start == 0 && end == text.utf8.count
            ? text : String(decoding: Array(text.utf8)[start..<end], as: UTF8.self)
        switch kind {
        case 0: return .email(try email(trimmed))
        case 1: return .phone(try phone(trimmed))
        case 2: return .userName(trimmed)
        default: return .userName(try userName(trimmed)) // throws the user name's error
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    /// `phoneCharacters` as bytes.
    private static func isPhoneByte(_ byte: UInt8) -> Bool {
        isDigit(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: " ") || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: "(") || byte == UInt8(ascii: ")") || byte == UInt8(ascii: ".")
    }

    /// A user name: 3–32 of letters, digits, '_', '-', '.', starting with a letter, so that it
    /// can never be mistaken for a phone number or an e-mail address.
    public static func userName(_ text: String) throws -> String {
        let scalars = Array(text.unicodeScalars)
        guard (3...32).contains(scalars.count), let first = scalars.first, first.isASCIILetter,
              scalars.allSatisfy({ $0.isASCIILetter || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0) }) else {
            throw BillingError.invalid(.invalidUserName,
                                       "a user name is 3–32 letters, digits, '_', '-' or '.', starting with a letter")
        }
        return text
    }

    /// An e-mail address, lower-cased: one '@', a non-empty local part, a dotted domain.
    public static func email(_ text: String) throws -> String {
        let lowered = text.trimmingSpaces().lowercased()
        let parts = lowered.split(separator: "@", omittingEmptySubsequences: false)
        guard lowered.utf8.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64,
              parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."), !parts[1].contains(".."),
              lowered.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F && !"<>()[],;:\\\"".unicodeScalars.contains($0) }) else {
            throw BillingError.invalid(.invalidEmail, "\(BillingError.quote(text)) is not a valid e-mail address")
        }
        return lowered
    }

    /// A phone number as +<digits>: separators dropped, a mainland mobile number (11 digits
    /// starting with 1) gets +86, "0086" becomes "+86"; 8–15 digits in all (E.164).
    public static func phone(_ text: String) throws -> String {
        let compact = text.filter { !" -().".contains($0) }
        var digits: String
        if compact.hasPrefix("+") {
            digits = String(compact.dropFirst())
        } else if compact.hasPrefix("00") {
            digits = String(compact.dropFirst(2))
        } else if compact.count == 11 && compact.hasPrefix("1") {
            digits = "86" + compact
        } else {
            digits = compact
        }
        guard (8...15).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }), !digits.hasPrefix("0"),
              compact.hasPrefix("+") || compact.hasPrefix("00") || compact.count == 11 else {
            throw BillingError.invalid(.invalidPhone,
                                       "\(BillingError.quote(text)) is not a valid phone number; give +<country code><number> or an 11-digit mainland mobile number")
        }
        return "+" + digits
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}

extension String {
    package func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars = scalars.dropFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
