import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// Pays a pending order (T10): `{"actor", "account_id", "order_id", "coupon_ids"?}`. A combined
    /// order is paid whole; its sub-orders cannot be paid alone. Checks, in the order of §3.5:
    /// status, deadline, combined order, coupons, prices, funds; then debits and creates the
    /// resources (pending provisioning; packages take effect at once). Emits `order.paid` and
    /// `resource.created` for each resource the host must provision.
    public func payOrder(_ requestJSON: String?) throws -> String {
        try perform("order.pay", requestJSON, parse: OrderPayRequest.init, apply: { context, input in
            let order = try OrderStore.require(context.db, input.orderID, account: input.accountID)
            let plan = try Payments.planPayment(order, coupons: input.couponIDs, context: context)
            let paid = try PaymentSettlement.applyPayment(plan, context: context)
            context.audit(account: input.accountID, subject: order.id,
                          detail: ["coupon_ids": .array(input.couponIDs.map { .string($0) })])
            // A NEW or RENEW order is answered from what the payment wrote; others are read back.
            if let paid { return try OrderDetailResponse(paid, calendar: context.calendar) }
            return try OrderDetailResponse.load(order.id, account: input.accountID, context: context)
        })
    }
}
