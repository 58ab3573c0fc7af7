import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

@Suite("Renewals, grace, retention, auto-renew, policies, release")
struct RenewalTests {
    /// §4.2 worked example (V3: grace 7, retention 7): a monthly EVS bought 2024/03/31 expires
    /// 2024/04/30; renewed in retention on 05/10 it runs to 05/31: 21 days of the month remain.
    @Test func renewalInRetentionStartsAtTheOldExpiry() throws {
        let shop = try Shop(at: at(2024, 3, 31, 10))
        let disk = try shop.own()
        #expect(integer(try shop.resource(disk), "expire_at") == at(2024, 4, 30, 23, 59, 59))
        try shop.runScheduler(at: at(2024, 5, 1, 3))
        var resource = try shop.resource(disk)
        #expect(resource["status"] == "EXPIRED")
        #expect(resource["grace_end"] == .integer(at(2024, 5, 7, 23, 59, 59)))
        #expect(resource["retention_end"] == .integer(at(2024, 5, 14, 23, 59, 59)))
        try shop.runScheduler(at: at(2024, 5, 7, 23, 59, 59))
        #expect(try shop.resource(disk)["status"] == "EXPIRED")
        try shop.runScheduler(at: at(2024, 5, 8))
        #expect(try shop.resource(disk)["status"] == "FROZEN")
        try shop.engine.setClock(to: at(2024, 5, 10, 9))
        let order = text(try shop.renew([disk], #","period":{"unit":"MONTH","count":1}"#), "order", "order_id")
        _ = try shop.pay(order)
        resource = try shop.resource(disk)
        #expect(resource["status"] == "IN_USE")
        #expect(resource["expire_at"] == .integer(at(2024, 5, 31, 23, 59, 59)))
        #expect(CivilDate(year: 2024, month: 5, day: 10).days(until: CivilDate(year: 2024, month: 5, day: 31)) == 21)
        #expect(try shop.status(order) == "COMPLETED")
        // Released never: the retention end no longer applies.
        try shop.runScheduler(at: at(2024, 5, 20))
        #expect(try shop.resource(disk)["status"] == "IN_USE")
        try expectNoBreaches(shop.engine)
    }

    /// The international variant: 15 days of grace; renewed on 05/18 it still ends 05/31 (13 days).
    @Test func renewalInALongGraceEndsTheSameDay() throws {
        let shop = try Shop(at: at(2024, 3, 31, 10))
        _ = try shop.engine.updateConfiguration(#"{"actor":"ops","changes":{"grace_and_retention":{"V3":{"prepaid_grace_days":15,"prepaid_retention_days":15,"on_demand_grace_days":15,"on_demand_retention_days":15}}}}"#)
        let disk = try shop.own()
        try shop.runScheduler(at: at(2024, 5, 18, 9))
        // 15 days of grace end on 05/15: on 05/18 it is in retention.
        #expect(try shop.resource(disk)["status"] == "FROZEN")
        _ = try shop.pay(text(try shop.renew([disk], #","period":{"unit":"MONTH","count":1}"#), "order", "order_id"))
        #expect(try shop.resource(disk)["expire_at"] == .integer(at(2024, 5, 31, 23, 59, 59)))
        #expect(CivilDate(year: 2024, month: 5, day: 18).days(until: CivilDate(year: 2024, month: 5, day: 31)) == 13)
    }

    /// §4.4: expiry 2024/09/10, 1 month to unified day 1 at 300.00 a month costs 512.90 and runs
    /// to 2024/11/01; the anchor is the unified day afterwards.
    @Test func unifiedExpiryRenewal() throws {
        let shop = try Shop(at: at(2024, 8, 10, 10))
        _ = try shop.engine.putProduct(#"{"actor":"c","product":{"product_id":"rds.m","product_type":"RDS","billing_mode":"PREPAID","monthly_price_fen":30000}}"#)
        let db = try shop.own("rds.m")
        #expect(try shop.resource(db)["expire_at"] == .integer(at(2024, 9, 10, 23, 59, 59)))
        _ = try shop.engine.updateAccountSettings(#"{"actor":"c","account_id":"acme","unified_expiry_day":1}"#)
        let order = try shop.renew([db], #","period":{"unit":"MONTH","count":1},"unified_expiry":true"#)
        #expect(integer(order, "order", "amounts", "list_price_fen") == 51_290)
        _ = try shop.pay(text(order, "order", "order_id"))
        #expect(try shop.resource(db)["expire_at"] == .integer(at(2024, 11, 1, 23, 59, 59)))
        _ = try shop.pay(text(try shop.renew([db], #","period":{"unit":"MONTH","count":1}"#), "order", "order_id"))
        #expect(try shop.resource(db)["expire_at"] == .integer(at(2024, 12, 1, 23, 59, 59)))
        // Only unexpired resources are stretched.
        try shop.runScheduler(at: at(2024, 12, 2))
        #expect(expectBillingError { try shop.renew([db], #","unified_expiry":true"#) }?.reason == "unified_requires_in_use")
    }


    /// §4.5: expiry 2024/06/30, deduction day 7: attempts 06/23 03:00, 06/24 03:00 …; with a
    /// count of 2 the June and July cycles renew, then the resource is back to manual.
    @Test func autoRenewRetriesDailyAndCountsDown() throws {
        let shop = try Shop(cash: 10_000, at: at(2024, 5, 30, 10))
        let disk = try shop.own()
        #expect(try shop.resource(disk)["expire_at"] == .integer(at(2024, 6, 30, 23, 59, 59)))
        let set = try shop.setPolicy([disk], "AUTO_RENEW", #","auto_renew_times":2"#)
        let resource = try firstObject(set["resources"])
        #expect(field(resource, "auto_renew", "next_attempt_at") == .integer(at(2024, 6, 23, 3)))
        #expect(field(resource, "auto_renew", "remaining") == .integer(2))
        try shop.runScheduler(at: at(2024, 6, 23, 3))
        let failures = try shop.events("resource.auto_renew_failed", subject: disk)
        #expect(failures.count == 1)
        #expect(failures.first?["reason"] == "insufficient_funds")
        #expect(failures.first?["next_attempt_at"] == .integer(at(2024, 6, 24, 3)))
        _ = try shop.engine.topUp(#"{"actor":"p","account_id":"acme","amount_fen":100000,"external_reference":"r2"}"#)
        try shop.runScheduler(at: at(2024, 6, 24, 3))
        var renewed = try shop.resource(disk)
        #expect(renewed["expire_at"] == .integer(at(2024, 7, 30, 23, 59, 59)))
        #expect(field(renewed, "auto_renew", "remaining") == .integer(1))
        #expect(field(renewed, "auto_renew", "next_attempt_at") == .integer(at(2024, 7, 23, 3)))
        try shop.runScheduler(at: at(2024, 7, 23, 3))
        renewed = try shop.resource(disk)
        #expect(renewed["expire_at"] == .integer(at(2024, 8, 30, 23, 59, 59)))
        #expect(renewed["expiry_policy"] == "MANUAL")
        #expect(renewed["auto_renew"] == .null)
        #expect(try shop.events("resource.auto_renewed", subject: disk).count == 2)
        // Back on the manual tab: the next expiry sends reminders, no attempt.
        try shop.runScheduler(at: at(2024, 8, 24, 3))
        #expect(try shop.events("resource.auto_renewed", subject: disk).count == 2)
        // Auto-renewal payments are their own ledger kind (bill type 8).
        let kinds = try shop.engine.lock.withLock { try shop.engine.db.all("SELECT DISTINCT kind FROM ledger") { $0.text(0) } }
        #expect(kinds.contains("AUTO_RENEWAL"))
        try expectNoBreaches(shop.engine)
    }

    @Test func deductionDaySettingMovesTheFirstAttempt() throws {
        let shop = try Shop(at: at(2024, 5, 30, 10))
        let disk = try shop.own()
        _ = try shop.engine.updateAccountSettings(#"{"actor":"c","account_id":"acme","deduction_days":3}"#)
        let set = try shop.setPolicy([disk], "AUTO_RENEW")
        let resource = try firstObject(set["resources"])
        #expect(field(resource, "auto_renew", "next_attempt_at") == .integer(at(2024, 6, 27, 3)))
        #expect(field(resource, "auto_renew", "remaining") == .null)
        #expect(field(resource, "auto_renew", "period") == ["unit": "MONTH", "count": 1])
    }

    /// The same-day safety rule: enabled after 03:00 on the expiry day, the renewal happens at once.
    @Test func autoRenewEnabledTooLateRenewsAtOnce() throws {
        let shop = try Shop(at: at(2024, 5, 30, 10))
        let disk = try shop.own()
        try shop.engine.setClock(to: at(2024, 6, 30, 4))
        _ = try shop.setPolicy([disk], "AUTO_RENEW")
        #expect(try shop.resource(disk)["expire_at"] == .integer(at(2024, 7, 30, 23, 59, 59)))
        #expect(try shop.events("resource.auto_renewed", subject: disk).count == 1)
    }

    /// §10 end to end: a V3 EVS bought 2024/01/01 with auto-renew and no money fails daily from
    /// 01/25 with notices on 01/27, 01/30, 02/01; expires 02/02, freezes 02/09; a top-up on
    /// 02/10 lets the 03:00 retry renew it to 03/01 23:59:59.
    @Test func endToEndScenarioOfSection10() throws {
        let shop = try Shop(cash: 8000)
        let voucher = try shop.voucher(2000)
        let order = text(try shop.create(Shop.oneEVS), "order", "order_id")
        let paid = try shop.pay(order, coupons: [voucher])
        #expect(integer(paid, "order", "amounts", "paid_amount_fen") == 8000)
        let disk = try shop.resources(order)[0]
        _ = try shop.report([(disk, true)])
        #expect(try shop.resource(disk)["expire_at"] == .integer(at(2024, 2, 1, 23, 59, 59)))
        _ = try shop.setPolicy([disk], "AUTO_RENEW")
        #expect(field(try shop.resource(disk), "auto_renew", "next_attempt_at") == .integer(at(2024, 1, 25, 3)))
        var day = CivilDate(year: 2024, month: 1, day: 25)
        while day <= CivilDate(year: 2024, month: 2, day: 9) {
            try shop.runScheduler(at: BusinessCalendar.chinaStandard.instant(day, hour: 3))
            day = day.adding(days: 1)
        }
        let failures = try shop.events("resource.auto_renew_failed", subject: disk)
        #expect(failures.count == 16)
        let noticed = try failures.filter { $0["notice"] == true }.map { event -> Int64 in
            let time = try #require(event["occurred_at"]?.integerValue)
            let date = BusinessCalendar.chinaStandard.date(of: time)
            return date.month * 100 + date.day
        }
        #expect(noticed == [127, 130, 201, 204, 207, 209])
        let expired = try shop.events("resource.expired", subject: disk)
        #expect(expired.first?["grace_end"] == .integer(at(2024, 2, 8, 23, 59, 59)))
        #expect(expired.first?["occurred_at"] == .integer(at(2024, 2, 2, 3)))
        #expect(try shop.resource(disk)["status"] == "FROZEN")
        try shop.engine.setClock(to: at(2024, 2, 10, 1))
        _ = try shop.engine.topUp(#"{"actor":"p","account_id":"acme","amount_fen":10000,"external_reference":"feb"}"#)
        try shop.runScheduler(at: at(2024, 2, 10, 3))
        let resource = try shop.resource(disk)
        #expect(resource["status"] == "IN_USE")
        #expect(resource["expire_at"] == .integer(at(2024, 3, 1, 23, 59, 59)))
        try expectNoBreaches(shop.engine)
    }

    @Test func renewalRestrictionsOfSection4_3() throws {
        let shop = try Shop()
        let ecs = try shop.own("ecs.s6")
        let group = try shop.engine.lock.withLock { try ResourceStore.bound(shop.engine.db, to: ecs) }
        #expect(group.count == 1)
        #expect(expectBillingError { try shop.renew([group[0].id]) }?.reason == "not_primary")
        // Bound resources are renewed with their primary.
        let order = try shop.renew([ecs], #","period":{"unit":"MONTH","count":1}"#)
        let lines = try #require(field(order, "order", "lines")?.arrayValue)
        #expect(lines.count == 2)
        #expect(expectBillingError { try shop.renew([ecs]) }?.reason == "pending_order_exists")
        _ = try shop.pay(text(order, "order", "order_id"))
        #expect(try shop.resource(group[0].id)["expire_at"] == (try shop.resource(ecs))["expire_at"])
        let ondemand = text(try shop.create(#"[{"product_id":"bw.ondemand"}]"#), "order", "order_id")
        let bandwidth = try shop.resources(ondemand)[0]
        _ = try shop.report([(bandwidth, true)])
        #expect(expectBillingError { try shop.renew([bandwidth]) }?.reason == "not_prepaid")
        let disk = try shop.own()
        _ = try shop.setPolicy([disk], "TO_ON_DEMAND")
        #expect(expectBillingError { try shop.renew([disk]) }?.reason == "converting_to_on_demand")
        let other = try shop.own()
        _ = try shop.engine.putProduct(#"{"actor":"catalog","product":{"product_id":"evs.100","product_type":"EVS","billing_mode":"PREPAID","monthly_price_fen":10000,"hourly_price_microfen":20000000,"on_sale":false}}"#)
        #expect(expectBillingError { try shop.renew([other]) }?.reason == "product_off_sale")
        _ = try shop.engine.putAccount(#"{"actor":"h","account_id":"acme","realname_verified":false}"#)
        #expect(expectBillingError { try shop.renew([ecs]) }?.reason == "not_realname_verified")
        #expect(expectBillingError { try shop.renew((0..<11).map { "r\($0)" }) }?.status != nil)
        try expectNoBreaches(shop.engine)
    }

    @Test func convertingToPayPerUseCancelsPendingOrdersAtExpiry() throws {
        let shop = try Shop()
        let disk = try shop.own()
        // A renewal order is left unpaid, then the customer chooses conversion at expiry.
        try shop.engine.setClock(to: at(2024, 1, 30, 10))
        let pending = text(try shop.renew([disk], #","period":{"unit":"MONTH","count":1}"#), "order", "order_id")
        _ = try shop.setPolicy([disk], "TO_ON_DEMAND")
        try shop.runScheduler(at: at(2024, 2, 2, 3))
        let resource = try shop.resource(disk)
        #expect(resource["billing_mode"] == "ON_DEMAND")
        #expect(resource["status"] == "IN_USE")
        #expect(resource["expire_at"] == .null)
        // T13: the renewal order waiting on it is cancelled.
        #expect(text(try shop.order(pending), "order", "cancel_reason") == "RESOURCE_CONVERTED")
        #expect(try shop.events("resource.converted", subject: disk).count == 1)
    }

    @Test func policyTransitionsAndOffSaleRules() throws {
        let shop = try Shop()
        let disk = try shop.own()
        for policy in ["AUTO_RENEW", "TO_ON_DEMAND", "NO_RENEW", "MANUAL", "NO_RENEW", "AUTO_RENEW", "AUTO_RENEW", "MANUAL", "TO_ON_DEMAND", "MANUAL"] {
            _ = try shop.setPolicy([disk], policy)
            #expect(try shop.resource(disk)["expiry_policy"] == .string(policy))
        }
        _ = try shop.setPolicy([disk], "AUTO_RENEW", #","auto_renew_period":{"unit":"MONTH","count":3},"auto_renew_times":5"#)
        #expect(field(try shop.resource(disk), "auto_renew", "remaining") == .integer(5))
        // Modifying without a count keeps it.
        _ = try shop.setPolicy([disk], "AUTO_RENEW", #","auto_renew_period":{"unit":"MONTH","count":2}"#)
        #expect(field(try shop.resource(disk), "auto_renew", "remaining") == .integer(5))
        #expect(field(try shop.resource(disk), "auto_renew", "period") == ["unit": "MONTH", "count": 2])
        #expect(expectBillingError { try shop.setPolicy([disk], "AUTO_RENEW", #","auto_renew_times":100"#) }?.reason == "out_of_range")
        #expect(expectBillingError { try shop.setPolicy([disk], "MANUAL", #","auto_renew_times":1"#) }?.reason == "invalid_field")
        _ = try shop.setPolicy([disk], "NO_RENEW")
        _ = try shop.engine.putProduct(#"{"actor":"catalog","product":{"product_id":"evs.100","product_type":"EVS","billing_mode":"PREPAID","monthly_price_fen":10000,"hourly_price_microfen":20000000,"on_sale":false}}"#)
        #expect(expectBillingError { try shop.setPolicy([disk], "MANUAL") }?.reason == "product_off_sale")
        #expect(expectBillingError { try shop.setPolicy([disk], "AUTO_RENEW") }?.reason == "product_off_sale")
        _ = try shop.setPolicy([disk], "TO_ON_DEMAND")
        // An already enabled auto-renew keeps working off sale.
        let other = try shop.own("ecs.s6")
        _ = try shop.setPolicy([other], "AUTO_RENEW")
        _ = try shop.engine.putProduct(#"{"actor":"catalog","product":{"product_id":"ecs.s6","product_type":"ECS","billing_mode":"PREPAID","monthly_price_fen":10000,"bound_products":["evs.sys40"],"on_sale":false}}"#)
        try shop.runScheduler(at: at(2024, 1, 25, 3))
        #expect(try shop.events("resource.auto_renewed", subject: other).count == 1)
        // Bound resources follow the primary's policy.
        let bound = try shop.engine.lock.withLock { try ResourceStore.bound(shop.engine.db, to: other) }
        #expect(bound.first?.expiryPolicy == "AUTO_RENEW")
        #expect(expectBillingError { try shop.setPolicy([bound[0].id], "MANUAL") }?.reason == "not_primary")
    }

    @Test func releaseOfExpiredResources() throws {
        let shop = try Shop()
        let ecs = try shop.own("ecs.s6")
        let live = try shop.own()
        #expect(expectBillingError { try shop.engine.releaseResources(#"{"actor":"c","account_id":"acme","resource_ids":["\#(live)"]}"#) }?.reason == "not_releasable")
        try shop.runScheduler(at: at(2024, 2, 2, 3))
        _ = try shop.engine.putAccount(#"{"actor":"h","account_id":"acme","freeze":"POLICE"}"#)
        #expect(expectBillingError { try shop.engine.releaseResources(#"{"actor":"c","account_id":"acme","resource_ids":["\#(ecs)"]}"#) }?.reason == "police_frozen")
        _ = try shop.engine.putAccount(#"{"actor":"h","account_id":"acme","freeze":"ARREARS"}"#)
        let released = try object(shop.engine.releaseResources(#"{"actor":"c","account_id":"acme","resource_ids":["\#(ecs)"]}"#))
        let list = try objects(released["resources"])
        #expect(list.count == 2) // the ECS and its bound disk
        for resource in list { #expect(resource["status"] == "RELEASED") }
        #expect(expectBillingError { try shop.renew([ecs]) }?.reason == "not_renewable_status")
    }

    @Test func retentionEndReleasesWithBoundResources() throws {
        let shop = try Shop()
        let ecs = try shop.own("ecs.s6")
        for day in [2, 9, 16] { try shop.runScheduler(at: at(2024, 2, Int64(day), 3)) }
        #expect(try shop.resource(ecs)["status"] == "RELEASED")
        let bound = try shop.engine.lock.withLock { try ResourceStore.bound(shop.engine.db, to: ecs) }
        #expect(bound.first?.status == .released)
        #expect(try shop.events("resource.released", subject: ecs).first?["reason"] == "RETENTION_ENDED")
    }

    @Test func renewalViewFiltersAndHidesPendingOrders() throws {
        let shop = try Shop()
        let a = try shop.own()
        try shop.engine.advanceClock(by: 86_400 * 3)
        let b = try shop.own(months: 2)
        let c = try shop.own()
        _ = try shop.setPolicy([c], "NO_RENEW")
        _ = try shop.renew([a], #","period":{"unit":"MONTH","count":1}"#)
        let manual = try object(shop.engine.listRenewals(#"{"account_id":"acme","tab":"MANUAL"}"#))
        let ids = try objects(manual["resources"]).map { $0["resource_id"] }
        #expect(ids == [.string(a), .string(b)])
        let hidden = try object(shop.engine.listRenewals(#"{"account_id":"acme","tab":"MANUAL","hide_pending_orders":true}"#))
        let visible = try #require(hidden["resources"]?.arrayValue)
        #expect(visible.count == 1)
        let noRenew = try object(shop.engine.listRenewals(#"{"account_id":"acme","tab":"NO_RENEW"}"#))
        let third = try #require(noRenew["resources"]?.arrayValue)
        #expect(third.count == 1)
        let window = try object(shop.engine.listRenewals(#"{"account_id":"acme","tab":"MANUAL","expire_to":\#(at(2024, 2, 28))}"#))
        let soon = try #require(window["resources"]?.arrayValue)
        #expect(soon.count == 1)
        let paged = try object(shop.engine.listRenewals(#"{"account_id":"acme","tab":"MANUAL","limit":1}"#))
        let next = try object(shop.engine.listRenewals(#"{"account_id":"acme","tab":"MANUAL","limit":1,"after":"\#(text(paged, "next_cursor"))"}"#))
        let row = try firstObject(next["resources"])
        #expect(row["resource_id"] == .string(b))
        #expect(expectBillingError { try shop.engine.listRenewals(#"{"account_id":"acme"}"#) }?.reason == "missing_field")
    }
}
