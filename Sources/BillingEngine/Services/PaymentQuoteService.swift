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
        try query(requestJSON, parse: { reader in
            (try reader.string("account_id", maxLength: 64), try reader.string("order_id", maxLength: 64), try Engine.couponIDs(reader))
        }) { context, input in
            let order = try OrderStore.require(context.db, input.1, account: input.0)
            let members = order.isCombined ? try OrderStore.subOrders(context.db, of: order.id) : [order]
            let preview = try Engine.previewPayment(order, of: members, coupons: input.2, account: input.0,
                                                    rethrowing: Engine.orderItselfUnpayable, context: context)
            let lines = preview.lines, coupons = preview.coupons, payment = preview.payment
            return ["quoted_at": .integer(context.now), "order_id": .string(order.id), "is_combined": .bool(order.isCombined),
                    "pay_deadline": JSONValue(order.payDeadline),
                    "amounts": try OrderAmounts.total(lines.map(\.amounts)).json, "coupons": .array(coupons),
                    "applicable_coupons": .array(try applicableCoupons(order, account: input.0, context: context)),
                    "payment": payment]
        }
    }

    /// Refusals about the order itself rather than this payment: a pay quote answers them as
    /// errors, since no coupon or top-up would make the order payable.
    static let orderItselfUnpayable: Set<String> = ["use_combined_order", "order_not_payable", "order_already_paid",
                                                    "order_payment_expired"]
}
