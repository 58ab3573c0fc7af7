import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// Issues a coupon to an account (the host decides who gets what):
    /// `{"actor", "account_id", "kind", "face_value_fen"? (vouchers, cash coupons, stored-value
    /// cards), "discount_bp"? and "max_discount_fen"? (discount coupons: 1000 = 10 % off),
    /// "valid_from", "valid_to", "scope"?, "min_spend_fen"?, "exclusive_with_discounts"?,
    /// "external_reference"?}`. Vouchers default to exclusive with discounts (§3.5). A repeated
    /// external reference returns the coupon issued first. Emits `coupon.issued`.
    public func issueCoupon(_ requestJSON: String?) throws -> String {
        try perform("coupon.issue", requestJSON, parse: IssueCouponRequest.init) { context, input -> IssueCouponResponse in
            _ = try AccountStore.require(context.db, input.accountID)
            if let reference = input.externalReference, let first = try CouponStore.byReference(context.db, account: input.accountID, reference: reference) {
                context.audit(account: input.accountID, subject: first.id, detail: ["replayed": true])
                return IssueCouponResponse(coupon: first, instant: context.now, replayed: true)
            }
            let sequence = try IdentifierSequence.next(context.db, "coupon")
            let coupon = Coupon(id: IdentifierSequence.format("CPN", sequence), accountID: input.accountID, kind: input.kind,
                                faceValue: input.faceValue, balance: input.faceValue, discountBP: input.discountBP,
                                maxDiscount: input.maxDiscount, validFrom: input.validFrom, validTo: input.validTo,
                                scope: input.scope, minSpend: input.minSpend, exclusiveWithDiscounts: input.exclusiveWithDiscounts,
                                reference: input.externalReference, issuedAt: context.now)
            try CouponStore.insert(context.db, coupon, sequence: sequence)
            try context.emit("coupon.issued", account: input.accountID, subject: coupon.id, data: ["coupon": coupon.json(at: context.now)])
            context.audit(account: input.accountID, subject: coupon.id,
                          detail: ["kind": .string(coupon.kind.rawValue), "face_value_fen": .integer(coupon.faceValue.fen)])
            return IssueCouponResponse(coupon: coupon, instant: context.now, replayed: false)
        }
    }

    /// An account's coupons in issue order: `{"account_id", "status"? ("USABLE" | "ALL",
    /// default "ALL"), "kind"?, "after"?, "limit"?}`. Each coupon carries its status now.
    public func listCoupons(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: CouponListRequest.init) { context, input -> CouponPageResponse in
            _ = try AccountStore.require(context.db, input.accountID)
            // Filters apply after the keyset read, so a page may hold fewer than `limit` rows while
            // `has_more` is true; the cursor still advances past everything read.
            let rows = try CouponStore.page(context.db, account: input.accountID, after: input.page.after, limit: input.page.limit + 1)
            let window = rows.prefix(Int(input.page.limit))
            let kept = window.filter { row in
                (!input.usableOnly || row.coupon.isUsable(at: context.now)) && (input.kind == nil || row.coupon.kind.rawValue == input.kind)
            }
            let last = window.last?.sequence ?? input.page.after
            return CouponPageResponse(coupons: kept.map(\.coupon), instant: context.now, lastSequence: last,
                                      hasMore: rows.count > window.count)
        }
    }
}
