import BillingDomain
import BillingDocuments

/// Reading back what the file holds.
///
/// Every stored value was written by the library from a checked domain value, so one that
/// cannot be read means the file was damaged or edited outside the library. That is a storage
/// error naming the record — never a default or a null that a caller would take for data.
package enum StoredValue {
    /// The error for a stored value that cannot be read; `record` names table, key and column.
    package static func unreadable(_ record: String, _ why: String) -> BillingError {
        BillingError(.storage, "stored_value_unreadable",
                     "the stored \(record) cannot be read (\(why)); the file is damaged or was changed outside libbilling")
    }

    /// A stored JSON document.
    package static func document(_ text: String?, _ record: @autoclosure () -> String) throws -> JSONValue {
        guard let text else { throw unreadable(record(), "it is missing") }
        do {
            return try JSONValue.parse(text)
        } catch {
            throw unreadable(record(), "not valid JSON")
        }
    }

    /// A stored member of a closed set (a status, a kind, a unit).
    package static func choice<Value: RawRepresentable>(_ text: String?, _ record: @autoclosure () -> String) throws -> Value
        where Value.RawValue == String {
        guard let text, let value = Value(rawValue: text) else {
            throw unreadable(record(), text.map { "\(BillingError.quote($0)) is not a known value" } ?? "it is missing")
        }
        return value
    }

    /// An optional stored member of a closed set: NULL is nil, anything else must be known.
    package static func optionalChoice<Value: RawRepresentable>(_ text: String?, _ record: @autoclosure () -> String) throws -> Value?
        where Value.RawValue == String {
        guard let text else { return nil }
        return try choice(text, record())
    }

    /// Decodes a stored value with the request readers (a product, the configuration): their
    /// refusal of it is a storage error naming the record, not a complaint about a request.
    package static func decode<Value>(_ record: @autoclosure () -> String, _ body: () throws -> Value) throws -> Value {
        do {
            return try body()
        } catch let error as BillingError where error.status == .invalidArgument {
            throw unreadable(record(), error.message)
        }
    }
}
