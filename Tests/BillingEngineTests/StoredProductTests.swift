import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

/// Stored products are read by the store's own decoder, not the request reader: a request check
/// tightened after a product was stored must never make that product unreadable.
@Suite("Stored products")
struct StoredProductTests {
    /// Writes a product document straight into the file, as an older library could have.
    func store(_ engine: Engine, id: String, _ document: String) throws {
        try engine.lock.withLock {
            try engine.db.transaction(write: true) {
                try engine.db.run("""
                    INSERT INTO products (id, product_type, kind, billing_mode, document, on_sale, updated_at)
                    VALUES (?, 'ECS', 'default', 'PREPAID', ?, 1, 7)
                    """, id, document)
            }
        }
    }

    func load(_ engine: Engine, _ id: String) throws -> Product? {
        try engine.lock.withLock { try engine.db.transaction(write: false) { try ProductStore.load(engine.db, id) } }
    }

    @Test func aStoredProductARequestWouldNowRefuseStillLoads() throws {
        let engine = try manualEngine()
        let name = String(repeating: "n", count: 300)
        // A name longer than requests take, a promotion beyond 99.99 %, a yearly period with no
        // yearly price, and a field this library does not know: each refused in a request today.
        try store(engine, id: "old.1", """
            {"product_id": "old.1", "product_type": "ECS", "billing_mode": "PREPAID", "name": "\(name)",
             "monthly_price_fen": 1000, "promotion_discount_bp": 20000,
             "allowed_periods": [{"unit": "MONTH", "count": 1}, {"unit": "YEAR", "count": 1}], "retired_field": true}
            """)
        #expect(expectBillingError { try engine.putProduct(#"{"actor":"c","product":{"product_id":"new.1","product_type":"ECS","billing_mode":"PREPAID","monthly_price_fen":1000,"name":"\#(name)"}}"#) }?.status == .invalidArgument)
        let product = try #require(try load(engine, "old.1"))
        #expect(product.name == name)
        #expect(product.promotionDiscountBP == 20000)
        #expect(product.allowedPeriods == [try Period(1, .month), try Period(1, .year)])
        #expect(product.updatedAt == 7)
        // Defaults of fields the document predates, as a request gets them.
        #expect(product.kind == "default" && product.refundable && !product.trial && product.boundProducts.isEmpty)
        let shown = try object(try engine.getProduct(#"{"product_id":"old.1"}"#))
        #expect(text(shown, "product", "name") == name)
    }

    @Test func aDocumentWithoutPeriodsTakesTheDefaultPeriods() throws {
        let engine = try manualEngine()
        try store(engine, id: "old.2", #"{"product_id": "old.2", "product_type": "ECS", "billing_mode": "PREPAID", "monthly_price_fen": 500}"#)
        let product = try #require(try load(engine, "old.2"))
        #expect(product.allowedPeriods == product.defaultPeriods)
        #expect(product.allowedPeriods.count == 9)
    }

    @Test func aFieldOfTheWrongTypeIsAStorageErrorNamingTheProduct() throws {
        let engine = try manualEngine()
        try store(engine, id: "bad.1", #"{"product_id": "bad.1", "product_type": "ECS", "billing_mode": "PREPAID", "monthly_price_fen": "1000"}"#)
        let error = expectBillingError { try load(engine, "bad.1") as Any }
        #expect(error?.status == .storage)
        #expect(error?.reason == "stored_value_unreadable")
        #expect(error?.message.contains("bad.1") == true)
        try store(engine, id: "bad.2", #"{"product_id": "bad.2", "product_type": "ECS", "billing_mode": "LEASED"}"#)
        #expect(expectBillingError { try load(engine, "bad.2") as Any }?.reason == "stored_value_unreadable")
    }

    @Test func whatARequestStoresReadsBackTheSame() throws {
        let engine = try manualEngine()
        let requests = [
            #"{"product_id":"p.pkg","product_type":"PKG","kind":"storage","billing_mode":"PACKAGE","name":"Pack","region":"r1","specs":{"size":40,"tier":["a"]},"monthly_price_fen":900,"yearly_price_fen":9000,"package":{"kind":"CAPACITY","quota":100,"applies_to":["OBS","obs.std"],"resettable":true,"reset_anchor":"PURCHASE_DAY"},"promotion_discount_bp":500,"refundable":false,"per_resource_refund":false,"five_day_eligible":false,"auto_renew_supported":false,"to_on_demand_supported":false,"on_sale":false,"review_required":true,"trial":true,"promotion_forbids_refund":true,"bound_products":["evs.1"],"allowed_periods":[{"unit":"YEAR","count":2}]}"#,
            #"{"product_id":"p.od","product_type":"OBS","billing_mode":"ON_DEMAND","unit_price_microfen":7,"hourly_price_microfen":3}"#,
            #"{"product_id":"p.once","product_type":"SSL","billing_mode":"ONE_OFF","one_off_price_fen":100}"#,
        ]
        for request in requests {
            let reader = try ObjectReader(text: request, path: "request.product")
            let expected = try Product(reader, updatedAt: january1st2024)
            _ = try engine.putProduct(#"{"actor":"c","product":\#(request)}"#)
            #expect(try load(engine, expected.id) == expected)
        }
    }

    /// A coupon scope is read by `CouponStore`'s own decoder too: the request's limits do not
    /// apply to a stored scope, but a restriction this library cannot read is never dropped
    /// (that would widen the coupon).
    @Test func storedCouponScopesAreReadByTypeAndKeepEveryRestriction() throws {
        let engine = try manualEngine()
        try putAccount(engine, "a1")
        let issued = try object(engine.issueCoupon(#"{"actor":"ops","account_id":"a1","kind":"VOUCHER","face_value_fen":100,"valid_from":\#(january1st2024),"valid_to":\#(january1st2024 + 86_400),"scope":{"order_types":["NEW"]}}"#))
        let id = text(issued, "coupon", "coupon_id")
        func rewrite(_ scope: String) throws -> BillingError? {
            // Behind the library's back (its own writes must append an audit row).
            try engine.tamper("UPDATE coupons SET scope = '\(scope)' WHERE id = '\(id)'") // the scopes here hold no quote
            return expectBillingError {
                try engine.lock.withLock { try engine.db.transaction(write: false) { try CouponStore.require(engine.db, id: id, account: "a1") } }
            }
        }
        // An order type a request would refuse today (not in `CouponScope.orderTypeValues`) still loads.
        #expect(try rewrite(#"{"products":[],"excluded_products":[],"order_types":["RETIRED_TYPE"],"billing_modes":[],"regions":[]}"#) == nil)
        let coupon = try engine.lock.withLock { try engine.db.transaction(write: false) { try CouponStore.require(engine.db, id: id, account: "a1") } }
        #expect(coupon.scope.orderTypes == ["RETIRED_TYPE"])
        #expect(try rewrite(#"{"order_types":["NEW"],"customer_levels":["V5"]}"#)?.reason == "stored_value_unreadable")
        #expect(try rewrite(#"{"order_types":"NEW"}"#)?.reason == "stored_value_unreadable")
        #expect(try rewrite("[]")?.reason == "stored_value_unreadable")
    }
}
