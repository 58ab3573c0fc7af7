import CPostgres
import BillingDomain
#if canImport(Glibc)
import Glibc
#endif

/// One libpq connection to PostgreSQL with a cache of named prepared statements: the
/// PostgreSQL side of the storage layer (issue 18; design in docs/postgresql.md).
///
/// It implements the storage interface (`Connection`, rows as `Row`; the contract is
/// docs/storage-interface.md) so that stores run on either backend; statements may
/// be written with SQLite's `?` parameters (rewritten to `$n` once, `PostgresPlaceholders`)
/// or with `$n`. Integers are sent and read in binary (`bigint`, exact), text as UTF-8.
///
/// Not thread-safe by itself: like the SQLite connection, one owner uses it at a time.
///
/// A connection that is lost (the server restarted, the session terminated, the network
/// gone) makes the call in flight fail with `connection_lost` (or `commit_outcome_unknown`
/// during COMMIT); the next call outside a transaction reconnects by itself and prepares its
/// statements again.
package final class PostgresConnection: Connection {
    private var handle: OpaquePointer?
    /// The connection string as given: a `postgresql://` / `postgres://` URL or libpq's
    /// key=value form.
    package let conninfo: String
    /// Statement text → (name of its prepared statement per parameter-type signature).
    private var statements: [StatementKey: PreparedStatement] = [:]
    private var nextStatementNumber = 0
    /// Set when a command found the connection gone; the next call outside a transaction
    /// reconnects.
    private(set) var broken = false
    package internal(set) var inTransaction = false
    /// How many times at most a transaction is run in all when it fails with a serialization
    /// failure or a deadlock (SERIALIZABLE's normal way of refusing a conflicting
    /// interleaving); the reruns also stop once the busy timeout is spent
    /// (`lockTimeoutMilliseconds`), as an SQLite writer stops waiting for its turn.
    package var maxTransactionAttempts = 1000
    /// Whether the last failed statement broke a unique constraint (23505): under SERIALIZABLE
    /// a concurrent transaction's insert of the same key can surface so instead of as a
    /// serialization failure, when this one had not read that key's range itself.
    var lastFailureWasUniqueViolation = false
    /// How many attempts the last `transaction` call took (tests and diagnostics).
    package internal(set) var lastTransactionAttempts = 0
    /// How long a statement waits for a row lock before failing `database_busy` (SQLite's
    /// busy timeout); 0 waits without limit.
    let lockTimeoutMilliseconds: Int32
    /// How many times the connection was re-established after being lost.
    package private(set) var reconnections = 0
    /// State the engine keeps with this connection (the host's audit key).
    package let session = ConnectionSession()
    package var dialect: SQLDialect { .postgres }
    /// Whether row coverage's tracking is on (`trackChanges`, PostgresConnection+Coverage.swift):
    /// the session's TEMP table of touched keys exists, and is made again after a reconnection.
    var coverageInstalled = false

    /// Whether `path` names a PostgreSQL database rather than an SQLite file: a
    /// `postgresql://` or `postgres://` URL, or a libpq key=value string (`host=… dbname=…`).
    package static func accepts(_ path: String) -> Bool {
        if path.hasPrefix("postgresql://") || path.hasPrefix("postgres://") { return true }
        // key=value: the first word is a libpq keyword followed by '='.
        let keywords = ["host", "hostaddr", "port", "dbname", "user", "password", "service", "sslmode", "application_name", "options", "connect_timeout"]
        let first = path.split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
        return keywords.contains { first.hasPrefix($0 + "=") }
    }

    /// Connects. A connection that cannot be made is a storage error (`cannot_open`) with
    /// libpq's message; the password, if the string holds one, is not repeated in it.
    package init(conninfo: String, lockTimeoutMilliseconds: Int32 = 5000) throws {
        self.conninfo = conninfo
        self.lockTimeoutMilliseconds = lockTimeoutMilliseconds
        handle = try Self.connect(conninfo)
        try configureSession()
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    private static func connect(_ conninfo: String) throws -> OpaquePointer {
        // The host's string first (expanded as a URL or key=value), then what the engine
        // requires of every session: UTF-8 text and a name in pg_stat_activity.
        let keywords = ["dbname", "client_encoding", "fallback_application_name"]
        let values = [conninfo, "UTF8", "libbilling"]
        let connection = withCStringArray(keywords) { keywordPointers in
            withCStringArray(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let connection else {
            throw BillingError(.cannotOpen, "cannot connect to PostgreSQL: libpq could not allocate a connection")
        }
        if PQstatus(connection) != CONNECTION_OK {
            let message = PostgresError.message(nil, connection)
            PQfinish(connection)
            throw BillingError(.cannotOpen, "cannot connect to PostgreSQL: \(message)")
        }
        // libpq prints notices and warnings (a server shutting down: "terminating connection
        // due to administrator command") to standard error by default; a library must not
        // write to its host's. Errors still arrive with their results.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        return connection
    }

    /// What every session sets after connecting (and reconnecting).
    private func configureSession() throws {
        try control("SET lock_timeout = \(max(0, lockTimeoutMilliseconds))")
        // Notices ("table does not exist, skipping") would go to the host's standard error.
        try control("SET client_min_messages = warning")
        // A new session has no TEMP table: tracking that was on stays on.
        if coverageInstalled { try createTouchedTable() }
    }

    /// The process id of this connection's server backend (pg_terminate_backend names it).
    package var backendPID: Int32 { handle.map { PQbackendPID($0) } ?? 0 }

    /// The server's version as libpq reports it (150018 for 15.18).
    package var serverVersion: Int32 { handle.map { PQserverVersion($0) } ?? 0 }

    // MARK: Reconnecting

    /// Re-establishes a lost connection before a call that starts afresh (no open
    /// transaction): prepared statements belong to the old session and are prepared again.
    private func reconnectIfNeeded() throws {
        guard !inTransaction else { return }
        if !broken, let handle, PQstatus(handle) == CONNECTION_OK { return }
        statements.removeAll()
        if let handle { PQfinish(handle) }
        handle = nil
        do {
            handle = try Self.connect(conninfo)
        } catch let error as BillingError {
            throw BillingError(.connectionLost, "the connection to PostgreSQL was lost and could not be made again: \(error.message)")
        }
        broken = false
        reconnections += 1
        try configureSession()
    }

    private func liveHandle() throws -> OpaquePointer {
        try reconnectIfNeeded()
        guard let handle, !broken else {
            throw BillingError(.connectionLost, "the connection to PostgreSQL was lost inside a transaction; nothing of it was committed, and the next call reconnects")
        }
        return handle
    }

    /// The error for a failed result, noting a lost connection for the next call.
    private func failure(_ result: OpaquePointer?, _ connection: OpaquePointer, duringCommit: Bool = false) -> BillingError {
        let lost = PQstatus(connection) != CONNECTION_OK
        lastFailureWasUniqueViolation = billing_pq_sqlstate(result).map { String(cString: $0) == "23505" } ?? false
        let error = PostgresError.from(result, connection, connectionLost: lost, duringCommit: duringCommit)
        if lost || error.reason == "connection_lost" || error.reason == "commit_outcome_unknown" { broken = true }
        return error
    }

    // MARK: Statements

    /// Runs SQL text that may hold several statements and returns no rows (schema, tests);
    /// never prepared or cached.
    package func executeScript(_ sql: String) throws {
        let connection = try liveHandle()
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        let status = result.map(PQresultStatus) ?? PGRES_FATAL_ERROR
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY else {
            throw failure(result, connection)
        }
    }

    /// A transaction-control command (BEGIN, COMMIT, SAVEPOINT, …) through the simple
    /// protocol; returns the command tag ("COMMIT", or "ROLLBACK" for a COMMIT of a failed
    /// transaction).
    @discardableResult
    func control(_ sql: String, duringCommit: Bool = false) throws -> String {
        let connection = try liveHandle()
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        guard let result, PQresultStatus(result) == PGRES_COMMAND_OK else {
            throw failure(result, connection, duringCommit: duringCommit)
        }
        return PQcmdStatus(result).map { String(cString: $0) } ?? ""
    }

    /// Executes one statement (prepared once per connection and parameter types, and cached)
    /// with `arguments` bound to its parameters in order; the number of rows it changed.
    @discardableResult
    package func execute(_ sql: String, _ arguments: [DatabaseBindable]) throws -> Int {
        try withResult(sql, arguments) { result in
            Int(PQcmdTuples(result).map { String(cString: $0) } ?? "") ?? 0
        }
    }

    /// Runs one query and calls `body` for each row in order until it returns false or the
    /// rows run out.
    package func query(_ sql: String, _ arguments: [DatabaseBindable], _ body: (Row) throws -> Bool) throws {
        try withResult(sql, arguments) { result in
            let count = PQntuples(result)
            var row: Int32 = 0
            while row < count {
                guard try body(PostgresRow(result: result, row: row)) else { return }
                row += 1
            }
        }
    }

    /// The value the last INSERT on this session took from a sequence (an identity or serial
    /// column): `lastval()`. Stores written for PostgreSQL use `INSERT … RETURNING` instead;
    /// this serves code written for SQLite's last-insert rowid.
    package func lastInsertedID() throws -> Int64 {
        guard let id = try first("SELECT lastval()", map: { $0.optionalInt(0) }) ?? nil else {
            throw BillingError(.postgresError, "lastval() gave no value")
        }
        return id
    }

    /// `Connection.lastInsertRowID`: `lastval()`, the value the last INSERT on this session
    /// took from an identity column's sequence (the audit row's id); 0 when no sequence was
    /// used yet on this session. Inside a transaction it reads under a savepoint, since the
    /// error `lastval()` gives before any sequence was used would abort the transaction.
    package var lastInsertRowID: Int64 {
        guard inTransaction else { return (try? lastInsertedID()) ?? 0 }
        return (try? savepoint { try lastInsertedID() }) ?? 0
    }

    /// Prepares (once) and executes a statement, hands its result to `body` and clears it.
    private func withResult<T>(_ sql: String, _ arguments: [DatabaseBindable], _ body: (OpaquePointer) throws -> T) throws -> T {
        let connection = try liveHandle()
        let values = arguments.map(\.databaseValue)
        let prepared = try statement(sql, values, connection)
        let result = Parameters(values).withPointers { pointers, lengths, formats in
            PQexecPrepared(connection, prepared.name, Int32(values.count), pointers, lengths, formats, 1)
        }
        defer { PQclear(result) }
        guard let result else { throw failure(nil, connection) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw failure(result, connection) }
        return try body(result)
    }

    /// The prepared statement for a text and its parameters' types: integers are `bigint`
    /// (sent in binary), text is `text`, and a NULL leaves its type to the server (inferred
    /// from where it is used). A statement used with NULL in one call and a value in another
    /// is prepared once for each.
    private func statement(_ sql: String, _ values: [DatabaseValue], _ connection: OpaquePointer) throws -> PreparedStatement {
        let types = values.map(Parameters.typeOID)
        let key = StatementKey(sql: sql, types: types)
        if let cached = statements[key] { return cached }
        nextStatementNumber += 1
        let name = "billing_\(nextStatementNumber)"
        let text = PostgresPlaceholders.numbered(sql)
        let result = types.withUnsafeBufferPointer { typeBuffer in
            PQprepare(connection, name, text, Int32(types.count), typeBuffer.baseAddress)
        }
        defer { PQclear(result) }
        guard let result, PQresultStatus(result) == PGRES_COMMAND_OK else { throw failure(result, connection) }
        let prepared = PreparedStatement(name: name)
        statements[key] = prepared
        return prepared
    }

    /// The number of statements prepared on the current session (tests check the cache).
    package var preparedStatementCount: Int { statements.count }

    /// The transaction state libpq reports (idle, in a transaction, in a failed one).
    var transactionStatus: PGTransactionStatusType {
        handle.map { PQtransactionStatus($0) } ?? PQTRANS_UNKNOWN
    }
}

private struct StatementKey: Hashable {
    let sql: String
    let types: [UInt32]
}

private struct PreparedStatement {
    let name: String
}

/// Parameters in libpq's binary format: `bigint` as 8 big-endian bytes, `text` as its UTF-8
/// bytes (binary, so that the length is explicit and never a C string's), NULL as a null
/// pointer.
private struct Parameters {
    static let int8Type: UInt32 = 20
    static let textType: UInt32 = 25

    static func typeOID(_ value: DatabaseValue) -> UInt32 {
        switch value {
        case .integer: int8Type
        case .text: textType
        case .null: 0
        }
    }

    private var bytes: [UInt8] = []
    private var spans: [(offset: Int, length: Int)?] = []

    init(_ values: [DatabaseValue]) {
        for value in values {
            switch value {
            case .integer(let number):
                let offset = bytes.count
                withUnsafeBytes(of: number.bigEndian) { bytes.append(contentsOf: $0) }
                spans.append((offset, 8))
            case .text(let text):
                let offset = bytes.count
                bytes.append(contentsOf: text.utf8)
                spans.append((offset, bytes.count - offset))
            case .null:
                spans.append(nil)
            }
        }
        // Never an empty buffer, so that an empty text still has a non-null address.
        bytes.append(0)
    }

    func withPointers<T>(_ body: (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> T) -> T {
        bytes.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!)
            let pointers: [UnsafePointer<CChar>?] = spans.map { span in
                span.map { (base + $0.offset).assumingMemoryBound(to: CChar.self) }
            }
            let lengths: [Int32] = spans.map { Int32($0?.length ?? 0) }
            let formats = [Int32](repeating: 1, count: spans.count)
            return pointers.withUnsafeBufferPointer { p in
                lengths.withUnsafeBufferPointer { l in
                    formats.withUnsafeBufferPointer { f in
                        body(p.baseAddress, l.baseAddress, f.baseAddress)
                    }
                }
            }
        }
    }
}

/// Calls `body` with a C array of C strings (for PQconnectdbParams: keywords and values),
/// terminated by a null pointer.
private func withCStringArray<T>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> T) -> T {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
