import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// Renews primary resources by hand (§4.3): `{"actor", "account_id", "resource_ids": [1–max_batch_renew
    /// primary ids], "period"?: {"unit", "count"} (default per §2.2), "unified_expiry"?: bool
    /// (stretch to the account's unified expiry day), "auto_pay"?, "coupon_ids"?}`. Creates a
    /// RENEW order (a combined order for several resources) pending payment, or pays it at once
    /// with auto_pay. Bound resources are renewed with their primary. The auto-renew setting is
    /// left as it is.
    public func renewResources(_ requestJSON: String?) throws -> String {
        try perform("resource.renew", requestJSON, parse: RenewalRequest.init, apply: { context, input in
            let (order, period) = try Renewals.createManualRenewal(account: input.accountID, ids: input.resourceIDs, period: input.period,
                                                                 unified: input.unifiedExpiry, context: context)
            var payment = PaymentOutcome.notAttempted
            // The order's details when the payment wrote them (built from what it wrote).
            var paid: OrderDetail?
            if input.autoPay {
                do {
                    paid = try context.db.savepoint {
                        try PaymentSettlement.applyPayment(try Payments.planPayment(order, coupons: input.couponIDs, context: context), context: context)
                    }
                    payment = .succeeded
                } catch let error as BillingError where error.status == .refused || error.status == .notFound {
                    payment = .failed(reason: error.reason, message: error.message)
                }
            }
            context.audit(account: input.accountID, subject: order.id,
                          detail: ["resource_ids": .array(input.resourceIDs.map { .string($0) }), "period": .string(period.description),
                                   "unified_expiry": .bool(input.unifiedExpiry)])
            if let paid { return try OrderDetailResponse(paid, payment: payment, calendar: context.calendar) }
            return try OrderDetailResponse.load(order.id, account: input.accountID, payment: payment, context: context)
        })
    }
}
