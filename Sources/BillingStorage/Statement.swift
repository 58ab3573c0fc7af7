import CSQLite
import BillingDomain
import BillingDocuments

/// A prepared statement owned by a `Connection`'s cache.
package final class Statement {
    package let handle: OpaquePointer
    private let connection: OpaquePointer

    package init(handle: OpaquePointer, connection: OpaquePointer) {
        self.handle = handle
        self.connection = connection
    }

    deinit { sqlite3_finalize(handle) }

    /// Clears earlier bindings and binds parameters 1...n.
    package func bind(_ values: [SQLiteBindable]) throws {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value.sqliteValue {
            case .integer(let number): code = sqlite3_bind_int64(handle, index, number)
            case .null: code = sqlite3_bind_null(handle, index)
            case .text(let text):
                code = text.utf8CString.withUnsafeBufferPointer { buffer in
                    sqlite3_bind_text(handle, index, buffer.baseAddress, Int32(buffer.count - 1), billing_sqlite_transient())
                }
            }
            if code != SQLITE_OK { throw SQLiteError.from(code, connection) }
        }
    }

    /// Advances to the next row; false when done.
    package func step() throws -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = SQLiteError.from(code, connection)
            sqlite3_reset(handle)
            throw error
        }
    }

    /// Releases the statement's read position so it does not hold a snapshot open.
    package func reset() { sqlite3_reset(handle) }
}

/// One result row, valid only inside the closure it is passed to.
public struct Row {
    package let handle: OpaquePointer

    /// The integer in a column (0 for NULL).
    public func int(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    /// The integer in a column, nil for NULL.
    public func optionalInt(_ column: Int32) -> Int64? {
        sqlite3_column_type(handle, column) == SQLITE_NULL ? nil : sqlite3_column_int64(handle, column)
    }

    /// The text in a column ("" for NULL).
    public func text(_ column: Int32) -> String { optionalText(column) ?? "" }

    /// The text in a column, nil for NULL.
    public func optionalText(_ column: Int32) -> String? {
        guard let bytes = sqlite3_column_text(handle, column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    /// The boolean stored as 0/1 in a column.
    public func bool(_ column: Int32) -> Bool { int(column) != 0 }

    /// The number of columns of the row.
    package var columnCount: Int32 { sqlite3_column_count(handle) }

    /// A column's name as the query gives it.
    package func columnName(_ column: Int32) -> String {
        sqlite3_column_name(handle, column).map { String(cString: $0) } ?? ""
    }

    /// A column's storage class: SQLITE_INTEGER, SQLITE_TEXT, SQLITE_NULL, …
    package func columnType(_ column: Int32) -> Int32 { sqlite3_column_type(handle, column) }
}
