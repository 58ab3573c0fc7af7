import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

@Suite("Refund classification: the decision table of §9.1 (pure)")
struct RefundClassificationTests {
    /// A monthly prepaid resource bought by a NEW order, in use, with quota left; `now` given.
    func facts(provisioned: Int64? = at(2024, 1, 1, 10, 30), now: Int64, _ change: (inout RefundFacts) -> Void = { _ in }) -> RefundFacts {
        var facts = RefundFacts(resourceID: "RS1", productID: "evs.100", requestType: .resource, status: .inUse, billingMode: .prepaid,
                                provisionedAt: provisioned, now: now)
        change(&facts)
        return facts
    }

    func classify(_ facts: RefundFacts) -> RefundDecision { RefundClassification.classify(facts) }

    // Row 5, §5.3 worked example: ECS 01 bought 2020/10/20, unsubscribed 2020/10/22 with 6 of
    // the year's 10 units left: a five-day refund that uses one unit (6 → 5).
    @Test func fiveDayExampleOfSection5_3() {
        let decision = classify(facts(provisioned: at(2020, 10, 20, 9), now: at(2020, 10, 22, 9)) { $0.quotaLeft = 6 })
        #expect(decision == RefundDecision(.fiveDay, usesNewQuotaUnit: true))
    }

    // §5.3 window example: provisioned 2022/11/24 14:30:30, a five-day refund is possible until
    // 2022/11/29 14:30:30, strictly before it.
    @Test func fiveDayWindowIsStrictOfSection5_3() {
        let provisioned = at(2022, 11, 24, 14, 30, 30)
        #expect(classify(facts(provisioned: provisioned, now: at(2022, 11, 29, 14, 30, 29))).refundClass == .fiveDay)
        #expect(classify(facts(provisioned: provisioned, now: at(2022, 11, 29, 14, 30, 30))).refundClass == .nonFiveDay)
        #expect(classify(facts(provisioned: nil, now: provisioned)).refundClass == .nonFiveDay)
    }

    // §10 step 2: bought 2024/01/01 10:30, asked on 2024/01/03: five-day (window to 01/06 10:30).
    // §5.7: the EVS unsubscribed 2024/01/15 18:40 is past the window: the formula.
    @Test func endToEndScenarioOfSection10AndTheEVSExampleOfSection5_7() {
        #expect(classify(facts(now: at(2024, 1, 3, 12))).refundClass == .fiveDay)
        #expect(classify(facts(now: at(2024, 1, 6, 10, 29, 59))).refundClass == .fiveDay)
        #expect(classify(facts(now: at(2024, 1, 15, 18, 40))) == RefundDecision(.nonFiveDay))
    }

    // §5.2 partial provisioning: within five days but no quota left: the formula, and the quote
    // says why; a unit already counted this year (a bound group, a whole order of a product not
    // refundable per resource) needs no new one.
    @Test func quotaOfSection5_2And5_3() {
        let now = at(2024, 1, 2)
        #expect(classify(facts(now: now) { $0.quotaLeft = 0 }) == RefundDecision(.nonFiveDay, fiveDayQuotaExhausted: true))
        #expect(classify(facts(now: now) { $0.quotaLeft = 0; $0.quotaUnitCounted = true }) == RefundDecision(.fiveDay))
        #expect(classify(facts(now: now) { $0.quotaLeft = 1; $0.quotaUnitCounted = true }) == RefundDecision(.fiveDay))
    }

    // Row 5's other conditions: a NEW purchase, a product that allows five-day refunds.
    @Test func fiveDayNeedsANewPurchaseOfAnEligibleProduct() {
        let now = at(2024, 1, 2)
        #expect(classify(facts(now: now) { $0.purchaseOrderType = .onDemandToPrepaid }).refundClass == .nonFiveDay)
        #expect(classify(facts(now: now) { $0.purchaseOrderType = nil }).refundClass == .nonFiveDay)
        #expect(classify(facts(now: now) { $0.productFiveDayEligible = false }).refundClass == .nonFiveDay)
    }

    // Rows 2–4 and their order: failed creation, not yet effective, renewal periods only.
    @Test func rowsTwoToFour() {
        let now = at(2024, 1, 2)
        #expect(classify(facts(now: now) { $0.status = .provisionFailed }) == RefundDecision(.failedCreation))
        #expect(classify(facts(now: now) { $0.status = .pendingEffective; $0.billingMode = .package }) == RefundDecision(.inactive))
        // §5.4 before §5.5: a package not yet effective is INACTIVE even when renewal periods are asked for.
        #expect(classify(facts(now: now) { $0.status = .pendingEffective; $0.requestType = .renewalOnly; $0.hasInactivePeriod = true })
                    .refundClass == .inactive)
        // §5.5 worked example: renewed on 2024/01/05, the inactive renewal unsubscribed on 2024/01/10
        // (inside the five days of the purchase, yet RENEWAL_ONLY: row 4 comes before row 5).
        let renewal = facts(provisioned: at(2024, 1, 8), now: at(2024, 1, 10)) { $0.requestType = .renewalOnly; $0.hasInactivePeriod = true }
        #expect(classify(renewal) == RefundDecision(.renewalOnly))
        // CBC.99003128: no renewal period that has not started.
        let none = classify(facts(now: at(2024, 1, 10)) { $0.requestType = .renewalOnly })
        #expect(none.refundClass == .notAllowed && none.reason == .noInactivePeriod)
    }

    // Row 1: every reason of §5.8 the engine can see, and its own (ended, pay-per-use, no period
    // to come), each from the facts that give it.
    @Test func everyNotRefundableReason() {
        let now = at(2024, 1, 20)
        let cases: [(NotRefundableReason, (inout RefundFacts) -> Void)] = [
            (.ended, { $0.status = .released }),
            (.ended, { $0.status = .unsubscribed }),
            (.ended, { $0.status = .deleted }),
            (.mustBeWhole, { $0.boundToUnrequestedPrimary = "RS0" }),
            (.trial, { $0.trial = true }),
            (.payPerUse, { $0.billingMode = .onDemand }),
            (.oneOff, { $0.billingMode = .oneOff }),
            (.freeService, { $0.free = true }),
            (.packageEffective, { $0.billingMode = .package }),
            (.transactionInProgress, { $0.openOrder = "CS9" }),
            (.expired, { $0.status = .expired }),
            (.expired, { $0.status = .frozen; $0.frozenForExpiry = true }),
            (.policeFrozen, { $0.policeFrozen = true }),
            (.promotionNoRefund, { $0.promotionForbidsRefund = true }),
            (.invoicedMarketplace, { $0.hostBlocks = [.invoicedMarketplace] }),
            (.archived, { $0.hostBlocks = [.archived] }),
            (.supportBenefitUsed, { $0.hostBlocks = [.supportBenefitUsed] }),
            (.productNotRefundable, { $0.productRefundable = false }),
            (.noInactivePeriod, { $0.requestType = .renewalOnly }),
        ]
        for (reason, change) in cases {
            let decision = classify(facts(now: now, change))
            #expect(decision.refundClass == .notAllowed, "\(reason)")
            #expect(decision.reason == reason)
            #expect(decision.message?.isEmpty == false)
        }
        #expect(Set(cases.map(\.0)) == Set(NotRefundableReason.allCases))
        // Frozen for arrears or a violation (not expiry, not police) is refundable by the formula.
        #expect(classify(facts(now: now) { $0.status = .frozen }) == RefundDecision(.nonFiveDay))
        // The messages name what they are about.
        #expect(classify(facts(now: now) { $0.openOrder = "CS9" }).message == "order CS9 on resource RS1 is in progress")
        #expect(classify(facts(now: now) { $0.status = .released }).message == "resource RS1 has ended (RELEASED)")
    }

    // First match wins: the reasons in the order the engine checks them, and a reason before
    // any class (a failed creation on the no-refund list is still refused).
    @Test func firstMatchWins() {
        let now = at(2024, 1, 2)
        let everything = facts(now: now) {
            $0.status = .released; $0.boundToUnrequestedPrimary = "RS0"; $0.trial = true; $0.billingMode = .onDemand
            $0.free = true; $0.openOrder = "CS9"; $0.policeFrozen = true; $0.promotionForbidsRefund = true
            $0.hostBlocks = [.supportBenefitUsed, .archived, .invoicedMarketplace]; $0.productRefundable = false
        }
        let order: [(NotRefundableReason, (inout RefundFacts) -> Void)] = [
            (.ended, { $0.status = .inUse }), (.mustBeWhole, { $0.boundToUnrequestedPrimary = nil }), (.trial, { $0.trial = false }),
            (.payPerUse, { $0.billingMode = .prepaid }), (.freeService, { $0.free = false }),
            (.transactionInProgress, { $0.openOrder = nil }), (.policeFrozen, { $0.policeFrozen = false }),
            (.promotionNoRefund, { $0.promotionForbidsRefund = false }),
            (.invoicedMarketplace, { $0.hostBlocks = [.supportBenefitUsed, .archived] }), (.archived, { $0.hostBlocks = [.supportBenefitUsed] }),
            (.supportBenefitUsed, { $0.hostBlocks = [] }), (.productNotRefundable, { $0.productRefundable = true }),
        ]
        var current = everything
        for (reason, clear) in order {
            #expect(classify(current).reason == reason)
            clear(&current)
        }
        #expect(classify(current).refundClass == .fiveDay)
        #expect(classify(facts(now: now) { $0.status = .provisionFailed; $0.productRefundable = false }).reason == .productNotRefundable)
    }
}
