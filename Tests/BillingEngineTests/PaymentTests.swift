import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

@Suite("Payment: coupons, funding order, allocation")
struct PaymentTests {
    @Test func voucherAndCashAddUpOnEveryLine() throws {
        let shop = try Shop()
        let voucher = try shop.voucher(2000)
        let id = text(try shop.create(Shop.oneECS), "order", "order_id")
        let paid = try shop.pay(id, coupons: [voucher])
        #expect(amountsHold(field(paid, "order", "amounts")))
        #expect(integer(paid, "order", "amounts", "voucher_fen") == 2000)
        #expect(integer(paid, "order", "amounts", "cash_fen") == 9000)
        let lines = try objects(field(paid, "order", "lines"))
        try #require(lines.count == 2)
        var voucherSum: Int64 = 0
        for line in lines {
            #expect(amountsHold(line["amounts"]))
            voucherSum += integer(line, "amounts", "voucher_fen")
        }
        #expect(voucherSum == 2000)
        // Spread by amount due: 100.00 ECS gets 18.18, the 10.00 disk 1.82.
        #expect(integer(lines[0], "amounts", "voucher_fen") == 1818)
        let coupon = try object(shop.engine.listCoupons(#"{"account_id":"acme"}"#))
        let first = try firstObject(coupon["coupons"])
        #expect(first["balance_fen"] == .integer(0))
        #expect(first["status"] == "USED_UP")
        try expectNoBreaches(shop.engine)
    }

    @Test func everyCouponRuleIsChecked() throws {
        let shop = try Shop()
        let id = text(try shop.create(Shop.oneEVS), "order", "order_id") // 100.00 EVS
        let window = #""valid_from":\#(january1st2024 - 86_400),"valid_to":\#(january1st2024 + 86_400)"#
        func issue(_ body: String) throws -> String {
            text(try object(shop.engine.issueCoupon(#"{"actor":"ops","account_id":"acme",\#(body)}"#)), "coupon", "coupon_id")
        }
        let minSpend = try issue(#""kind":"VOUCHER","face_value_fen":100,"min_spend_fen":10000,\#(window)"#)
        #expect(expectBillingError { try shop.pay(id, coupons: [minSpend]) }?.reason == "coupon_min_spend_not_met")
        let ecsOnly = try issue(#""kind":"VOUCHER","face_value_fen":100,"scope":{"products":["ECS"]},\#(window)"#)
        #expect(expectBillingError { try shop.pay(id, coupons: [ecsOnly]) }?.reason == "coupon_not_applicable")
        let renewOnly = try issue(#""kind":"VOUCHER","face_value_fen":100,"scope":{"order_types":["RENEW"]},\#(window)"#)
        #expect(expectBillingError { try shop.pay(id, coupons: [renewOnly]) }?.reason == "coupon_not_applicable")
        let yearly = try issue(#""kind":"VOUCHER","face_value_fen":100,"scope":{"billing_modes":["PREPAID_YEARLY"]},\#(window)"#)
        #expect(expectBillingError { try shop.pay(id, coupons: [yearly]) }?.reason == "coupon_not_applicable")
        let later = try issue(#""kind":"VOUCHER","face_value_fen":100,"valid_from":\#(january1st2024 + 3600),"valid_to":\#(january1st2024 + 7200)"#)
        #expect(expectBillingError { try shop.pay(id, coupons: [later]) }?.reason == "coupon_not_usable")
        let four = try (0..<4).map { _ in try issue(#""kind":"CASH_COUPON","face_value_fen":10,\#(window)"#) }
        #expect(expectBillingError { try shop.pay(id, coupons: four) }?.reason == "too_many_coupons")
        #expect(expectBillingError { try shop.pay(id, coupons: [four[0], four[0]]) }?.reason == "duplicate_coupon")
        #expect(expectBillingError { try shop.pay(id, coupons: ["CPN999"]) }?.status == .notFound)
        let d1 = try issue(#""kind":"DISCOUNT_COUPON","discount_bp":1000,\#(window)"#)
        let d2 = try issue(#""kind":"DISCOUNT_COUPON","discount_bp":500,\#(window)"#)
        #expect(expectBillingError { try shop.pay(id, coupons: [d1, d2]) }?.reason == "too_many_discount_coupons")
        let exclusive = try issue(#""kind":"VOUCHER","face_value_fen":100,\#(window)"#)
        #expect(expectBillingError { try shop.pay(id, coupons: [exclusive, d1]) }?.reason == "coupon_excludes_discounts")
        // None of the refusals changed anything.
        #expect(try shop.status(id) == "PENDING_PAYMENT")
        #expect(try shop.cash() == 1_000_000)
        // A commercial discount excludes an exclusive voucher too.
        _ = try shop.engine.setCommercialDiscount(#"{"actor":"s","account_id":"acme","product_type":"EVS","rate_bp":500}"#)
        let discounted = text(try shop.create(Shop.oneEVS), "order", "order_id")
        #expect(expectBillingError { try shop.pay(discounted, coupons: [exclusive]) }?.reason == "coupon_excludes_discounts")
        let tolerant = try issue(#""kind":"VOUCHER","face_value_fen":100,"exclusive_with_discounts":false,\#(window)"#)
        let paid = try shop.pay(discounted, coupons: [tolerant])
        #expect(integer(paid, "order", "amounts", "amount_due_fen") == 9500)
        #expect(integer(paid, "order", "amounts", "voucher_fen") == 100)
        #expect(amountsHold(field(paid, "order", "amounts")))
        try expectNoBreaches(shop.engine)
    }

    @Test func discountCouponLowersTheAmountDueOnce() throws {
        let shop = try Shop()
        let window = #""valid_from":\#(january1st2024 - 86_400),"valid_to":\#(january1st2024 + 86_400)"#
        let coupon = text(try object(shop.engine.issueCoupon(#"{"actor":"o","account_id":"acme","kind":"DISCOUNT_COUPON","discount_bp":1500,"max_discount_fen":1200,\#(window)}"#)), "coupon", "coupon_id")
        let id = text(try shop.create(#"[{"product_id":"evs.100","period":{"unit":"MONTH","count":1},"quantity":2}]"#), "order", "order_id")
        let paid = try shop.pay(id, coupons: [coupon])
        // 15 % of 200.00 is 30.00, capped at 12.00.
        #expect(integer(paid, "order", "amounts", "discount_coupon_fen") == 1200)
        #expect(integer(paid, "order", "amounts", "amount_due_fen") == 18_800)
        #expect(integer(paid, "order", "amounts", "cash_fen") == 18_800)
        #expect(amountsHold(field(paid, "order", "amounts")))
        let again = text(try shop.create(Shop.oneEVS), "order", "order_id")
        #expect(expectBillingError { try shop.pay(again, coupons: [coupon]) }?.reason == "coupon_not_usable")
        try expectNoBreaches(shop.engine)
    }

    @Test func fundsComeFromCouponsCashThenCredit() throws {
        let shop = try Shop(cash: 3000)
        _ = try shop.engine.putAccount(#"{"actor":"h","account_id":"acme","credit_limit_fen":5000}"#)
        let window = #""valid_from":\#(january1st2024 - 86_400),"valid_to":\#(january1st2024 + 86_400)"#
        let card = text(try object(shop.engine.issueCoupon(#"{"actor":"o","account_id":"acme","kind":"STORED_VALUE_CARD","face_value_fen":1000,\#(window)}"#)), "coupon", "coupon_id")
        let cashCoupon = text(try object(shop.engine.issueCoupon(#"{"actor":"o","account_id":"acme","kind":"CASH_COUPON","face_value_fen":500,\#(window)}"#)), "coupon", "coupon_id")
        let voucher = try shop.voucher(1500)
        let id = text(try shop.create(Shop.oneEVS), "order", "order_id")
        // Listed in any order, they are applied voucher → cash coupon → card → cash → credit.
        let paid = try shop.pay(id, coupons: [card, cashCoupon, voucher])
        #expect(integer(paid, "order", "amounts", "voucher_fen") == 1500)
        #expect(integer(paid, "order", "amounts", "cash_coupon_fen") == 500)
        #expect(integer(paid, "order", "amounts", "stored_value_card_fen") == 1000)
        #expect(integer(paid, "order", "amounts", "cash_fen") == 3000)
        #expect(integer(paid, "order", "amounts", "credit_fen") == 4000)
        #expect(amountsHold(field(paid, "order", "amounts")))
        let account = try object(shop.engine.getAccount(#"{"account_id":"acme"}"#))
        #expect(integer(account, "account", "credit_used_fen") == 4000)
        #expect(integer(account, "account", "cash_balance_fen") == 0)
        let short = text(try shop.create(Shop.oneEVS), "order", "order_id")
        #expect(expectBillingError { try shop.pay(short) }?.reason == "insufficient_funds")
        try expectNoBreaches(shop.engine)
    }

    @Test func frozenOrIndebtedAccountsCannotPay() throws {
        let shop = try Shop()
        let id = text(try shop.create(Shop.oneEVS), "order", "order_id")
        _ = try shop.engine.putAccount(#"{"actor":"h","account_id":"acme","freeze":"VIOLATION"}"#)
        #expect(expectBillingError { try shop.pay(id) }?.reason == "account_frozen")
        _ = try shop.engine.putAccount(#"{"actor":"h","account_id":"acme","freeze":"NONE"}"#)
        try shop.engine.writeForTest {
            // A pay-per-use hour charged to cash, as usage rating records it.
            try shop.engine.db.run("INSERT INTO usage_funding (resource_id, hour_start, source, amount) VALUES ('RS-test', 0, 'CASH', 1000001)")
            try AccountStore.post(shop.engine.db, account: "acme", fund: .cash, kind: "USAGE", amount: Money(fen: -1_000_001),
                                  reference: "RS-test@0", at: january1st2024)
        }
        #expect(expectBillingError { try shop.pay(id) }?.reason == "account_in_arrears")
        try expectNoBreaches(shop.engine)
    }

    /// §3.5 [S25g]: an automatic renewal takes vouchers by largest remaining balance, then cash
    /// coupons, then stored-value cards, at most three, each only when it pays something and
    /// the payment rules allow it (discount coupons: see the next test).
    @Test func automaticRenewalChoosesCouponsLikeTheRulesSay() throws {
        func coupon(_ id: String, _ kind: CouponKind, _ fen: Int64, validTo: Int64 = 100, scope: CouponScope = CouponScope(),
                    exclusive: Bool = false) -> Coupon {
            Coupon(id: id, accountID: "a", kind: kind, faceValue: Money(fen: fen), balance: Money(fen: fen),
                   discountBP: kind == .discountCoupon ? 5_000 : nil, maxDiscount: nil, validFrom: 0, validTo: validTo, scope: scope,
                   minSpend: .zero, exclusiveWithDiscounts: exclusive, reference: nil, issuedAt: 0)
        }
        func line(_ fen: Int64, discount: Int64 = 0) -> PayableLine {
            var amounts = OrderAmounts()
            amounts.listPrice = Money(fen: fen)
            amounts.commercialDiscount = Money(fen: discount)
            return PayableLine(amounts: amounts, productID: "evs", productType: "EVS", orderType: "RENEW",
                               billingModeScope: "PREPAID_MONTHLY", region: nil)
        }
        func chosen(_ lines: [PayableLine], _ coupons: [Coupon]) -> [String] {
            PaymentAllocation.automaticCoupons(lines: lines, available: coupons, maximumCoupons: 3, at: 5).map(\.id)
        }
        let small = coupon("v-small", .voucher, 500, validTo: 10)
        let big = coupon("v-big", .voucher, 1_500)
        let cash = coupon("cash", .cashCoupon, 600)
        let card = coupon("card", .storedValueCard, 1_000)
        // 30.00 due: 15.00 + 5.00 of vouchers (largest first), then the cash coupon; three is the most.
        #expect(chosen([line(3_000)], [card, cash, small, big]) == ["v-big", "v-small", "cash"])
        // The big voucher alone covers 10.00: nothing else is taken.
        #expect(chosen([line(1_000)], [card, cash, small, big]) == ["v-big"])
        // Out of scope, exclusive with the line's discount, expired: skipped for the card.
        var elsewhere = CouponScope()
        elsewhere.products = ["ecs"]
        let skipped = [coupon("scoped", .voucher, 9_000, scope: elsewhere), coupon("exclusive", .voucher, 9_000, exclusive: true),
                       coupon("expired", .cashCoupon, 9_000, validTo: 5), card]
        #expect(chosen([line(3_000, discount: 300)], skipped) == ["card"])
        #expect(chosen([line(0)], [big, card]) == [])
    }

    /// §3.5 [S25g] [S17d]: an automatic renewal weighs the best discount coupon (with the
    /// balance coupons compatible with it) against the balance coupons alone and takes what
    /// leaves the least to pay; ties keep the discount coupon for the customer.
    @Test func automaticRenewalWeighsDiscountCouponsAgainstBalanceCoupons() throws {
        func coupon(_ id: String, _ kind: CouponKind, _ fen: Int64 = 0, bp: Int64? = nil, cap: Int64? = nil,
                    validTo: Int64 = 100, minSpend: Int64 = 0, exclusive: Bool = false) -> Coupon {
            Coupon(id: id, accountID: "a", kind: kind, faceValue: Money(fen: fen), balance: Money(fen: fen),
                   discountBP: bp, maxDiscount: cap.map { Money(fen: $0) }, validFrom: 0, validTo: validTo, scope: CouponScope(),
                   minSpend: Money(fen: minSpend), exclusiveWithDiscounts: exclusive, reference: nil, issuedAt: 0)
        }
        var amounts = OrderAmounts()
        amounts.listPrice = Money(fen: 10_000)
        let lines = [PayableLine(amounts: amounts, productID: "evs", productType: "EVS", orderType: "RENEW",
                                 billingModeScope: "PREPAID_MONTHLY", region: nil)]
        func chosen(_ coupons: [Coupon], maximum: Int64 = 3) -> [String] {
            PaymentAllocation.automaticCoupons(lines: lines, available: coupons, maximumCoupons: maximum, at: 5).map(\.id)
        }
        let tenOff = coupon("10%", .discountCoupon, bp: 1_000)
        let thirtyOff = coupon("30%", .discountCoupon, bp: 3_000)
        let cappedHalf = coupon("50%≤20", .discountCoupon, bp: 5_000, cap: 2_000)
        // 100.00 due: the best discount coupon (30.00 off beats 20.00 capped and 10.00) alone.
        #expect(chosen([tenOff, cappedHalf, thirtyOff]) == ["30%"])
        // An exclusive 20.00 voucher loses to 30.00 off; a 40.00 one wins.
        #expect(chosen([coupon("v20", .voucher, 2_000, exclusive: true), thirtyOff]) == ["30%"])
        #expect(chosen([coupon("v40", .voucher, 4_000, exclusive: true), thirtyOff]) == ["v40"])
        // A voucher that allows discount coupons goes with one: 30.00 off, then 20.00.
        #expect(chosen([coupon("v20", .voucher, 2_000), thirtyOff]) == ["30%", "v20"])
        // 30.00 off + the 50.00 cash coupon leave 20.00, as do the exclusive 30.00 voucher and
        // the cash coupon: same count, so the customer keeps the discount coupon.
        let cash50 = coupon("cash50", .cashCoupon, 5_000)
        #expect(chosen([coupon("v30", .voucher, 3_000, exclusive: true), cash50, thirtyOff]) == ["v30", "cash50"])
        // Fewer coupons for the same result: 30.00 off + 70.00 of the cash coupon cover it all,
        // but so does the 100.00 cash coupon alone.
        #expect(chosen([coupon("cash100", .cashCoupon, 10_000), thirtyOff]) == ["cash100"])
        // The discount coupon counts toward the maximum: with one coupon allowed, 30.00 off
        // beats a 20.00 cash coupon; with a 40.00 one the cash coupon wins.
        #expect(chosen([coupon("cash20", .cashCoupon, 2_000), thirtyOff], maximum: 1) == ["30%"])
        #expect(chosen([coupon("cash40", .cashCoupon, 4_000), thirtyOff], maximum: 1) == ["cash40"])
        #expect(chosen([thirtyOff], maximum: 0) == [])
        // Minimum spend, expiry and used coupons are respected.
        var used = thirtyOff
        used.usedAt = 1
        #expect(chosen([coupon("min", .discountCoupon, bp: 5_000, minSpend: 10_000), coupon("old", .discountCoupon, bp: 5_000, validTo: 5),
                        used, tenOff]) == ["10%"])
        // A line priced with a commercial discount (90.00 due) keeps the exclusive voucher out,
        // not the discount coupon.
        var discounted = amounts
        discounted.commercialDiscount = Money(fen: 1_000)
        let priced = [PayableLine(amounts: discounted, productID: "evs", productType: "EVS", orderType: "RENEW",
                                  billingModeScope: "PREPAID_MONTHLY", region: nil)]
        #expect(PaymentAllocation.automaticCoupons(lines: priced, available: [coupon("v40", .voucher, 4_000, exclusive: true), thirtyOff],
                                                   maximumCoupons: 3, at: 5).map(\.id) == ["30%"])
        #expect(chosen([]) == [])
    }

    @Test func allocationPropertyOverRandomOrders() throws {
        var random = SplitMix64(seed: 4242)
        for _ in 0..<2000 {
            let count = Int.random(in: 1...5, using: &random)
            let lines = (0..<count).map { index -> PayableLine in
                var amounts = OrderAmounts()
                amounts.listPrice = Money(fen: Int64.random(in: 0...5_000_000, using: &random))
                amounts.commercialDiscount = Money(fen: Int64.random(in: 0...(amounts.listPrice.fen / 5), using: &random))
                return PayableLine(amounts: amounts, productID: "p\(index)", productType: index % 2 == 0 ? "ECS" : "EVS",
                                   orderType: "NEW", billingModeScope: "PREPAID_MONTHLY", region: nil)
            }
            var coupons: [Coupon] = []
            for (index, kind) in [CouponKind.voucher, .cashCoupon, .storedValueCard].enumerated() where Bool.random(using: &random) {
                var scope = CouponScope()
                if Bool.random(using: &random) { scope.products = ["ECS"] }
                let value = Money(fen: Int64.random(in: 1...2_000_000, using: &random))
                coupons.append(Coupon(id: "c\(index)", accountID: "a", kind: kind, faceValue: value, balance: value, discountBP: nil,
                                      maxDiscount: nil, validFrom: 0, validTo: 10, scope: scope, minSpend: .zero,
                                      exclusiveWithDiscounts: false, reference: nil, issuedAt: 0))
            }
            let cash = Money(fen: Int64.random(in: 0...20_000_000, using: &random))
            guard let result = try? PaymentAllocation.allocate(lines: lines, coupons: coupons, availableCash: cash,
                                                               availableCredit: Money(fen: 30_000_000), maximumCoupons: 3, at: 5) else {
                continue // a random draw the funds cannot pay: nothing to check (not a response shape)
            }
            var perCoupon: [String: Int64] = [:]
            for part in result.parts { if let id = part.couponID { perCoupon[id, default: 0] += part.amount.fen } }
            for coupon in coupons { #expect((perCoupon[coupon.id] ?? 0) <= coupon.balance.fen) }
            for line in result.lines {
                let a = line.amounts
                #expect(try a.amountDue.fen - a.voucher.fen == a.paidAmount.fen)
                #expect(a.voucher.fen >= 0 && a.cash.fen >= 0 && a.credit.fen >= 0)
                #expect(try line.remaining.fen == 0)
            }
            let total = try OrderAmounts.total(result.lines.map(\.amounts))
            #expect(total.cash <= cash)
            #expect(try Money.sum(result.parts.map(\.amount)).fen == total.voucher.fen + total.paidAmount.fen + total.discountCoupon.fen)
        }
    }
}
