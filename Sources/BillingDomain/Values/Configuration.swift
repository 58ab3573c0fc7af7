/// The platform's policy values (domain-rules "Decisions": every business number is
/// configuration with the documented value as its default). Stored in the database, so
/// every handle and process on one file sees the same policy.
public struct Configuration: Hashable, Sendable {
    /// Offset of the business calendar from UTC in seconds (default +08:00).
    public var businessUTCOffsetSeconds: Int64 = 8 * 3600
    /// ISO 4217 code of the platform's single currency; amounts are in its minor unit.
    public var currency = "CNY"
    /// Payment validity of pending orders by product kind; "default" covers kinds not listed
    /// (§3.6: 7 days, hardware 1 hour).
    public var payDeadlineSeconds: [String: Int64] = ["default": 7 * 86_400, "hardware": 3600]
    /// Grace and retention days by customer level (§4.2, China site).
    public var graceAndRetention: [CustomerLevel: GraceRetention] = [
        .v5: GraceRetention(7, 15, 7, 15),
        .v4: GraceRetention(7, 15, 7, 15),
        .v3: GraceRetention(7, 7, 1, 7),
        .v2: GraceRetention(1, 7, 0, 7),
        .v1: GraceRetention(1, 7, 0, 7),
        .v0: GraceRetention(1, 1, 0, 1),
    ]
    /// Handling-fee rates in basis points by product term and used-duration bracket
    /// (§5.7 Table A; decision 1).
    public var handlingFeeRatesBP: [String: [Int64]] = [
        "MONTHLY": [1000], "YEAR_1": [1000], "YEAR_2": [1500, 1000], "YEAR_3": [1500, 1000, 500],
    ]
    /// Rate for terms and brackets past the table (decision 1: 5 %).
    public var handlingFeeBeyondTableBP: Int64 = 500
    /// The five-day no-reason window, in hours from provisioning (§5.3).
    public var fiveDayRefundHours: Int64 = 120
    /// Five-day refunds per account per natural year (§5.3).
    public var fiveDayQuotaPerYear: Int64 = 10
    /// Default auto-renew deduction day, days before expiry (2–7, §4.5).
    public var defaultDeductionDays: Int64 = 7
    /// Default unified expiry day (1–28, or -1 for month end, §4.4).
    public var defaultUnifiedExpiryDay: Int64 = 1
    /// Refunds above this need review (§3.3 U2: 50,000.00 CNY).
    public var largeRefundThreshold = Money(fen: 5_000_000)
    /// Business hour of the daily auto-renew deduction run (§4.5: 03:00).
    public var autoRenewHour: Int64 = 3
    /// Days before expiry on which reminders go out, by expiry policy (§6.3).
    public var expiryReminderDays: [String: [Int64]] = [
        "MANUAL": [15, 7, 3, 1], "NO_RENEW": [3], "TO_ON_DEMAND": [7, 3, 1],
    ]
    /// Coupons usable in one payment (§3.5).
    public var maxCouponsPerPayment: Int64 = 3
    /// Orders cancellable in one batch (§3.8).
    public var maxBatchCancel: Int64 = 30
    /// Primary resources renewable in one call (§4.3).
    public var maxBatchRenew: Int64 = 10
    /// The largest `maxBatchRenew` a platform may configure: the guide's batch renewal of up
    /// to 1,000 resources. A renew or quote request never lists more ids than this, whatever
    /// the setting, so a request is bounded before the configuration is read.
    public static let maxBatchRenewLimit: Int64 = 1000
    /// Hours an export record and its file are kept (§3.9: 3 days).
    public var exportRetentionHours: Int64 = 72
    /// Where export files are written; nil means beside the database file ("<file>-exports").
    public var exportDirectory: String? = nil
    /// Rows an export writes per step (bounded memory, visible progress).
    public var exportRowsPerStep: Int64 = 5000
    /// Row limit of a renewal price-list export (§4.9).
    public var maxRenewalPriceExportRows: Int64 = 10_000
    /// Validity of password-set and reset tokens (decision 9: 24 hours).
    public var tokenTTLSeconds: Int64 = 86_400
    /// Duration unit of the refund formula: "HOUR" (current rule) or "DAY" (legacy, §5.7).
    public var refundDurationGranularity = "HOUR"

    /// argon2id time cost of password hashes (libsodium opslimit; 2 = "interactive").
    public var passwordHashOpsLimit: Int64 = 2
    /// argon2id memory cost in bytes (64 MiB = libsodium's "interactive").
    public var passwordHashMemoryBytes: Int64 = 64 * 1024 * 1024
    /// Password length bounds and required character classes.
    public var passwordMinimumLength: Int64 = 8
    public var passwordMaximumLength: Int64 = 128
    public var passwordMinimumClasses: Int64 = 2
    /// The login throttle (per identifier, known or not; see `LoginThrottle`): failures in a
    /// row allowed before waits begin, the first wait, the longest wait, and how long after
    /// its wait ends a row of failures is forgotten. Replaces 0.1.0's hard lock
    /// (`login_max_failures`, `login_lockout_seconds`), which let anyone lock anyone out.
    public var loginThrottleAfterFailures: Int64 = 5
    public var loginThrottleBaseSeconds: Int64 = 30
    public var loginThrottleMaxSeconds: Int64 = 900
    public var loginThrottleForgetSeconds: Int64 = 86_400

    public init() {}

    /// The login throttle these values describe.
    public var loginThrottle: LoginThrottle {
        LoginThrottle(afterFailures: loginThrottleAfterFailures, baseSeconds: loginThrottleBaseSeconds,
                      maxSeconds: loginThrottleMaxSeconds, forgetSeconds: loginThrottleForgetSeconds)
    }

    /// The password policy these values describe.
    public var passwordPolicy: PasswordPolicy {
        PasswordPolicy(minimumLength: passwordMinimumLength, maximumLength: passwordMaximumLength,
                       minimumClasses: passwordMinimumClasses)
    }

    /// The business calendar this configuration describes.
    public var calendar: BusinessCalendar { BusinessCalendar(utcOffsetSeconds: businessUTCOffsetSeconds) }

    /// Grace and retention for a level (every level has an entry; V0's values are the fallback).
    public func graceRetention(for level: CustomerLevel) -> GraceRetention {
        graceAndRetention[level] ?? GraceRetention(1, 1, 0, 1)
    }

    /// Payment validity for a product kind.
    public func payDeadline(forKind kind: String) -> Int64 {
        payDeadlineSeconds[kind] ?? payDeadlineSeconds["default"] ?? 7 * 86_400
    }
}
