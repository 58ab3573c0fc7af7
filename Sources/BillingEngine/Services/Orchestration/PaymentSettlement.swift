import BillingDomain
import BillingDocuments
import BillingStorage

/// Settling a payment composes three services: payment writes the money
/// (`Payments.recordPayment`), then a RENEW order extends its resources (`Renewals.applyRenewal`)
/// and any other order creates them (`Provisioning.createResources`), funded from what paid each
/// line. Every way of paying goes through here (paying an order, auto-pay at creation and at
/// renewal, auto-renewal), so none of those services calls another back.
enum PaymentSettlement {
    /// Writes a planned payment: line and order amounts, coupon use, ledger, statuses, resources.
    /// Returns the paid order's details as they now stand for a NEW or RENEW order, built
    /// from what was written (a read would give the same: `TypedResponseTests`); nil for
    /// other orders (the caller reads them).
    @discardableResult
    static func applyPayment(_ plan: PaymentPlan, ledgerKind: String = "PAYMENT", context: OperationContext) throws -> OrderDetail? {
        let paid = try Payments.recordPayment(plan, ledgerKind: ledgerKind, context: context)
        if paid.root.type == .renew {
            // The orders and lines just written are handed on, not read again.
            return try Renewals.applyRenewal(paid.root, orders: paid.orders, lines: plan.lines, parts: paid.parts, context: context)
        }
        // The orders and lines just written are handed on, not read again.
        let provisioned = try Provisioning.createResources(for: paid.root, orders: paid.orders, lines: plan.lines,
                                                           parts: paid.parts, context: context)
        guard paid.root.type == .new else { return nil }
        return provisioned.detail(of: paid.root, orders: paid.orders, lines: plan.lines)
    }
}
