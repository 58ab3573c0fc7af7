/// A free-form value tree: the shape of a request or response document, and of the data the
/// domain carries without interpreting it (a product's specs, the product snapshot on an order
/// line). Reading and writing its JSON text belongs to BillingDocuments
/// (`JSONValue.parse`, `.text`), so the domain never parses or renders JSON.
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

    /// The value with every null object field removed, at every depth: a field given as null
    /// counts as absent, so it must not make a request look different.
    public var withoutNulls: JSONValue {
        switch self {
        case .object(let fields):
            return .object(fields.filter { $0.value != .null }.mapValues(\.withoutNulls))
        case .array(let elements):
            return .array(elements.map(\.withoutNulls))
        default:
            return self
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
