import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

@Suite("Order and resource state machines (pure)")
struct StateMachineTests {
    /// A type of each flow.
    let purchase = OrderType.new
    let unsubscription = OrderType.unsubscribe

    @Test func everyOrderTransitionOfSection3_3IsAllowed() throws {
        // (type, from, to, §3.3 rows): T1–T15 and U1–U5, each as the engine carries it out.
        let expected: [(OrderType, OrderStatus?, OrderStatus, String)] = [
            (purchase, nil, .pendingPayment, "T1"), (purchase, nil, .pendingPayment, "T5"),
            (purchase, nil, .pendingReview, "T2"), (purchase, nil, .pendingConfirmation, "T3"),
            (purchase, nil, .processing, "T4"), (.prepaidToOnDemand, nil, .completed, "T4"),
            (purchase, .pendingReview, .pendingPayment, "T6"), (purchase, .pendingReview, .cancelled, "T7"),
            (purchase, .pendingConfirmation, .pendingPayment, "T8"), (purchase, .pendingConfirmation, .pendingReview, "T8"),
            (purchase, .pendingConfirmation, .cancelled, "T9"),
            (.renew, .pendingPayment, .processing, "T10"), (purchase, .pendingPayment, .cancelled, "T11"),
            (purchase, .pendingPayment, .cancelled, "T12"), (.renew, .pendingPayment, .cancelled, "T13"),
            (.renew, .pendingReview, .cancelled, "T13"), (.renew, .pendingConfirmation, .cancelled, "T13"),
            (purchase, .processing, .completed, "T14"), (purchase, .processing, .completed, "T15"),
            (unsubscription, nil, .refunding, "U1"), (unsubscription, nil, .pendingReview, "U2"),
            (unsubscription, .pendingReview, .refunding, "U3"), (unsubscription, .pendingReview, .cancelled, "U4"),
            (unsubscription, .refunding, .completed, "U5"),
        ]
        for (type, from, to, rule) in expected {
            let transition = try OrderStateMachine.transition(from: from, to: to, type: type)
            #expect(transition.rules.contains(rule), "\(rule): \(from?.rawValue ?? "—") → \(to.rawValue)")
        }
        // Every row of the table is one of those, and every rule id appears.
        let rules = Set(OrderStateMachine.table.flatMap(\.rules))
        #expect(rules == Set((1...15).map { "T\($0)" } + (1...5).map { "U\($0)" }))
        for row in OrderStateMachine.table {
            let type: OrderType = row.flow == .unsubscription ? .unsubscribe : .new
            #expect(try OrderStateMachine.transition(from: row.from, to: row.to, type: type) == row)
        }
    }

    @Test func everyOtherOrderMoveIsRefusedNamingBothStatuses() {
        for type in [purchase, unsubscription] {
            let flow = OrderStateMachine.Flow(type)
            for from in [nil] + OrderStatus.allCases.map(Optional.some) {
                for to in OrderStatus.allCases where from != to {
                    let allowed = OrderStateMachine.table.contains { $0.flow == flow && $0.from == from && $0.to == to }
                    if allowed { continue }
                    let error = #expect(throws: BillingError.self) {
                        try OrderStateMachine.transition(from: from, to: to, type: type, subject: "order CS1")
                    }
                    #expect(error?.status == .refused)
                    #expect(error?.reason == "illegal_transition")
                    #expect(error?.message.contains(to.rawValue) == true)
                    if let from { #expect(error?.message.contains(from.rawValue) == true) }
                }
            }
        }
    }

    @Test func aSampleOfForbiddenOrderMoves() {
        let forbidden: [(OrderType, OrderStatus?, OrderStatus)] = [
            (purchase, .completed, .cancelled),          // terminal: completed orders never change
            (purchase, .cancelled, .pendingPayment),     // a cancelled order cannot be restored
            (purchase, .processing, .cancelled),         // only waiting orders can be cancelled (§9.3)
            (purchase, .pendingPayment, .completed),     // payment comes first (T10, then T14)
            (purchase, .pendingReview, .processing),     // approval leads to payment, not past it
            (purchase, nil, .refunding),                 // REFUNDING belongs to unsubscription orders
            (purchase, nil, .cancelled),
            (unsubscription, nil, .completed),           // U1 then U5, never straight to COMPLETED
            (unsubscription, nil, .pendingPayment),      // a refund is never paid
            (unsubscription, .pendingReview, .completed),
            (unsubscription, .refunding, .cancelled),
            (unsubscription, .completed, .refunding),
        ]
        for (type, from, to) in forbidden {
            #expect(throws: BillingError.self) { try OrderStateMachine.transition(from: from, to: to, type: type) }
        }
        #expect(OrderStateMachine.successors(of: .completed, type: purchase).isEmpty)
        #expect(OrderStateMachine.successors(of: .cancelled, type: unsubscription).isEmpty)
    }

    @Test func movingAnOrderGoesThroughTheTable() throws {
        var order = Order(id: "CS1", accountID: "a", combinedID: nil, isCombined: false, type: .new, status: .pendingPayment,
                          productType: "EVS", billingMode: "PREPAID", productKind: "default", createdAt: 0, payDeadline: nil,
                          paidAt: nil, completedAt: nil, cancelledAt: nil, cancelReason: nil, reviewRequired: false,
                          placedByManager: false, contract: nil, sourceOrderID: nil, amounts: OrderAmounts())
        try order.transition(to: .processing)
        try order.transition(to: .processing)  // staying is not a move
        #expect(order.status == .processing)
        #expect(throws: BillingError.self) { try order.transition(to: .pendingPayment) }
        #expect(order.status == .processing)   // a refused move changes nothing
        try order.transition(to: .completed)
        #expect(order.status == .completed)
    }

    @Test func everyResourceLifecycleMoveIsAllowed() throws {
        let expected: [(ResourceStatus?, ResourceStatus)] = [
            (nil, .pendingProvision), (nil, .inUse), (nil, .pendingEffective),
            (.pendingProvision, .inUse), (.pendingProvision, .provisionFailed),
            (.pendingEffective, .inUse), (.pendingEffective, .unsubscribed),
            (.inUse, .expired), (.inUse, .frozen), (.inUse, .unsubscribed), (.inUse, .deleted),
            (.expired, .inUse), (.expired, .frozen), (.expired, .released), (.expired, .deleted),
            (.frozen, .inUse), (.frozen, .released), (.frozen, .unsubscribed), (.frozen, .deleted),
        ]
        for (from, to) in expected {
            #expect(try ResourceStateMachine.transition(from: from, to: to).to == to)
        }
        #expect(ResourceStateMachine.table.count == expected.count)
        #expect(Set(ResourceStateMachine.terminal) == [.provisionFailed, .released, .unsubscribed, .deleted])
    }

    @Test func everyOtherResourceMoveIsRefused() {
        for from in [nil] + ResourceStatus.allCases.map(Optional.some) {
            for to in ResourceStatus.allCases where from != to {
                guard !ResourceStateMachine.table.contains(where: { $0.from == from && $0.to == to }) else { continue }
                let error = #expect(throws: BillingError.self) { try ResourceStateMachine.transition(from: from, to: to, subject: "resource RS1") }
                #expect(error?.reason == "illegal_transition")
                #expect(error?.message.contains("RS1") == true)
            }
        }
        // A sample, spelled out: what ended stays ended; expiry comes before release; nothing
        // is created already ended; an expired resource is released, not unsubscribed (§5.8).
        let sample: [(ResourceStatus?, ResourceStatus)] = [
            (.released, .inUse), (.unsubscribed, .inUse), (.deleted, .inUse), (.provisionFailed, .inUse),
            (.inUse, .released), (.pendingProvision, .expired), (nil, .released), (nil, .expired),
            (.expired, .unsubscribed), (.pendingEffective, .expired),
        ]
        for (from, to) in sample {
            #expect(throws: BillingError.self) { try ResourceStateMachine.transition(from: from, to: to) }
        }
    }

    @Test func theStoresRefuseAStatusTheTableDoesNotAllow() throws {
        // A status assigned around the state machine is refused when written, not stored.
        let shop = try Shop()
        let id = text(try shop.create(#"[{"product_id":"evs.100","period":{"unit":"MONTH","count":1}}]"#), "order", "order_id")
        _ = try shop.pay(id)
        let resource = try #require(try shop.resources(id).first)
        let undone = expectBillingError {
            try shop.engine.lock.withLock {
            try shop.engine.db.transaction(write: true) {
                var order = try OrderStore.require(shop.engine.db, id, account: "acme")
                order.status = .pendingPayment
                let error = #expect(throws: BillingError.self) { try OrderStore.update(shop.engine.db, order) }
                #expect(error?.reason == "illegal_transition")
                #expect(error?.message.contains("from PROCESSING to PENDING_PAYMENT") == true)
                var stored = try ResourceStore.require(shop.engine.db, resource, account: "acme")
                stored.status = .released
                #expect(throws: BillingError.self) { try ResourceStore.update(shop.engine.db, stored) }
                // A move of the table is written.
                stored = try ResourceStore.require(shop.engine.db, resource, account: "acme")
                try stored.transition(to: .provisionFailed)
                try ResourceStore.update(shop.engine.db, stored)
                #expect(try ResourceStore.require(shop.engine.db, resource, account: "acme").status == .provisionFailed)
                throw BillingError(.internal, "rolled_back", "undo the test's write")
            }
            }
        }
        #expect(undone?.reason == "rolled_back")
        #expect(try shop.status(id) == "PROCESSING")
        #expect(text(try object(shop.engine.getResource(#"{"account_id":"acme","resource_id":"\#(resource)"}"#)), "resource", "status") == "PENDING_PROVISION")
    }
}
