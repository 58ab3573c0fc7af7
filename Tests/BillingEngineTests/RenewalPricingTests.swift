import FoundationEssentials
import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

/// The renewal price wherever it shows (quote, renewal-price export, applicable coupons) is
/// what renewing charges, and a batch renewal takes what the guide allows.
@Suite("Renewal pricing and batch limits")
struct RenewalPricingTests {
    @Test func batchRenewalUpToTheConfiguredLimit() throws {
        let shop = try Shop(cash: 10_000_000)
        #expect(Configuration.maxBatchRenewLimit == 1000)
        let tooMany = expectBillingError {
            try shop.engine.updateConfiguration(#"{"actor":"o","changes":{"max_batch_renew":1001}}"#)
        }
        #expect(tooMany?.reason == "out_of_range")
        #expect(tooMany?.message.contains("max_batch_renew") == true)
        #expect(try shop.engine.configuration().maxBatchRenew == 10)
        var disks: [String] = []
        for quantity in [100, 100, 1] {
            let id = text(try shop.create(#"[{"product_id":"evs.sys40","period":{"unit":"MONTH","count":1},"quantity":\#(quantity)}]"#), "order", "order_id")
            _ = try shop.pay(id)
            let created = try shop.resources(id)
            _ = try shop.report(created.map { ($0, true) })
            disks += created
        }
        #expect(disks.count == 201)
        // Above the setting: refused, naming the setting.
        #expect(expectBillingError { try shop.renew(Array(disks.prefix(11))) }?.reason == "too_many_items")
        _ = try shop.engine.updateConfiguration(#"{"actor":"o","changes":{"max_batch_renew":1000}}"#)
        #expect(try shop.engine.configuration().maxBatchRenew == Configuration.maxBatchRenewLimit)
        // More than 200 (the old fixed cap of the request) in one quote and one renewal.
        let ids = disks.map { "\"\($0)\"" }.joined(separator: ",")
        let quote = try object(shop.engine.quoteRenewal(#"{"account_id":"acme","resource_ids":[\#(ids)],"period":{"unit":"MONTH","count":1}}"#))
        #expect(integer(quote, "amounts", "amount_due_fen") == 201 * 1000)
        let renewed = try shop.renew(disks, #","period":{"unit":"MONTH","count":1},"auto_pay":true"#)
        #expect(field(renewed, "payment", "succeeded") == .bool(true))
        #expect(integer(renewed, "order", "amounts", "paid_amount_fen") == 201 * 1000)
        // Past the limit the request itself is refused.
        let past = (0...Int(Configuration.maxBatchRenewLimit)).map { "\"RS\($0)\"" }.joined(separator: ",")
        #expect(expectBillingError { try shop.engine.renewResources(#"{"actor":"c","account_id":"acme","resource_ids":[\#(past)]}"#) }?.reason == "too_many_items")
        try expectNoBreaches(shop.engine)
    }

    @Test func applicableCouponsAreThoseThePaymentTakes() throws {
        let shop = try Shop()
        let disk = try shop.own()  // evs.100: 1,000.00 a year
        _ = try shop.engine.setCommercialDiscount(#"{"actor":"sales","account_id":"acme","product_type":"EVS","rate_bp":1000}"#)
        let now = shop.engine.now
        func issue(_ body: String, from: Int64 = january1st2024 - 86_400, to: Int64 = january1st2024 + 400 * 86_400) throws -> String {
            text(try object(shop.engine.issueCoupon(#"{"actor":"ops","account_id":"acme",\#(body),"valid_from":\#(from),"valid_to":\#(to)}"#)), "coupon", "coupon_id")
        }
        let plain = try issue(#""kind":"VOUCHER","face_value_fen":500,"exclusive_with_discounts":false"#)
        let cash = try issue(#""kind":"CASH_COUPON","face_value_fen":300"#)
        let discount = try issue(#""kind":"DISCOUNT_COUPON","discount_bp":500"#)
        let exclusive = try issue(#""kind":"VOUCHER","face_value_fen":500,"exclusive_with_discounts":true"#)
        let expired = try issue(#""kind":"VOUCHER","face_value_fen":500,"exclusive_with_discounts":false"#, to: now - 1)
        let notYet = try issue(#""kind":"VOUCHER","face_value_fen":500,"exclusive_with_discounts":false"#, from: now + 86_400)
        let otherType = try issue(#""kind":"VOUCHER","face_value_fen":500,"exclusive_with_discounts":false,"scope":{"products":["ECS"]}"#)
        let threshold = try issue(#""kind":"CASH_COUPON","face_value_fen":500,"min_spend_fen":200000"#)
        let quote = try object(shop.engine.quoteRenewal(#"{"account_id":"acme","resource_ids":["\#(disk)"]}"#))
        #expect(integer(quote, "amounts", "commercial_discount_fen") == 10_000)
        guard case .array(let listed)? = quote["applicable_coupons"] else { Issue.record("no applicable_coupons"); return }
        let applicable = listed.compactMap { value -> String? in
            if case .object(let coupon) = value, case .string(let id)? = coupon["coupon_id"] { return id } else { return nil }
        }
        #expect(Set(applicable) == [plain, cash, discount])
        // Every coupon left out is one the payment refuses, each for its own rule.
        for (coupon, reason) in [(exclusive, "coupon_excludes_discounts"), (expired, "coupon_not_usable"), (notYet, "coupon_not_usable"),
                                 (otherType, "coupon_not_applicable"), (threshold, "coupon_min_spend_not_met")] {
            let refused = try object(shop.engine.quoteRenewal(#"{"account_id":"acme","resource_ids":["\#(disk)"],"coupon_ids":["\#(coupon)"]}"#))
            #expect(field(refused, "payment", "payable") == .bool(false))
            #expect(text(refused, "payment", "reason") == reason)
        }
        // Every coupon listed is one a payment of the renewal takes.
        for coupon in applicable {
            let renewed = try shop.renew([disk], #","auto_pay":true,"coupon_ids":["\#(coupon)"]"#)
            #expect(field(renewed, "payment", "succeeded") == .bool(true))
            guard case .array(let payments)? = field(renewed, "order", "payments") else { Issue.record("no payments"); continue }
            let used = payments.contains { if case .object(let part) = $0 { return part["coupon_id"] == .string(coupon) } else { return false } }
            #expect(used || coupon == discount)
        }
        try expectNoBreaches(shop.engine)
    }

    @Test func renewalPriceExportChargesWhatRenewingCharges() throws {
        let shop = try Shop()
        // A commercial discount on the ECS and a promotion on its bound disk.
        _ = try shop.engine.putProduct(#"{"actor":"catalog","product":{"product_id":"evs.sys40","product_type":"EVS","billing_mode":"PREPAID","monthly_price_fen":1000,"yearly_price_fen":10000,"hourly_price_microfen":2000000,"promotion_discount_bp":500}}"#)
        _ = try shop.engine.setCommercialDiscount(#"{"actor":"sales","account_id":"acme","product_type":"ECS","rate_bp":1200}"#)
        let ecs = try shop.own("ecs.s6")
        let record = try shop.export(#""kind":"RENEWAL_PRICES","filter":{"tab":"MANUAL"},"language":"en""#)
        let exportID = text(record, "export", "export_id")
        _ = try shop.runExportToEnd(exportID)
        let rows = try shop.csv(exportID).split(separator: "\r\n").map(String.init)
        guard let row = rows.first(where: { $0.hasPrefix(ecs + ",") }) else { Issue.record("no row for \(ecs)"); return }
        let quote = try object(shop.engine.quoteRenewal(#"{"account_id":"acme","resource_ids":["\#(ecs)"]}"#))
        let list = Money(fen: integer(quote, "amounts", "list_price_fen"))
        let discounts = Money(fen: integer(quote, "amounts", "discount_fen"))
        let due = Money(fen: integer(quote, "amounts", "amount_due_fen"))
        #expect(discounts == Money(fen: 12_000 + 500))
        #expect(row == "\(ecs),ecs.s6,2024-02-01 23:59:59,1 YEAR,\(list),\(discounts),\(due)")
        let renewed = try shop.renew([ecs], #","auto_pay":true"#)
        #expect(field(renewed, "payment", "succeeded") == .bool(true))
        #expect(integer(renewed, "order", "amounts", "amount_due_fen") == due.fen)
        #expect(integer(renewed, "order", "amounts", "paid_amount_fen") == due.fen)
        try expectNoBreaches(shop.engine)
    }
}
