import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

@Suite("Business calendar")
struct CalendarTests {
    let calendar = BusinessCalendar.chinaStandard

    func at(_ year: Int64, _ month: Int64, _ day: Int64, _ hour: Int64 = 0, _ minute: Int64 = 0, _ second: Int64 = 0) -> Int64 {
        calendar.instant(CivilDate(year: year, month: month, day: day), hour: hour, minute: minute, second: second)
    }

    func expiry(_ start: Int64, _ count: Int64, _ unit: PeriodUnit, anchor: AnchorDay? = nil) throws -> Int64 {
        try calendar.expiry(startingAt: start, period: Period(count, unit),
                            anchor: anchor ?? .day(calendar.date(of: start).day))
    }

    @Test func civilDateRoundTripsAcrossCenturies() {
        #expect(CivilDate(year: 1970, month: 1, day: 1).daysSinceEpoch == 0)
        #expect(CivilDate(year: 2000, month: 3, day: 1).daysSinceEpoch == 11_017)
        #expect(CivilDate(daysSinceEpoch: 19_723) == CivilDate(year: 2024, month: 1, day: 1))
        var previous = CivilDate(daysSinceEpoch: -1)
        for days in Int64(0)...Int64(150_000) {
            let date = CivilDate(daysSinceEpoch: days)
            #expect(date.daysSinceEpoch == days)
            #expect(previous < date)
            previous = date
        }
    }

    @Test func instantsAreInBusinessTime() {
        // 2024-01-01 00:00:00 +08:00 is 2023-12-31 16:00:00 UTC.
        #expect(at(2024, 1, 1) == 1_704_038_400)
        #expect(calendar.iso8601(1_704_038_400) == "2024-01-01T00:00:00+08:00")
        #expect(calendar.date(of: 1_704_038_399) == CivilDate(year: 2023, month: 12, day: 31))
        #expect(BusinessCalendar(utcOffsetSeconds: 0).iso8601(0) == "1970-01-01T00:00:00+00:00")
    }

    @Test func periodExamplesOfSection2_2() throws {
        #expect(try expiry(at(2023, 3, 8, 15, 50, 4), 1, .month) == at(2023, 4, 8, 23, 59, 59))
        #expect(try expiry(at(2023, 2, 8, 15, 50, 4), 1, .month) == at(2023, 3, 8, 23, 59, 59))
        #expect(try expiry(at(2024, 2, 8, 15, 50, 4), 1, .year) == at(2025, 2, 8, 23, 59, 59))
        #expect(try expiry(at(2024, 1, 1, 10, 30), 1, .month) == at(2024, 2, 1, 23, 59, 59))
        #expect(try expiry(at(2024, 3, 31, 9), 1, .month) == at(2024, 4, 30, 23, 59, 59))
        // Renewals start at the previous expiry and keep the original anchor day.
        #expect(try expiry(at(2023, 1, 31, 23, 59, 59), 1, .month) == at(2023, 2, 28, 23, 59, 59))
        #expect(try expiry(at(2024, 1, 31, 23, 59, 59), 1, .month) == at(2024, 2, 29, 23, 59, 59))
        #expect(try expiry(at(2024, 5, 15, 23, 59, 59), 1, .month) == at(2024, 6, 15, 23, 59, 59))
        #expect(try expiry(at(2024, 4, 30, 23, 59, 59), 1, .month, anchor: .day(31)) == at(2024, 5, 31, 23, 59, 59))
        // Renewal cycles: 1-year purchase 2023-07-08 15:50:04, then a 1-year renewal.
        let first = try expiry(at(2023, 7, 8, 15, 50, 4), 1, .year)
        #expect(first == at(2024, 7, 8, 23, 59, 59))
        #expect(try expiry(first, 1, .year, anchor: .day(8)) == at(2025, 7, 8, 23, 59, 59))
        // Month-end anchor (unified expiry day -1).
        #expect(try expiry(at(2024, 1, 15), 1, .month, anchor: .monthEnd) == at(2024, 2, 29, 23, 59, 59))
    }

    @Test func renewalLengthIsTheCalendarMonthAdded() throws {
        // "One month" of renewal = the actual days of the month added (§2.2, [S14]).
        let janEnd = at(2023, 1, 31, 23, 59, 59)
        #expect((try expiry(janEnd, 1, .month) - janEnd) / 86_400 == 28)
        let leapJanEnd = at(2024, 1, 31, 23, 59, 59)
        #expect((try expiry(leapJanEnd, 1, .month) - leapJanEnd) / 86_400 == 29)
        let mayMid = at(2024, 5, 15, 23, 59, 59)
        #expect((try expiry(mayMid, 1, .month) - mayMid) / 86_400 == 31)
    }

    /// An oracle that counts days instead of using the month table.
    func lengthOfMonth(_ year: Int64, _ month: Int64) -> Int64 {
        var date = CivilDate(year: year, month: month, day: 28)
        while date.adding(days: 1).month == month { date = date.adding(days: 1) }
        return date.day
    }

    @Test func sweepEveryStartDayOfFourYears() throws {
        let first = CivilDate(year: 2023, month: 1, day: 1)
        let last = CivilDate(year: 2026, month: 12, day: 31)
        var checked = 0
        for days in first.daysSinceEpoch...last.daysSinceEpoch {
            let date = CivilDate(daysSinceEpoch: days)
            let start = calendar.instant(date, hour: 10, minute: 30)
            let periods = try (1...12).map { try Period(Int64($0), .month) } + (1...5).map { try Period(Int64($0), .year) }
            for period in periods {
                let end = try calendar.expiry(startingAt: start, period: period, anchor: .day(date.day))
                let (endDate, second) = calendar.civil(end)
                #expect(second == 86_399, "expiries end at 23:59:59")
                let monthIndex = date.year * 12 + date.month - 1 + period.months
                #expect(endDate.year == monthIndex / 12 && endDate.month == monthIndex % 12 + 1)
                #expect(endDate.day == min(date.day, lengthOfMonth(endDate.year, endDate.month)))
                checked += 1
            }
            // A chain of 1-month renewals, each starting at the previous expiry: contiguous,
            // and the anchor day comes back after every short month.
            var expiryInstant = try calendar.expiry(startingAt: start, period: Period(1, .month), anchor: .day(date.day))
            for _ in 0..<24 {
                let next = try calendar.expiry(startingAt: expiryInstant, period: Period(1, .month), anchor: .day(date.day))
                let previousDate = calendar.date(of: expiryInstant)
                let nextDate = calendar.date(of: next)
                #expect(next > expiryInstant)
                #expect((nextDate.year * 12 + nextDate.month) - (previousDate.year * 12 + previousDate.month) == 1)
                #expect(nextDate.day == min(date.day, lengthOfMonth(nextDate.year, nextDate.month)))
                expiryInstant = next
            }
        }
        #expect(checked == 1461 * 17)
    }

    @Test func floorsToTheBusinessHour() {
        #expect(calendar.floorToHour(at(2024, 1, 1, 10, 30)) == at(2024, 1, 1, 10))
        #expect(calendar.floorToHour(at(2024, 1, 15, 18, 40)) == at(2024, 1, 15, 18))
        #expect(calendar.floorToHour(at(2024, 1, 15, 18)) == at(2024, 1, 15, 18))
        // A half-hour offset floors to business hours, not UTC hours.
        let india = BusinessCalendar(utcOffsetSeconds: 5 * 3600 + 1800)
        let instant = india.instant(CivilDate(year: 2024, month: 1, day: 1), hour: 10, minute: 45)
        #expect(india.floorToHour(instant) == india.instant(CivilDate(year: 2024, month: 1, day: 1), hour: 10))
    }

    @Test func nextThreeOClock() {
        #expect(calendar.nextOccurrence(ofHour: 3, atOrAfter: at(2024, 6, 23, 2, 59, 59)) == at(2024, 6, 23, 3))
        #expect(calendar.nextOccurrence(ofHour: 3, atOrAfter: at(2024, 6, 23, 3)) == at(2024, 6, 23, 3))
        #expect(calendar.nextOccurrence(ofHour: 3, atOrAfter: at(2024, 6, 23, 3, 0, 1)) == at(2024, 6, 24, 3))
        #expect(calendar.nextOccurrence(ofHour: 3, atOrAfter: at(2024, 12, 31, 23)) == at(2025, 1, 1, 3))
        #expect(calendar.endOfDay(CivilDate(year: 2024, month: 6, day: 30)) == at(2024, 6, 30, 23, 59, 59))
        #expect(calendar.startOfDay(at(2024, 6, 30, 13, 14, 15)) == at(2024, 6, 30))
    }

    @Test func offsetsParseAndFormat() {
        #expect(BusinessCalendar.parseOffset("+08:00") == 28_800)
        #expect(BusinessCalendar.parseOffset("-05:30") == -19_800)
        #expect(BusinessCalendar.parseOffset("Z") == 0)
        for bad in ["+8", "08:00", "+15:00", "+08:60", "+0a:00", "", "+08:00 "] {
            #expect(BusinessCalendar.parseOffset(bad) == nil, "\(bad)")
        }
        #expect(BusinessCalendar.formatOffset(-19_800) == "-05:30")
        #expect(BusinessCalendar.formatOffset(28_800) == "+08:00")
        // The bytes written directly are the interpolation's, at every minute of ±99:59, and
        // beyond two digits of hours the interpolation writes them.
        func interpolated(_ seconds: Int64) -> String {
            let minutes = seconds.magnitude / 60, hours = minutes / 60, rest = minutes % 60
            return "\(seconds < 0 ? "-" : "+")\(hours < 10 ? "0" : "")\(hours):\(rest < 10 ? "0" : "")\(rest)"
        }
        for seconds in stride(from: Int64(-100 * 3600), through: 100 * 3600, by: 60) + [0, 59, -59, 61, -61, Int64.max, Int64.min] {
            #expect(BusinessCalendar.formatOffset(seconds) == interpolated(seconds), "\(seconds)")
        }
    }

    @Test func periodsAndAnchorsAreChecked() {
        #expect(expectBillingError { try Period(0, .month) }?.reason == "invalid_period")
        #expect(expectBillingError { try Period(101, .year) }?.reason == "invalid_period")
        #expect(AnchorDay(code: 0) == nil)
        #expect(AnchorDay(code: 32) == nil)
        #expect(AnchorDay(code: -1) == .monthEnd)
        #expect(AnchorDay(code: 31)?.day(inYear: 2023, month: 2) == 28)
        let late = BusinessCalendar.chinaStandard.instant(CivilDate(year: 9999, month: 6, day: 1))
        #expect(expectBillingError { try BusinessCalendar.chinaStandard.expiry(startingAt: late, period: Period(1, .year), anchor: .day(1)) } != nil)
    }
}
