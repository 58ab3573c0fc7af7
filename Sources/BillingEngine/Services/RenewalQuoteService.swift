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
        struct Input { var account: String; var ids: [String]; var period: Period?; var unified: Bool; var coupons: [String] }
        return try rehearse(requestJSON, parse: { reader in
            Input(account: try reader.string("account_id", maxLength: 64), ids: try Engine.resourceIDs(reader, maximum: Int(Configuration.maxBatchRenewLimit)),
                  period: try Engine.period(reader, "period"), unified: try reader.optionalBool("unified_expiry") ?? false,
                  coupons: try Engine.couponIDs(reader))
        }) { context, input in
            let (order, period) = try Engine.createManualRenewal(account: input.account, ids: input.ids, period: input.period,
                                                                 unified: input.unified, context: context)
            let orders = order.isCombined ? try OrderStore.subOrders(context.db, of: order.id) : [order]
            // The price stands whatever the payment would meet (no funds, a coupon refused).
            let preview = try Engine.previewPayment(order, of: orders, coupons: input.coupons, account: input.account,
                                                    rethrowing: [], context: context)
            let lines = preview.lines, coupons = preview.coupons, payment = preview.payment
            let resources: [JSONValue] = try lines.map { line in
                let primary = line.parentLine.flatMap { parent in lines.first { $0.orderID == line.orderID && $0.lineNo == parent }?.resourceID }
                return ["resource_id": JSONValue(line.resourceID), "primary_resource_id": JSONValue(primary), "product_id": .string(line.productID),
                        "product_type": .string(line.productType), "expire_at": JSONValue(line.renewFrom), "new_expire_at": JSONValue(line.renewTo),
                        "new_expire_at_local": line.renewTo.map { .string(context.calendar.iso8601($0)) } ?? .null,
                        "amounts": try line.amounts.json]
            }
            return ["quoted_at": .integer(context.now), "period": ["unit": .string(period.unit.rawValue), "count": .integer(period.count)],
                    "unified_expiry": .bool(input.unified), "resources": .array(resources),
                    "amounts": try OrderAmounts.total(lines.map(\.amounts)).json, "coupons": .array(coupons),
                    "applicable_coupons": .array(try applicableCoupons(order, account: input.account, context: context)),
                    "payment": payment]
        }
    }

    /// The account's coupons that a payment of `order` would accept, each on its own: the
    /// usable ones (`CouponStore.usable`: in their window, with a balance left or not yet
    /// used) that `PaymentAllocation.allocate` — the payment's own check of scope, minimum
    /// spend, exclusivity with discounts and the per-payment limit — takes for this order's
    /// lines. Whether the funds then suffice, or the account may pay at all now, is the
    /// quote's `payment`, not a property of the coupon.
    func applicableCoupons(_ order: Order, account: String, context: OperationContext) throws -> [JSONValue] {
        let payable = try Engine.payableLines(of: order, context: context)
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
