import Testing
@testable import BillingEngine
@testable import BillingStorage
import BillingDomain

/// The scheduler's pass when one resource cannot advance, on both backends (`make test-pg`
/// runs the PostgreSQL half): the batch runs without a savepoint per resource, and a refusal
/// undoes the batch and runs it again a savepoint per resource. On PostgreSQL a savepoint
/// rolled back is also what keeps the transaction usable after a failed statement, so the
/// fallback is that backend's path to check as much as SQLite's.
@Suite("Scheduler set-aside on SQLite and PostgreSQL (make test-pg runs both)", .serialized)
struct PostgresSchedulerSetAsideTests {
    /// The pass runs its resources without a savepoint each; a refused one undoes that attempt
    /// and the pass runs again a savepoint per resource: the refused resource is set aside for
    /// a day with its event, untouched otherwise, and the others advance as before.
    @Test(arguments: ConformanceBackend.available)
    func aResourceThatCannotAdvanceIsSetAsideAndTheOthersAdvance(_ backend: ConformanceBackend) throws {
        let shop = try Shop(path: try freshDatabasePath(backend))
        let before = try shop.own()
        let disk = try shop.own()
        let after = try shop.own()
        _ = try shop.setPolicy([disk], "TO_ON_DEMAND")
        // Its product is gone (changed outside the library): its conversion cannot be recorded.
        try shop.engine.lock.withLock { _ = try shop.engine.db.run("UPDATE resources SET product_id = 'gone' WHERE id = ?", disk) }
        let pass = at(2024, 2, 2, 3)
        let summary = try shop.runScheduler(at: pass)
        let counts = try #require(summary["resources"]?.objectValue)
        #expect(counts["processed"] == 3)
        #expect(counts["expired"] == 2)
        #expect(counts["failed"] == 1)
        #expect(counts["converted"] == 0)
        for id in [before, after] { #expect(try shop.resource(id)["status"] == "EXPIRED") }
        let stuck = try shop.resource(disk)
        #expect(stuck["status"] == "IN_USE")
        #expect(stuck["billing_mode"] == "PREPAID")
        let due = try shop.engine.lock.withLock { try shop.engine.db.first("SELECT due_at FROM resources WHERE id = ?", disk) { $0.int(0) } }
        #expect(due == pass + 86_400)
        let failed = try shop.events("scheduler.resource_failed", subject: disk)
        #expect(failed.count == 1)
        #expect(failed.first?["reason"] == "product_not_found")
        #expect(try shop.events("resource.converted", subject: disk).isEmpty)
        #expect(try shop.events("resource.expired").count == 2)
        // Nothing else is due until the day is over.
        let again = try #require(try shop.runScheduler()["resources"]?.objectValue)
        #expect(again["processed"] == 0)
    }

    @Test(arguments: ConformanceBackend.available)
    func aSetAsideResourceCountsNoneOfItsUndoneSteps(_ backend: ConformanceBackend) throws {
        // A package that takes effect and expires in one pass, whose expiry is refused: a live
        // bound resource (made so in SQL) that cannot move with it. Its step "effective" ran
        // before the refusal and was undone with it, so the pass must not count it.
        let shop = try Shop(path: try freshDatabasePath(backend))
        let start = at(2024, 1, 2)
        let order = text(try shop.create(#"[{"product_id":"obs.100g","period":{"unit":"MONTH","count":1},"effective_at":\#(start)}]"#), "order", "order_id")
        _ = try shop.pay(order)
        let package = try shop.resources(order)[0]
        let disk = try shop.own()
        try shop.engine.lock.withLock {
            _ = try shop.engine.db.run("UPDATE resources SET primary_id = ?, relation = 'BOUND', status = 'FROZEN', due_at = ? WHERE id = ?",
                                       package, at(2030, 1, 1), disk)
        }
        let summary = try shop.runScheduler(at: at(2024, 4, 1))
        let counts = try #require(summary["resources"]?.objectValue)
        #expect(counts["failed"] == 1)
        #expect(counts["effective"] == nil || counts["effective"] == 0)
        #expect(counts["expired"] == nil || counts["expired"] == 0)
        #expect(try shop.resource(package)["status"] == "PENDING_EFFECTIVE")
        #expect(try shop.events("resource.effective", subject: package).isEmpty)
        #expect(try shop.events("scheduler.resource_failed", subject: package).count == 1)
    }
}
