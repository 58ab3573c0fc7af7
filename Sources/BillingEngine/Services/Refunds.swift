import BillingDomain
import BillingDocuments
import BillingStorage

/// Giving money back (§5.1): the UNSUBSCRIBE order, the reservation of each paid share and
/// the credit to the sources that paid. Used by unsubscription and by failed creations (T15).
enum Refunds {
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
        try Arrears.settleArrearsIfCleared(account, owedBefore: owedBefore, context: context)
        return voided
    }
}
