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

extension Engine {
    /// Pays a pending order (T10): `{"actor", "account_id", "order_id", "coupon_ids"?}`. A combined
    /// order is paid whole; its sub-orders cannot be paid alone. Checks, in the order of §3.5:
    /// status, deadline, combined order, coupons, prices, funds; then debits and creates the
    /// resources (pending provisioning; packages take effect at once). Emits `order.paid` and
    /// `resource.created` for each resource the host must provision.
    public func payOrder(_ requestJSON: String?) throws -> String {
        try perform("order.pay", requestJSON, parse: { reader in
            (try reader.string("account_id", maxLength: 64), try reader.string("order_id", maxLength: 64), try Engine.couponIDs(reader))
        }, apply: { context, input in
            let order = try OrderStore.require(context.db, input.1, account: input.0)
            let plan = try Engine.planPayment(order, coupons: input.2, context: context)
            try Engine.applyPayment(plan, context: context)
            context.audit(account: input.0, subject: order.id,
                          detail: ["coupon_ids": .array(input.2.map { .string($0) })])
            return try Engine.orderDetail(order.id, account: input.0, context: context)
        })
    }

    /// The sub-order error of §3.4 (CBC.99000089): it names the combined order to use.
    static func useCombined(_ order: Order) -> BillingError {
        BillingError.refused("use_combined_order", "order \(order.id) is part of combined order \(order.combinedID ?? ""); pay or cancel that one")
    }

    /// Checks everything and decides the payment without writing anything, so that a failed
    /// auto-pay leaves the new order untouched (T5). `automaticCoupons` (auto-renewal) picks the
    /// account's coupons itself by `PaymentAllocation.automaticCoupons` instead of `couponIDs`.
    static func planPayment(_ root: Order, coupons couponIDs: [String], automaticCoupons: Bool = false,
                            context: OperationContext) throws -> PaymentPlan {
        if root.combinedID != nil { throw useCombined(root) }
        switch root.status {
        case .pendingPayment: break
        case .processing, .completed:
            throw BillingError.refused("order_already_paid", "order \(root.id) is already paid (\(root.status.rawValue))")
        default:
            throw BillingError.refused("order_not_payable", "order \(root.id) is \(root.status.rawValue); only PENDING_PAYMENT orders can be paid")
        }
        if let deadline = root.payDeadline, context.now >= deadline {
            throw BillingError.refused("order_payment_expired", "order \(root.id) passed its payment deadline")
        }
        let account = try AccountStore.require(context.db, root.accountID)
        guard account.freeze == .none else {
            throw BillingError.refused("account_frozen", "the account is frozen (\(account.freeze.rawValue)) and cannot pay")
        }
        guard account.arrears.fen == 0 else {
            throw BillingError.refused("account_in_arrears", "the account owes \(account.arrears); top up to settle it before paying")
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
                    throw BillingError.refused("discount_no_longer_valid", "the promotion on \(line.productID) ended; create the order again")
                }
            }
            if line.amounts.commercialDiscount.fen > 0 {
                let current = try ProductStore.commercialDiscount(context.db, account: account.id, productType: line.productType)
                let now = try Pricing.line(listPrice: line.amounts.listPrice, commercialBP: current, promotionBP: nil)
                guard now.commercialDiscount >= line.amounts.commercialDiscount else {
                    throw BillingError.refused("discount_no_longer_valid", "the commercial discount on \(line.productType) changed; create the order again")
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

    /// Writes a planned payment: line and order amounts, coupon use, ledger, statuses, resources.
    static func applyPayment(_ plan: PaymentPlan, ledgerKind: String = "PAYMENT", context: OperationContext) throws {
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
        if root.type == .renew {
            try applyRenewal(root, parts: partsByLine, context: context)
        } else {
            try createResources(for: root, parts: partsByLine, context: context)
        }
    }

    /// Creates the resources of a paid (or pay-per-use) order: `quantity` per line, bound lines'
    /// resources hung on the primary line's resource of the same index, and what each source
    /// paid split evenly across them (largest remainder).
    static func createResources(for root: Order, parts: [String: [PaymentPart]] = [:], context: OperationContext) throws {
        let orders = root.isCombined ? try OrderStore.subOrders(context.db, of: root.id) : [root]
        for order in orders {
            var created: [Int64: [String]] = [:]
            for line in try OrderStore.lines(context.db, of: order.id) {
                var ids: [String] = []
                for index in 0..<Int(line.quantity) {
                    let sequence = try IdentifierSequence.next(context.db, "resource")
                    // Packages provision nothing: they take effect at once or at the chosen time.
                    let packageStart: Int64? = line.billingMode == .package && line.period != nil ? max(context.now, line.effectiveAt ?? context.now) : nil
                    let status: ResourceStatus = packageStart.map { $0 > context.now ? .pendingEffective : .inUse } ?? .pendingProvision
                    var resource = Resource(id: IdentifierSequence.format("RS", sequence), accountID: order.accountID, orderID: order.id,
                                            lineNo: line.lineNo, productID: line.productID, productType: line.productType,
                                            billingMode: line.billingMode, region: line.region, status: status,
                                            primaryID: line.parentLine.flatMap { created[$0]?[index] }, relation: line.relation,
                                            period: line.period, anchorDay: nil, createdAt: context.now, provisionedAt: nil,
                                            effectiveAt: nil, expireAt: nil, endedAt: nil, expiryPolicy: "MANUAL")
                    if let start = packageStart, let period = line.period {
                        resource.provisionedAt = context.now
                        resource.effectiveAt = start
                        resource.anchorDay = .day(context.calendar.date(of: start).day)
                        resource.expireAt = try context.calendar.expiry(startingAt: start, period: period, anchor: resource.anchorDay ?? .monthEnd)
                        reschedule(&resource, context: context)
                    }
                    try ResourceStore.insert(context.db, resource, sequence: sequence)
                    if let start = resource.effectiveAt, let end = resource.expireAt {
                        try ResourceStore.addPeriod(context.db, resource: resource.id, order: order.id, start: start, end: end)
                    }
                    ids.append(resource.id)
                    let event = resource.status == .pendingProvision ? "resource.created" : "resource.provisioned"
                    try context.emit(event, account: order.accountID, subject: resource.id,
                                     data: ["order_id": .string(order.id), "product_id": .string(line.productID),
                                            "primary_resource_id": JSONValue(resource.primaryID)])
                }
                created[line.lineNo] = ids
                let funded = (parts["\(order.id)#\(line.lineNo)"] ?? []).filter { $0.source != nil }
                for (id, shares) in zip(ids, try splitEvenly(funded, across: ids.count)) {
                    for share in shares where share.amount.fen > 0 {
                        guard let source = share.source else { continue }
                        try ResourceStore.fund(context.db, resource: id, order: order.id, source: source, coupon: share.couponID, amount: share.amount)
                    }
                }
            }
            try completeIfSettled(order.id, account: order.accountID, context: context)
        }
    }

    /// Splits what paid for a line across its `count` identical resources so that each
    /// resource's total is its equal share (largest remainder), and each resource takes from
    /// every source in proportion to what that source has left. Splitting each source on its
    /// own would let rounding make one resource's refund a fen off its price.
    static func splitEvenly(_ parts: [PaymentPart], across count: Int) throws -> [[PaymentPart]] {
        guard count > 0 else { return [] }
        let total = try Money.sum(parts.map(\.amount))
        let targets = try total.allocated(byWeights: Array(repeating: 1, count: count))
        var left = parts
        var result: [[PaymentPart]] = []
        for target in targets {
            let shares = try target.allocated(byWeights: left.map(\.amount.fen))
            var mine: [PaymentPart] = []
            for index in left.indices {
                var part = left[index]
                part.amount = shares[index]
                mine.append(part)
                left[index].amount = try left[index].amount.subtracting(shares[index])
            }
            result.append(mine)
        }
        return result
    }

    /// Moves a processing order to COMPLETED once none of its resources waits for provisioning
    /// (T14), and a combined order once all its sub-orders are completed.
    static func completeIfSettled(_ orderID: String, account: String, context: OperationContext) throws {
        var order = try OrderStore.require(context.db, orderID, account: account)
        guard order.status == .processing else { return }
        let pending = try ResourceStore.ofOrder(context.db, order.id).contains { $0.status == .pendingProvision }
        guard !pending else { return }
        try order.transition(to: .completed)
        order.completedAt = context.now
        try OrderStore.update(context.db, order)
        try context.emit("order.completed", account: account, subject: order.id)
        guard let combinedID = order.combinedID, var combined = try OrderStore.load(context.db, combinedID, account: account),
              combined.status == .processing else { return }
        if try OrderStore.subOrders(context.db, of: combinedID).allSatisfy({ $0.status == .completed }) {
            try combined.transition(to: .completed)
            combined.completedAt = context.now
            try OrderStore.update(context.db, combined)
            try context.emit("order.completed", account: account, subject: combinedID)
        }
    }
}
