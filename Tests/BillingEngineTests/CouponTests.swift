import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

@Suite("Coupons")
struct CouponTests {
    let from = january1st2024
    var to: Int64 { january1st2024 + 30 * 86_400 }

    @Test func issuesEveryKindWithScopes() throws {
        let engine = try manualEngine()
        try putAccount(engine, "a1")
        let voucher = try object(engine.issueCoupon(#"""
            {"actor":"ops","account_id":"a1","kind":"VOUCHER","face_value_fen":2000,"valid_from":\#(from),"valid_to":\#(to),
             "scope":{"products":["ECS"],"order_types":["NEW","RENEW"],"billing_modes":["PREPAID_MONTHLY","ON_DEMAND"]},
             "min_spend_fen":10000}
            """#))
        #expect(text(voucher, "coupon", "kind") == "VOUCHER")
        #expect(integer(voucher, "coupon", "balance_fen") == 2000)
        #expect(field(voucher, "coupon", "exclusive_with_discounts") == true)
        #expect(field(voucher, "coupon", "scope", "products") == ["ECS"])
        #expect(text(voucher, "coupon", "status") == "USABLE")
        let discount = try object(engine.issueCoupon(#"{"actor":"ops","account_id":"a1","kind":"DISCOUNT_COUPON","discount_bp":1500,"max_discount_fen":5000,"valid_from":\#(from),"valid_to":\#(to)}"#))
        #expect(integer(discount, "coupon", "discount_bp") == 1500)
        #expect(field(discount, "coupon", "exclusive_with_discounts") == false)
        _ = try engine.issueCoupon(#"{"actor":"ops","account_id":"a1","kind":"CASH_COUPON","face_value_fen":500,"valid_from":\#(from + 86_400),"valid_to":\#(to)}"#)
        _ = try engine.issueCoupon(#"{"actor":"ops","account_id":"a1","kind":"STORED_VALUE_CARD","face_value_fen":100000,"valid_from":\#(from - 100),"valid_to":\#(from + 60)}"#)

        let all = try object(engine.listCoupons(#"{"account_id":"a1"}"#))
        let coupons = try #require(all["coupons"]?.arrayValue)
        #expect(coupons.count == 4)
        let usable = try object(engine.listCoupons(#"{"account_id":"a1","status":"USABLE"}"#))
        let usableNow = try #require(usable["coupons"]?.arrayValue)
        #expect(usableNow.count == 3) // the cash coupon is not valid yet
        try engine.advanceClock(by: 86_400)
        let later = try object(engine.listCoupons(#"{"account_id":"a1","status":"USABLE","kind":"STORED_VALUE_CARD"}"#))
        #expect(later["coupons"] == .array([])) // the card expired
    }

    @Test func refusesBadCoupons() throws {
        let engine = try manualEngine()
        try putAccount(engine, "a1")
        let window = #""valid_from":\#(from),"valid_to":\#(to)"#
        let cases: [(String, String)] = [
            (#"{"actor":"o","account_id":"a1","kind":"GIFT","face_value_fen":1,\#(window)}"#, "unknown_value"),
            (#"{"actor":"o","account_id":"a1","face_value_fen":1,\#(window)}"#, "missing_field"),
            (#"{"actor":"o","account_id":"a1","kind":"VOUCHER",\#(window)}"#, "missing_field"),
            (#"{"actor":"o","account_id":"a1","kind":"VOUCHER","face_value_fen":-1,\#(window)}"#, "negative_amount"),
            (#"{"actor":"o","account_id":"a1","kind":"VOUCHER","face_value_fen":0.5,\#(window)}"#, "not_an_integer"),
            (#"{"actor":"o","account_id":"a1","kind":"VOUCHER","face_value_fen":100,"discount_bp":10,\#(window)}"#, "invalid_field"),
            (#"{"actor":"o","account_id":"a1","kind":"DISCOUNT_COUPON",\#(window)}"#, "missing_field"),
            (#"{"actor":"o","account_id":"a1","kind":"DISCOUNT_COUPON","discount_bp":10000,\#(window)}"#, "out_of_range"),
            (#"{"actor":"o","account_id":"a1","kind":"DISCOUNT_COUPON","discount_bp":100,"face_value_fen":5,\#(window)}"#, "invalid_field"),
            (#"{"actor":"o","account_id":"a1","kind":"VOUCHER","face_value_fen":100,"valid_from":\#(to),"valid_to":\#(from)}"#, "invalid_window"),
            (#"{"actor":"o","account_id":"a1","kind":"VOUCHER","face_value_fen":100,"valid_from":-1,"valid_to":\#(from)}"#, "out_of_range"),
            (#"{"actor":"o","account_id":"a1","kind":"VOUCHER","face_value_fen":100,\#(window),"scope":{"order_types":["REFUND"]}}"#, "unknown_value"),
            (#"{"actor":"o","account_id":"a1","kind":"VOUCHER","face_value_fen":100,\#(window),"scope":{"colour":["red"]}}"#, "unknown_field"),
            (#"{"actor":"o","account_id":"a1","kind":"VOUCHER","face_value_fen":100,\#(window),"scope":{"products":[1]}}"#, "wrong_type"),
        ]
        for (request, reason) in cases {
            #expect(expectBillingError { try engine.issueCoupon(request) }?.reason == reason, "\(request)")
        }
        #expect(expectBillingError { try engine.issueCoupon(#"{"actor":"o","account_id":"nobody","kind":"VOUCHER","face_value_fen":1,\#(window)}"#) }?.status == .notFound)
        #expect(try eventCount(engine) == 1) // only the account
    }

    @Test func externalReferenceIssuesOnce() throws {
        let engine = try manualEngine()
        try putAccount(engine, "a1")
        let request = #"{"actor":"o","account_id":"a1","kind":"VOUCHER","face_value_fen":100,"valid_from":\#(from),"valid_to":\#(to),"external_reference":"campaign-7"}"#
        let first = try object(engine.issueCoupon(request))
        let second = try object(engine.issueCoupon(request))
        #expect(text(first, "coupon", "coupon_id") == text(second, "coupon", "coupon_id"))
        #expect(field(second, "replayed") == true)
        // Coupon ledger: one ISSUE row with the face value.
        let issued = try engine.lock.withLock { try engine.db.first("SELECT count(*), sum(amount) FROM coupon_ledger") { ($0.int(0), $0.int(1)) } }
        #expect(issued?.0 == 1 && issued?.1 == 100)
    }

    @Test func anotherAccountsCouponsStayHidden() throws {
        let engine = try manualEngine()
        try putAccount(engine, "a1")
        try putAccount(engine, "a2")
        _ = try engine.issueCoupon(#"{"actor":"o","account_id":"a1","kind":"VOUCHER","face_value_fen":100,"valid_from":\#(from),"valid_to":\#(to)}"#)
        let other = try object(engine.listCoupons(#"{"account_id":"a2"}"#))
        #expect(other["coupons"] == .array([]))
        let coupon = try engine.lock.withLock { try engine.db.first("SELECT id FROM coupons") { $0.text(0) } } ?? ""
        #expect(expectBillingError { try engine.lock.withLock { try CouponStore.require(engine.db, id: coupon, account: "a2") } }?.status == .notFound)
    }
}
