import BillingDomain
import BillingDocuments

/// The database as the engine and its stores see it: one connection of one backend, with
/// transactions, savepoints, cached prepared statements and rows. SQLite (`SQLiteConnection`)
/// is the one implementation today; the contract every backend meets — what each method
/// guarantees, the SQL dialect stores are written in, and what a PostgreSQL backend must
/// translate or provide — is docs/storage-interface.md.
///
/// A connection is used by one thread at a time: the `Engine` owns one behind its lock.
/// Stores and services name only this protocol, `Row` and `DatabaseBindable`, never a
/// backend's type.
package protocol Connection: AnyObject {
    /// How this backend spells the statements that differ between backends (`SQLDialect`).
    var dialect: SQLDialect { get }

    // MARK: Statements

    /// Executes one statement (prepared once per connection and cached by its text) with
    /// `arguments` bound to its `?` parameters in order, and returns the number of rows it
    /// changed.
    func execute(_ sql: String, _ arguments: [DatabaseBindable]) throws -> Int

    /// Runs one query (prepared and cached like `execute`) and calls `body` for each row in
    /// order until `body` returns false or the rows run out; the statement is reset before
    /// this returns or throws, so it holds no read position afterwards.
    func query(_ sql: String, _ arguments: [DatabaseBindable], _ body: (Row) throws -> Bool) throws

    /// `execute` with the arguments already converted, in memory the caller owns for the call
    /// (`run` puts them on the stack): no array of existentials is built for a statement. A
    /// backend without a faster path takes the default, which calls `execute` with them.
    func execute(_ sql: String, values: UnsafeBufferPointer<DatabaseValue>) throws -> Int

    /// `query` with the arguments already converted, as `execute(_:values:)`.
    func query(_ sql: String, values: UnsafeBufferPointer<DatabaseValue>, _ body: (Row) throws -> Bool) throws

    /// Runs SQL text that may hold several statements and returns no rows (migrations and
    /// tests); never cached.
    func executeScript(_ sql: String) throws

    /// The integer key of the row the last INSERT on this connection added (the audit row's
    /// id, read right after inserting it, in the same transaction).
    var lastInsertRowID: Int64 { get }

    // MARK: Transactions

    /// Runs `body` in one transaction and commits it, or rolls all of it back when `body`
    /// throws (and rethrows). `write: true` takes the write lock at the start, so that two
    /// writers queue (or fail `.busy` once the busy timeout is spent) instead of failing at
    /// their first write; `write: false` reads one consistent snapshot. Opening one inside
    /// another is refused (`nested_transaction`). When row changes are tracked
    /// (`trackChanges`), a write transaction that still has touched rows no audit row took
    /// (`takeTouchedRows`) is refused with `unaudited_write` and rolled back.
    func transaction<T>(write: Bool, _ body: () throws -> T) throws -> T

    /// Runs `body` in one read-only transaction for a long read (verify, an export's rows): one
    /// consistent snapshot that writers neither fail nor are failed by. On PostgreSQL it takes
    /// no predicate locks, never fails with a serialization failure and never makes a writer
    /// fail one: `deferrable` (verify) is `SERIALIZABLE, READ ONLY, DEFERRABLE`, which may wait
    /// at its first statement until no serializable writer running then could make its
    /// snapshot inconsistent with a serial order; otherwise (rows read ahead of a write
    /// transaction that checks what they were read for) `REPEATABLE READ, READ ONLY`, which
    /// starts at once. On SQLite a read transaction (`transaction(write: false)`): a WAL reader
    /// already has all of that. Writing inside it is refused by the backend.
    func readOnlySnapshot<T>(deferrable: Bool, _ body: () throws -> T) throws -> T

    /// Runs `body` in a write transaction that is always rolled back, whole, and returns its
    /// result (a quote computed by the code that would do the operation). A rollback that
    /// fails is thrown (`rollback_failed`), never taken for success.
    func rehearsal<T>(_ body: () throws -> T) throws -> T

    /// Runs `body` inside a savepoint of the open transaction: when it throws, only what it
    /// wrote is undone and the error is rethrown; the transaction goes on. When undoing fails,
    /// or the backend ended the whole transaction itself, a storage error is thrown
    /// (`rollback_failed`, or the body's own `.storage`/`.busy` error) so that the caller does
    /// not go on writing on top of a half-undone step.
    func savepoint<T>(_ body: () throws -> T) throws -> T

    /// Whether write transactions run one at a time (SQLite's `BEGIN IMMEDIATE`), so that the
    /// order writes are made in is the order they commit: an event then takes its outbox
    /// position when it is inserted. False where writers run at once (PostgreSQL): a sealer
    /// numbers committed events instead (`EventLog.seal`).
    var writersTakeTurns: Bool { get }

    /// Runs `body` in a short write transaction for bookkeeping that decides nothing from what
    /// it reads but the rows it locks (sealing the event outbox): on PostgreSQL `READ
    /// COMMITTED`, retried like every transaction, so that it never makes an operation fail
    /// serialization; on SQLite a write transaction like any other. Touched covered rows must
    /// be taken by `body` (`unaudited_write` otherwise), as in `transaction`.
    func bookkeeping<T>(_ body: () throws -> T) throws -> T

    /// State the engine keeps with this connection (the host's audit key).
    var session: ConnectionSession { get }

    // MARK: Schema version

    /// Which application the database belongs to and its schema version; (0, 0) for a new,
    /// empty database. Read inside the caller's transaction.
    func schemaStamp() throws -> SchemaStamp

    /// Records the application and schema version, inside the migrating transaction.
    func setSchemaStamp(_ stamp: SchemaStamp) throws

    /// Whether the database holds any table, index, trigger or view (a database with none
    /// and no stamp is new; one with some and no stamp belongs to someone else).
    func holdsObjects() throws -> Bool

    /// Whether a table of that name exists.
    func hasTable(_ name: String) throws -> Bool

    /// Refuses (`schema_damaged`, naming the differences) a database whose tables, columns,
    /// indexes and triggers are not exactly what the first `version` scripts of `migrations`
    /// create (`Migrator` passes the scripts that build `version`, `SchemaHistory`).
    func checkSchema(version: Int64, migrations: [String]) throws

    /// Runs `body` (the migration's write transaction) while no other connection migrates the
    /// same database, so that two processes opening a new database migrate it once. SQLite's
    /// `BEGIN IMMEDIATE` already serializes them (the default does nothing); PostgreSQL takes
    /// a session advisory lock before the transaction begins, so that the second migrator's
    /// snapshot is taken after the first one committed.
    func withMigrationLock<T>(_ body: () throws -> T) throws -> T

    // MARK: Row coverage

    /// From now on, notes the key of every row of `tables` that a statement on this
    /// connection inserts, updates or deletes (old and new key of an update), for
    /// `takeTouchedRows`. Idempotent; it changes nothing in the database others see.
    func trackChanges(_ tables: [RowCoverage.Table]) throws

    /// Whether `trackChanges` is on for this connection.
    var tracksChanges: Bool { get }

    /// The distinct (table, key) pairs noted since the last call, ordered by table then key,
    /// and forgets them. The key is the compact JSON array of the key columns' values
    /// (`RowCoverage.keyExpression`).
    func takeTouchedRows() throws -> [(table: String, key: String)]

    // MARK: Copying (`DatabaseTransfer`)

    /// Defers the checks of foreign keys to the commit of the open transaction, where the
    /// backend can: a copy inserts each table's rows in the source's order, which need not
    /// put a row after the rows of its own table that it names.
    func deferConstraints() throws

    /// Called by a copy after it inserted every row, in its transaction, as its last step:
    /// checks the deferred constraints now, then moves the backend's own counters past the
    /// copied keys (PostgreSQL's identity sequences, and its identifier sequences to
    /// `identifierCounters`, the source's `id_sequences` rows: name and next number; SQLite's
    /// AUTOINCREMENT counters move by themselves and its counters are copied rows).
    func finishCopy(tables: [String], identifierCounters: [(name: String, next: Int64)]) throws

    // MARK: The file

    /// Writes one consistent snapshot of the whole database to `destination` (the backup),
    /// while other readers and writers go on.
    func writeCopy(to destination: String) throws

    /// The backend's own check of its storage (SQLite's `quick_check` or, `full`,
    /// `integrity_check`): the messages other than "ok", and the corruption the check
    /// stopped on, if any.
    func checkStorage(full: Bool) throws -> (messages: [String], stoppedOn: String?)

    /// The page size and the path of the database file (nil or empty when there is none).
    func fileGeometry() throws -> (pageSize: Int64, file: String?)
}

/// The application and schema version a database is stamped with.
package struct SchemaStamp: Sendable, Equatable {
    package var application: Int64
    package var version: Int64

    package init(application: Int64, version: Int64) {
        self.application = application
        self.version = version
    }
}

/// What the engine keeps with a connection for as long as it is open.
package final class ConnectionSession {
    /// The host's audit key, when it gave one: new audit rows link with keyed BLAKE2b.
    package var auditKey: [UInt8]?
    /// Whether the key was checked against the chain's last keyed row (once per handle).
    package var auditKeyChecked = false

    package init() {}
}

extension Connection {
    package func withMigrationLock<T>(_ body: () throws -> T) throws -> T { try body() }
}

// `self.` on the calls below: the error catalogue (scripts/catalogue.py) follows an instance
// call to every implementation, and so finds the storage errors every statement can raise.
extension Connection {
    /// The default: the arguments as the array `execute` takes (PostgreSQL converts them again).
    package func execute(_ sql: String, values: UnsafeBufferPointer<DatabaseValue>) throws -> Int {
        try self.execute(sql, values.map { $0 as DatabaseBindable })
    }

    package func query(_ sql: String, values: UnsafeBufferPointer<DatabaseValue>, _ body: (Row) throws -> Bool) throws {
        try self.query(sql, values.map { $0 as DatabaseBindable }, body)
    }

    /// Executes one statement and returns the number of rows it changed. The arguments are a
    /// parameter pack, converted into a buffer on the stack: a variadic list built an array of
    /// existentials on the heap for every statement, and binding opened each one again.
    @discardableResult
    @inline(__always)
    package func run<each A: DatabaseBindable>(_ sql: String, _ arguments: repeat each A) throws -> Int {
        try withDatabaseValues(repeat each arguments, body: { try self.execute(sql, values: $0) })
    }

    /// Calls `body` for each row of a query.
    @inline(__always)
    package func forEach(_ sql: String, _ arguments: [DatabaseBindable] = [], _ body: (Row) throws -> Void) throws {
        try self.query(sql, arguments) { try body($0); return true }
    }

    /// Maps every row of a query.
    @inline(__always)
    package func all<T, each A: DatabaseBindable>(_ sql: String, _ arguments: repeat each A, map: (Row) throws -> T) throws -> [T] {
        var result: [T] = []
        try withDatabaseValues(repeat each arguments) { values in
            try self.query(sql, values: values) { result.append(try map($0)); return true }
        }
        return result
    }

    /// Maps the first row of a query, nil when there is none.
    @inline(__always)
    package func first<T, each A: DatabaseBindable>(_ sql: String, _ arguments: repeat each A, map: (Row) throws -> T) throws -> T? {
        var result: T?
        try withDatabaseValues(repeat each arguments) { values in
            try self.query(sql, values: values) { result = try map($0); return false }
        }
        return result
    }
}

// The statements every write runs (its audit row, the rows' digests, its event and its
// idempotency record) pass their values as `DatabaseValue`s in a tuple on the stack: `run`'s
// parameter pack is generic code the compiler does not specialize, so each argument was copied,
// converted and destroyed through the runtime's value witnesses (some 2,500 instructions for
// an event's five values).
extension Connection {
    @discardableResult
    package func run(_ sql: String, values v0: DatabaseValue, _ v1: DatabaseValue, _ v2: DatabaseValue, _ v3: DatabaseValue) throws -> Int {
        var values = (v0, v1, v2, v3)
        return try withUnsafeMutablePointer(to: &values) { tuple in
            try tuple.withMemoryRebound(to: DatabaseValue.self, capacity: 4) { try self.execute(sql, values: UnsafeBufferPointer(start: $0, count: 4)) }
        }
    }

    @discardableResult
    package func run(_ sql: String, values v0: DatabaseValue, _ v1: DatabaseValue, _ v2: DatabaseValue, _ v3: DatabaseValue,
                     _ v4: DatabaseValue) throws -> Int {
        var values = (v0, v1, v2, v3, v4)
        return try withUnsafeMutablePointer(to: &values) { tuple in
            try tuple.withMemoryRebound(to: DatabaseValue.self, capacity: 5) { try self.execute(sql, values: UnsafeBufferPointer(start: $0, count: 5)) }
        }
    }

    @discardableResult
    package func run(_ sql: String, values v0: DatabaseValue, _ v1: DatabaseValue, _ v2: DatabaseValue, _ v3: DatabaseValue,
                     _ v4: DatabaseValue, _ v5: DatabaseValue) throws -> Int {
        var values = (v0, v1, v2, v3, v4, v5)
        return try withUnsafeMutablePointer(to: &values) { tuple in
            try tuple.withMemoryRebound(to: DatabaseValue.self, capacity: 6) { try self.execute(sql, values: UnsafeBufferPointer(start: $0, count: 6)) }
        }
    }

    @discardableResult
    package func run(_ sql: String, values v0: DatabaseValue, _ v1: DatabaseValue, _ v2: DatabaseValue, _ v3: DatabaseValue,
                     _ v4: DatabaseValue, _ v5: DatabaseValue, _ v6: DatabaseValue, _ v7: DatabaseValue, _ v8: DatabaseValue) throws -> Int {
        var values = (v0, v1, v2, v3, v4, v5, v6, v7, v8)
        return try withUnsafeMutablePointer(to: &values) { tuple in
            try tuple.withMemoryRebound(to: DatabaseValue.self, capacity: 9) { try self.execute(sql, values: UnsafeBufferPointer(start: $0, count: 9)) }
        }
    }
}

/// The first row of a query, mapped; nil when there is none. With no value, one or two: the
/// one-row reads every write makes (the configuration's revision, the idempotency lookup, the
/// scope's previous hash). A function of its own, generic over the result alone, not a
/// method of `Connection`: there (or generic over a parameter pack, as `first` is) the closure
/// keeping the result stays generic code, which looked the result's optional type up at run
/// time (about 300 instructions a read).
@inline(__always)
package func firstRow<T>(_ db: Connection, _ sql: String, map: (Row) throws -> T) throws -> T? {
    var result: T?
    try db.query(sql, values: UnsafeBufferPointer(start: nil, count: 0)) { result = try map($0); return false }
    return result
}

@inline(__always)
package func firstRow<T>(_ db: Connection, _ sql: String, values v0: DatabaseValue, map: (Row) throws -> T) throws -> T? {
    var result: T?
    var value = v0
    try withUnsafePointer(to: &value) { pointer in
        try db.query(sql, values: UnsafeBufferPointer(start: pointer, count: 1)) { result = try map($0); return false }
    }
    return result
}

@inline(__always)
package func firstRow<T>(_ db: Connection, _ sql: String, values v0: DatabaseValue, _ v1: DatabaseValue, map: (Row) throws -> T) throws -> T? {
    var result: T?
    var values = (v0, v1)
    try withUnsafeMutablePointer(to: &values) { tuple in
        try tuple.withMemoryRebound(to: DatabaseValue.self, capacity: 2) { pointer in
            try db.query(sql, values: UnsafeBufferPointer(start: pointer, count: 2)) { result = try map($0); return false }
        }
    }
    return result
}

/// Calls `body` with the arguments' `databaseValue`s in a buffer on the stack (nothing on the
/// heap for a statement's handful of arguments).
@inline(__always)
func withDatabaseValues<each A: DatabaseBindable, R>(_ arguments: repeat each A,
                                                   body: (UnsafeBufferPointer<DatabaseValue>) throws -> R) throws -> R {
    var count = 0
    for _ in repeat each arguments { count += 1 }
    return try withUnsafeTemporaryAllocation(of: DatabaseValue.self, capacity: count) { buffer in
        var index = 0
        for argument in repeat each arguments {
            buffer.initializeElement(at: index, to: argument.databaseValue)
            index += 1
        }
        // One element at a time: deinitializing the whole buffer went through the runtime's
        // generic array destroy (a value witness call per element, some 1,000 instructions
        // for an audit row's nine values).
        defer { for index in 0..<count { _ = buffer.moveElement(from: index) } }
        return try body(UnsafeBufferPointer(buffer))
    }
}
