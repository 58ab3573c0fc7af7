import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

extension Shop {
    func usage(_ records: [(String, String, Int64, Int64, Int64)]) throws -> [String: JSONValue] {
        let list = records.map { #"{"usage_id":"\#($0.0)","resource_id":"\#($0.1)","quantity":\#($0.2),"start":\#($0.3),"end":\#($0.4)}"# }
            .joined(separator: ",")
        return try object(engine.reportUsage(#"{"actor":"meter","account_id":"acme","records":[\#(list)]}"#))
    }

    /// A provisioned pay-per-use resource of a product.
    func onDemand(_ product: String) throws -> String {
        let id = try resources(text(try create(#"[{"product_id":"\#(product)"}]"#), "order", "order_id"))[0]
        _ = try report([(id, true)])
        return id
    }

    func lines(_ resource: String) throws -> [[String: JSONValue]] {
        try objects(try object(engine.listUsage(#"{"account_id":"acme","resource_id":"\#(resource)","limit":1000}"#))["lines"]).reversed()
    }
}

@Suite("Pay-per-use usage, packages, arrears")
struct UsageTests {
    /// §2.3: deployed 08:45:30, deleted 09:30:00 → 870 s in the 08:00 hour, 1,800 s in the 09:00
    /// hour, each line rounded once: 12.345678 fen/h × 870/3600 = 2.98 → 3; × 1800/3600 = 6.17 → 6.
    @Test func perSecondSettledOnTheHour() throws {
        let shop = try Shop(at: at(2023, 3, 10, 8, 45, 30))
        let eip = try shop.onDemand("bw.ondemand")
        try shop.engine.setClock(to: at(2023, 3, 10, 10))
        let before = try shop.cash()
        let result = try shop.usage([("u1", eip, 1, at(2023, 3, 10, 8, 45, 30), at(2023, 3, 10, 9, 30))])
        #expect(integer(result, "charged_fen") == 9)
        let lines = try shop.lines(eip)
        #expect(lines.map { integer($0, "units") } == [870, 1800])
        #expect(lines.map { integer($0, "charged_fen") } == [3, 6])
        #expect(try shop.cash() == before - 9)
        // A retried report counts once; a different record under the same id is refused.
        let again = try shop.usage([("u1", eip, 1, at(2023, 3, 10, 8, 45, 30), at(2023, 3, 10, 9, 30))])
        #expect(integer(again, "charged_fen") == 0)
        #expect(expectBillingError { try shop.usage([("u1", eip, 2, at(2023, 3, 10, 8, 45, 30), at(2023, 3, 10, 9, 30))]) }?.reason == "usage_id_reused")
        // More usage in an hour already settled re-rounds the whole line once.
        _ = try shop.usage([("u2", eip, 1, at(2023, 3, 10, 9, 30), at(2023, 3, 10, 9, 45))])
        #expect(try shop.lines(eip).map { integer($0, "charged_fen") } == [3, 9]) // 2,700 s ⇒ 9.26 → 9
        try expectNoBreaches(shop.engine)
    }

    /// §2.4 OBS: package A 100 GB valid 10/01–12/01, B 500 GB valid 10/10–12/10; 700 GB stored.
    /// Oct 5: A only (600 GB over); Oct 15: A then B (100 over); Dec 5: B only (200 over);
    /// Dec 15: all on demand.
    @Test func obsTwoPackages() throws {
        let shop = try Shop(cash: 100_000_000, at: at(2020, 10, 1))
        _ = try shop.engine.putProduct(#"{"actor":"c","product":{"product_id":"obs.std","product_type":"OBS","billing_mode":"ON_DEMAND","hourly_price_microfen":1000}}"#)
        _ = try shop.engine.putProduct(#"{"actor":"c","product":{"product_id":"obs.500g","product_type":"OBS","billing_mode":"PACKAGE","monthly_price_fen":4500,"package":{"kind":"CAPACITY","quota":500,"applies_to":["OBS"]}}}"#)
        let a = text(try shop.create(#"[{"product_id":"obs.100g","period":{"unit":"MONTH","count":2}}]"#), "order", "order_id")
        _ = try shop.pay(a)
        let b = text(try shop.create(#"[{"product_id":"obs.500g","period":{"unit":"MONTH","count":2},"effective_at":\#(at(2020, 10, 10))}]"#), "order", "order_id")
        _ = try shop.pay(b)
        let bucket = try shop.onDemand("obs.std")
        func covered(_ day: (Int64, Int64), _ id: String) throws -> (Int64, Int64) {
            try shop.engine.setClock(to: max(shop.engine.now, at(2020, day.0, day.1, 13)))
            try shop.runScheduler()
            let result = try shop.usage([(id, bucket, 700, at(2020, day.0, day.1, 12), at(2020, day.0, day.1, 13))])
            let line = try firstObject(try firstObject(result["results"])["lines"])
            return (integer(line, "covered") / 3600, integer(line, "overage") / 3600)
        }
        #expect(try covered((10, 5), "oct5") == (100, 600))
        #expect(try covered((10, 15), "oct15") == (600, 100))
        #expect(try covered((12, 5), "dec5") == (500, 200))
        #expect(try covered((12, 15), "dec15") == (0, 700))
        try expectNoBreaches(shop.engine)
    }

    /// AMOUNT packages: a monthly-reset quota of unit-hours, then overage; counted usage against
    /// a non-resettable quota of calls.
    @Test func amountPackagesResetAndRunOut() throws {
        let shop = try Shop(cash: 10_000_000, at: at(2024, 1, 1, 10))
        _ = try shop.engine.putProduct(#"{"actor":"c","product":{"product_id":"cci","product_type":"CCI","billing_mode":"ON_DEMAND","hourly_price_microfen":3600000000}}"#)
        _ = try shop.engine.putProduct(#"{"actor":"c","product":{"product_id":"cci.pack","product_type":"CCI","billing_mode":"PACKAGE","monthly_price_fen":100,"package":{"kind":"AMOUNT","quota":10,"applies_to":["cci"],"resettable":true}}}"#)
        _ = try shop.pay(text(try shop.create(#"[{"product_id":"cci.pack","period":{"unit":"MONTH","count":3}}]"#), "order", "order_id"))
        let pod = try shop.onDemand("cci")
        try shop.engine.setClock(to: at(2024, 1, 20))
        // 8 unit-hours covered.
        _ = try shop.usage([("j1", pod, 8, at(2024, 1, 10, 9), at(2024, 1, 10, 10))])
        // 5 more: 2 covered, 3 charged at 3,600 fen per unit-hour… = 1 fen per unit-second.
        let over = try shop.usage([("j2", pod, 5, at(2024, 1, 11, 9), at(2024, 1, 11, 10))])
        #expect(integer(over, "charged_fen") == 3 * 3600)
        // February resets the quota.
        try shop.engine.setClock(to: at(2024, 2, 20))
        #expect(integer(try shop.usage([("f1", pod, 10, at(2024, 2, 3, 9), at(2024, 2, 3, 10))]), "charged_fen") == 0)
        let package = try firstObject(try object(shop.engine.listPackages(#"{"account_id":"acme"}"#))["packages"])
        #expect(package["used"] == .integer(36_000))
        #expect(package["window_start"] == .integer(at(2024, 2, 1)))

        _ = try shop.engine.putProduct(#"{"actor":"c","product":{"product_id":"api","product_type":"APIG","billing_mode":"ON_DEMAND","unit_price_microfen":50000}}"#)
        _ = try shop.engine.putProduct(#"{"actor":"c","product":{"product_id":"api.10k","product_type":"APIG","billing_mode":"PACKAGE","monthly_price_fen":100,"yearly_price_fen":1000,"package":{"kind":"AMOUNT","quota":10000,"applies_to":["APIG"]}}}"#)
        _ = try shop.pay(text(try shop.create(#"[{"product_id":"api.10k","period":{"unit":"YEAR","count":1}}]"#), "order", "order_id"))
        let gateway = try shop.onDemand("api")
        #expect(integer(try shop.usage([("c1", gateway, 9000, at(2024, 2, 20), at(2024, 2, 20))]), "charged_fen") == 0)
        // 2,000 more calls: 1,000 covered, 1,000 × 0.05 fen = 50 fen.
        #expect(integer(try shop.usage([("c2", gateway, 2000, at(2024, 2, 20), at(2024, 2, 20))]), "charged_fen") == 50)
        try expectNoBreaches(shop.engine)
    }

    /// §2.3 deduction order, then arrears: grace (V3 pay-per-use: 1 day), freeze for retention,
    /// and a top-up that settles the arrears first and brings the resource back.
    @Test func deductionOrderAndArrears() throws {
        let shop = try Shop(cash: 1000)
        _ = try shop.engine.putAccount(#"{"actor":"h","account_id":"acme","credit_limit_fen":500}"#)
        _ = try shop.engine.putProduct(#"{"actor":"c","product":{"product_id":"vm","product_type":"ECS","billing_mode":"ON_DEMAND","hourly_price_microfen":1000000000}}"#)
        let window = #""valid_from":\#(january1st2024 - 86_400),"valid_to":\#(january1st2024 + 86_400 * 30)"#
        for (kind, fen) in [("STORED_VALUE_CARD", 300), ("CASH_COUPON", 200), ("VOUCHER", 100)] {
            _ = try shop.engine.issueCoupon(#"{"actor":"o","account_id":"acme","kind":"\#(kind)","face_value_fen":\#(fen),\#(window)}"#)
        }
        let vm = try shop.onDemand("vm")
        // 10 hours at 1,000 fen: 100 voucher, 200 cash coupon, 300 card, 1,000 cash, 500 credit, 7,900 arrears.
        try shop.engine.setClock(to: january1st2024 + 11 * 3600)
        let charged = try shop.usage([("h", vm, 1, january1st2024, january1st2024 + 10 * 3600)])
        #expect(integer(charged, "charged_fen") == 10_000)
        #expect(integer(charged, "account", "arrears_fen") == 7900)
        #expect(integer(charged, "account", "credit_used_fen") == 500)
        let sources = try shop.lines(vm).flatMap { line -> [String] in
            try objects(line["paid_by"]).map { try #require($0["source"]?.stringValue) }
        }
        #expect(Set(sources) == ["VOUCHER", "CASH_COUPON", "STORED_VALUE_CARD", "CASH", "CREDIT"])
        #expect(try shop.events("account.arrears_started").count == 1)
        try shop.runScheduler(at: january1st2024 + 11 * 3600 + 86_400 + 1)
        #expect(try shop.resource(vm)["status"] == "FROZEN")
        #expect(try shop.resource(vm)["freeze_reason"] == "ARREARS")
        _ = try shop.engine.topUp(#"{"actor":"p","account_id":"acme","amount_fen":10000,"external_reference":"settle"}"#)
        #expect(try shop.resource(vm)["status"] == "IN_USE")
        #expect(integer(try object(shop.engine.getAccount(#"{"account_id":"acme"}"#)), "account", "cash_balance_fen") == 2100)
        // Left in arrears past retention, a pay-per-use resource is deleted.
        let other = try Shop(cash: 0)
        _ = try other.engine.putProduct(#"{"actor":"c","product":{"product_id":"vm","product_type":"ECS","billing_mode":"ON_DEMAND","hourly_price_microfen":1000000000}}"#)
        let lost = try other.onDemand("vm")
        try other.engine.setClock(to: january1st2024 + 2 * 3600)
        _ = try other.usage([("h", lost, 1, january1st2024, january1st2024 + 3600)])
        for day in 1...9 { try other.runScheduler(at: january1st2024 + 2 * 3600 + Int64(day) * 86_400) }
        #expect(try other.resource(lost)["status"] == "RELEASED")
        try expectNoBreaches(shop.engine)
    }

    @Test func convertedResourcesAreRatedTheSameWay() throws {
        let shop = try Shop()
        let disk = try shop.own()
        _ = try shop.setPolicy([disk], "TO_ON_DEMAND")
        try shop.runScheduler(at: at(2024, 2, 2, 3))
        #expect(try shop.resource(disk)["billing_mode"] == "ON_DEMAND")
        // 20 fen an hour after conversion.
        let result = try shop.usage([("after", disk, 1, at(2024, 2, 2), at(2024, 2, 2, 2))])
        #expect(integer(result, "charged_fen") == 40)
        #expect(expectBillingError { try shop.usage([("early", disk, 1, at(2023, 12, 1), at(2023, 12, 1, 1))]) }?.reason == "invalid_window")
    }

    @Test func badUsageIsRefused() throws {
        let shop = try Shop()
        let disk = try shop.own()
        let eip = try shop.onDemand("bw.ondemand")
        #expect(expectBillingError { try shop.usage([("x", disk, 1, january1st2024, january1st2024 + 60)]) }?.reason == "not_pay_per_use")
        #expect(expectBillingError { try shop.usage([("x", eip, 1, january1st2024 + 60, january1st2024)]) }?.reason == "invalid_window")
        #expect(expectBillingError { try shop.usage([("x", eip, -1, january1st2024, january1st2024 + 60)]) }?.reason == "out_of_range")
        #expect(expectBillingError { try shop.usage([("x", "RS999", 1, january1st2024, january1st2024 + 60)]) }?.status == .notFound)
        #expect(expectBillingError { try shop.usage([("x", eip, 1, january1st2024, january1st2024 + 60), ("x", eip, 1, january1st2024, january1st2024 + 60)]) }?.reason == "duplicate_usage")
    }

    /// Random usage over random packages: every unit is covered by exactly one package or
    /// charged once, and the money adds up.
    @Test func everyUnitCoveredOnceOrCharged() throws {
        var random = SplitMix64(seed: 77)
        let shop = try Shop(cash: 1_000_000_000, at: at(2024, 1, 1))
        _ = try shop.engine.putProduct(#"{"actor":"c","product":{"product_id":"st","product_type":"OBS","billing_mode":"ON_DEMAND","hourly_price_microfen":777777}}"#)
        for (index, kind) in ["AMOUNT", "CAPACITY", "AMOUNT"].enumerated() {
            _ = try shop.engine.putProduct(#"{"actor":"c","product":{"product_id":"pk\#(index)","product_type":"OBS","billing_mode":"PACKAGE","monthly_price_fen":10,"package":{"kind":"\#(kind)","quota":\#(Int64.random(in: 1...50, using: &random)),"applies_to":["OBS"],"resettable":\#(index == 2)}}}"#)
            _ = try shop.pay(text(try shop.create(#"[{"product_id":"pk\#(index)","period":{"unit":"MONTH","count":\#(Int64.random(in: 1...3, using: &random))}}]"#), "order", "order_id"))
        }
        let buckets = try (0..<3).map { _ in try shop.onDemand("st") }
        try shop.engine.setClock(to: at(2024, 6, 1))
        var reported: Int64 = 0
        for index in 0..<300 {
            let start = at(2024, 1, 1) + Int64.random(in: 0...(120 * 86_400), using: &random)
            let end = start + Int64.random(in: 0...(3 * 3600), using: &random)
            let quantity = Int64.random(in: 0...80, using: &random)
            _ = try shop.usage([("r\(index)", buckets[index % 3], quantity, start, end)])
            reported += quantity * (end - start)
        }
        let totals = try shop.engine.lock.withLock {
            try shop.engine.db.first("SELECT sum(units), sum(covered), sum(overage) FROM usage_lines") { ($0.int(0), $0.int(1), $0.int(2)) }
        }
        let deducted = try shop.engine.lock.withLock { try shop.engine.db.first("SELECT coalesce(sum(units), 0) FROM package_deductions") { $0.int(0) } }
        #expect(totals?.0 == reported)
        #expect(totals.map { $0.1 + $0.2 } == reported)
        #expect(totals?.1 == deducted)
        try expectNoBreaches(shop.engine)
    }
}
