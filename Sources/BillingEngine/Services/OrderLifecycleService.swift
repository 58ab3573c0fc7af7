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
                throw BillingError.invalid(.missingField, "request.order_ids must list at least one order")
            }
            return (account, ids, try reader.optionalString("reason", maxLength: 500))
        }, apply: { context, input in
            guard input.1.count <= Int(context.configuration.maxBatchCancel) else {
                throw BillingError.invalid(.tooManyItems, "at most \(context.configuration.maxBatchCancel) orders can be cancelled at once")
            }
            var results: [JSONValue] = []
            for id in input.1 {
                do {
                    let order = try OrderStore.require(context.db, id, account: input.0)
                    if order.combinedID != nil { throw OrderTransitions.useCombined(order) }
                    guard order.status == .pendingPayment else {
                        throw BillingError.refused(.orderNotCancellable, "only PENDING_PAYMENT orders can be cancelled; \(id) is \(order.status.rawValue)")
                    }
                    try OrderTransitions.cancel(order, reason: .customer, note: input.2, context: context)
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
                try Unsubscriptions.decideUnsubscription(order, approve: decision == "APPROVE", context: context)
            } else if decision == "APPROVE" {
                try OrderTransitions.move(order, to: .pendingPayment, context: context)
            } else {
                try OrderTransitions.cancel(order, reason: .reviewRejected, note: nil, context: context)
            }
        }
    }

    /// The customer's answer to an order placed by the account manager (T8, T9):
    /// `{"actor", "account_id", "order_id", "decision": "CONFIRM" | "DECLINE"}`.
    public func confirmOrder(_ requestJSON: String?) throws -> String {
        try decide("order.confirm", requestJSON, from: .pendingConfirmation, decisions: ["CONFIRM", "DECLINE"]) { order, decision, context in
            if decision == "CONFIRM" {
                try OrderTransitions.move(order, to: order.reviewRequired ? .pendingReview : .pendingPayment, context: context)
            } else {
                try OrderTransitions.cancel(order, reason: .declined, note: nil, context: context)
            }
        }
    }

    private func decide(_ operation: String, _ requestJSON: String?, from status: OrderStatus, decisions: [String],
                        _ act: @escaping (Order, String, OperationContext) throws -> Void) throws -> String {
        try perform(operation, requestJSON, parse: { reader in
            let account = try reader.string("account_id", maxLength: 64)
            let order = try reader.string("order_id", maxLength: 64)
            guard let decision = try reader.optionalChoice("decision", decisions) else {
                throw BillingError.invalid(.missingField, "request.decision is required (\(decisions.joined(separator: " or ")))")
            }
            return (account, order, decision, try reader.optionalString("comment", maxLength: 500))
        }, apply: { context, input in
            let order = try OrderStore.require(context.db, input.1, account: input.0)
            if order.combinedID != nil { throw OrderTransitions.useCombined(order) }
            guard order.status == status else {
                throw BillingError.refused(.illegalTransition, "order \(order.id) is \(order.status.rawValue), not \(status.rawValue)")
            }
            // An unanswered manager order lapses at its deadline whether or not the scheduler has run.
            if status == .pendingConfirmation, let deadline = order.payDeadline, context.now >= deadline {
                throw BillingError.refused(.confirmationExpired, "order \(order.id) was not confirmed in time")
            }
            try act(order, input.2, context)
            context.audit(account: input.0, subject: order.id, detail: ["decision": .string(input.2), "comment": JSONValue(input.3)])
            return try Engine.orderDetail(order.id, account: input.0, context: context)
        })
    }
}
