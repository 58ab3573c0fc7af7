import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

/// What the file holds is read strictly and added up with checked arithmetic: a damaged or
/// forged value is a storage or range error naming what it is, never a null, a silent
/// default or a trap that kills the host.
@Suite("Reading stored values")
struct StoredValueReadingTests {
    private func execute(_ engine: Engine, _ sql: String) throws {
        try engine.lock.withLock { try engine.db.executeScript(sql) }
    }

    @Test func anUnreadableRefundDetailIsAStorageErrorNamingTheOrder() throws {
        let shop = try Shop()
        let disk = try shop.own()
        let done = try shop.unsubscribe([disk])
        let order = text(done, "order", "order_id")
        #expect(try shop.order(order)["order"] != nil)
        for damaged in ["not json", "[1, 2]", #"{"resource_ids": 5}"#, #"{"resource_ids": [5]}"#] {
            try execute(shop.engine, "UPDATE refund_details SET detail = '\(damaged)' WHERE order_id = '\(order)'")
            let error = expectBillingError { try shop.order(order) }
            #expect(error?.status == .storage, "\(damaged)")
            #expect(error?.reason == "stored_value_unreadable", "\(damaged)")
            #expect(error?.message.contains("order \(order)") == true, "\(damaged)")
        }
    }

    @Test func resourceFreezeReasonsAreTyped() throws {
        let shop = try Shop()
        let eip = try shop.onDemand("bw.ondemand")
        // A resource frozen by public security cannot be deleted (§4.8), read as the enum.
        try execute(shop.engine, "UPDATE resources SET status = 'FROZEN', freeze_reason = 'POLICE' WHERE id = '\(eip)'")
        #expect(try shop.resource(eip)["freeze_reason"] == .string(ResourceFreezeReason.police.rawValue))
        #expect(expectBillingError { try shop.engine.deleteResources(#"{"actor":"h","account_id":"acme","resource_ids":["\#(eip)"]}"#) }?.reason == "police_frozen")
        // Frozen for arrears it can be.
        try execute(shop.engine, "UPDATE resources SET freeze_reason = 'ARREARS' WHERE id = '\(eip)'")
        _ = try shop.engine.deleteResources(#"{"actor":"h","account_id":"acme","resource_ids":["\#(eip)"]}"#)
        #expect(try shop.resource(eip)["status"] == "DELETED")
        // A reason the library never writes is a damaged record, not a string passed on.
        try execute(shop.engine, "UPDATE resources SET freeze_reason = 'BOGUS' WHERE id = '\(eip)'")
        let error = expectBillingError { try shop.resource(eip) }
        #expect(error?.reason == "stored_value_unreadable")
        #expect(error?.message.contains("freeze reason of resource \(eip)") == true)
    }

    @Test func usageSumsAreChecked() throws {
        let shop = try Shop(at: at(2023, 3, 10, 8))
        let eip = try shop.onDemand("bw.ondemand")
        try shop.engine.setClock(to: at(2023, 3, 10, 10))
        _ = try shop.usage([("u1", eip, 1, at(2023, 3, 10, 8, 30), at(2023, 3, 10, 8, 40))])
        // A line whose stored overage is at the top of the range: adding to it is an error.
        try execute(shop.engine, "UPDATE usage_lines SET overage = \(Int64.max - 10) WHERE resource_id = '\(eip)'")
        let error = expectBillingError { try shop.usage([("u2", eip, 1, at(2023, 3, 10, 8, 41), at(2023, 3, 10, 8, 50))]) }
        #expect(error?.reason == "amount_out_of_range")
    }

    @Test func refundSumsAreChecked() throws {
        let shop = try Shop()
        let ecs = try shop.own("ecs.s6")
        // Forged funding: the ECS and its disk each within range, their sum per source not.
        try execute(shop.engine, "UPDATE resource_funding SET amount = \(Int64.max / 2 + 1) WHERE source = 'CASH'")
        let error = expectBillingError { try shop.quote([ecs]) }
        #expect(error?.reason == "amount_out_of_range")
    }
}
