/// The coupon kinds of domain-rules §0 (identifiers as the engine uses them).
public enum CouponKind: String, CaseIterable, Sendable {
    /// 代金券: reduces the amount paid; not paid money, not usable for arrears.
    case voucher = "VOUCHER"
    /// 现金券: counts as paid money.
    case cashCoupon = "CASH_COUPON"
    /// 折扣券: a percentage off the price.
    case discountCoupon = "DISCOUNT_COUPON"
    /// 储值卡: a prepaid card, counts as paid money.
    case storedValueCard = "STORED_VALUE_CARD"

    /// Whether the coupon carries a balance in fen (all but discount coupons).
    public var hasBalance: Bool { self != .discountCoupon }

    /// The place of a balance coupon in the deduction order of §2.3: vouchers, cash coupons,
    /// stored-value cards (discount coupons lower the price before any of them).
    package var deductionRank: Int {
        switch self {
        case .voucher: return 0
        case .cashCoupon: return 1
        case .storedValueCard: return 2
        case .discountCoupon: return 3
        }
    }
}

/// Where a coupon may be used; an empty list means "no restriction" on that dimension.
public struct CouponScope: Equatable, Sendable {
    public var products: [String] = []
    public var excludedProducts: [String] = []
    public var orderTypes: [String] = []
    public var billingModes: [String] = []
    public var regions: [String] = []

    public init() {}

    /// Whether any dimension is restricted (restricted vouchers are preferred, §2.3).
    public var isRestricted: Bool {
        !(products.isEmpty && excludedProducts.isEmpty && orderTypes.isEmpty && billingModes.isEmpty && regions.isEmpty)
    }
}

/// A coupon issued by the host to an account.
public struct Coupon: Equatable, Sendable {
    public var id: String
    public var accountID: String
    public var kind: CouponKind
    /// Face value in fen (0 for discount coupons).
    public var faceValue: Money
    /// What is left to use (0 for discount coupons).
    public var balance: Money
    /// For discount coupons: the share taken off, in basis points (1000 = 10 % off).
    public var discountBP: Int64?
    /// For discount coupons: the largest deduction one use may give.
    public var maxDiscount: Money?
    public var validFrom: Int64
    public var validTo: Int64
    public var scope: CouponScope
    /// The eligible lines' amount due must exceed this (§3.5 "¥100 and above").
    public var minSpend: Money
    /// Cannot be combined with commercial or promotion discounts or discount coupons.
    public var exclusiveWithDiscounts: Bool
    public var reference: String?
    public var issuedAt: Int64
    /// When a discount coupon (single use) was used.
    public var usedAt: Int64? = nil

    /// Whether the coupon can be used at `instant` (inside its window and not used up).
    public func isUsable(at instant: Int64) -> Bool {
        status(at: instant) == "USABLE"
    }

    /// "USABLE", "USED_UP", "EXPIRED" or "NOT_YET_VALID" at an instant.
    public func status(at instant: Int64) -> String {
        if instant >= validTo { return "EXPIRED" }
        if instant < validFrom { return "NOT_YET_VALID" }
        if kind == .discountCoupon ? usedAt != nil : balance.fen == 0 { return "USED_UP" }
        return "USABLE"
    }

    package init(id: String, accountID: String, kind: CouponKind, faceValue: Money, balance: Money, discountBP: Int64? = nil, maxDiscount: Money? = nil, validFrom: Int64, validTo: Int64, scope: CouponScope, minSpend: Money, exclusiveWithDiscounts: Bool, reference: String? = nil, issuedAt: Int64, usedAt: Int64? = nil) {
        self.id = id
        self.accountID = accountID
        self.kind = kind
        self.faceValue = faceValue
        self.balance = balance
        self.discountBP = discountBP
        self.maxDiscount = maxDiscount
        self.validFrom = validFrom
        self.validTo = validTo
        self.scope = scope
        self.minSpend = minSpend
        self.exclusiveWithDiscounts = exclusiveWithDiscounts
        self.reference = reference
        self.issuedAt = issuedAt
        self.usedAt = usedAt
    }
}
