import Dispatch
import FoundationEssentials
import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

#if canImport(Glibc)
import Glibc
#endif

/// Long reads, scheduler claims, query plans and copies on PostgreSQL (docs/postgresql.md,
/// "What remains" item 10): against the throwaway cluster (`make test-pg`).
@Suite("PostgreSQL reads, claims, plans and copies (make test-pg)", .serialized,
       .enabled(if: postgresTestURL != nil,
                "BILLING_TEST_POSTGRES_URL is not set: `make test-pg` starts a throwaway PostgreSQL cluster and sets it"))
struct PostgresReadsTests {
    /// A schema of plain tables (no engine), reached by several connections.
    private func plainSchema() throws -> PostgresTestSchema {
        let schema = try PostgresTestSchema()
        try postgresTestConnection().executeScript("CREATE SCHEMA \(schema.name)")
        return schema
    }

    /// Waits (a bounded poll, never a timing assertion) until `condition` holds.
    private func eventually(_ what: String, _ condition: () throws -> Bool) throws {
        for _ in 0..<3000 {
            if try condition() { return }
            usleep(10_000)
        }
        Issue.record("never happened: \(what)")
    }

    // MARK: Long reads

    /// A `readOnlySnapshot` reads one snapshot: a writer committing in the middle of it is not
    /// seen, and neither is failed (each committed at its first attempt).
    @Test func aLongReadSeesOneSnapshotAndFailsNoWriter() throws {
        let schema = try plainSchema()
        let reader = try schema.connect(), writer = try schema.connect()
        try reader.executeScript("CREATE TABLE t (id bigint PRIMARY KEY, v bigint NOT NULL); INSERT INTO t VALUES (1, 100), (2, 100);")
        func sum(_ db: Connection) throws -> Int64 { try db.first("SELECT CAST(SUM(v) AS bigint) FROM t") { $0.int(0) } ?? -1 }
        for (deferrable, before) in [(true, Int64(200)), (false, 250)] {
            let seen = try reader.readOnlySnapshot(deferrable: deferrable) { () -> [Int64] in
                let first = try sum(reader)
                // Another client reads what the reader reads and writes it: a plain SERIALIZABLE
                // reader would hold predicate locks on those rows; this one holds none.
                try writer.transaction(write: true) {
                    _ = try sum(writer)
                    try writer.run("UPDATE t SET v = v + 50 WHERE id = 1")
                }
                #expect(writer.lastTransactionAttempts == 1)
                return [first, try sum(reader)]
            }
            #expect(seen == [before, before], "deferrable: \(deferrable)")
            #expect(reader.lastTransactionAttempts == 1)
        }
        #expect(try reader.readOnlySnapshot(deferrable: true) { try sum(reader) } == 300)
    }

    /// The read-only anomaly: T2 reads x and y and will write x; T1 writes y and commits; a
    /// report that read x and y now (T1's y without T2's x) and then saw T2 commit would
    /// witness a state no serial order gives — PostgreSQL would fail T2 or the report. The
    /// deferrable report instead waits for a safe snapshot (seen waiting on `SafeSnapshot` in
    /// pg_stat_activity) until T2 ends, then reads the state after both: nobody fails.
    @Test func aLongReadWaitsForASafeSnapshotInsteadOfFailingAWriter() throws {
        let schema = try plainSchema()
        let t2 = Shared(try schema.connect()), report = Shared(try schema.connect())
        let t1 = try schema.connect(), observer = try schema.connect()
        try t1.executeScript("CREATE TABLE account (id text PRIMARY KEY, balance bigint NOT NULL); INSERT INTO account VALUES ('x', 0), ('y', 0);")
        let t2Read = DispatchSemaphore(value: 0), t2Go = DispatchSemaphore(value: 0), t2Done = DispatchSemaphore(value: 0), reportDone = DispatchSemaphore(value: 0)
        let failures = FailureList()
        DispatchQueue.global().async {
            let db = t2.value
            do {
                try db.transaction(write: true) {
                    let total = try Self.balance(db, "x") + Self.balance(db, "y")
                    t2Read.signal()
                    guard t2Go.wait(timeout: .now() + 60) == .success else { throw BillingError(.databaseBusy, "never told to go on") }
                    // A withdrawal with an overdraft fee when the total is negative.
                    try db.run("UPDATE account SET balance = balance - ? WHERE id = 'x'", total < 0 ? 11 : 10)
                }
            } catch { failures.add("T2: \(error)") }
            t2Done.signal()
        }
        #expect(t2Read.wait(timeout: .now() + 60) == .success)
        try t1.transaction(write: true) { try t1.run("UPDATE account SET balance = balance + 20 WHERE id = 'y'") }
        let reportPID = try report.value.first("SELECT pg_backend_pid()") { $0.int(0) } ?? 0
        let seen = FailureList()
        DispatchQueue.global().async {
            let db = report.value
            do {
                let (x, y) = try db.readOnlySnapshot(deferrable: true) { (try Self.balance(db, "x"), try Self.balance(db, "y")) }
                seen.add("\(x),\(y)")
            } catch { failures.add("report: \(error)") }
            reportDone.signal()
        }
        try eventually("the report waits for a safe snapshot") {
            try observer.first("SELECT wait_event FROM pg_stat_activity WHERE pid = ?", reportPID) { $0.optionalText(0) } == "SafeSnapshot"
        }
        t2Go.signal()
        #expect(t2Done.wait(timeout: .now() + 60) == .success)
        #expect(reportDone.wait(timeout: .now() + 60) == .success)
        #expect(failures.all.isEmpty, "\(failures.all)")
        #expect(t2.value.lastTransactionAttempts == 1 && t1.lastTransactionAttempts == 1 && report.value.lastTransactionAttempts == 1)
        // After T1 then T2: y +20, x −10 (the total T2 read was 0).
        #expect(seen.all == ["-10,20"])
    }

    /// A long read that cannot get a safe snapshot within the busy timeout (a serializable
    /// writer left open) fails busy instead of waiting for ever; the next one, after the
    /// writer ended, reads.
    @Test func aLongReadGivesUpAfterTheBusyTimeout() throws {
        let schema = try plainSchema()
        let writer = try schema.connect()
        let reader = try PostgresConnection(conninfo: schema.url, lockTimeoutMilliseconds: 200)
        try writer.executeScript("CREATE TABLE t (id bigint PRIMARY KEY)")
        try writer.transaction(write: true) {
            try writer.run("INSERT INTO t VALUES (1)")
            let error = expectBillingError { try reader.readOnlySnapshot(deferrable: true) { try reader.first("SELECT count(*) FROM t") { $0.int(0) } as Any } }
            #expect(error?.status == .busy && error?.reason == "database_busy", "\(String(describing: error))")
        }
        // The reads after the writer ended wait for the serializable writers running then in the
        // whole cluster — other suites' too, when `swift test --filter Postgres` runs them at
        // the same time — so one may still spend the 200 ms: it is tried again (bounded), as a
        // host would after `database_busy`. The first read above held no such doubt: its writer
        // was open.
        func settled<T>(_ read: () throws -> T) throws -> T {
            for _ in 0..<50 {
                do { return try read() } catch let error as BillingError where error.reason == "database_busy" { continue }
            }
            return try read()
        }
        #expect(try settled { try reader.readOnlySnapshot(deferrable: true) { try reader.first("SELECT count(*) FROM t") { $0.int(0) } } } == 1)
        #expect(try reader.first("SHOW statement_timeout") { $0.text(0) } == "0")
        // A host's own statement timeout holds for the read itself, and after it.
        try reader.run("SET statement_timeout = '7s'")
        #expect(try settled { try reader.readOnlySnapshot(deferrable: true) { try reader.first("SHOW statement_timeout") { $0.text(0) } } } == "7s")
        #expect(try reader.first("SHOW statement_timeout") { $0.text(0) } == "7s")
    }

    private static func balance(_ db: Connection, _ id: String) throws -> Int64 {
        try db.first("SELECT balance FROM account WHERE id = ?", id) { $0.int(0) } ?? -1
    }

    /// `ExportTests.aConfigurationChangedAfterTheReadAheadIsNotWritten` on PostgreSQL: the
    /// read-ahead's `REPEATABLE READ` snapshot ends before another handle commits a new
    /// business time zone; the step's write transaction sees the revision moved and writes the
    /// rows in the new zone.
    @Test func aConfigurationChangedAfterTheReadAheadIsNotWritten() throws {
        let schema = try PostgresTestSchema()
        try withExtendedLifetime(schema) { try checkStaleReadAheadIsNotWritten(path: schema.url) }
    }

    // MARK: Scheduler claims

    /// Pending orders of several accounts, all past their payment deadline by `at`.
    private func overdueOrders(_ shop: Shop, count: Int) throws -> [String] {
        let accounts = (0..<8).map { "acct\($0)" }
        for account in accounts { _ = try putAccount(shop.engine, account) }
        let orders = try (0..<count).map { index in
            text(try object(shop.engine.createOrder(#"{"actor":"buyer","account_id":"\#(accounts[index % accounts.count])","items":\#(Shop.oneEVS)}"#)),
                 "order", "order_id")
        }
        try shop.engine.advanceClock(by: 30 * 86_400)
        return orders
    }

    /// How many `order.cancelled` events each order has.
    private func cancellations(_ db: Connection) throws -> [String: Int64] {
        var counts: [String: Int64] = [:]
        try db.forEach("SELECT subject_id, count(*) FROM events WHERE type = 'order.cancelled' GROUP BY subject_id") {
            counts[$0.text(0)] = $0.int(1)
        }
        return counts
    }

    /// A runner skips the due rows another runner holds (here a plain connection holding
    /// them `FOR UPDATE`, as a runner in the middle of its batch does) and does the others at
    /// once, without waiting; the held ones are done by the next run, each once.
    @Test func aRunnerSkipsTheRowsAnotherHolds() throws {
        let schema = try PostgresTestSchema()
        let shop = try Shop(path: schema.url)
        let orders = try overdueOrders(shop, count: 12)
        let holder = try schema.connect()
        // READ COMMITTED, as a plain client holds rows.
        let held = try holder.bookkeeping { () -> [String] in
            let held = try holder.all("SELECT id FROM orders WHERE id IN (?, ?, ?) FOR UPDATE", orders[0], orders[5], orders[11]) { $0.text(0) }
            // The busy timeout would fail a runner that waited on them: it does not wait.
            let run = try object(shop.engine.runScheduler(#"{"actor":"runner-a"}"#))
            #expect(run["cancelled_orders"] == 9)
            return held
        }
        #expect(held.count == 3)
        let db = try schema.connect()
        for order in held { #expect(try cancellations(db)[order] == nil) }
        let rest = try object(shop.engine.runScheduler(#"{"actor":"runner-b"}"#))
        #expect(rest["cancelled_orders"] == 3)
        let counts = try cancellations(db)
        #expect(Set(counts.keys) == Set(orders) && counts.values.allSatisfy { $0 == 1 }, "\(counts)")
        #expect(try object(shop.engine.verify(nil))["ok"] == true)
    }

    /// The login-throttle purge says `has_more` only while forgotten rows it could take remain:
    /// one another transaction holds (here a plain connection, `FOR UPDATE`) is skipped and not
    /// counted, as the other jobs' held rows are — a host calling again while `has_more` would
    /// otherwise spin until that transaction ends. The next run after it purges the row.
    @Test func aHeldThrottleRowIsNotMoreWork() throws {
        let schema = try PostgresTestSchema()
        let shop = try Shop(path: schema.url)
        let holder = try schema.connect()
        // Rows of long-ended waits, as failed logins leave them (written outside the engine).
        try holder.executeScript("INSERT INTO login_throttles (key, failures, retry_after) VALUES ('a', 5, 1), ('b', 5, 2), ('c', 5, 3), ('d', 5, 4)")
        func remaining() throws -> [String] { try holder.all("SELECT key FROM login_throttles ORDER BY key") { $0.text(0) } }
        let runs = try holder.bookkeeping { () -> [[String: JSONValue]] in
            _ = try holder.all("SELECT key FROM login_throttles WHERE key = 'b' FOR UPDATE") { $0.text(0) }
            // A batch of 2 takes a and c; d is still there to take: more.
            let first = try object(shop.engine.runScheduler(#"{"actor":"runner","limit":2}"#))
            // d is taken; only the held b is left: no more.
            let second = try object(shop.engine.runScheduler(#"{"actor":"runner","limit":2}"#))
            return [first, second]
        }
        #expect(runs[0]["login_throttles_purged"] == 2 && runs[0]["has_more"] == true, "\(runs[0])")
        #expect(runs[1]["login_throttles_purged"] == 1 && runs[1]["has_more"] == false, "\(runs[1])")
        #expect(try remaining() == ["b"])
        let last = try object(shop.engine.runScheduler(#"{"actor":"runner","limit":2}"#))
        #expect(last["login_throttles_purged"] == 1 && last["has_more"] == false, "\(last)")
        #expect(try remaining().isEmpty)
    }

    /// Two runners (two handles, as two hosts) run the scheduler at once over many due rows in
    /// small batches: every order is cancelled once, and both runners did some of the work.
    @Test func twoRunnersAtOnceDoEachActionOnce() throws {
        let schema = try PostgresTestSchema()
        let shop = try Shop(path: schema.url)
        let orders = try overdueOrders(shop, count: 60)
        var options = EngineOptions()
        options.clock = .manual(shop.engine.now)
        let runners = [shop.engine, try Engine(path: schema.url, options: options)]
        let done = [FailureList(), FailureList()]
        let failures = FailureList()
        // Each runner, once it has done a batch, waits until the other has done one too (or
        // found nothing left), so that both take part whatever the threads' timing; then both
        // go on at once until nothing is due.
        let firstBatch = [DispatchSemaphore(value: 0), DispatchSemaphore(value: 0)]
        DispatchQueue.concurrentPerform(iterations: 2) { runner in
            var signalled = false
            defer { if !signalled { firstBatch[runner].signal() } }
            do {
                while true {
                    let run = try object(runners[runner].runScheduler(#"{"actor":"runner-\#(runner)","limit":4}"#))
                    let cancelled = integer(run, "cancelled_orders")
                    for _ in 0..<cancelled { done[runner].add("order") }
                    if !signalled && (cancelled > 0 || run["has_more"] != true) {
                        signalled = true
                        firstBatch[runner].signal()
                        _ = firstBatch[1 - runner].wait(timeout: .now() + 120)
                        firstBatch[1 - runner].signal()
                    }
                    if run["has_more"] != true { break }
                }
            } catch { failures.add("runner \(runner): \(error)") }
        }
        #expect(failures.all.isEmpty, "\(failures.all)")
        let counts = try cancellations(try schema.connect())
        #expect(Set(counts.keys) == Set(orders) && counts.values.allSatisfy { $0 == 1 }, "\(counts)")
        #expect(done[0].all.count + done[1].all.count == orders.count)
        #expect(!done[0].all.isEmpty && !done[1].all.isEmpty, "runner 0 did \(done[0].all.count), runner 1 \(done[1].all.count)")
        #expect(try object(shop.engine.verify(nil))["ok"] == true)
    }

    // MARK: Query plans

    /// The PostgreSQL side of `OrderListTests.everyHotQueryUsesAnIndex`: the engine's own hot
    /// statements (recorded while the calls run, with their arguments), EXPLAINed as JSON with
    /// sequential scans and sorts switched off (`enable_seqscan`, `enable_sort`: the planner
    /// then uses them only when nothing else can run the statement), so that a plan still
    /// scanning a big table means no index can serve it, and a page still sorted means no
    /// index gives its order — on a small populated schema, where the planner would otherwise
    /// rightly prefer a scan.
    @Test func hotStatementsUseIndexes() throws {
        let schema = try PostgresTestSchema()
        var recorder: RecordingConnection?
        let shop = try Shop(path: schema.url, wrap: { inner in
            let wrapper = RecordingConnection(inner)
            recorder = wrapper
            return wrapper
        })
        let engine = shop.engine
        let recording = try #require(recorder)
        // A populated schema: orders of each state, resources, events, idempotency records.
        for _ in 0..<3 { _ = try shop.own("evs.100") }
        var pending: [String] = []
        for _ in 0..<20 { pending.append(text(try shop.create(Shop.oneEVS), "order", "order_id")) }
        _ = try engine.topUp(#"{"actor":"pay","account_id":"acme","amount_fen":5,"external_reference":"k","idempotency_key":"k1"}"#)
        try engine.lock.withLock { try engine.db.executeScript("ANALYZE") }

        engine.lock.withLock { recording.statements = []; recording.arguments = [:] }
        func walk(_ list: (String?) throws -> String, _ filter: String) throws {
            let first = try object(list(#"{\#(filter),"limit":1}"#))
            if first["has_more"] == true {
                _ = try list(#"{\#(filter),"limit":1,"after":"\#(try #require(first["next_cursor"]?.stringValue))"}"#)
            }
        }
        let acme = #""account_id":"acme""#
        for filter in ["", #","status":"PENDING_PAYMENT""#, #","product_type":"EVS""#, #","with_counts":true"#] {
            try walk(engine.listOrders, acme + filter)
        }
        _ = try shop.order(pending[0])
        for filter in [#","tab":"MANUAL""#, #","tab":"ALL","with_counts":true"#] { try walk(engine.listRenewals, acme + filter) }
        try walk(engine.listResources, acme)
        try walk(engine.listUnsubscriptions, acme)
        try walk(engine.listLedger, acme)
        try walk(engine.listAudit, acme)
        try walk(engine.listCoupons, acme)
        try walk(engine.listExports, acme)
        try walk(engine.listEvents, #""from":"start""#)
        try walk(engine.listEvents, acme)
        _ = try engine.topUp(#"{"actor":"pay","account_id":"acme","amount_fen":5,"external_reference":"k","idempotency_key":"k1"}"#)
        _ = try shop.runScheduler(at: shop.engine.now + 30 * 86_400)

        let (statements, arguments) = try engine.lock.withLock { () -> (Set<String>, [String: [DatabaseBindable]]) in
            defer { recording.statements = nil }
            return (try #require(recording.statements), recording.arguments)
        }
        // The hot statements the issue names, found among the recorded ones by what they read.
        let hot: [(String, (String) -> Bool)] = [
            ("order list page", { $0.contains("FROM orders") && $0.contains("LIMIT") && $0.contains("created_at") }),
            ("order by id", { $0.contains("FROM orders") && $0.contains("WHERE id = ?") }),
            ("resources due", { $0.contains("FROM resources WHERE due_at") }),
            ("orders overdue", { $0.contains("FROM orders") && $0.contains("pay_deadline <=") }),
            ("events page by position", { $0.contains("FROM events") && $0.contains("position >") }),
            ("idempotency lookup", { $0.contains("FROM idempotency") }),
            // And every other read the calls made, as on SQLite.
            ("read", { _ in true }),
        ]
        let small: Set<String> = ["config", "id_sequences", "products", "commercial_discounts", "billing_touched", "outbox_head",
                                  "billing_schema"]
        var checked = 0
        for (name, matches) in hot {
            let found = statements.filter { ($0.hasPrefix("SELECT") || $0.hasPrefix("WITH")) && matches($0) }.sorted()
            #expect(!found.isEmpty, "no recorded statement is the \(name)")
            for sql in found {
                let plan = try engine.lock.withLock { () -> String in
                    // Plans that scan a whole table or sort are made the planner's last resort:
                    // one still chosen means no index can serve the statement (or its order),
                    // however few rows the tables hold.
                    try engine.db.executeScript("SET enable_seqscan = off; SET enable_sort = off")
                    defer { try? engine.db.executeScript("RESET enable_seqscan; RESET enable_sort") }
                    // A claim's FOR UPDATE needs a transaction that may lock rows.
                    return try engine.db.transaction(write: sql.contains("FOR UPDATE")) {
                        var text = ""
                        try engine.db.query("EXPLAIN (FORMAT JSON) " + sql, arguments[sql] ?? []) { text = $0.text(0); return false }
                        return text
                    }
                }
                var nodes: [(type: String, relation: String?)] = []
                func visit(_ node: PlanNode) {
                    nodes.append((node.type, node.relation))
                    node.plans?.forEach(visit)
                }
                // JSONDecoder: the plan holds costs with decimals, which the library's own
                // JSON reader (money-safe) refuses.
                for top in try JSONDecoder().decode([PlanRoot].self, from: Data(plan.utf8)) { visit(top.plan) }
                #expect(!nodes.isEmpty, "no plan for \(sql): \(plan)")
                let big = nodes.compactMap(\.relation).filter { !small.contains($0) }
                let scans = nodes.filter { $0.type == "Seq Scan" && !small.contains($0.relation ?? "") }
                #expect(scans.isEmpty, "\(name): a full scan of \(scans.compactMap(\.relation)):\n\(sql)\n→ \(plan)")
                if sql.contains("LIMIT") && !big.isEmpty {
                    #expect(!nodes.contains { $0.type == "Sort" }, "\(name): sorts the rows it reads:\n\(sql)\n→ \(plan)")
                }
                checked += 1
            }
        }
        #expect(checked >= hot.count)
    }

    // MARK: Copies

    /// A copy from SQLite leaves PostgreSQL's `id_sequences` empty (its counters went into the
    /// sequences, which go on after the copied numbers) and verifies clean; a copy that fails
    /// at its foreign-key check leaves the destination empty and the sequences where they were.
    @Test func aCopyLeavesNoStaleCountersAndAFailedOneMovesNoSequence() throws {
        let source = try Shop(path: temporaryDatabasePath())
        let sourceOrders = try (0..<3).map { _ in text(try source.create(Shop.oneEVS), "order", "order_id") }
        _ = try source.own("evs.100")
        let counters = try source.engine.lock.withLock {
            try source.engine.db.all("SELECT name, next FROM id_sequences ORDER BY name") { ($0.text(0), $0.int(1)) }
        }
        #expect(counters.contains { $0.0 == "order" && $0.1 > 1 })

        let schema = try PostgresTestSchema()
        _ = try source.engine.copy(#"{"destination":"\#(schema.url)"}"#)
        let db = try schema.connect()
        #expect(try db.first("SELECT count(*) FROM id_sequences") { $0.int(0) } == 0)
        #expect(try db.first("SELECT count(*) FROM row_digests WHERE table_name = 'id_sequences'") { $0.int(0) } == 0)
        for (name, next) in counters {
            let last = try db.first("SELECT last_value, is_called FROM \(IdentifierSequence.sequence(name))") { ($0.int(0), $0.int(1)) }
            #expect(last?.0 == next - 1 && last?.1 == 1, "\(name): \(String(describing: last)) after the counter \(next)")
        }
        var options = EngineOptions()
        options.clock = .manual(source.engine.now)
        let copy = try Engine(path: schema.url, options: options)
        #expect(try object(copy.verify(nil))["ok"] == true)
        let next = text(try object(copy.createOrder(#"{"actor":"buyer","account_id":"acme","items":\#(Shop.oneEVS)}"#)), "order", "order_id")
        #expect(!sourceOrders.contains(next) && next > sourceOrders.max()!)
        #expect(try db.first("SELECT count(*) FROM id_sequences") { $0.int(0) } == 0)
        #expect(try object(copy.verify(nil))["ok"] == true)

        // A source whose rows break a foreign key (an order of an account that is not there):
        // the copy fails at the check, before any sequence moved.
        try source.engine.lock.withLock {
            try source.engine.db.executeScript("PRAGMA foreign_keys = OFF; UPDATE orders SET account_id = 'ghost' WHERE id = '\(sourceOrders[0])'; PRAGMA foreign_keys = ON;")
        }
        let failed = try PostgresTestSchema()
        _ = try Engine(path: failed.url, options: EngineOptions())
        let error = expectBillingError { try source.engine.copy(#"{"destination":"\#(failed.url)"}"#) }
        #expect(error?.reason == "constraint_violation", "\(String(describing: error))")
        let empty = try failed.connect()
        #expect(try empty.first("SELECT count(*) FROM orders") { $0.int(0) } == 0)
        for (name, _) in counters {
            let last = try empty.first("SELECT last_value, is_called FROM \(IdentifierSequence.sequence(name))") { ($0.int(0), $0.int(1)) }
            #expect(last?.0 == 1 && last?.1 == 0, "\(name) moved by a failed copy: \(String(describing: last))")
        }
        let identity = try empty.first("SELECT last_value FROM pg_sequences WHERE schemaname = current_schema() AND sequencename LIKE 'events%'") {
            $0.optionalInt(0)
        }
        #expect(identity != nil && identity! == nil, "the events' identity moved by a failed copy: \(String(describing: identity))")
    }

    // MARK: Refund shares

    /// Verify's usage-hour reconciliation (one grouping over funding and ledger rows) finds the
    /// same mismatches on PostgreSQL as on SQLite.
    @Test func usageHoursAreReconciledOnPostgres() throws {
        let schema = try PostgresTestSchema()
        try withExtendedLifetime(schema) { try VerifyTests.usageHourReconciliation(try Shop(path: schema.url)) }
    }

    /// The resources a refund order's shares name come in the resources' creation order on
    /// both backends, whatever order the host reported them in (no `ctid`).
    @Test(arguments: [false, true]) func refundSharesComeInResourceOrder(onPostgres: Bool) throws {
        let schema = try PostgresTestSchema()
        let shop = try Shop(path: onPostgres ? schema.url : temporaryDatabasePath())
        let order = text(try shop.create(#"[{"product_id":"ecs.s6","period":{"unit":"MONTH","count":1}}]"#), "order", "order_id")
        _ = try shop.pay(order)
        let resources = try shop.resources(order)
        #expect(resources.count == 2) // the server and its bound system disk
        let report = try shop.report(resources.reversed().map { ($0, false) })
        let refund = try #require(try objects(report["refund_orders"]).first?["order_id"]?.stringValue)
        let ids = try shop.engine.lock.withLock {
            try shop.engine.db.transaction(write: false) { try RefundStore.resourceIDs(shop.engine.db, refundOrder: refund) }
        }
        #expect(!ids.isEmpty)
        #expect(ids == ids.sorted { resources.firstIndex(of: $0)! < resources.firstIndex(of: $1)! }, "\(ids) for \(resources)")
        #expect(Array(distinctInOrder(ids)) == resources)
    }
}

/// The distinct ids of a list, in their first order.
private func distinctInOrder(_ ids: [String]) -> [String] {
    var seen: Set<String> = []
    return ids.filter { seen.insert($0).inserted }
}

/// A value handed to another thread whose use the test orders itself (a connection used by one
/// thread at a time).
private final class Shared<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// One node of an `EXPLAIN (FORMAT JSON)` plan.
private struct PlanNode: Decodable {
    let type: String
    let relation: String?
    let plans: [PlanNode]?

    enum CodingKeys: String, CodingKey {
        case type = "Node Type", relation = "Relation Name", plans = "Plans"
    }
}

private struct PlanRoot: Decodable {
    let plan: PlanNode
    enum CodingKeys: String, CodingKey { case plan = "Plan" }
}
