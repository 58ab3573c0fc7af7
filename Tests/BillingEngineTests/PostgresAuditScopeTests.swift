#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import BillingDomain
import BillingDocuments
@testable import BillingStorage

/// Issue 18 item 5: the audit chain without one global lock. Rows chain per scope (account,
/// else actor); seals tie the scopes' heads together. Writers on several connections append at
/// once while a sealer seals; the result verifies, and a cut or rewritten scope is found — on
/// SQLite, and on PostgreSQL with `make test-pg`.
@Suite("Audit chains per scope and their seals (SQLite; PostgreSQL with make test-pg)", .serialized)
struct PostgresAuditScopeTests {

    static func auditLog(_ backend: ConformanceBackend) throws -> (ConformanceDatabase, Connection) {
        let database = try ConformanceDatabase(backend)
        let db = try database.connect()
        try Migrator.migrate(db)
        return (database, db)
    }

    static func append(_ db: Connection, account: String?, actor: String, _ n: Int) throws {
        try db.transaction(write: true) {
            try AuditLog.appendRow(db, at: Int64(n), actor: actor, operation: "test.write", account: account, subject: "\(n)",
                                   detail: ["n": .integer(Int64(n))], writes: [])
        }
    }

    /// Four writers, each on its own connection, append to their own account, to one shared
    /// account and to an actor scope at once, while a sealer seals; every chain verifies, every
    /// row is sealed once the writers are done, and the seals list each scope's last row.
    @Test(arguments: ConformanceBackend.available)
    func concurrentScopesAndSeals(_ backend: ConformanceBackend) throws {
        let (database, sealer) = try Self.auditLog(backend)
        let writers = 4, rows = 20
        let failures = Locked<[String]>([])
        let done = Locked(0)
        for writer in 0..<writers {
            let connection = try database.connect()
            // Every writer also writes the shared account and the actor scope: those rows
            // conflict by design (one scope, one chain), and PostgreSQL retries them.
            (connection as? PostgresConnection)?.maxTransactionAttempts = 1000
            let handle = Unchecked(connection)
            Thread {
                let db = handle.value
                do {
                    for n in 0..<rows {
                        let account: String? = n % 4 == 3 ? nil : (n % 2 == 0 ? "own-\(writer)" : "shared")
                        try Self.append(db, account: account, actor: "ops", n)
                    }
                } catch {
                    failures.withLock { $0.append("writer \(writer): \(error)") }
                }
                done.withLock { $0 += 1 }
            }.start()
        }
        var seals = 0
        while done.withLock({ $0 }) < writers {
            if try AuditLog.seal(sealer) > 0 { seals += 1 }
            usleep(2000)
        }
        try AuditLog.seal(sealer)
        #expect(failures.withLock { $0 } == [])
        let chain = try sealer.transaction(write: false) { try AuditLog.firstBrokenLink(sealer) }
        #expect(chain.broken == nil, "\(String(describing: chain.broken))")
        #expect(try sealer.first("SELECT count(*) FROM audit_log WHERE seal IS NULL") { $0.int(0) } == 0)
        #expect(try sealer.first("SELECT count(*) FROM audit_log") { $0.int(0) } == Int64(writers * rows))
        // Each scope is one chain: every row but its first links to the one before it.
        let scopes = try sealer.all("SELECT scope, count(*) FROM audit_log GROUP BY scope ORDER BY scope") { ($0.text(0), $0.int(1)) }
        #expect(scopes.map(\.0) == ["account:own-0", "account:own-1", "account:own-2", "account:own-3", "account:shared", "actor:ops"])
        // The last seal's head is what verify compares a kept head with.
        let head = try AuditLog.head(sealer)
        let stored = try AuditLog.hash(sealer, at: head.position)
        #expect(head.position >= 1 && stored == head.digest)
    }

    /// A scope's sealed last row deleted (its chain cut at the end: nothing after it to break),
    /// and a row in the middle of another edited: both are found, the cut through the seal.
    @Test(arguments: ConformanceBackend.available)
    func aCutScopeIsFoundThroughItsSeal(_ backend: ConformanceBackend) throws {
        let (database, db) = try Self.auditLog(backend)
        _ = database
        for n in 0..<6 { try Self.append(db, account: n % 2 == 0 ? "a1" : "a2", actor: "ops", n) }
        try AuditLog.seal(db)
        #expect(try db.transaction(write: false) { try AuditLog.firstBrokenLink(db) }.broken == nil)
        let last = try #require(try db.first("SELECT max(id) FROM audit_log WHERE scope = 'account:a2'") { $0.int(0) })
        try db.transaction(write: true) { try db.run("DELETE FROM audit_log WHERE id = ?", last) }
        let cut = try db.transaction(write: false) { try AuditLog.firstBrokenLink(db) }.broken
        #expect(cut?.id == last)
        #expect(cut?.detail.contains("is gone") == true)
        // A later write to a2 cannot hide the cut: it links to the row before the deleted one.
        try Self.append(db, account: "a2", actor: "ops", 7)
        try AuditLog.seal(db)
        #expect(try db.transaction(write: false) { try AuditLog.firstBrokenLink(db) }.broken?.id == last)
        let first = try #require(try db.first("SELECT min(id) FROM audit_log WHERE scope = 'account:a1'") { $0.int(0) })
        try db.transaction(write: true) { try db.run("UPDATE audit_log SET actor = 'mallory' WHERE id = ?", first) }
        #expect(try db.transaction(write: false) { try AuditLog.firstBrokenLink(db) }.broken?.id == first)
    }

    /// A key given to a file that has unkeyed rows and seals: the old seals stay unkeyed (they
    /// list unkeyed rows), rows written since are keyed, and the file verifies with the key
    /// before and after the next seal; a handle without the key cannot seal keyed rows.
    @Test(arguments: ConformanceBackend.available)
    func aKeySetLaterKeepsOldSealsValid(_ backend: ConformanceBackend) throws {
        let (database, db) = try Self.auditLog(backend)
        _ = database
        let key = [UInt8](repeating: 0x5a, count: 32)
        for n in 0..<3 { try Self.append(db, account: "a1", actor: "ops", n) }
        try AuditLog.seal(db)
        db.session.auditKey = key
        try Self.append(db, account: "a1", actor: "ops", 3)
        try Self.append(db, account: "a2", actor: "ops", 4)
        #expect(try db.transaction(write: false) { try AuditLog.firstBrokenLink(db, key: key) }.broken == nil)
        let keyless = try database.connect()
        let refused = billingError { try AuditLog.seal(keyless) }
        #expect(refused?.reason == "audit_key_required")
        try AuditLog.seal(db)
        #expect(try AuditLog.head(db).digest.hasPrefix(AuditLog.keyedPrefix))
        let checked = try db.transaction(write: false) { try AuditLog.firstBrokenLink(db, key: key) }
        #expect(checked.broken == nil && checked.unchecked == 0)
        let unchecked = try keyless.transaction(write: false) { try AuditLog.firstBrokenLink(keyless) }
        #expect(unchecked.broken == nil && unchecked.unchecked == 3)
    }
}
