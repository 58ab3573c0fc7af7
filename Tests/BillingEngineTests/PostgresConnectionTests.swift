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
