import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

@Suite("Money")
struct MoneyTests {
    @Test func rendersYuanWithTwoDecimals() {
        #expect(Money(fen: 12345).description == "123.45")
        #expect(Money(fen: 5).description == "0.05")
        #expect(Money(fen: -5).description == "-0.05")
        #expect(Money(fen: 0).description == "0.00")
        #expect(Money(fen: Int64.min).description == "-92233720368547758.08")
    }

    @Test func checkedArithmeticThrowsInsteadOfTrapping() throws {
        #expect(try Money(fen: 1).adding(Money(fen: 2)) == Money(fen: 3))
        #expect(try Money(fen: 1).subtracting(Money(fen: 2)) == Money(fen: -1))
        #expect(expectBillingError { try Money(fen: Int64.max).adding(Money(fen: 1)) }?.reason == "amount_out_of_range")
        #expect(expectBillingError { try Money(fen: Int64.min).subtracting(Money(fen: 1)) }?.reason == "amount_out_of_range")
        #expect(expectBillingError { try Money(fen: Int64.max / 2 + 1).multiplied(by: 2) } != nil)
        #expect(expectBillingError { try Money.sum([Money(fen: Int64.max), Money(fen: 1)]) } != nil)
    }

    @Test func proportionRoundsHalfUpOnce() throws {
        // EVS worked example (§5.7): 100.00 × 344 / 758 = 45.3825… ⇒ 45.38.
        #expect(try Money(fen: 10_000).proportion(344, over: 758) == Money(fen: 4538))
        // With the voucher: 80.00 × 344 / 758 = 36.306… ⇒ 36.31.
        #expect(try Money(fen: 8000).proportion(344, over: 758) == Money(fen: 3631))
        // Exactly one half rounds away from zero.
        #expect(try Money(fen: 1).proportion(1, over: 2) == Money(fen: 1))
        #expect(try Money(fen: 3).proportion(1, over: 2) == Money(fen: 2))
        #expect(try Money(fen: -3).proportion(1, over: 2) == Money(fen: -2))
        #expect(try Money(fen: 1).proportion(1, over: 3) == Money(fen: 0))
        // Unified-expiry example (§4.4): 300.00 × 22 / 31 = 212.903… ⇒ 212.90.
        #expect(try Money(fen: 30_000).proportion(22, over: 31) == Money(fen: 21_290))
        // The 128-bit intermediate does not overflow where 64 bits would.
        #expect(try Money(fen: Int64.max).proportion(Int64.max, over: Int64.max) == Money(fen: Int64.max))
        #expect(expectBillingError { try Money(fen: Int64.max).proportion(2, over: 1) } != nil)
        #expect(expectBillingError { try Money(fen: 1).proportion(1, over: 0) } != nil)
    }

    @Test func allocationAddsUpExactly() throws {
        #expect(try Money(fen: 100).allocated(byWeights: [1, 1, 1]) == [34, 33, 33].map { Money(fen: $0) })
        #expect(try Money(fen: 3569).allocated(byWeights: [8000, 0]) == [Money(fen: 3569), Money.zero])
        #expect(try Money(fen: 10).allocated(byWeights: [0, 0]) == [Money(fen: 5), Money(fen: 5)])
        #expect(try Money(fen: -100).allocated(byWeights: [1, 2]) == [Money(fen: -33), Money(fen: -67)])
        #expect(try Money.zero.allocated(byWeights: []) == [])
        #expect(expectBillingError { try Money(fen: 1).allocated(byWeights: []) } != nil)
        #expect(expectBillingError { try Money(fen: 1).allocated(byWeights: [1, -1]) } != nil)
    }

    @Test func allocationPropertyOverRandomValues() throws {
        var random = SplitMix64(seed: 20_240_101)
        for _ in 0..<20_000 {
            let total = Int64.random(in: -1_000_000_000...1_000_000_000, using: &random)
            let count = Int.random(in: 1...6, using: &random)
            let weights = (0..<count).map { _ in Int64.random(in: 0...10_000_000, using: &random) }
            let parts = try Money(fen: total).allocated(byWeights: weights)
            #expect(try Money.sum(parts).fen == total)
            let weightSum = weights.reduce(0, +)
            guard weightSum > 0 else { continue }
            for (part, weight) in zip(parts, weights) {
                // Each part is within one fen of its exact share.
                let exact = Int128(total) * Int128(weight)
                let low = Int128(part.fen - 1) * Int128(weightSum)
                let high = Int128(part.fen + 1) * Int128(weightSum)
                #expect(low < exact && exact < high)
            }
        }
    }

    @Test func proportionPropertyMatchesIdentity() throws {
        // consumed + remainder == paid for every split of a paid amount by a used fraction.
        var random = SplitMix64(seed: 7)
        for _ in 0..<20_000 {
            let paid = Int64.random(in: 0...10_000_000_000, using: &random)
            let total = Int64.random(in: 1...87_600, using: &random)
            let used = Int64.random(in: 0...total, using: &random)
            let consumed = try Money(fen: paid).proportion(used, over: total)
            let rest = try Money(fen: paid).subtracting(consumed)
            #expect(consumed.fen >= 0 && consumed.fen <= paid)
            #expect(try consumed.adding(rest).fen == paid)
            // Half-up: |consumed × total − paid × used| ≤ total / 2.
            let error = (Int128(consumed.fen) * Int128(total) - Int128(paid) * Int128(used)).magnitude
            #expect(error * 2 <= UInt128(total))
        }
    }
}
