import Dispatch
import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

@Suite("Concurrency: threads and handles on one file")
struct ConcurrencyTests {
    /// Threads on two handles of one file create, pay, cancel and auto-cancel orders at random,
    /// with coupons; afterwards no order was paid twice, money adds up, coupons never went
    /// negative and no combined order is half paid.
    @Test func randomOrderTrafficKeepsTheInvariants() throws {
        let shop = try Shop(cash: 50_000_000)
        var options = EngineOptions()
        options.clock = .manual(january1st2024)
        let path = shop.engine.path
        let second = try Engine(path: path, options: options)
        let vouchers = try (0..<6).map { _ in try shop.voucher(5000) }
        let engines = [shop.engine, second]
        let failures = Counter()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            var random = SplitMix64(seed: UInt64(worker) + 1)
            let engine = engines[worker % 2]
            var mine: [String] = []
            for step in 0..<40 {
                do {
                    switch Int.random(in: 0..<10, using: &random) {
                    case 0...3:
                        let items = Bool.random(using: &random) ? Shop.oneEVS
                            : #"[{"product_id":"evs.100","period":{"unit":"MONTH","count":1}},{"product_id":"ecs.s6","period":{"unit":"MONTH","count":1}}]"#
                        let created = try object(engine.createOrder(#"{"actor":"w\#(worker)","idempotency_key":"w\#(worker)-\#(step)","account_id":"acme","items":\#(items)}"#))
                        mine.append(text(created, "order", "order_id"))
                    case 4...6:
                        guard let id = mine.randomElement(using: &random) else { continue }
                        let coupon = Bool.random(using: &random) ? #""\#(vouchers[Int.random(in: 0..<vouchers.count, using: &random)])""# : ""
                        _ = try? engine.payOrder(#"{"actor":"w\#(worker)","account_id":"acme","order_id":"\#(id)","coupon_ids":[\#(coupon)]}"#)
                    case 7:
                        guard let id = mine.randomElement(using: &random) else { continue }
                        _ = try engine.cancelOrders(#"{"actor":"w\#(worker)","account_id":"acme","order_ids":["\#(id)"]}"#)
                    case 8:
                        _ = try engine.runScheduler(#"{"actor":"cron\#(worker)"}"#)
                    default:
                        // Two workers may pay the same order at once: only one can win.
                        guard let id = mine.last else { continue }
                        _ = try? engines[(worker + 1) % 2].payOrder(#"{"actor":"x","account_id":"acme","order_id":"\#(id)"}"#)
                    }
                } catch {
                    failures.increment()
                }
            }
        }
        #expect(failures.value == 0)
        try expectNoBreaches(shop.engine)
        // No order was debited twice.
        let doubles = try shop.engine.lock.withLock {
            try shop.engine.db.first("SELECT count(*) FROM (SELECT order_id FROM ledger WHERE kind = 'PAYMENT' GROUP BY order_id, fund HAVING count(*) > 1) twice") { $0.int(0) }
        }
        #expect(doubles == 0)
        let paid = try shop.engine.lock.withLock { try shop.engine.db.first("SELECT count(*) FROM orders WHERE paid_at IS NOT NULL") { $0.int(0) } } ?? 0
        #expect(paid > 0)
    }
}

/// A thread-safe counter for workers.
final class Counter: @unchecked Sendable {
    private let lock = Lock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
