import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

/// Rehearsals (quotes computed by the write path) and savepoints: what they undo is undone
/// whole, and an undo that fails is an error, never swallowed.
@Suite("Rehearsals and savepoints")
struct TransactionUndoTests {
    /// Rows of every table the write path touches, and the identifiers it takes.
    private func footprint(_ engine: Engine) throws -> [Int64] {
        try engine.lock.withLock {
            try ["events", "audit_log", "idempotency", "orders", "order_lines", "coupons", "coupon_ledger", "ledger", "resources"].map { table in
                try engine.db.first("SELECT count(*) FROM \(table)") { $0.int(0) } ?? -1
            } + [try engine.db.first("SELECT coalesce(sum(next), 0) FROM id_sequences") { $0.int(0) } ?? -1]
        }
    }

    @Test func aRehearsalRollsBackTheWholeTransaction() throws {
        let shop = try Shop()
        let disk = try shop.own()
        let before = try footprint(shop.engine)
        var ranAfterCommit = false
        // Everything an operation can write, written by a rehearsal: effect, event, audit row,
        // idempotency record, an identifier taken, and work queued for after a commit.
        let answer = try shop.engine.rehearse(#"{"account_id":"acme"}"#, parse: { try $0.string("account_id") }) { context, account in
            _ = try Engine.createManualRenewal(account: account, ids: [disk], period: nil, unified: false, context: context)
            try context.emit("test.rehearsed", account: account)
            try AuditLog.append(context.db, at: context.now, actor: "test", operation: "test.rehearse", account: account,
                                subject: nil, detail: [:])
            try IdempotencyStore.record(context.db, scope: "account:acme", key: "k-1", operation: "test.rehearse", request: "{}", response: "{}", at: context.now)
            _ = try IdentifierSequence.next(context.db, "order")
            context.afterCommit.append { ranAfterCommit = true }
            return ["done": true]
        }
        #expect(try object(answer)["done"] == .bool(true))
        #expect(try footprint(shop.engine) == before)
        #expect(!ranAfterCommit)
        // A rehearsal that throws is rolled back too, and its error comes through.
        let refused = expectBillingError {
            try shop.engine.rehearse(nil, parse: { _ in () }) { context, _ -> JSONValue in
                try context.emit("test.rehearsed")
                throw BillingError.refused("test_refusal", "refused")
            }
        }
        #expect(refused?.reason == "test_refusal")
        #expect(try footprint(shop.engine) == before)
        // The handle is usable afterwards, and a real renewal takes the identifier the rehearsal gave back.
        let quote = try object(shop.engine.quoteRenewal(#"{"account_id":"acme","resource_ids":["\#(disk)"]}"#))
        #expect(try footprint(shop.engine) == before)
        let renewed = try shop.renew([disk])
        #expect(integer(renewed, "order", "amounts", "amount_due_fen") == integer(quote, "amounts", "amount_due_fen"))
        #expect(text(renewed, "order", "order_id") == IdentifierSequence.format("CS", 2))
    }

    @Test func aSavepointThatCannotBeUndoneFailsTheWholeTransaction() throws {
        let engine = try manualEngine()
        let before = try eventCount(engine)
        // The body's refusal would be recovered from by its caller; the lost savepoint must not be.
        let lost = expectBillingError {
            try engine.lock.withLock {
                try engine.db.transaction(write: true) {
                    try EventLog.append(engine.db, type: "test.before", account: nil, subject: nil, at: 0, data: [:])
                    try engine.db.savepoint { () -> Void in
                        try engine.db.run("RELEASE attempt")
                        throw BillingError.refused("test_refusal", "refused")
                    }
                }
            } as Void
        }
        #expect(lost?.status == .storage)
        #expect(lost?.reason == "rollback_failed")
        #expect(try eventCount(engine) == before)
        // Releasing a savepoint that succeeded, when it is gone, is an error too.
        let unreleased = expectBillingError {
            try engine.lock.withLock {
                try engine.db.transaction(write: true) {
                    try EventLog.append(engine.db, type: "test.before", account: nil, subject: nil, at: 0, data: [:])
                    try engine.db.savepoint { () -> Void in try engine.db.run("RELEASE attempt") }
                }
            } as Void
        }
        #expect(unreleased?.reason == "rollback_failed")
        #expect(try eventCount(engine) == before)
        // A savepoint whose body fails is undone alone; the transaction goes on and commits.
        try engine.lock.withLock {
            try engine.db.transaction(write: true) {
                try EventLog.append(engine.db, type: "test.kept", account: nil, subject: nil, at: 0, data: [:])
                do {
                    try engine.db.savepoint { () -> Void in
                        try EventLog.append(engine.db, type: "test.undone", account: nil, subject: nil, at: 0, data: [:])
                        throw BillingError.refused("test_refusal", "refused")
                    }
                } catch let error as BillingError where error.reason == "test_refusal" {}
            }
        }
        #expect(try eventCount(engine) == before + 1)
    }
}
