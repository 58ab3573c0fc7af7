/// How a product is sold and billed (domain-rules §2.1).
public enum BillingMode: String, CaseIterable, Sendable {
    /// Yearly/monthly: paid up front for a period.
    case prepaid = "PREPAID"
    /// Pay-per-use: no payment at purchase, usage billed per second and settled hourly.
    case onDemand = "ON_DEMAND"
    /// A prepaid quota that pay-per-use usage draws down.
    case package = "PACKAGE"
    /// Paid once, no period.
    case oneOff = "ONE_OFF"
}

/// What a package holds (§2.4): a quota used up by matching pay-per-use usage.
public struct PackageTerms: Equatable, Sendable {
    /// AMOUNT: the quota is used up (unit-hours of timed usage, or units of counted usage).
    /// CAPACITY: covers up to `quota` units at any time (storage), nothing is used up.
    public var kind: String
    public var quota: Int64
    /// Product ids or types whose usage it pays for.
    public var appliesTo: [String]
    /// Whether the quota comes back each month (AMOUNT only).
    public var resettable: Bool
    /// CALENDAR_MONTH or PURCHASE_DAY: where the monthly reset falls.
    public var resetAnchor: String

    package init(kind: String, quota: Int64, appliesTo: [String], resettable: Bool, resetAnchor: String) {
        self.kind = kind
        self.quota = quota
        self.appliesTo = appliesTo
        self.resettable = resettable
        self.resetAnchor = resetAnchor
    }
}

/// A product of the host's catalog. Orders copy what they need of it, so editing a product
/// never rewrites an order.
public struct Product: Equatable, Sendable {
    public var id: String
    /// The cloud service: ECS, EVS, VPC, OBS …
    public var productType: String
    /// The product kind that selects the payment deadline ("hardware" orders get 1 hour).
    public var kind: String
    public var billingMode: BillingMode
    public var name: String
    public var region: String?
    /// Free-form specification shown on orders (flavour, size …).
    public var specs: JSONValue
    /// The periods it may be bought and renewed for (prepaid and packages).
    public var allowedPeriods: [Period]
    public var monthlyPrice: Money?
    public var yearlyPrice: Money?
    /// Pay-per-use price per hour in millionths of a fen (sub-fen precision, §2.3).
    public var hourlyPriceMicrofen: Int64?
    /// Pay-per-use price per unit for counted usage (calls, requests), in millionths of a fen;
    /// when set, usage is counted rather than timed.
    public var unitPriceMicrofen: Int64? = nil
    /// For a package: what it holds and what it pays for (§2.4).
    public var package: PackageTerms? = nil
    public var oneOffPrice: Money?
    /// A promotion discount on the list price, in basis points.
    public var promotionDiscountBP: Int64?
    public var refundable: Bool
    public var perResourceRefund: Bool
    public var fiveDayEligible: Bool
    public var autoRenewSupported: Bool
    public var toOnDemandSupported: Bool
    public var onSale: Bool
    public var reviewRequired: Bool
    /// Sold as a free trial (§5.8 TRIAL).
    public var trial: Bool = false
    /// Its promotion forbids refunds (§5.8 PROMOTION_NO_REFUND, §5.3 condition 3).
    public var promotionForbidsRefund: Bool = false
    /// Products that must be bought, renewed, refunded and released with this one (an ECS's
    /// system disk).
    public var boundProducts: [String]
    public var updatedAt: Int64


    /// The list price of one instance for a period, or nil when the product has no price for it.
    public func price(for period: Period) throws -> Money? {
        switch period.unit {
        case .month: return try monthlyPrice?.multiplied(by: period.count)
        case .year: return try yearlyPrice?.multiplied(by: period.count)
        }
    }

    package init(id: String, productType: String, kind: String, billingMode: BillingMode, name: String, region: String? = nil, specs: JSONValue, allowedPeriods: [Period], monthlyPrice: Money? = nil, yearlyPrice: Money? = nil, hourlyPriceMicrofen: Int64? = nil, unitPriceMicrofen: Int64? = nil, package: PackageTerms? = nil, oneOffPrice: Money? = nil, promotionDiscountBP: Int64? = nil, refundable: Bool, perResourceRefund: Bool, fiveDayEligible: Bool, autoRenewSupported: Bool, toOnDemandSupported: Bool, onSale: Bool, reviewRequired: Bool, trial: Bool = false, promotionForbidsRefund: Bool = false, boundProducts: [String], updatedAt: Int64) {
        self.id = id
        self.productType = productType
        self.kind = kind
        self.billingMode = billingMode
        self.name = name
        self.region = region
        self.specs = specs
        self.allowedPeriods = allowedPeriods
        self.monthlyPrice = monthlyPrice
        self.yearlyPrice = yearlyPrice
        self.hourlyPriceMicrofen = hourlyPriceMicrofen
        self.unitPriceMicrofen = unitPriceMicrofen
        self.package = package
        self.oneOffPrice = oneOffPrice
        self.promotionDiscountBP = promotionDiscountBP
        self.refundable = refundable
        self.perResourceRefund = perResourceRefund
        self.fiveDayEligible = fiveDayEligible
        self.autoRenewSupported = autoRenewSupported
        self.toOnDemandSupported = toOnDemandSupported
        self.onSale = onSale
        self.reviewRequired = reviewRequired
        self.trial = trial
        self.promotionForbidsRefund = promotionForbidsRefund
        self.boundProducts = boundProducts
        self.updatedAt = updatedAt
    }
}

extension Product {
    /// A product with every field empty or at its default, for the readers of other layers
    /// (a request, a stored document) that fill it in field by field and then check it.
    package init() {
        id = ""
        productType = ""
        kind = "default"
        billingMode = .prepaid
        name = ""
        region = nil
        specs = .object([:])
        allowedPeriods = []
        monthlyPrice = nil
        yearlyPrice = nil
        hourlyPriceMicrofen = nil
        oneOffPrice = nil
        promotionDiscountBP = nil
        refundable = true
        perResourceRefund = true
        fiveDayEligible = true
        autoRenewSupported = true
        toOnDemandSupported = true
        onSale = true
        reviewRequired = false
        boundProducts = []
        updatedAt = 0
    }
}
