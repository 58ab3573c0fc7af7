import Dispatch
import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

#if canImport(Glibc)
import Glibc
#endif

/// A schema of its own in the throwaway cluster's database, for one engine: the connection
/// string names it with `options=-csearch_path=…`, and the engine creates it when it opens
/// (`create`, the default). Dropped when the value goes.
final class PostgresTestSchema {
    let name: String
    let url: String

    init() throws {
        name = "engine_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        url = urlWithSearchPath(try #require(postgresTestURL), schema: name)
    }

    deinit {
        if let admin = try? postgresTestConnection() { try? admin.executeScript("DROP SCHEMA IF EXISTS \(name) CASCADE") }
    }

    /// A plain connection to the schema (another client: psql, a tamperer).
    func connect() throws -> PostgresConnection {
        try PostgresConnection(conninfo: url)
    }
}

/// The PostgreSQL schema history keeps pace with SQLite's: same latest version (every `swift
/// test`, no cluster needed).
@Suite("PostgreSQL schema history")
struct PostgresSchemaHistoryTests {
    @Test func postgresReachesSQLitesLatestVersion() {
        #expect(PostgresSchema.latestVersion == Schema.latestVersion,
                "SQLite's migration \(PostgresSchema.latestVersion + 1)… needs its PostgreSQL twin in PostgresSchema.later")
        #expect(SchemaHistory.library(.postgres).latest == Schema.latestVersion)
        #expect(SchemaHistory.library(.sqlite).latest == Schema.latestVersion)
    }

    @Test func pathsChooseTheBackend() {
        #expect(Database.namesServer("postgresql:///billing?host=/tmp"))
        #expect(Database.namesServer("postgres://u@h/db"))
        #expect(Database.namesServer("host=/tmp dbname=billing"))
        #expect(!Database.namesServer("billing.sqlite"))
        #expect(!Database.namesServer(":memory:"))
        #expect(!Database.namesServer("postgres.db"))
    }
}

@Suite("Engine on PostgreSQL against the throwaway cluster (make test-pg)", .serialized,
       .enabled(if: postgresTestURL != nil,
                "BILLING_TEST_POSTGRES_URL is not set: `make test-pg` starts a throwaway PostgreSQL cluster and sets it"))
struct PostgresEngineTests {
    /// The same tables, columns (in order) and indexes as SQLite's latest schema.
    @Test func postgresSchemaHasSQLitesTablesColumnsAndIndexes() throws {
        let sqlite = try SQLiteConnection(path: ":memory:", create: true, busyTimeoutMilliseconds: 1000)
        try Migrator.migrate(sqlite)
        let sqliteColumns = try sqlite.all("""
            SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p
            WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY m.name, p.cid
            """) { "\($0.text(0)).\($0.text(1))" }
        let sqliteIndexes = try sqlite.all("""
            SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name
            """) { $0.text(0) }

        let schema = try PostgresTestSchema()
        let engine = try Engine(path: schema.url, options: EngineOptions())
        _ = engine
        let db = try schema.connect()
        let postgresColumns = try db.all("""
            SELECT table_name::text, column_name::text FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name <> 'billing_schema' ORDER BY table_name, ordinal_position
            """) { "\($0.text(0)).\($0.text(1))" }
        let postgresIndexes = try db.all("""
            SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() AND indexname NOT LIKE '%\\_pkey'
                AND indexname NOT LIKE '%\\_key' ORDER BY indexname
            """) { $0.text(0) }
        // Sorted by table then column position on both sides: the same list means the same
        // tables with the same columns in the same order (row digests hash them in that order).
        #expect(postgresColumns.sorted() == sqliteColumns.sorted())
        #expect(Dictionary(grouping: postgresColumns) { $0.split(separator: ".")[0] }.mapValues { $0 }
                == Dictionary(grouping: sqliteColumns) { $0.split(separator: ".")[0] }.mapValues { $0 })
        #expect(postgresIndexes == sqliteIndexes)
        #expect(try db.first("SELECT version FROM billing_schema") { $0.int(0) } == Schema.latestVersion)
        // The schema check passes on what the migration made (it ran at open), and again.
        try db.transaction(write: false) { try db.checkSchema(version: Schema.latestVersion, migrations: PostgresSchema.migrations) }
    }

    /// A representative day on PostgreSQL: account, top-up, catalog, an order created and paid,
    /// provisioned, renewed, unsubscribed with a refund, usage rated, events listed, the audit
    /// head read, and verify clean; then a write from outside the library is reported, the
    /// database reopens, and a newer or foreign schema is refused untouched.
    @Test func anEngineRunsAndVerifiesOnPostgres() throws {
        let schema = try PostgresTestSchema()
        let shop = try Shop(path: schema.url)
        let engine = shop.engine
        #expect(try shop.cash() == 1_000_000)

        let disk = try shop.own("evs.100")
        #expect(text(try shop.resource(disk), "status") == "IN_USE")
        let box = try shop.own("evs.sys40")

        // Renewal: an order for another month, paid.
        let renewal = try shop.renew([disk])
        let renewalOrder = text(renewal, "order", "order_id")
        // A second order on the same resource is refused (an insert that does nothing, not a
        // failed statement: that would abort the PostgreSQL transaction).
        #expect(expectBillingError { try shop.renew([disk]) }?.reason == "pending_order_exists")
        _ = try shop.pay(renewalOrder)
        #expect(try shop.status(renewalOrder) == "COMPLETED")

        // Unsubscribing the other one refunds it.
        let before = try shop.cash()
        let unsubscribed = try object(engine.unsubscribe(#"{"actor":"c","account_id":"acme","resource_ids":["\#(box)"]}"#))
        #expect(unsubscribed["order"] != nil, "unsubscribe: \(unsubscribed)")
        #expect(try shop.cash() > before, "the unsubscription refunded cash")

        // Usage on a pay-per-use resource, rated and charged; a retried report counts once.
        let eip = try shop.onDemand("bw.ondemand")
        try engine.advanceClock(by: 7200)
        let now = engine.now
        let usage = try shop.usage([("u1", eip, 1, now - 7000, now - 3600)])
        #expect(integer(usage, "charged_fen") > 0)
        #expect(integer(try shop.usage([("u1", eip, 1, now - 7000, now - 3600)]), "charged_fen") == 0)

        // Idempotency keys: the same key answers the first response.
        let first = try engine.topUp(#"{"actor":"pay","account_id":"acme","amount_fen":500,"external_reference":"t2","idempotency_key":"k1"}"#)
        let again = try engine.topUp(#"{"actor":"pay","account_id":"acme","amount_fen":500,"external_reference":"t2","idempotency_key":"k1"}"#)
        #expect(first == again)

        // Exports: a server database has no file to put them beside; with a directory they run.
        #expect(expectBillingError { try shop.export(#""kind":"ORDERS""#) }?.reason == "export_directory_required")
        let directory = temporaryDatabasePath("exports")
        _ = try engine.updateConfiguration(#"{"actor":"o","changes":{"export_directory":"\#(directory)"}}"#)
        let export = text(try shop.export(#""kind":"ORDERS""#), "export", "export_id")
        #expect(text(try shop.runExportToEnd(export), "export", "status") == "READY")
        #expect(try shop.csv(export).contains(renewalOrder))

        // Events and the audit head.
        let page = try object(engine.listEvents(#"{"account_id":"acme","limit":1000}"#))
        let events = try objects(page["events"])
        #expect(events.count > 5)
        let seqs = events.compactMap { $0["seq"]?.integerValue }
        #expect(seqs == seqs.sorted())
        let head = try object(engine.auditHead(nil))
        // The head is the last seal (audit chains per scope): the first read of it seals once.
        #expect((head["position"]?.integerValue ?? 0) >= 1, "head: \(head)")
        #expect(head["digest"]?.stringValue?.count == 64, "head: \(head)")

        // Verify: clean.
        let report = try object(engine.verify(nil))
        #expect(report["ok"] == true, "verify: \(report)")

        // A write from outside the library (a plain connection, no tracking): reported.
        let tamperer = try schema.connect()
        try tamperer.run("UPDATE accounts SET cash_balance = cash_balance + 100 WHERE id = 'acme'")
        try tamperer.run("DELETE FROM five_day_units")
        let tampered = try object(engine.verify(nil))
        #expect(tampered["ok"] == false)
        let breaches = try objects(tampered["breaches"])
        #expect(breaches.contains { $0["subject"]?.stringValue?.contains("acme") == true }, "breaches: \(breaches)")

        // Reopened: the schema is checked and accepted; the tampering is still reported.
        let reopened = try Engine(path: schema.url, options: EngineOptions())
        #expect(try object(reopened.verify(nil))["ok"] == false)
        #expect(try object(reopened.getAccount(#"{"account_id":"acme"}"#))["account"] != nil)

        // A newer schema is refused, and left as it was.
        try tamperer.run("UPDATE billing_schema SET version = version + 1")
        #expect(expectBillingError { try Engine(path: schema.url, options: EngineOptions()) }?.reason == "schema_too_new")
        #expect(try tamperer.first("SELECT version FROM billing_schema") { $0.int(0) } == Schema.latestVersion + 1)

        // A schema missing one of its objects (an identifier sequence) is refused, naming it.
        try tamperer.run("UPDATE billing_schema SET version = version - 1")
        try tamperer.executeScript("DROP SEQUENCE billing_ids_export")
        let damaged = expectBillingError { try Engine(path: schema.url, options: EngineOptions()) }
        #expect(damaged?.reason == "schema_damaged")
        #expect(damaged?.message.contains("billing_ids_export") == true, "\(String(describing: damaged))")
    }

    /// A schema holding someone else's tables is refused untouched; a missing schema is
    /// created with `create` and refused without it.
    @Test func foreignAndMissingSchemas() throws {
        let foreign = try PostgresTestSchema()
        let admin = try postgresTestConnection()
        try admin.executeScript("CREATE SCHEMA \(foreign.name); CREATE TABLE \(foreign.name).theirs (id bigint)")
        #expect(expectBillingError { try Engine(path: foreign.url, options: EngineOptions()) }?.reason == "not_a_billing_database")
        #expect(try admin.first("SELECT count(*) FROM pg_class WHERE relnamespace = ?::regnamespace", foreign.name) { $0.int(0) } == 1)

        let missing = try PostgresTestSchema()
        var options = EngineOptions()
        options.create = false
        #expect(expectBillingError { try Engine(path: missing.url, options: options) }?.reason == "cannot_open")
        _ = try Engine(path: missing.url, options: EngineOptions())
        #expect(try admin.first("SELECT count(*) FROM pg_namespace WHERE nspname = ?", missing.name) { $0.int(0) } == 1)
        // Opened again by another handle: already migrated, nothing to do.
        _ = try Engine(path: missing.url, options: options)
    }

    /// Two handles (two connections, as two hosts would have) pay the same orders from four
    /// threads at once: SERIALIZABLE lets one payment of each order commit, the others are
    /// refused (or, after the retries, busy), never a second debit; one idempotency key used
    /// from both handles at once tops up once and answers both calls alike.
    @Test func concurrentHandlesPayEachOrderOnce() throws {
        let schema = try PostgresTestSchema()
        let shop = try Shop(path: schema.url)
        var options = EngineOptions()
        options.clock = .manual(shop.engine.now)
        let engines = [shop.engine, try Engine(path: schema.url, options: options)]
        let orders = try (0..<6).map { _ in text(try shop.create(Shop.oneEVS), "order", "order_id") }
        let before = try shop.cash()
        let paid = FailureList()
        let unexpected = FailureList()
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for order in orders {
                do {
                    _ = try engines[worker % 2].payOrder(#"{"actor":"w\#(worker)","account_id":"acme","order_id":"\#(order)"}"#)
                    paid.add(order)
                } catch let error as BillingError where error.status == .refused || error.status == .conflict || error.status == .busy {
                    // Already paid by another worker, or still colliding after the retries.
                } catch {
                    unexpected.add("\(error)")
                }
            }
        }
        #expect(unexpected.all.isEmpty, "\(unexpected.all)")
        #expect(Set(paid.all).count == paid.all.count, "an order was paid twice: \(paid.all.sorted())")
        for order in orders where try shop.status(order) == "PENDING_PAYMENT" {
            _ = try shop.pay(order)
        }
        #expect(try shop.cash() == before - 6 * 10_000)

        let answers = FailureList()
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            do {
                answers.add(try engines[worker % 2].topUp(#"{"actor":"pay","account_id":"acme","amount_fen":700,"external_reference":"same","idempotency_key":"one-key"}"#))
            } catch {
                unexpected.add("\(error)")
            }
        }
        #expect(unexpected.all.isEmpty, "\(unexpected.all)")
        #expect(Set(answers.all).count == 1, "\(answers.all)")
        #expect(try shop.cash() == before - 6 * 10_000 + 700)
        #expect(try object(shop.engine.verify(nil))["ok"] == true)
    }

    /// Two handles opening one new schema at once migrate it once (the migration lock).
    @Test func twoOpenersMigrateOnce() throws {
        let schema = try PostgresTestSchema()
        let failures = FailureList()
        let url = schema.url
        DispatchQueue.concurrentPerform(iterations: 3) { _ in
            do { _ = try Engine(path: url, options: EngineOptions()) } catch { failures.add("\(error)") }
        }
        #expect(failures.all.isEmpty, "\(failures.all)")
    }
}
