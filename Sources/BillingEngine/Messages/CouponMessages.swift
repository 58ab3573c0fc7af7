import BillingDomain
import BillingDocuments

/// The requests and responses of coupon issue and listing.

/// `billing_coupon_issue`: `{"actor", "account_id", "kind", "face_value_fen"? (vouchers, cash
/// coupons, stored-value cards), "discount_bp"? and "max_discount_fen"? (discount coupons),
/// "valid_from", "valid_to", "scope"?, "min_spend_fen"?, "exclusive_with_discounts"?,
/// "external_reference"?}`.
struct IssueCouponRequest: RequestDocument {
    let accountID: String
    let kind: CouponKind
    /// Zero for a discount coupon.
    let faceValue: Money
    let discountBP: Int64?
    let maxDiscount: Money?
    let validFrom: Int64
    let validTo: Int64
    let scope: CouponScope
    let minSpend: Money
    /// Vouchers default to exclusive with discounts (§3.5).
    let exclusiveWithDiscounts: Bool
    let externalReference: String?

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        guard let kind = try reader.optionalChoice("kind", CouponKind.allCases.map(\.rawValue)).flatMap(CouponKind.init) else {
            throw BillingError.invalid(.missingField, "request.kind is required")
        }
        self.kind = kind
        let faceValue = try reader.optionalMoney("face_value_fen")
        let discount = try reader.optionalInt("discount_bp", in: 1...9999)
        let maxDiscount = try reader.optionalMoney("max_discount_fen")
        if kind.hasBalance {
            guard let faceValue, faceValue.fen > 0 else {
                throw BillingError.invalid(.missingField, "request.face_value_fen (> 0) is required for a \(kind.rawValue)")
            }
            guard discount == nil, maxDiscount == nil else {
                throw BillingError.invalid(.invalidField, "discount_bp and max_discount_fen apply to DISCOUNT_COUPON only")
            }
        } else {
            guard discount != nil else {
                throw BillingError.invalid(.missingField, "request.discount_bp (1–9999) is required for a DISCOUNT_COUPON")
            }
            guard faceValue == nil else {
                throw BillingError.invalid(.invalidField, "a DISCOUNT_COUPON has no face_value_fen")
            }
            if let maxDiscount, maxDiscount.fen == 0 {
                throw BillingError.invalid(.nonPositiveAmount, "request.max_discount_fen must be greater than 0")
            }
        }
        self.faceValue = faceValue ?? .zero
        discountBP = discount
        self.maxDiscount = maxDiscount
        validFrom = try reader.instant("valid_from")
        validTo = try reader.instant("valid_to")
        guard validTo > validFrom else { throw BillingError.invalid(.invalidWindow, "request.valid_to must be after valid_from") }
        scope = try reader.optionalObject("scope").map(CouponScope.init) ?? CouponScope()
        minSpend = try reader.optionalMoney("min_spend_fen") ?? .zero
        exclusiveWithDiscounts = try reader.optionalBool("exclusive_with_discounts") ?? (kind == .voucher)
        externalReference = try reader.optionalString("external_reference", maxLength: 128)
    }
}

/// `{"coupon", "replayed"}`: the coupon with its status at `instant`; `replayed` when the
/// external reference had issued it before.
struct IssueCouponResponse: ResponseDocument {
    let coupon: Coupon
    let instant: Int64
    let replayed: Bool

    var json: JSONValue { ["coupon": coupon.json(at: instant), "replayed": .bool(replayed)] }
}

/// `billing_coupons_list`: `{"account_id", "status"? ("USABLE" | "ALL"), "kind"?, "after"?, "limit"?}`.
struct CouponListRequest: RequestDocument {
    let accountID: String
    let usableOnly: Bool
    let kind: String?
    let page: PageRequest

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        usableOnly = try reader.optionalChoice("status", ["USABLE", "ALL"]) == "USABLE"
        kind = try reader.optionalChoice("kind", CouponKind.allCases.map(\.rawValue))
        page = try PageRequest(reader)
    }
}

/// `{"coupons", "next_cursor", "has_more"}`, each coupon with its status at `instant`.
struct CouponPageResponse: ResponseDocument {
    let coupons: [Coupon]
    let instant: Int64
    /// The sequence of the last coupon read (kept or filtered out).
    let lastSequence: Int64
    let hasMore: Bool

    var json: JSONValue {
        ["coupons": .array(coupons.map { $0.json(at: instant) }),
         "next_cursor": .string(String(lastSequence)), "has_more": .bool(hasMore)]
    }
}
