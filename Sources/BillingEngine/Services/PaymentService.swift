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
        try perform("order.pay", requestJSON, parse: { reader in
            (try reader.string("account_id", maxLength: 64), try reader.string("order_id", maxLength: 64), try Engine.couponIDs(reader))
        }, apply: { context, input in
            let order = try OrderStore.require(context.db, input.1, account: input.0)
            let plan = try Payments.planPayment(order, coupons: input.2, context: context)
            try PaymentSettlement.applyPayment(plan, context: context)
            context.audit(account: input.0, subject: order.id,
                          detail: ["coupon_ids": .array(input.2.map { .string($0) })])
            return try Engine.orderDetail(order.id, account: input.0, context: context)
        })
    }
}
