#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import BillingDomain
import BillingDocuments
@testable import BillingStorage

/// Event positions are tamper-evident where a sealer gives them after commit (PostgreSQL): the
/// sealer records each batch in `outbox_seals`, chained, and verify (`EventLog.misplaced`)
/// checks every position against the records (OutboxSeals). Cleared, swapped and moved
/// positions, positions set outside the library and records edited or removed are found;
/// events committed but not yet sealed are not errors. On SQLite positions follow `seq`, which
/// verify checks directly, and the table stays empty.
@Suite("Outbox seals: event positions verified (SQLite; PostgreSQL with make test-pg)", .serialized)
struct PostgresOutboxSealTests {
    static let key: [UInt8] = Array(repeating: 0x5a, count: 32)

    /// A migrated database of `backend`, the sealing connection (with `key` as its audit key),
    /// and `batches` sealed batches of events (sizes 1, 2, 3, …; each written with an audit row
    /// that lists them), plus `unsealed` events committed after the last seal.
    static func sealedOutbox(_ backend: ConformanceBackend, batches: Int, unsealed: Int = 0,
                             key: [UInt8]? = nil) throws -> (ConformanceDatabase, Connection) {
        let database = try ConformanceDatabase(backend)
        let db = try database.connect()
        db.session.auditKey = key
        try Migrator.migrate(db)
        var n = 0
        func append(_ count: Int) throws {
            try db.transaction(write: true) {
                var writes: [RowCoverage.Write] = []
                for _ in 0..<count {
                    n += 1
                    try EventLog.append(db, type: "test.appended", account: "a", subject: "e\(n)", at: 0, data: [:])
                    let seq = try db.first("SELECT seq FROM events WHERE subject_id = ?", "e\(n)") { $0.int(0) }!
                    writes.append(RowCoverage.Write(table: "events", key: "[\(seq)]", digest: "test"))
                }
                // The operation's audit row (keyed with the handle's key), naming its events.
                try AuditLog.appendRow(db, at: Int64(n), actor: "test", operation: "test.append", account: "a", subject: nil,
                                       detail: [:], writes: writes)
            }
        }
        for batch in 1...max(batches, 1) where batches > 0 {
            try append(batch)
            try EventLog.seal(db)
        }
        if unsealed > 0 { try append(unsealed) }
        return (database, db)
    }

    /// Verify's findings on the events and the records: (table, key) pairs, sorted.
    static func findings(_ db: Connection, key: [UInt8]? = nil) throws -> [String] {
        try db.transaction(write: false) { try EventLog.misplaced(db, key: key) }.map { "\($0.table) \($0.key)" }.sorted()
    }

    /// Statements run by a plain connection, as by someone with write access to the database.
    static func tamper(_ database: ConformanceDatabase, _ statements: String...) throws {
        let other = try database.connect()
        try other.transaction(write: true) { for statement in statements { try other.run(statement) } }
    }

    static func seqs(_ db: Connection) throws -> [Int64] {
        try db.all("SELECT seq FROM events ORDER BY seq") { $0.int(0) }
    }

    /// Writers on four connections append while a reader seals and pages; afterwards every
    /// event has a position, the records cover each once (PostgreSQL), and verify is clean with
    /// the key and without it (the slots are checked either way).
    @Test(arguments: ConformanceBackend.available)
    func concurrentWritersAndSealingVerifyClean(_ backend: ConformanceBackend) throws {
        let database = try ConformanceDatabase(backend)
        let sealer = try database.connect()
        sealer.session.auditKey = Self.key
        try Migrator.migrate(sealer)
        let writers = 4, transactions = 15
        let failures = Locked<[String]>([])
        let done = Locked(0)
        for writer in 0..<writers {
            let handle = Unchecked(try database.connect())
            Thread {
                let db = handle.value
                do {
                    for n in 0..<transactions {
                        try db.transaction(write: true) {
                            for e in 0..<(1 + n % 3) {
                                try EventLog.append(db, type: "test.appended", account: "a\(writer)", subject: "w\(writer)-\(n)-\(e)", at: 0, data: [:])
                                usleep(UInt32.random(in: 0...1000))
                            }
                        }
                    }
                } catch {
                    failures.withLock { $0.append("writer \(writer): \(error)") }
                }
                done.withLock { $0 += 1 }
            }.start()
        }
        var sealed = 0
        while done.withLock({ $0 }) < writers {
            sealed += try EventLog.seal(sealer)
            // Verify while writers still commit: events not yet sealed are not errors.
            #expect(try Self.findings(sealer, key: Self.key) == [])
            usleep(1000)
        }
        sealed += try EventLog.seal(sealer)
        #expect(failures.withLock { $0 } == [])
        let events = try sealer.first("SELECT count(*) FROM events") { $0.int(0) } ?? 0
        #expect(events == Int64(writers * (5 * 1 + 5 * 2 + 5 * 3)))
        #expect(try sealer.first("SELECT count(*) FROM events WHERE position IS NULL") { $0.int(0) } == 0)
        let records = try sealer.all("SELECT first_position, seqs, hash FROM outbox_seals ORDER BY seal") { ($0.int(0), $0.text(1), $0.text(2)) }
        if backend == .postgres {
            #expect(Int64(sealed) == events)
            // The records tile the positions 1…n, each keyed with the handle's key.
            var next: Int64 = 1
            for (first, seqs, hash) in records {
                #expect(first == next)
                next += Int64(seqs.split(separator: ",").count)
                #expect(hash.hasPrefix(AuditLog.keyedPrefix))
            }
            #expect(next == events + 1)
        } else {
            #expect(records.isEmpty, "positions are given at insert on SQLite: nothing to record")
        }
        #expect(try Self.findings(sealer, key: Self.key) == [])
        #expect(try Self.findings(sealer, key: nil) == [])
    }

    /// Positions cleared, swapped, moved or set on an event not yet sealed: each event out of
    /// its place is named; the events still waiting for a seal are not.
    @Test(.enabled(if: postgresTestURL != nil, "BILLING_TEST_POSTGRES_URL is not set (make test-pg)"))
    func changedPositionsAreFound() throws {
        // Batches of 1, 2, 3 events (positions 1, 2–3, 4–6) and two events not yet sealed.
        do {
            let (database, db) = try Self.sealedOutbox(.postgres, batches: 3, unsealed: 2)
            #expect(try Self.findings(db) == [])
            let seq = try Self.seqs(db)
            #expect(try db.first("SELECT count(*) FROM events WHERE position IS NULL") { $0.int(0) } == 2)
            try Self.tamper(database, "UPDATE events SET position = NULL WHERE seq = \(seq[2])")
            #expect(try Self.findings(db) == ["events \(seq[2])"], "a cleared position")
        }
        do {
            let (database, db) = try Self.sealedOutbox(.postgres, batches: 3)
            let seq = try Self.seqs(db)
            // Swapped across two batches (through a free position: positions are unique).
            try Self.tamper(database, "UPDATE events SET position = -1 WHERE seq = \(seq[0])",
                            "UPDATE events SET position = 1 WHERE seq = \(seq[5])",
                            "UPDATE events SET position = 6 WHERE seq = \(seq[0])")
            #expect(try Self.findings(db) == ["events \(seq[0])", "events \(seq[5])"].sorted(), "a swap")
        }
        do {
            let (database, db) = try Self.sealedOutbox(.postgres, batches: 3)
            let seq = try Self.seqs(db)
            try Self.tamper(database, "UPDATE events SET position = 100 WHERE seq = \(seq[3])")
            #expect(try Self.findings(db) == ["events \(seq[3])"], "moved past the end")
        }
        do {
            // Moved back onto a cleared position: the event there now, and the cleared one.
            let (database, db) = try Self.sealedOutbox(.postgres, batches: 3)
            let seq = try Self.seqs(db)
            try Self.tamper(database, "UPDATE events SET position = NULL WHERE seq = \(seq[1])",
                            "UPDATE events SET position = 2 WHERE seq = \(seq[4])")
            #expect(try Self.findings(db) == ["events \(seq[1])", "events \(seq[4])"].sorted())
        }
        do {
            // An event not yet sealed given a position by hand: no seal gave it.
            let (database, db) = try Self.sealedOutbox(.postgres, batches: 2, unsealed: 2)
            let seq = try Self.seqs(db)
            try Self.tamper(database, "UPDATE events SET position = 4 WHERE seq = \(seq[3])")
            #expect(try Self.findings(db) == ["events \(seq[3])"])
            // Sealing on does not make it right: the sealer records only what it numbers.
            try EventLog.seal(db)
            #expect(try Self.findings(db) == ["events \(seq[3])"])
        }
    }

    /// The records themselves: one edited to agree with a swap, one removed in the middle, the
    /// last one removed, and the chain recomputed without the key.
    @Test(.enabled(if: postgresTestURL != nil, "BILLING_TEST_POSTGRES_URL is not set (make test-pg)"))
    func changedRecordsAreFound() throws {
        do {
            // The swap made to agree with an edited record: the record's link breaks.
            let (database, db) = try Self.sealedOutbox(.postgres, batches: 3)
            let seq = try Self.seqs(db)
            try Self.tamper(database, "UPDATE events SET position = -1 WHERE seq = \(seq[3])",
                            "UPDATE events SET position = 4 WHERE seq = \(seq[5])",
                            "UPDATE events SET position = 6 WHERE seq = \(seq[3])",
                            "UPDATE outbox_seals SET seqs = '[\(seq[5]),\(seq[4]),\(seq[3])]' WHERE seal = 3")
            #expect(try Self.findings(db) == ["outbox_seals 3"])
        }
        do {
            // A record removed in the middle: the next one no longer links, and the events it
            // recorded sit at positions no seal gave.
            let (database, db) = try Self.sealedOutbox(.postgres, batches: 3)
            let seq = try Self.seqs(db)
            try Self.tamper(database, "DELETE FROM outbox_seals WHERE seal = 2")
            #expect(try Self.findings(db) == ["events \(seq[1])", "events \(seq[2])", "outbox_seals 3"].sorted())
        }
        do {
            // The last record removed.
            let (database, db) = try Self.sealedOutbox(.postgres, batches: 3)
            let seq = try Self.seqs(db)
            try Self.tamper(database, "DELETE FROM outbox_seals WHERE seal = 3")
            #expect(try Self.findings(db) == ["events \(seq[3])", "events \(seq[4])", "events \(seq[5])"])
        }
        do {
            // A keyed chain: positions swapped and the records recomputed without the key. Found
            // with the key; without it the recomputed chain holds (as a recomputed audit chain).
            let (database, db) = try Self.sealedOutbox(.postgres, batches: 2, key: Self.key)
            #expect(try Self.findings(db, key: Self.key) == [])
            let seq = try Self.seqs(db)
            let records = try db.all("SELECT seal, first_position, seqs FROM outbox_seals ORDER BY seal") { ($0.int(0), $0.int(1), $0.text(2)) }
            #expect(records.count == 2)
            try Self.tamper(database, "UPDATE events SET position = -1 WHERE seq = \(seq[1])",
                            "UPDATE events SET position = 2 WHERE seq = \(seq[2])",
                            "UPDATE events SET position = 3 WHERE seq = \(seq[1])")
            var previous = ""
            for (seal, first, _) in records {
                let seqs = seal == 1 ? "[\(seq[0])]" : "[\(seq[2]),\(seq[1])]"
                previous = OutboxSeals.link(previous: previous, seal: seal, first: first, seqs: seqs, key: nil)
                try Self.tamper(database, "UPDATE outbox_seals SET seqs = '\(seqs)', hash = '\(previous)' WHERE seal = \(seal)")
            }
            // The links agree; the last unkeyed record lists events keyed audit rows wrote.
            #expect(try Self.findings(db, key: Self.key) == ["outbox_seals 2"])
            #expect(try Self.findings(db, key: nil) == [])
            // Recomputed with a key of the attacker's: not the host's.
            previous = ""
            for (seal, first, _) in records {
                let seqs = seal == 1 ? "[\(seq[0])]" : "[\(seq[2]),\(seq[1])]"
                previous = OutboxSeals.link(previous: previous, seal: seal, first: first, seqs: seqs, key: Array(repeating: 0xa5, count: 32))
                try Self.tamper(database, "UPDATE outbox_seals SET hash = '\(previous)' WHERE seal = \(seal)")
            }
            #expect(try Self.findings(db, key: Self.key) == ["outbox_seals 1", "outbox_seals 2"])
        }
    }

    /// The audit seal lists the outbox's last record, so that the chain (and the head a host
    /// keeps) covers the records: the last record removed with its events' positions cleared —
    /// which reads, to the outbox check alone, as events not yet sealed — breaks the seal chain.
    @Test(.enabled(if: postgresTestURL != nil, "BILLING_TEST_POSTGRES_URL is not set (make test-pg)"))
    func theAuditSealCoversTheRecords() throws {
        let (database, db) = try Self.sealedOutbox(.postgres, batches: 3)
        try AuditLog.seal(db)
        let heads = try db.first("SELECT heads FROM audit_seals ORDER BY position DESC LIMIT 1") { $0.text(0) } ?? ""
        let last = try db.first("SELECT hash FROM outbox_seals WHERE seal = 3") { $0.text(0) } ?? "?"
        #expect(heads.contains("[\"outbox\",3,\"\(last)\"]"), "\(heads)")
        #expect(try db.transaction(write: false) { try AuditLog.firstBrokenLink(db) }.broken == nil)
        try Self.tamper(database, "DELETE FROM outbox_seals WHERE seal = 3", "UPDATE events SET position = NULL WHERE position >= 4")
        #expect(try Self.findings(db) == [])
        let broken = try db.transaction(write: false) { try AuditLog.firstBrokenLink(db) }.broken
        #expect(broken?.detail.contains("outbox seal 3") == true, "\(String(describing: broken))")
    }

    /// On a keyed database the sealer needs the key: a handle without it cannot extend the
    /// records (nothing is sealed), one with it can.
    @Test(.enabled(if: postgresTestURL != nil, "BILLING_TEST_POSTGRES_URL is not set (make test-pg)"))
    func aKeyedOutboxNeedsTheKeyToSeal() throws {
        let (database, keyed) = try Self.sealedOutbox(.postgres, batches: 1, key: Self.key)
        try keyed.transaction(write: true) {
            try EventLog.append(keyed, type: "test.appended", account: nil, subject: "later", at: 0, data: [:])
        }
        let keyless = try database.connect()
        do {
            try EventLog.seal(keyless)
            Issue.record("a keyless handle sealed a keyed outbox")
        } catch let error as BillingError {
            #expect(error.reason == Reason.auditKeyRequired.name)
        }
        #expect(try keyless.first("SELECT count(*) FROM events WHERE position IS NULL") { $0.int(0) } == 1)
        #expect(try EventLog.seal(keyed) == 1)
        #expect(try Self.findings(keyed, key: Self.key) == [])
    }

    /// A copy from SQLite into PostgreSQL records the positions it brought (runs of consecutive
    /// positions): verify on the copy is clean, a swap there is found, and new events sealed on
    /// the copy are recorded after them.
    @Test(.enabled(if: postgresTestURL != nil, "BILLING_TEST_POSTGRES_URL is not set (make test-pg)"))
    func aCopyRecordsThePositionsItBrought() throws {
        let (file, source) = try Self.sealedOutbox(.sqlite, batches: 3)
        defer { withExtendedLifetime(file) {} }
        // A file upgraded from before positions keeps holes where sequence numbers had them.
        try source.transaction(write: true) {
            try source.run("UPDATE events SET position = position + 10 WHERE position > 4")
        }
        #expect(try Self.findings(source) == [])
        let target = try ConformanceDatabase(.postgres)
        let destination = try target.connect()
        try Migrator.migrate(destination)
        _ = try DatabaseTransfer.copy(from: source, to: destination)
        let records = try destination.all("SELECT first_position, seqs FROM outbox_seals ORDER BY seal") { ($0.int(0), $0.text(1)) }
        let seq = try Self.seqs(destination)
        #expect(records.map(\.0) == [1, 15])
        #expect(records.map(\.1) == ["[\(seq[0]),\(seq[1]),\(seq[2]),\(seq[3])]", "[\(seq[4]),\(seq[5])]"])
        #expect(try Self.findings(destination) == [])
        try destination.transaction(write: true) {
            try EventLog.append(destination, type: "test.appended", account: nil, subject: "on the copy", at: 0, data: [:])
        }
        #expect(try EventLog.seal(destination) == 1)
        #expect(try destination.first("SELECT first_position FROM outbox_seals ORDER BY seal DESC LIMIT 1") { $0.int(0) } == 17)
        #expect(try Self.findings(destination) == [])
        try Self.tamper(target, "UPDATE events SET position = -1 WHERE seq = \(seq[0])",
                        "UPDATE events SET position = 1 WHERE seq = \(seq[1])",
                        "UPDATE events SET position = 2 WHERE seq = \(seq[0])")
        #expect(try Self.findings(destination) == ["events \(seq[0])", "events \(seq[1])"])
    }

    /// One event and its audit row in `account`'s audit scope, keyed with the handle's key.
    static func write(_ db: Connection, account: String, subject: String) throws {
        try db.transaction(write: true) {
            try EventLog.append(db, type: "test.appended", account: account, subject: subject, at: 0, data: [:])
            let seq = try db.first("SELECT seq FROM events WHERE subject_id = ?", subject) { $0.int(0) }!
            try AuditLog.appendRow(db, at: 0, actor: "test", operation: "test.append", account: account, subject: nil, detail: [:],
                                   writes: [RowCoverage.Write(table: "events", key: "[\(seq)]", digest: "test")])
        }
    }

    /// Writers need the key per audit scope: a keyless handle writes in scope B while scope A
    /// is keyed, so the log's last row may be unkeyed. The sealer's rule is the records' and
    /// the events' own: a keyless handle seals events no keyed row wrote while the records are
    /// unkeyed, is refused a batch holding one a keyed row wrote (not an unkeyed record verify
    /// would call tampering), and the keyed handle seals it; verify with the key stays clean.
    @Test(.enabled(if: postgresTestURL != nil, "BILLING_TEST_POSTGRES_URL is not set (make test-pg)"))
    func aKeylessScopeBesideAKeyedOneSealsWithoutFalseTampering() throws {
        let database = try ConformanceDatabase(.postgres)
        let keyless = try database.connect()
        try Migrator.migrate(keyless)
        let keyed = try database.connect()
        keyed.session.auditKey = Self.key
        try Self.write(keyless, account: "b", subject: "b1")
        #expect(try EventLog.seal(keyless) == 1, "nothing keyed yet: the keyless handle seals")
        try Self.write(keyed, account: "a", subject: "a1")
        try Self.write(keyless, account: "b", subject: "b2")
        let lastRow = try keyless.first("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1") { $0.text(0) } ?? ""
        #expect(!lastRow.hasPrefix(AuditLog.keyedPrefix), "the log's last row is scope B's, unkeyed")
        do {
            try EventLog.seal(keyless)
            Issue.record("a keyless handle sealed an event a keyed audit row wrote")
        } catch let error as BillingError {
            #expect(error.reason == Reason.auditKeyRequired.name)
        }
        #expect(try keyless.first("SELECT count(*) FROM events WHERE position IS NULL") { $0.int(0) } == 2, "nothing was sealed")
        #expect(try Self.findings(keyed, key: Self.key) == [])
        #expect(try EventLog.seal(keyed) == 2)
        #expect(try keyed.first("SELECT hash FROM outbox_seals ORDER BY seal DESC LIMIT 1") { $0.text(0) }?.hasPrefix(AuditLog.keyedPrefix) == true)
        #expect(try Self.findings(keyed, key: Self.key) == [])
        #expect(try Self.findings(keyless, key: nil) == [])
        // After a keyed record the chain stays keyed, whoever wrote the events.
        try Self.write(keyless, account: "b", subject: "b3")
        #expect(throws: BillingError.self) { try EventLog.seal(keyless) }
        #expect(try EventLog.seal(keyed) == 1)
        #expect(try Self.findings(keyed, key: Self.key) == [])
        // A keyless verify checks the slots, and counts the keyed links it could not check.
        #expect(try OutboxSeals.uncheckedLinks(keyless, key: nil) == 2)
        #expect(try OutboxSeals.uncheckedLinks(keyed, key: Self.key) == 0)
    }

    /// Positions and records set near the greatest integer outside the library: the sealer and
    /// the copy's recording refuse with a storage error, verify reports them; nothing traps.
    @Test(.enabled(if: postgresTestURL != nil, "BILLING_TEST_POSTGRES_URL is not set (make test-pg)"))
    func positionsNearTheGreatestIntegerAreRefusedAndReported() throws {
        do {
            let (database, db) = try Self.sealedOutbox(.postgres, batches: 2, unsealed: 1)
            let seq = try Self.seqs(db)
            try Self.tamper(database, "UPDATE events SET position = \(Int64.max) WHERE seq = \(seq[2])")
            do {
                try EventLog.seal(db)
                Issue.record("sealed past the greatest position")
            } catch let error as BillingError {
                #expect(error.reason == Reason.storedValueUnreadable.name)
            }
            #expect(try db.first("SELECT count(*) FROM events WHERE position IS NULL") { $0.int(0) } == 1)
            #expect(try Self.findings(db) == ["events \(seq[2])"])
        }
        do {
            let (database, db) = try Self.sealedOutbox(.postgres, batches: 2)
            let seq = try Self.seqs(db)
            try Self.tamper(database, "UPDATE outbox_seals SET first_position = \(Int64.max) WHERE seal = 2")
            let findings = try Self.findings(db)
            #expect(findings.contains("outbox_seals 2"))
            #expect(findings.contains("events \(seq[1])") && findings.contains("events \(seq[2])"), "\(findings)")
            do {
                try db.transaction(write: true) { try OutboxSeals.recordCopied(db, key: nil) }
                Issue.record("recorded a copy after a record past the greatest position")
            } catch let error as BillingError {
                #expect(error.reason == Reason.storedValueUnreadable.name)
            }
        }
    }

    /// A verify without the key checks the keyed records' slots, not their links, and says so:
    /// they are counted as unchecked links.
    @Test(.enabled(if: postgresTestURL != nil, "BILLING_TEST_POSTGRES_URL is not set (make test-pg)"))
    func aKeylessVerifyCountsKeyedRecordsUnchecked() throws {
        let (database, db) = try Self.sealedOutbox(.postgres, batches: 3, key: Self.key)
        defer { withExtendedLifetime(database) {} }
        #expect(try OutboxSeals.uncheckedLinks(db, key: nil) == 3)
        #expect(try OutboxSeals.uncheckedLinks(db, key: Self.key) == 0)
        #expect(try Self.findings(db, key: nil) == [])
    }
}
