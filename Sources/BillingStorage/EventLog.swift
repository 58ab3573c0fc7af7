import BillingDomain
import BillingDocuments

/// The event outbox: every state change appends a row; hosts page it by `position`, a number
/// given only to events whose transaction committed, in the order they became visible, so a
/// reader paging by cursor never skips an event that commits late and sees each one once.
///
/// `seq` is taken at insert (the row's key, what row coverage names); on a backend whose
/// writers run at once (PostgreSQL) a transaction that took a lower `seq` may commit after one
/// that took a higher, so `seq` is not commit order there. Positions are given:
/// - where writers take turns (SQLite's `BEGIN IMMEDIATE`), by the insert itself: the next
///   position after the greatest, inside the write lock. Insert order is commit order, and a
///   rolled-back transaction takes its positions with it.
/// - elsewhere, by `seal`: events are inserted without a position (writers share no row, so
///   they never wait for each other here), and a short transaction run before each read of the
///   outbox numbers every committed event without one, in `seq` order, after the greatest
///   position, and records which event got which position (`OutboxSeals`, a chain verify
///   checks); sealers take turns on the `outbox_head` row. docs/postgresql.md argues it.
///
/// Hosts see the position as the event's `seq` and as the cursor; existing events were given
/// their sequence as position by the migration, so cursors kept from before still hold.
package enum EventLog {
    /// The insert where the insert order is the commit order: the position is the next one.
    private static let insertPositioned = """
        INSERT INTO events (type, account_id, subject_id, occurred_at, data, position)
        VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM events))
        """
    /// The insert where it is not: a sealer gives the position once the event has committed.
    private static let insertUnsealed = "INSERT INTO events (type, account_id, subject_id, occurred_at, data) VALUES (?, ?, ?, ?, ?)"

    package static func append(_ db: Connection, type: String, account: String?, subject: String?, at: Int64, data: JSONValue) throws {
        try append(db, type: type, account: account, subject: subject, at: at, dataText: data.text)
    }

    /// `append` with the data already written as the text `data.text` would give (a direct
    /// writer of a hot path, `JSONWriter+Fields.swift`): no tree built, hashed and sorted.
    package static func append(_ db: Connection, type: String, account: String?, subject: String?, at: Int64, dataText: String) throws {
        // The values built here, on the stack, not through `run`'s parameter pack: its two
        // optional arguments went through generic witnesses for every event.
        let sql = db.writersTakeTurns ? insertPositioned : insertUnsealed
        _ = try withUnsafeTemporaryAllocation(of: DatabaseValue.self, capacity: 5) { buffer in
            buffer.initializeElement(at: 0, to: .text(type))
            buffer.initializeElement(at: 1, to: account.map { .text($0) } ?? .null)
            buffer.initializeElement(at: 2, to: subject.map { .text($0) } ?? .null)
            buffer.initializeElement(at: 3, to: .integer(at))
            buffer.initializeElement(at: 4, to: .text(dataText))
            defer { buffer.deinitialize() }
            return try db.execute(sql, values: UnsafeBufferPointer(buffer))
        }
    }

    /// Gives a position to every committed event without one (none where writers take turns,
    /// whose inserts number themselves): outside any transaction, before a read of the outbox.
    /// Returns how many events it numbered.
    ///
    /// It locks the head row first, so sealers take turns; under `READ COMMITTED` (see
    /// `Connection.bookkeeping`) each following statement then sees every event committed
    /// before it, the previous sealer's positions included. Events that commit while it runs
    /// are left for the next sealer, which numbers them above every position given here: the
    /// positions visible to a reader are always 1…head, without a hole.
    @discardableResult
    package static func seal(_ db: Connection) throws -> Int {
        guard !db.writersTakeTurns else { return 0 }
        // Most reads find nothing to seal: they take no lock and write nothing.
        guard try db.first("SELECT 1 FROM events WHERE position IS NULL LIMIT 1", map: { _ in true }) == true else { return 0 }
        return try db.bookkeeping {
            try db.run("UPDATE outbox_head SET seals = seals + 1 WHERE id = 1")
            let greatest = try end(db)
            let unsealed = try db.all("SELECT seq FROM events WHERE position IS NULL ORDER BY seq") { $0.int(0) }
            guard !unsealed.isEmpty else { return 0 }  // another sealer numbered them meanwhile
            // Only a position edited outside the library comes near the greatest integer:
            // refused, not counted past it (which would trap).
            let (last, overflow) = greatest.addingReportingOverflow(Int64(unsealed.count))
            if overflow { throw OutboxSeals.positionOverflow("the greatest event position \(greatest)") }
            let first = last - Int64(unsealed.count) + 1
            for (index, seq) in unsealed.enumerated() {
                try db.run("UPDATE events SET position = ? WHERE seq = ?", first + Int64(index), seq)
            }
            // Which event got which position, chained to the previous batch: nothing else
            // stored records the order of commits, and verify checks positions against it.
            try OutboxSeals.record(db, first: first, seqs: unsealed, key: try OutboxSeals.sealingKey(db, seqs: unsealed))
            // The position is not part of an event's row digest (RowCoverage), so the rows the
            // sealer touched keep the digests their operations recorded: nothing to audit.
            if db.tracksChanges {
                let others = try db.takeTouchedRows().filter { $0.table != "events" }
                if let other = others.first {
                    throw BillingError(.unauditedWrite, "sealing the outbox found a write to \(other.table) without its audit row; nothing was sealed")
                }
            }
            return unsealed.count
        }
    }

    /// Events after a position, oldest first, optionally of one account; `seq` in each is the
    /// position.
    package static func page(_ db: Connection, after: Int64, limit: Int64, account: String?) throws -> [JSONValue] {
        let sql = account == nil
            ? "SELECT position, type, account_id, subject_id, occurred_at, data FROM events WHERE position > ? ORDER BY position LIMIT ?"
            : "SELECT position, type, account_id, subject_id, occurred_at, data FROM events WHERE account_id = ? AND position > ? ORDER BY position LIMIT ?"
        let arguments: [DatabaseBindable] = account.map { [$0, after, limit] } ?? [after, limit]
        var rows: [JSONValue] = []
        try db.forEach(sql, arguments) { row in
            rows.append([
                "seq": .integer(row.int(0)),
                "type": .string(row.text(1)),
                "account_id": JSONValue(row.optionalText(2)),
                "subject_id": JSONValue(row.optionalText(3)),
                "occurred_at": .integer(row.int(4)),
                "data": try StoredValue.document(row.optionalText(5), "data of event \(row.int(0))"),
            ])
        }
        return rows
    }

    /// The greatest position given (0 when none is): after a seal, the cursor after which only
    /// events still to come are listed.
    package static func end(_ db: Connection) throws -> Int64 {
        try db.first("SELECT COALESCE(MAX(position), 0) FROM events", map: { $0.int(0) }) ?? 0
    }

    /// Events whose position is not the one they were given (verify), and on PostgreSQL the
    /// records of the positions given (`outbox_seals`) that were changed: where writers take
    /// turns every event has a position and positions grow with `seq`, so a position cleared,
    /// swapped or moved shows; elsewhere an event may wait for its position, and positions
    /// follow the order of commits, which the sealer records batch by batch in a chain of its
    /// own (`OutboxSeals.breaches`, keyed with `key` when the records are). Positions are unique
    /// by their index everywhere.
    package static func misplaced(_ db: Connection, key: [UInt8]?) throws -> [(table: String, key: Int64, detail: String)] {
        guard db.writersTakeTurns else { return try OutboxSeals.breaches(db, key: key) }
        var found: [(table: String, key: Int64, detail: String)] = []
        try db.forEach("""
            SELECT seq, position, before FROM (
                SELECT seq, position, LAG(position) OVER (ORDER BY seq) AS before FROM events) AS ordered
            WHERE position IS NULL OR position <= before
            """) { row in
            let seq = row.int(0)
            if row.columnKind(1) == .null {
                found.append(("events", seq, "the event has no position: hosts paging the outbox never see it"))
            } else {
                found.append(("events", seq, "its position \(row.int(1)) is not after the position \(row.int(2)) of the event written before it: the outbox order was changed"))
            }
        }
        return found
    }
}
