import BillingDomain
import BillingDocuments
import BillingStorage

/// A payment planned without writing, for the quotes (of a pending order and of a renewal):
/// the same plan as the payment itself, and the coupons it would accept.
extension Engine {
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
            let plan = try Payments.planPayment(order, coupons: chosen, context: context)
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

    /// The account's coupons that a payment of `order` would accept, each on its own: the
    /// usable ones (`CouponStore.usable`: in their window, with a balance left or not yet
    /// used) that `PaymentAllocation.allocate` — the payment's own check of scope, minimum
    /// spend, exclusivity with discounts and the per-payment limit — takes for this order's
    /// lines. Whether the funds then suffice, or the account may pay at all now, is the
    /// quote's `payment`, not a property of the coupon.
    func applicableCoupons(_ order: Order, account: String, context: OperationContext) throws -> [JSONValue] {
        let payable = try Payments.payableLines(of: order, context: context)
        var accepted: [JSONValue] = []
        for coupon in try CouponStore.usable(context.db, account: account, at: context.now) {
            do {
                // Unlimited credit: only the coupon's own rules can refuse it here.
                _ = try PaymentAllocation.allocate(lines: payable, coupons: [coupon], availableCash: .zero,
                                                   availableCredit: Money(fen: .max),
                                                   maximumCoupons: context.configuration.maxCouponsPerPayment, at: context.now)
            } catch let error as BillingError where error.status == .refused {
                continue
            }
            accepted.append(coupon.json(at: context.now))
        }
        return accepted
    }
}
