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
        try perform("order.cancel", requestJSON, parse: OrderCancelRequest.init, apply: { context, input in
            guard input.orderIDs.count <= Int(context.configuration.maxBatchCancel) else {
                throw BillingError.invalid(.tooManyItems, "at most \(context.configuration.maxBatchCancel) orders can be cancelled at once")
            }
            var results: [OrderCancelResponse.Result] = []
            for id in input.orderIDs {
                do {
                    let order = try OrderStore.require(context.db, id, account: input.accountID)
                    if order.combinedID != nil { throw OrderTransitions.useCombined(order) }
                    guard order.status == .pendingPayment else {
                        throw BillingError.refused(.orderNotCancellable, "only PENDING_PAYMENT orders can be cancelled; \(id) is \(order.status.rawValue)")
                    }
                    try OrderTransitions.cancel(order, reason: .customer, note: input.reason, context: context)
                    results.append(.cancelled(id))
                } catch let error as BillingError where error.status == .refused || error.status == .notFound {
                    results.append(.refused(id, reason: error.reason, message: error.message))
                }
            }
            let response = OrderCancelResponse(results: results)
            context.audit(account: input.accountID, detail: ["order_ids": .array(input.orderIDs.map { .string($0) }), "results": .array(results.map(\.json))])
            return response
        })
    }

    /// Decides an order that needs review (T6, T7): `{"actor", "account_id", "order_id",
    /// "decision": "APPROVE" | "REJECT", "comment"?}`. Approval starts the payment deadline.
    public func reviewOrder(_ requestJSON: String?) throws -> String {
        try decide("order.review", requestJSON, from: .pendingReview, parse: OrderReviewRequest.init) { order, request, context in
            if order.type == .unsubscribe {
                try Unsubscriptions.decideUnsubscription(order, approve: request.approve, context: context)
                return nil
            } else if request.approve {
                return try OrderTransitions.move(order, to: .pendingPayment, context: context)
            } else {
                return try OrderTransitions.cancel(order, reason: .reviewRejected, note: nil, context: context)
            }
        }
    }

    /// The customer's answer to an order placed by the account manager (T8, T9):
    /// `{"actor", "account_id", "order_id", "decision": "CONFIRM" | "DECLINE"}`.
    public func confirmOrder(_ requestJSON: String?) throws -> String {
        try decide("order.confirm", requestJSON, from: .pendingConfirmation, parse: OrderConfirmRequest.init) { order, request, context in
            if request.confirm {
                return try OrderTransitions.move(order, to: order.reviewRequired ? .pendingReview : .pendingPayment, context: context)
            } else {
                return try OrderTransitions.cancel(order, reason: .declined, note: nil, context: context)
            }
        }
    }

    /// `act` returns the orders it wrote (the order, then its sub-orders), or nil when the
    /// answer must read them back.
    private func decide<Request: OrderDecisionRequest>(_ operation: String, _ requestJSON: String?, from status: OrderStatus,
                                                       parse: (ObjectReader) throws -> Request,
                                                       _ act: @escaping (Order, Request, OperationContext) throws -> [Order]?) throws -> String {
        try perform(operation, requestJSON, parse: parse, apply: { context, input in
            let order = try OrderStore.require(context.db, input.orderID, account: input.accountID)
            if order.combinedID != nil { throw OrderTransitions.useCombined(order) }
            guard order.status == status else {
                throw BillingError.refused(.illegalTransition, "order \(order.id) is \(order.status.rawValue), not \(status.rawValue)")
            }
            // An unanswered manager order lapses at its deadline whether or not the scheduler has run.
            if status == .pendingConfirmation, let deadline = order.payDeadline, context.now >= deadline {
                throw BillingError.refused(.confirmationExpired, "order \(order.id) was not confirmed in time")
            }
            let written = try act(order, input, context)
            context.audit(account: input.accountID, subject: order.id, detail: ["decision": .string(input.decision), "comment": JSONValue(input.comment)])
            if let written, let moved = written.first {
                // The order rows as just written; the lines and resources are read.
                return try OrderDetailResponse(try OrderDetail.load(moved, subOrders: moved.isCombined ? Array(written.dropFirst()) : [],
                                                                    context: context), calendar: context.calendar)
            }
            return try OrderDetailResponse.load(order.id, account: input.accountID, context: context)
        })
    }
}
