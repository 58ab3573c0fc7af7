import BillingDomain
import BillingDocuments
import CSQLite

/// The SQLite backend of `Connection`: one SQLite connection with a cache of prepared
/// statements.
///
/// Not thread-safe by itself: the `Engine` owns one behind its lock, which is why the
/// connection is opened with SQLITE_OPEN_NOMUTEX.
final class SQLiteConnection: Connection {
    let handle: OpaquePointer
    private var statements: [String: SQLiteStatement] = [:]
    /// The same statements by the address of their SQL text's bytes, for texts that live in
    /// their own storage (a store's constant), and by their bytes for texts short enough to be
    /// stored inside the `String` itself (`SmallStatements`): neither hashes the text.
    /// `@exclusivity(unchecked)`: every statement looks these up, and the connection is used by
    /// one thread at a time without reentrant access to them (a dynamic exclusivity check per
    /// lookup cost more than the lookup).
    @exclusivity(unchecked) private var statementsByAddress = StatementsByAddress()
    @exclusivity(unchecked) private var smallStatements = SmallStatements()
    private(set) var inTransaction = false
    /// Whether row coverage's TEMP triggers are installed on this connection
    /// (`trackChanges`, SQLiteConnection+Coverage.swift).
    var coverageInstalled = false
    /// The keys row coverage's triggers noted (SQLiteConnection+Coverage.swift).
    let touches = TouchLog()
    let session = ConnectionSession()
    var dialect: SQLDialect { .sqlite }

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
        statementsByAddress.removeAll()
        smallStatements.removeAll()
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs SQL text that may hold several statements and returns no rows (schema, pragmas).
    func executeScript(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        if code != SQLITE_OK {
            let error = SQLiteError.from(code, handle)
            sqlite3_free(message)
            throw error
        }
    }

    private func statement(_ sql: String) throws -> SQLiteStatement {
        // Texts of up to 15 bytes are stored inside the `String` itself: no address of their own.
        let count = sql.utf8.count
        if count <= SmallStatements.maximumCount {
            let key = SmallStatements.key(sql, count: count)
            if let kept = smallStatements.find(key) { return kept }
            let statement = try preparedStatement(sql)
            smallStatements.insert(key, statement)
            return statement
        }
        guard let address = sql.utf8.withContiguousStorageIfAvailable({ UnsafeRawPointer($0.baseAddress) }) ?? nil else {
            return try preparedStatement(sql)
        }
        if let kept = statementsByAddress.find(address, count: count) { return kept }
        let statement = try preparedStatement(sql)
        statementsByAddress.insert(address, count: count, sql: sql, statement: statement)
        return statement
    }

    private func preparedStatement(_ sql: String) throws -> SQLiteStatement {
        if let cached = statements[sql] { return cached }
        var pointer: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &pointer, nil)
        guard code == SQLITE_OK, let prepared = pointer else { throw SQLiteError.from(code, handle) }
        let statement = SQLiteStatement(handle: prepared, connection: handle)
        statements[sql] = statement
        return statement
    }

    func execute(_ sql: String, _ arguments: [DatabaseBindable]) throws -> Int {
        let statement = try statement(sql)
        return try statement.withBindings(arguments) { try stepToEnd(statement) }
    }

    func execute(_ sql: String, values: UnsafeBufferPointer<DatabaseValue>) throws -> Int {
        let statement = try statement(sql)
        return try statement.withBindings(values) { try stepToEnd(statement) }
    }

    func query(_ sql: String, _ arguments: [DatabaseBindable], _ body: (Row) throws -> Bool) throws {
        let statement = try statement(sql)
        try statement.withBindings(arguments) { try rows(statement, body) }
    }

    func query(_ sql: String, values: UnsafeBufferPointer<DatabaseValue>, _ body: (Row) throws -> Bool) throws {
        let statement = try statement(sql)
        try statement.withBindings(values) { try rows(statement, body) }
    }

    /// Steps a bound statement to its end; the number of rows it changed.
    private func stepToEnd(_ statement: SQLiteStatement) throws -> Int {
        // SQLite undoes a failed statement's writes: its touched keys go too.
        let mark = touches.mark
        do {
            while try statement.step() {}
        } catch {
            touches.restore(mark)
            throw error
        }
        return Int(sqlite3_changes(handle))
    }

    /// Steps a bound statement, calling `body` with each row until it returns false.
    private func rows(_ statement: SQLiteStatement, _ body: (Row) throws -> Bool) throws {
        let row = SQLiteRow(handle: statement.handle)
        let mark = touches.mark
        while true {
            let more: Bool
            do {
                more = try statement.step()
            } catch {
                // A statement SQLite failed (`UPDATE … RETURNING`) is undone with its touched keys.
                touches.restore(mark)
                throw error
            }
            if !more { return }
            if try !body(row) { return }
        }
    }

    /// The rowid of the last inserted row.
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Runs `body` inside a savepoint of the open transaction: an error undoes only what `body`
    /// wrote (an auto-renew attempt that cannot be paid) and is rethrown.
    ///
    /// Should undoing or releasing the savepoint fail, nobody can say what the transaction
    /// still holds, so that failure is thrown instead (a storage error, `rollback_failed`):
    /// callers that recover from the body's refusal must not go on writing on top of a step
    /// half undone, and the whole transaction is rolled back.
    func savepoint<T>(_ body: () throws -> T) throws -> T {
        try run("SAVEPOINT attempt")
        let mark = touches.mark
        let result: T
        do {
            result = try body()
        } catch {
            if sqlite3_get_autocommit(handle) != 0 {
                // SQLite itself rolled the whole transaction back (a full disk, an I/O error):
                // there is no step left to undo, and the body's storage error says why.
                if let failure = error as? BillingError, failure.status == .storage || failure.status == .busy { throw error }
                throw BillingError(.rollbackFailed, "the transaction ended inside a step that failed (\(error)), so it was abandoned")
            }
            try undo("ROLLBACK TO attempt", "undoing a failed step")
            touches.restore(mark)
            try undo("RELEASE attempt", "closing a failed step")
            throw error
        }
        try undo("RELEASE attempt", "keeping a step")
        return result
    }

    /// Runs `body` in a write transaction that is always rolled back, whole: whatever it
    /// wrote — effect, events, audit row, idempotency record, identifiers taken — is gone when
    /// it returns or throws, and only its result is kept (a quote computed by the code that
    /// would do the operation). `BEGIN IMMEDIATE`, so nothing changes between its reads and
    /// its rehearsed writes. A rollback that fails is thrown (`rollback_failed`), never
    /// taken for success: the rehearsal's writes would otherwise be committed by whatever
    /// transaction comes next.
    func rehearsal<T>(_ body: () throws -> T) throws -> T {
        guard !inTransaction else {
            throw BillingError(.nestedTransaction, "a transaction was opened inside another")
        }
        try run("BEGIN IMMEDIATE")
        inTransaction = true
        let mark = touches.mark
        defer { inTransaction = false; touches.restore(mark); touches.settle() }
        let outcome = Result { try body() }
        // SQLite may have ended the transaction itself after some errors (a full disk).
        if sqlite3_get_autocommit(handle) == 0 { try undo("ROLLBACK", "rolling back a rehearsal") }
        return try outcome.get()
    }

    /// Runs an undo statement; its failure is a storage error naming what was being undone.
    private func undo(_ sql: String, _ what: String) throws {
        do {
            try run(sql)
        } catch let error as BillingError {
            throw BillingError(.rollbackFailed, "\(what) failed, so the transaction was abandoned: \(error.message)")
        }
    }

    /// One writer at a time (`BEGIN IMMEDIATE`): insert order is commit order.
    var writersTakeTurns: Bool { true }

    /// A write transaction like any other: SQLite has no weaker one that still writes.
    func bookkeeping<T>(_ body: () throws -> T) throws -> T {
        try transaction(write: true, body)
    }

    /// A long read is a read transaction: in WAL mode a reader sees one snapshot, never waits
    /// for the writer and never makes it wait or fail.
    func readOnlySnapshot<T>(deferrable: Bool, _ body: () throws -> T) throws -> T {
        try transaction(write: false, body)
    }

    /// Runs `body` in one transaction: `BEGIN IMMEDIATE` for writes (so that two writers queue on
    /// the busy timeout instead of failing on upgrade), plain `BEGIN` for consistent reads.
    /// Any error rolls everything back.
    func transaction<T>(write: Bool, _ body: () throws -> T) throws -> T {
        guard !inTransaction else {
            throw BillingError(.nestedTransaction, "a transaction was opened inside another")
        }
        try run(write ? "BEGIN IMMEDIATE" : "BEGIN")
        inTransaction = true
        let mark = touches.mark
        defer { inTransaction = false; touches.settle() }
        do {
            let result = try body()
            // Every covered row a write touched must be listed by an audit row of the same
            // transaction: a write path that forgot its audit row is refused, not committed.
            if write, coverageInstalled, try hasUntakenTouches() {
                throw BillingError(.unauditedWrite,
                                   "a write touched covered rows without appending an audit row; nothing was changed")
            }
            do {
                try run("COMMIT")
            } catch where !write {
                // A read has nothing to commit. SQLite fails the end of a read that met a
                // damaged page even when the read handled it (verify's integrity check), and
                // the answer already read stays true: end the transaction and return it.
                if sqlite3_get_autocommit(handle) == 0 { try undo("ROLLBACK", "ending a read") }
            }
            return result
        } catch {
            // A rollback that fails leaves the handle inside a transaction that the next call
            // would commit: that failure is the one the caller must hear.
            touches.restore(mark)
            if sqlite3_get_autocommit(handle) == 0 { try undo("ROLLBACK", "rolling back a failed transaction (\((error as? BillingError)?.reason ?? "\(error)"))") }
            throw error
        }
    }
}

/// Prepared statements by the address and length of their SQL text's bytes (texts with storage
/// of their own): an open-addressing table hashed by the address alone, so that a lookup reads
/// two integers instead of hashing with `Hasher` (SipHash). Each entry keeps its text, so no
/// other text can take that address while it is here, and the same address and length mean the
/// same bytes. Bounded: texts built anew on each call (interpolated SQL) would otherwise add an
/// entry each time; when full it is emptied.
struct StatementsByAddress {
    private static let capacity = 1024
    private static let limit = 512
    private var addresses = [UInt](repeating: 0, count: capacity)
    private var counts = [Int](repeating: 0, count: capacity)
    private var statements = [SQLiteStatement?](repeating: nil, count: capacity)
    private var texts = [String](repeating: "", count: capacity)
    private var used = 0

    @inline(__always)
    private static func slot(_ address: UInt) -> Int {
        Int(truncatingIfNeeded: (address >> 4) ^ (address >> 14)) & (capacity - 1)
    }

    func find(_ address: UnsafeRawPointer, count: Int) -> SQLiteStatement? {
        let key = UInt(bitPattern: address)
        var slot = StatementsByAddress.slot(key)
        while true {
            let stored = addresses[slot]
            if stored == 0 { return nil }
            if stored == key && counts[slot] == count { return statements[slot] }
            slot = (slot + 1) & (StatementsByAddress.capacity - 1)
        }
    }

    mutating func insert(_ address: UnsafeRawPointer, count: Int, sql: String, statement: SQLiteStatement) {
        if used >= StatementsByAddress.limit { removeAll() }
        let key = UInt(bitPattern: address)
        var slot = StatementsByAddress.slot(key)
        while addresses[slot] != 0 && !(addresses[slot] == key && counts[slot] == count) {
            slot = (slot + 1) & (StatementsByAddress.capacity - 1)
        }
        if addresses[slot] == 0 { used += 1 }
        addresses[slot] = key
        counts[slot] = count
        statements[slot] = statement
        texts[slot] = sql
    }

    mutating func removeAll() {
        for slot in 0..<StatementsByAddress.capacity where addresses[slot] != 0 {
            addresses[slot] = 0
            counts[slot] = 0
            statements[slot] = nil
            texts[slot] = ""
        }
        used = 0
    }
}

/// Prepared statements whose SQL text is short enough to be stored inside the `String` itself
/// ("BEGIN IMMEDIATE", "COMMIT"): found by their bytes and length, compared as two integers,
/// among the few the library runs.
struct SmallStatements {
    static let maximumCount = 15
    typealias Key = (UInt64, UInt64)
    private var keys: [Key] = []
    private var statements: [SQLiteStatement] = []

    /// The text's bytes, zero-padded, and its length in the last byte.
    static func key(_ sql: String, count: Int) -> Key {
        var key: Key = (0, 0)
        var text = sql
        text.withUTF8 { bytes in
            withUnsafeMutableBytes(of: &key) { raw in
                if let base = bytes.baseAddress { raw.baseAddress!.copyMemory(from: base, byteCount: bytes.count) }
                raw[15] = UInt8(truncatingIfNeeded: count)
            }
        }
        return key
    }

    func find(_ key: Key) -> SQLiteStatement? {
        for index in keys.indices where keys[index] == key { return statements[index] }
        return nil
    }

    mutating func insert(_ key: Key, _ statement: SQLiteStatement) {
        // Bounded like `StatementsByAddress` (short texts built on each call).
        if keys.count >= 64 { removeAll() }
        keys.append(key)
        statements.append(statement)
    }

    mutating func removeAll() {
        keys.removeAll()
        statements.removeAll()
    }
}
