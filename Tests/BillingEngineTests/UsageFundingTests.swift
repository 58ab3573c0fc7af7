import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

@Suite("Usage funding through the payment allocation (pure)")
struct UsageFundingTests {
    func coupon(_ id: String, _ kind: CouponKind, _ fen: Int64, validFrom: Int64 = 0, validTo: Int64 = 100,
                scope: CouponScope = CouponScope(), minSpend: Int64 = 0) -> Coupon {
        Coupon(id: id, accountID: "a", kind: kind, faceValue: Money(fen: fen), balance: Money(fen: fen),
               discountBP: kind == .discountCoupon ? 5_000 : nil, maxDiscount: nil, validFrom: validFrom, validTo: validTo,
               scope: scope, minSpend: Money(fen: minSpend), exclusiveWithDiscounts: kind == .voucher, reference: nil, issuedAt: 0)
    }

    func usageLine(_ fen: Int64) -> PayableLine {
        var amounts = OrderAmounts()
        amounts.listPrice = Money(fen: fen)
        return PayableLine(amounts: amounts, productID: "bw.ondemand", productType: "EIP", orderType: "",
                           billingModeScope: "ON_DEMAND", region: "cn-north-4")
    }

    func pay(_ fen: Int64, coupons available: [Coupon], cash: Int64, credit: Int64, at hour: Int64 = 50) throws -> [(String, Int64)] {
        let line = usageLine(fen)
        let result = try PaymentAllocation.allocate(lines: [line], coupons: PaymentAllocation.usageCoupons(available, for: line, at: hour),
                                                    availableCash: Money(fen: cash), availableCredit: Money(fen: credit),
                                                    maximumCoupons: .max, at: hour, shortfall: .arrears)
        return result.parts.map { ($0.couponID ?? $0.source?.rawValue ?? "?", $0.amount.fen) }
    }

    // §2.3: VOUCHER > CASH_COUPON > STORED_VALUE_CARD > CASH > CREDIT, the rest arrears (§6.1):
    // the figures of UsageTests' ten hours at 10.00 (100 voucher, 200 cash coupon, 300 card,
    // 1,000 cash, 500 credit, 7,900 arrears on cash).
    @Test func deductionOrderOfSection2_3WithArrears() throws {
        let coupons = [coupon("card", .storedValueCard, 300), coupon("cc", .cashCoupon, 200), coupon("v", .voucher, 100)]
        let parts = try pay(10_000, coupons: coupons, cash: 1_000, credit: 500)
        #expect(parts.map(\.0) == ["v", "cc", "card", "CASH", "CREDIT"])
        #expect(parts.map(\.1) == [100, 200, 300, 8_900, 500])
        // An order with the same shortfall is refused instead.
        let line = usageLine(10_000)
        #expect(throws: BillingError.self) {
            try PaymentAllocation.allocate(lines: [line], coupons: [], availableCash: Money(fen: 1_000), availableCredit: Money(fen: 500),
                                           maximumCoupons: .max, at: 50)
        }
        // Enough money: no arrears, cash before credit.
        #expect(try pay(700, coupons: [], cash: 500, credit: 500).map(\.1) == [500, 200])
    }

    // [S25d]: restricted vouchers before unrestricted ones, then the soonest to expire; cards
    // soonest to expire; cash coupons (no rule given) soonest to expire too, then by id.
    @Test func couponRankingAmongEquals() throws {
        var eip = CouponScope()
        eip.products = ["EIP"]
        let coupons = [
            coupon("v-late", .voucher, 10, validTo: 90), coupon("v-soon", .voucher, 10, validTo: 60),
            coupon("v-scoped", .voucher, 10, validTo: 95, scope: eip),
            coupon("cc-b", .cashCoupon, 10, validTo: 80), coupon("cc-a", .cashCoupon, 10, validTo: 80), coupon("cc-soon", .cashCoupon, 10, validTo: 70),
            coupon("card-late", .storedValueCard, 10, validTo: 99), coupon("card-soon", .storedValueCard, 10, validTo: 75),
        ]
        let parts = try pay(1_000, coupons: coupons, cash: 0, credit: 0)
        #expect(parts.map(\.0) == ["v-scoped", "v-soon", "v-late", "cc-soon", "cc-a", "cc-b", "card-soon", "card-late", "CASH"])
        #expect(parts.last?.1 == 920)
    }

    // Which coupons pay usage by themselves: balance coupons valid at the usage hour (not at the
    // time of reporting), in scope (an order-type scope does not apply: usage has no order),
    // without a minimum spend; never a discount coupon.
    @Test func couponsThatPayUsage() {
        var renewalsOnly = CouponScope()
        renewalsOnly.orderTypes = ["RENEW"]
        var prepaidOnly = CouponScope()
        prepaidOnly.billingModes = ["PREPAID_MONTHLY"]
        var otherRegion = CouponScope()
        otherRegion.regions = ["cn-south-1"]
        let available = [
            coupon("ok", .voucher, 10), coupon("order-type", .cashCoupon, 10, scope: renewalsOnly),
            coupon("prepaid", .voucher, 10, scope: prepaidOnly), coupon("region", .voucher, 10, scope: otherRegion),
            coupon("threshold", .voucher, 10, minSpend: 1), coupon("discount", .discountCoupon, 0),
            coupon("later", .voucher, 10, validFrom: 51), coupon("ended", .voucher, 10, validTo: 50),
            coupon("empty", .storedValueCard, 0),
        ]
        let chosen = PaymentAllocation.usageCoupons(available, for: usageLine(100), at: 50).map(\.id)
        #expect(chosen == ["ok", "order-type"])
        #expect(PaymentAllocation.usageCoupons(available, for: usageLine(100), at: 51).map(\.id).contains("later"))
    }

    // Orders keep their order-type scope: a RENEW-only coupon does not pay a NEW order.
    @Test func ordersStillMatchTheirOrderType() {
        var renewalsOnly = CouponScope()
        renewalsOnly.orderTypes = ["RENEW"]
        var amounts = OrderAmounts()
        amounts.listPrice = Money(fen: 100)
        let new = PayableLine(amounts: amounts, productID: "evs", productType: "EVS", orderType: "NEW", billingModeScope: "PREPAID_MONTHLY", region: nil)
        #expect(!PaymentAllocation.matches(renewalsOnly, new))
        var renew = new
        renew.orderType = "RENEW"
        #expect(PaymentAllocation.matches(renewalsOnly, renew))
    }
}
