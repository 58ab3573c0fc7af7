/// The kind of the owning cloud account (E1 requires an enterprise).
public enum AccountType: String, CaseIterable, Sendable {
    case enterprise = "ENTERPRISE"
    case personal = "PERSONAL"
}

/// Why an account is frozen, which decides what it may still do (domain-rules §4.8).
public enum FreezeReason: String, CaseIterable, Sendable {
    case none = "NONE"
    case arrears = "ARREARS"
    case violation = "VIOLATION"
    case police = "POLICE"
}

/// A customer account: the owning cloud account whose attributes the host reports (KYC),
/// with the money positions the engine keeps.
public struct Account: Equatable, Sendable {
    public var id: String
    public var type: AccountType
    public var realnameVerified: Bool
    public var restricted: Bool
    public var freeze: FreezeReason
    public var level: CustomerLevel
    /// Cash position in fen; negative means arrears (a top-up settles them first).
    public var cashBalance: Money
    public var creditLimit: Money
    public var creditUsed: Money
    /// Auto-renew deduction day (days before expiry), nil for the configured default.
    public var deductionDays: Int64?
    /// Unified expiry day (1–28, -1 month end), nil for the configured default.
    public var unifiedExpiryDay: Int64?
    public var createdAt: Int64
    public var updatedAt: Int64

    /// Arrears: the part of the cash position below zero.
    public var arrears: Money {
        guard cashBalance.fen < 0 else { return .zero }
        return Money(fen: cashBalance.fen == Int64.min ? Int64.max : -cashBalance.fen)
    }

    /// Cash that can pay now (never negative).
    public var availableCash: Money { Money(fen: max(0, cashBalance.fen)) }

    /// Credit that can still be drawn.
    public var availableCredit: Money { Money(fen: max(0, creditLimit.fen - creditUsed.fen)) }

    package init(id: String, type: AccountType, realnameVerified: Bool, restricted: Bool, freeze: FreezeReason, level: CustomerLevel, cashBalance: Money, creditLimit: Money, creditUsed: Money, deductionDays: Int64? = nil, unifiedExpiryDay: Int64? = nil, createdAt: Int64, updatedAt: Int64) {
        self.id = id
        self.type = type
        self.realnameVerified = realnameVerified
        self.restricted = restricted
        self.freeze = freeze
        self.level = level
        self.cashBalance = cashBalance
        self.creditLimit = creditLimit
        self.creditUsed = creditUsed
        self.deductionDays = deductionDays
        self.unifiedExpiryDay = unifiedExpiryDay
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
