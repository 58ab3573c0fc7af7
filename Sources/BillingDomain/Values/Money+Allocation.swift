extension Money {
    /// Splits `self` across parts in proportion to non-negative weights so that the parts add
    /// up exactly to `self` (largest-remainder method).
    ///
    /// Each part first gets the floor of its exact share; the fen left over go one each to the
    /// parts with the largest remainders, earlier parts first among equal remainders. With all
    /// weights zero, everything goes to parts in equal shares the same way.
    ///
    /// - Throws: for negative weights, an empty list with a non-zero amount, or overflow.
    public func allocated(byWeights weights: [Int64]) throws -> [Money] {
        guard !weights.isEmpty else {
            if fen == 0 { return [] }
            throw BillingError(.internal, "empty_allocation", "cannot split \(self) across no parts")
        }
        guard weights.allSatisfy({ $0 >= 0 }) else {
            throw BillingError(.internal, "negative_weight", "allocation weights must not be negative")
        }
        let effective = weights.allSatisfy({ $0 == 0 }) ? weights.map { _ in Int64(1) } : weights
        var totalWeight = Int128(0)
        for weight in effective { totalWeight += Int128(weight) }
        let total = Int128(fen)
        let magnitude = total.magnitude
        var parts: [Int128] = []
        var remainders: [(index: Int, remainder: UInt128)] = []
        var assigned = UInt128(0)
        for (index, weight) in effective.enumerated() {
            let exact = magnitude * UInt128(weight)
            let (share, remainder) = exact.quotientAndRemainder(dividingBy: UInt128(totalWeight))
            parts.append(Int128(share))
            remainders.append((index, remainder))
            assigned += share
        }
        var leftover = magnitude - assigned
        remainders.sort { $0.remainder != $1.remainder ? $0.remainder > $1.remainder : $0.index < $1.index }
        var cursor = 0
        while leftover > 0 {
            parts[remainders[cursor % remainders.count].index] += 1
            leftover -= 1
            cursor += 1
        }
        return try parts.map { part in
            let signed = fen < 0 ? -part : part
            guard let value = Int64(exactly: signed) else { throw BillingError.overflow("an allocated part") }
            return Money(fen: value)
        }
    }
}
