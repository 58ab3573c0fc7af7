import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

@Suite("Verify: invariants and the audit chain")
struct VerifyTests {
    func breaches(_ engine: Engine) throws -> [[String: JSONValue]] {
        try objects(try object(engine.verify(nil))["breaches"])
    }

    func tamper(_ engine: Engine, _ sql: String) throws {
        try engine.tamper(sql)
    }

    @Test func cleanBooksVerify() throws {
        let shop = try Shop()
        _ = try shop.own("ecs.s6")
        #expect(try breaches(shop.engine).isEmpty)
    }

    @Test func theAuditChainNamesTheFirstBrokenLink() throws {
        let shop = try Shop()
        _ = try shop.own()
        let rows = try shop.engine.lock.withLock { try shop.engine.db.all("SELECT id FROM audit_log ORDER BY id") { $0.int(0) } }
        #expect(rows.count > 5)
        try tamper(shop.engine, "UPDATE audit_log SET actor = 'mallory' WHERE id = \(rows[3])")
        let edited = try breaches(shop.engine).filter { $0["check"] == "audit_chain" }
        #expect(edited.first?["subject"] == .string(String(rows[3])))

        let other = try Shop()
        _ = try other.own()
        let ids = try other.engine.lock.withLock { try other.engine.db.all("SELECT id FROM audit_log ORDER BY id") { $0.int(0) } }
        try tamper(other.engine, "DELETE FROM audit_log WHERE id = \(ids[2])")
        #expect(try breaches(other.engine).first { $0["check"] == "audit_chain" }?["subject"] == .string(String(ids[3])))
    }

    @Test func breachesOfMoneyAndStateAreReported() throws {
        let shop = try Shop()
        let disk = try shop.own()
        try tamper(shop.engine, "UPDATE accounts SET cash_balance = cash_balance + 1 WHERE id = 'acme'")
        try tamper(shop.engine, "UPDATE resources SET expire_at = expire_at + 86400 WHERE id = '\(disk)'")
        try tamper(shop.engine, "UPDATE coupons SET balance = -1")
        try tamper(shop.engine, "UPDATE orders SET status = 'CANCELLED' WHERE type = 'NEW'")
        let checks = Set(try breaches(shop.engine).map { try #require($0["check"]?.stringValue) })
        #expect(checks.isSuperset(of: ["cash_ledger", "expiry_from_periods", "order_state"]))
    }

    /// A pay-per-use hour whose ledger row no longer matches its funding is reported with that
    /// ledger row, and a funded hour whose ledger row is gone with the hour (the references
    /// `usageHourMismatches` builds from the funding must meet `ledger.reference`).
    @Test func usageHoursAgainstTheLedgerAreReconciled() throws {
        let shop = try Shop()
        let eip = try shop.onDemand("bw.ondemand")
        try shop.engine.setClock(to: january1st2024 + 10 * 3600)
        _ = try shop.usage((1...3).map { ("u\($0)", eip, 1, january1st2024 + Int64($0) * 3600, january1st2024 + Int64($0 + 1) * 3600) })
        try expectNoBreaches(shop.engine)
        let rows = try shop.engine.lock.withLock {
            try shop.engine.db.all("SELECT id, reference FROM ledger WHERE kind = 'USAGE' ORDER BY id") { ($0.int(0), $0.text(1)) }
        }
        // The first and the last hour have one ledger row each (the records cross hours).
        let (first, last) = (try #require(rows.first), try #require(rows.last))
        try #require(rows.filter { $0.1 == first.1 }.count == 1 && rows.filter { $0.1 == last.1 }.count == 1, "\(rows)")
        try tamper(shop.engine, "UPDATE ledger SET amount = amount - 1 WHERE id = \(first.0)")
        try tamper(shop.engine, "DELETE FROM ledger WHERE id = \(last.0)")
        let found = try breaches(shop.engine).filter { $0["check"] == "ledger_reconciliation" }
        #expect(Set(found.compactMap { $0["subject"]?.stringValue }) == ["ledger \(first.0)", "usage_funding \(last.1)"])
        #expect(found.count == 2)
    }

    /// Pay-per-use hours: each hour and fund's funding must be what the ledger took under the
    /// hour's reference, reported on the hour's first ledger row, or on the funding when the
    /// ledger took nothing for it.
    @Test func usageHoursAreReconciledWithTheLedger() throws {
        try Self.usageHourReconciliation(try Shop())
    }

    /// The check of `usageHoursAreReconciledWithTheLedger` on any shop (PostgreSQL too).
    static func usageHourReconciliation(_ shop: Shop) throws {
        var ledgerIDs: [String: Int64] = [:]
        try shop.engine.writeForTest {
            let db = shop.engine.db
            func charge(_ reference: String, _ fen: Int64) throws {
                try AccountStore.post(db, account: "acme", fund: .cash, kind: "USAGE", amount: Money(fen: -fen), reference: reference, at: 0)
                if ledgerIDs[reference] == nil { ledgerIDs[reference] = try db.first("SELECT max(id) FROM ledger") { $0.int(0) } }
            }
            func fund(_ resource: String, _ hour: Int64, _ source: String, _ fen: Int64) throws {
                try db.run("INSERT INTO usage_funding (resource_id, hour_start, source, amount) VALUES (?, ?, ?, ?)", resource, hour, source, fen)
            }
            try fund("RS-a", 0, "CASH", 100); try charge("RS-a@0", 100)              // balanced
            try fund("RS-e", 0, "CASH", 70); try charge("RS-e@0", 30); try charge("RS-e@0", 40) // two rows, balanced
            try fund("RS-f", 0, "COUPON", 10)                                                  // not a fund the ledger takes
            try fund("RS-b", 3600, "CASH", 50); try charge("RS-b@3600", 40)          // took less
            try fund("RS-c", 0, "CASH", 30)                                                    // took nothing
            try charge("RS-d@0", 20)                                                    // nothing funded
            try fund("RS-g", 0, "CREDIT", 10); try charge("RS-g@0", 10)             // the hour balances, each fund does not
        }
        let found = try objects(try object(shop.engine.verify(nil))["breaches"]).filter { $0["check"] == "ledger_reconciliation" }
        let subjects = Set(found.compactMap { $0["subject"]?.stringValue })
        #expect(subjects == ["ledger \(try #require(ledgerIDs["RS-b@3600"]))", "usage_funding RS-c@0", "ledger \(try #require(ledgerIDs["RS-d@0"]))",
                             "usage_funding RS-g@0", "ledger \(try #require(ledgerIDs["RS-g@0"]))"], "\(found)")
        #expect(found.count == 5)
        #expect(found.allSatisfy { $0["detail"]?.stringValue?.hasPrefix("usage hour ") == true })
    }
}

@Suite("Row coverage: the upgrade that brings it, and writes without an audit row")
struct RowCoverageTests {
    /// A file from before row coverage, with audit rows from before the chain (no hash), a
    /// hashed row after them and a keyed operation, upgrades to a file that verifies clean:
    /// every row gets its digest, every audit row a hash, and the stored key its account's scope.
    @Test func anUpgradedFileIsCoveredAndVerifies() throws {
        let path = temporaryDatabasePath()
        let before = try #require(Schema.migrations.firstIndex { $0.contains("CREATE TABLE row_digests") })
        do {
            let db = try SQLiteConnection(path: path, create: true, busyTimeoutMilliseconds: 1000)
            try Migrator.migrate(db, latest: Int64(before), migrations: Array(Schema.migrations.prefix(before)))
            try db.executeScript("""
                INSERT INTO accounts (id, type, realname_verified, restricted, freeze, level, cash_balance, created_at, updated_at)
                    VALUES ('hw-1', 'ENTERPRISE', 1, 0, 'NONE', 'V3', 500, 0, 0);
                INSERT INTO ledger (account_id, fund, kind, amount, balance_after, reference, recorded_at)
                    VALUES ('hw-1', 'CASH', 'TOPUP', 500, 500, 'r-1', 0);
                INSERT INTO audit_log (recorded_at, actor, operation, account_id, subject_id, detail)
                    VALUES (0, 'kyc', 'account.put', 'hw-1', NULL, '{}'), (0, 'pay', 'account.topup', 'hw-1', 'r-1', '{}');
                INSERT INTO idempotency (key, operation, request, response, created_at)
                    VALUES ('k-1', 'account.topup', '{"account_id":"hw-1","actor":"pay"}', '{}', 0);
                """)
            let link = AuditLog.link(previous: "",
                                     at: 0, actor: "ops", operation: "config.update", account: nil, subject: nil, detail: "{}", rows: nil)
            try db.run("INSERT INTO audit_log (recorded_at, actor, operation, detail, hash) VALUES (0, 'ops', 'config.update', '{}', ?)", link)
        }
        let engine = try manualEngine(path: path)
        try expectNoBreaches(engine)
        let upgrade = try engine.lock.withLock {
            try engine.db.all("SELECT subject_id FROM audit_log WHERE operation = 'schema.upgrade' ORDER BY id") { $0.text(0) }
        }
        #expect(upgrade == ["idempotency", "accounts", "ledger"])
        #expect(try engine.lock.withLock { try engine.db.first("SELECT scope FROM idempotency") { $0.text(0) } } == "account:hw-1")
        // The next write follows the upgraded chain, and an edit now shows.
        _ = try engine.topUp(#"{"actor":"pay","account_id":"hw-1","amount_fen":100,"external_reference":"r-2"}"#)
        try expectNoBreaches(engine)
        try engine.tamper("UPDATE accounts SET level = 'V5' WHERE id = 'hw-1'")
        let found = try object(engine.verify(nil))
        #expect(found["breaches"].map { $0.text.contains(#""table":"accounts""#) } == true)
    }

    /// The strongest attacker without the host's head: an edited price with its digest, the
    /// audit row's list and every hash after it recomputed (the chain is not keyed). The file
    /// verifies; only the head the host kept before the edit tells.
    @Test func aRecomputedChainIsFoundOnlyWithTheKeptHead() throws {
        let shop = try Shop()
        _ = try shop.own()
        guard case .object(var head) = try JSONValue.parse(shop.engine.auditHead(nil)) else { Issue.record("no head"); return }
        head["schema_version"] = nil
        let attacker = try SQLiteConnection(path: shop.engine.path, create: false, busyTimeoutMilliseconds: 5000)
        try attacker.transaction(write: true) {
            try attacker.run("UPDATE products SET document = json_set(document, '$.monthly_price_fen', 1) WHERE id = 'evs.100'")
            let table = try #require(RowCoverage.tables.first { $0.name == "products" })
            let key = #"["evs.100"]"#
            let digest = try #require(try RowCoverage.digest(attacker, table, key: key))
            let audit = try #require(try attacker.first("SELECT audit_id FROM row_digests WHERE table_name = 'products' AND row_key = ?", key) { $0.int(0) })
            let rows = try #require(try attacker.first("SELECT rows FROM audit_log WHERE id = ?", audit) { $0.text(0) })
            guard case .array(let writes) = try JSONValue.parse(rows) else { Issue.record("no list"); return }
            let edited = writes.map { entry -> JSONValue in
                guard case .array(let parts) = entry, parts.count == 3, parts[0] == "products", parts[1] == .string(key) else { return entry }
                return [parts[0], parts[1], .string(digest)]
            }
            try attacker.run("UPDATE audit_log SET rows = ? WHERE id = ?", JSONValue.array(edited).text, audit)
            try attacker.run("UPDATE row_digests SET digest = ? WHERE table_name = 'products' AND row_key = ?", digest, key)
            try AuditLog.rehashAll(attacker)
        }
        try expectNoBreaches(shop.engine)
        let found = try object(shop.engine.verify(JSONValue.object(["audit_head": .object(head)]).text))
        #expect(found["breaches"].map { $0.text.contains(#""check":"audit_head""#) } == true)
    }

    /// With the host's key the links are keyed: a chain recomputed without the key is found
    /// even without a kept head; a handle without the key (or with another) may not write.
    @Test func aKeyedChainCannotBeRecomputedWithoutTheKey() throws {
        let path = temporaryDatabasePath()
        let key = String(repeating: "5a", count: 32)
        var options = EngineOptions()
        options.clock = .manual(january1st2024)
        options.auditKey = EngineOptions.bytes(hex: key)
        let keyed = try Engine(path: path, options: options)
        _ = try putAccount(keyed, "a1")
        _ = try keyed.topUp(#"{"actor":"pay","account_id":"a1","amount_fen":500,"external_reference":"r-1"}"#)
        try expectNoBreaches(keyed)
        #expect(text(try object(keyed.auditHead(nil)), "digest").hasPrefix("k:"))

        let keyless = try manualEngine(path: path)
        #expect(expectBillingError { try keyless.topUp(#"{"actor":"pay","account_id":"a1","amount_fen":1,"external_reference":"r-2"}"#) }?.reason == "audit_key_required")
        let unchecked = try object(keyless.verify(nil))
        #expect(unchecked["ok"] == true)
        #expect(integer(unchecked, "checked", "audit_links_unchecked") > 0)
        options.auditKey = EngineOptions.bytes(hex: String(repeating: "a5", count: 32))
        let other = try Engine(path: path, options: options)
        #expect(expectBillingError { try other.topUp(#"{"actor":"pay","account_id":"a1","amount_fen":1,"external_reference":"r-3"}"#) }?.reason == "audit_key_mismatch")
        #expect(expectBillingError { try EngineOptions(json: #"{"audit_key":"xyz"}"#) }?.reason == "invalid_option")

        // The attacker edits the account's level, records its digest and recomputes the chain
        // without the key: every link verifies as unkeyed, but the head is no longer keyed.
        let attacker = try SQLiteConnection(path: path, create: false, busyTimeoutMilliseconds: 5000)
        try attacker.transaction(write: true) {
            try attacker.run("UPDATE accounts SET level = 'V5' WHERE id = 'a1'")
            let table = try #require(RowCoverage.tables.first { $0.name == "accounts" })
            let digest = try #require(try RowCoverage.digest(attacker, table, key: #"["a1"]"#))
            try attacker.run("UPDATE row_digests SET digest = ? WHERE table_name = 'accounts'", digest)
            let audit = try #require(try attacker.first("SELECT audit_id FROM row_digests WHERE table_name = 'accounts'") { $0.int(0) })
            let rows = try #require(try attacker.first("SELECT rows FROM audit_log WHERE id = ?", audit) { $0.text(0) })
            guard case .array(let writes) = try JSONValue.parse(rows) else { Issue.record("no list"); return }
            let edited = writes.map { entry -> JSONValue in
                guard case .array(let parts) = entry, parts.count == 3, parts[0] == "accounts" else { return entry }
                return [parts[0], parts[1], .string(digest)]
            }
            try attacker.run("UPDATE audit_log SET rows = ? WHERE id = ?", JSONValue.array(edited).text, audit)
            try AuditLog.rehashAll(attacker)
        }
        let found = try object(keyed.verify(nil))
        #expect(found["ok"] == false)
        #expect(found["breaches"].map { $0.text.contains(#""check":"audit_chain""#) } == true)
    }

    /// A write path that forgot its audit row is refused and leaves nothing behind.
    @Test func aWriteWithoutAnAuditRowIsRefused() throws {
        let engine = try manualEngine()
        _ = try putAccount(engine, "a1")
        let error = expectBillingError {
            try engine.lock.withLock { () throws -> Void in
                try RowCoverage.install(engine.db)
                try engine.db.transaction(write: true) { () -> Void in
                    try engine.db.run("UPDATE accounts SET level = 'V5' WHERE id = 'a1'")
                }
            }
        }
        #expect(error?.reason == "unaudited_write")
        #expect(text(try object(engine.getAccount(#"{"account_id":"a1"}"#)), "account", "level") != "V5")
        try expectNoBreaches(engine)
    }
}
