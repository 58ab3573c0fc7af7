import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

extension Shop {
    func quote(_ ids: [String], _ extra: String = "") throws -> [String: JSONValue] {
        let list = ids.map { "\"\($0)\"" }.joined(separator: ",")
        return try object(engine.quoteRefund(#"{"account_id":"acme","resource_ids":[\#(list)]\#(extra)}"#))
    }

    func unsubscribe(_ ids: [String], _ extra: String = "") throws -> [String: JSONValue] {
        let list = ids.map { "\"\($0)\"" }.joined(separator: ",")
        return try object(engine.unsubscribe(#"{"actor":"c","account_id":"acme","resource_ids":[\#(list)]\#(extra)}"#))
    }

    /// The first resource entry of a quote.
    func first(_ quote: [String: JSONValue]) throws -> [String: JSONValue] {
        try firstObject(quote["resources"])
    }

    /// Buys a product paying with a voucher and cash; returns the provisioned resource.
    func ownWithVoucher(_ product: String, voucherFen: Int64, months: Int64 = 1, validTo: Int64? = nil) throws -> String {
        let voucher = try self.voucher(voucherFen, validTo: validTo)
        let id = text(try create(#"[{"product_id":"\#(product)","period":{"unit":"MONTH","count":\#(months)}}]"#), "order", "order_id")
        _ = try pay(id, coupons: [voucher])
        let resource = try resources(id)[0]
        _ = try report([(resource, true)])
        return resource
    }

    func couponBalance(_ index: Int = 0) throws -> Int64 {
        let list = try objects(try object(engine.listCoupons(#"{"account_id":"acme"}"#))["coupons"])
        try #require(index < list.count, "no coupon \(index)")
        return integer(list[index], "balance_fen")
    }
}

@Suite("Unsubscription: the worked examples of section 5")
struct UnsubscriptionTests {
    /// §5.7 EVS: bought 2024/01/01 10:30, expires 2024/02/01 23:59:59, unsubscribed 2024/01/15
    /// 18:40: 758 h, 344 h used; paid 100.00 ⇒ consumed 45.38, fee 10.00, refund 44.62.
    @Test func evsNonFiveDayFormula() throws {
        let shop = try Shop()
        let disk = try shop.own()
        try shop.engine.setClock(to: at(2024, 1, 15, 18, 40))
        let quote = try shop.quote([disk])
        let entry = try shop.first(quote)
        #expect(entry["class"] == "NON_FIVE_DAY")
        let period = try firstObject(entry["periods"])
        #expect(period["total_units"] == .integer(758))
        #expect(period["used_units"] == .integer(344))
        #expect(period["consumed_fen"] == .integer(4538))
        #expect(period["fee_rate_bp"] == .integer(1000))
        #expect(period["fee_fen"] == .integer(1000))
        #expect(period["refund_fen"] == .integer(4462))
        let before = try shop.cash()
        let done = try shop.unsubscribe([disk], #","quote_id":"\#(text(quote, "quote_id"))""#)
        #expect(text(done, "order", "type") == "UNSUBSCRIBE")
        #expect(text(done, "order", "status") == "COMPLETED")
        #expect(integer(done, "order", "amounts", "cash_fen") == 4462)
        #expect(try shop.cash() == before + 4462)
        #expect(try shop.resource(disk)["status"] == "UNSUBSCRIBED")
        try expectNoBreaches(shop.engine)
    }

    /// The voucher variant: 20.00 voucher + 80.00 cash ⇒ consumed 36.31, fee 8.00, refund 35.69
    /// cash; the voucher is lost.
    /// §5.7 with consumption and fee above what was paid: the same EVS unsubscribed 2024/01/30
    /// 14:40 has used 700 of 758 h ⇒ consumed 92.35; the formula fee 10.00 exceeds the 7.65
    /// left, so the fee kept is 7.65 and the refund 0 (refund + consumed + fee = paid).
    @Test func feeKeptIsWhatConsumptionLeaves() throws {
        let computed = try RefundRules.compute(paid: Money(fen: 10_000), totalUnits: 758, usedUnits: 700, feeRateBP: 1_000, bracket: 0)
        #expect(computed.consumed == Money(fen: 9_235))
        #expect(computed.fee == Money(fen: 1_000))
        #expect(computed.refund == .zero)
        let shop = try Shop()
        let disk = try shop.own()
        try shop.engine.setClock(to: at(2024, 1, 30, 14, 40))
        let entry = try shop.first(try shop.quote([disk]))
        let period = try firstObject(entry["periods"])
        #expect(period["used_units"] == .integer(700))
        #expect(period["consumed_fen"] == .integer(9_235))
        #expect(period["fee_fen"] == .integer(765))
        #expect(period["refund_fen"] == .integer(0))
    }

    @Test func evsWithVoucherLosesTheVoucher() throws {
        let shop = try Shop()
        let disk = try shop.ownWithVoucher("evs.100", voucherFen: 2000)
        try shop.engine.setClock(to: at(2024, 1, 15, 18, 40))
        let entry = try shop.first(try shop.quote([disk]))
        let period = try firstObject(entry["periods"])
        #expect(period["paid_amount_fen"] == .integer(8000))
        #expect(period["consumed_fen"] == .integer(3631))
        #expect(period["fee_fen"] == .integer(800))
        #expect(period["refund_fen"] == .integer(3569))
        #expect(period["forfeited"] == .array([["source": "VOUCHER", "coupon_id": .string(try shop.firstCouponID()), "amount_fen": 2000]]))
        let done = try shop.unsubscribe([disk])
        #expect(integer(done, "order", "amounts", "cash_fen") == 3569)
        #expect(integer(done, "order", "amounts", "voucher_fen") == 0)
        #expect(try shop.couponBalance() == 0)
        try expectNoBreaches(shop.engine)
    }

    /// §5.3: bought 2020/10/20, 100.00 = voucher 20.00 + cash 80.00, six of ten quota left;
    /// unsubscribed 2020/10/22 ⇒ 80.00 to cash, the 20.00 voucher back, quota 6 → 5.
    @Test func fiveDayRefundReturnsEverythingAndUsesQuota() throws {
        let shop = try Shop(at: at(2020, 10, 1, 9))
        for _ in 0..<4 { _ = try shop.unsubscribe([try shop.own()]) }
        try shop.engine.setClock(to: at(2020, 10, 20, 10))
        let ecs = try shop.ownWithVoucher("evs.100", voucherFen: 2000, validTo: at(2020, 12, 31, 23, 59, 59))
        try shop.engine.setClock(to: at(2020, 10, 22, 15))
        let quote = try shop.quote([ecs])
        #expect(try shop.first(quote)["class"] == "FIVE_DAY")
        #expect(field(quote, "five_day_quota", "used_before") == .integer(4))
        #expect(field(quote, "five_day_quota", "used_after") == .integer(5))
        let before = try shop.cash()
        let done = try shop.unsubscribe([ecs])
        #expect(integer(done, "order", "amounts", "cash_fen") == 8000)
        #expect(integer(done, "order", "amounts", "voucher_fen") == 2000)
        #expect(try shop.cash() == before + 8000)
        #expect(try shop.couponBalance(0) == 2000)
        #expect(field(try shop.quote([try shop.own()]), "five_day_quota", "used_before") == .integer(5))
        try expectNoBreaches(shop.engine)
    }

    /// §5.3 window: provisioned 2022/11/24 14:30:30, five-day refunds until 2022/11/29 14:30:30 (strict).
    @Test func fiveDayWindowIsStrict() throws {
        let shop = try Shop(at: at(2022, 11, 24, 14, 30, 30))
        let disk = try shop.own()
        try shop.engine.setClock(to: at(2022, 11, 29, 14, 30, 29))
        #expect(try shop.first(try shop.quote([disk]))["class"] == "FIVE_DAY")
        try shop.engine.setClock(to: at(2022, 11, 29, 14, 30, 30))
        #expect(try shop.first(try shop.quote([disk]))["class"] == "NON_FIVE_DAY")
    }

    /// §5.3 counting: ten disks of one order count ten; an ECS with its bound disk plus a VPC
    /// count two; ten desktops of a product not refundable per resource count one.
    @Test func fiveDayQuotaCounting() throws {
        let shop = try Shop()
        _ = try shop.engine.updateConfiguration(#"{"actor":"o","changes":{"five_day_quota_per_year":100}}"#)
        let disks = text(try shop.create(#"[{"product_id":"evs.100","period":{"unit":"MONTH","count":1},"quantity":10}]"#), "order", "order_id")
        _ = try shop.pay(disks)
        let ids = try shop.resources(disks)
        _ = try shop.report(ids.map { ($0, true) })
        #expect(field(try shop.quote(ids), "five_day_quota", "used_after") == .integer(10))
        _ = try shop.engine.putProduct(#"{"actor":"c","product":{"product_id":"vpc.m","product_type":"VPC","billing_mode":"PREPAID","monthly_price_fen":100}}"#)
        let ecs = try shop.own("ecs.s6")
        let vpc = try shop.own("vpc.m")
        let pair = try shop.quote([ecs, vpc])
        #expect(field(pair, "five_day_quota", "used_after") == .integer(2))
        let ecsGroup = try firstObject(pair["resources"])
        #expect(field(ecsGroup, "resource_ids")?.arrayValue?.count == 2)
        _ = try shop.engine.putProduct(#"{"actor":"c","product":{"product_id":"desk","product_type":"WORKSPACE","billing_mode":"PREPAID","monthly_price_fen":100,"per_resource_refund":false}}"#)
        let desks = text(try shop.create(#"[{"product_id":"desk","period":{"unit":"MONTH","count":1},"quantity":10}]"#), "order", "order_id")
        _ = try shop.pay(desks)
        let deskIDs = try shop.resources(desks)
        _ = try shop.report(deskIDs.map { ($0, true) })
        let one = try shop.quote([deskIDs[3]])
        #expect(field(one, "five_day_quota", "used_after") == .integer(1))
        let members = try #require(try firstObject(one["resources"])["resource_ids"]?.arrayValue)
        #expect(members.count == 10)
        _ = try shop.unsubscribe([deskIDs[0]])
        for id in deskIDs { #expect(try shop.resource(id)["status"] == "UNSUBSCRIBED") }
        try expectNoBreaches(shop.engine)
    }

    @Test func quotaExhaustedFallsBackToTheFormula() throws {
        let shop = try Shop()
        _ = try shop.engine.updateConfiguration(#"{"actor":"o","changes":{"five_day_quota_per_year":1}}"#)
        _ = try shop.unsubscribe([try shop.own()])
        let second = try shop.own()
        let entry = try shop.first(try shop.quote([second]))
        #expect(entry["class"] == "NON_FIVE_DAY")
        #expect(entry["five_day_quota_exhausted"] == true)
        // The quota resets on 1 January business time.
        let shopNextYear = try Shop(at: at(2024, 12, 31, 10))
        _ = try shopNextYear.engine.updateConfiguration(#"{"actor":"o","changes":{"five_day_quota_per_year":1}}"#)
        _ = try shopNextYear.unsubscribe([try shopNextYear.own()])
        let late = try shopNextYear.own()
        try shopNextYear.engine.setClock(to: at(2025, 1, 1, 0, 0, 1))
        #expect(try shopNextYear.first(try shopNextYear.quote([late]))["class"] == "FIVE_DAY")
    }

    /// §5.5: bought 2024/01/01 for a month, renewed 01/05 for 100.00 = voucher 20 + cash 80;
    /// the renewal unsubscribed 01/10 gives back 80.00 cash and the 20.00 voucher, and the
    /// resource keeps its expiry 2024/02/01 23:59:59.
    @Test func renewalPeriodRefundedInFull() throws {
        let shop = try Shop()
        let disk = try shop.own()
        try shop.engine.setClock(to: at(2024, 1, 5, 10))
        let voucher = try shop.voucher(2000)
        let renewal = text(try shop.renew([disk], #","period":{"unit":"MONTH","count":1}"#), "order", "order_id")
        _ = try shop.pay(renewal, coupons: [voucher])
        #expect(try shop.resource(disk)["expire_at"] == .integer(at(2024, 3, 1, 23, 59, 59)))
        try shop.engine.setClock(to: at(2024, 1, 10, 10))
        let quote = try shop.quote([disk], #","type":"RENEWAL_ONLY""#)
        #expect(try shop.first(quote)["class"] == "RENEWAL_ONLY")
        #expect(quote["total_refund_fen"] == .integer(10_000))
        let before = try shop.cash()
        let done = try shop.unsubscribe([disk], #","type":"RENEWAL_ONLY""#)
        #expect(integer(done, "order", "amounts", "cash_fen") == 8000)
        #expect(integer(done, "order", "amounts", "voucher_fen") == 2000)
        #expect(try shop.cash() == before + 8000)
        #expect(try shop.couponBalance(0) == 2000)
        let resource = try shop.resource(disk)
        #expect(resource["expire_at"] == .integer(at(2024, 2, 1, 23, 59, 59)))
        #expect(resource["status"] == "IN_USE")
        // Nothing left to unsubscribe alone.
        #expect(try shop.first(try shop.quote([disk], #","type":"RENEWAL_ONLY""#))["reason"] == "NO_INACTIVE_PERIOD")
        try expectNoBreaches(shop.engine)
    }

    /// With several periods to come the customer picks the expiry to fall back to.
    @Test func renewalOnlyFallsBackToAChosenExpiry() throws {
        let shop = try Shop()
        let disk = try shop.own()
        for _ in 0..<3 { _ = try shop.pay(text(try shop.renew([disk], #","period":{"unit":"MONTH","count":1}"#), "order", "order_id")) }
        #expect(try shop.resource(disk)["expire_at"] == .integer(at(2024, 5, 1, 23, 59, 59)))
        let march = at(2024, 3, 1, 23, 59, 59)
        let quote = try shop.quote([disk], #","type":"RENEWAL_ONLY","fallback_expiry":\#(march)"#)
        #expect(quote["total_refund_fen"] == .integer(20_000))
        _ = try shop.unsubscribe([disk], #","type":"RENEWAL_ONLY","fallback_expiry":\#(march)"#)
        #expect(try shop.resource(disk)["expire_at"] == .integer(march))
        #expect(expectBillingError { try shop.quote([disk], #","type":"RENEWAL_ONLY","fallback_expiry":\#(at(2024, 2, 15))"#) }?.reason == "invalid_fallback_expiry")
        try expectNoBreaches(shop.engine)
    }

    /// Unsubscribing a renewed resource: the current period by the formula, later ones in full,
    /// each traced to the order that paid it.
    @Test func currentPeriodByFormulaFutureInFull() throws {
        let shop = try Shop()
        let disk = try shop.own()
        let renewal = text(try shop.renew([disk], #","period":{"unit":"MONTH","count":2}"#), "order", "order_id")
        _ = try shop.pay(renewal)
        try shop.engine.setClock(to: at(2024, 1, 15, 18, 40))
        let entry = try shop.first(try shop.quote([disk]))
        #expect(entry["refund_fen"] == .integer(4462 + 20_000))
        let methods = try objects(entry["periods"]).map { try #require($0["method"]?.stringValue) }
        #expect(Set(methods) == ["FULL", "FORMULA"])
        let done = try shop.unsubscribe([disk])
        let payers = Set(try objects(field(done, "order", "refunds")).map { try #require($0["paid_by_order_id"]?.stringValue) })
        #expect(payers.contains(renewal))
        #expect(payers.count == 2)
        try expectNoBreaches(shop.engine)
    }

    @Test func feeTableBrackets() throws {
        let calendar = BusinessCalendar.chinaStandard
        let configuration = Configuration()
        let start = at(2024, 1, 1, 10)
        func rate(_ term: Period, usedUntil: Int64) throws -> Int64 {
            try RefundRules.feeRate(term: term, start: start, usedEnd: usedUntil, configuration: configuration, calendar: calendar).rate
        }
        let three = try Period(3, .year)
        #expect(try rate(three, usedUntil: at(2024, 7, 1)) == 1500)
        #expect(try rate(three, usedUntil: at(2025, 1, 1, 10)) == 1500) // exactly one year: "≤" closes the bracket
        #expect(try rate(three, usedUntil: at(2025, 1, 1, 11)) == 1000)
        #expect(try rate(three, usedUntil: at(2026, 6, 1)) == 500)
        #expect(try rate(try Period(2, .year), usedUntil: at(2024, 6, 1)) == 1500)
        #expect(try rate(try Period(2, .year), usedUntil: at(2025, 6, 1)) == 1000)
        #expect(try rate(try Period(1, .year), usedUntil: at(2024, 6, 1)) == 1000)
        #expect(try rate(try Period(6, .month), usedUntil: at(2024, 3, 1)) == 1000)
        // Decision 1: longer terms use the 3-year row, 5 % past its third bracket.
        #expect(try rate(try Period(5, .year), usedUntil: at(2024, 6, 1)) == 1500)
        #expect(try rate(try Period(5, .year), usedUntil: at(2028, 6, 1)) == 500)
    }

    /// The legacy day count: bought 06/14, expiring 07/14 is 31 days; unsubscribed 06/21 used 7.
    @Test func legacyDayCount() {
        let days = RefundRules.days(start: at(2024, 6, 14, 10), expiry: at(2024, 7, 14, 23, 59, 59), at: at(2024, 6, 21, 15),
                                    calendar: .chinaStandard)
        #expect(days.total == 31 && days.used == 7)
    }

    /// §5.10: a refund above 50,000.00 waits for review; rejected, the resource stays in use.
    @Test func largeRefundsNeedReview() throws {
        let shop = try Shop(cash: 50_000_000, at: at(2021, 8, 20, 10))
        _ = try shop.engine.putProduct(#"{"actor":"c","product":{"product_id":"ecs.big","product_type":"ECS","billing_mode":"PREPAID","yearly_price_fen":10000000}}"#)
        let server = try shop.own("ecs.big", unit: "YEAR")
        try shop.engine.setClock(to: at(2021, 9, 30, 10))
        let pending = try shop.unsubscribe([server])
        let order = text(pending, "order", "order_id")
        #expect(text(pending, "order", "status") == "PENDING_REVIEW")
        #expect(try shop.resource(server)["status"] == "IN_USE")
        let before = try shop.cash()
        _ = try shop.engine.reviewOrder(#"{"actor":"manager","account_id":"acme","order_id":"\#(order)","decision":"REJECT"}"#)
        #expect(try shop.status(order) == "CANCELLED")
        #expect(try shop.resource(server)["status"] == "IN_USE")
        #expect(try shop.cash() == before)
        let again = text(try shop.unsubscribe([server]), "order", "order_id")
        _ = try shop.engine.reviewOrder(#"{"actor":"manager","account_id":"acme","order_id":"\#(again)","decision":"APPROVE"}"#)
        #expect(try shop.status(again) == "COMPLETED")
        #expect(try shop.resource(server)["status"] == "UNSUBSCRIBED")
        #expect(try shop.cash() > before)
        try expectNoBreaches(shop.engine)
    }

    @Test func packagesNotYetEffectiveAreRefundedInFull() throws {
        let shop = try Shop()
        let order = text(try shop.create(#"[{"product_id":"obs.100g","period":{"unit":"MONTH","count":1},"effective_at":\#(at(2024, 2, 1))}]"#), "order", "order_id")
        _ = try shop.pay(order)
        let package = try shop.resources(order)[0]
        let quote = try shop.quote([package])
        #expect(try shop.first(quote)["class"] == "INACTIVE")
        #expect(field(quote, "five_day_quota", "used_after") == .integer(0))
        _ = try shop.unsubscribe([package])
        #expect(try shop.cash() == 1_000_000)
        // An effective package cannot be unsubscribed.
        let now = text(try shop.create(#"[{"product_id":"obs.100g","period":{"unit":"MONTH","count":1}}]"#), "order", "order_id")
        _ = try shop.pay(now)
        #expect(try shop.first(try shop.quote([try shop.resources(now)[0]]))["reason"] == "PACKAGE_EFFECTIVE")
    }

    @Test func everyNotRefundableReasonIsReported() throws {
        let shop = try Shop()
        func reason(_ id: String) throws -> String { text(try shop.first(try shop.quote([id])), "reason") }
        for (product, flags) in [("free", #""monthly_price_fen":0"#), ("trial", #""monthly_price_fen":100,"trial":true"#),
                                 ("norefund", #""monthly_price_fen":100,"refundable":false"#),
                                 ("promo", #""monthly_price_fen":100,"promotion_discount_bp":1000,"promotion_forbids_refund":true"#)] {
            _ = try shop.engine.putProduct(#"{"actor":"c","product":{"product_id":"\#(product)","product_type":"X","billing_mode":"PREPAID",\#(flags)}}"#)
        }
        #expect(try reason(try shop.own("free")) == "FREE_SERVICE")
        #expect(try reason(try shop.own("trial")) == "TRIAL")
        #expect(try reason(try shop.own("norefund")) == "PRODUCT_NOT_REFUNDABLE")
        #expect(try reason(try shop.own("promo")) == "PROMOTION_NO_REFUND")
        let box = text(try shop.create(#"[{"product_id":"box.1"}]"#), "order", "order_id")
        _ = try shop.pay(box)
        let boxID = try shop.resources(box)[0]
        _ = try shop.report([(boxID, true)])
        #expect(try reason(boxID) == "ONE_OFF")
        let bandwidth = try shop.resources(text(try shop.create(#"[{"product_id":"bw.ondemand"}]"#), "order", "order_id"))[0]
        #expect(try reason(bandwidth) == "PAY_PER_USE")
        let busy = try shop.own()
        _ = try shop.renew([busy], #","period":{"unit":"MONTH","count":1}"#)
        #expect(try reason(busy) == "TRANSACTION_IN_PROGRESS")
        let ecs = try shop.own("ecs.s6")
        let bound = try shop.engine.lock.withLock { try ResourceStore.bound(shop.engine.db, to: ecs) }[0].id
        #expect(try reason(bound) == "MUST_BE_WHOLE")
        for block in ["INVOICED_MARKETPLACE", "ARCHIVED", "SUPPORT_BENEFIT_USED"] {
            let blocked = try shop.own()
            _ = try shop.engine.setRefundBlocks(#"{"actor":"h","account_id":"acme","resource_id":"\#(blocked)","blocks":["\#(block)"]}"#)
            #expect(try reason(blocked) == block)
        }
        let police = try shop.own()
        _ = try shop.engine.putAccount(#"{"actor":"h","account_id":"acme","freeze":"POLICE"}"#)
        #expect(try reason(police) == "POLICE_FROZEN")
        _ = try shop.engine.putAccount(#"{"actor":"h","account_id":"acme","freeze":"NONE"}"#)
        try shop.runScheduler(at: at(2024, 2, 3))
        #expect(try reason(police) == "EXPIRED")
        // A refusal changes nothing.
        let cash = try shop.cash()
        let events = try eventCount(shop.engine)
        #expect(expectBillingError { try shop.unsubscribe([police]) }?.reason == "not_refundable")
        #expect(try shop.cash() == cash)
        #expect(try eventCount(shop.engine) == events)
        try expectNoBreaches(shop.engine)
    }

    @Test func aResourceIsRefundedOnce() throws {
        let shop = try Shop()
        let disk = try shop.own()
        let quote = try shop.quote([disk])
        _ = try shop.unsubscribe([disk])
        #expect(expectBillingError { try shop.unsubscribe([disk]) }?.reason == "not_refundable")
        #expect(try shop.first(try shop.quote([disk]))["reason"] == "ENDED")
        // A quote stays good while its figures do, and is refused once they move.
        let other = try shop.own()
        let fresh = text(try shop.quote([other]), "quote_id")
        try shop.engine.advanceClock(by: 1)
        #expect(text(try shop.quote([other]), "quote_id") == fresh)
        let stale = text(try shop.quote([other]), "quote_id")
        try shop.engine.advanceClock(by: 6 * 86_400)
        #expect(expectBillingError { try shop.unsubscribe([other], #","quote_id":"\#(stale)""#) }?.reason == "quote_stale")
        _ = quote
        try expectNoBreaches(shop.engine)
    }

    /// Random purchases, renewals, coupons and unsubscription times: refund + consumed + fee =
    /// paid per source, 0 ≤ refund ≤ paid, the quote is what execution does, books exact.
    @Test func refundPropertiesOverRandomHistories() throws {
        var random = SplitMix64(seed: 515)
        for round in 0..<25 {
            let shop = try Shop(cash: 100_000_000, at: at(2024, 1, 1, 10) + Int64.random(in: 0...86_400 * 300, using: &random))
            _ = try shop.engine.putProduct(#"{"actor":"c","product":{"product_id":"p","product_type":"EVS","billing_mode":"PREPAID","monthly_price_fen":\#(Int64.random(in: 1...900_000, using: &random)),"yearly_price_fen":\#(Int64.random(in: 1...9_000_000, using: &random))}}"#)
            let unit = Bool.random(using: &random) ? "MONTH" : "YEAR"
            let count = Int64.random(in: 1...3, using: &random)
            let coupons = try (0..<Int.random(in: 0...2, using: &random)).map { _ -> String in
                let kind = ["VOUCHER", "CASH_COUPON", "STORED_VALUE_CARD"][Int.random(in: 0...2, using: &random)]
                return text(try object(shop.engine.issueCoupon(#"{"actor":"o","account_id":"acme","kind":"\#(kind)","face_value_fen":\#(Int64.random(in: 1...500_000, using: &random)),"valid_from":0,"valid_to":\#(at(2030, 1, 1))}"#)), "coupon", "coupon_id")
            }
            let order = text(try shop.create(#"[{"product_id":"p","period":{"unit":"\#(unit)","count":\#(count)}}]"#), "order", "order_id")
            _ = try shop.pay(order, coupons: coupons)
            let resource = try shop.resources(order)[0]
            _ = try shop.report([(resource, true)])
            if Bool.random(using: &random) {
                _ = try shop.pay(text(try shop.renew([resource], #","period":{"unit":"MONTH","count":1}"#), "order", "order_id"))
            }
            let expiry = integer(try shop.resource(resource), "expire_at")
            try shop.engine.setClock(to: min(expiry - 1, shop.engine.now + Int64.random(in: 0...(expiry - shop.engine.now), using: &random)))
            let quote = try shop.quote([resource])
            let entry = try shop.first(quote)
            for period in try objects(entry["periods"]) where period["method"] == "FORMULA" {
                for source in try objects(period["by_source"]) {
                    let paid = integer(source, "paid_fen"), refund = integer(source, "refund_fen")
                    #expect(refund + integer(source, "consumed_fen") + integer(source, "fee_fen") == paid, "round \(round)")
                    #expect(refund >= 0 && refund <= paid, "round \(round)")
                    #expect(integer(source, "fee_fen") >= 0 && integer(source, "consumed_fen") >= 0, "round \(round)")
                }
            }
            let done = try shop.unsubscribe([resource], #","quote_id":"\#(text(quote, "quote_id"))""#)
            #expect(integer(done, "order", "amounts", "list_price_fen") == integer(quote, "total_refund_fen"), "round \(round)")
            try expectNoBreaches(shop.engine)
        }
    }
}

extension Shop {
    func firstCouponID() throws -> String {
        try #require(try firstObject(try object(engine.listCoupons(#"{"account_id":"acme"}"#))["coupons"])["coupon_id"]?.stringValue)
    }
}
