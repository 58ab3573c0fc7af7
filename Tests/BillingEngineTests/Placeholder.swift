import Testing
@testable import BillingEngine
@Test func placeholder() { #expect(Money(fen: 1).fen == 1) }
