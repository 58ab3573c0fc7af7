import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

@Suite("Orders: the transitions T1–T15, combined orders, payment")
struct OrderTests {
    @Test func t1CreatesAPendingOrderWithAWeekToPay() throws {
        let shop = try Shop()
        let created = try shop.create(Shop.oneECS)
        #expect(text(created, "order", "status") == "PENDING_PAYMENT")
        #expect(integer(created, "order", "status_code") == 6)
        #expect(integer(created, "order", "pay_deadline") == january1st2024 + 7 * 86_400)
        // The ECS brings its bound system disk: 100.00 + 10.00.
        #expect(integer(created, "order", "amounts", "list_price_fen") == 11_000)
        let lines = try #require(field(created, "order", "lines")?.arrayValue)
        #expect(lines.count == 2)
        #expect(field(created, "order", "resources") == .array([]))
        #expect(amountsHold(field(created, "order", "amounts"), paid: false))
        // Hardware pays within an hour.
        let box = try shop.create(#"[{"product_id":"box.1"}]"#)
        #expect(integer(box, "order", "pay_deadline") == january1st2024 + 3600)
        try expectNoBreaches(shop.engine)
    }

    @Test func t2T6T7ReviewBeforePayment() throws {
        let shop = try Shop()
        let vpc = #"[{"product_id":"vpc.std","period":{"unit":"MONTH","count":1}}]"#
        let first = text(try shop.create(vpc), "order", "order_id")
        #expect(try shop.status(first) == "PENDING_REVIEW")
        #expect(field(try shop.order(first), "order", "pay_deadline") == .null)
        #expect(expectBillingError { try shop.pay(first) }?.reason == "order_not_payable")
        try shop.engine.advanceClock(by: 86_400)
        _ = try shop.engine.reviewOrder(#"{"actor":"reviewer","account_id":"acme","order_id":"\#(first)","decision":"APPROVE"}"#)
        #expect(try shop.status(first) == "PENDING_PAYMENT")
        #expect(integer(try shop.order(first), "order", "pay_deadline") == january1st2024 + 8 * 86_400)
        let second = text(try shop.create(vpc), "order", "order_id")
        _ = try shop.engine.reviewOrder(#"{"actor":"reviewer","account_id":"acme","order_id":"\#(second)","decision":"REJECT","comment":"no quota"}"#)
        #expect(try shop.status(second) == "CANCELLED")
        #expect(text(try shop.order(second), "order", "cancel_reason") == "REVIEW_REJECTED")
        #expect(expectBillingError { try shop.create(vpc, #","auto_pay":true"#) }?.reason == "review_required")
        #expect(expectBillingError {
            try shop.engine.reviewOrder(#"{"actor":"reviewer","account_id":"acme","order_id":"\#(first)","decision":"APPROVE"}"#)
        }?.reason == "illegal_transition")
        try expectNoBreaches(shop.engine)
    }

    @Test func t3T8T9OrdersPlacedByTheAccountManager() throws {
        let shop = try Shop()
        let options = #","placed_by_manager":true,"contract":"GOV-2024-17""#
        let first = text(try shop.create(Shop.oneEVS, options), "order", "order_id")
        #expect(try shop.status(first) == "PENDING_CONFIRMATION")
        #expect(text(try shop.order(first), "order", "contract") == "GOV-2024-17")
        _ = try shop.engine.confirmOrder(#"{"actor":"customer","account_id":"acme","order_id":"\#(first)","decision":"CONFIRM"}"#)
        #expect(try shop.status(first) == "PENDING_PAYMENT")
        let second = text(try shop.create(Shop.oneEVS, options), "order", "order_id")
        _ = try shop.engine.confirmOrder(#"{"actor":"customer","account_id":"acme","order_id":"\#(second)","decision":"DECLINE"}"#)
        #expect(text(try shop.order(second), "order", "cancel_reason") == "DECLINED")
        // An unanswered one lapses: confirming late is refused, and the scheduler cancels it.
        let late = text(try shop.create(Shop.oneEVS, options), "order", "order_id")
        let third = text(try shop.create(Shop.oneEVS, options), "order", "order_id")
        try shop.engine.advanceClock(by: 7 * 86_400)
        #expect(expectBillingError { try shop.engine.confirmOrder(#"{"actor":"customer","account_id":"acme","order_id":"\#(late)","decision":"CONFIRM"}"#) }?.reason == "confirmation_expired")
        _ = try shop.engine.runScheduler(#"{"actor":"cron"}"#)
        #expect(text(try shop.order(third), "order", "cancel_reason") == "CONFIRMATION_EXPIRED")
        #expect(text(try shop.order(late), "order", "cancel_reason") == "CONFIRMATION_EXPIRED")
        #expect(expectBillingError { try shop.create(Shop.oneEVS, options + #","auto_pay":true"#) }?.status == .invalidArgument)
        try expectNoBreaches(shop.engine)
    }

    @Test func t4T5AutoPay() throws {
        let shop = try Shop(cash: 15_000)
        let paid = try shop.create(Shop.oneEVS, #","auto_pay":true"#)
        #expect(text(paid, "order", "status") == "PROCESSING")
        #expect(field(paid, "payment", "succeeded") == true)
        #expect(try shop.cash() == 5000)
        let failed = try shop.create(Shop.oneEVS, #","auto_pay":true"#)
        #expect(text(failed, "order", "status") == "PENDING_PAYMENT")
        #expect(field(failed, "payment", "succeeded") == false)
        #expect(text(failed, "payment", "reason") == "insufficient_funds")
        #expect(try shop.cash() == 5000)
        try expectNoBreaches(shop.engine)
    }

    @Test func t10T14PayProvisionComplete() throws {
        let shop = try Shop()
        let id = text(try shop.create(Shop.oneECS), "order", "order_id")
        try shop.engine.advanceClock(by: 60)
        let paid = try shop.pay(id)
        #expect(text(paid, "order", "status") == "PROCESSING")
        #expect(integer(paid, "order", "paid_at") == january1st2024 + 60)
        #expect(try shop.cash() == 1_000_000 - 11_000)
        let resources = try shop.resources(id)
        #expect(resources.count == 2)
        let disk = try object(shop.engine.getResource(#"{"account_id":"acme","resource_id":"\#(resources[1])"}"#))
        #expect(text(disk, "resource", "primary_resource_id") == resources[0])
        #expect(text(disk, "resource", "relation") == "BOUND")
        #expect(text(disk, "resource", "status") == "PENDING_PROVISION")
        _ = try shop.report([(resources[0], true)])
        #expect(try shop.status(id) == "PROCESSING")
        _ = try shop.report([(resources[1], true)])
        #expect(try shop.status(id) == "COMPLETED")
        // The first period runs from provisioning (10:31) to 23:59:59 a month later (§2.2).
        let ecs = try object(shop.engine.getResource(#"{"account_id":"acme","resource_id":"\#(resources[0])"}"#))
        #expect(integer(ecs, "resource", "expire_at") == BusinessCalendar.chinaStandard.endOfDay(CivilDate(year: 2024, month: 2, day: 1)))
        #expect(text(ecs, "resource", "expire_at_local") == "2024-02-01T23:59:59+08:00")
        #expect(text(ecs, "resource", "status") == "IN_USE")
        #expect(expectBillingError { try shop.report([(resources[0], true)]) }?.reason == "not_pending_provision")
        #expect(expectBillingError { try shop.pay(id) }?.reason == "order_already_paid")
        try expectNoBreaches(shop.engine)
    }

    @Test func t11T12CancelByCustomerAndByDeadline() throws {
        let shop = try Shop()
        let a = text(try shop.create(Shop.oneEVS), "order", "order_id")
        let b = text(try shop.create(Shop.oneEVS), "order", "order_id")
        let c = text(try shop.create(Shop.oneEVS), "order", "order_id")
        _ = try shop.pay(c)
        let result = try object(shop.engine.cancelOrders(#"{"actor":"buyer","account_id":"acme","order_ids":["\#(a)","\#(c)","CS999"],"reason":"changed my mind"}"#))
        let results = try objects(result["results"])
        try #require(results.count == 3)
        let (first, second, third) = (results[0], results[1], results[2])
        #expect(first["cancelled"] == true)
        #expect(second["cancelled"] == false && second["reason"] == "order_not_cancellable")
        #expect(third["cancelled"] == false && third["reason"] == "order_not_found")
        #expect(text(try shop.order(a), "order", "cancel_reason") == "CUSTOMER")
        #expect(expectBillingError { try shop.pay(a) }?.reason == "order_not_payable")
        // T12: the deadline passes; paying is refused, and the scheduler cancels.
        try shop.engine.advanceClock(by: 7 * 86_400)
        #expect(expectBillingError { try shop.pay(b) }?.reason == "order_payment_expired")
        let run = try object(shop.engine.runScheduler(#"{"actor":"cron"}"#))
        #expect(integer(run, "cancelled_orders") == 1)
        #expect(text(try shop.order(b), "order", "cancel_reason") == "PAYMENT_EXPIRED")
        // Running it again does nothing more.
        #expect(integer(try object(shop.engine.runScheduler(#"{"actor":"cron"}"#)), "cancelled_orders") == 0)
        let tooMany = (0..<31).map { "\"x\($0)\"" }.joined(separator: ",")
        #expect(expectBillingError { try shop.engine.cancelOrders(#"{"actor":"b","account_id":"acme","order_ids":[\#(tooMany)]}"#) }?.reason == "too_many_items")
        try expectNoBreaches(shop.engine)
    }

    @Test func t15FailedResourcesAreRefundedInFull() throws {
        let shop = try Shop()
        let voucher = try shop.voucher(3000)
        let id = text(try shop.create(#"[{"product_id":"evs.100","period":{"unit":"MONTH","count":1},"quantity":2}]"#), "order", "order_id")
        _ = try shop.pay(id, coupons: [voucher])
        // 200.00 due: 30.00 voucher, 170.00 cash, split evenly over the two disks.
        #expect(try shop.cash() == 1_000_000 - 17_000)
        let disks = try shop.resources(id)
        let report = try shop.report([(disks[0], true), (disks[1], false)])
        #expect(try shop.status(id) == "COMPLETED")
        let refund = try firstObject(report["refund_orders"])
        #expect(refund["type"] == "UNSUBSCRIBE")
        #expect(refund["status"] == "COMPLETED")
        #expect(field(refund, "amounts", "cash_fen") == .integer(8500))
        #expect(field(refund, "amounts", "voucher_fen") == .integer(1500))
        #expect(try shop.cash() == 1_000_000 - 8500)
        let coupons = try object(shop.engine.listCoupons(#"{"account_id":"acme"}"#))
        let coupon = try firstObject(coupons["coupons"])
        #expect(coupon["balance_fen"] == .integer(1500))
        let failed = try object(shop.engine.getResource(#"{"account_id":"acme","resource_id":"\#(disks[1])"}"#))
        #expect(text(failed, "resource", "status") == "PROVISION_FAILED")
        // Each paid share is refunded once: the constraint holds.
        let refunded = try shop.engine.lock.withLock { try shop.engine.db.first("SELECT count(*), sum(amount) FROM resource_refunds") { ($0.int(0), $0.int(1)) } }
        #expect(refunded?.0 == 2 && refunded?.1 == 10_000)
        try expectNoBreaches(shop.engine)
    }

    /// Each failed resource gets back exactly its price, even when the sources split unevenly.
    @Test func t15RefundIsTheResourcesPriceWhateverTheSplit() throws {
        for failing in 0..<3 {
            let shop = try Shop()
            _ = try shop.engine.putProduct(#"{"actor":"c","product":{"product_id":"evs.30","product_type":"EVS","billing_mode":"PREPAID","monthly_price_fen":3000}}"#)
            let voucher = try shop.voucher(1001)
            let id = text(try shop.create(#"[{"product_id":"evs.30","period":{"unit":"MONTH","count":1},"quantity":3}]"#), "order", "order_id")
            _ = try shop.pay(id, coupons: [voucher])
            let disks = try shop.resources(id)
            let report = try shop.report(disks.enumerated().map { ($0.element, $0.offset != failing) })
            let refund = try firstObject(report["refund_orders"])
            #expect(field(refund, "amounts", "list_price_fen") == .integer(3000), "resource \(failing)")
            try expectNoBreaches(shop.engine)
        }
    }

    @Test func combinedOrdersArePaidAndCancelledWhole() throws {
        let shop = try Shop()
        let items = #"[{"product_id":"ecs.s6","period":{"unit":"MONTH","count":1}},{"product_id":"evs.100","period":{"unit":"YEAR","count":1}}]"#
        let created = try shop.create(items)
        let combined = text(created, "order", "order_id")
        #expect(field(created, "order", "is_combined") == true)
        let subs = try objects(field(created, "order", "sub_orders"))
        try #require(subs.count == 2)
        let subID = try #require(subs[0]["order_id"]?.stringValue)
        #expect(integer(created, "order", "amounts", "amount_due_fen") == 11_000 + 100_000)
        let error = expectBillingError { try shop.pay(subID) }
        #expect(error?.reason == "use_combined_order")
        #expect(error?.message.contains(combined) == true)
        let cancel = try object(shop.engine.cancelOrders(#"{"actor":"b","account_id":"acme","order_ids":["\#(subID)"]}"#))
        #expect(field(cancel, "results") == .array([["order_id": .string(subID), "cancelled": false, "reason": "use_combined_order",
                                                     "message": .string(error?.message ?? "")]]))
        _ = try shop.pay(combined)
        #expect(try shop.status(combined) == "PROCESSING")
        for sub in subs { #expect(try shop.status(text(sub, "order_id")) == "PROCESSING") }
        // The list shows the sub-orders, each naming the combined order.
        let list = try object(shop.engine.listOrders(#"{"account_id":"acme","order_id":"\#(combined)"}"#))
        let rows = try objects(list["orders"])
        #expect(rows.count == 2)
        for row in rows { #expect(row["combined_order_id"] == .string(combined)) }
        // Completion of the combined order follows its sub-orders.
        let resources = try shop.resources(combined)
        _ = try shop.report(resources.map { ($0, true) })
        #expect(try shop.status(combined) == "COMPLETED")
        // Cancelling a pending combined order cancels every sub-order.
        let other = text(try shop.create(items), "order", "order_id")
        _ = try shop.engine.cancelOrders(#"{"actor":"b","account_id":"acme","order_ids":["\#(other)"]}"#)
        let otherSubs = try objects(field(try shop.order(other), "order", "sub_orders"))
        try #require(otherSubs.count == 2)
        for sub in otherSubs { #expect(sub["status"] == "CANCELLED") }
        try expectNoBreaches(shop.engine)
    }

    @Test func payPerUseAndPackages() throws {
        let shop = try Shop()
        let ondemand = try shop.create(#"[{"product_id":"bw.ondemand"}]"#)
        #expect(text(ondemand, "order", "status") == "PROCESSING")
        #expect(integer(ondemand, "order", "amounts", "amount_due_fen") == 0)
        #expect(expectBillingError { try shop.create(#"[{"product_id":"bw.ondemand"},{"product_id":"evs.100","period":{"unit":"MONTH","count":1}}]"#) }?.reason == "mixed_billing_modes")
        let package = text(try shop.create(#"[{"product_id":"obs.100g","period":{"unit":"MONTH","count":2},"effective_at":\#(january1st2024 + 86_400)}]"#), "order", "order_id")
        _ = try shop.pay(package)
        // Packages provision nothing: the order completes at payment.
        #expect(try shop.status(package) == "COMPLETED")
        let resource = try object(shop.engine.getResource(#"{"account_id":"acme","resource_id":"\#(try shop.resources(package)[0])"}"#))
        #expect(text(resource, "resource", "status") == "PENDING_EFFECTIVE")
        #expect(integer(resource, "resource", "expire_at") == BusinessCalendar.chinaStandard.endOfDay(CivilDate(year: 2024, month: 3, day: 2)))
        try expectNoBreaches(shop.engine)
    }

    @Test func quotesMatchOrdersAndPricesAreKept() throws {
        let shop = try Shop()
        _ = try shop.engine.setCommercialDiscount(#"{"actor":"sales","account_id":"acme","product_type":"ECS","rate_bp":1500}"#)
        let quote = try object(shop.engine.quote(#"{"account_id":"acme","items":\#(Shop.oneECS)}"#))
        #expect(integer(quote, "amounts", "commercial_discount_fen") == 1500)
        #expect(integer(quote, "amounts", "amount_due_fen") == 9500)
        let order = try shop.create(Shop.oneECS, #","expected_amount_due_fen":9500"#)
        #expect(field(order, "order", "amounts") == field(quote, "amounts"))
        // The catalog changes; the order keeps its price; a stale quote is refused.
        _ = try shop.engine.putProduct(#"{"actor":"catalog","product":{"product_id":"ecs.s6","product_type":"ECS","billing_mode":"PREPAID","monthly_price_fen":20000,"yearly_price_fen":200000,"bound_products":["evs.sys40"]}}"#)
        #expect(integer(try shop.order(text(order, "order", "order_id")), "order", "amounts", "list_price_fen") == 11_000)
        #expect(expectBillingError { try shop.create(Shop.oneECS, #","expected_amount_due_fen":9500"#) }?.reason == "price_changed")
        // A promotion better than the commercial discount wins; they never stack.
        _ = try shop.engine.putProduct(#"{"actor":"catalog","product":{"product_id":"evs.100","product_type":"EVS","billing_mode":"PREPAID","monthly_price_fen":10000,"promotion_discount_bp":2000}}"#)
        _ = try shop.engine.setCommercialDiscount(#"{"actor":"sales","account_id":"acme","product_type":"*","rate_bp":1000}"#)
        let evs = try object(shop.engine.quote(#"{"account_id":"acme","items":\#(Shop.oneEVS)}"#))
        #expect(integer(evs, "amounts", "promotion_discount_fen") == 2000)
        #expect(integer(evs, "amounts", "commercial_discount_fen") == 0)
        // If the promotion ends before payment, the order must be made again (CBC.99003108).
        let promoted = text(try shop.create(Shop.oneEVS), "order", "order_id")
        _ = try shop.engine.putProduct(#"{"actor":"catalog","product":{"product_id":"evs.100","product_type":"EVS","billing_mode":"PREPAID","monthly_price_fen":10000}}"#)
        #expect(expectBillingError { try shop.pay(promoted) }?.reason == "discount_no_longer_valid")
        try expectNoBreaches(shop.engine)
    }

    @Test func catalogAndItemsAreChecked() throws {
        let shop = try Shop()
        for (items, reason) in [
            (#"[{"product_id":"ecs.s6","period":{"unit":"MONTH","count":10}}]"#, "period_not_allowed"),
            (#"[{"product_id":"ecs.s6"}]"#, "missing_field"),
            (#"[{"product_id":"nope","period":{"unit":"MONTH","count":1}}]"#, "product_not_found"),
            (#"[{"product_id":"ecs.s6","period":{"unit":"WEEK","count":1}}]"#, "unknown_value"),
            (#"[{"product_id":"ecs.s6","period":{"unit":"MONTH","count":1},"quantity":0}]"#, "out_of_range"),
            (#"[{"product_id":"bw.ondemand","period":{"unit":"MONTH","count":1}}]"#, "invalid_field"),
            (#"[{"product_id":"evs.100","period":{"unit":"MONTH","count":1},"effective_at":\#(january1st2024)}]"#, "invalid_field"),
            (#"[]"#, "missing_field"),
        ] {
            #expect(expectBillingError { try shop.create(items) }?.reason == reason, "\(items)")
        }
        _ = try shop.engine.putProduct(#"{"actor":"c","product":{"product_id":"old","product_type":"ECS","billing_mode":"PREPAID","monthly_price_fen":1,"on_sale":false}}"#)
        #expect(expectBillingError { try shop.create(#"[{"product_id":"old","period":{"unit":"MONTH","count":1}}]"#) }?.reason == "product_off_sale")
        for (product, reason) in [
            (#"{"product_id":"p","product_type":"ECS","billing_mode":"PREPAID","monthly_price_fen":1,"allowed_periods":[{"unit":"YEAR","count":1}]}"#, "missing_price"),
            (#"{"product_id":"p","product_type":"ECS","billing_mode":"PREPAID"}"#, "missing_field"),
            (#"{"product_id":"p","product_type":"ECS","billing_mode":"ON_DEMAND"}"#, "missing_price"),
            (#"{"product_id":"p","product_type":"ECS","billing_mode":"RENTAL"}"#, "unknown_value"),
            (#"{"product_id":"p","product_type":"ECS","billing_mode":"PREPAID","monthly_price_fen":-1,"allowed_periods":[{"unit":"MONTH","count":1}]}"#, "negative_amount"),
        ] {
            #expect(expectBillingError { try shop.engine.putProduct(#"{"actor":"c","product":\#(product)}"#) }?.reason == reason, "\(product)")
        }
        try expectNoBreaches(shop.engine)
    }

    @Test func anotherAccountsOrdersAreNotFound() throws {
        let shop = try Shop()
        try putAccount(shop.engine, "other")
        let id = text(try shop.create(Shop.oneEVS), "order", "order_id")
        #expect(expectBillingError { try shop.engine.orderDetails(#"{"account_id":"other","order_id":"\#(id)"}"#) }?.status == .notFound)
        #expect(expectBillingError { try shop.engine.payOrder(#"{"actor":"x","account_id":"other","order_id":"\#(id)"}"#) }?.status == .notFound)
        let cancel = try object(shop.engine.cancelOrders(#"{"actor":"x","account_id":"other","order_ids":["\#(id)"]}"#))
        let result = try firstObject(cancel["results"])
        #expect(result["reason"] == "order_not_found")
        #expect(try shop.status(id) == "PENDING_PAYMENT")
        let list = try object(shop.engine.listOrders(#"{"account_id":"other"}"#))
        #expect(list["orders"] == .array([]))
        try expectNoBreaches(shop.engine)
    }
}
