import FoundationEssentials

/// A JSON document as the engine reads and writes it.
///
/// Numbers are integers only: money is fen and time is Unix seconds, so a number with a
/// fractional part or outside Int64 is kept as `.nonInteger` and refused by whoever reads it.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
    /// A number that is not an exact Int64 (fractional, or too large).
    case nonInteger

    /// The deepest nesting a request may have. Requests need a handful of levels; the limit
    /// also keeps deep input away from the decoder, which traps on some depths.
    public static let maximumDepth = 64

    /// Parses UTF-8 JSON text.
    public static func parse(_ text: String) throws -> JSONValue {
        try checkDepth(text)
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        } catch let error as BillingError {
            throw error
        } catch {
            throw BillingError.invalid("malformed_json", "the request is not valid JSON: \(JSONValue.describe(error))")
        }
    }

    /// Compact JSON text with keys sorted, so equal values give equal text.
    public var text: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Refuses text nested deeper than `maximumDepth`, by counting brackets outside strings.
    static func checkDepth(_ text: String) throws {
        var depth = 0
        var inString = false
        var escaped = false
        for byte in text.utf8 {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > maximumDepth {
                    throw BillingError.invalid("too_deep", "the request nests deeper than \(maximumDepth) levels")
                }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
    }

    /// A short name of the value's type for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer: return "an integer"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        case .nonInteger: return "a non-integer number"
        }
    }

    private static func describe(_ error: Error) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case .dataCorrupted(let context): return context.debugDescription
            default: return "\(decoding)"
            }
        }
        return "\(error)"
    }
}

extension JSONValue: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Decimal.self) {
            // Decimal keeps the number's digits exactly (Int64 decoding goes through Double and
            // would accept 1234567.9999999999 as 1234568); only exact integers are kept.
            self = Int64("\(value)").map { .integer($0) } ?? .nonInteger
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            // Every other JSON value is a number that did not fit an exact Int64.
            self = .nonInteger
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null, .nonInteger: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue {
    /// `.string` or `.null` for an optional string.
    public init(_ value: String?) { self = value.map { .string($0) } ?? .null }
    /// `.integer` or `.null` for an optional integer.
    public init(_ value: Int64?) { self = value.map { .integer($0) } ?? .null }
}
