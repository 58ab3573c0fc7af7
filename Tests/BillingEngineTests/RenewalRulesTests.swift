import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

/// An instant in business time (+08:00).
func at(_ year: Int64, _ month: Int64, _ day: Int64, _ hour: Int64 = 0, _ minute: Int64 = 0, _ second: Int64 = 0) -> Int64 {
    BusinessCalendar.chinaStandard.instant(CivilDate(year: year, month: month, day: day), hour: hour, minute: minute, second: second)
}

@Suite("Renewal rules (pure)")
struct RenewalRulesTests {
    let calendar = BusinessCalendar.chinaStandard

    @Test func unifiedExpiryExamplesOfSection4_4() throws {
        // Expiry 2024/09/10, renew 1 month, unified day 1: normal end 10/10, target 11/01, 22 extra days.
        let normal = try calendar.expiry(startingAt: at(2024, 9, 10, 23, 59, 59), period: Period(1, .month), anchor: .day(10))
        let unified = RenewalRules.unifiedExpiry(normalEnd: normal, unifiedDay: 1, calendar: calendar)
        #expect(unified.expiry == at(2024, 11, 1, 23, 59, 59))
        #expect(unified.extraDays == 22)
        #expect(unified.monthLength == 31)
        // 300.00 + 300.00 × 22 / 31 = 300.00 + 212.90 = 512.90.
        #expect(try RenewalRules.unifiedPrice(periodPrice: Money(fen: 30_000), monthlyPrice: Money(fen: 30_000), extraDays: 22, monthLength: 31) == Money(fen: 51_290))
        // Alibaba's examples: 2018-09-10 and 2018-05-17 with unified day 1 → 2018-11-01 and 2018-07-01.
        for (start, anchor, expected) in [(at(2018, 9, 10, 23, 59, 59), Int64(10), at(2018, 11, 1, 23, 59, 59)),
                                          (at(2018, 5, 17, 23, 59, 59), Int64(17), at(2018, 7, 1, 23, 59, 59))] {
            let end = try calendar.expiry(startingAt: start, period: Period(1, .month), anchor: .day(anchor))
            #expect(RenewalRules.unifiedExpiry(normalEnd: end, unifiedDay: 1, calendar: calendar).expiry == expected)
        }
        // A normal end already on the unified day adds nothing; month end (-1) stays in the month.
        #expect(RenewalRules.unifiedExpiry(normalEnd: at(2024, 3, 1, 23, 59, 59), unifiedDay: 1, calendar: calendar).extraDays == 0)
        let monthEnd = RenewalRules.unifiedExpiry(normalEnd: at(2024, 2, 10, 23, 59, 59), unifiedDay: -1, calendar: calendar)
        #expect(monthEnd.expiry == at(2024, 2, 29, 23, 59, 59))
        #expect(monthEnd.extraDays == 19)
        #expect(RenewalRules.unifiedExpiry(normalEnd: at(2024, 1, 31, 23, 59, 59), unifiedDay: 28, calendar: calendar).expiry == at(2024, 2, 28, 23, 59, 59))
    }

    @Test func deductionScheduleOfSection4_5() {
        let expiry = at(2024, 6, 30, 23, 59, 59)
        let early = at(2024, 6, 1, 12)
        #expect(RenewalRules.firstAttempt(expireAt: expiry, deductionDays: 7, hour: 3, now: early, calendar: calendar) == at(2024, 6, 23, 3))
        #expect(RenewalRules.firstAttempt(expireAt: expiry, deductionDays: 3, hour: 3, now: early, calendar: calendar) == at(2024, 6, 27, 3))
        #expect(RenewalRules.nextRetry(after: at(2024, 6, 23, 3), hour: 3, calendar: calendar) == at(2024, 6, 24, 3))
        // Enabled after the deduction day: at once.
        #expect(RenewalRules.firstAttempt(expireAt: expiry, deductionDays: 7, hour: 3, now: at(2024, 6, 25, 9), calendar: calendar) == at(2024, 6, 25, 9))
        // Same-day rule: enabled after 03:00, expiring before the next day's 03:00: at once.
        let closeExpiry = at(2024, 7, 1, 1)
        #expect(RenewalRules.firstAttempt(expireAt: closeExpiry, deductionDays: 2, hour: 3, now: at(2024, 6, 28, 4), calendar: calendar) == at(2024, 6, 29, 3))
        #expect(RenewalRules.firstAttempt(expireAt: closeExpiry, deductionDays: 2, hour: 3, now: at(2024, 6, 30, 4), calendar: calendar) == at(2024, 6, 30, 4))
        // Enabled before 03:00 on a day whose 03:00 comes after the expiry: at once.
        #expect(RenewalRules.firstAttempt(expireAt: at(2024, 7, 1, 2), deductionDays: 2, hour: 3, now: at(2024, 7, 1, 1), calendar: calendar) == at(2024, 7, 1, 1))
    }

    @Test func failureNoticesOfSection6_3() {
        // §10: expiry 2024/02/01, grace to 02/08, retention to 02/15.
        let expiry = at(2024, 2, 1, 23, 59, 59)
        let grace = at(2024, 2, 8, 23, 59, 59)
        let retention = at(2024, 2, 15, 23, 59, 59)
        var noticeDays: [Int64] = []
        var day = CivilDate(year: 2024, month: 1, day: 25)
        while day <= CivilDate(year: 2024, month: 2, day: 16) {
            if RenewalRules.isFailureNoticeDay(day, expireAt: expiry, graceEnd: grace, retentionEnd: retention, calendar: calendar) {
                noticeDays.append(day.month * 100 + day.day)
            }
            day = day.adding(days: 1)
        }
        // 5 and 2 days before expiry and on it; the same around the freeze (02/09); 6 and 2
        // days before release (02/16) and on it.
        #expect(noticeDays == [127, 130, 201, 204, 207, 209, 210, 214, 216])
    }

    @Test func remindersSendOneNoticeAndNeverABacklog() {
        let expiry = at(2024, 2, 10, 23, 59, 59)
        let days: [Int64] = [15, 7, 3, 1]
        #expect(RenewalRules.reminderInstant(expireAt: expiry, daysBefore: 15, calendar: calendar) == at(2024, 1, 26))
        #expect(RenewalRules.reminders(expireAt: expiry, days: days, lastSent: nil, now: at(2024, 1, 20), calendar: calendar) == (nil, at(2024, 1, 26)))
        let first = RenewalRules.reminders(expireAt: expiry, days: days, lastSent: nil, now: at(2024, 1, 26, 3), calendar: calendar)
        #expect(first.send == 15 && first.next == at(2024, 2, 3))
        // A run that comes late sends only the latest reminder that fell due.
        let late = RenewalRules.reminders(expireAt: expiry, days: days, lastSent: 15, now: at(2024, 2, 8), calendar: calendar)
        #expect(late.send == 3 && late.next == at(2024, 2, 9))
        #expect(RenewalRules.passedReminder(expireAt: expiry, days: days, now: at(2024, 2, 4), calendar: calendar) == 7)
    }
}
