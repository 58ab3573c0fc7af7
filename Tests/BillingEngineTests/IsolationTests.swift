import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

@Suite("Isolation between accounts")
struct IsolationTests {
    /// Every account-scoped call, given another account's ids, answers "not found" and changes
    /// nothing.
    @Test func anotherAccountsIdsAreNotFound() throws {
        let shop = try Shop()
        try putAccount(shop.engine, "eve")
        _ = try shop.engine.topUp(#"{"actor":"p","account_id":"eve","amount_fen":100000,"external_reference":"e"}"#)
        let disk = try shop.own()
        let pending = text(try shop.create(Shop.oneEVS), "order", "order_id")
        let pendingResource = try shop.resources(text(try shop.create(Shop.oneEVS, #","auto_pay":true"#), "order", "order_id"))[0]
        let coupon = try shop.voucher(500)
        let eveCoupon = text(try object(shop.engine.issueCoupon(#"{"actor":"o","account_id":"eve","kind":"VOUCHER","face_value_fen":100,"valid_from":0,"valid_to":\#(january1st2024 + 86_400)}"#)), "coupon", "coupon_id")
        let bandwidth = try shop.onDemand("bw.ondemand")
        let export = text(try shop.export(#""kind":"ORDERS""#), "export", "export_id")
        let manager = text(try shop.create(Shop.oneEVS, #","placed_by_manager":true"#), "order", "order_id")
        let before = try shop.engine.lock.withLock {
            try shop.engine.db.first("SELECT (SELECT count(*) FROM events), (SELECT total(cash_balance) FROM accounts), (SELECT count(*) FROM orders)") {
                [$0.int(0), $0.int(1), $0.int(2)]
            }
        }
        let e = shop.engine
        let calls: [(String, () throws -> String)] = [
            ("order_get", { try e.orderDetails(#"{"account_id":"eve","order_id":"\#(pending)"}"#) }),
            ("order_pay", { try e.payOrder(#"{"actor":"eve","account_id":"eve","order_id":"\#(pending)"}"#) }),
            ("pay_with_another_accounts_coupon", { try e.payOrder(#"{"actor":"acme","account_id":"acme","order_id":"\#(pending)","coupon_ids":["\#(eveCoupon)"]}"#) }),
            ("order_review", { try e.reviewOrder(#"{"actor":"eve","account_id":"eve","order_id":"\#(pending)","decision":"REJECT"}"#) }),
            ("order_confirm", { try e.confirmOrder(#"{"actor":"eve","account_id":"eve","order_id":"\#(manager)","decision":"DECLINE"}"#) }),
            ("resource_get", { try e.getResource(#"{"account_id":"eve","resource_id":"\#(disk)"}"#) }),
            ("resource_report", { try e.reportProvisioning(#"{"actor":"eve","account_id":"eve","results":[{"resource_id":"\#(pendingResource)","outcome":"FAILED"}]}"#) }),
            ("renew", { try e.renewResources(#"{"actor":"eve","account_id":"eve","resource_ids":["\#(disk)"]}"#) }),
            ("policy", { try e.setExpiryPolicy(#"{"actor":"eve","account_id":"eve","resource_ids":["\#(disk)"],"policy":"NO_RENEW"}"#) }),
            ("release", { try e.releaseResources(#"{"actor":"eve","account_id":"eve","resource_ids":["\#(disk)"]}"#) }),
            ("renewal_quote", { try e.quoteRenewal(#"{"account_id":"eve","resource_ids":["\#(disk)"]}"#) }),
            ("delete", { try e.deleteResources(#"{"actor":"eve","account_id":"eve","resource_ids":["\#(bandwidth)"]}"#) }),
            ("refund_quote", { try e.quoteRefund(#"{"account_id":"eve","resource_ids":["\#(disk)"]}"#) }),
            ("unsubscribe", { try e.unsubscribe(#"{"actor":"eve","account_id":"eve","resource_ids":["\#(disk)"]}"#) }),
            ("refund_blocks", { try e.setRefundBlocks(#"{"actor":"eve","account_id":"eve","resource_id":"\#(disk)","blocks":[]}"#) }),
            ("usage", { try e.reportUsage(#"{"actor":"eve","account_id":"eve","records":[{"usage_id":"x","resource_id":"\#(bandwidth)","quantity":1,"start":\#(january1st2024),"end":\#(january1st2024 + 60)}]}"#) }),
            ("export_step", { try e.stepExport(#"{"actor":"eve","account_id":"eve","export_id":"\#(export)"}"#) }),
            ("export_download", { try e.downloadExport(#"{"account_id":"eve","export_id":"\#(export)"}"#) }),
            ("pending_export", { try e.requestExport(#"{"actor":"eve","account_id":"eve","kind":"PENDING_ORDERS","order_ids":["\#(pending)"]}"#) }),
        ]
        for (name, call) in calls {
            let error = expectBillingError { try call() }
            #expect(error?.status == .notFound, "\(name): \(String(describing: error))")
        }
        // The coupon is invisible too, and batch cancel reports the order as not found.
        #expect(expectBillingError { try e.lock.withLock { try CouponStore.require(e.db, id: coupon, account: "eve") } }?.status == .notFound)
        let cancel = try object(e.cancelOrders(#"{"actor":"eve","account_id":"eve","order_ids":["\#(pending)"]}"#))
        let result = try firstObject(cancel["results"])
        #expect(result["reason"] == "order_not_found")
        let eveCoupons = try object(e.listCoupons(#"{"account_id":"eve"}"#))
        let own = try objects(eveCoupons["coupons"])
        let only = try #require(own.first)
        #expect(own.count == 1 && only["coupon_id"] == .string(eveCoupon))
        for (name, list) in [("orders", try e.listOrders(#"{"account_id":"eve"}"#)),
                             ("renewals", try e.listRenewals(#"{"account_id":"eve","tab":"MANUAL"}"#)),
                             ("usage", try e.listUsage(#"{"account_id":"eve"}"#)), ("exports", try e.listExports(#"{"account_id":"eve"}"#)),
                             ("packages", try e.listPackages(#"{"account_id":"eve"}"#)),
                             ("orders_counts", try e.listOrders(#"{"account_id":"eve","with_counts":true}"#)),
                             ("renewals_search", try e.listRenewals(#"{"account_id":"eve","tab":"ALL","resource_ids":["\#(disk)"],"with_counts":true}"#)),
                             ("unsubscriptions", try e.listUnsubscriptions(#"{"account_id":"eve","resource_ids":["\#(disk)"],"with_counts":true}"#)),
                             ("unsubscriptions_all", try e.listUnsubscriptions(#"{"account_id":"eve","with_counts":true}"#))] {
            let document = try object(list)
            // Every list answers its rows in one array member; a page without one has changed shape.
            let rows = document.values.compactMap { $0.arrayValue?.count }
            try #require(!rows.isEmpty, "\(name) has no list of rows: \(document.keys.sorted())")
            #expect(rows.allSatisfy { $0 == 0 }, "\(name) shows another account's rows")
            if ["orders_counts", "renewals_search", "unsubscriptions", "unsubscriptions_all"].contains(name) {
                let counts = try #require(document["counts"]?.objectValue, "\(name) asked for counts")
                #expect(counts["ALL"] == .integer(0), "\(name) counts another account's rows")
            }
        }
        let after = try e.lock.withLock {
            try e.db.first("SELECT (SELECT count(*) FROM events), (SELECT total(cash_balance) FROM accounts), (SELECT count(*) FROM orders)") {
                [$0.int(0), $0.int(1), $0.int(2)]
            }
        }
        #expect(after == before)
        try expectNoBreaches(e)
    }
}
