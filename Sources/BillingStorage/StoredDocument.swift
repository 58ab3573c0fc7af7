import BillingDomain
import BillingDocuments

/// Reads the fields of a JSON document the library stored (a product's definition), by type
/// only: the limits a request must meet (lengths, ranges, known keys, prices for every period)
/// were checked when it was written, and tightening them later must never make an old row
/// unreadable. A field of the wrong type is a storage error naming the record; a missing one is
/// nil, so a document written before the field existed takes its default.
package struct StoredDocument {
    private let fields: [String: JSONValue]
    /// Names the record in errors ("document of product 'P1'").
    package let record: String

    package init(_ value: JSONValue, record: String) throws {
        guard case .object(let fields) = value else { throw StoredValue.unreadable(record, "it is not a JSON object") }
        self.fields = fields
        self.record = record
    }

    private func field(_ key: String) -> JSONValue? {
        guard let value = fields[key], value != .null else { return nil }
        return value
    }

    private func wrong(_ key: String, _ expected: String) -> BillingError {
        StoredValue.unreadable(record, "\(key) is not \(expected)")
    }

    package func optionalString(_ key: String) throws -> String? {
        guard let value = field(key) else { return nil }
        guard case .string(let text) = value else { throw wrong(key, "a string") }
        return text
    }

    package func string(_ key: String) throws -> String {
        guard let text = try optionalString(key) else { throw StoredValue.unreadable(record, "\(key) is missing") }
        return text
    }

    package func optionalInt(_ key: String) throws -> Int64? {
        guard let value = field(key) else { return nil }
        guard case .integer(let number) = value else { throw wrong(key, "an integer") }
        return number
    }

    package func int(_ key: String) throws -> Int64 {
        guard let number = try optionalInt(key) else { throw StoredValue.unreadable(record, "\(key) is missing") }
        return number
    }

    package func optionalBool(_ key: String) throws -> Bool? {
        guard let value = field(key) else { return nil }
        guard case .bool(let flag) = value else { throw wrong(key, "true or false") }
        return flag
    }

    package func optionalArray(_ key: String) throws -> [JSONValue]? {
        guard let value = field(key) else { return nil }
        guard case .array(let elements) = value else { throw wrong(key, "an array") }
        return elements
    }

    package func optionalStrings(_ key: String) throws -> [String]? {
        try optionalArray(key)?.map { element in
            guard case .string(let text) = element else { throw wrong(key, "a list of strings") }
            return text
        }
    }

    package func optionalObject(_ key: String) throws -> StoredDocument? {
        guard let value = field(key) else { return nil }
        guard case .object = value else { throw wrong(key, "an object") }
        return try StoredDocument(value, record: "\(record), \(key)")
    }

    /// A free-form object kept as written (a product's specs).
    package func optionalValue(_ key: String) -> JSONValue? { field(key) }

    /// A member of a closed set (a billing mode, a period unit).
    package func optionalChoice<Value: RawRepresentable>(_ key: String) throws -> Value? where Value.RawValue == String {
        try optionalString(key).map { try StoredValue.choice($0, "\(record), \(key)") }
    }

    /// Refuses fields outside `known`, for documents where a field this library cannot read
    /// would change the meaning (a coupon scope's restriction ignored would widen the coupon).
    package func refuseUnknown(_ known: Set<String>) throws {
        if let key = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw StoredValue.unreadable(record, "\(BillingError.quote(key)) is not a field this library knows")
        }
    }

    /// The document's keys, in no particular order (a map stored as an object).
    var keys: Dictionary<String, JSONValue>.Keys { fields.keys }

    /// A list of integers.
    func optionalInts(_ key: String) throws -> [Int64]? {
        try optionalArray(key)?.map { element in
            guard case .integer(let number) = element else { throw wrong(key, "a list of integers") }
            return number
        }
    }

    /// Every field an integer (a map stored as an object).
    func intMap() throws -> [String: Int64] {
        var map: [String: Int64] = [:]
        for key in fields.keys { map[key] = try int(key) }
        return map
    }

    /// Every field a list of integers (a map stored as an object).
    func intArrayMap() throws -> [String: [Int64]] {
        var map: [String: [Int64]] = [:]
        for key in fields.keys { map[key] = try optionalInts(key) ?? [] }
        return map
    }
}
