import BillingDomain
import BillingDocuments
import BillingStorage
import BillingSecurity

extension Engine {
    /// The plan as the quote shows it; its digest identifies the state it was computed on.
    static func planDocument(_ plan: RefundPlan, context: OperationContext) throws -> JSONValue {
        let groups: [JSONValue] = try plan.groups.map { group in
            var fields = group.detail
            fields["resource_id"] = .string(group.primary.id)
            fields["resource_ids"] = .array(group.members.map { .string($0.id) })
            fields["class"] = .string(group.refundClass.rawValue)
            fields["reason"] = JSONValue(group.reason?.rawValue)
            fields["message"] = JSONValue(group.message)
            fields["five_day_quota_unit"] = JSONValue(group.quotaUnit)
            fields["fallback_expiry"] = JSONValue(group.fallbackExpiry)
            var bySource: [String: Money] = [:]
            var returned = Money.zero
            var voided = Money.zero
            for entry in group.entries {
                bySource[entry.source.rawValue] = try (bySource[entry.source.rawValue] ?? .zero).adding(entry.amount)
                if let coupon = entry.coupon {
                    let validTo = try CouponStore.validTo(context.db, coupon) ?? 0
                    if context.now < validTo { returned = try returned.adding(entry.amount) } else { voided = try voided.adding(entry.amount) }
                }
            }
            fields["refund_by_source"] = .object(bySource.mapValues { .integer($0.fen) })
            fields["refund_fen"] = .integer(try group.refund.fen)
            // Coupon money that does not come back: vouchers of a period refunded by the
            // formula, and coupons that expired before the refund (returned void).
            var formulaForfeits = Money.zero
            if case .array(let periods)? = group.detail["periods"] {
                for case .object(let period) in periods {
                    guard case .array(let lost)? = period["forfeited"] else { continue }
                    for case .object(let part) in lost {
                        if case .integer(let amount)? = part["amount_fen"] { formulaForfeits = try formulaForfeits.adding(Money(fen: amount)) }
                    }
                }
            }
            fields["coupons_returned_fen"] = .integer(returned.fen)
            fields["coupons_forfeited_fen"] = .integer(try voided.adding(formulaForfeits).fen)
            return .object(fields)
        }
        let newUnits = Int64(plan.groups.filter { $0.quotaUnit != nil }.count)
        var document: [String: JSONValue] = [
            "type": .string(plan.type), "resources": .array(groups),
            "total_refund_fen": .integer(try plan.total.fen),
            "review_required": .bool(try plan.total > context.configuration.largeRefundThreshold),
            "five_day_quota": ["year": .integer(plan.year), "limit": .integer(plan.quotaLimit),
                               "used_before": .integer(plan.quotaUsedBefore), "used_after": .integer(plan.quotaUsedBefore + newUnits)],
            "refundable": .bool(plan.groups.allSatisfy { $0.refundClass != .notAllowed && $0.refundClass != .failedCreation }),
        ]
        // The digest covers the figures, not the moment: a quote stays good while they do (the
        // formula moves by whole hours).
        document["quote_id"] = .string(Secrets.tokenDigest(JSONValue.object(document).text))
        document["computed_at"] = .integer(context.now)
        return .object(document)
    }

    /// Reads the request shared by quote and execution.
    static func refundRequest(_ reader: ObjectReader) throws -> (account: String, ids: [String], type: String, fallback: Int64?) {
        let account = try reader.string("account_id", maxLength: 64)
        let ids = try resourceIDs(reader, maximum: 100)
        let type = try reader.optionalChoice("type", ["RESOURCE", "RENEWAL_ONLY"]) ?? "RESOURCE"
        let fallback = try reader.optionalInstant("fallback_expiry")
        if fallback != nil && type != "RENEWAL_ONLY" {
            throw BillingError.invalid(.invalidField, "fallback_expiry goes with type RENEWAL_ONLY")
        }
        return (account, ids, type, fallback)
    }

    /// Quotes an unsubscription: `{"account_id", "resource_ids", "type"?: "RESOURCE" |
    /// "RENEWAL_ONLY", "fallback_expiry"?}` → the class of each resource and its full breakdown,
    /// with a `quote_id` naming the state it was computed on.
    public func quoteRefund(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: RefundQuoteRequest.init) { context, input in
            let plan = try Unsubscriptions.planRefund(account: input.accountID, resourceIDs: input.resourceIDs, type: input.type,
                                             fallback: input.fallbackExpiry, context: context)
            return try RefundQuoteResponse(plan, context: context)
        }
    }

    /// Unsubscribes: the quote request plus `"actor"`, `"quote_id"`? (refused as `quote_stale`
    /// unless the execution reproduces that quote exactly), `"reason_type"`? 1–5, `"reason"`?.
    /// All or nothing: any resource that cannot be refunded refuses the request. One UNSUBSCRIBE
    /// order per group (a combined order for several): above the large-refund threshold it waits
    /// for review (U2), else it is refunded and completed at once (U1, U5).
    public func unsubscribe(_ requestJSON: String?) throws -> String {
        try perform("resource.unsubscribe", requestJSON, parse: UnsubscribeRequest.init, apply: { context, input in
            let (request, quoteID, reasonType, reason) = (input.quote, input.quoteID, input.reasonType, input.reason)
            let plan = try Unsubscriptions.planRefund(account: request.accountID, resourceIDs: request.resourceIDs, type: request.type,
                                             fallback: request.fallbackExpiry, context: context)
            let quote = try RefundQuoteResponse(plan, context: context)
            if let quoteID, quote.quoteID != .string(quoteID) {
                throw BillingError.refused(.quoteStale, "the refund changed since the quote (time passed or the resource changed); quote again")
            }
            for group in plan.groups where group.refundClass == .notAllowed || group.refundClass == .failedCreation {
                let why = group.refundClass == .failedCreation ? "already_refunded" : (group.reason?.rawValue ?? "")
                throw BillingError.refused(group.refundClass == .failedCreation ? .alreadyRefunded : .notRefundable,
                                           "resource \(group.primary.id) cannot be unsubscribed: \(why) \(group.message ?? "")")
            }
            let review = try plan.total > context.configuration.largeRefundThreshold
            let status: OrderStatus = review ? .pendingReview : .refunding
            var root: Order?
            if plan.groups.count > 1 {
                root = try Refunds.createRefundOrder(plan.groups.flatMap(\.entries), account: request.accountID, sourceOrder: nil, combined: nil,
                                                    isCombined: true, productType: plan.groups[0].primary.productType,
                                                    billingMode: BillingMode.prepaid.rawValue, status: status, context: context)
            }
            var orders: [Order] = []
            for group in plan.groups {
                let order = try Refunds.createRefundOrder(group.entries, account: request.accountID, sourceOrder: group.primary.orderID,
                                                         combined: root?.id, productType: group.primary.productType,
                                                         billingMode: BillingMode.prepaid.rawValue, status: status, context: context)
                try Refunds.reserveRefund(group.entries, order: order.id, context: context)
                var detail = group.detail
                detail["class"] = .string(group.refundClass.rawValue)
                detail["type"] = .string(request.type)
                detail["resource_ids"] = .array(group.members.map { .string($0.id) })
                detail["fallback_expiry"] = JSONValue(group.fallbackExpiry)
                detail["five_day_quota_unit"] = JSONValue(group.quotaUnit)
                detail["reason_type"] = JSONValue(reasonType)
                detail["reason"] = JSONValue(reason)
                try RefundStore.saveDetail(context.db, order: order.id, primary: group.primary.id, .object(detail))
                if review {
                    for member in group.members { try ResourceStore.open(context.db, order: order.id, on: member.id) }
                } else {
                    try Unsubscriptions.completeUnsubscription(order, context: context)
                }
                orders.append(order)
            }
            if var completed = root, !review {
                // The combined order follows its sub-orders, each refunded and completed above (U5).
                try completed.transition(to: .completed)
                completed.completedAt = context.now
                try OrderStore.update(context.db, completed)
            }
            let top = root ?? orders[0]
            let total = try plan.total
            try context.emit(review ? "order.refund_review_required" : "order.refunded", account: request.accountID, subject: top.id,
                             data: ["total_refund_fen": .integer(total.fen), "type": .string(request.type)])
            context.audit(account: request.accountID, subject: top.id,
                          detail: ["resource_ids": .array(request.resourceIDs.map { .string($0) }), "type": .string(request.type),
                                   "total_refund_fen": .integer(total.fen), "review": .bool(review)])
            return try OrderDetailResponse.load(top.id, account: request.accountID, quote: Engine.stamped(quote.json), context: context)
        })
    }
}

extension Engine {
    /// The host's refund blocks on a resource (§5.8 reasons the engine cannot see itself):
    /// `{"actor", "account_id", "resource_id", "blocks": [] or any of "INVOICED_MARKETPLACE",
    /// "ARCHIVED", "SUPPORT_BENEFIT_USED"}` replaces them.
    public func setRefundBlocks(_ requestJSON: String?) throws -> String {
        try perform("resource.refund_blocks", requestJSON, parse: RefundBlocksRequest.init, apply: { context, input in
            var resource = try ResourceStore.require(context.db, input.resourceID, account: input.accountID)
            resource.refundBlocks = input.blocks
            try ResourceStore.update(context.db, resource)
            let response = RefundBlocksResponse(resourceID: input.resourceID, blocks: input.blocks)
            try context.emit("resource.refund_blocks_set", account: input.accountID, subject: input.resourceID, data: ["blocks": response.blocksJSON])
            context.audit(account: input.accountID, subject: input.resourceID, detail: ["blocks": response.blocksJSON])
            return response
        })
    }
}
