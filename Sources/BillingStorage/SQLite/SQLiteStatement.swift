#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSQLite
import BillingDomain
import BillingDocuments

/// A prepared statement owned by a `SQLiteConnection`'s cache.
final class SQLiteStatement {
    let handle: OpaquePointer
    private let connection: OpaquePointer
    /// How many parameters the statement has (its largest parameter index).
    private let parameterCount: Int

    package init(handle: OpaquePointer, connection: OpaquePointer) {
        self.handle = handle
        self.connection = connection
        parameterCount = Int(sqlite3_bind_parameter_count(handle))
    }

    deinit { sqlite3_finalize(handle) }

    /// Binds `values` to parameters 1...n (any parameter past n is NULL), runs `body` while
    /// they are bound, then resets the statement and clears its bindings.
    ///
    /// Text is bound in place (SQLITE_STATIC): SQLite reads the string's own UTF-8 while the
    /// statement runs instead of copying it into memory of its own (a malloc, a copy and a
    /// free per text, a tenth of a write's own work beyond its statements). The bytes are
    /// valid only inside `withUTF8`, so each text's binding nests the rest of the work in its
    /// closure, and the bindings are cleared before the closures return: SQLite keeps no
    /// pointer to them afterwards. Clearing them after each use also leaves every parameter
    /// NULL for the next use, so parameters it does not bind are NULL.
    func withBindings<T>(_ values: [DatabaseBindable], _ body: () throws -> T) throws -> T {
        try withBindings(count: values.count, { values[$0].databaseValue }, body)
    }

    /// `withBindings` for arguments already converted (`Connection.run`'s, on the stack).
    func withBindings<T>(_ values: UnsafeBufferPointer<DatabaseValue>, _ body: () throws -> T) throws -> T {
        try withBindings(count: values.count, { values[$0] }, body)
    }

    @inline(__always)
    private func withBindings<T>(count: Int, _ value: (Int) -> DatabaseValue, _ body: () throws -> T) throws -> T {
        sqlite3_reset(handle)
        // `bind` resets and clears once `body` was reached; here only when binding failed
        // before it (a reset and a clear again cost a statement of nineteen parameters more
        // than binding them).
        var reached = false
        defer {
            if !reached {
                sqlite3_reset(handle)
                sqlite3_clear_bindings(handle)
            }
        }
        return try bind(count: count, value, from: 0) { reached = true; return try body() }
    }

    /// Binds values `start..<count` and runs `body` inside the closures that keep their text valid.
    private func bind<T>(count: Int, _ value: (Int) -> DatabaseValue, from start: Int, _ body: () throws -> T) throws -> T {
        var offset = start
        while offset < count {
            let index = Int32(offset + 1)
            switch value(offset) {
            case .integer(let number): try check(sqlite3_bind_int64(handle, index, number))
            case .null: try check(sqlite3_bind_null(handle, index))
            case .text(var text):
                return try text.withUTF8 { buffer in
                    if let base = buffer.baseAddress, buffer.count > 0 {
                        try base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                            // 64-bit length: a text past 2 GiB is SQLite's SQLITE_TOOBIG, not a trap.
                            try check(sqlite3_bind_text64(handle, index, $0, UInt64(buffer.count), nil, UInt8(SQLITE_UTF8)))  // SQLITE_STATIC
                        }
                    } else {
                        // A non-NULL pointer even for "" (NULL would bind NULL, not the empty
                        // text), which SQLite copies: a literal's pointer lasts only for the call.
                        try check(sqlite3_bind_text(handle, index, "", 0, billing_sqlite_transient()))
                    }
                    return try bind(count: count, value, from: offset + 1, body)
                }
            }
            offset += 1
        }
        // Cleared here, inside the innermost closure, while every bound text is still valid
        // (a short text's bytes are a copy `withUTF8` makes on the stack): a reset may call a
        // trace or profile hook, which can read the bindings. `withBindings` clears only when
        // binding failed before this point.
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        return try body()
    }

    @inline(__always)
    private func check(_ code: Int32) throws {
        if code != SQLITE_OK { throw SQLiteError.from(code, connection) }
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

/// The current row of a stepping statement, valid only inside the closure it is passed to.
struct SQLiteRow: Row {
    let handle: OpaquePointer

    @inline(__always)
    func int(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    func optionalInt(_ column: Int32) -> Int64? {
        sqlite3_column_type(handle, column) == SQLITE_NULL ? nil : sqlite3_column_int64(handle, column)
    }

    func optionalText(_ column: Int32) -> String? {
        guard let bytes = sqlite3_column_text(handle, column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    var columnCount: Int32 { sqlite3_column_count(handle) }

    /// The bytes SQLite holds for the column as text (an integer converted as `text` does).
    func withTextBytes<T>(_ column: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        guard let bytes = sqlite3_column_text(handle, column) else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(handle, column))))
    }

    func withColumnNameBytes<T>(_ column: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        guard let name = sqlite3_column_name(handle, column) else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        // libc's strlen: counting the bytes one by one here was a quarter of a row's canonical text.
        return try body(UnsafeBufferPointer(start: UnsafeRawPointer(name).assumingMemoryBound(to: UInt8.self), count: strlen(name)))
    }

    func columnName(_ column: Int32) -> String {
        sqlite3_column_name(handle, column).map { String(cString: $0) } ?? ""
    }

    /// The canonical content through this type: the column readers above inlined.
    func appendCanonical(from first: Int32, into bytes: inout [UInt8]) {
        RowCoverage.canonicalColumns(self, from: first, into: &bytes)
    }

    func columnKind(_ column: Int32) -> ColumnKind {
        switch sqlite3_column_type(handle, column) {
        case SQLITE_INTEGER: .integer
        case SQLITE_TEXT: .text
        case SQLITE_FLOAT: .real
        case SQLITE_BLOB: .blob
        default: .null
        }
    }
}
