import BillingDomain
import BillingDocuments

/// One result row of a query, valid only inside the closure it is passed to (a backend may
/// reuse the memory behind it for the next row).
///
/// Columns are numbered from 0 in the order of the SELECT list. The library stores only
/// integers, text and NULL (`DatabaseValue`), so these readers are all a store needs; a
/// backend converts its own column types to them (PostgreSQL: `bigint` → `int`, `text` →
/// `text`), never through a floating-point value.
public protocol Row {
    /// The integer in a column (0 for NULL).
    func int(_ column: Int32) -> Int64
    /// The integer in a column, nil for NULL.
    func optionalInt(_ column: Int32) -> Int64?
    /// The text in a column, nil for NULL.
    func optionalText(_ column: Int32) -> String?
    /// The number of columns of the row.
    var columnCount: Int32 { get }
    /// A column's name as the query gives it (`SELECT *` gives the table's column names).
    func columnName(_ column: Int32) -> String
    /// The kind of value a column holds in this row (row coverage hashes it with the value).
    func columnKind(_ column: Int32) -> ColumnKind
    /// Calls `body` with the UTF-8 bytes of `text(column)` (empty for NULL), without making a
    /// `String` where the backend holds the bytes already (row coverage hashes every column
    /// of every row an operation writes).
    func withTextBytes<T>(_ column: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T
    /// Calls `body` with the UTF-8 bytes of `columnName(column)`.
    func withColumnNameBytes<T>(_ column: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T
    /// Appends the row's canonical content from column `first` on (`RowCoverage.canonical`, the
    /// bytes every row digest hashes). A backend's row implements it with
    /// `RowCoverage.canonicalColumns(self, …)`, so that the columns are read through its own
    /// type; the default does the same through the protocol.
    func appendCanonical(from first: Int32, into bytes: inout [UInt8])
}

extension Row {
    /// The text in a column ("" for NULL).
    public func text(_ column: Int32) -> String { optionalText(column) ?? "" }

    /// The boolean stored as 0/1 in a column.
    public func bool(_ column: Int32) -> Bool { int(column) != 0 }

    public func withTextBytes<T>(_ column: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        var value = text(column)
        return try value.withUTF8(body)
    }

    public func withColumnNameBytes<T>(_ column: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        var name = columnName(column)
        return try name.withUTF8(body)
    }

    public func appendCanonical(from first: Int32, into bytes: inout [UInt8]) {
        RowCoverage.canonicalColumns(self, from: first, into: &bytes)
    }
}

/// The kind of a value read from a row. Its tag is part of every row digest
/// (`RowCoverage.canonical`), so the tags are SQLite's storage classes as they were when the
/// digests were first written, and every backend must give the same kind for the same value:
/// an integer column is `.integer`, a text column `.text`, whatever the backend's type names.
public enum ColumnKind: Sendable, Equatable {
    case null
    case integer
    case real
    case text
    case blob

    /// The tag written into a row's canonical text ("i", "t"; the library writes no other
    /// kind, and a foreign one keeps SQLite's storage-class number: "x2" real, "x4" blob).
    var digestTag: String {
        switch self {
        case .integer: "i"
        case .text: "t"
        case .real: "x2"
        case .blob: "x4"
        case .null: "x5"
        }
    }
}
