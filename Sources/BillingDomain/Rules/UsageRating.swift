/// Pay-per-use arithmetic of domain-rules §2.3 and §2.4. Pure functions.
public enum UsageRating {
    /// Splits a usage window into business hours: (hour start, seconds in that hour). Billing
    /// is per second and settled on the hour: 08:45:30–09:30:00 is 870 s in the 08:00 hour
    /// and 1,800 s in the 09:00 hour.
    public static func hourSlots(start: Int64, end: Int64, calendar: BusinessCalendar) -> [(hour: Int64, seconds: Int64)] {
        var slots: [(Int64, Int64)] = []
        var cursor = start
        while cursor < end {
            let hour = calendar.floorToHour(cursor)
            let next = min(end, hour + 3600)
            slots.append((hour, next - cursor))
            cursor = next
        }
        return slots
    }

    /// The charge of a settled hourly line in fen: `units × price / divisor` rounded half-up
    /// once, where timed usage counts unit-seconds against an hourly price (divisor 3,600 ×
    /// 10⁶) and counted usage counts units against a unit price (divisor 10⁶).
    public static func charge(units: Int64, priceMicrofen: Int64, perHour: Bool) throws -> Money {
        Money(fen: try Rounding.halfUp(Int128(units) * Int128(priceMicrofen), over: perHour ? 3_600_000_000 : 1_000_000))
    }

    /// The quota window of a package containing `instant` (§2.4): the whole validity for a
    /// non-resettable package; otherwise a month, from the calendar month's first day
    /// (CALENDAR_MONTH; bought Aug-26 18:00 → first window ends Sep-01 00:00) or from the
    /// purchase day (PURCHASE_DAY; Sep-01 → Sep-26 …), never before the effective time.
    public static func quotaWindow(effectiveAt: Int64, instant: Int64, terms: PackageTerms, calendar: BusinessCalendar) -> Int64 {
        guard terms.resettable else { return effectiveAt }
        let date = calendar.date(of: instant)
        if terms.resetAnchor == "CALENDAR_MONTH" {
            return max(effectiveAt, calendar.instant(CivilDate(year: date.year, month: date.month, day: 1)))
        }
        let anchor = AnchorDay.day(calendar.date(of: effectiveAt).day)
        let startDate = calendar.date(of: effectiveAt)
        var months = (date.year - startDate.year) * 12 + (date.month - startDate.month)
        while months > 0 {
            let windowDate = calendar.addingMonths(months, to: startDate, anchor: anchor)
            let windowStart = calendar.instant(windowDate) + (effectiveAt - calendar.startOfDay(effectiveAt))
            if windowStart <= instant { return windowStart }
            months -= 1
        }
        return effectiveAt
    }
}
