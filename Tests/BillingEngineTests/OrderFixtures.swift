import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

/// A shop with a monthly ECS (with a bound system disk), an EVS, a VPC needing review, a
/// pay-per-use bandwidth, a hardware box and an OBS package; and one funded account.
struct Shop {
    let engine: Engine
    let account = "acme"

    init(cash: Int64 = 1_000_000, at instant: Int64 = january1st2024, path: String = temporaryDatabasePath(),
         wrap: ((Connection) -> Connection)? = nil) throws {
        engine = try manualEngine(at: instant, path: path, wrap: wrap)
        try putAccount(engine, account)
        if cash > 0 {
            _ = try engine.topUp(#"{"actor":"pay","account_id":"acme","amount_fen":\#(cash),"external_reference":"initial"}"#)
        }
        for product in [
            #"{"product_id":"evs.sys40","product_type":"EVS","billing_mode":"PREPAID","monthly_price_fen":1000,"yearly_price_fen":10000,"hourly_price_microfen":2000000}"#,
            #"{"product_id":"ecs.s6","product_type":"ECS","billing_mode":"PREPAID","region":"cn-north-4","monthly_price_fen":10000,"yearly_price_fen":100000,"hourly_price_microfen":20000000,"bound_products":["evs.sys40"],"specs":{"vcpus":2,"memory_gb":4}}"#,
            #"{"product_id":"evs.100","product_type":"EVS","billing_mode":"PREPAID","monthly_price_fen":10000,"yearly_price_fen":100000,"hourly_price_microfen":20000000}"#,
            #"{"product_id":"vpc.std","product_type":"VPC","billing_mode":"PREPAID","monthly_price_fen":5000,"review_required":true}"#,
            #"{"product_id":"bw.ondemand","product_type":"EIP","billing_mode":"ON_DEMAND","hourly_price_microfen":12345678}"#,
            #"{"product_id":"box.1","product_type":"HARDWARE","kind":"hardware","billing_mode":"ONE_OFF","one_off_price_fen":50000}"#,
            #"{"product_id":"obs.100g","product_type":"OBS","billing_mode":"PACKAGE","monthly_price_fen":900,"package":{"kind":"CAPACITY","quota":100,"applies_to":["OBS"]},"allowed_periods":[{"unit":"MONTH","count":1},{"unit":"MONTH","count":2}]}"#,
        ] {
            _ = try engine.putProduct(#"{"actor":"catalog","product":\#(product)}"#)
        }
    }

    /// Creates an order and returns its response.
    func create(_ items: String, _ options: String = "") throws -> [String: JSONValue] {
        try object(engine.createOrder(#"{"actor":"buyer","account_id":"acme","items":\#(items)\#(options)}"#))
    }

    func pay(_ order: String, coupons: [String] = []) throws -> [String: JSONValue] {
        let list = coupons.map { "\"\($0)\"" }.joined(separator: ",")
        return try object(engine.payOrder(#"{"actor":"buyer","account_id":"acme","order_id":"\#(order)","coupon_ids":[\#(list)]}"#))
    }

    func order(_ id: String) throws -> [String: JSONValue] {
        try object(engine.orderDetails(#"{"account_id":"acme","order_id":"\#(id)"}"#))
    }

    func status(_ id: String) throws -> String { text(try order(id), "order", "status") }

    func cash() throws -> Int64 { integer(try object(engine.getAccount(#"{"account_id":"acme"}"#)), "account", "cash_balance_fen") }

    /// A voucher valid from a day ago for a year (or until `validTo`).
    func voucher(_ fen: Int64, validTo: Int64? = nil, extra: String = "") throws -> String {
        let now = engine.now
        return text(try object(engine.issueCoupon(#"{"actor":"ops","account_id":"acme","kind":"VOUCHER","face_value_fen":\#(fen),"valid_from":\#(now - 86_400),"valid_to":\#(validTo ?? now + 365 * 86_400)\#(extra)}"#)), "coupon", "coupon_id")
    }

    /// The resource ids of an order, in creation order.
    func resources(_ id: String) throws -> [String] {
        try objects(field(try order(id), "order", "resources")).map { try #require($0["resource_id"]?.stringValue) }
    }

    func report(_ outcomes: [(String, Bool)]) throws -> [String: JSONValue] {
        let results = outcomes.map { #"{"resource_id":"\#($0.0)","outcome":"\#($0.1 ? "SUCCEEDED" : "FAILED")"}"# }.joined(separator: ",")
        return try object(engine.reportProvisioning(#"{"actor":"host","account_id":"acme","results":[\#(results)]}"#))
    }

    static let oneECS = #"[{"product_id":"ecs.s6","period":{"unit":"MONTH","count":1}}]"#
    static let oneEVS = #"[{"product_id":"evs.100","period":{"unit":"MONTH","count":1}}]"#
}

/// The identities of §0 on an amounts document; before payment nothing is paid yet. A
/// missing document or field is false (so the `#expect` around it fails), never arithmetic
/// on a stand-in value.
func amountsHold(_ amounts: JSONValue?, paid: Bool = true) -> Bool {
    let keys = ["list_price_fen", "commercial_discount_fen", "promotion_discount_fen", "discount_coupon_fen", "discount_fen",
                "amount_due_fen", "voucher_fen", "paid_amount_fen", "cash_coupon_fen", "stored_value_card_fen", "cash_fen", "credit_fen"]
    guard let a = amounts?.objectValue, keys.allSatisfy({ a[$0]?.integerValue != nil }) else { return false }
    func v(_ key: String) -> Int64 { a[key]?.integerValue ?? 0 }
    return v("list_price_fen") - v("commercial_discount_fen") - v("promotion_discount_fen") - v("discount_coupon_fen") == v("amount_due_fen")
        && v("discount_fen") == v("commercial_discount_fen") + v("promotion_discount_fen") + v("discount_coupon_fen")
        && (paid ? v("amount_due_fen") - v("voucher_fen") == v("paid_amount_fen") : v("paid_amount_fen") == 0 && v("voucher_fen") == 0)
        && v("paid_amount_fen") == v("cash_coupon_fen") + v("stored_value_card_fen") + v("cash_fen") + v("credit_fen")
}

extension Shop {
    /// Buys, pays and provisions one product; returns the primary resource id.
    @discardableResult
    func own(_ product: String = "evs.100", months: Int64 = 1, unit: String = "MONTH") throws -> String {
        let id = text(try create(#"[{"product_id":"\#(product)","period":{"unit":"\#(unit)","count":\#(months)}}]"#), "order", "order_id")
        _ = try pay(id)
        let resources = try resources(id)
        _ = try report(resources.map { ($0, true) })
        return resources[0]
    }

    func resource(_ id: String) throws -> [String: JSONValue] {
        try #require(try object(engine.getResource(#"{"account_id":"acme","resource_id":"\#(id)"}"#))["resource"]?.objectValue)
    }

    func runScheduler() throws -> [String: JSONValue] {
        try object(engine.runScheduler(#"{"actor":"cron"}"#))
    }

    /// Moves the clock to an instant and runs the scheduler there.
    @discardableResult
    func runScheduler(at instant: Int64) throws -> [String: JSONValue] {
        try engine.setClock(to: instant)
        return try runScheduler()
    }

    func setPolicy(_ ids: [String], _ policy: String, _ extra: String = "") throws -> [String: JSONValue] {
        let list = ids.map { "\"\($0)\"" }.joined(separator: ",")
        return try object(engine.setExpiryPolicy(#"{"actor":"c","account_id":"acme","resource_ids":[\#(list)],"policy":"\#(policy)"\#(extra)}"#))
    }

    func renew(_ ids: [String], _ extra: String = "") throws -> [String: JSONValue] {
        let list = ids.map { "\"\($0)\"" }.joined(separator: ",")
        return try object(engine.renewResources(#"{"actor":"c","account_id":"acme","resource_ids":[\#(list)]\#(extra)}"#))
    }

    /// Events of a type for a subject, oldest first.
    func events(_ type: String, subject: String? = nil) throws -> [[String: JSONValue]] {
        try engine.lock.withLock {
            try engine.db.all("SELECT data, subject_id, occurred_at FROM events WHERE type = ? ORDER BY seq", type) { row -> [String: JSONValue] in
                var fields = try #require(try JSONValue.parse(row.text(0)).objectValue, "event data is not an object")
                fields["subject_id"] = JSONValue(row.optionalText(1))
                fields["occurred_at"] = .integer(row.int(2))
                return fields
            }
        }.filter { subject == nil || $0["subject_id"] == JSONValue(subject) }
    }
}
