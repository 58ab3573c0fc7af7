import Testing
@testable import BillingEngine

@Suite("Order list: filters, paging, query plans")
struct OrderListTests {
    @Test func pagesNewestFirstWithFilters() throws {
        let shop = try Shop()
        var ids: [String] = []
        for index in 0..<45 {
            let items = index % 3 == 0 ? Shop.oneECS : Shop.oneEVS
            ids.append(text(try shop.create(items), "order", "order_id"))
            if index % 2 == 0 { try shop.engine.advanceClock(by: 60) } // several orders share a second
        }
        var seen: [String] = []
        var cursor: String? = nil
        repeat {
            let after = cursor.map { #","after":"\#($0)""# } ?? ""
            let page = try object(shop.engine.listOrders(#"{"account_id":"acme","limit":10\#(after)}"#))
            guard case .array(let rows)? = page["orders"] else { break }
            for case .object(let row) in rows { if case .string(let id)? = row["order_id"] { seen.append(id) } }
            cursor = page["has_more"] == true ? text(page, "next_cursor") : nil
        } while cursor != nil
        #expect(seen == ids.reversed())
        let ecs = try object(shop.engine.listOrders(#"{"account_id":"acme","product_type":"ECS","limit":100}"#))
        guard case .array(let ecsRows)? = ecs["orders"] else { return }
        #expect(ecsRows.count == 15)
        _ = try shop.pay(ids[0])
        let processing = try object(shop.engine.listOrders(#"{"account_id":"acme","status":"PROCESSING"}"#))
        #expect(processing["orders"].map { if case .array(let rows) = $0 { return rows.count } else { return -1 } } == 1)
        let window = try object(shop.engine.listOrders(#"{"account_id":"acme","created_from":\#(january1st2024),"created_to":\#(january1st2024 + 60),"limit":100}"#))
        guard case .array(let early)? = window["orders"] else { return }
        #expect(early.count == 3) // one at the start, two a minute later
        #expect(expectBillingError { try shop.engine.listOrders(#"{"account_id":"acme","created_from":0,"created_to":\#(400 * 86_400)}"#) }?.reason == "invalid_window")
        #expect(expectBillingError { try shop.engine.listOrders(#"{"account_id":"acme","after":"bogus"}"#) }?.reason == "invalid_cursor")
        #expect(expectBillingError { try shop.engine.listOrders(#"{"account_id":"acme","status":"LOST"}"#) }?.reason == "unknown_value")
    }

    /// Every list filter and the scheduler's due query read an index, never the whole table.
    @Test func everyHotQueryUsesAnIndex() throws {
        let engine = try manualEngine()
        let queries = [
            "SELECT id, created_at, seq FROM orders WHERE account_id = 'a' AND is_combined = 0 AND (created_at, seq) < (1, 2) ORDER BY created_at DESC, seq DESC LIMIT 21",
            "SELECT id, created_at, seq FROM orders WHERE account_id = 'a' AND is_combined = 0 AND status = 'COMPLETED' ORDER BY created_at DESC, seq DESC LIMIT 21",
            "SELECT id, created_at, seq FROM orders WHERE account_id = 'a' AND is_combined = 0 AND type = 'NEW' ORDER BY created_at DESC, seq DESC LIMIT 21",
            "SELECT id, created_at, seq FROM orders WHERE account_id = 'a' AND is_combined = 0 AND product_type = 'ECS' ORDER BY created_at DESC, seq DESC LIMIT 21",
            "SELECT id, created_at, seq FROM orders WHERE account_id = 'a' AND is_combined = 0 AND billing_mode = 'PREPAID' ORDER BY created_at DESC, seq DESC LIMIT 21",
            "SELECT id, created_at, seq FROM orders WHERE account_id = 'a' AND is_combined = 0 AND created_at >= 5 AND created_at <= 9 ORDER BY created_at DESC, seq DESC LIMIT 21",
            "SELECT id, account_id FROM orders WHERE combined_id IS NULL AND status IN ('PENDING_PAYMENT', 'PENDING_CONFIRMATION') AND pay_deadline <= 5 ORDER BY pay_deadline LIMIT 10",
            "SELECT seq, type FROM events WHERE seq > 5 ORDER BY seq LIMIT 10",
            "SELECT id FROM ledger WHERE account_id = 'a' AND id > 5 ORDER BY id LIMIT 10",
            "SELECT id FROM coupons WHERE account_id = 'a' AND seq > 5 ORDER BY seq LIMIT 10",
            // Several statuses and product types, and the status tabs' counts (issue 12 items 14, 15).
            "SELECT id, created_at, seq FROM orders WHERE account_id = 'a' AND is_combined = 0 AND status IN ('COMPLETED', 'CANCELLED') ORDER BY created_at DESC, seq DESC LIMIT 21",
            "SELECT status, count(*) FROM orders WHERE account_id = 'a' AND is_combined = 0 AND product_type IN ('ECS', 'EVS') GROUP BY status",
            "SELECT status, count(*) FROM orders WHERE account_id = 'a' AND is_combined = 0 GROUP BY status",
            // The renewal view's ALL tab, an instance search and the tabs' counts.
            "SELECT id, expire_at, seq FROM resources WHERE account_id = 'a' AND billing_mode = 'PREPAID' AND primary_id IS NULL AND status IN ('IN_USE', 'EXPIRED', 'FROZEN') AND (expire_at, seq) > (1, 2) ORDER BY expire_at, seq LIMIT 21",
            "SELECT id, expire_at, seq FROM resources WHERE account_id = 'a' AND billing_mode = 'PREPAID' AND primary_id IS NULL AND status IN ('IN_USE', 'EXPIRED', 'FROZEN') AND id IN ('x', 'y') ORDER BY expire_at, seq LIMIT 21",
            "SELECT expiry_policy, count(*) FROM resources WHERE account_id = 'a' AND billing_mode = 'PREPAID' AND primary_id IS NULL AND status IN ('IN_USE', 'EXPIRED', 'FROZEN') GROUP BY expiry_policy",
            // The unsubscription page's live resources, and the package list's pages.
            "SELECT id, seq FROM resources WHERE account_id = 'a' AND status IN ('PENDING_EFFECTIVE', 'IN_USE', 'EXPIRED', 'FROZEN') AND (relation IS NULL OR relation != 'BOUND') AND seq < 9 ORDER BY seq DESC LIMIT 100",
            "SELECT id, seq FROM resources WHERE account_id = 'a' AND billing_mode = 'PACKAGE' AND seq > 5 ORDER BY seq LIMIT 101",
        ]
        for sql in queries {
            let plan = try engine.lock.withLock { try engine.db.all("EXPLAIN QUERY PLAN " + sql) { $0.text(3) } }
            let text = plan.joined(separator: " | ")
            #expect(!plan.contains { $0.hasPrefix("SCAN") && !$0.contains("INDEX") }, "\(sql)\n→ \(text)")
            #expect(!text.contains("TEMP B-TREE"), "\(sql)\n→ \(text)")
        }
    }
}
