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
    static func applyPayment(_ plan: PaymentPlan, ledgerKind: String = "PAYMENT", context: OperationContext) throws {
        let paid = try Payments.recordPayment(plan, ledgerKind: ledgerKind, context: context)
        if paid.root.type == .renew {
            try Renewals.applyRenewal(paid.root, parts: paid.parts, context: context)
        } else {
            try Provisioning.createResources(for: paid.root, parts: paid.parts, context: context)
        }
    }
}
