/// One order line as payment sees it: what remains to pay and what a coupon's scope is
/// matched against.
public struct PayableLine: Sendable {
    public var amounts: OrderAmounts
    public var productID: String
    public var productType: String
    public var orderType: String
    /// PREPAID_MONTHLY, PREPAID_YEARLY, ON_DEMAND, PACKAGE or ONE_OFF.
    public var billingModeScope: String
    public var region: String?

    public init(amounts: OrderAmounts, productID: String, productType: String, orderType: String,
                billingModeScope: String, region: String?) {
        self.amounts = amounts
        self.productID = productID
        self.productType = productType
        self.orderType = orderType
        self.billingModeScope = billingModeScope
        self.region = region
    }

    /// What is still to be paid on the line.
    package var remaining: Money {
        get throws { try amounts.amountDue.subtracting(amounts.voucher).subtracting(amounts.paidAmount) }
    }

    package var hasPriceDiscount: Bool { amounts.commercialDiscount.fen > 0 || amounts.promotionDiscount.fen > 0 }
}

/// A part of a payment: from which source (and coupon), for which line.
public struct PaymentPart: Equatable, Sendable {
    public var line: Int
    public var source: FundingSource?
    /// Set for coupon-funded parts; for a discount coupon `source` is nil and the amount is
    /// the price discount it gave.
    public var couponID: String?
    public var amount: Money
}

/// Decides how an order or a pay-per-use charge is paid (domain-rules §3.5, §2.3): coupons
/// checked against their rules, then applied in the deduction order discount coupon → vouchers →
/// cash coupons → stored-value cards → cash balance → credit, each spread over the lines it may
/// pay by largest remainder, so every line and every source adds up exactly.
///
/// Orders and usage share this one function. An order lists its coupons and is refused when the
/// funds fall short; a usage charge (after packages covered what they could, in units, in
/// `Engine.coverFromPackages`) takes `usageCoupons` by itself and leaves any shortfall as arrears.
public enum PaymentAllocation {
    public struct Result: Sendable {
        public var lines: [PayableLine]
        public var parts: [PaymentPart]
    }

    /// What happens to what coupons, cash and credit do not cover.
    public enum Shortfall: Sendable {
        /// Refused with `insufficient_funds`: an order is paid whole or not at all.
        case refuse
        /// Charged to the cash balance below zero (arrears, §6.1): usage is owed whatever the funds.
        case arrears
    }

    public static func allocate(lines input: [PayableLine], coupons: [Coupon], availableCash: Money,
                                availableCredit: Money, maximumCoupons: Int64, at now: Int64,
                                shortfall: Shortfall = .refuse) throws -> Result {
        var lines = input
        var parts: [PaymentPart] = []
        guard coupons.count <= maximumCoupons else {
            throw BillingError.refused("too_many_coupons", "at most \(maximumCoupons) coupons can be used in one payment")
        }
        guard Set(coupons.map(\.id)).count == coupons.count else {
            throw BillingError.invalid("duplicate_coupon", "a coupon is listed twice")
        }
        let discountCoupons = coupons.filter { $0.kind == .discountCoupon }
        guard discountCoupons.count <= 1 else {
            throw BillingError.refused("too_many_discount_coupons", "only one discount coupon can be used in one payment")
        }
        var eligibility: [String: [Int]] = [:]
        for coupon in coupons {
            guard coupon.isUsable(at: now) else {
                throw BillingError.refused("coupon_not_usable", "coupon \(coupon.id) is \(coupon.status(at: now)) and cannot be used now")
            }
            let eligible = lines.indices.filter { matches(coupon.scope, lines[$0]) }
            guard !eligible.isEmpty else {
                throw BillingError.refused("coupon_not_applicable", "coupon \(coupon.id) does not apply to any product of this order")
            }
            let spend = try Money.sum(eligible.map { try lines[$0].amounts.amountDue })
            guard spend > coupon.minSpend else {
                throw BillingError.refused("coupon_min_spend_not_met",
                                           "coupon \(coupon.id) needs more than \(coupon.minSpend) of eligible amount due; this order has \(spend)")
            }
            let otherDiscountCoupon = discountCoupons.contains { $0.id != coupon.id }
            if coupon.exclusiveWithDiscounts && (eligible.contains { lines[$0].hasPriceDiscount } || otherDiscountCoupon) {
                throw BillingError.refused("coupon_excludes_discounts",
                                           "coupon \(coupon.id) cannot be combined with commercial or promotion discounts or discount coupons")
            }
            eligibility[coupon.id] = eligible
        }

        // The discount coupon lowers the amount due of its lines (capped in total).
        if let coupon = discountCoupons.first, let eligible = eligibility[coupon.id] {
            var discounts = try eligible.map { try lines[$0].amounts.amountDue.proportion(coupon.discountBP ?? 0, over: 10_000) }
            let total = try Money.sum(discounts)
            if let cap = coupon.maxDiscount, total > cap {
                discounts = try cap.allocated(byWeights: discounts.map(\.fen))
            }
            for (index, discount) in zip(eligible, discounts) where discount.fen > 0 {
                lines[index].amounts.discountCoupon = try lines[index].amounts.discountCoupon.adding(discount)
                parts.append(PaymentPart(line: index, source: nil, couponID: coupon.id, amount: discount))
            }
        }

        for coupon in deductionOrder(coupons) {
            let source: FundingSource = coupon.kind == .voucher ? .voucher : coupon.kind == .cashCoupon ? .cashCoupon : .storedValueCard
            let eligible = eligibility[coupon.id] ?? []
            try spread(coupon.balance, over: eligible, of: &lines, source: source, coupon: coupon.id, into: &parts)
        }

        // Cash, then credit; then the shortfall.
        let all = Array(lines.indices)
        let remaining = try Money.sum(lines.map { try $0.remaining })
        var fromCash = min(availableCash, remaining)
        var fromCredit = try remaining.subtracting(fromCash)
        if fromCredit > availableCredit {
            switch shortfall {
            case .refuse:
                throw BillingError.refused("insufficient_funds",
                                           "the order needs \(remaining) after coupons; the account has \(availableCash) cash and \(availableCredit) credit available")
            case .arrears:
                fromCash = try fromCash.adding(fromCredit.subtracting(availableCredit))
                fromCredit = availableCredit
            }
        }
        try spread(fromCash, over: all, of: &lines, source: .cash, coupon: nil, into: &parts)
        try spread(fromCredit, over: all, of: &lines, source: .credit, coupon: nil, into: &parts)
        return Result(lines: lines, parts: parts)
    }

    /// The coupons an automatic renewal takes (§3.5 [S25g] [S17d], §4.5), by the manual
    /// payment's own rules (`allocate`: scope, minimum spend, exclusivity with discounts, at
    /// most `maximumCoupons`, one discount coupon).
    ///
    /// Balance coupons are taken greedily: vouchers first by largest remaining balance, then
    /// cash coupons, then stored-value cards (each kind largest balance first, then soonest to
    /// expire, then as listed), each only when it pays something still owed. This is done
    /// twice: without a discount coupon, and with the usable discount coupon that lowers the
    /// amount due most (ties: soonest to expire, then as listed), which keeps out the vouchers
    /// exclusive with it. The selection that leaves less to pay from cash and credit wins;
    /// on a tie the one with fewer coupons, then the one without the discount coupon, so the
    /// customer keeps it.
    public static func automaticCoupons(lines: [PayableLine], available: [Coupon], maximumCoupons: Int64,
                                        at now: Int64) -> [Coupon] {
        guard let owed = try? Money.sum(lines.map { try $0.remaining }), owed.fen > 0 else { return [] }
        let usable = available.filter { $0.isUsable(at: now) }
        // The outcome of paying with a selection: what each coupon pays and what is left for
        // cash and credit (nil: the selection breaks a rule).
        func outcome(_ selection: [Coupon]) -> (paid: [String: Money], left: Money)? {
            guard let result = try? allocate(lines: lines, coupons: selection, availableCash: .zero, availableCredit: owed,
                                             maximumCoupons: maximumCoupons, at: now) else { return nil }
            var parts: [String: [Money]] = [:]
            var credit: [Money] = []
            for part in result.parts {
                if let id = part.couponID { parts[id, default: []].append(part.amount) } else { credit.append(part.amount) }
            }
            guard let paid = try? parts.mapValues({ try Money.sum($0) }), let left = try? Money.sum(credit) else { return nil }
            return (paid, left)
        }
        func pays(_ coupon: Coupon, in result: (paid: [String: Money], left: Money)) -> Bool {
            (result.paid[coupon.id]?.fen ?? 0) > 0
        }
        let balanceCoupons = usable.filter(\.kind.hasBalance).enumerated().sorted { left, right in
            let (l, r) = (left.element, right.element)
            if l.kind.deductionRank != r.kind.deductionRank { return l.kind.deductionRank < r.kind.deductionRank }
            if l.balance != r.balance { return l.balance > r.balance }
            if l.validTo != r.validTo { return l.validTo < r.validTo }
            return left.offset < right.offset
        }.map(\.element)
        // The greedy choice of balance coupons next to `base` (no discount coupon, or one).
        func selection(with base: [Coupon]) -> (coupons: [Coupon], left: Money)? {
            guard var current = outcome(base) else { return nil }
            var chosen = base
            for coupon in balanceCoupons where Int64(chosen.count) < maximumCoupons && current.left.fen > 0 {
                guard let next = outcome(chosen + [coupon]), pays(coupon, in: next) else { continue }
                chosen.append(coupon)
                current = next
            }
            // A coupon that a later one made unnecessary is not taken (no empty use on its ledger).
            chosen = chosen.filter { pays($0, in: current) }
            guard let final = outcome(chosen) else { return nil }
            return (chosen, final.left)
        }
        let bestDiscount = usable.filter { $0.kind == .discountCoupon }.enumerated()
            .compactMap { entry -> (offset: Int, coupon: Coupon, discount: Money)? in
                guard let result = outcome([entry.element]), let discount = result.paid[entry.element.id], discount.fen > 0 else { return nil }
                return (entry.offset, entry.element, discount)
            }
            .min { left, right in
                if left.discount != right.discount { return left.discount > right.discount }
                if left.coupon.validTo != right.coupon.validTo { return left.coupon.validTo < right.coupon.validTo }
                return left.offset < right.offset
            }?.coupon
        let plain = selection(with: [])
        guard let bestDiscount, let discounted = selection(with: [bestDiscount]) else { return plain?.coupons ?? [] }
        guard let plain else { return discounted.coupons }
        if discounted.left != plain.left { return discounted.left < plain.left ? discounted.coupons : plain.coupons }
        return discounted.coupons.count < plain.coupons.count ? discounted.coupons : plain.coupons
    }

    /// Balance coupons in the deduction order of §2.3: vouchers, cash coupons, stored-value
    /// cards; among vouchers the restricted ones first, then the soonest to expire; among
    /// stored-value cards the soonest to expire; otherwise as listed.
    public static func deductionOrder(_ coupons: [Coupon]) -> [Coupon] {
        coupons.filter(\.kind.hasBalance).enumerated().sorted { left, right in
            let (l, r) = (left.element, right.element)
            if l.kind.deductionRank != r.kind.deductionRank { return l.kind.deductionRank < r.kind.deductionRank }
            if l.kind == .voucher && l.scope.isRestricted != r.scope.isRestricted { return l.scope.isRestricted }
            if l.kind != .cashCoupon && l.validTo != r.validTo { return l.validTo < r.validTo }
            return left.offset < right.offset
        }.map(\.element)
    }

    /// The coupons that pay a pay-per-use charge by themselves (§2.3: vouchers are applied
    /// automatically when the consumption time falls in their validity): balance coupons usable
    /// at the charge's hour whose scope admits the line, without a minimum spend (a threshold
    /// has no meaning for an hourly charge). Listed soonest to expire first, then by id: the
    /// order `deductionOrder` keeps among coupons it ranks equal, so cash coupons too are spent
    /// soonest to expire first.
    public static func usageCoupons(_ available: [Coupon], for line: PayableLine, at hour: Int64) -> [Coupon] {
        available.filter { $0.kind.hasBalance && $0.isUsable(at: hour) && $0.minSpend.fen == 0 && matches($0.scope, line) }
            .sorted { $0.validTo != $1.validTo ? $0.validTo < $1.validTo : $0.id < $1.id }
    }

    /// Takes up to `available` from one source across lines, in proportion to what each still
    /// owes; never more than a line owes.
    private static func spread(_ available: Money, over eligible: [Int], of lines: inout [PayableLine],
                               source: FundingSource, coupon: String?, into parts: inout [PaymentPart]) throws {
        let owed = try eligible.map { try lines[$0].remaining }
        let take = min(available, try Money.sum(owed))
        guard take.fen > 0 else { return }
        let shares = try take.allocated(byWeights: owed.map(\.fen))
        for (index, share) in zip(eligible, shares) where share.fen > 0 {
            try lines[index].amounts.add(share, from: source)
            parts.append(PaymentPart(line: index, source: source, couponID: coupon, amount: share))
        }
    }

    /// Whether a coupon's scope admits a line (§3.5): an empty list admits everything. A usage
    /// line has no order (an empty order type), so an order-type scope does not restrict it.
    package static func matches(_ scope: CouponScope, _ line: PayableLine) -> Bool {
        let product = [line.productID, line.productType]
        if !scope.products.isEmpty && !product.contains(where: scope.products.contains) { return false }
        if product.contains(where: scope.excludedProducts.contains) { return false }
        if !scope.orderTypes.isEmpty && !line.orderType.isEmpty && !scope.orderTypes.contains(line.orderType) { return false }
        if !scope.billingModes.isEmpty && !scope.billingModes.contains(line.billingModeScope) { return false }
        if !scope.regions.isEmpty && !(line.region.map(scope.regions.contains) ?? false) { return false }
        return true
    }
}
