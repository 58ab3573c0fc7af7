/// What an unsubscription asks for (§5.2: type 1 = the resource and its renewal periods,
/// type 2 = only the renewal periods that have not started).
public enum UnsubscriptionType: String, CaseIterable, Sendable {
    case resource = "RESOURCE"
    case renewalOnly = "RENEWAL_ONLY"
}

/// Everything the classification of one requested resource depends on, gathered from storage
/// by the service: plain values, so that the decision table is a pure function.
public struct RefundFacts: Equatable, Sendable {
    public var resourceID: String
    public var productID: String
    public var requestType: UnsubscriptionType
    public var status: ResourceStatus
    public var billingMode: BillingMode
    /// The primary a bound resource hangs on, when that primary is not in the request (a bound
    /// resource goes with its primary, §5.9).
    public var boundToUnrequestedPrimary: String?
    public var trial: Bool
    /// The purchase line's list price is zero (false when the line cannot be found).
    public var free: Bool
    /// An order waiting for payment or processing on the resource.
    public var openOrder: String?
    /// Frozen at the end of its grace period (retention), as opposed to arrears or a violation.
    public var frozenForExpiry: Bool
    /// The account or the resource is frozen by public security.
    public var policeFrozen: Bool
    /// Bought with a promotion discount of a product whose promotions forbid refunds.
    public var promotionForbidsRefund: Bool
    /// The host's blocks (INVOICED_MARKETPLACE, ARCHIVED, SUPPORT_BENEFIT_USED).
    public var hostBlocks: [NotRefundableReason]
    public var productRefundable: Bool
    /// A paid period starts after now (a renewal not yet in effect).
    public var hasInactivePeriod: Bool
    /// The type of the order that bought the resource (five-day refunds are for NEW only).
    public var purchaseOrderType: OrderType?
    public var provisionedAt: Int64?
    public var now: Int64
    /// The five-day window in hours (`five_day_refund_hours`, 120).
    public var fiveDayWindowHours: Int64
    public var productFiveDayEligible: Bool
    /// The five-day quota unit (the resource, or the order for products not refundable per
    /// resource) was already counted this year: a further refund in it uses no new unit.
    public var quotaUnitCounted: Bool
    /// Five-day units the account has left this year, after the groups planned before this one.
    public var quotaLeft: Int64

    public init(resourceID: String, productID: String, requestType: UnsubscriptionType, status: ResourceStatus,
                billingMode: BillingMode, boundToUnrequestedPrimary: String? = nil, trial: Bool = false, free: Bool = false,
                openOrder: String? = nil, frozenForExpiry: Bool = false, policeFrozen: Bool = false,
                promotionForbidsRefund: Bool = false, hostBlocks: [NotRefundableReason] = [], productRefundable: Bool = true,
                hasInactivePeriod: Bool = false, purchaseOrderType: OrderType? = .new, provisionedAt: Int64? = nil, now: Int64,
                fiveDayWindowHours: Int64 = 120, productFiveDayEligible: Bool = true, quotaUnitCounted: Bool = false,
                quotaLeft: Int64 = 10) {
        self.resourceID = resourceID
        self.productID = productID
        self.requestType = requestType
        self.status = status
        self.billingMode = billingMode
        self.boundToUnrequestedPrimary = boundToUnrequestedPrimary
        self.trial = trial
        self.free = free
        self.openOrder = openOrder
        self.frozenForExpiry = frozenForExpiry
        self.policeFrozen = policeFrozen
        self.promotionForbidsRefund = promotionForbidsRefund
        self.hostBlocks = hostBlocks
        self.productRefundable = productRefundable
        self.hasInactivePeriod = hasInactivePeriod
        self.purchaseOrderType = purchaseOrderType
        self.provisionedAt = provisionedAt
        self.now = now
        self.fiveDayWindowHours = fiveDayWindowHours
        self.productFiveDayEligible = productFiveDayEligible
        self.quotaUnitCounted = quotaUnitCounted
        self.quotaLeft = quotaLeft
    }

    /// Strictly before provisioning + the window (§5.3: provisioned 2022/11/24 14:30:30, a
    /// five-day refund is possible until 2022/11/29 14:30:30, not at it).
    public var withinFiveDayWindow: Bool {
        guard let provisionedAt else { return false }
        let (window, overflow) = fiveDayWindowHours.multipliedReportingOverflow(by: 3600)
        guard !overflow else { return true }
        let (end, late) = provisionedAt.addingReportingOverflow(window)
        return late || now < end
    }
}

/// The class (and, when not allowed, the reason) of one requested resource.
public struct RefundDecision: Equatable, Sendable {
    public var refundClass: RefundClass
    public var reason: NotRefundableReason?
    public var message: String?
    /// A FIVE_DAY refund that counts a new unit of the year's quota.
    public var usesNewQuotaUnit: Bool = false
    /// The resource was within its five days but the quota was used up: NON_FIVE_DAY instead.
    public var fiveDayQuotaExhausted: Bool = false

    public init(_ refundClass: RefundClass, reason: NotRefundableReason? = nil, message: String? = nil,
                usesNewQuotaUnit: Bool = false, fiveDayQuotaExhausted: Bool = false) {
        self.refundClass = refundClass
        self.reason = reason
        self.message = message
        self.usesNewQuotaUnit = usesNewQuotaUnit
        self.fiveDayQuotaExhausted = fiveDayQuotaExhausted
    }
}

/// The decision table of domain-rules §9.1 (first match wins): a §5.8 reason refuses; then
/// failed creation, not yet effective, renewal periods only, five-day, and otherwise the formula.
public enum RefundClassification {
    public static func classify(_ facts: RefundFacts) -> RefundDecision {
        if let (reason, message) = notRefundable(facts) {
            return RefundDecision(.notAllowed, reason: reason, message: message)
        }
        if facts.status == .provisionFailed { return RefundDecision(.failedCreation) }
        if facts.status == .pendingEffective { return RefundDecision(.inactive) }
        if facts.requestType == .renewalOnly { return RefundDecision(.renewalOnly) }
        if facts.purchaseOrderType == .new && facts.withinFiveDayWindow && facts.productFiveDayEligible && !facts.promotionForbidsRefund {
            if facts.quotaUnitCounted { return RefundDecision(.fiveDay) }
            if facts.quotaLeft > 0 { return RefundDecision(.fiveDay, usesNewQuotaUnit: true) }
            return RefundDecision(.nonFiveDay, fiveDayQuotaExhausted: true)
        }
        return RefundDecision(.nonFiveDay)
    }

    /// Row 1 of §9.1: the first §5.8 reason that forbids the unsubscription (plus the engine's
    /// own: ended, pay-per-use, no period to come), in the order the engine checks them.
    public static func notRefundable(_ facts: RefundFacts) -> (NotRefundableReason, String)? {
        let id = facts.resourceID
        if [.released, .unsubscribed, .deleted].contains(facts.status) {
            return (.ended, "resource \(id) has ended (\(facts.status.rawValue))")
        }
        if let primary = facts.boundToUnrequestedPrimary {
            return (.mustBeWhole, "resource \(id) is bound to \(primary) and is unsubscribed with it")
        }
        if facts.trial { return (.trial, "trial services cannot be unsubscribed") }
        if facts.billingMode == .onDemand { return (.payPerUse, "pay-per-use resources are deleted, not unsubscribed") }
        if facts.billingMode == .oneOff { return (.oneOff, "one-off services cannot be unsubscribed") }
        if facts.free { return (.freeService, "free services cannot be unsubscribed") }
        if facts.billingMode == .package && facts.status != .pendingEffective && facts.status != .provisionFailed {
            return (.packageEffective, "a package in effect cannot be unsubscribed")
        }
        if let order = facts.openOrder {
            return (.transactionInProgress, "order \(order) on resource \(id) is in progress")
        }
        if facts.status == .expired || (facts.status == .frozen && facts.frozenForExpiry) {
            return (.expired, "expired resources cannot be unsubscribed; release them instead")
        }
        if facts.policeFrozen { return (.policeFrozen, "frozen by public security") }
        if facts.promotionForbidsRefund { return (.promotionNoRefund, "bought in a promotion that forbids refunds") }
        for block in [NotRefundableReason.invoicedMarketplace, .archived, .supportBenefitUsed] where facts.hostBlocks.contains(block) {
            return (block, "the host marked resource \(id) \(block.rawValue)")
        }
        if !facts.productRefundable { return (.productNotRefundable, "product \(facts.productID) is on the no-refund list") }
        if facts.requestType == .renewalOnly && !facts.hasInactivePeriod {
            return (.noInactivePeriod, "resource \(id) has no renewal period that has not started")
        }
        return nil
    }
}
