/// How an unsubscription request is classified (domain-rules §9.1, first match wins).
public enum RefundClass: String, Sendable {
    case notAllowed = "NOT_ALLOWED"
    case failedCreation = "FAILED_CREATION"
    case inactive = "INACTIVE"
    case renewalOnly = "RENEWAL_ONLY"
    case fiveDay = "FIVE_DAY"
    case nonFiveDay = "NON_FIVE_DAY"
}

/// The reasons a resource cannot be unsubscribed (§5.8).
public enum NotRefundableReason: String, CaseIterable, Sendable {
    case freeService = "FREE_SERVICE"
    case trial = "TRIAL"
    case oneOff = "ONE_OFF"
    case packageEffective = "PACKAGE_EFFECTIVE"
    case transactionInProgress = "TRANSACTION_IN_PROGRESS"
    case expired = "EXPIRED"
    case policeFrozen = "POLICE_FROZEN"
    case promotionNoRefund = "PROMOTION_NO_REFUND"
    case invoicedMarketplace = "INVOICED_MARKETPLACE"
    case archived = "ARCHIVED"
    case supportBenefitUsed = "SUPPORT_BENEFIT_USED"
    case productNotRefundable = "PRODUCT_NOT_REFUNDABLE"
    case mustBeWhole = "MUST_BE_WHOLE"
    /// Not in §5.8's list: pay-per-use resources are deleted, not unsubscribed (§2.3).
    case payPerUse = "PAY_PER_USE"
    /// Not in §5.8's list: the resource has already ended (released, unsubscribed, refunded).
    case ended = "ENDED"
    /// RENEWAL_ONLY asked of a resource with no period still to come (CBC.99003128).
    case noInactivePeriod = "NO_INACTIVE_PERIOD"
}

/// The non-five-day formula (§5.7) for one paid period: durations, consumption, fee, refund.
public struct RefundComputation: Equatable, Sendable {
    public var paid: Money
    public var totalUnits: Int64
    public var usedUnits: Int64
    public var consumed: Money
    public var feeRateBP: Int64
    /// 0-based bracket of the used duration: 0 = up to one year, 1 = one to two years …
    public var bracket: Int64
    public var fee: Money
    public var refund: Money
}

/// Pure refund arithmetic of domain-rules §5.7 and decisions 1 and 2.
public enum RefundRules {
    /// Order duration and used duration in hours: start floored to the hour, end = expiry + 1 s,
    /// used end = the unsubscription time floored to the hour (decision 2). EVS example:
    /// 2024/01/01 10:30 → 2024/02/01 23:59:59 is 758 h; used to 2024/01/15 18:40 is 344 h.
    public static func hours(start: Int64, expiry: Int64, at now: Int64, calendar: BusinessCalendar) -> (total: Int64, used: Int64) {
        let startHour = calendar.floorToHour(start)
        let total = (expiry + 1 - startHour) / 3600
        let used = max(0, (calendar.floorToHour(now) - startHour) / 3600)
        return (total, min(used, total))
    }

    /// The legacy day count (§5.7, `refund_duration_granularity` DAY): the term counts the
    /// purchase day, the used days exclude the unsubscription day (bought 06/14, expiring
    /// 07/14: 31 days; unsubscribed 06/21: 7 used).
    public static func days(start: Int64, expiry: Int64, at now: Int64, calendar: BusinessCalendar) -> (total: Int64, used: Int64) {
        let first = calendar.date(of: start)
        let total = first.days(until: calendar.date(of: expiry)) + 1
        let used = max(0, first.days(until: calendar.date(of: now)))
        return (total, min(used, total))
    }

    /// The handling-fee rate (Table A, decision 1): the row of the product's term (MONTHLY, or
    /// YEAR_n with terms past the table using the longest row), the bracket of the used time
    /// in whole calendar years from the period start ("≤" closes each bracket), and the
    /// beyond-table rate past the row's last bracket.
    public static func feeRate(term: Period, start: Int64, usedEnd: Int64, configuration: Configuration,
                               calendar: BusinessCalendar) throws -> (rate: Int64, bracket: Int64) {
        var bracket: Int64 = 0
        let anchor = AnchorDay.day(calendar.date(of: start).day)
        while bracket < 100 {
            let limit = calendar.addingMonths(12 * (bracket + 1), to: calendar.date(of: start), anchor: anchor)
            let limitInstant = calendar.instant(limit) + (start - calendar.startOfDay(start))
            if usedEnd <= limitInstant { break }
            bracket += 1
        }
        let table = configuration.handlingFeeRatesBP
        let row: [Int64]
        if term.unit == .month {
            row = table["MONTHLY"] ?? []
        } else {
            let longest = table.keys.compactMap { $0.hasPrefix("YEAR_") ? Int64($0.dropFirst(5)) : nil }.max() ?? 0
            row = table["YEAR_\(min(term.count, longest))"] ?? []
        }
        let rate = bracket < Int64(row.count) ? row[Int(bracket)] : configuration.handlingFeeBeyondTableBP
        return (rate, bracket)
    }

    /// refund = max(0, paid − consumed − fee), consumed = paid × used / total and fee = paid ×
    /// rate, each rounded half-up once (§5.7, decision 2).
    public static func compute(paid: Money, totalUnits: Int64, usedUnits: Int64, feeRateBP: Int64, bracket: Int64) throws -> RefundComputation {
        let consumed = totalUnits > 0 ? try paid.proportion(usedUnits, over: totalUnits) : paid
        let fee = try paid.proportion(feeRateBP, over: 10_000)
        let refund = Money(fen: max(0, paid.fen - consumed.fen - fee.fen))
        return RefundComputation(paid: paid, totalUnits: totalUnits, usedUnits: usedUnits, consumed: consumed,
                                 feeRateBP: feeRateBP, bracket: bracket, fee: fee, refund: refund)
    }

    /// Splits a refund across the paid-money sources in proportion to what each paid (largest
    /// remainder), so the parts add up to the refund exactly.
    public static func split(_ refund: Money, over paid: [Money]) throws -> [Money] {
        try refund.allocated(byWeights: paid.map(\.fen))
    }
}
