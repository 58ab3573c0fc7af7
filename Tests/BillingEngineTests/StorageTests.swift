import FoundationEssentials
import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

@Suite("Storage and migrations")
struct StorageTests {
    /// Identifiers are written byte by byte: the text is what the concatenation of the prefix,
    /// zeros to 12 characters and `String(number)` gave.
    @Test func identifiersAreTheConcatenatedText() {
        for prefix in ["CS", "RS", "CPN", "EX", "", "中"] {
            for number: Int64 in [0, 1, 9, 10, 42, 999_999_999_999, 1_000_000_000_000, 123_456_789_012_345, .max, -1, -42, .min] {
                let digits = String(number)
                let expected = prefix + String(repeating: "0", count: max(0, 12 - digits.count)) + digits
                #expect(IdentifierSequence.format(prefix, number) == expected)
            }
        }
    }

    func rawSQL(_ path: String, _ sql: String) throws {
        let connection = try SQLiteConnection(path: path, create: true, busyTimeoutMilliseconds: 1000)
        try connection.executeScript(sql)
    }

    /// A statement whose binding failed part way (a value past its last parameter) is cleared
    /// before the error leaves: its next use binds only what it is given, the texts bound
    /// before the failure (their bytes gone with it) are not kept as its parameters.
    @Test func aFailedBindingLeavesTheStatementClear() throws {
        let db = try SQLiteConnection(path: ":memory:", create: true, busyTimeoutMilliseconds: 1000)
        try db.executeScript("CREATE TABLE pairs (a TEXT, b TEXT)")
        let sql = "INSERT INTO pairs (a, b) VALUES (?, ?)"
        let longer = ["first text that is long enough to be stored outside the string", "second text, also stored outside it", "third"]
        #expect(throws: BillingError.self) {
            _ = try longer.map { DatabaseValue.text($0) }.withUnsafeBufferPointer { try db.execute(sql, values: $0) }
        }
        let one = [DatabaseValue.text("alone")]
        _ = try one.withUnsafeBufferPointer { try db.execute(sql, values: $0) }
        let rows = try db.all("SELECT a, b FROM pairs") { ($0.optionalText(0), $0.optionalText(1)) }
        #expect(rows.count == 1)
        #expect(rows.first?.0 == "alone")
        #expect(rows.first?.1 == nil)
    }

    @Test func freshFileGetsTheLatestSchema() throws {
        let path = temporaryDatabasePath()
        let engine = try manualEngine(path: path)
        let version = try engine.lock.withLock { try Migrator.version(engine.db) }
        #expect(version == Schema.latestVersion)
        let mode = try engine.lock.withLock { try engine.db.first("PRAGMA journal_mode") { $0.text(0) } }
        #expect(mode == "wal")
        let foreignKeys = try engine.lock.withLock { try engine.db.first("PRAGMA foreign_keys") { $0.int(0) } }
        #expect(foreignKeys == 1)
        // Reopening a current file migrates nothing and keeps the data.
        _ = try engine.updateConfiguration(#"{"actor":"t","changes":{"five_day_quota_per_year":3}}"#)
        let reopened = try manualEngine(path: path)
        #expect(try reopened.configuration().fiveDayQuotaPerYear == 3)
    }

    @Test func migratesAnOlderFileForward() throws {
        let path = temporaryDatabasePath()
        let db = try SQLiteConnection(path: path, create: true, busyTimeoutMilliseconds: 1000)
        // A file made by the first release moves to the current schema plus a future step.
        try Migrator.migrate(db, latest: 1, migrations: Array(Schema.migrations.prefix(1)))
        #expect(try Migrator.version(db) == 1)
        let migrations = Schema.migrations + ["CREATE TABLE later (id INTEGER PRIMARY KEY) STRICT;"]
        try Migrator.migrate(db, latest: Int64(migrations.count), migrations: migrations)
        #expect(try Migrator.version(db) == Int64(migrations.count))
        #expect(try db.first("SELECT count(*) FROM later") { $0.int(0) } == 0)
    }

    @Test func theLoginThrottleMigrationKeepsPlatformAccountsAndOldSettings() throws {
        let path = temporaryDatabasePath()
        let db = try SQLiteConnection(path: path, create: true, busyTimeoutMilliseconds: 1000)
        // A file from just before the throttle: a platform account with a running lock, and
        // a stored configuration with the lock's keys.
        let before = try #require(Schema.migrations.firstIndex { $0.contains("CREATE TABLE login_throttles") })
        try Migrator.migrate(db, latest: Int64(before), migrations: Array(Schema.migrations.prefix(before)))
        var fields = try #require(Configuration().json.objectValue)
        for key in fields.keys where key.hasPrefix("login_") { fields[key] = nil }
        fields["login_max_failures"] = 3
        fields["login_lockout_seconds"] = 600
        let document = JSONValue.object(fields)
        try db.executeScript("""
            INSERT INTO accounts (id, type, realname_verified, restricted, freeze, level, created_at, updated_at)
                VALUES ('hw-1', 'ENTERPRISE', 1, 0, 'NONE', 'V3', 0, 0);
            INSERT INTO platform_accounts (id, seq, account_id, status, user_name, email, phone, failed_logins, locked_until, submitted_at)
                VALUES ('PA1', 1, 'hw-1', 'ACTIVE', 'alice', 'alice@example.com', '+8613800138000', 4, \(january1st2024 + 900), 0);
            """)
        try db.run("INSERT INTO config (id, document, revision) VALUES (1, ?, 1)", document.text)
        let engine = try manualEngine(path: path)
        #expect(try engine.lock.withLock { try Migrator.version(engine.db) } == Schema.latestVersion)
        let configuration = try engine.configuration()
        #expect(configuration.loginThrottleAfterFailures == 3 && configuration.loginThrottleMaxSeconds == 600)
        let platform = try object(engine.getPlatformAccount(#"{"platform_account_id":"PA1"}"#))
        #expect(text(platform, "platform_account", "user_name") == "alice")
        #expect(try engine.lock.withLock { try engine.db.first("SELECT count(*) FROM login_throttles") { $0.int(0) } } == 0)
    }

    @Test func refusesAFileFromANewerLibraryUntouched() throws {
        let path = temporaryDatabasePath()
        _ = try manualEngine(path: path)
        try rawSQL(path, "PRAGMA journal_mode = DELETE; PRAGMA user_version = 999;")
        let before = try bytes(path)
        let error = expectBillingError { try manualEngine(path: path) }
        #expect(error?.status == .schema)
        #expect(error?.reason == "schema_too_new")
        #expect(try bytes(path) == before)
    }

    @Test func refusesForeignFiles() throws {
        let foreign = temporaryDatabasePath()
        try rawSQL(foreign, "PRAGMA journal_mode = DELETE; CREATE TABLE customers (id INTEGER);")
        let before = try bytes(foreign)
        #expect(expectBillingError { try manualEngine(path: foreign) }?.reason == "not_a_billing_database")
        #expect(try bytes(foreign) == before)

        let otherApplication = temporaryDatabasePath()
        try rawSQL(otherApplication, "PRAGMA journal_mode = DELETE; PRAGMA application_id = 42;")
        #expect(expectBillingError { try manualEngine(path: otherApplication) }?.status == .schema)

        let garbage = temporaryDatabasePath()
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: garbage))
        let error = expectBillingError { try manualEngine(path: garbage) }
        #expect(error?.status == .schema)
        #expect(try bytes(garbage) == Array(repeating: 0x41, count: 4096))
    }

    @Test func refusesMissingFilesWhenCreationIsOff() throws {
        var options = EngineOptions()
        options.create = false
        let error = expectBillingError { try Engine(path: temporaryDatabasePath(), options: options) }
        #expect(error?.status == .storage)
        #expect(expectBillingError { try Engine(path: "", options: EngineOptions()) }?.status == .invalidArgument)
    }

    @Test func transactionsRollBackOnError() throws {
        let engine = try manualEngine()
        let before = try eventCount(engine)
        let error = expectBillingError {
            try engine.lock.withLock {
                try engine.db.transaction(write: true) {
                    try EventLog.append(engine.db, type: "t", account: nil, subject: nil, at: 0, data: [:])
                    throw BillingError.refused(.illegalTransition, "stop")
                }
            }
        }
        #expect(error?.reason == "illegal_transition")
        #expect(try eventCount(engine) == before)
    }

    @Test func statementsAreCachedAndReused() throws {
        let engine = try manualEngine()
        try engine.lock.withLock {
            for value in 0..<100 {
                _ = try engine.db.first("SELECT ? + 1", Int64(value)) { $0.int(0) }
            }
            #expect(try engine.db.first("SELECT ? + 1", Int64(41)) { $0.int(0) } == 42)
        }
    }

    @Test func twoHandlesWriteToOneFileWithoutLoss() throws {
        let path = temporaryDatabasePath()
        let first = try manualEngine(path: path)
        let second = try manualEngine(path: path)
        for index in 0..<50 {
            let engine = index % 2 == 0 ? first : second
            _ = try engine.updateConfiguration(#"{"actor":"t","idempotency_key":"k\#(index)","changes":{"five_day_quota_per_year":\#(index)}}"#)
        }
        #expect(try eventCount(first) == 50)
        #expect(try second.configuration().fiveDayQuotaPerYear == 49)
        #expect(try first.configuration().fiveDayQuotaPerYear == 49)
    }
}
