#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import BillingDomain
import BillingDocuments
@testable import BillingStorage

/// Issue 18 item 4: events are seen exactly once, in commit order, by a host paging the outbox
/// while writers on other connections (other hosts) append — on SQLite, and on PostgreSQL when
/// the throwaway cluster is up (`make test-pg`), where a sequence number taken at insert is not
/// commit order and a sealer gives positions (EventLog).
@Suite("Event outbox in commit order (SQLite; PostgreSQL with make test-pg)", .serialized)
struct PostgresEventOrderTests {

    /// A database of `backend` holding the outbox at its latest schema, and a connection to it.
    static func outbox(_ backend: ConformanceBackend) throws -> (ConformanceDatabase, Connection) {
        let database = try ConformanceDatabase(backend)
        let db = try database.connect()
        try Migrator.migrate(db)
        return (database, db)
    }

    /// Reads the whole outbox after `cursor` the way a host does: seal, then pages of `limit`.
    static func drain(_ db: Connection, after cursor: inout Int64, limit: Int64) throws -> [(position: Int64, subject: String)] {
        var seen: [(position: Int64, subject: String)] = []
        while true {
            try EventLog.seal(db)
            let page = try db.transaction(write: false) { try EventLog.page(db, after: cursor, limit: limit, account: nil) }
            for event in page {
                guard case .object(let fields) = event, case .integer(let position)? = fields["seq"],
                      case .string(let subject)? = fields["subject_id"] else { continue }
                seen.append((position, subject))
                cursor = position
            }
            if page.count < limit { return seen }
        }
    }

    /// Several writers, each on its own connection, append events in transactions that stay
    /// open a little (so that, on PostgreSQL, later sequence numbers commit first), while a
    /// reader pages with a small limit. The reader's sequence is exactly the committed events,
    /// each once, in position order, and positions run 1…n without a hole. (On PostgreSQL a
    /// run typically has over a hundred pairs of events whose `seq` order is not their
    /// position order: transactions did commit out of insert order.)
    @Test(arguments: ConformanceBackend.available)
    func concurrentWritersAndAPagingReader(_ backend: ConformanceBackend) throws {
        let (database, reader) = try Self.outbox(backend)
        let writers = 4, transactions = 25
        let committed = Locked<[String]>([])
        let failures = Locked<[String]>([])
        let done = Locked(0)
        var threads: [Thread] = []
        for writer in 0..<writers {
            let handle = Unchecked(try database.connect())
            let thread = Thread {
                let db = handle.value
                do {
                    for n in 0..<transactions {
                        let subjects = (0..<(1 + (n % 3))).map { "w\(writer)-t\(n)-e\($0)" }
                        try db.transaction(write: true) {
                            for subject in subjects {
                                try EventLog.append(db, type: "test.appended", account: "a\(writer)", subject: subject, at: 0, data: [:])
                                usleep(UInt32.random(in: 0...1500))
                            }
                        }
                        committed.withLock { $0 += subjects }
                    }
                } catch {
                    failures.withLock { $0.append("writer \(writer): \(error)") }
                }
                done.withLock { $0 += 1 }
            }
            threads.append(thread)
        }
        threads.forEach { $0.start() }
        var cursor: Int64 = 0
        var seen: [(position: Int64, subject: String)] = []
        while done.withLock({ $0 }) < writers {
            seen += try Self.drain(reader, after: &cursor, limit: 3)
            usleep(500)
        }
        seen += try Self.drain(reader, after: &cursor, limit: 3)
        #expect(failures.withLock { $0 } == [])

        let expected = committed.withLock { $0 }
        #expect(seen.count == expected.count)
        #expect(Set(seen.map(\.subject)).count == seen.count, "an event was seen twice")
        #expect(Set(seen.map(\.subject)) == Set(expected), "the reader's events are not the committed ones")
        #expect(seen.map(\.position) == Array(1...Int64(seen.count)), "positions are not 1…n in the order read")
        // The outbox as stored: every event has its position, in the order the reader saw.
        let stored = try reader.transaction(write: false) {
            try reader.all("SELECT position, subject_id FROM events ORDER BY position") { ($0.optionalInt(0), $0.text(1)) }
        }
        #expect(stored.map(\.0) == seen.map { Optional($0.position) })
        #expect(stored.map(\.1) == seen.map(\.subject))
        #expect(try EventLog.misplaced(reader, key: nil).isEmpty)
        // Each writer's own events keep its order (one writer commits them one after another).
        for writer in 0..<writers {
            let own = seen.map(\.subject).filter { $0.hasPrefix("w\(writer)-") }
            #expect(own == expected.filter { $0.hasPrefix("w\(writer)-") })
        }
    }

    /// The case a sequence number gets wrong: T1 inserts first (lower `seq`) and commits after
    /// T2. A reader that paged past T2's event must still see T1's, after it.
    @Test(.enabled(if: postgresTestURL != nil, "BILLING_TEST_POSTGRES_URL is not set (make test-pg)"))
    func aLateCommitIsSeenAfterTheCursor() throws {
        let (database, reader) = try Self.outbox(.postgres)
        let handle = Unchecked(try database.connect()), early = try database.connect()
        let inserted = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), finished = DispatchSemaphore(value: 0)
        let failure = Locked<String?>(nil)
        Thread {
            let late = handle.value
            do {
                try late.transaction(write: true) {
                    try EventLog.append(late, type: "test.appended", account: nil, subject: "late", at: 0, data: [:])
                    inserted.signal()
                    release.wait()
                }
            } catch {
                failure.withLock { $0 = "\(error)" }
                inserted.signal()
            }
            finished.signal()
        }.start()
        inserted.wait()
        try early.transaction(write: true) {
            try EventLog.append(early, type: "test.appended", account: nil, subject: "early", at: 0, data: [:])
        }
        var cursor: Int64 = 0
        let first = try Self.drain(reader, after: &cursor, limit: 10)
        #expect(first.map(\.subject) == ["early"])
        #expect(first.map(\.position) == [1])
        release.signal()
        finished.wait()
        #expect(failure.withLock { $0 } == nil)
        let second = try Self.drain(reader, after: &cursor, limit: 10)
        #expect(second.map(\.subject) == ["late"])
        #expect(second.map(\.position) == [2])
        // Sequence numbers were taken in the other order: paging by them would have skipped it.
        let seqs = try reader.all("SELECT subject_id, seq FROM events ORDER BY seq") { $0.text(0) }
        #expect(seqs == ["late", "early"])
    }

    /// A file written before positions existed: the migration gives every event its sequence
    /// as position, so a cursor kept by a host goes on working, and new events follow.
    @Test func existingCursorsKeepWorking() throws {
        let database = try ConformanceDatabase(.sqlite)
        let db = try database.connect()
        let before = Schema.migrations.firstIndex { $0.contains("ADD COLUMN position") }!
        try Migrator.migrate(db, latest: Int64(before), migrations: Array(Schema.migrations.prefix(before)))
        try db.transaction(write: true) {
            for n in 1...5 {
                try db.run("INSERT INTO events (type, subject_id, occurred_at, data) VALUES ('test.appended', ?, 0, '{}')", "old-\(n)")
            }
        }
        try Migrator.migrate(db)
        try db.transaction(write: true) {
            try EventLog.append(db, type: "test.appended", account: nil, subject: "new-1", at: 0, data: [:])
        }
        var cursor: Int64 = 3  // a host's cursor from before the upgrade: it had read old-1…old-3
        let rest = try Self.drain(db, after: &cursor, limit: 2)
        #expect(rest.map(\.subject) == ["old-4", "old-5", "new-1"])
        #expect(rest.map(\.position) == [4, 5, 6])
        #expect(try EventLog.misplaced(db, key: nil).isEmpty)
        try db.transaction(write: true) { try db.run("UPDATE events SET position = NULL WHERE subject_id = 'old-2'") }
        #expect(try EventLog.misplaced(db, key: nil).map(\.key) == [2])
    }
}

/// A value handed to one other thread, which alone uses it from then on.
final class Unchecked<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A value shared by test threads.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
