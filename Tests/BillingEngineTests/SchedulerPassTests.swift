import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

/// The scheduler's expiry pass written without the general machinery (issue 17): a direct
/// writer for the `resource.expired` data, counts by outcome number, the account's level read
/// alone. Each must give what the general code gave.
@Suite("Scheduler pass: direct writers and counts")
struct SchedulerPassTests {
    /// The direct writer gives the bytes of the tree the event data was written from before.
    @Test(arguments: [(Int64(0), Int64(0), Int64(0)), (1_706_803_199, 1_707_407_999, 1_708_012_799), (-5, 9, 10),
                      (Int64.max - 2, Int64.max - 1, Int64.max), (Int64.min, -1, 7)])
    func expiredDataIsTheTreesText(_ values: (Int64, Int64, Int64)) {
        let tree: JSONValue = ["expire_at": .integer(values.0), "grace_end": .integer(values.1), "retention_end": .integer(values.2)]
        #expect(ResourceLifecycle.expiredData(expireAt: values.0, graceEnd: values.1, retentionEnd: values.2) == tree.text)
    }

    /// A pass that expires an ECS with its bound disk: the stored event data is, byte for byte,
    /// the tree's text; both rows move; the primary is next due after its grace, the bound disk
    /// never on its own; the counts read as before.
    @Test func anExpiryStoresTheSameEventAndSchedule() throws {
        let shop = try Shop(at: at(2024, 3, 31, 10))
        let ecs = try shop.own("ecs.s6")
        let disk = try shop.engine.lock.withLock { try ResourceStore.bound(shop.engine.db, to: ecs) }[0].id
        let expireAt = integer(try shop.resource(ecs), "expire_at")
        let summary = try shop.runScheduler(at: at(2024, 5, 1, 3))
        #expect(summary["resources"] == ["processed": 1, "effective": 0, "reminders": 0, "auto_renewed": 0, "auto_renew_failed": 0,
                                         "expired": 1, "converted": 0, "frozen": 0, "released": 0, "failed": 0])
        let graceEnd = expireAt + 7 * 86_400, retentionEnd = graceEnd + 7 * 86_400
        let stored = try shop.engine.lock.withLock {
            try shop.engine.db.all("SELECT data FROM events WHERE type = 'resource.expired' AND subject_id = ?", ecs) { $0.text(0) }
        }
        let tree: JSONValue = ["expire_at": .integer(expireAt), "grace_end": .integer(graceEnd), "retention_end": .integer(retentionEnd)]
        #expect(stored == [tree.text])
        for id in [ecs, disk] {
            let resource = try shop.resource(id)
            #expect(resource["status"] == "EXPIRED")
            #expect(resource["grace_end"] == .integer(graceEnd))
            #expect(resource["retention_end"] == .integer(retentionEnd))
        }
        let due = try shop.engine.lock.withLock {
            try shop.engine.db.all("SELECT id, due_at FROM resources WHERE id IN (?, ?)", ecs, disk) { ($0.text(0), $0.optionalInt(1)) }
        }
        #expect(due.first { $0.0 == ecs }?.1 == graceEnd + 1)
        #expect(due.first { $0.0 == disk }?.1 == nil)
        try expectNoBreaches(shop.engine)
    }

    /// The outcomes the response lists are the ten it always listed, and counts add up by outcome.
    @Test func countsByOutcome() {
        #expect(Set(SchedulerRunResponse.resourceOutcomes) == ["processed", "effective", "reminders", "auto_renewed", "auto_renew_failed",
                                                               "expired", "converted", "frozen", "released", "failed"])
        #expect(SchedulerRunResponse.resourceOutcomes.count == 10)
        var counts = LifecycleCounts()
        #expect(counts.values.isEmpty)
        counts.add(.processed)
        counts.add(.expired)
        var other = LifecycleCounts()
        other.add(.processed)
        other.add(.failed)
        counts.add(other)
        #expect(counts.values == ["processed": 2, "expired": 1, "failed": 1])
    }

    /// The level read alone is the account's level; an unknown account is not found, a damaged
    /// level unreadable, as through the whole account.
    @Test func anAccountsLevelAlone() throws {
        let shop = try Shop()
        let db = shop.engine.db
        let (level, whole) = try shop.engine.lock.withLock { (try AccountStore.level(db, "acme"), try AccountStore.require(db, "acme").level) }
        #expect(level == whole)
        #expect(expectBillingError { try shop.engine.lock.withLock { try AccountStore.level(db, "nobody") } }?.reason == "account_not_found")
        try shop.engine.tamper("PRAGMA ignore_check_constraints = ON; UPDATE accounts SET level = 'V99' WHERE id = 'acme'")
        #expect(expectBillingError { try shop.engine.lock.withLock { try AccountStore.level(db, "acme") } }?.reason == "stored_value_unreadable")
    }
}
