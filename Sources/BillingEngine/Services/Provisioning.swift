import BillingDomain
import BillingDocuments
import BillingStorage

/// What `Provisioning.createResources` wrote: the resources in the order they were created
/// (their `seq` order), the funding summed per source and coupon as `OrderDetail.load` sums
/// it, and the orders it moved to COMPLETED as written.
struct Provisioned {
    var resources: [Resource] = []
    var funding: [String: Money] = [:]
    var completed: [String: Order] = [:]

    mutating func addFunding(_ source: FundingSource, coupon: String?, _ amount: Money) throws {
        let key = OrderDetail.fundingKey(source: source.rawValue, coupon: coupon)
        funding[key] = try (funding[key] ?? .zero).adding(amount)
    }

    /// The details of a NEW order just paid and provisioned, from the values written:
    /// `paidOrders` and `lines` as `Payments.recordPayment` wrote them.
    func detail(of root: Order, orders paidOrders: [Order], lines: [OrderLine]) -> OrderDetail {
        let order = completed[root.id] ?? (root.isCombined ? root : paidOrders.first ?? root)
        let subOrders = root.isCombined ? paidOrders.map { completed[$0.id] ?? $0 } : []
        return OrderDetail(order: order, subOrders: subOrders, lines: lines, resources: resources,
                           payments: OrderDetail.fundingSums(funding), refunds: nil)
    }
}

/// Creating the resources of a paid (or pay-per-use) order and funding each from what paid
/// its line. Called by payment settlement and by pay-per-use order creation.
enum Provisioning {
    /// Creates the resources of a paid (or pay-per-use) order: `quantity` per line, bound lines'
    /// resources hung on the primary line's resource of the same index, and what each source
    /// paid split evenly across them (largest remainder).
    ///
    /// `orders` and `lines`, when given, are the paid orders (the root, or a combined order's
    /// sub-orders) and their lines as just written; otherwise they are read. Returns what it
    /// wrote (`Provisioned`).
    @discardableResult
    static func createResources(for root: Order, orders given: [Order]? = nil, lines givenLines: [OrderLine]? = nil,
                                parts: [String: [PaymentPart]] = [:], context: OperationContext) throws -> Provisioned {
        var orders = [root]
        if let given { orders = given } else if root.isCombined { orders = try OrderStore.subOrders(context.db, of: root.id) }
        var provisioned = Provisioned()
        for order in orders {
            var created: [Int64: [String]] = [:]
            var resources: [Resource] = []
            let lines = try givenLines.map { $0.filter { $0.orderID == order.id } } ?? OrderStore.lines(context.db, of: order.id)
            for line in lines {
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
                        ResourceSchedule.reschedule(&resource, context: context)
                    }
                    try ResourceStore.insert(context.db, resource, sequence: sequence)
                    if let start = resource.effectiveAt, let end = resource.expireAt {
                        try ResourceStore.addPeriod(context.db, resource: resource.id, order: order.id, start: start, end: end)
                    }
                    ids.append(resource.id)
                    resources.append(resource)
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
                        try provisioned.addFunding(source, coupon: share.couponID, share.amount)
                    }
                }
            }
            provisioned.resources += resources
            if order.type == .new {
                // A NEW order's resources are the ones just created: nothing to read back.
                for completed in try OrderTransitions.completeIfSettled(order, resources: resources, context: context) {
                    provisioned.completed[completed.id] = completed
                }
            } else {
                try OrderTransitions.completeIfSettled(order.id, account: order.accountID, context: context)
            }
        }
        return provisioned
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
}
