/// The day of month a prepaid subscription keeps across renewals (domain-rules §2.2, rule a).
public enum AnchorDay: Hashable, Sendable {
    /// A day 1–31, clamped to the length of each target month.
    case day(Int64)
    /// Always the last day of the month (the unified expiry day "-1").
    case monthEnd

    /// The anchor as stored and exchanged: 1–31, or -1 for month end.
    public var code: Int64 {
        switch self {
        case .day(let day): return day
        case .monthEnd: return -1
        }
    }

    /// Parses a stored code; nil for anything but 1–31 and -1.
    public init?(code: Int64) {
        if code == -1 { self = .monthEnd } else if (1...31).contains(code) { self = .day(code) } else { return nil }
    }

    /// The anchor's day in a given month.
    public func day(inYear year: Int64, month: Int64) -> Int64 {
        let length = CivilDate.daysInMonth(year: year, month: month)
        switch self {
        case .day(let day): return min(day, length)
        case .monthEnd: return length
        }
    }
}

/// The unit of a prepaid period.
public enum PeriodUnit: String, Hashable, Sendable, CaseIterable {
    case month = "MONTH"
    case year = "YEAR"
}

/// A prepaid purchase or renewal length, such as 3 months or 1 year.
public struct Period: Hashable, Sendable, CustomStringConvertible {
    public let unit: PeriodUnit
    public let count: Int64

    /// The largest count accepted, so that period arithmetic can never overflow.
    public static let maximumCount: Int64 = 100

    public init(_ count: Int64, _ unit: PeriodUnit) throws {
        guard (1...Period.maximumCount).contains(count) else {
            throw BillingError.invalid(.invalidPeriod, "a period count must be 1–\(Period.maximumCount), got \(count)")
        }
        self.unit = unit
        self.count = count
    }

    /// The length in calendar months.
    public var months: Int64 { unit == .year ? count * 12 : count }

    public var description: String { "\(count) \(unit.rawValue)" }
}

/// Civil-date arithmetic in the engine's business time zone: the one place where instants
/// (Unix seconds) become dates and back (design.md §6).
public struct BusinessCalendar: Hashable, Sendable {
    /// Offset of business time from UTC, in seconds (+08:00 ⇒ 28,800).
    public let utcOffsetSeconds: Int64

    /// The earliest and latest instants the engine accepts (years 1970 to 9999).
    public static let instantRange: ClosedRange<Int64> = 0...253_402_300_799

    public init(utcOffsetSeconds: Int64) {
        self.utcOffsetSeconds = utcOffsetSeconds
    }

    /// The seed platform's zone, UTC+08:00.
    public static let chinaStandard = BusinessCalendar(utcOffsetSeconds: 8 * 3600)

    /// The business date and the second within that day of an instant.
    public func civil(_ instant: Int64) -> (date: CivilDate, secondOfDay: Int64) {
        let local = instant + utcOffsetSeconds
        let days = floorDivide(local, 86_400)
        return (CivilDate(daysSinceEpoch: days), local - days * 86_400)
    }

    /// The business date of an instant.
    public func date(of instant: Int64) -> CivilDate { civil(instant).date }

    /// The instant of a business date and time of day.
    public func instant(_ date: CivilDate, hour: Int64 = 0, minute: Int64 = 0, second: Int64 = 0) -> Int64 {
        date.daysSinceEpoch * 86_400 + hour * 3600 + minute * 60 + second - utcOffsetSeconds
    }

    /// 00:00:00 of the business day containing the instant.
    public func startOfDay(_ instant: Int64) -> Int64 { instant - civil(instant).secondOfDay }

    /// 23:59:59 of a business date: the instant prepaid periods end on.
    public func endOfDay(_ date: CivilDate) -> Int64 { instant(date, hour: 23, minute: 59, second: 59) }

    /// The instant floored to the whole business hour (10:30:00 ⇒ 10:00:00).
    public func floorToHour(_ instant: Int64) -> Int64 {
        instant - floorModulo(instant + utcOffsetSeconds, 3600)
    }

    /// The first instant at or after `instant` whose business time is `hour`:00:00.
    public func nextOccurrence(ofHour hour: Int64, atOrAfter instant: Int64) -> Int64 {
        let (date, _) = civil(instant)
        let sameDay = self.instant(date, hour: hour)
        return sameDay >= instant ? sameDay : self.instant(date.adding(days: 1), hour: hour)
    }

    /// The date `months` calendar months after `date`, on the anchor day clamped to that month.
    public func addingMonths(_ months: Int64, to date: CivilDate, anchor: AnchorDay) -> CivilDate {
        let monthIndex = date.year * 12 + (date.month - 1) + months
        let year = floorDivide(monthIndex, 12)
        let month = monthIndex - year * 12 + 1
        return CivilDate(year: year, month: month, day: anchor.day(inYear: year, month: month))
    }

    /// The expiry of a period that starts at `start`: 23:59:59 of the date reached by adding the
    /// period's months to the start's business date, on the anchor day (domain-rules §2.2).
    ///
    /// - Throws: when the expiry would fall after year 9999.
    public func expiry(startingAt start: Int64, period: Period, anchor: AnchorDay) throws -> Int64 {
        let target = addingMonths(period.months, to: date(of: start), anchor: anchor)
        let end = endOfDay(target)
        guard BusinessCalendar.instantRange.contains(end) else {
            throw BillingError.invalid(.instantOutOfRange, "an expiry after the year 9999")
        }
        return end
    }

    /// Parses "+08:00", "-05:30" or "Z" into seconds (range ±14:00).
    public static func parseOffset(_ text: String) -> Int64? {
        if text == "Z" || text == "+00:00" || text == "-00:00" { return 0 }
        let characters = Array(text)
        guard characters.count == 6, characters[0] == "+" || characters[0] == "-", characters[3] == ":",
              let hours = Int64(String(characters[1...2])), let minutes = Int64(String(characters[4...5])),
              characters[1...2].allSatisfy(\.isASCII), characters[4...5].allSatisfy(\.isASCII),
              hours <= 14, minutes < 60, hours * 60 + minutes <= 14 * 60 else { return nil }
        let seconds = hours * 3600 + minutes * 60
        return characters[0] == "-" ? -seconds : seconds
    }

    /// "+08:00" for 28,800.
    public static func formatOffset(_ seconds: Int64) -> String {
        let sign = seconds < 0 ? "-" : "+"
        let minutes = seconds.magnitude / 60
        let hours = minutes / 60
        let rest = minutes % 60
        if hours < 100 {
            // The six bytes on the stack, made into a (small, unallocated) string at once: the
            // interpolation below cost a configuration document some 1,200 instructions.
            var text: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (seconds < 0 ? 0x2D : 0x2B, 0x30 + UInt8(hours / 10), 0x30 + UInt8(hours % 10),
                                                                  0x3A, 0x30 + UInt8(rest / 10), 0x30 + UInt8(rest % 10))
            return withUnsafeBytes(of: &text) { String(decoding: $0, as: UTF8.self) }
        }
        return "\(sign)\(hours < 10 ? "0" : "")\(hours):\(rest < 10 ? "0" : "")\(rest)"
    }

    /// "2024-02-01 23:59:59": business time as people read it in exports.
    public func display(_ instant: Int64) -> String {
        let (date, second) = civil(instant)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(date) \(two(second / 3600)):\(two(second / 60 % 60)):\(two(second % 60))"
    }

    /// ISO-8601 rendering in business time, "2024-02-01T23:59:59+08:00", for people.
    public func iso8601(_ instant: Int64) -> String {
        let (date, second) = civil(instant)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(date)T\(two(second / 3600)):\(two(second / 60 % 60)):\(two(second % 60))"
            + BusinessCalendar.formatOffset(utcOffsetSeconds)
    }
}

/// Division rounding toward negative infinity (Swift's `/` truncates toward zero).
package func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
    let quotient = value / divisor
    return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient
}

/// The non-negative remainder that goes with `floorDivide`.
package func floorModulo(_ value: Int64, _ divisor: Int64) -> Int64 {
    value - floorDivide(value, divisor) * divisor
}
