/// Where a platform account application stands (domain-rules §1.2).
public enum PlatformAccountStatus: String, CaseIterable, Sendable {
    case submitted = "SUBMITTED"
    case approvedPendingPassword = "APPROVED_PENDING_PASSWORD"
    case active = "ACTIVE"
    case rejected = "REJECTED"
}

/// A platform account: the application and, once active, the login identity of a customer
/// account.
public struct PlatformAccount: Equatable, Sendable {
    public var id: String
    public var accountID: String
    public var status: PlatformAccountStatus
    public var userName: String
    public var email: String
    public var phone: String
    public var contactName: String?
    public var passwordHash: String?
    public var rejectReason: String?
    public var submittedAt: Int64
    public var decidedAt: Int64?
    public var activatedAt: Int64?
    public var passwordChangedAt: Int64?

    package init(id: String, accountID: String, status: PlatformAccountStatus, userName: String, email: String, phone: String, contactName: String? = nil, passwordHash: String? = nil, rejectReason: String? = nil, submittedAt: Int64, decidedAt: Int64? = nil, activatedAt: Int64? = nil, passwordChangedAt: Int64? = nil) {
        self.id = id
        self.accountID = accountID
        self.status = status
        self.userName = userName
        self.email = email
        self.phone = phone
        self.contactName = contactName
        self.passwordHash = passwordHash
        self.rejectReason = rejectReason
        self.submittedAt = submittedAt
        self.decidedAt = decidedAt
        self.activatedAt = activatedAt
        self.passwordChangedAt = passwordChangedAt
    }
}

/// The purpose a single-use token was issued for.
public enum TokenPurpose: String, Sendable {
    case setPassword = "SET_PASSWORD"
    case resetPassword = "RESET_PASSWORD"
}
