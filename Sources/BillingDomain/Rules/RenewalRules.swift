/// Renewal arithmetic of domain-rules §4: unified expiry, auto-renew schedule, reminders,
/// grace and retention. Pure functions of their inputs.
public enum RenewalRules {
    /// The unified-expiry extension (§4.4, decision 5): the first date on or after the normal
    /// end whose day is the unified day (clamped to the month; -1 is the month's last day).
    /// Returns the new expiry (23:59:59), the extra days, and the length of the normal end's
    /// month, which prices the extra days.
    public static func unifiedExpiry(normalEnd: Int64, unifiedDay: Int64, calendar: BusinessCalendar)
        -> (expiry: Int64, extraDays: Int64, monthLength: Int64) {
        let end = calendar.date(of: normalEnd)
        let monthLength = CivilDate.daysInMonth(year: end.year, month: end.month)
        let anchor = AnchorDay(code: unifiedDay) ?? .day(1)
        var target = CivilDate(year: end.year, month: end.month, day: anchor.day(inYear: end.year, month: end.month))
        if target < end { target = calendar.addingMonths(1, to: target, anchor: anchor) }
        return (calendar.endOfDay(target), end.days(until: target), monthLength)
    }

    /// The price of a unified-expiry renewal: the period's price plus the extra days at the
    /// monthly price pro rata, rounded half-up once (§4.4 decision 5).
    public static func unifiedPrice(periodPrice: Money, monthlyPrice: Money, extraDays: Int64, monthLength: Int64) throws -> Money {
        try periodPrice.adding(try monthlyPrice.proportion(extraDays, over: monthLength))
    }

    /// The first auto-renew attempt for an expiry (§4.5): 03:00 business time on the deduction
    /// day (`deductionDays` before the expiry date); at once if that time has passed, or if
    /// the next 03:00 comes after the expiry (the same-day safety rule).
    public static func firstAttempt(expireAt: Int64, deductionDays: Int64, hour: Int64, now: Int64,
                                    calendar: BusinessCalendar) -> Int64 {
        let deductionDay = calendar.date(of: expireAt).adding(days: -deductionDays)
        let first = calendar.instant(deductionDay, hour: hour)
        if now >= first || calendar.nextOccurrence(ofHour: hour, atOrAfter: now) > expireAt { return now }
        return first
    }

    /// The retry after a failed attempt: the next 03:00 strictly after it.
    public static func nextRetry(after attempt: Int64, hour: Int64, calendar: BusinessCalendar) -> Int64 {
        calendar.nextOccurrence(ofHour: hour, atOrAfter: attempt + 1)
    }

    /// The instant of the "N days before expiry" reminder: the start of that business day.
    public static func reminderInstant(expireAt: Int64, daysBefore: Int64, calendar: BusinessCalendar) -> Int64 {
        calendar.instant(calendar.date(of: expireAt).adding(days: -daysBefore))
    }

    /// The smallest reminder already past at `now`, or nil: reminders due before a resource's
    /// expiry was set (or moved) are never sent late.
    public static func passedReminder(expireAt: Int64, days: [Int64], now: Int64, calendar: BusinessCalendar) -> Int64? {
        days.filter { reminderInstant(expireAt: expireAt, daysBefore: $0, calendar: calendar) <= now }.min()
    }

    /// The reminder to send now (the most recent one that became due since the last sent,
    /// so a late run sends one notice, not a backlog), and the instant of the next one.
    public static func reminders(expireAt: Int64, days: [Int64], lastSent: Int64?, now: Int64, calendar: BusinessCalendar)
        -> (send: Int64?, next: Int64?) {
        let open = days.filter { lastSent == nil || $0 < (lastSent ?? 0) }
        let due = open.filter { reminderInstant(expireAt: expireAt, daysBefore: $0, calendar: calendar) <= now }
        let send = due.min()
        let later = open.filter { send == nil || $0 < (send ?? 0) }
            .map { reminderInstant(expireAt: expireAt, daysBefore: $0, calendar: calendar) }
            .filter { $0 > now }
        return (send, later.min())
    }

    /// Whether a failed auto-renew attempt on `date` falls on a notice day (§6.3): 5 and 2 days
    /// before the expiry or freeze and on that day, 6 and 2 days before release and on that day.
    public static func isFailureNoticeDay(_ date: CivilDate, expireAt: Int64, graceEnd: Int64?, retentionEnd: Int64?,
                                          calendar: BusinessCalendar) -> Bool {
        func daysBefore(_ instant: Int64?) -> Int64? { instant.map { date.days(until: calendar.date(of: $0)) } }
        if let days = daysBefore(expireAt), [5, 2, 0].contains(days) { return true }
        if let graceEnd, let days = daysBefore(graceEnd + 1), [5, 2, 0].contains(days) { return true }
        if let retentionEnd, let days = daysBefore(retentionEnd + 1), [6, 2, 0].contains(days) { return true }
        return false
    }
}
