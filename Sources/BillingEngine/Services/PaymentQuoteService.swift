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
            var lines: [OrderLine] = []
            for member in members { lines += try OrderStore.lines(context.db, of: member.id) }
            var payment: JSONValue = ["payable": true]
            var used: [(id: String, amount: Money)] = []
            do {
                let plan = try Engine.planPayment(order, coupons: input.2, context: context)
                lines = plan.lines
                for part in plan.parts {
                    guard let coupon = part.couponID else { continue }
                    if let index = used.firstIndex(where: { $0.id == coupon }) {
                        used[index].amount = try used[index].amount.adding(part.amount)
                    } else {
                        used.append((coupon, part.amount))
                    }
                }
            } catch let error as BillingError where Engine.orderItselfUnpayable.contains(error.reason) {
                throw error
            } catch let error as BillingError where error.status == .refused || error.status == .notFound {
                payment = ["payable": false, "reason": .string(error.reason), "message": .string(error.message)]
            }
            let coupons: [JSONValue] = try used.map { entry in
                let coupon = try CouponStore.require(context.db, id: entry.id, account: input.0)
                return ["coupon_id": .string(coupon.id), "kind": .string(coupon.kind.rawValue), "amount_fen": .integer(entry.amount.fen)]
            }
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
