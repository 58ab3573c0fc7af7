import Dispatch
import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

@Suite("A year under the manual clock")
struct SimulationTests {
    /// Resources with every policy, the scheduler run every day at 03:00 for a year, and the
    /// events each one produced compared with timelines written out by hand.
    @Test func yearOfDailySchedulerRuns() throws {
        let shop = try Shop(cash: 10_000_000, at: at(2024, 1, 10, 10))
        let manual = try shop.own()                      // expires 2024-02-10 23:59:59
        let noRenew = try shop.own()
        let toOnDemand = try shop.own()
        let autoRenew = try shop.own()
        _ = try shop.setPolicy([noRenew], "NO_RENEW")
        _ = try shop.setPolicy([toOnDemand], "TO_ON_DEMAND")
        _ = try shop.setPolicy([autoRenew], "AUTO_RENEW")
        var day = CivilDate(year: 2024, month: 1, day: 11)
        while day <= CivilDate(year: 2025, month: 1, day: 10) {
            try shop.runScheduler(at: BusinessCalendar.chinaStandard.instant(day, hour: 3))
            day = day.adding(days: 1)
        }
        func timeline(_ id: String) throws -> [String] {
            try shop.engine.lock.withLock {
                try shop.engine.db.all("SELECT type, occurred_at, data FROM events WHERE subject_id = ? AND type LIKE 'resource.%' ORDER BY seq", id) { row in
                    let date = BusinessCalendar.chinaStandard.date(of: row.int(1))
                    var label = "\(date.month)/\(date.day) \(row.text(0).dropFirst("resource.".count))"
                    if case .object(let data) = try JSONValue.parse(row.text(2)), case .integer(let days)? = data["days_before"] { label += " \(days)" }
                    return label
                }
            }
        }
        // MANUAL: reminders 15, 7, 3 and 1 days before 02/10; grace 7 days (V3), retention 7.
        #expect(try timeline(manual) == ["1/10 created", "1/10 provisioned", "1/26 expiry_reminder 15", "2/3 expiry_reminder 7",
                                         "2/7 expiry_reminder 3", "2/9 expiry_reminder 1", "2/11 expired", "2/18 frozen", "2/25 released"])
        // NO_RENEW: one reminder, 3 days before.
        #expect(try timeline(noRenew) == ["1/10 created", "1/10 provisioned", "1/10 policy_changed", "2/7 expiry_reminder 3",
                                          "2/11 expired", "2/18 frozen", "2/25 released"])
        // TO_ON_DEMAND: reminders 7, 3, 1; converted at expiry and in use ever after.
        #expect(try timeline(toOnDemand) == ["1/10 created", "1/10 provisioned", "1/10 policy_changed", "2/3 expiry_reminder 7",
                                             "2/7 expiry_reminder 3", "2/9 expiry_reminder 1", "2/11 converted"])
        // AUTO_RENEW: renewed 7 days before each expiry (the 10th of each month), twelve times.
        var expected = ["1/10 created", "1/10 provisioned", "1/10 policy_changed"]
        for month in Int64(2)...Int64(13) {
            let expiryMonth = (month - 1) % 12 + 1
            expected += ["\(expiryMonth)/3 renewed", "\(expiryMonth)/3 auto_renewed"]
        }
        #expect(try timeline(autoRenew) == expected)
        #expect(integer(try shop.resource(autoRenew), "expire_at") == at(2025, 2, 10, 23, 59, 59))
        #expect(try shop.resource(toOnDemand)["status"] == "IN_USE")
        try expectNoBreaches(shop.engine)
    }

    /// Two handles on one file run the scheduler at the same instants from several threads:
    /// nothing is renewed, charged, released or notified twice.
    @Test func concurrentSchedulersDoTheWorkOnce() throws {
        let shop = try Shop(cash: 10_000_000, at: at(2024, 1, 10, 10))
        let ids = try (0..<12).map { _ in try shop.own() }
        _ = try shop.setPolicy(Array(ids.prefix(6)), "AUTO_RENEW")
        let path = shop.engine.path
        var options = EngineOptions()
        options.clock = .manual(at(2024, 1, 10, 10))
        let engines = [shop.engine, try Engine(path: path, options: options), try Engine(path: path, options: options)]
        let failures = Counter()
        var day = CivilDate(year: 2024, month: 1, day: 11)
        while day <= CivilDate(year: 2024, month: 4, day: 30) {
            let instant = BusinessCalendar.chinaStandard.instant(day, hour: 3)
            for engine in engines { try engine.setClock(to: instant) }
            DispatchQueue.concurrentPerform(iterations: 6) { index in
                do { _ = try engines[index % 3].runScheduler(#"{"actor":"cron-\#(index)"}"#) } catch { failures.increment() }
            }
            day = day.adding(days: 1)
        }
        #expect(failures.value == 0)
        // Each auto-renewing disk renewed on 02/03, 03/03 and 04/03 (for the Feb, Mar, Apr expiries): 3 × 6.
        #expect(try shop.events("resource.auto_renewed").count == 18)
        let renewals = try shop.engine.lock.withLock {
            try shop.engine.db.first("SELECT count(*) FROM ledger WHERE kind = 'AUTO_RENEWAL'") { $0.int(0) }
        }
        #expect(renewals == 18)
        // The manual ones: four reminders, one expiry, one freeze, one release each.
        #expect(try shop.events("resource.expiry_reminder").count == 6 * 4)
        #expect(try shop.events("resource.expired").count == 6)
        #expect(try shop.events("resource.released").count == 6)
        try expectNoBreaches(shop.engine)
    }
}
