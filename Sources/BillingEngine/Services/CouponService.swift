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
        struct Input {
            var account: String
            var kind: CouponKind
            var faceValue: Money
            var discountBP: Int64?
            var maxDiscount: Money?
            var validFrom: Int64
            var validTo: Int64
            var scope: CouponScope
            var minSpend: Money
            var exclusive: Bool
            var reference: String?
        }
        return try perform("coupon.issue", requestJSON, parse: { reader in
            let account = try reader.string("account_id", maxLength: 64)
            guard let kind = try reader.optionalChoice("kind", CouponKind.allCases.map(\.rawValue)).flatMap(CouponKind.init) else {
                throw BillingError.invalid("missing_field", "request.kind is required")
            }
            let faceValue = try reader.optionalMoney("face_value_fen")
            let discount = try reader.optionalInt("discount_bp", in: 1...9999)
            let maxDiscount = try reader.optionalMoney("max_discount_fen")
            if kind.hasBalance {
                guard let faceValue, faceValue.fen > 0 else {
                    throw BillingError.invalid("missing_field", "request.face_value_fen (> 0) is required for a \(kind.rawValue)")
                }
                guard discount == nil, maxDiscount == nil else {
                    throw BillingError.invalid("invalid_field", "discount_bp and max_discount_fen apply to DISCOUNT_COUPON only")
                }
            } else {
                guard discount != nil else {
                    throw BillingError.invalid("missing_field", "request.discount_bp (1–9999) is required for a DISCOUNT_COUPON")
                }
                guard faceValue == nil else {
                    throw BillingError.invalid("invalid_field", "a DISCOUNT_COUPON has no face_value_fen")
                }
                if let maxDiscount, maxDiscount.fen == 0 {
                    throw BillingError.invalid("non_positive_amount", "request.max_discount_fen must be greater than 0")
                }
            }
            let from = try reader.instant("valid_from")
            let to = try reader.instant("valid_to")
            guard to > from else { throw BillingError.invalid("invalid_window", "request.valid_to must be after valid_from") }
            let scope = try reader.optionalObject("scope").map(CouponScope.init) ?? CouponScope()
            return Input(account: account, kind: kind, faceValue: faceValue ?? .zero, discountBP: discount,
                         maxDiscount: maxDiscount, validFrom: from, validTo: to, scope: scope,
                         minSpend: try reader.optionalMoney("min_spend_fen") ?? .zero,
                         exclusive: try reader.optionalBool("exclusive_with_discounts") ?? (kind == .voucher),
                         reference: try reader.optionalString("external_reference", maxLength: 128))
        }, apply: { context, input in
            _ = try AccountStore.require(context.db, input.account)
            if let reference = input.reference, let first = try CouponStore.byReference(context.db, account: input.account, reference: reference) {
                context.audit(account: input.account, subject: first.id, detail: ["replayed": true])
                return ["coupon": first.json(at: context.now), "replayed": true]
            }
            let sequence = try IdentifierSequence.next(context.db, "coupon")
            let coupon = Coupon(id: IdentifierSequence.format("CPN", sequence), accountID: input.account, kind: input.kind,
                                faceValue: input.faceValue, balance: input.faceValue, discountBP: input.discountBP,
                                maxDiscount: input.maxDiscount, validFrom: input.validFrom, validTo: input.validTo,
                                scope: input.scope, minSpend: input.minSpend, exclusiveWithDiscounts: input.exclusive,
                                reference: input.reference, issuedAt: context.now)
            try CouponStore.insert(context.db, coupon, sequence: sequence)
            let document = coupon.json(at: context.now)
            try context.emit("coupon.issued", account: input.account, subject: coupon.id, data: ["coupon": document])
            context.audit(account: input.account, subject: coupon.id,
                          detail: ["kind": .string(coupon.kind.rawValue), "face_value_fen": .integer(coupon.faceValue.fen)])
            return ["coupon": document, "replayed": false]
        })
    }

    /// An account's coupons in issue order: `{"account_id", "status"? ("USABLE" | "ALL",
    /// default "ALL"), "kind"?, "after"?, "limit"?}`. Each coupon carries its status now.
    public func listCoupons(_ requestJSON: String?) throws -> String {
        struct Input { var account: String; var usableOnly: Bool; var kind: String?; var page: PageRequest }
        return try query(requestJSON, parse: { reader in
            Input(account: try reader.string("account_id", maxLength: 64),
                  usableOnly: try reader.optionalChoice("status", ["USABLE", "ALL"]) == "USABLE",
                  kind: try reader.optionalChoice("kind", CouponKind.allCases.map(\.rawValue)),
                  page: try PageRequest(reader))
        }) { context, input in
            _ = try AccountStore.require(context.db, input.account)
            // Filters apply after the keyset read, so a page may hold fewer than `limit` rows while
            // `has_more` is true; the cursor still advances past everything read.
            let rows = try CouponStore.page(context.db, account: input.account, after: input.page.after, limit: input.page.limit + 1)
            let window = rows.prefix(Int(input.page.limit))
            let kept = window.filter { row in
                (!input.usableOnly || row.coupon.isUsable(at: context.now)) && (input.kind == nil || row.coupon.kind.rawValue == input.kind)
            }
            let last = window.last?.sequence ?? input.page.after
            return ["coupons": .array(kept.map { $0.coupon.json(at: context.now) }),
                    "next_cursor": .string(String(last)), "has_more": .bool(rows.count > window.count)]
        }
    }
}
