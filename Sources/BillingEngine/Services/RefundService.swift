import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// Creates an unsubscription order that gives money back along the way it came and
    /// completes it at once (U1 then U5: the engine credits immediately). Used for resources
    /// whose creation failed (T15).
    @discardableResult
    static func refund(_ entries: [RefundEntry], account: String, sourceOrder: String, productType: String, billingMode: String,
                       reason: String, context: OperationContext) throws -> Order {
        var order = try createRefundOrder(entries, account: account, sourceOrder: sourceOrder, combined: nil, productType: productType,
                                          billingMode: billingMode, status: .refunding, context: context)
        try reserveRefund(entries, order: order.id, context: context)
        let voided = try creditRefund(entries, account: account, order: order.id, context: context)
        try order.transition(to: .completed)
        order.completedAt = context.now
        try OrderStore.update(context.db, order)
        try context.emit("order.refunded", account: account, subject: order.id,
                         data: ["source_order_id": .string(sourceOrder), "reason": .string(reason), "amounts": try order.amounts.json,
                                "coupons_voided_fen": .integer(voided.fen)])
        return order
    }

    /// An UNSUBSCRIBE order whose amounts are what goes back, per source.
    static func createRefundOrder(_ entries: [RefundEntry], account: String, sourceOrder: String?, combined: String?,
                                  isCombined: Bool = false, productType: String, billingMode: String, status: OrderStatus,
                                  context: OperationContext) throws -> Order {
        var amounts = OrderAmounts()
        for entry in entries { try amounts.add(entry.amount, from: entry.source) }
        amounts.listPrice = try Money.sum(entries.map(\.amount))
        let sequence = try IdentifierSequence.next(context.db, "order")
        let order = Order(id: IdentifierSequence.format("CS", sequence), accountID: account, combinedID: combined, isCombined: isCombined,
                          type: .unsubscribe, status: status, productType: productType, billingMode: billingMode,
                          productKind: "default", createdAt: context.now, payDeadline: nil, paidAt: nil,
                          completedAt: nil, cancelledAt: nil, cancelReason: nil,
                          reviewRequired: status == .pendingReview, placedByManager: false, contract: nil,
                          sourceOrderID: sourceOrder, amounts: amounts)
        try OrderStore.insert(context.db, order, sequence: sequence)
        return order
    }

    /// Records what a refund order gives back, share by share: each paid share can be refunded
    /// once (a constraint), so recording first also reserves it while a review is pending.
    static func reserveRefund(_ entries: [RefundEntry], order: String, context: OperationContext) throws {
        for entry in entries where entry.amount.fen > 0 {
            do {
                try RefundStore.reserve(context.db, entry, refundOrder: order)
            } catch let error as BillingError where error.status == .conflict {
                throw BillingError.refused("already_refunded", "what \(entry.paidBy) paid for \(entry.resource) was already refunded")
            }
        }
    }

    /// Moves the money back: cash to the cash balance, credit back to the credit line, coupon
    /// parts to their coupons (void when expired meanwhile, §5.1). Returns what was voided.
    static func creditRefund(_ entries: [RefundEntry], account: String, order: String, context: OperationContext) throws -> Money {
        let owedBefore = try AccountStore.require(context.db, account).arrears
        var voided = Money.zero
        for entry in entries where entry.amount.fen > 0 {
            switch entry.source {
            case .cash:
                try AccountStore.post(context.db, account: account, fund: .cash, kind: "REFUND", amount: entry.amount, order: order, at: context.now)
            case .credit:
                try AccountStore.post(context.db, account: account, fund: .credit, kind: "REFUND", amount: entry.amount, order: order, at: context.now)
            case .voucher, .cashCoupon, .storedValueCard:
                if let coupon = entry.coupon, !(try CouponStore.give(back: entry.amount, to: coupon, order: order, at: context.now, context.db)) {
                    voided = try voided.adding(entry.amount)
                }
            }
        }
        try settleArrearsIfCleared(account, owedBefore: owedBefore, context: context)
        return voided
    }

    /// When money coming back (a refund, a top-up) clears the arrears, the account's pay-per-use
    /// resources come back into use and the host hears of it (§6.1).
    static func settleArrearsIfCleared(_ account: String, owedBefore: Money, context: OperationContext) throws {
        guard owedBefore.fen > 0, try AccountStore.require(context.db, account).arrears.fen == 0 else { return }
        try context.emit("account.arrears_settled", account: account, subject: account, data: ["settled_fen": .integer(owedBefore.fen)])
        try leaveArrears(account, context: context)
    }

    /// Reports the host's provisioning results: `{"actor", "account_id", "results":
    /// [{"resource_id", "outcome": "SUCCEEDED" | "FAILED"}]}` (1–100). A success starts the
    /// resource's first period at this instant (§2.2); a failure refunds the resource in full
    /// through an automatic unsubscription order, coupons included (T15, §5.6). An order whose
    /// resources are all settled completes (T14).
    public func reportProvisioning(_ requestJSON: String?) throws -> String {
        try perform("resource.provisioned", requestJSON, parse: { reader -> (String, [(String, Bool)]) in
            let account = try reader.string("account_id", maxLength: 64)
            guard let values = try reader.optionalArray("results", maxCount: 100), !values.isEmpty else {
                throw BillingError.invalid("missing_field", "request.results must list 1–100 results")
            }
            let results = try values.enumerated().map { index, value -> (String, Bool) in
                let result = try ObjectReader(value, path: "request.results[\(index)]")
                let id = try result.string("resource_id", maxLength: 64)
                guard let outcome = try result.optionalChoice("outcome", ["SUCCEEDED", "FAILED"]) else {
                    throw BillingError.invalid("missing_field", "\(result.path).outcome is required")
                }
                try result.finish()
                return (id, outcome == "SUCCEEDED")
            }
            guard Set(results.map(\.0)).count == results.count else {
                throw BillingError.invalid("duplicate_resource", "a resource is reported twice")
            }
            return (account, results)
        }, apply: { context, input in
            var failedByOrder: [String: [Resource]] = [:]
            var touched: [String] = []
            var documents: [JSONValue] = []
            for (id, succeeded) in input.1 {
                var resource = try ResourceStore.require(context.db, id, account: input.0)
                guard resource.status == .pendingProvision else {
                    throw BillingError.refused("not_pending_provision", "resource \(id) is \(resource.status.rawValue), not PENDING_PROVISION")
                }
                if succeeded {
                    try resource.transition(to: .inUse)
                    resource.provisionedAt = context.now
                    resource.effectiveAt = context.now
                    if resource.billingMode == .prepaid, let period = resource.period {
                        let anchor = AnchorDay.day(context.calendar.date(of: context.now).day)
                        resource.anchorDay = anchor
                        resource.expireAt = try context.calendar.expiry(startingAt: context.now, period: period, anchor: anchor)
                        if let end = resource.expireAt {
                            try ResourceStore.addPeriod(context.db, resource: id, order: resource.orderID, start: context.now, end: end)
                        }
                    }
                    try Engine.restartSchedule(&resource, context: context)
                    try context.emit("resource.provisioned", account: input.0, subject: id,
                                     data: ["order_id": .string(resource.orderID), "expire_at": JSONValue(resource.expireAt)])
                } else {
                    try resource.transition(to: .provisionFailed)
                    resource.endedAt = context.now
                    failedByOrder[resource.orderID, default: []].append(resource)
                    try context.emit("resource.provision_failed", account: input.0, subject: id, data: ["order_id": .string(resource.orderID)])
                }
                try ResourceStore.update(context.db, resource)
                if !touched.contains(resource.orderID) { touched.append(resource.orderID) }
                documents.append(resource.json(context.calendar))
            }
            var refunds: [JSONValue] = []
            for orderID in touched {
                if let failed = failedByOrder[orderID], let first = failed.first {
                    var entries: [RefundEntry] = []
                    for resource in failed {
                        for funding in try ResourceStore.funding(context.db, resource: resource.id, order: orderID) {
                            entries.append(RefundEntry(resource: resource.id, paidBy: orderID, source: funding.source,
                                                       coupon: funding.coupon, amount: funding.amount))
                        }
                    }
                    let refund = try Engine.refund(entries, account: input.0, sourceOrder: orderID, productType: first.productType,
                                                   billingMode: first.billingMode.rawValue, reason: "PROVISION_FAILED", context: context)
                    refunds.append(try refund.json)
                }
                try Engine.completeIfSettled(orderID, account: input.0, context: context)
            }
            context.audit(account: input.0, detail: ["results": .array(input.1.map { ["resource_id": .string($0.0), "succeeded": .bool($0.1)] })])
            return ["resources": .array(documents), "refund_orders": .array(refunds)]
        })
    }

    /// A resource: `{"account_id", "resource_id"}` → `{"resource"}`.
    public func getResource(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: { reader in
            (try reader.string("account_id", maxLength: 64), try reader.string("resource_id", maxLength: 64))
        }) { context, input in
            ["resource": try ResourceStore.require(context.db, input.1, account: input.0).json(context.calendar)]
        }
    }
}
