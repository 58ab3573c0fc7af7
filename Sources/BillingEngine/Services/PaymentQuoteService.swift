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

    /// How a payment of `order` (made of `members`) with the chosen coupons would go, planned by
    /// the payment's own code without writing: the lines as they would be paid, the coupons it
    /// would take with their amounts, and `payment` (`payable`, or why not). Refusals whose
    /// reason is in `rethrowing` are errors of the call; other refusals (no funds, a coupon
    /// refused) leave the price standing and say why in `payment`.
    static func previewPayment(_ order: Order, of members: [Order], coupons chosen: [String], account: String,
                               rethrowing: Set<String>, context: OperationContext)
        throws -> (lines: [OrderLine], coupons: [JSONValue], payment: JSONValue) {
        var lines: [OrderLine] = []
        for member in members { lines += try OrderStore.lines(context.db, of: member.id) }
        var payment: JSONValue = ["payable": true]
        var used: [(id: String, amount: Money)] = []
        do {
            let plan = try Engine.planPayment(order, coupons: chosen, context: context)
            lines = plan.lines
            for part in plan.parts {
                guard let coupon = part.couponID else { continue }
                if let index = used.firstIndex(where: { $0.id == coupon }) {
                    used[index].amount = try used[index].amount.adding(part.amount)
                } else {
                    used.append((coupon, part.amount))
                }
            }
        } catch let error as BillingError where rethrowing.contains(error.reason) {
            throw error
        } catch let error as BillingError where error.status == .refused || error.status == .notFound {
            payment = ["payable": false, "reason": .string(error.reason), "message": .string(error.message)]
        }
        let coupons: [JSONValue] = try used.map { entry in
            let coupon = try CouponStore.require(context.db, id: entry.id, account: account)
            return ["coupon_id": .string(coupon.id), "kind": .string(coupon.kind.rawValue), "amount_fen": .integer(entry.amount.fen)]
        }
        return (lines, coupons, payment)
    }

    /// Refusals about the order itself rather than this payment: a pay quote answers them as
    /// errors, since no coupon or top-up would make the order payable.
    static let orderItselfUnpayable: Set<String> = ["use_combined_order", "order_not_payable", "order_already_paid",
                                                    "order_payment_expired"]
}
