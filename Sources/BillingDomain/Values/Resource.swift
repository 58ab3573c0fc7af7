/// A resource's billing status (domain-rules §4.1) plus the states around provisioning.
public enum ResourceStatus: String, CaseIterable, Sendable {
    /// Paid; the host has not reported the provisioning result yet.
    case pendingProvision = "PENDING_PROVISION"
    /// The host reported that creation failed; refunded in full (§5.6).
    case provisionFailed = "PROVISION_FAILED"
    /// A package bought to take effect later (§2.4, §5.4).
    case pendingEffective = "PENDING_EFFECTIVE"
    /// 使用中: within its validity.
    case inUse = "IN_USE"
    /// 已过期: past expiry, in the grace period.
    case expired = "EXPIRED"
    /// 已冻结: in the retention period (or frozen for arrears, violation, police).
    case frozen = "FROZEN"
    /// Released at the end of retention or by the customer.
    case released = "RELEASED"
    /// Ended by unsubscription.
    case unsubscribed = "UNSUBSCRIBED"
    /// A pay-per-use resource the host deleted: usage up to `endedAt` is still rated.
    case deleted = "DELETED"

    /// The API code of §4.1 where one exists.
    public var code: Int64? {
        switch self {
        case .inUse: return 2
        case .expired: return 5
        case .frozen: return 4
        default: return nil
        }
    }
}

/// How a resource hangs on its primary (§5.9).
public enum ResourceRelation: String, Sendable {
    /// Renewed, unsubscribed and released together with the primary.
    case bound = "BOUND"
    /// Independent lifecycle.
    case attached = "ATTACHED"
}

/// A resource an order paid for: its billing life, not the VM or disk itself.
public struct Resource: Equatable, Sendable {
    public var id: String
    public var accountID: String
    public var orderID: String
    public var lineNo: Int64
    public var productID: String
    public var productType: String
    public var billingMode: BillingMode
    public var region: String?
    public var status: ResourceStatus
    public var primaryID: String?
    public var relation: ResourceRelation?
    public var period: Period?
    public var anchorDay: AnchorDay?
    public var createdAt: Int64
    public var provisionedAt: Int64?
    public var effectiveAt: Int64?
    public var expireAt: Int64?
    public var endedAt: Int64?
    public var expiryPolicy: String
    /// End of the grace period, set when the resource expires.
    public var graceEnd: Int64? = nil
    /// End of the retention period, set when the resource expires.
    public var retentionEnd: Int64? = nil
    /// Why it is frozen (nil unless FROZEN).
    public var freezeReason: ResourceFreezeReason? = nil
    /// Auto-renew period (unit and count) and renewals left (nil: unlimited).
    public var autoRenewPeriod: Period? = nil
    public var autoRenewRemaining: Int64? = nil
    /// The next auto-renew attempt.
    public var nextAttemptAt: Int64? = nil
    /// The smallest "days before expiry" reminder already sent for the current expiry.
    public var remindedDays: Int64? = nil
    /// The next instant the scheduler has work for this resource.
    public var dueAt: Int64? = nil
    /// Refund blocks the host set (INVOICED_MARKETPLACE, ARCHIVED, SUPPORT_BENEFIT_USED).
    public var refundBlocks: [String] = []

    /// The expiry policy as a value.
    public var policy: ExpiryPolicy { ExpiryPolicy(rawValue: expiryPolicy) ?? .manual }

    package init(id: String, accountID: String, orderID: String, lineNo: Int64, productID: String, productType: String, billingMode: BillingMode, region: String? = nil, status: ResourceStatus, primaryID: String? = nil, relation: ResourceRelation? = nil, period: Period? = nil, anchorDay: AnchorDay? = nil, createdAt: Int64, provisionedAt: Int64? = nil, effectiveAt: Int64? = nil, expireAt: Int64? = nil, endedAt: Int64? = nil, expiryPolicy: String, graceEnd: Int64? = nil, retentionEnd: Int64? = nil, freezeReason: ResourceFreezeReason? = nil, autoRenewPeriod: Period? = nil, autoRenewRemaining: Int64? = nil, nextAttemptAt: Int64? = nil, remindedDays: Int64? = nil, dueAt: Int64? = nil, refundBlocks: [String] = []) {
        self.id = id
        self.accountID = accountID
        self.orderID = orderID
        self.lineNo = lineNo
        self.productID = productID
        self.productType = productType
        self.billingMode = billingMode
        self.region = region
        self.status = status
        self.primaryID = primaryID
        self.relation = relation
        self.period = period
        self.anchorDay = anchorDay
        self.createdAt = createdAt
        self.provisionedAt = provisionedAt
        self.effectiveAt = effectiveAt
        self.expireAt = expireAt
        self.endedAt = endedAt
        self.expiryPolicy = expiryPolicy
        self.graceEnd = graceEnd
        self.retentionEnd = retentionEnd
        self.freezeReason = freezeReason
        self.autoRenewPeriod = autoRenewPeriod
        self.autoRenewRemaining = autoRenewRemaining
        self.nextAttemptAt = nextAttemptAt
        self.remindedDays = remindedDays
        self.dueAt = dueAt
        self.refundBlocks = refundBlocks
    }
}

/// Why a resource is frozen (domain-rules §4.2, §4.7, §4.8), which decides what may still
/// happen to it: a resource frozen by its own expiry or by arrears is released when its
/// retention ends; one frozen by public security can be neither released, deleted nor
/// unsubscribed. Stored as its raw value; an unknown stored value is a storage error.
public enum ResourceFreezeReason: String, CaseIterable, Sendable {
    /// Grace over after expiry: the retention period (§4.2).
    case expiry = "EXPIRY"
    /// Pay-per-use arrears past their grace (§6.1).
    case arrears = "ARREARS"
    case violation = "VIOLATION"
    /// Frozen by public security (§4.8).
    case police = "POLICE"

    /// Whether the end of the retention period releases the resource (§4.2).
    public var releasedAtRetentionEnd: Bool { self == .expiry || self == .arrears }
}

/// What happens to a prepaid resource at expiry (domain-rules §4.6), one per resource.
public enum ExpiryPolicy: String, CaseIterable, Sendable {
    case manual = "MANUAL"
    case autoRenew = "AUTO_RENEW"
    case toOnDemand = "TO_ON_DEMAND"
    case noRenew = "NO_RENEW"
}
