import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

/// Defects found by the stress drivers, each kept as a test.
@Suite("Regressions")
struct RegressionTests {
    /// A bound resource that failed to provision is refunded and stays out of its primary's
    /// later life (it went EXPIRED → FROZEN → RELEASED with the primary, breaking verify).
    @Test func failedBoundResourceDoesNotFollowThePrimary() throws {
        let shop = try Shop()
        let order = text(try shop.create(Shop.oneECS), "order", "order_id")
        _ = try shop.pay(order)
        let resources = try shop.resources(order)
        _ = try shop.report([(resources[0], true), (resources[1], false)])
        for day in [2, 9, 16] {
            try shop.runScheduler(at: at(2024, 2, Int64(day), 3))
            try expectNoBreaches(shop.engine)
        }
        #expect(try shop.resource(resources[0])["status"] == "RELEASED")
        #expect(try shop.resource(resources[1])["status"] == "PROVISION_FAILED")
    }

    /// After its renewal periods were refunded, a resource can be renewed again (the refunded
    /// period's row held the start the new period needs, wedging the scheduler under auto-renew).
    @Test func renewAfterRenewalOnlyRefund() throws {
        let shop = try Shop()
        let disk = try shop.own()
        _ = try shop.pay(text(try shop.renew([disk], #","period":{"unit":"MONTH","count":1}"#), "order", "order_id"))
        _ = try shop.unsubscribe([disk], #","type":"RENEWAL_ONLY""#)
        _ = try shop.pay(text(try shop.renew([disk], #","period":{"unit":"MONTH","count":1}"#), "order", "order_id"))
        #expect(try shop.resource(disk)["expire_at"] == .integer(at(2024, 3, 1, 23, 59, 59)))
        _ = try shop.unsubscribe([disk], #","type":"RENEWAL_ONLY""#)
        _ = try shop.setPolicy([disk], "AUTO_RENEW")
        let run = try shop.runScheduler(at: at(2024, 1, 25, 3))
        #expect(integer(run, "resources", "auto_renewed") == 1)
        try expectNoBreaches(shop.engine)
    }

    /// A retry that writes an absent optional field as null is the same request.
    @Test func nullFieldsDoNotChangeARequest() throws {
        let shop = try Shop()
        let first = try shop.engine.issueCoupon(#"{"actor":"o","idempotency_key":"k1","account_id":"acme","kind":"VOUCHER","face_value_fen":100,"valid_from":0,"valid_to":\#(january1st2024 + 86_400)}"#)
        let retry = try shop.engine.issueCoupon(#"{"actor":"o","idempotency_key":"k1","account_id":"acme","kind":"VOUCHER","face_value_fen":100,"valid_from":0,"valid_to":\#(january1st2024 + 86_400),"scope":null,"min_spend_fen":null}"#)
        #expect(retry == first)
    }
}

/// Found by the fuzzer: a resource near the end of the calendar stopped the scheduler for everyone.
@Suite("Regressions at the end of time")
struct EndOfTimeTests {
    @Test func aRenewalPastTheYear9999DoesNotStopTheScheduler() throws {
        let shop = try Shop(cash: 100_000_000, at: 253_300_000_000)
        let late = try shop.own(months: 3, unit: "YEAR")
        _ = try shop.setPolicy([late], "AUTO_RENEW")
        let pending = text(try shop.create(Shop.oneEVS), "order", "order_id")
        let run = try shop.runScheduler(at: 253_402_300_000)
        #expect(integer(run, "cancelled_orders") == 1)
        #expect(try shop.status(pending) == "CANCELLED")
        #expect(try shop.events("resource.auto_renew_failed", subject: late).first?["reason"] == "instant_out_of_range")
        try expectNoBreaches(shop.engine)
    }
}
