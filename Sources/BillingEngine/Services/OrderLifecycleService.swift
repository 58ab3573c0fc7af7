import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// Cancels pending-payment orders for the customer (T11), at most `max_batch_cancel` (30)
    /// at once: `{"actor", "account_id", "order_ids": [...], "reason"?}` → `{"results":
    /// [{"order_id", "cancelled", "reason"?, "message"?}]}`. Each order that may be cancelled
    /// is; each other one says why (not pending payment, a sub-order, not found). Cancelling
    /// a combined order cancels all its sub-orders. Emits `order.cancelled`.
    public func cancelOrders(_ requestJSON: String?) throws -> String {
        try perform("order.cancel", requestJSON, parse: { reader -> (String, [String], String?) in
            let account = try reader.string("account_id", maxLength: 64)
            guard let ids = try reader.optionalIdentifiers("order_ids", maxCount: 1000), !ids.isEmpty else {
                throw BillingError.invalid("missing_field", "request.order_ids must list at least one order")
            }
            return (account, ids, try reader.optionalString("reason", maxLength: 500))
        }, apply: { context, input in
            guard input.1.count <= Int(context.configuration.maxBatchCancel) else {
                throw BillingError.invalid("too_many_items", "at most \(context.configuration.maxBatchCancel) orders can be cancelled at once")
            }
            var results: [JSONValue] = []
            for id in input.1 {
                do {
                    let order = try OrderStore.require(context.db, id, account: input.0)
                    if order.combinedID != nil { throw Engine.useCombined(order) }
                    guard order.status == .pendingPayment else {
                        throw BillingError.refused("order_not_cancellable", "only PENDING_PAYMENT orders can be cancelled; \(id) is \(order.status.rawValue)")
                    }
                    try Engine.cancel(order, reason: .customer, note: input.2, context: context)
                    results.append(["order_id": .string(id), "cancelled": true])
                } catch let error as BillingError where error.status == .refused || error.status == .notFound {
                    results.append(["order_id": .string(id), "cancelled": false, "reason": .string(error.reason), "message": .string(error.message)])
                }
            }
            context.audit(account: input.0, detail: ["order_ids": .array(input.1.map { .string($0) }), "results": .array(results)])
            return ["results": .array(results)]
        })
    }

    /// Decides an order that needs review (T6, T7): `{"actor", "account_id", "order_id",
    /// "decision": "APPROVE" | "REJECT", "comment"?}`. Approval starts the payment deadline.
    public func reviewOrder(_ requestJSON: String?) throws -> String {
        try decide("order.review", requestJSON, from: .pendingReview, decisions: ["APPROVE", "REJECT"]) { order, decision, context in
            if order.type == .unsubscribe {
                try Engine.decideUnsubscription(order, approve: decision == "APPROVE", context: context)
            } else if decision == "APPROVE" {
                try Engine.move(order, to: .pendingPayment, context: context)
            } else {
                try Engine.cancel(order, reason: .reviewRejected, note: nil, context: context)
            }
        }
    }

    /// The customer's answer to an order placed by the account manager (T8, T9):
    /// `{"actor", "account_id", "order_id", "decision": "CONFIRM" | "DECLINE"}`.
    public func confirmOrder(_ requestJSON: String?) throws -> String {
        try decide("order.confirm", requestJSON, from: .pendingConfirmation, decisions: ["CONFIRM", "DECLINE"]) { order, decision, context in
            if decision == "CONFIRM" {
                try Engine.move(order, to: order.reviewRequired ? .pendingReview : .pendingPayment, context: context)
            } else {
                try Engine.cancel(order, reason: .declined, note: nil, context: context)
            }
        }
    }

    private func decide(_ operation: String, _ requestJSON: String?, from status: OrderStatus, decisions: [String],
                        _ act: @escaping (Order, String, OperationContext) throws -> Void) throws -> String {
        try perform(operation, requestJSON, parse: { reader in
            let account = try reader.string("account_id", maxLength: 64)
            let order = try reader.string("order_id", maxLength: 64)
            guard let decision = try reader.optionalChoice("decision", decisions) else {
                throw BillingError.invalid("missing_field", "request.decision is required (\(decisions.joined(separator: " or ")))")
            }
            return (account, order, decision, try reader.optionalString("comment", maxLength: 500))
        }, apply: { context, input in
            let order = try OrderStore.require(context.db, input.1, account: input.0)
            if order.combinedID != nil { throw Engine.useCombined(order) }
            guard order.status == status else {
                throw BillingError.refused("illegal_transition", "order \(order.id) is \(order.status.rawValue), not \(status.rawValue)")
            }
            // An unanswered manager order lapses at its deadline whether or not the scheduler has run.
            if status == .pendingConfirmation, let deadline = order.payDeadline, context.now >= deadline {
                throw BillingError.refused("confirmation_expired", "order \(order.id) was not confirmed in time")
            }
            try act(order, input.2, context)
            context.audit(account: input.0, subject: order.id, detail: ["decision": .string(input.2), "comment": JSONValue(input.3)])
            return try Engine.orderDetail(order.id, account: input.0, context: context)
        })
    }

    /// Moves an order (and a combined order's sub-orders) to a waiting status; entering
    /// PENDING_PAYMENT starts the payment deadline.
    static func move(_ order: Order, to status: OrderStatus, context: OperationContext) throws {
        let members = order.isCombined ? try OrderStore.subOrders(context.db, of: order.id) : []
        let deadline = status == .pendingPayment
            ? context.now + (([order] + members).map { context.configuration.payDeadline(forKind: $0.productKind) }.min() ?? 0)
            : nil
        for var member in [order] + members {
            try member.transition(to: status)
            member.payDeadline = deadline
            try OrderStore.update(context.db, member)
        }
        try context.emit("order.status_changed", account: order.accountID, subject: order.id,
                         data: ["from": .string(order.status.rawValue), "to": .string(status.rawValue), "pay_deadline": JSONValue(deadline)])
    }

    /// Cancels an order and, for a combined order, all its sub-orders. Nothing was paid, so
    /// nothing is refunded.
    static func cancel(_ order: Order, reason: CancelReason, note: String?, context: OperationContext) throws {
        let members = order.isCombined ? try OrderStore.subOrders(context.db, of: order.id) : []
        for var member in [order] + members {
            try member.transition(to: .cancelled)
            member.cancelledAt = context.now
            member.cancelReason = reason.rawValue
            try OrderStore.update(context.db, member)
            try ResourceStore.close(context.db, order: member.id)
        }
        try context.emit("order.cancelled", account: order.accountID, subject: order.id,
                         data: ["reason": .string(reason.rawValue), "note": JSONValue(note),
                                "from": .string(order.status.rawValue)])
    }

    /// Scheduler job: cancels orders whose payment deadline (T12) or confirmation validity (T9)
    /// has passed, oldest deadline first, at most `limit`. Returns how many it cancelled and
    /// whether more are due.
    static func cancelOverdueOrders(limit: Int64, context: OperationContext) throws -> (cancelled: Int64, more: Bool) {
        let due = try OrderStore.overdue(context.db, at: context.now, limit: limit + 1)
        for (id, account) in due.prefix(Int(limit)) {
            let order = try OrderStore.require(context.db, id, account: account)
            try cancel(order, reason: order.status == .pendingPayment ? .paymentExpired : .confirmationExpired, note: nil, context: context)
        }
        return (Int64(min(due.count, Int(limit))), due.count > Int(limit))
    }
}
