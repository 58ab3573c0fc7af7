import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// What paying a pending order with the chosen coupons would take, before paying it (the
    /// pay dialog of the pending-orders page): `{"account_id", "order_id", "coupon_ids"?}`.
    /// The answer is `billing_order_pay`'s own payment plan, made without writing anything, so
    /// paying at the same instant with the same coupons charges exactly this. An order that
    /// cannot be paid at all is refused as the payment would be (`use_combined_order`,
    /// `order_not_payable`, `order_already_paid`, `order_payment_expired`); when only this
    /// payment would fail (the account, a coupon, the funds), the order's amounts stand and
    /// `payment` says why.
    public func quoteOrderPayment(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: OrderPayRequest.init) { context, input in
            let order = try OrderStore.require(context.db, input.orderID, account: input.accountID)
            let members = order.isCombined ? try OrderStore.subOrders(context.db, of: order.id) : [order]
            let preview = try Engine.previewPayment(order, of: members, coupons: input.couponIDs, account: input.accountID,
                                                    rethrowing: Engine.orderItselfUnpayable, context: context)
            let amounts = try OrderAmounts.total(preview.lines.map(\.amounts))
            return try OrderPaymentQuoteResponse(order: order, amounts: amounts, coupons: preview.coupons,
                                                 applicableCoupons: try applicableCoupons(order, account: input.accountID, context: context),
                                                 payment: preview.payment, quotedAt: context.now)
        }
    }

    /// Refusals about the order itself rather than this payment: a pay quote answers them as
    /// errors, since no coupon or top-up would make the order payable.
    static let orderItselfUnpayable: Set<String> = ["use_combined_order", "order_not_payable", "order_already_paid",
                                                    "order_payment_expired"]
}
