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
        struct Input { var account: String; var ids: [String]; var period: Period?; var unified: Bool; var autoPay: Bool; var coupons: [String] }
        return try perform("resource.renew", requestJSON, parse: { reader in
            Input(account: try reader.string("account_id", maxLength: 64), ids: try Engine.resourceIDs(reader, maximum: Int(Configuration.maxBatchRenewLimit)),
                  period: try Engine.period(reader, "period"), unified: try reader.optionalBool("unified_expiry") ?? false,
                  autoPay: try reader.optionalBool("auto_pay") ?? false, coupons: try Engine.couponIDs(reader))
        }, apply: { context, input in
            let (order, period) = try Renewals.createManualRenewal(account: input.account, ids: input.ids, period: input.period,
                                                                 unified: input.unified, context: context)
            var payment: JSONValue = .null
            if input.autoPay {
                do {
                    try context.db.savepoint {
                        try PaymentSettlement.applyPayment(try Payments.planPayment(order, coupons: input.coupons, context: context), context: context)
                    }
                    payment = ["succeeded": true]
                } catch let error as BillingError where error.status == .refused || error.status == .notFound {
                    payment = ["succeeded": false, "reason": .string(error.reason), "message": .string(error.message)]
                }
            }
            context.audit(account: input.account, subject: order.id,
                          detail: ["resource_ids": .array(input.ids.map { .string($0) }), "period": .string(period.description),
                                   "unified_expiry": .bool(input.unified)])
            guard case .object(var fields) = try Engine.orderDetail(order.id, account: input.account, context: context) else { return .null }
            fields["payment"] = payment
            return .object(fields)
        })
    }
}
