import BillingDomain
import BillingDocuments

/// A value bound to a statement parameter, the same for every backend: the library stores
/// integers (money in fen, instants in Unix seconds, flags as 0/1), text and NULL, nothing else.
public enum DatabaseValue: Sendable, Equatable {
    case integer(Int64)
    case text(String)
    case null
}

/// Conversions of Swift values to statement parameters.
public protocol DatabaseBindable {
    var databaseValue: DatabaseValue { get }
}

extension Int64: DatabaseBindable { public var databaseValue: DatabaseValue { .integer(self) } }
extension Int: DatabaseBindable { public var databaseValue: DatabaseValue { .integer(Int64(self)) } }
extension Bool: DatabaseBindable { public var databaseValue: DatabaseValue { .integer(self ? 1 : 0) } }
extension String: DatabaseBindable { public var databaseValue: DatabaseValue { .text(self) } }
extension Money: DatabaseBindable { public var databaseValue: DatabaseValue { .integer(fen) } }
extension DatabaseValue: DatabaseBindable { public var databaseValue: DatabaseValue { self } }
extension Optional: DatabaseBindable where Wrapped: DatabaseBindable {
    public var databaseValue: DatabaseValue { self?.databaseValue ?? .null }
}
