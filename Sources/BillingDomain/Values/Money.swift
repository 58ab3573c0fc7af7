/// An amount of money as an exact count of minor units (fen for CNY).
///
/// All arithmetic is checked: an overflow throws instead of trapping, because a trap
/// would kill the host process. Ratios are computed exactly in 128 bits and rounded once.
public struct Money: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The amount in minor units (fen).
    public let fen: Int64

    public init(fen: Int64) { self.fen = fen }

    public static let zero = Money(fen: 0)

    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.fen < rhs.fen }

    /// "123.45", "-0.05": yuan with two decimals, for people and exports.
    public var description: String {
        let magnitude = fen.magnitude
        let sign = fen < 0 ? "-" : ""
        let cents = magnitude % 100
        return "\(sign)\(magnitude / 100).\(cents < 10 ? "0" : "")\(cents)"
    }

    /// The sum, or an error if it leaves the Int64 range.
    public func adding(_ other: Money) throws -> Money {
        let (sum, overflow) = fen.addingReportingOverflow(other.fen)
        if overflow { throw BillingError.overflow("the sum of \(self) and \(other)") }
        return Money(fen: sum)
    }

    /// The difference, or an error if it leaves the Int64 range.
    public func subtracting(_ other: Money) throws -> Money {
        let (difference, overflow) = fen.subtractingReportingOverflow(other.fen)
        if overflow { throw BillingError.overflow("\(self) minus \(other)") }
        return Money(fen: difference)
    }

    /// The product with an integer count, or an error if it leaves the Int64 range.
    public func multiplied(by count: Int64) throws -> Money {
        let (product, overflow) = fen.multipliedReportingOverflow(by: count)
        if overflow { throw BillingError.overflow("\(self) times \(count)") }
        return Money(fen: product)
    }

    /// `self × numerator / denominator`, computed exactly and rounded half-up (away from
    /// zero at exactly one half) once.
    ///
    /// - Throws: if the denominator is not positive or the result leaves the Int64 range.
    public func proportion(_ numerator: Int64, over denominator: Int64) throws -> Money {
        Money(fen: try Rounding.halfUp(Int128(fen) * Int128(numerator), over: Int128(denominator)))
    }

    /// The sum of amounts, checked.
    public static func sum<S: Sequence>(_ amounts: S) throws -> Money where S.Element == Money {
        try amounts.reduce(Money.zero) { try $0.adding($1) }
    }
}

/// Exact rounding of 128-bit ratios to Int64.
public enum Rounding {
    /// `numerator / denominator` rounded half-up (ties away from zero).
    public static func halfUp(_ numerator: Int128, over denominator: Int128) throws -> Int64 {
        guard denominator > 0 else {
            throw BillingError(.internal, "zero_denominator", "a ratio with a non-positive denominator")
        }
        let magnitude = numerator.magnitude
        let divisor = denominator.magnitude
        let (quotient, remainder) = magnitude.quotientAndRemainder(dividingBy: divisor)
        let rounded = remainder * 2 >= divisor ? quotient + 1 : quotient
        guard rounded <= UInt128(Int64.max) else { throw BillingError.overflow("a rounded ratio") }
        let value = Int64(rounded)
        return numerator < 0 ? -value : value
    }
}
