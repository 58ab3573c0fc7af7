import BillingDomain

/// Reads the fields of one JSON object strictly: each accessor checks type and range and
/// names the field in its error; `finish()` refuses keys nobody asked for.
///
/// Every request of the engine is read through this, so bad input gets one kind of clear
/// error everywhere, before anything is written.
public final class ObjectReader {
    /// Where this object sits in the request, for messages ("request", "request.items[2]").
    public let path: String
    private let fields: [String: JSONValue]
    /// The held keys read so far: in `consumedList` for an object of up to
    /// `smallObject` fields (a request's own fields: a few short keys are compared for less than
    /// hashing each into a set's table: about 8 K instructions less a create + pay), in
    /// `consumedSet` for a larger one (a map of many keys).
    /// `@exclusivity(unchecked)`: a reader is used by one call on one thread, and a dynamic
    /// exclusivity check on each access (some 75 instructions) cost more than the access.
    @exclusivity(unchecked) private var consumedList: [String] = []
    @exclusivity(unchecked) private var consumedSet: Set<String> = []
    private static let smallObject = 16

    public init(_ value: JSONValue, path: String = "request") throws {
        guard case .object(let fields) = value else {
            throw BillingError.invalid(.wrongType, "\(path) must be a JSON object, got \(value.typeName)")
        }
        self.path = path
        self.fields = fields
    }

    /// Parses request text (nil or empty means `{}`) into a reader.
    public convenience init(text: String?, path: String = "request") throws {
        let trimmed = text ?? ""
        try self.init(trimmed.isEmpty ? .object([:]) : JSONValue.parse(trimmed), path: path)
    }

    /// The whole object as read, for canonical comparisons.
    public var value: JSONValue { .object(fields) }

    /// Only keys the object holds are remembered as read: `finish()` looks for held keys
    /// nobody read, and most accessors ask for keys a request leaves out (a configuration
    /// patch probes every field), so remembering those only cost time.
    private func take(_ key: String) -> JSONValue? {
        guard let value = lookup(key) else { return nil }
        markConsumed(key)
        if case .null = value { return nil }
        return value
    }

    private func markConsumed(_ key: String) {
        if fields.count <= ObjectReader.smallObject {
            if consumedList.isEmpty { consumedList.reserveCapacity(fields.count) }
            if !consumedList.contains(key) { consumedList.append(key) }
        } else {
            consumedSet.insert(key)
        }
    }

    private func isConsumed(_ key: String) -> Bool {
        fields.count <= ObjectReader.smallObject ? consumedList.contains(key) : consumedSet.contains(key)
    }

    /// The field's value, nil when the object does not hold it. A small object (a patch of a
    /// few fields that the reader probes for every field it might hold) is searched key by
    /// key: comparing a few short keys costs less than hashing each probe. `==` is the
    /// dictionary's own key equality, so the answer is the same.
    private func lookup(_ key: String) -> JSONValue? {
        if fields.count <= 4 {
            for (name, value) in fields where name == key { return value }
            return nil
        }
        return fields[key]
    }

    private func name(_ key: String) -> String { "\(path).\(key)" }

    private func missing(_ key: String) -> BillingError {
        BillingError.invalid(.missingField, "\(name(key)) is required")
    }

    private func wrongType(_ key: String, _ expected: String, _ got: JSONValue) -> BillingError {
        if got == .nonInteger {
            return BillingError.invalid(.notAnInteger,
                                        "\(name(key)) must be \(expected); fractions and numbers beyond 64 bits are refused")
        }
        return BillingError.invalid(.wrongType, "\(name(key)) must be \(expected), got \(got.typeName)")
    }

    /// An optional string of 1…`maxLength` characters with no control characters.
    public func optionalString(_ key: String, maxLength: Int = 256) throws -> String? {
        guard let value = take(key) else { return nil }
        guard case .string(let text) = value else { throw wrongType(key, "a string", value) }
        guard !text.isEmpty else { throw BillingError.invalid(.emptyString, "\(name(key)) must not be empty") }
        // A text has no more characters than UTF-8 bytes: counting characters (grapheme
        // breaking) is needed only for a text of more bytes than allowed characters.
        guard text.utf8.count <= maxLength || text.count <= maxLength else {
            throw BillingError.invalid(.stringTooLong, "\(name(key)) must be at most \(maxLength) characters")
        }
        // The control characters are ASCII, and in UTF-8 a byte below 0x80 is always the ASCII
        // character itself: the bytes are searched, not the decoded scalars.
        guard !ObjectReader.hasControlCharacter(text) else {
            throw BillingError.invalid(.controlCharacter, "\(name(key)) must not contain control characters")
        }
        return text
    }

    /// Whether a text holds a control character (below 0x20, or DEL): eight bytes at a time,
    /// as `JSONWriter.needsEscape` tests them (a byte at a time through the generic
    /// `contains(where:)` was about 270 instructions for a short text).
    static func hasControlCharacter(_ text: String) -> Bool {
        if let found = text.utf8.withContiguousStorageIfAvailable({ bytes -> Bool in
            guard let base = bytes.baseAddress else { return false }
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            var index = 0
            while index + 8 <= bytes.count {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                let below20 = (word &- ones &* 0x20) & ~word & highs
                let del = word ^ (ones &* 0x7F)
                if (below20 | ((del &- ones) & ~del & highs)) != 0 { return true }
                index += 8
            }
            while index < bytes.count {
                if bytes[index] < 0x20 || bytes[index] == 0x7F { return true }
                index += 1
            }
            return false
        }) {
            return found
        }
        return text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F })
    }

    /// A required string (see `optionalString`).
    public func string(_ key: String, maxLength: Int = 256) throws -> String {
        guard let text = try optionalString(key, maxLength: maxLength) else { throw missing(key) }
        return text
    }

    /// An optional string that must be one of `allowed` (any string when `allowed` is nil).
    public func optionalChoice(_ key: String, _ allowed: [String]?) throws -> String? {
        guard let text = try optionalString(key) else { return nil }
        guard let allowed else { return text }
        guard allowed.contains(text) else {
            throw BillingError.invalid(.unknownValue, "\(name(key)) must be one of \(allowed.joined(separator: ", ")), got \(BillingError.quote(text))")
        }
        return text
    }

    /// An optional filter of several values: one string (the single-value form) or a
    /// non-empty array of at most `maxCount` strings, each one of `allowed` (any identifier
    /// when `allowed` is nil). Repeated values count once; the order given is kept.
    public func optionalChoices(_ key: String, _ allowed: [String]?, maxCount: Int = 100) throws -> [String]? {
        guard let value = lookup(key) else { return nil }
        if case .null = value {
            markConsumed(key)
            return nil
        }
        if case .string = value { return try optionalChoice(key, allowed).map { [$0] } }
        guard let elements = try optionalArray(key, maxCount: maxCount) else { return nil }
        guard !elements.isEmpty else {
            throw BillingError.invalid(.emptyList, "\(name(key)) must hold at least one value (leave it out for no filter)")
        }
        var values: [String] = []
        for (index, element) in elements.enumerated() {
            guard case .string(let text) = element, !text.isEmpty, text.count <= 64,
                  !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw BillingError.invalid(.wrongType, "\(name(key))[\(index)] must be a string of 1–64 characters")
            }
            if let allowed, !allowed.contains(text) {
                throw BillingError.invalid(.unknownValue, "\(name(key))[\(index)] must be one of \(allowed.joined(separator: ", ")), got '\(text)'")
            }
            if !values.contains(text) { values.append(text) }
        }
        return values
    }

    /// An optional integer within `range`.
    public func optionalInt(_ key: String, in range: ClosedRange<Int64> = Int64.min...Int64.max) throws -> Int64? {
        guard let value = take(key) else { return nil }
        guard case .integer(let number) = value else { throw wrongType(key, "an integer", value) }
        guard range.contains(number) else {
            throw BillingError.invalid(.outOfRange, "\(name(key)) must be within \(range.lowerBound)…\(range.upperBound), got \(number)")
        }
        return number
    }

    /// A required integer within `range`.
    public func int(_ key: String, in range: ClosedRange<Int64> = Int64.min...Int64.max) throws -> Int64 {
        guard let number = try optionalInt(key, in: range) else { throw missing(key) }
        return number
    }

    /// An optional amount in fen: an integer, never negative unless `allowNegative`.
    public func optionalMoney(_ key: String, allowNegative: Bool = false) throws -> Money? {
        guard let value = take(key) else { return nil }
        guard case .integer(let fen) = value else {
            throw wrongType(key, "an integer amount of fen", value)
        }
        guard allowNegative || fen >= 0 else {
            throw BillingError.invalid(.negativeAmount, "\(name(key)) must not be negative, got \(fen)")
        }
        return Money(fen: fen)
    }

    /// A required amount in fen.
    public func money(_ key: String, allowNegative: Bool = false) throws -> Money {
        guard let amount = try optionalMoney(key, allowNegative: allowNegative) else { throw missing(key) }
        return amount
    }

    /// An optional instant in Unix seconds within the years 1970–9999.
    public func optionalInstant(_ key: String) throws -> Int64? {
        try optionalInt(key, in: BusinessCalendar.instantRange)
    }

    /// A required instant in Unix seconds.
    public func instant(_ key: String) throws -> Int64 {
        guard let instant = try optionalInstant(key) else { throw missing(key) }
        return instant
    }

    /// An optional boolean.
    public func optionalBool(_ key: String) throws -> Bool? {
        guard let value = take(key) else { return nil }
        guard case .bool(let flag) = value else { throw wrongType(key, "true or false", value) }
        return flag
    }

    /// An optional nested object, read by its own reader.
    public func optionalObject(_ key: String) throws -> ObjectReader? {
        guard let value = take(key) else { return nil }
        return try ObjectReader(value, path: name(key))
    }

    /// An optional free-form object kept as given (a product's specs). Its numbers must still
    /// be kept exactly: an integer beyond 64 bits is refused with its path, never stored as null.
    public func optionalDocument(_ key: String) throws -> JSONValue? {
        guard let reader = try optionalObject(key) else { return nil }
        try ObjectReader.requireExactNumbers(reader.value, at: reader.path)
        return reader.value
    }

    private static func requireExactNumbers(_ value: JSONValue, at path: String) throws {
        switch value {
        case .nonInteger:
            throw BillingError.invalid(.outOfRange,
                                       "\(path) must be an integer within 64 bits (\(Int64.min)…\(Int64.max)); a larger number cannot be kept exactly")
        case .array(let elements):
            for (index, element) in elements.enumerated() { try requireExactNumbers(element, at: "\(path)[\(index)]") }
        case .object(let fields):
            for (key, field) in fields { try requireExactNumbers(field, at: "\(path).\(shown(key))") }
        default:
            break
        }
    }

    /// An optional array of at most `maxCount` elements.
    public func optionalArray(_ key: String, maxCount: Int = 1000) throws -> [JSONValue]? {
        guard let value = take(key) else { return nil }
        guard case .array(let elements) = value else { throw wrongType(key, "an array", value) }
        guard elements.count <= maxCount else {
            throw BillingError.invalid(.tooManyItems, "\(name(key)) may hold at most \(maxCount) items, got \(elements.count)")
        }
        return elements
    }

    /// An optional array of integers within `range`.
    public func optionalIntArray(_ key: String, in range: ClosedRange<Int64>, maxCount: Int = 100) throws -> [Int64]? {
        guard let elements = try optionalArray(key, maxCount: maxCount) else { return nil }
        return try elements.enumerated().map { index, element in
            guard case .integer(let number) = element else {
                throw BillingError.invalid(element == .nonInteger ? .notAnInteger : .wrongType,
                                           "\(name(key))[\(index)] must be an integer, got \(element.typeName)")
            }
            guard range.contains(number) else {
                throw BillingError.invalid(.outOfRange, "\(name(key))[\(index)] must be within \(range.lowerBound)…\(range.upperBound), got \(number)")
            }
            return number
        }
    }

    /// An optional array of identifiers: strings of 1…`maxLength` characters, at most
    /// `maxCount` of them.
    public func optionalIdentifiers(_ key: String, maxCount: Int, maxLength: Int = 64) throws -> [String]? {
        guard let elements = try optionalArray(key, maxCount: maxCount) else { return nil }
        return try elements.enumerated().map { index, element in
            guard case .string(let text) = element, !text.isEmpty, text.count <= maxLength,
                  !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw BillingError.invalid(.wrongType, "\(name(key))[\(index)] must be an identifier of 1–\(maxLength) characters")
            }
            return text
        }
    }

    /// The keys of the object, for readers of maps.
    public var keys: [String] { fields.keys.sorted() }

    /// Calls `body` with each key of the object, in no particular order and without reading
    /// it (`finish()` still refuses the keys no accessor read): a reader that knows its few
    /// possible fields asks which are present once, instead of probing for each by name.
    package func forEachKey(_ body: (String) throws -> Void) rethrows {
        for key in fields.keys { try body(key) }
    }

    /// Refuses any key that no accessor read.
    public func finish() throws {
        // Every remembered key is one the object holds.
        let consumedCount = fields.count <= ObjectReader.smallObject ? consumedList.count : consumedSet.count
        if consumedCount == fields.count { return }
        let unknown = fields.keys.filter { !isConsumed($0) }.sorted()
        if let first = unknown.first {
            let others = unknown.dropFirst()
            let listed = others.prefix(5).map(ObjectReader.shown).joined(separator: ", ") + (others.count > 5 ? " and \(others.count - 5) more" : "")
            throw BillingError.invalid(.unknownField,
                                       "\(path).\(ObjectReader.shown(first)) is not a field of this request" + (others.isEmpty ? "" : " (nor \(listed))"))
        }
    }

    /// A key that came from the request as a message shows it: as is when short, quoted and
    /// cut when long.
    package static func shown(_ key: String) -> String {
        key.utf8.count <= 64 && !key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) ? key : BillingError.quote(key)
    }
}
