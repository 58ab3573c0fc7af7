import Testing
@testable import BillingEngine

@Suite("Verify: invariants and the audit chain")
struct VerifyTests {
    func breaches(_ engine: Engine) throws -> [[String: JSONValue]] {
        guard case .array(let list)? = try object(engine.verify(nil))["breaches"] else { return [] }
        return list.compactMap { if case .object(let fields) = $0 { return fields } else { return nil } }
    }

    func tamper(_ engine: Engine, _ sql: String) throws {
        try engine.tamper(sql)
    }

    @Test func cleanBooksVerify() throws {
        let shop = try Shop()
        _ = try shop.own("ecs.s6")
        #expect(try breaches(shop.engine).isEmpty)
    }

    @Test func theAuditChainNamesTheFirstBrokenLink() throws {
        let shop = try Shop()
        _ = try shop.own()
        let rows = try shop.engine.lock.withLock { try shop.engine.db.all("SELECT id FROM audit_log ORDER BY id") { $0.int(0) } }
        #expect(rows.count > 5)
        try tamper(shop.engine, "UPDATE audit_log SET actor = 'mallory' WHERE id = \(rows[3])")
        let edited = try breaches(shop.engine).filter { $0["check"] == "audit_chain" }
        #expect(edited.first?["subject"] == .string(String(rows[3])))

        let other = try Shop()
        _ = try other.own()
        let ids = try other.engine.lock.withLock { try other.engine.db.all("SELECT id FROM audit_log ORDER BY id") { $0.int(0) } }
        try tamper(other.engine, "DELETE FROM audit_log WHERE id = \(ids[2])")
        #expect(try breaches(other.engine).first { $0["check"] == "audit_chain" }?["subject"] == .string(String(ids[3])))
    }

    @Test func breachesOfMoneyAndStateAreReported() throws {
        let shop = try Shop()
        let disk = try shop.own()
        try tamper(shop.engine, "UPDATE accounts SET cash_balance = cash_balance + 1 WHERE id = 'acme'")
        try tamper(shop.engine, "UPDATE resources SET expire_at = expire_at + 86400 WHERE id = '\(disk)'")
        try tamper(shop.engine, "UPDATE coupons SET balance = -1")
        try tamper(shop.engine, "UPDATE orders SET status = 'CANCELLED' WHERE type = 'NEW'")
        let checks = Set(try breaches(shop.engine).compactMap { if case .string(let check)? = $0["check"] { return check } else { return nil } })
        #expect(checks.isSuperset(of: ["cash_ledger", "expiry_from_periods", "order_state"]))
    }
}
