import Dispatch
import Testing
@testable import BillingDomain
@testable import BillingStorage

#if canImport(Glibc)
import Glibc
#endif

/// The throwaway cluster's URL, set by `make test-pg` (scripts/pg-cluster.sh url). Without it
/// the suite is reported as skipped with the reason below, never passed silently; `make test`
/// always runs it through `make test-pg`.
let postgresTestURL: String? = getenv("BILLING_TEST_POSTGRES_URL").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }

/// A connection to the test cluster.
func postgresTestConnection() throws -> PostgresConnection {
    try PostgresConnection(conninfo: try #require(postgresTestURL))
}

/// The test cluster's URL written in libpq's key=value form: the URL's query parameters
/// (`host=… port=… user=…`, no value with a space) and its database name.
func postgresKeyValueForm(_ url: String) throws -> String {
    let afterScheme = try #require(url.split(separator: "://", maxSplits: 1).last)
    let parts = afterScheme.split(separator: "?", maxSplits: 1)
    var pairs = parts.count > 1 ? parts[1].split(separator: "&").map(String.init) : []
    if let database = parts[0].split(separator: "/").last { pairs.append("dbname=\(database)") }
    return pairs.joined(separator: " ")
}

/// The error a throwing body gave, as a BillingError.
func billingError(_ body: () throws -> Void) -> BillingError? {
    do {
        try body()
        return nil
    } catch {
        return error as? BillingError
    }
}

@Suite("PostgreSQL connection against the throwaway cluster (make test-pg)", .serialized,
       .enabled(if: postgresTestURL != nil,
                "BILLING_TEST_POSTGRES_URL is not set: `make test-pg` starts a throwaway PostgreSQL cluster and sets it"))
struct PostgresConnectionTests {
    /// Integers at both ends of Int64, NULLs and UTF-8 text come back exactly, through `?`
    /// and `$n` parameters alike; a statement is prepared once per connection.
    @Test func valuesRoundTripExactly() throws {
        let db = try postgresTestConnection()
        try db.executeScript("DROP TABLE IF EXISTS pg_values; CREATE TABLE pg_values (id bigint PRIMARY KEY, amount bigint, note text)")
        let texts = ["", "plain", "普通话 ✓ 🙂 €", "it's \"quoted\" ? $1 -- not a comment", String(repeating: "长", count: 5000)]
        let amounts: [Int64?] = [Int64.max, Int64.min, 0, -1, nil, 1 << 53 + 1, -(1 << 53) - 1]
        var id: Int64 = 0
        for amount in amounts {
            for text in texts {
                id += 1
                try db.run("INSERT INTO pg_values (id, amount, note) VALUES (?, ?, ?)", id, amount, text)
            }
        }
        id += 1
        try db.run("INSERT INTO pg_values (id, amount, note) VALUES ($1, $2, $3)", id, Int64?.none, String?.none)
        #expect(db.preparedStatementCount == 3)   // with a value, with NULL amount, with both NULL

        var read = 0
        try db.forEach("SELECT id, amount, note FROM pg_values WHERE id <= ? ORDER BY id", [id - 1]) { row in
            let index = Int(row.int(0) - 1)
            #expect(row.optionalInt(1) == amounts[index / texts.count])
            #expect(row.int(1) == amounts[index / texts.count] ?? 0)
            #expect(row.optionalText(2) == texts[index % texts.count])
            read += 1
        }
        #expect(read == amounts.count * texts.count)
        let last = try #require(try db.first("SELECT amount, note FROM pg_values WHERE id = $1", id) { ($0.optionalInt(0), $0.optionalText(1), $0.text(1)) })
        #expect(last.0 == nil && last.1 == nil && last.2 == "")

        // Parameters read back as themselves: bigint extremes and text, never through a double.
        let echoed = try #require(try db.first("SELECT ?, ?, ?, ?::bigint", Int64.max, Int64.min, "€ ? ✓", Int64?.none) {
            ($0.int(0), $0.int(1), $0.text(2), $0.optionalInt(3))
        })
        #expect(echoed.0 == Int64.max && echoed.1 == Int64.min && echoed.2 == "€ ? ✓" && echoed.3 == nil)

        // SUM over bigint is numeric: read exactly while it is a whole number within Int64.
        let sums = try #require(try db.first("""
            SELECT SUM(amount) FILTER (WHERE amount = 9223372036854775807 OR amount = -1),
                   (9223372036854775807::numeric + 1), (-9223372036854775808)::numeric, 1.5::numeric,
                   120000::numeric, 0::numeric, COUNT(*), true, 12345678901234::numeric
            FROM pg_values WHERE note = ''
            """) { row in (0..<9).map { row.optionalInt(Int32($0)) } })
        #expect(sums == [Int64.max - 1, nil, Int64.min, nil, 120000, 0, Int64(amounts.count), 1, 12345678901234])

        // Rows changed.
        #expect(try db.run("UPDATE pg_values SET note = ? WHERE amount IS NULL", "none") == texts.count + 1)
        // A NUL character is valid UTF-8 that PostgreSQL text cannot hold: refused, not cut.
        let nul = billingError { try db.run("INSERT INTO pg_values (id, note) VALUES (?, ?)", 999_999, "a\u{0}b") }
        #expect(nul?.status == .invalidArgument && nul?.reason == "value_not_storable")
        #expect(try db.first("SELECT count(*) FROM pg_values WHERE id = 999999") { $0.int(0) } == 0)
    }

    /// The URL, the `postgres://` spelling and libpq's key=value form all open; a database
    /// that does not exist is `cannot_open`.
    @Test func connectionStrings() throws {
        let url = try #require(postgresTestURL)
        #expect(PostgresConnection.accepts(url))
        let short = "postgres://" + url.dropFirst("postgresql://".count)
        let keyValue = try postgresKeyValueForm(url)
        #expect(PostgresConnection.accepts(short) && PostgresConnection.accepts(keyValue))
        #expect(!PostgresConnection.accepts("/var/lib/app/billing.sqlite") && !PostgresConnection.accepts(":memory:"))
        for conninfo in [url, short, keyValue] {
            let db = try PostgresConnection(conninfo: conninfo)
            #expect(try db.first("SELECT current_database(), ?", "ok") { "\($0.text(0)) \($0.text(1))" } == "billing ok")
        }
        let missing = billingError { _ = try PostgresConnection(conninfo: keyValue + " dbname=no_such_database") }
        #expect(missing?.status == .storage && missing?.reason == "cannot_open")
    }

    /// An error inside a transaction rolls back everything it wrote; a body that swallows a
    /// failed statement is refused rather than committed.
    @Test func transactionRollsBackWhole() throws {
        let db = try postgresTestConnection()
        try db.executeScript("DROP TABLE IF EXISTS pg_tx; CREATE TABLE pg_tx (id bigint PRIMARY KEY, note text NOT NULL)")
        try db.run("INSERT INTO pg_tx VALUES (1, 'kept')")

        struct Refusal: Error {}
        #expect(throws: Refusal.self) {
            try db.transaction(write: true) {
                try db.run("INSERT INTO pg_tx VALUES (?, ?)", 2, "gone")
                try db.run("UPDATE pg_tx SET note = ? WHERE id = 1", "changed")
                throw Refusal()
            }
        }
        let duplicate = billingError {
            try db.transaction(write: true) {
                try db.run("INSERT INTO pg_tx VALUES (?, ?)", 3, "gone")
                try db.run("INSERT INTO pg_tx VALUES (?, ?)", 1, "duplicate key")
            }
        }
        #expect(duplicate?.status == .conflict && duplicate?.reason == "constraint_violation")
        let swallowed = billingError {
            try db.transaction(write: true) {
                try db.run("INSERT INTO pg_tx VALUES (?, ?)", 4, "gone")
                _ = try? db.run("INSERT INTO pg_tx VALUES (?, ?)", 1, "duplicate key")
            }
        }
        #expect(swallowed?.reason == "transaction_aborted")
        #expect(try db.all("SELECT id, note FROM pg_tx ORDER BY id") { "\($0.int(0)) \($0.text(1))" } == ["1 kept"])

        // A rehearsal returns its result and keeps nothing; a read sees committed rows.
        let rehearsed = try db.rehearsal {
            try db.run("INSERT INTO pg_tx VALUES (?, ?)", 5, "rehearsed")
            return try db.first("SELECT count(*) FROM pg_tx") { $0.int(0) }
        }
        #expect(rehearsed == 2)
        #expect(try db.transaction(write: false) { try db.first("SELECT count(*) FROM pg_tx") { $0.int(0) } } == 1)
        #expect(!db.inTransaction)
        #expect(billingError { try db.transaction(write: true) { try db.transaction(write: false) {} } }?.reason == "nested_transaction")
    }

    /// A failed step inside a savepoint is undone alone, whether the body threw or a
    /// statement failed on the server; the transaction goes on and commits the rest.
    @Test func savepointsUndoOneStep() throws {
        let db = try postgresTestConnection()
        try db.executeScript("DROP TABLE IF EXISTS pg_steps; CREATE TABLE pg_steps (id bigint PRIMARY KEY)")
        // The outcomes are checked after the transaction: the steps themselves stay plain.
        var thrown: BillingError?
        var duplicate: BillingError?
        try db.transaction(write: true) {
            try db.run("INSERT INTO pg_steps VALUES (?)", 1)
            thrown = billingError {
                try db.savepoint {
                    try db.run("INSERT INTO pg_steps VALUES (?)", 2)
                    throw BillingError.refused(.illegalTransition, "a refused step")
                }
            }
            duplicate = billingError {
                try db.savepoint {
                    try db.run("INSERT INTO pg_steps VALUES (?)", 3)
                    try db.run("INSERT INTO pg_steps VALUES (?)", 1)
                }
            }
            // Nested: the inner step fails, the outer keeps its own write.
            try db.savepoint {
                try db.run("INSERT INTO pg_steps VALUES (?)", 4)
                _ = billingError {
                    try db.savepoint {
                        try db.run("INSERT INTO pg_steps VALUES (?)", 5)
                        throw BillingError.refused(.illegalTransition, "the inner step")
                    }
                }
            }
            try db.run("INSERT INTO pg_steps VALUES (?)", 6)
        }
        #expect(thrown?.reason == "illegal_transition")
        #expect(duplicate?.reason == "constraint_violation")
        #expect(try db.all("SELECT id FROM pg_steps ORDER BY id") { $0.int(0) } == [1, 4, 6])
    }

    /// A transaction whose read another one changed fails with 40001 and runs again: with
    /// one attempt allowed the failure is `.busy` (`serialization_failure`); by default the
    /// second attempt commits.
    @Test func serializationFailureIsRetried() throws {
        let db = try postgresTestConnection()
        let other = try postgresTestConnection()
        try db.executeScript("DROP TABLE IF EXISTS pg_retry; CREATE TABLE pg_retry (id bigint PRIMARY KEY, value bigint NOT NULL); INSERT INTO pg_retry VALUES (1, 0)")
        func increment(interfering: inout Bool) throws {
            try db.transaction(write: true) {
                let value = try #require(try db.first("SELECT value FROM pg_retry WHERE id = 1") { $0.int(0) })
                if interfering {
                    // Another session commits a change to the row this one has read.
                    interfering = false
                    try other.run("UPDATE pg_retry SET value = value + 100 WHERE id = 1")
                }
                try db.run("UPDATE pg_retry SET value = ? WHERE id = 1", value + 1)
            }
        }
        db.maxTransactionAttempts = 1
        var interfering = true
        let refused = billingError { try increment(interfering: &interfering) }
        #expect(refused?.status == .busy && refused?.reason == "serialization_failure")
        #expect(try db.first("SELECT value FROM pg_retry") { $0.int(0) } == 100)

        db.maxTransactionAttempts = 8
        interfering = true
        try increment(interfering: &interfering)
        #expect(db.lastTransactionAttempts == 2)
        #expect(try db.first("SELECT value FROM pg_retry") { $0.int(0) } == 201)
    }

    /// Two transactions insert the same key at once, the second without having read it: the
    /// server reports a unique violation (23505), not a serialization failure. The loser runs
    /// again, sees the winner's row and decides from it; a violation of its own persists and
    /// is passed on as `constraint_violation`.
    @Test func concurrentInsertOfOneKeyRunsAgain() throws {
        let db = try postgresTestConnection()
        let other = try postgresTestConnection()
        try db.executeScript("DROP TABLE IF EXISTS pg_unique; CREATE TABLE pg_unique (id bigint PRIMARY KEY, owner text NOT NULL)")
        var attempt = 0
        let owner = try db.transaction(write: true) { () -> String in
            attempt += 1
            if attempt == 1 {
                // The snapshot is taken, the key not read; the other session then commits the
                // same key, and this one inserts it.
                _ = try db.first("SELECT 1") { _ in true }
                try other.run("INSERT INTO pg_unique VALUES (1, 'other')")
                try db.run("INSERT INTO pg_unique VALUES (1, 'this')")
                return "this"
            }
            return try db.first("SELECT owner FROM pg_unique WHERE id = 1") { $0.text(0) } ?? "none"
        }
        #expect(owner == "other")
        #expect(db.lastTransactionAttempts == 2)
        // Its own duplicate is a defect of the body, reported as it is after the reruns.
        let refused = billingError {
            try db.transaction(write: true) { () -> Void in try db.run("INSERT INTO pg_unique VALUES (2, 'a'), (2, 'b')") }
        }
        #expect(refused?.reason == "constraint_violation")
        #expect(try db.first("SELECT count(*) FROM pg_unique") { $0.int(0) } == 1)
    }

    /// Two connections on two threads increment one row, read then write, many times at once:
    /// SERIALIZABLE with retries loses no update.
    @Test func concurrentIncrementsLoseNoUpdate() throws {
        let setup = try postgresTestConnection()
        try setup.executeScript("DROP TABLE IF EXISTS pg_counter; CREATE TABLE pg_counter (id bigint PRIMARY KEY, value bigint NOT NULL); INSERT INTO pg_counter VALUES (1, 0)")
        let rounds = 60
        let workers = 2
        let failures = FailureList()
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            // Each thread its own connection, as each process or host would have.
            let db: PostgresConnection
            do {
                db = try postgresTestConnection()
            } catch {
                return failures.add("\(error)")
            }
            db.maxTransactionAttempts = 1000
            for _ in 0..<rounds {
                do {
                    try db.transaction(write: true) {
                        let value = try db.first("SELECT value FROM pg_counter WHERE id = ?", 1) { $0.int(0) } ?? 0
                        try db.run("UPDATE pg_counter SET value = ? WHERE id = ?", value + 1, 1)
                    }
                } catch {
                    failures.add("\(error)")
                }
            }
        }
        #expect(failures.all.isEmpty)
        #expect(try setup.first("SELECT value FROM pg_counter WHERE id = 1") { $0.int(0) } == Int64(rounds * workers))
    }

    /// A connection the server ends (pg_terminate_backend from another session) fails the
    /// call in flight with `connection_lost` (storage), inside a transaction too, commits
    /// nothing of it, and the next call reconnects by itself.
    @Test func droppedConnectionReconnects() throws {
        let db = try postgresTestConnection()
        let admin = try postgresTestConnection()
        try db.executeScript("DROP TABLE IF EXISTS pg_drop; CREATE TABLE pg_drop (id bigint PRIMARY KEY)")
        func terminate() throws {
            // The second argument waits (up to 10 s) until the backend has really gone.
            let pid = Int64(db.backendPID)
            #expect(try admin.first("SELECT pg_terminate_backend(?::integer, 10000)", pid) { $0.bool(0) } == true)
        }
        let firstPID = db.backendPID
        #expect(try db.first("SELECT ?", 1) { $0.int(0) } == 1)
        try terminate()
        let lost = billingError { _ = try db.first("SELECT ?", 2) { $0.int(0) } }
        #expect(lost?.status == .storage && lost?.reason == "connection_lost")
        #expect(try db.first("SELECT ?", 3) { $0.int(0) } == 3)
        #expect(db.reconnections == 1 && db.backendPID != firstPID)

        // Lost inside a transaction: the error is the lost connection (not a failed
        // rollback), nothing of the transaction is committed, and the next one works.
        let inTransaction = billingError {
            try db.transaction(write: true) {
                try db.run("INSERT INTO pg_drop VALUES (?)", 1)
                try terminate()
                try db.run("INSERT INTO pg_drop VALUES (?)", 2)
            }
        }
        #expect(inTransaction?.status == .storage && inTransaction?.reason == "connection_lost")
        #expect(!db.inTransaction)
        try db.transaction(write: true) { try db.run("INSERT INTO pg_drop VALUES (?)", 3) }
        #expect(try admin.all("SELECT id FROM pg_drop ORDER BY id") { $0.int(0) } == [3])
        #expect(db.reconnections == 2)
    }
}

/// Error texts collected from several threads.
final class FailureList: @unchecked Sendable {
    private let lock = Lock()
    private var texts: [String] = []
    func add(_ text: String) { lock.withLock { texts.append(text) } }
    var all: [String] { lock.withLock { texts } }
}

@Suite("PostgreSQL placeholders: SQLite's ? parameters numbered $n")
struct PostgresPlaceholderTests {
    @Test func numbersParametersOutsideLiteralsAndComments() {
        #expect(PostgresPlaceholders.numbered("SELECT a FROM t WHERE b = ? AND c IN (?, ?)") == "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)")
        #expect(PostgresPlaceholders.numbered("SELECT '?', \"a?\", ? -- what?\n, ? /* ? */, $$?$$, $tag$ ? $tag$, ?")
                == "SELECT '?', \"a?\", $1 -- what?\n, $2 /* ? */, $$?$$, $tag$ ? $tag$, $3")
        #expect(PostgresPlaceholders.numbered("SELECT 'it''s ?', ?") == "SELECT 'it''s ?', $1")
        #expect(PostgresPlaceholders.numbered("SELECT $1, $2") == "SELECT $1, $2")
        #expect(PostgresPlaceholders.numbered("SELECT '普通话', ?") == "SELECT '普通话', $1")
        // Numbered parameters keep their number (RowCoverage binds one key and reads it per column).
        #expect(PostgresPlaceholders.numbered("SELECT * FROM t WHERE a = json_extract(?1, '$[0]') AND b = json_extract(?1, '$[1]')")
                == "SELECT * FROM t WHERE a = json_extract($1, '$[0]') AND b = json_extract($1, '$[1]')")
        #expect(PostgresPlaceholders.numbered("SELECT ?2, ?1, ?12") == "SELECT $2, $1, $12")
    }
}

// MARK: - The storage interface's contract on both backends

/// A backend the conformance suite runs on: SQLite always, PostgreSQL when the throwaway
/// cluster is up (`make test-pg`; without it the suite above reports itself skipped).
enum ConformanceBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    static var available: [ConformanceBackend] { postgresTestURL == nil ? [.sqlite] : [.sqlite, .postgres] }
}

/// A new, empty database of one backend: an SQLite file of its own, or a PostgreSQL schema of
/// its own (the connection's `search_path`) in the test cluster's database. `connect()` opens
/// another connection to the same database (another host, for what others see).
final class ConformanceDatabase {
    let backend: ConformanceBackend
    private let target: String

    init(_ backend: ConformanceBackend) throws {
        self.backend = backend
        let tag = "\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        switch backend {
        case .sqlite:
            target = "/tmp/billing-conformance-\(tag).db"
        case .postgres:
            target = "conformance_\(tag)"
            let admin = try postgresTestConnection()
            try admin.executeScript("CREATE SCHEMA \(target)")
        }
    }

    deinit {
        switch backend {
        case .sqlite:
            for suffix in ["", "-wal", "-shm"] { unlink(target + suffix) }
        case .postgres:
            if let admin = try? postgresTestConnection() { try? admin.executeScript("DROP SCHEMA \(target) CASCADE") }
        }
    }

    func connect() throws -> Connection {
        switch backend {
        case .sqlite:
            return try SQLiteConnection(path: target, create: true, busyTimeoutMilliseconds: 5000)
        case .postgres:
            return try PostgresConnection(conninfo: try postgresKeyValueForm(try #require(postgresTestURL)) + " options=--search_path=\(target)")
        }
    }
}

/// Migrations written in the dialect both backends accept (the library's own are SQLite's
/// until the PostgreSQL translation exists).
let conformanceMigrations = [
    """
    CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, amount bigint NOT NULL DEFAULT 0);
    CREATE INDEX items_by_name ON items (name);
    """,
    "CREATE TABLE tags (kind text NOT NULL, n bigint NOT NULL, label text, PRIMARY KEY (kind, n));",
]

let conformanceTables = [
    RowCoverage.Table(name: "items", key: ["id"]),
    // Not the primary key: a coverage key may name a group of rows, and may hold a NULL.
    RowCoverage.Table(name: "tags", key: ["kind", "n", "label"]),
]

/// A database of `backend` at the conformance migrations' last version, and a connection to it.
func migratedConformanceDatabase(_ backend: ConformanceBackend) throws -> (ConformanceDatabase, Connection) {
    let database = try ConformanceDatabase(backend)
    let db = try database.connect()
    try Migrator.migrate(db, latest: Int64(conformanceMigrations.count), migrations: conformanceMigrations)
    return (database, db)
}

@Suite("Storage interface conformance: SQLite and PostgreSQL (make test-pg runs both)", .serialized)
struct PostgresConformanceTests {
    /// Rows changed, rows stopped early, exact values, column names and kinds.
    @Test(arguments: ConformanceBackend.available)
    func statements(_ backend: ConformanceBackend) throws {
        let (database, db) = try migratedConformanceDatabase(backend)
        _ = database
        #expect(try db.execute("INSERT INTO items (id, name, amount) VALUES (?, ?, ?), (?, ?, ?), (?, ?, ?)",
                               [1, "one", Int64.max, 2, "二 ✓ 'q' ?", Int64.min, 3, "", 0]) == 3)
        #expect(try db.run("UPDATE items SET amount = amount WHERE id >= ?", 2) == 2)
        #expect(try db.run("UPDATE items SET amount = 1 WHERE id = ?", 99) == 0)
        var seen: [Int64] = []
        try db.query("SELECT id FROM items ORDER BY id", []) { seen.append($0.int(0)); return seen.count < 2 }
        #expect(seen == [1, 2])
        let values = try db.all("SELECT id, name, amount FROM items ORDER BY id") { ($0.int(0), $0.text(1), $0.int(2)) }
        #expect(values.map(\.1) == ["one", "二 ✓ 'q' ?", ""])
        #expect(values.map(\.2) == [Int64.max, Int64.min, 0])
        #expect(try db.first("SELECT id FROM items WHERE id = ?", 42) { $0.int(0) } == nil)

        try db.run("INSERT INTO tags (kind, n, label) VALUES (?, ?, ?)", "k", 7, String?.none)
        try db.forEach("SELECT * FROM tags") { row in
            #expect(row.columnCount == 3)
            #expect((0..<3).map { row.columnName($0) } == ["kind", "n", "label"])
            #expect((0..<3).map { row.columnKind($0) } == [.text, .integer, .null])
            #expect(row.optionalText(2) == nil && row.text(2) == "" && row.optionalInt(2) == nil && row.int(2) == 0)
        }
        // An integer sum is exact whatever type the backend gives it.
        #expect(try db.first("SELECT sum(amount) FROM items WHERE id <> ?", 1) { $0.int(0) } == Int64.min)
        #expect(try db.run("DELETE FROM items WHERE id = ?", 3) == 1)
    }

    /// Commit, rollback on a throw, nested refusal, and what another connection sees.
    @Test(arguments: ConformanceBackend.available)
    func transactions(_ backend: ConformanceBackend) throws {
        let (database, db) = try migratedConformanceDatabase(backend)
        let other = try database.connect()
        let count = { try other.first("SELECT count(*) FROM items") { $0.int(0) } ?? -1 }

        let answer = try db.transaction(write: true) { () -> Int in
            try db.run("INSERT INTO items (id, name) VALUES (?, ?)", 1, "kept")
            return 42
        }
        #expect(try answer == 42 && count() == 1)

        let failure = billingError {
            try db.transaction(write: true) {
                try db.run("INSERT INTO items (id, name) VALUES (?, ?)", 2, "gone")
                throw BillingError(.notEligible, "the body refuses")
            }
        }
        #expect(failure?.reason == "not_eligible")
        #expect(try count() == 1)

        // A constraint failure inside the body rolls everything back.
        let constraint = billingError {
            try db.transaction(write: true) {
                try db.run("INSERT INTO items (id, name) VALUES (?, ?)", 3, "gone too")
                try db.run("INSERT INTO items (id, name) VALUES (?, ?)", 1, "duplicate")
            }
        }
        #expect(constraint?.reason == "constraint_violation")
        #expect(try count() == 1)

        let nested = billingError { try db.transaction(write: false) { try db.transaction(write: true) {} } }
        #expect(nested?.reason == "nested_transaction")
        let nestedRehearsal = billingError { try db.transaction(write: true) { _ = try db.rehearsal { 1 } } }
        #expect(nestedRehearsal?.reason == "nested_transaction")

        #expect(try db.transaction(write: false) { try db.first("SELECT name FROM items WHERE id = ?", 1) { $0.text(0) } } == "kept")
        // The connection is usable after every refusal.
        _ = try db.transaction(write: true) { try db.run("INSERT INTO items (id, name) VALUES (?, ?)", 4, "after") }
        #expect(try count() == 2)
    }

    /// A savepoint undoes only its own writes, including after a failed statement (which
    /// aborts a PostgreSQL transaction until rolled back to the savepoint); the transaction goes on.
    @Test(arguments: ConformanceBackend.available)
    func savepoints(_ backend: ConformanceBackend) throws {
        let (database, db) = try migratedConformanceDatabase(backend)
        let other = try database.connect()
        try db.transaction(write: true) {
            try db.run("INSERT INTO items (id, name) VALUES (?, ?)", 1, "before")
            let refused = billingError {
                try db.savepoint {
                    try db.run("INSERT INTO items (id, name) VALUES (?, ?)", 2, "undone")
                    throw BillingError(.notEligible, "the step refuses")
                }
            }
            #expect(refused?.reason == "not_eligible")
            let failed = billingError {
                try db.savepoint {
                    try db.run("INSERT INTO items (id, name) VALUES (?, ?)", 3, "undone")
                    try db.run("INSERT INTO items (id, name) VALUES (?, ?)", 1, "duplicate")
                }
            }
            #expect(failed?.reason == "constraint_violation")
            let kept = try db.savepoint { () -> Int in
                try db.run("INSERT INTO items (id, name) VALUES (?, ?)", 4, "kept")
                return 4
            }
            #expect(kept == 4)
            try db.run("INSERT INTO items (id, name) VALUES (?, ?)", 5, "after")
        }
        #expect(try other.all("SELECT id FROM items ORDER BY id") { $0.int(0) } == [1, 4, 5])
    }

    /// A rehearsal returns its answer and leaves nothing, whether it returns or throws.
    @Test(arguments: ConformanceBackend.available)
    func rehearsals(_ backend: ConformanceBackend) throws {
        let (database, db) = try migratedConformanceDatabase(backend)
        _ = database
        let quote = try db.rehearsal { () -> Int64 in
            try db.run("INSERT INTO items (id, name, amount) VALUES (?, ?, ?)", 1, "quoted", 250)
            return try db.first("SELECT sum(amount) FROM items") { $0.int(0) } ?? 0
        }
        #expect(quote == 250)
        let refused = billingError {
            _ = try db.rehearsal { () -> Int in
                try db.run("INSERT INTO items (id, name) VALUES (?, ?)", 2, "quoted")
                throw BillingError(.notEligible, "no quote")
            }
        }
        #expect(refused?.reason == "not_eligible")
        #expect(try db.first("SELECT count(*) FROM items") { $0.int(0) } == 0)
    }

    /// The stamp of a new database, a migrated one, a newer one and a foreign one; `hasTable`,
    /// `holdsObjects` and `checkSchema`.
    @Test(arguments: ConformanceBackend.available)
    func schemaStamp(_ backend: ConformanceBackend) throws {
        let latest = Int64(conformanceMigrations.count)
        let fresh = try ConformanceDatabase(backend)
        let db = try fresh.connect()
        try db.transaction(write: false) { () throws in
            #expect(try db.schemaStamp() == SchemaStamp(application: 0, version: 0))
            #expect(try !db.holdsObjects())
            #expect(try !db.hasTable("items"))
        }
        try Migrator.migrate(db, latest: latest, migrations: conformanceMigrations)
        try db.transaction(write: false) { () throws in
            #expect(try db.schemaStamp() == SchemaStamp(application: Schema.applicationID, version: latest))
            #expect(try db.holdsObjects())
            #expect(try db.hasTable("items") && db.hasTable("tags") && !db.hasTable("nothing"))
            try db.checkSchema(version: latest, migrations: conformanceMigrations)
        }
        // Opening again migrates nothing and checks the schema.
        try Migrator.migrate(try fresh.connect(), latest: latest, migrations: conformanceMigrations)

        // The version before the last does not have the last migration's table.
        let older = billingError { try db.transaction(write: false) { try db.checkSchema(version: latest - 1, migrations: conformanceMigrations) } }
        #expect(older?.reason == "schema_damaged")

        // An object added outside the library is named.
        try db.executeScript("CREATE INDEX items_by_amount ON items (amount)")
        let damaged = billingError { try Migrator.migrate(try fresh.connect(), latest: latest, migrations: conformanceMigrations) }
        #expect(damaged?.reason == "schema_damaged")
        #expect(damaged?.message.contains("items_by_amount") == true)
        try db.executeScript("DROP INDEX items_by_amount")

        // A newer version is refused untouched.
        try db.transaction(write: true) { try db.setSchemaStamp(SchemaStamp(application: Schema.applicationID, version: latest + 5)) }
        let newer = billingError { try Migrator.migrate(try fresh.connect(), latest: latest, migrations: conformanceMigrations) }
        #expect(newer?.reason == "schema_too_new")
        #expect(try db.transaction(write: false) { try db.schemaStamp().version } == latest + 5)

        // A database with objects and no stamp belongs to someone else: refused, untouched.
        let foreign = try ConformanceDatabase(backend)
        let theirs = try foreign.connect()
        try theirs.executeScript("CREATE TABLE theirs (id bigint PRIMARY KEY)")
        let refused = billingError { try Migrator.migrate(theirs, latest: latest, migrations: conformanceMigrations) }
        #expect(refused?.reason == "not_a_billing_database")
        try theirs.transaction(write: false) { () throws in
            #expect(try theirs.schemaStamp() == SchemaStamp(application: 0, version: 0))
            #expect(try !theirs.hasTable("items") && theirs.hasTable("theirs"))
        }
    }

    /// Touched rows: inserts, updates (old and new key), deletes and upserts, as the same
    /// compact JSON keys in the same order on both backends; rolled-back writes are forgotten;
    /// another connection's writes are not noted.
    @Test(arguments: ConformanceBackend.available)
    func touchedRows(_ backend: ConformanceBackend) throws {
        let (database, db) = try migratedConformanceDatabase(backend)
        #expect(!db.tracksChanges)
        try db.trackChanges(conformanceTables)
        try db.trackChanges(conformanceTables)   // idempotent
        #expect(db.tracksChanges)
        let odd = "a\"b\\c\n\u{01}\té"
        let touched = try db.transaction(write: true) { () -> [(table: String, key: String)] in
            try db.run("INSERT INTO items (id, name) VALUES (?, ?), (?, ?), (?, ?)", 1, "one", 9, "nine", 10, "ten")
            try db.run("UPDATE items SET id = ? WHERE id = ?", 3, 1)
            try db.run("DELETE FROM items WHERE id = ?", 9)
            // An upsert that updates notes the row; one that does nothing notes nothing new.
            try db.run("INSERT INTO items (id, name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name", 10, "TEN")
            try db.run("INSERT INTO items (id, name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name", 11, "eleven")
            try db.run("INSERT INTO items (id, name) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", 10, "ignored")
            try db.run("INSERT INTO tags (kind, n, label) VALUES (?, ?, ?), (?, ?, ?)", odd, -5, String?.none, "k", Int64.max, "l")
            return try db.takeTouchedRows()
        }
        #expect(touched.map { "\($0.table) \($0.key)" } == [
            "items [10]", "items [11]", "items [1]", "items [3]", "items [9]",
            #"tags ["a\"b\\c\n\u0001\té",-5,null]"#, #"tags ["k",9223372036854775807,"l"]"#,
        ])
        #expect(try db.takeTouchedRows().isEmpty)

        // The key text is SQLite's json_array of the same values, byte for byte.
        if backend == .sqlite {
            #expect(try db.first("SELECT \(RowCoverage.keyExpression(conformanceTables[1])) FROM tags WHERE n = -5") { $0.text(0) }
                    == #"["a\"b\\c\n\u0001\té",-5,null]"#)
        }

        // Writes of a transaction that rolled back, or of a savepoint undone, are forgotten.
        _ = billingError {
            try db.transaction(write: true) {
                try db.run("DELETE FROM items")
                throw BillingError(.notEligible, "rolled back")
            }
        }
        let afterSavepoint = try db.transaction(write: true) { () -> [(table: String, key: String)] in
            _ = billingError { try db.savepoint { try db.run("DELETE FROM items"); throw BillingError(.notEligible, "undone") } }
            try db.run("UPDATE tags SET label = ? WHERE kind = ?", "m", "k")
            return try db.takeTouchedRows()
        }
        #expect(afterSavepoint.map { "\($0.table) \($0.key)" } == [#"tags ["k",9223372036854775807,"l"]"#, #"tags ["k",9223372036854775807,"m"]"#])

        // Keys taken inside a savepoint that is undone (an audit row rolled back with it) are
        // given back, with those noted before it.
        let givenBack = try db.transaction(write: true) { () -> [(table: String, key: String)] in
            try db.run("UPDATE items SET name = ? WHERE id = ?", "three", 3)
            _ = billingError {
                try db.savepoint {
                    try db.run("UPDATE items SET name = ? WHERE id = ?", "eleven!", 11)
                    #expect(try db.takeTouchedRows().count == 2)
                    throw BillingError(.notEligible, "undone")
                }
            }
            return try db.takeTouchedRows()
        }
        #expect(givenBack.map { "\($0.table) \($0.key)" } == ["items [3]"])

        // On SQLite a statement that fails is undone alone, and the keys it noted with it (a
        // failed statement ends the whole transaction on PostgreSQL).
        if backend == .sqlite {
            let afterFailure = try db.transaction(write: true) { () -> [(table: String, key: String)] in
                let duplicate = billingError { try db.run("INSERT INTO items (id, name) VALUES (?, ?), (?, ?)", 30, "thirty", 3, "again") }
                #expect(duplicate != nil)
                return try db.takeTouchedRows()
            }
            #expect(afterFailure.isEmpty)
        }

        // Another connection, not tracking, writes as usual and is not noted here.
        let other = try database.connect()
        _ = try other.transaction(write: true) { try other.run("INSERT INTO items (id, name) VALUES (?, ?)", 20, "theirs") }
        #expect(try db.transaction(write: true) { try db.takeTouchedRows() }.isEmpty)
    }

    /// A write transaction that touched tracked rows without taking them (no audit row) is
    /// refused with `unaudited_write` and rolled back; reads and audited writes commit.
    @Test(arguments: ConformanceBackend.available)
    func unauditedWriteRefused(_ backend: ConformanceBackend) throws {
        let (database, db) = try migratedConformanceDatabase(backend)
        let other = try database.connect()
        _ = try db.transaction(write: true) { try db.run("INSERT INTO items (id, name) VALUES (?, ?)", 1, "before tracking") }
        try db.trackChanges(conformanceTables)

        let refused = billingError {
            _ = try db.transaction(write: true) { try db.run("INSERT INTO items (id, name) VALUES (?, ?)", 2, "unaudited") }
        }
        #expect(refused?.reason == "unaudited_write")
        #expect(refused?.status == .internal)
        #expect(try other.all("SELECT id FROM items ORDER BY id") { $0.int(0) } == [1])

        // Taking the touched rows (what the audit row does) lets it commit.
        try db.transaction(write: true) {
            try db.run("INSERT INTO items (id, name) VALUES (?, ?)", 2, "audited")
            #expect(try db.takeTouchedRows().count == 1)
        }
        #expect(try other.all("SELECT id FROM items ORDER BY id") { $0.int(0) } == [1, 2])
        // Reads and a rehearsal's writes (always rolled back) are not refused.
        #expect(try db.transaction(write: false) { try db.first("SELECT count(*) FROM items") { $0.int(0) } } == 2)
        #expect(try db.rehearsal { try db.run("DELETE FROM items") } == 2)
        #expect(try other.first("SELECT count(*) FROM items") { $0.int(0) } == 2)
    }

    /// The "file" members: SQLite copies and checks its file; PostgreSQL refuses a copy
    /// (pg_dump is its backup), has no file, and finds nothing wrong in a healthy schema.
    @Test(arguments: ConformanceBackend.available)
    func fileMembers(_ backend: ConformanceBackend) throws {
        let (database, db) = try migratedConformanceDatabase(backend)
        _ = database
        try db.run("INSERT INTO items (id, name) VALUES (?, ?)", 1, "x")
        let check = try db.checkStorage(full: true)
        #expect(check.messages.isEmpty && check.stoppedOn == nil)
        #expect(db.session.auditKey == nil)
        let copy = "/tmp/billing-conformance-copy-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).db"
        defer { unlink(copy) }
        switch backend {
        case .sqlite:
            try db.writeCopy(to: copy)
            #expect(access(copy, F_OK) == 0)
            #expect(try db.fileGeometry().pageSize > 0)
        case .postgres:
            let refused = billingError { try db.writeCopy(to: copy) }
            #expect(refused?.reason == "backup_needs_pg_dump")
            #expect(refused?.message.contains("pg_dump") == true)
            #expect(access(copy, F_OK) != 0)
            let geometry = try db.fileGeometry()
            #expect(geometry.pageSize == 0 && geometry.file == nil)
        }
    }
}

// MARK: - PostgreSQL's own side of the storage interface

extension PostgresConnectionTests {
    /// A conformance database on the cluster, migrated, and a connection of its own type.
    private func migratedPostgres() throws -> (ConformanceDatabase, PostgresConnection) {
        let database = try ConformanceDatabase(.postgres)
        let db = try #require(try database.connect() as? PostgresConnection)
        try Migrator.migrate(db, latest: Int64(conformanceMigrations.count), migrations: conformanceMigrations)
        return (database, db)
    }

    /// Tracking stays on across a lost connection: the new session gets its TEMP table again,
    /// so an unaudited write is still refused and touched rows are still noted.
    @Test func trackingSurvivesReconnection() throws {
        let (database, db) = try migratedPostgres()
        _ = database
        try db.trackChanges(conformanceTables)
        let admin = try postgresTestConnection()
        #expect(try admin.first("SELECT pg_terminate_backend(?::integer, 10000)", Int64(db.backendPID)) { $0.bool(0) } == true)
        let lost = billingError { _ = try db.first("SELECT 1") { $0.int(0) } }
        #expect(lost?.reason == "connection_lost")

        let refused = billingError {
            _ = try db.transaction(write: true) { try db.run("INSERT INTO items (id, name) VALUES (?, ?)", 1, "unaudited") }
        }
        #expect(refused?.reason == "unaudited_write")
        #expect(db.reconnections == 1)
        let taken = try db.transaction(write: true) { () -> [(table: String, key: String)] in
            try db.run("INSERT INTO items (id, name) VALUES (?, ?)", 1, "audited")
            return try db.takeTouchedRows()
        }
        #expect(taken.map { "\($0.table) \($0.key)" } == ["items [1]"])
    }

    /// The coverage triggers and their functions are the backend's: the schema check leaves
    /// them out, a second tracking connection reuses them (no DDL), and they count as objects.
    @Test func coverageTriggersAreTheBackends() throws {
        let (database, db) = try migratedPostgres()
        try db.trackChanges(conformanceTables)
        let triggers = { try db.all("SELECT tgname::text FROM pg_trigger WHERE tgname LIKE 'billing_cover_%' AND tgrelid::regclass::text IN ('items', 'tags') ORDER BY 1") { $0.text(0) } }
        #expect(try triggers() == ["billing_cover_items", "billing_cover_tags"])
        let second = try #require(try database.connect() as? PostgresConnection)
        try second.trackChanges(conformanceTables)
        #expect(try triggers() == ["billing_cover_items", "billing_cover_tags"])
        try Migrator.migrate(second, latest: Int64(conformanceMigrations.count), migrations: conformanceMigrations)
        // The two tracking sessions note their own writes only.
        let mine = try db.transaction(write: true) { () -> [(table: String, key: String)] in
            try db.run("INSERT INTO items (id, name) VALUES (?, ?)", 1, "mine")
            return try db.takeTouchedRows()
        }
        let theirs = try second.transaction(write: true) { () -> [(table: String, key: String)] in
            try second.run("INSERT INTO items (id, name) VALUES (?, ?)", 2, "theirs")
            return try second.takeTouchedRows()
        }
        #expect(mine.map(\.key) == ["[1]"] && theirs.map(\.key) == ["[2]"])
    }

    /// `lastInsertRowID` is `lastval()`: 0 before any sequence was used on the session,
    /// without aborting the open transaction, then the identity the last INSERT took.
    @Test func lastInsertRowIDReadsTheIdentity() throws {
        let (database, db) = try migratedPostgres()
        _ = database
        try db.executeScript("CREATE TABLE journal (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text NOT NULL)")
        let fresh = try #require(try database.connect() as? PostgresConnection)
        #expect(fresh.lastInsertRowID == 0)
        let ids = try fresh.transaction(write: true) { () -> [Int64] in
            let before = fresh.lastInsertRowID
            try fresh.run("INSERT INTO journal (note) VALUES (?)", "first")
            let first = fresh.lastInsertRowID
            try fresh.run("INSERT INTO journal (note) VALUES (?)", "second")
            return [before, first, fresh.lastInsertRowID]
        }
        #expect(ids == [0, 1, 2])
        #expect(try db.first("SELECT count(*) FROM journal") { $0.int(0) } == 2)
    }

    /// With the amcheck extension installed, `checkStorage` checks every B-tree index of the
    /// schema, also inside a read transaction (each check under a savepoint).
    @Test func checkStorageUsesAmcheck() throws {
        let (database, db) = try migratedPostgres()
        _ = database
        let admin = try postgresTestConnection()
        try admin.executeScript("CREATE EXTENSION IF NOT EXISTS amcheck SCHEMA public")
        #expect(try db.first("SELECT count(*) FROM pg_extension WHERE extname = 'amcheck'") { $0.int(0) } == 1)
        try db.run("INSERT INTO items (id, name) VALUES (?, ?), (?, ?)", 1, "a", 2, "b")
        let quick = try db.checkStorage(full: false)
        #expect(quick.messages.isEmpty && quick.stoppedOn == nil)
        let full = try db.transaction(write: false) { try db.checkStorage(full: true) }
        #expect(full.messages.isEmpty && full.stoppedOn == nil)
    }
}
