import CSQLite
import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

/// `verify` must stay linear (or n log n) in the file: a host runs it on files of millions of
/// rows. Wall-clock time is no test on a shared machine, so this counts the work SQLite does:
/// the virtual machine steps (`SQLITE_STMTSTATUS_VM_STEP`) of every statement verify runs,
/// summed per statement text over all its runs, on a file and on the same file grown three
/// times. A statement that is linear does at most three times the steps (its fixed part
/// less); one that is quadratic (a nested loop over a table that grows, a lookup that scans)
/// does about nine times. Sorting and B-tree searches are single steps, so n log n counts as
/// linear here.
@Suite("Verify: work grows linearly with the file")
struct VerifyScalingTests {
    /// The VM steps of each statement run by `body`, by SQL text. Every statement the SQLite
    /// connection runs stays prepared (its cache), so the counters are reset on every prepared
    /// statement before and read after.
    func steps(_ engine: Engine, _ body: () throws -> Void) throws -> [String: Int64] {
        let handle = try #require(engine.db as? SQLiteConnection).handle
        func each(_ visit: (OpaquePointer) -> Void) {
            var statement = sqlite3_next_stmt(handle, nil)
            while let current = statement {
                visit(current)
                statement = sqlite3_next_stmt(handle, current)
            }
        }
        engine.lock.withLock { each { _ = sqlite3_stmt_status($0, SQLITE_STMTSTATUS_VM_STEP, 1) } }
        try body()
        var counts: [String: Int64] = [:]
        engine.lock.withLock {
            each { statement in
                let count = Int64(sqlite3_stmt_status(statement, SQLITE_STMTSTATUS_VM_STEP, 1))
                guard count > 0, let sql = sqlite3_sql(statement) else { return }
                counts[String(cString: sql), default: 0] += count
            }
        }
        return counts
    }

    /// Adds `rounds` rounds of use: each round reports 20 hours of usage over four pay-per-use
    /// resources (lines, funding, ledger rows, usage records, one audit row listing them), buys
    /// and pays two prepaid resources (orders, lines, funding, periods), unsubscribes one of them
    /// (a refund order and its refunds) and tops the account up.
    func grow(_ shop: Shop, resources: [String], from round: Int, rounds: Int) throws {
        for index in round..<(round + rounds) {
            var records: [(String, String, Int64, Int64, Int64)] = []
            for hour in 0..<5 {
                let start = january1st2024 + Int64(index * 5 + hour + 1) * 3600
                for resource in resources { records.append(("u\(index)-\(hour)-\(resource)", resource, 1, start, start + 3600)) }
            }
            _ = try shop.usage(records)
            _ = try shop.own("ecs.s6")
            _ = try shop.unsubscribe([try shop.own("evs.100")])
            _ = try shop.engine.topUp(#"{"actor":"pay","account_id":"acme","amount_fen":1000,"external_reference":"round-\#(index)"}"#)
        }
    }

    @Test func verifyDoesLinearWorkInTheFile() throws {
        let shop = try Shop(cash: 100_000_000)
        guard shop.engine.db is SQLiteConnection else { return } // counts SQLite's steps
        let resources = try (0..<4).map { _ in try shop.onDemand("bw.ondemand") }
        try shop.engine.setClock(to: january1st2024 + 400 * 3600)
        try grow(shop, resources: resources, from: 0, rounds: 4)
        try expectNoBreaches(shop.engine)
        let small = try steps(shop.engine) { try expectNoBreaches(shop.engine) }
        try grow(shop, resources: resources, from: 4, rounds: 8)
        let large = try steps(shop.engine) { try expectNoBreaches(shop.engine) }
        try #require(large.count > 30, "verify ran only \(large.count) statements")
        // Three times the use: a linear statement takes at most three times the steps; 4× plus
        // a little leaves room for rows that do not grow and fails a quadratic one (about 9×).
        for (sql, count) in large.sorted(by: { $0.key < $1.key }) {
            let before = small[sql] ?? 0
            #expect(count <= 4 * before + 500, "\(count) VM steps for 3× the rows, \(before) before (quadratic?):\n\(sql)")
        }
    }
}
