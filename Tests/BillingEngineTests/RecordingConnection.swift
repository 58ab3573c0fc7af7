@testable import BillingEngine
@testable import BillingStorage

/// A `Connection` of the tests' own that forwards every call to another connection and records
/// the text of each statement run through it. An engine opened on it (`manualEngine(wrap:)`)
/// can only reach the database through the `Connection` interface: whatever it runs, this
/// sees. The query-plan test EXPLAINs the statements it recorded (the engine's own, not copies
/// that drift), and `StorageInterfaceTests` checks that operations go through it.
final class RecordingConnection: Connection {
    let inner: Connection
    /// The statements run through `execute` and `query` since recording was turned on; nil
    /// while it is off.
    var statements: Set<String>?
    /// The arguments each recorded statement last ran with (the PostgreSQL plan test EXPLAINs
    /// a statement with them: PostgreSQL 15 plans no statement without its parameters).
    var arguments: [String: [DatabaseBindable]] = [:]
    /// The statements run inside write transactions since recording was turned on.
    var statementsInWrites: [String] = []
    private var writing = false
    /// How many statements ran through `execute` and `query`, recording on or off.
    private(set) var calls = 0
    /// Transactions opened through this connection, by kind.
    private(set) var transactions: (write: Int, read: Int) = (0, 0)
    /// How many read-only snapshots (`readOnlySnapshot`) were opened through this connection.
    private(set) var snapshots = 0
    /// Run once a read-only snapshot has ended (the engine's lock still held): a test's other
    /// handle commits a change there, between an export step's read-ahead and its write.
    var afterSnapshot: (() -> Void)?

    init(_ inner: Connection, recording: Bool = false) {
        self.inner = inner
        statements = recording ? [] : nil
    }

    func execute(_ sql: String, _ arguments: [DatabaseBindable]) throws -> Int {
        calls += 1
        if statements?.insert(sql) != nil { self.arguments[sql] = arguments }
        if statements != nil && writing { statementsInWrites.append(sql) }
        return try inner.execute(sql, arguments)
    }

    func query(_ sql: String, _ arguments: [DatabaseBindable], _ body: (Row) throws -> Bool) throws {
        calls += 1
        if statements?.insert(sql) != nil { self.arguments[sql] = arguments }
        if statements != nil && writing { statementsInWrites.append(sql) }
        try inner.query(sql, arguments, body)
    }

    var dialect: SQLDialect { inner.dialect }
    func executeScript(_ sql: String) throws { try inner.executeScript(sql) }
    func withMigrationLock<T>(_ body: () throws -> T) throws -> T { try inner.withMigrationLock(body) }
    var lastInsertRowID: Int64 { inner.lastInsertRowID }

    func transaction<T>(write: Bool, _ body: () throws -> T) throws -> T {
        if write { transactions.write += 1 } else { transactions.read += 1 }
        writing = write
        defer { writing = false }
        return try inner.transaction(write: write, body)
    }

    func readOnlySnapshot<T>(deferrable: Bool, _ body: () throws -> T) throws -> T {
        transactions.read += 1
        snapshots += 1
        let result = try inner.readOnlySnapshot(deferrable: deferrable, body)
        afterSnapshot?()
        return result
    }

    func rehearsal<T>(_ body: () throws -> T) throws -> T { try inner.rehearsal(body) }
    func savepoint<T>(_ body: () throws -> T) throws -> T { try inner.savepoint(body) }
    var writersTakeTurns: Bool { inner.writersTakeTurns }
    func bookkeeping<T>(_ body: () throws -> T) throws -> T { try inner.bookkeeping(body) }
    var session: ConnectionSession { inner.session }

    func schemaStamp() throws -> SchemaStamp { try inner.schemaStamp() }
    func setSchemaStamp(_ stamp: SchemaStamp) throws { try inner.setSchemaStamp(stamp) }
    func holdsObjects() throws -> Bool { try inner.holdsObjects() }
    func hasTable(_ name: String) throws -> Bool { try inner.hasTable(name) }
    func checkSchema(version: Int64, migrations: [String]) throws { try inner.checkSchema(version: version, migrations: migrations) }

    func trackChanges(_ tables: [RowCoverage.Table]) throws { try inner.trackChanges(tables) }
    var tracksChanges: Bool { inner.tracksChanges }
    func takeTouchedRows() throws -> [(table: String, key: String)] { try inner.takeTouchedRows() }

    func deferConstraints() throws { try inner.deferConstraints() }
    func finishCopy(tables: [String], identifierCounters: [(name: String, next: Int64)]) throws {
        try inner.finishCopy(tables: tables, identifierCounters: identifierCounters)
    }
    func writeCopy(to destination: String) throws { try inner.writeCopy(to: destination) }
    func checkStorage(full: Bool) throws -> (messages: [String], stoppedOn: String?) { try inner.checkStorage(full: full) }
    func fileGeometry() throws -> (pageSize: Int64, file: String?) { try inner.fileGeometry() }
}
