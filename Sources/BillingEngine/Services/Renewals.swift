import BillingDomain
import BillingDocuments
import BillingStorage

/// Renewal orders (§4): the checks, the lines and their prices, the RENEW order, and what a
/// paid renewal does to its resources. Paying one is composed above it
/// (`Orchestration/PaymentSettlement.swift`), so renewal never calls payment back.
enum Renewals {
    /// Refuses renewal of a resource for the first reason of §4.3 / §9.2 that applies.
    /// An auto-renewal already enabled keeps working when the product goes off sale (§4.5).
    static func checkRenewable(_ resource: Resource, account: Account, product: Product?, automatic: Bool = false,
                               context: OperationContext) throws {
        guard resource.relation != .bound else {
            throw BillingError.refused(.notPrimary, "resource \(resource.id) is bound to \(resource.primaryID ?? ""); renew that one and it comes along")
        }
        guard resource.billingMode == .prepaid else {
            throw BillingError.refused(.notPrepaid, "resource \(resource.id) is \(resource.billingMode.rawValue); only yearly/monthly resources are renewed")
        }
        guard [.inUse, .expired, .frozen].contains(resource.status), resource.expireAt != nil else {
            throw BillingError.refused(.notRenewableStatus, "resource \(resource.id) is \(resource.status.rawValue) and cannot be renewed")
        }
        guard account.realnameVerified else {
            throw BillingError.refused(.notRealnameVerified, "only real-name verified customers can renew")
        }
        if let order = try ResourceStore.openOrder(context.db, of: resource.id) {
            throw BillingError.refused(.pendingOrderExists, "resource \(resource.id) has order \(order) waiting; pay or cancel it first")
        }
        guard resource.policy != .toOnDemand else {
            throw BillingError.refused(.convertingToOnDemand, "resource \(resource.id) converts to pay-per-use at expiry and cannot be renewed")
        }
        guard product != nil && (automatic || product?.onSale == true) else {
            throw BillingError.refused(.productOffSale, "product \(resource.productID) is no longer sold and cannot be renewed")
        }
        if try ResourceStore.bound(context.db, to: resource.id).contains(where: { $0.status == .pendingProvision }) {
            throw BillingError.refused(.supplementsProvisioning, "resources bound to \(resource.id) are still being provisioned")
        }
    }

    /// The default renewal length for products renewed together (§2.2): 1 year when every one
    /// offers it, else the shortest length they all offer.
    static func defaultRenewalPeriod(_ products: [Product]) -> Period? {
        guard var common = products.first.map({ Set($0.allowedPeriods) }) else { return nil }
        for product in products.dropFirst() { common.formIntersection(product.allowedPeriods) }
        if let year = try? Period(1, .year), common.contains(year) { return year }
        return common.min { $0.months < $1.months }
    }

    /// The lines renewing a primary resource for `period` from `oldExpiry` make: one for the
    /// primary and one per live bound resource, each priced by its product's price for the
    /// period (stretched pro rata to a unified day), less the account's commercial discount or
    /// the product's promotion (§2.2, §4.3, §4.4). The one pricing of a renewal line: the
    /// renewal order, hence `billing_renewal_quote` and renew + pay, and the renewal-price
    /// export all use it, so the price a list shows is what renewing charges.
    static func renewalLines(_ primary: Resource, product: Product, from oldExpiry: Int64, period: Period, unifiedDay: Int64?,
                             account: Account, context: OperationContext) throws -> [OrderLine] {
        var lines: [OrderLine] = []
        for member in [primary] + (try ResourceStore.liveBound(context.db, to: primary.id)) {
            let memberProduct = member.id == primary.id ? product : try ProductStore.require(context.db, member.productID)
            guard memberProduct.allowedPeriods.contains(period), var price = try memberProduct.price(for: period) else {
                throw BillingError.refused(.periodNotAllowed, "product \(memberProduct.id) cannot be renewed for \(period)")
            }
            let anchor = member.anchorDay ?? .day(context.calendar.date(of: oldExpiry).day)
            var renewTo = try context.calendar.expiry(startingAt: oldExpiry, period: period, anchor: anchor)
            var anchorAfter = anchor
            if let unifiedDay {
                guard let monthly = memberProduct.monthlyPrice else {
                    throw BillingError.refused(.noMonthlyPrice, "product \(memberProduct.id) has no monthly price to price the extra days")
                }
                let unified = RenewalRules.unifiedExpiry(normalEnd: renewTo, unifiedDay: unifiedDay, calendar: context.calendar)
                price = try RenewalRules.unifiedPrice(periodPrice: price, monthlyPrice: monthly, extraDays: unified.extraDays,
                                                      monthLength: unified.monthLength)
                renewTo = unified.expiry
                anchorAfter = AnchorDay(code: unifiedDay) ?? anchor
            }
            let commercial = try ProductStore.commercialDiscount(context.db, account: account.id, productType: memberProduct.productType)
            var line = OrderLine(orderID: "", lineNo: Int64(lines.count + 1), productID: memberProduct.id,
                                 productType: memberProduct.productType, billingMode: .prepaid, region: member.region,
                                 period: period, quantity: 1, parentLine: member.id == primary.id ? nil : 1,
                                 relation: member.id == primary.id ? nil : .bound, effectiveAt: nil, product: memberProduct.json,
                                 amounts: try Pricing.line(listPrice: price, commercialBP: commercial,
                                                           promotionBP: memberProduct.promotionDiscountBP))
            line.resourceID = member.id
            line.renewFrom = oldExpiry
            line.renewTo = renewTo
            line.anchorAfter = anchorAfter.code
            lines.append(line)
        }
        return lines
    }

    /// Creates a renewal order for primary resources: one sub-order per primary (a combined
    /// order for several), each with a line for the primary and one per bound resource, all
    /// for the same period, starting at the current expiry whatever the status (§4.2). With a
    /// unified day the period is stretched to it and the extra days priced pro rata (§4.4).
    /// The order is marked open on every resource it renews.
    static func createRenewalOrder(_ primaries: [Resource], period: Period, unifiedDay: Int64?, account: Account,
                                   automatic: Bool = false, context: OperationContext) throws -> Order {
        var items: [(Resource, [OrderLine], Product)] = []
        for primary in primaries {
            let product = try ProductStore.load(context.db, primary.productID)
            try checkRenewable(primary, account: account, product: product, automatic: automatic, context: context)
            guard let product, let oldExpiry = primary.expireAt else { continue }
            if unifiedDay != nil && primary.status != .inUse {
                throw BillingError.refused(.unifiedRequiresInUse, "a unified expiry day applies to unexpired resources only")
            }
            // §4.4: the unified expiry day serves the manual and auto-renew tabs only.
            if unifiedDay != nil && primary.policy != .manual && primary.policy != .autoRenew {
                throw BillingError.refused(.unifiedRequiresRenewalPolicy,
                                           "resource \(primary.id) is \(primary.expiryPolicy); a unified expiry day applies to MANUAL and AUTO_RENEW resources only")
            }
            let lines = try renewalLines(primary, product: product, from: oldExpiry, period: period, unifiedDay: unifiedDay,
                                         account: account, context: context)
            items.append((primary, lines, product))
        }
        let deadline = context.now + context.configuration.payDeadline(forKind: items.first?.2.kind ?? "default")
        func makeOrder(_ sequence: Int64, combined: String?, isCombined: Bool, product: Product, amounts: OrderAmounts) -> Order {
            Order(id: IdentifierSequence.format("CS", sequence), accountID: account.id, combinedID: combined, isCombined: isCombined,
                  type: .renew, status: .pendingPayment, productType: product.productType, billingMode: BillingMode.prepaid.rawValue,
                  productKind: product.kind, createdAt: context.now, payDeadline: deadline, paidAt: nil, completedAt: nil,
                  cancelledAt: nil, cancelReason: nil, reviewRequired: false, placedByManager: false, contract: nil,
                  sourceOrderID: nil, amounts: amounts)
        }
        guard let first = items.first else { throw BillingError.invalid(.missingField, "no resource to renew") }
        let total = try OrderAmounts.total(items.flatMap { $0.1.map(\.amounts) })
        let rootSequence = try IdentifierSequence.next(context.db, "order")
        let root = makeOrder(rootSequence, combined: nil, isCombined: items.count > 1, product: first.2, amounts: total)
        try OrderStore.insert(context.db, root, sequence: rootSequence)
        for (_, lines, product) in items {
            var order = root
            if items.count > 1 {
                let sequence = try IdentifierSequence.next(context.db, "order")
                order = makeOrder(sequence, combined: root.id, isCombined: false, product: product,
                                  amounts: try OrderAmounts.total(lines.map(\.amounts)))
                try OrderStore.insert(context.db, order, sequence: sequence)
            }
            for var line in lines {
                line.orderID = order.id
                try OrderStore.insertLine(context.db, line)
                if let resource = line.resourceID { try ResourceStore.open(context.db, order: order.id, on: resource) }
            }
        }
        try context.emit("order.created", account: account.id, subject: root.id,
                         data: ["type": "RENEW", "amount_due_fen": .integer(try total.amountDue.fen)])
        return root
    }

    /// Applies a paid renewal order: each resource gets its new period from the old expiry,
    /// comes back into use if it was expired or frozen, and its reminders and auto-renew
    /// schedule restart from the new expiry. Renewals need no provisioning: the order completes.
    ///
    /// `orders` and `lines` are the paid orders (the root, or a combined order's sub-orders)
    /// and their lines as `Payments.recordPayment` wrote them. Returns the order's details as
    /// they now stand, built from what was written: a RENEW order owns no resources (only
    /// creation gives a resource its order), its resources are the ones its lines name, and
    /// its funding is what this call recorded (`TypedResponseTests` compares it with a read).
    static func applyRenewal(_ root: Order, orders: [Order], lines allLines: [OrderLine], parts: [String: [PaymentPart]],
                             context: OperationContext) throws -> OrderDetail {
        var written: [Order] = []
        var resources: [Resource] = []
        var funding = Provisioned()
        for var order in orders {
            let lines = allLines.filter { $0.orderID == order.id }
            var renewed: [String: Resource] = [:]
            for line in lines {
                guard let id = line.resourceID, let from = line.renewFrom, let to = line.renewTo else { continue }
                var resource = try ResourceStore.require(context.db, id, account: order.accountID)
                guard resource.expireAt == from, [.inUse, .expired, .frozen].contains(resource.status) else {
                    throw BillingError.refused(.staleRenewal, "resource \(id) changed since order \(order.id) was made; cancel it and renew again")
                }
                for part in parts["\(order.id)#\(line.lineNo)"] ?? [] {
                    guard let source = part.source else { continue }
                    try ResourceStore.fund(context.db, resource: id, order: order.id, source: source, coupon: part.couponID, amount: part.amount)
                    try funding.addFunding(source, coupon: part.couponID, part.amount)
                }
                try ResourceStore.addPeriod(context.db, resource: id, order: order.id, start: from, end: to)
                resource.expireAt = to
                resource.anchorDay = line.anchorAfter.flatMap(AnchorDay.init(code:)) ?? resource.anchorDay
                if resource.status != .inUse {
                    try resource.transition(to: .inUse)
                    resource.graceEnd = nil
                    resource.retentionEnd = nil
                    resource.freezeReason = nil
                }
                try ResourceSchedule.restartSchedule(&resource, context: context)
                try ResourceStore.update(context.db, resource)
                renewed[id] = resource
                try context.emit("resource.renewed", account: order.accountID, subject: id,
                                 data: ["order_id": .string(order.id), "from": .integer(from), "expire_at": .integer(to)])
            }
            // The answer lists the resources the lines name, in line order, each once (as
            // `OrderDetail.load` does); one a line names without renewing it is read.
            var listed: [Resource] = []
            for id in lines.compactMap(\.resourceID) where !listed.contains(where: { $0.id == id }) {
                listed.append(try renewed[id] ?? ResourceStore.require(context.db, id, account: order.accountID))
            }
            resources += listed
            try order.transition(to: .completed)
            order.completedAt = context.now
            try OrderStore.update(context.db, order)
            try ResourceStore.close(context.db, order: order.id)
            try context.emit("order.completed", account: order.accountID, subject: order.id)
            written.append(order)
        }
        var answered = written.first ?? root
        if root.isCombined, var combined = try OrderStore.load(context.db, root.id, account: root.accountID) {
            try combined.transition(to: .completed)
            combined.completedAt = context.now
            try OrderStore.update(context.db, combined)
            try ResourceStore.close(context.db, order: combined.id)
            try context.emit("order.completed", account: root.accountID, subject: root.id)
            answered = combined
        }
        return OrderDetail(order: answered, subOrders: root.isCombined ? written : [], lines: allLines, resources: resources,
                           payments: OrderDetail.fundingSums(funding.funding), refunds: nil)
    }

    /// The RENEW order a customer's renewal request makes (§4.3, §4.4): the checks of each
    /// resource, the default length when none is given, the unified day when asked. Shared by
    /// `billing_resources_renew` and `billing_renewal_quote`, so a quote prices what a renewal makes.
    static func createManualRenewal(account id: String, ids: [String], period requested: Period?, unified: Bool,
                                    context: OperationContext) throws -> (order: Order, period: Period) {
        guard ids.count <= Int(context.configuration.maxBatchRenew) else {
            throw BillingError.invalid(.tooManyItems, "at most \(context.configuration.maxBatchRenew) resources can be renewed in one call")
        }
        let account = try AccountStore.require(context.db, id)
        let resources = try ids.map { try ResourceStore.require(context.db, $0, account: id) }
        let products = try resources.map { try ProductStore.require(context.db, $0.productID) }
        for (resource, product) in zip(resources, products) {
            try Renewals.checkRenewable(resource, account: account, product: product, context: context)
        }
        guard let period = requested ?? Renewals.defaultRenewalPeriod(products) else {
            throw BillingError.refused(.periodNotAllowed, "these resources have no renewal length in common")
        }
        let unifiedDay = unified ? (account.unifiedExpiryDay ?? context.configuration.defaultUnifiedExpiryDay) : nil
        let order = try Renewals.createRenewalOrder(resources, period: period, unifiedDay: unifiedDay, account: account, context: context)
        return (order, period)
    }
}
