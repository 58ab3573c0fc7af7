import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

/// The engine reaches the database through the `Connection` interface only: opened on a
/// wrapper that is no SQLite connection (`RecordingConnection`, forwarding to one), an order's
/// creation and payment run every statement and transaction through the wrapper, and verify
/// finds the file whole. A store or service that kept a path of its own to SQLite would write
/// rows the wrapper never saw.
@Suite("Storage interface")
struct StorageInterfaceTests {
    @Test func createAndPayRunThroughTheInterfaceOnly() throws {
        var recorder: RecordingConnection?
        let shop = try Shop(wrap: { inner in
            let wrapper = RecordingConnection(inner)
            recorder = wrapper
            return wrapper
        })
        let recording = try #require(recorder)
        let engine = shop.engine
        #expect(engine.db === recording, "the engine holds the wrapper, not the SQLite connection behind it")

        let before = engine.lock.withLock { (recording.calls, recording.transactions.write) }
        engine.lock.withLock { recording.statements = [] }
        let order = text(try shop.create(Shop.oneEVS), "order", "order_id")
        let paid = try shop.pay(order)
        #expect(text(paid, "order", "status") == "PROCESSING", "paid: the resource is being provisioned")
        let (statements, calls, writes) = engine.lock.withLock { (recording.statements ?? [], recording.calls, recording.transactions.write) }

        // Two operations, each one write transaction through the wrapper.
        #expect(writes - before.1 == 2)
        #expect(calls - before.0 > 10)
        // The rows of the order, its money, its resource, its events and its audit rows were
        // all written by statements the wrapper ran.
        for table in ["orders", "order_lines", "ledger", "resources", "events", "audit_log", "row_digests"] {
            #expect(statements.contains { $0.contains("INSERT INTO \(table) ") || $0.contains("INSERT INTO \(table)(") },
                    "no INSERT INTO \(table) went through the wrapper")
        }
        // And what they wrote is what the file holds: the chain and every row digest check.
        let report = try object(engine.verify(#"{}"#))
        #expect(report["ok"] == true, "verify: \(report)")
    }
}
