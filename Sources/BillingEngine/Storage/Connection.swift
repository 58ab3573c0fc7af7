import CSQLite

/// One SQLite connection with a cache of prepared statements.
///
/// Not thread-safe by itself: the `Engine` owns one behind its lock, which is why the
/// connection is opened with SQLITE_OPEN_NOMUTEX.
public final class Connection {
    let handle: OpaquePointer
    private var statements: [String: Statement] = [:]
    private(set) var inTransaction = false
    /// Whether row coverage's TEMP triggers are installed on this connection (`RowCoverage`).
    var coverageInstalled = false
    /// The host's audit key, when it gave one: new audit rows link with keyed BLAKE2b.
    var auditKey: [UInt8]?
    /// Whether the key was checked against the chain's last keyed row (once per handle).
    var auditKeyChecked = false

    /// Opens (creating if allowed) the database at `path`; ":memory:" gives a private database.
    init(path: String, create: Bool, busyTimeoutMilliseconds: Int32) throws {
        var pointer: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &pointer, flags, nil)
        guard code == SQLITE_OK, let opened = pointer else {
            let error = SQLiteError.from(code, pointer)
            sqlite3_close_v2(pointer)
            throw error
        }
        handle = opened
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
    }

    deinit {
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs SQL text that may hold several statements and returns no rows (schema, pragmas).
    public func executeScript(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        if code != SQLITE_OK {
            let error = SQLiteError.from(code, handle)
            sqlite3_free(message)
            throw error
        }
    }

    private func statement(_ sql: String) throws -> Statement {
        if let cached = statements[sql] { return cached }
        var pointer: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &pointer, nil)
        guard code == SQLITE_OK, let prepared = pointer else { throw SQLiteError.from(code, handle) }
        let statement = Statement(handle: prepared, connection: handle)
        statements[sql] = statement
        return statement
    }

    /// Executes one statement and returns the number of rows it changed.
    @discardableResult
    public func run(_ sql: String, _ arguments: SQLiteBindable...) throws -> Int {
        let statement = try statement(sql)
        try statement.bind(arguments)
        defer { statement.reset() }
        while try statement.step() {}
        return Int(sqlite3_changes(handle))
    }

    /// Calls `body` for each row of a query.
    public func forEach(_ sql: String, _ arguments: [SQLiteBindable] = [], _ body: (Row) throws -> Void) throws {
        let statement = try statement(sql)
        try statement.bind(arguments)
        defer { statement.reset() }
        while try statement.step() { try body(Row(handle: statement.handle)) }
    }

    /// Maps every row of a query.
    public func all<T>(_ sql: String, _ arguments: SQLiteBindable..., map: (Row) throws -> T) throws -> [T] {
        var result: [T] = []
        try forEach(sql, arguments) { result.append(try map($0)) }
        return result
    }

    /// Maps the first row of a query, nil when there is none.
    public func first<T>(_ sql: String, _ arguments: SQLiteBindable..., map: (Row) throws -> T) throws -> T? {
        let statement = try statement(sql)
        try statement.bind(arguments)
        defer { statement.reset() }
        return try statement.step() ? try map(Row(handle: statement.handle)) : nil
    }

    /// The rowid of the last inserted row.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Runs `body` inside a savepoint of the open transaction: an error undoes only what `body`
    /// wrote (an auto-renew attempt that cannot be paid) and is rethrown.
    public func savepoint<T>(_ body: () throws -> T) throws -> T {
        try run("SAVEPOINT attempt")
        do {
            let result = try body()
            try run("RELEASE attempt")
            return result
        } catch {
            _ = try? run("ROLLBACK TO attempt")
            _ = try? run("RELEASE attempt")
            throw error
        }
    }

    /// Runs `body` inside a savepoint that is always rolled back: what it wrote is gone once it
    /// returns or throws, and only its result is kept (a quote computed by the code that would
    /// do the operation).
    public func rolledBack<T>(_ body: () throws -> T) throws -> T {
        try run("SAVEPOINT rehearsal")
        defer {
            _ = try? run("ROLLBACK TO rehearsal")
            _ = try? run("RELEASE rehearsal")
        }
        return try body()
    }

    /// Runs `body` in one transaction: `BEGIN IMMEDIATE` for writes (so that two writers queue on
    /// the busy timeout instead of failing on upgrade), plain `BEGIN` for consistent reads.
    /// Any error rolls everything back.
    public func transaction<T>(write: Bool, _ body: () throws -> T) throws -> T {
        guard !inTransaction else {
            throw BillingError(.internal, "nested_transaction", "a transaction was opened inside another")
        }
        try run(write ? "BEGIN IMMEDIATE" : "BEGIN")
        inTransaction = true
        defer { inTransaction = false }
        do {
            let result = try body()
            // Every covered row a write touched must be listed by an audit row of the same
            // transaction: a write path that forgot its audit row is refused, not committed.
            if write, coverageInstalled, try RowCoverage.hasUnaudited(self) {
                throw BillingError(.internal, "unaudited_write",
                                   "a write touched covered rows without appending an audit row; nothing was changed")
            }
            do {
                try run("COMMIT")
            } catch where !write {
                // A read has nothing to commit. SQLite fails the end of a read that met a
                // damaged page even when the read handled it (verify's integrity check), and
                // the answer already read stays true: end the transaction and return it.
                if sqlite3_get_autocommit(handle) == 0 { _ = try? run("ROLLBACK") }
            }
            return result
        } catch {
            if sqlite3_get_autocommit(handle) == 0 { _ = try? run("ROLLBACK") }
            throw error
        }
    }
}
