import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// What renewing resources would cost now (§4.3, §4.4), for the renew dialog and the
    /// "renewal price" column: `{"account_id", "resource_ids", "period"?, "unified_expiry"?,
    /// "coupon_ids"?}` (as `billing_resources_renew`). The answer comes from the renew path
    /// itself: the RENEW order is made and its payment planned exactly as renew + pay would,
    /// in a transaction that is rolled back whole, so the quote equals what is then charged and
    /// nothing is created, blocked or used up.
    public func quoteRenewal(_ requestJSON: String?) throws -> String {
        try rehearse(requestJSON, parse: RenewalQuoteRequest.init) { context, input in
            let (order, period) = try Renewals.createManualRenewal(account: input.accountID, ids: input.resourceIDs, period: input.period,
                                                                 unified: input.unifiedExpiry, context: context)
            let orders = order.isCombined ? try OrderStore.subOrders(context.db, of: order.id) : [order]
            // The price stands whatever the payment would meet (no funds, a coupon refused).
            let preview = try Engine.previewPayment(order, of: orders, coupons: input.couponIDs, account: input.accountID,
                                                    rethrowing: [], context: context)
            return try RenewalQuoteResponse(period: period, unifiedExpiry: input.unifiedExpiry, lines: preview.lines, coupons: preview.coupons,
                                            applicableCoupons: try applicableCoupons(order, account: input.accountID, context: context),
                                            payment: preview.payment, quotedAt: context.now, calendar: context.calendar)
        }
    }
}
