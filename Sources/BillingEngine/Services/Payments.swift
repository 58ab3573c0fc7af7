import BillingDomain
import BillingDocuments
import BillingStorage

/// A payment decided but not yet written: which orders, how each line is paid, which coupons.
struct PaymentPlan {
    var root: Order
    var orders: [Order]
    /// Every line of every order paid, with its new amounts.
    var lines: [OrderLine]
    var parts: [PaymentPart]
    var coupons: [Coupon]
}

/// Payment (§3.5): deciding a payment without writing, and writing its money (lines, orders,
/// ledger, coupons). What the money buys (resources, renewed periods) is composed above it
/// (`Orchestration/PaymentSettlement.swift`).
enum Payments {
    /// Checks everything and decides the payment without writing anything, so that a failed
    /// auto-pay leaves the new order untouched (T5). `automaticCoupons` (auto-renewal) picks the
    /// account's coupons itself by `PaymentAllocation.automaticCoupons` instead of `couponIDs`.
    static func planPayment(_ root: Order, coupons couponIDs: [String], automaticCoupons: Bool = false,
                            context: OperationContext) throws -> PaymentPlan {
        if root.combinedID != nil { throw OrderTransitions.useCombined(root) }
        switch root.status {
        case .pendingPayment: break
        case .processing, .completed:
            throw BillingError.refused(.orderAlreadyPaid, "order \(root.id) is already paid (\(root.status.rawValue))")
        default:
            throw BillingError.refused(.orderNotPayable, "order \(root.id) is \(root.status.rawValue); only PENDING_PAYMENT orders can be paid")
        }
        if let deadline = root.payDeadline, context.now >= deadline {
            throw BillingError.refused(.orderPaymentExpired, "order \(root.id) passed its payment deadline")
        }
        let account = try AccountStore.require(context.db, root.accountID)
        guard account.freeze == .none else {
            throw BillingError.refused(.accountFrozen, "the account is frozen (\(account.freeze.rawValue)) and cannot pay")
        }
        guard account.arrears.fen == 0 else {
            throw BillingError.refused(.accountInArrears, "the account owes \(account.arrears); top up to settle it before paying")
        }
        let orders = root.isCombined ? try OrderStore.subOrders(context.db, of: root.id) : [root]
        var lines: [OrderLine] = []
        for order in orders { lines += try OrderStore.lines(context.db, of: order.id) }
        // Re-rating: a discount the order was priced with must still be offered (CBC.99003108).
        for line in lines {
            if line.amounts.promotionDiscount.fen > 0 {
                let current = try ProductStore.load(context.db, line.productID)?.promotionDiscountBP ?? 0
                let now = try Pricing.line(listPrice: line.amounts.listPrice, commercialBP: nil, promotionBP: current)
                guard now.promotionDiscount >= line.amounts.promotionDiscount else {
                    throw BillingError.refused(.discountNoLongerValid, "the promotion on \(line.productID) ended; create the order again")
                }
            }
            if line.amounts.commercialDiscount.fen > 0 {
                let current = try ProductStore.commercialDiscount(context.db, account: account.id, productType: line.productType)
                let now = try Pricing.line(listPrice: line.amounts.listPrice, commercialBP: current, promotionBP: nil)
                guard now.commercialDiscount >= line.amounts.commercialDiscount else {
                    throw BillingError.refused(.discountNoLongerValid, "the commercial discount on \(line.productType) changed; create the order again")
                }
            }
        }
        var coupons = try couponIDs.map { try CouponStore.require(context.db, id: $0, account: account.id) }
        let payable = payableLines(lines, of: orders)
        if automaticCoupons {
            coupons = PaymentAllocation.automaticCoupons(lines: payable, available: try CouponStore.usable(context.db, account: account.id, at: context.now),
                                                         maximumCoupons: context.configuration.maxCouponsPerPayment, at: context.now)
        }
        let result = try PaymentAllocation.allocate(lines: payable, coupons: coupons, availableCash: account.availableCash,
                                                    availableCredit: account.availableCredit,
                                                    maximumCoupons: context.configuration.maxCouponsPerPayment, at: context.now)
        for index in lines.indices { lines[index].amounts = result.lines[index].amounts }
        return PaymentPlan(root: root, orders: orders, lines: lines, parts: result.parts, coupons: coupons)
    }

    /// The lines of `orders` as payment sees them (what a coupon's scope is matched against).
    static func payableLines(_ lines: [OrderLine], of orders: [Order]) -> [PayableLine] {
        let orderTypes = Dictionary(uniqueKeysWithValues: orders.map { ($0.id, $0.type.rawValue) })
        return lines.map {
            PayableLine(amounts: $0.amounts, productID: $0.productID, productType: $0.productType,
                        orderType: orderTypes[$0.orderID] ?? "NEW", billingModeScope: $0.billingModeScope, region: $0.region)
        }
    }

    /// The lines of an order (a combined order: of all its sub-orders) as payment sees them,
    /// as `planPayment` builds them.
    static func payableLines(of root: Order, context: OperationContext) throws -> [PayableLine] {
        let orders = root.isCombined ? try OrderStore.subOrders(context.db, of: root.id) : [root]
        var lines: [OrderLine] = []
        for order in orders { lines += try OrderStore.lines(context.db, of: order.id) }
        return payableLines(lines, of: orders)
    }

    /// Writes a planned payment's money: line and order amounts, coupon use, ledger, statuses,
    /// `order.paid`. Returns the paid root order and the paid orders (the root, or a combined
    /// order's sub-orders, as written: their rows hold exactly these values, and the plan's
    /// lines are the lines as written) and what paid each line (keyed "order#line"), for the
    /// settlement to fund the resources with (`Orchestration/PaymentSettlement.swift`).
    static func recordPayment(_ plan: PaymentPlan, ledgerKind: String, context: OperationContext) throws
        -> (root: Order, orders: [Order], parts: [String: [PaymentPart]]) {
        for line in plan.lines { try OrderStore.updateLineAmounts(context.db, line) }
        var paidOrders: [Order] = []
        for var order in plan.orders {
            order.amounts = try OrderAmounts.total(plan.lines.filter { $0.orderID == order.id }.map(\.amounts))
            try order.transition(to: .processing)
            order.paidAt = context.now
            try OrderStore.update(context.db, order)
            if order.amounts.cash.fen > 0 {
                try AccountStore.post(context.db, account: order.accountID, fund: .cash, kind: ledgerKind,
                                      amount: Money(fen: -order.amounts.cash.fen), order: order.id, at: context.now)
            }
            if order.amounts.credit.fen > 0 {
                try AccountStore.post(context.db, account: order.accountID, fund: .credit, kind: ledgerKind,
                                      amount: Money(fen: -order.amounts.credit.fen), order: order.id, at: context.now)
            }
            paidOrders.append(order)
        }
        var root = plan.root
        if root.isCombined {
            root.amounts = try OrderAmounts.total(paidOrders.map(\.amounts))
            try root.transition(to: .processing)
            root.paidAt = context.now
            try OrderStore.update(context.db, root)
        } else if let paid = paidOrders.first {
            root = paid
        }
        for coupon in plan.coupons {
            let used = try Money.sum(plan.parts.filter { $0.couponID == coupon.id }.map(\.amount))
            try CouponStore.use(context.db, coupon: coupon, amount: used, order: root.id, at: context.now)
        }
        try context.emit("order.paid", account: root.accountID, subject: root.id,
                         data: ["amounts": try root.amounts.json])
        var partsByLine: [String: [PaymentPart]] = [:]
        for part in plan.parts {
            let line = plan.lines[part.line]
            partsByLine["\(line.orderID)#\(line.lineNo)", default: []].append(part)
        }
        return (root, paidOrders, partsByLine)
    }
}
