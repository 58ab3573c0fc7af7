/// Order types (domain-rules §3.1) with their API codes.
public enum OrderType: String, CaseIterable, Sendable {
    case new = "NEW"
    case renew = "RENEW"
    case change = "CHANGE"
    case unsubscribe = "UNSUBSCRIBE"
    case prepaidToOnDemand = "PREPAID_TO_ONDEMAND"
    case onDemandToPrepaid = "ONDEMAND_TO_PREPAID"
    case trial = "TRIAL"
    case trialToCommercial = "TRIAL_TO_COMMERCIAL"
    case adjustment = "ADJUSTMENT"

    public var code: Int64 {
        switch self {
        case .new: return 1
        case .renew: return 2
        case .change: return 3
        case .unsubscribe: return 4
        case .prepaidToOnDemand: return 10
        case .onDemandToPrepaid: return 11
        case .trial: return 13
        case .trialToCommercial: return 14
        case .adjustment: return 15
        }
    }
}

/// The seven order statuses (§3.2) with their API codes (REFUNDING's 2 is our decision 7).
public enum OrderStatus: String, CaseIterable, Sendable {
    case pendingPayment = "PENDING_PAYMENT"
    case pendingReview = "PENDING_REVIEW"
    case processing = "PROCESSING"
    case completed = "COMPLETED"
    case cancelled = "CANCELLED"
    case pendingConfirmation = "PENDING_CONFIRMATION"
    case refunding = "REFUNDING"

    public var code: Int64 {
        switch self {
        case .pendingPayment: return 6
        case .pendingReview: return 1
        case .processing: return 3
        case .completed: return 5
        case .cancelled: return 4
        case .pendingConfirmation: return 9
        case .refunding: return 2
        }
    }

    /// Completed and cancelled orders never change again.
    public var isTerminal: Bool { self == .completed || self == .cancelled }
}

/// Where money for an order came from (§2.3 deduction order), and where a refund goes back.
public enum FundingSource: String, CaseIterable, Sendable {
    case voucher = "VOUCHER"
    case cashCoupon = "CASH_COUPON"
    case storedValueCard = "STORED_VALUE_CARD"
    case cash = "CASH"
    case credit = "CREDIT"

    /// Whether this source counts as paid money (everything but vouchers, §0).
    public var isPaidMoney: Bool { self != .voucher }
}

/// Why an order was cancelled (§3.6).
public enum CancelReason: String, Sendable {
    case customer = "CUSTOMER"
    case paymentExpired = "PAYMENT_EXPIRED"
    case reviewRejected = "REVIEW_REJECTED"
    case declined = "DECLINED"
    case confirmationExpired = "CONFIRMATION_EXPIRED"
    case resourceConverted = "RESOURCE_CONVERTED"
    case resourceChanged = "RESOURCE_CHANGED"
    case resourceDeleted = "RESOURCE_DELETED"
}

/// The amounts of an order or one of its lines (§0 identities):
/// `amountDue = listPrice − commercial − promotion − discountCoupon`,
/// `paid = amountDue − voucher = cashCoupon + storedValueCard + cash + credit`.
public struct OrderAmounts: Equatable, Sendable {
    public var listPrice = Money.zero
    public var commercialDiscount = Money.zero
    public var promotionDiscount = Money.zero
    public var discountCoupon = Money.zero
    public var voucher = Money.zero
    public var cashCoupon = Money.zero
    public var storedValueCard = Money.zero
    public var cash = Money.zero
    public var credit = Money.zero

    public init() {}

    // Checked (throwing) rather than raw `+`/`-` on fen: amounts are read back from the file,
    // and an overflow there must be an error, never a trap in the host.
    public var discounts: Money {
        get throws { try Money.sum([commercialDiscount, promotionDiscount, discountCoupon]) }
    }
    public var amountDue: Money {
        get throws { try listPrice.subtracting(discounts) }
    }
    public var paidAmount: Money {
        get throws { try Money.sum([cashCoupon, storedValueCard, cash, credit]) }
    }

    /// The amount taken from one funding source.
    public func amount(from source: FundingSource) -> Money {
        switch source {
        case .voucher: return voucher
        case .cashCoupon: return cashCoupon
        case .storedValueCard: return storedValueCard
        case .cash: return cash
        case .credit: return credit
        }
    }

    public mutating func add(_ amount: Money, from source: FundingSource) throws {
        switch source {
        case .voucher: voucher = try voucher.adding(amount)
        case .cashCoupon: cashCoupon = try cashCoupon.adding(amount)
        case .storedValueCard: storedValueCard = try storedValueCard.adding(amount)
        case .cash: cash = try cash.adding(amount)
        case .credit: credit = try credit.adding(amount)
        }
    }

    /// Sums amounts, checked.
    public static func total<S: Sequence>(_ parts: S) throws -> OrderAmounts where S.Element == OrderAmounts {
        var sum = OrderAmounts()
        for part in parts {
            sum.listPrice = try sum.listPrice.adding(part.listPrice)
            sum.commercialDiscount = try sum.commercialDiscount.adding(part.commercialDiscount)
            sum.promotionDiscount = try sum.promotionDiscount.adding(part.promotionDiscount)
            sum.discountCoupon = try sum.discountCoupon.adding(part.discountCoupon)
            for source in FundingSource.allCases { try sum.add(part.amount(from: source), from: source) }
        }
        return sum
    }
}

/// An order: a plain order, a combined order (the container whose sub-orders are paid and
/// cancelled together), or a sub-order of one.
public struct Order: Equatable, Sendable {
    public var id: String
    public var accountID: String
    public var combinedID: String?
    public var isCombined: Bool
    public var type: OrderType
    public var status: OrderStatus
    public var productType: String
    public var billingMode: String
    public var productKind: String
    public var createdAt: Int64
    public var payDeadline: Int64?
    public var paidAt: Int64?
    public var completedAt: Int64?
    public var cancelledAt: Int64?
    public var cancelReason: String?
    public var reviewRequired: Bool
    public var placedByManager: Bool
    public var contract: String?
    /// For an unsubscription order: the order whose resources it refunds.
    public var sourceOrderID: String?
    public var amounts: OrderAmounts

    package init(id: String, accountID: String, combinedID: String? = nil, isCombined: Bool, type: OrderType, status: OrderStatus, productType: String, billingMode: String, productKind: String, createdAt: Int64, payDeadline: Int64? = nil, paidAt: Int64? = nil, completedAt: Int64? = nil, cancelledAt: Int64? = nil, cancelReason: String? = nil, reviewRequired: Bool, placedByManager: Bool, contract: String? = nil, sourceOrderID: String? = nil, amounts: OrderAmounts) {
        self.id = id
        self.accountID = accountID
        self.combinedID = combinedID
        self.isCombined = isCombined
        self.type = type
        self.status = status
        self.productType = productType
        self.billingMode = billingMode
        self.productKind = productKind
        self.createdAt = createdAt
        self.payDeadline = payDeadline
        self.paidAt = paidAt
        self.completedAt = completedAt
        self.cancelledAt = cancelledAt
        self.cancelReason = cancelReason
        self.reviewRequired = reviewRequired
        self.placedByManager = placedByManager
        self.contract = contract
        self.sourceOrderID = sourceOrderID
        self.amounts = amounts
    }
}

/// One product line of an order; bound products are lines of their own under a parent line.
public struct OrderLine: Equatable, Sendable {
    /// The text `product` was read from or written as, when known (`OrderStore`, the product
    /// cache): storing or showing the line then needs no writing of it. Not part of the
    /// line's value: lines equal without it.
    package var productText = KnownText()
    public var orderID: String
    public var lineNo: Int64
    public var productID: String
    public var productType: String
    public var billingMode: BillingMode
    public var region: String?
    public var period: Period?
    public var quantity: Int64
    public var parentLine: Int64?
    public var relation: ResourceRelation?
    /// A package's chosen effective time, when later than payment.
    public var effectiveAt: Int64?
    /// The product as it was when the order was made.
    public var product: JSONValue
    public var amounts: OrderAmounts
    /// For a renewal line: the resource, and the period it adds (from the old expiry to the new
    /// one) with the anchor day afterwards (changed by a unified expiry day).
    public var resourceID: String? = nil
    public var renewFrom: Int64? = nil
    public var renewTo: Int64? = nil
    public var anchorAfter: Int64? = nil

    /// The billing-mode word coupon scopes match (§3.5).
    public var billingModeScope: String {
        switch billingMode {
        case .prepaid: return period?.unit == .year ? "PREPAID_YEARLY" : "PREPAID_MONTHLY"
        case .onDemand: return "ON_DEMAND"
        case .package: return "PACKAGE"
        case .oneOff: return "ONE_OFF"
        }
    }

    package init(orderID: String, lineNo: Int64, productID: String, productType: String, billingMode: BillingMode, region: String? = nil, period: Period? = nil, quantity: Int64, parentLine: Int64? = nil, relation: ResourceRelation? = nil, effectiveAt: Int64? = nil, product: JSONValue, amounts: OrderAmounts, resourceID: String? = nil, renewFrom: Int64? = nil, renewTo: Int64? = nil, anchorAfter: Int64? = nil) {
        self.orderID = orderID
        self.lineNo = lineNo
        self.productID = productID
        self.productType = productType
        self.billingMode = billingMode
        self.region = region
        self.period = period
        self.quantity = quantity
        self.parentLine = parentLine
        self.relation = relation
        self.effectiveAt = effectiveAt
        self.product = product
        self.amounts = amounts
        self.resourceID = resourceID
        self.renewFrom = renewFrom
        self.renewTo = renewTo
        self.anchorAfter = anchorAfter
    }
}

/// A text known to be the written form of a value next to it, carried along to save writing it
/// again. Always equal: it is a cache, never part of the value that holds it.
package struct KnownText: Equatable, Sendable {
    package var text: String?

    package init(_ text: String? = nil) { self.text = text }

    package static func == (_: KnownText, _: KnownText) -> Bool { true }
}
