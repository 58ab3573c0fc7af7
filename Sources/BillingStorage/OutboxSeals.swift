import BillingDomain
import BillingDocuments

/// What makes event positions tamper-evident where a sealer gives them after commit
/// (PostgreSQL): each batch of positions the sealer hands out is recorded in `outbox_seals` in
/// the same short transaction, as the first position and the `seq` of every event it numbered,
/// in position order; the records are chained like the audit seals (each hash covers the
/// previous record's hash, keyed with the host's `audit_key` when the handle has it).
///
/// Verify (`breaches`) walks the chain, then merges the records' (position, seq) slots with the
/// events in position order: an event whose position was cleared, swapped, moved or set outside
/// the library no longer sits in its slot, and an edited or removed record breaks the chain or
/// leaves its events in no slot. An event without a position and in no record is one committed
/// but not yet sealed, not an error.
///
/// Where writers take turns (SQLite) positions are given at insert inside the write lock and
/// follow `seq`, which verify checks directly (`EventLog.misplaced`): the table stays empty
/// there, and an insert pays for no record. docs/postgresql.md argues both.
package enum OutboxSeals {
    /// The scope under which an audit seal lists the last record (`AuditLog.seal`): no audit
    /// row has it (theirs are "account:…", "actor:…", or none).
    package static let scope = "outbox"

    /// The most slots one record holds when a copy records the positions it brought (a sealer's
    /// batch is whatever committed since the last read, one record whatever its size).
    static let copiedRecordSlots = 10_000

    /// Records one batch: `seqs` given positions `first`, `first + 1`, … in that order. Inside
    /// the sealer's (or the copy's) transaction, after the positions were set. `key` keys the
    /// link (nil: unkeyed).
    static func record(_ db: Connection, first: Int64, seqs: [Int64], key: [UInt8]?) throws {
        guard !seqs.isEmpty else { return }
        let last = try db.first("SELECT seal, hash FROM outbox_seals ORDER BY seal DESC LIMIT 1") { ($0.int(0), $0.text(1)) }
        let seal = (last?.0 ?? 0) + 1
        let text = list(seqs)
        try db.run("INSERT INTO outbox_seals (seal, first_position, seqs, hash) VALUES (?, ?, ?, ?)", seal, first, text,
                   link(previous: last?.1 ?? "", seal: seal, first: first, seqs: text, key: key))
    }

    /// The key the sealer links its record of `seqs` with: the handle's, whenever it has one.
    /// Where the record must be keyed (`keyRequired`) the handle must have the key, checked
    /// once against the audit chain as a writer's is (`audit_key_required`,
    /// `audit_key_mismatch`): records nobody can check would read as tampering.
    static func sealingKey(_ db: Connection, seqs: [Int64]) throws -> [UInt8]? {
        if try keyRequired(db, seqs: list(seqs)) { try AuditLog.requireKey(db) }
        return db.session.auditKey
    }

    /// The one rule the sealer, the copy and verify share: a record must be keyed when the
    /// last record is (the chain stays keyed), or when any event it lists was written by a
    /// keyed audit row (what verify checks of the last unkeyed record). Not the audit log's
    /// last row: writers need the key per audit scope, so a keyless handle may write in a
    /// scope that never was keyed while another scope is.
    static func keyRequired(_ db: Connection, seqs list: String) throws -> Bool {
        let last = try db.first("SELECT hash FROM outbox_seals ORDER BY seal DESC LIMIT 1") { $0.optionalText(0) } ?? nil
        if last?.hasPrefix(AuditLog.keyedPrefix) == true { return true }
        return try writtenWithKey(db, seqs: list) != nil
    }

    /// The first of the events listed (a JSON array of `seq`s) written by a keyed audit row
    /// (its row digest names it), in one statement.
    static func writtenWithKey(_ db: Connection, seqs list: String) throws -> Int64? {
        try db.first(db.dialect.eventWrittenWithKey, list) { $0.int(0) }
    }

    private static func list(_ seqs: [Int64]) -> String {
        "[" + seqs.map(String.init).joined(separator: ",") + "]"
    }

    /// A stored position or record too near the greatest integer to count on from: only an
    /// edit outside the library puts one there, and adding to it would trap.
    static func positionOverflow(_ what: String) -> BillingError {
        BillingError(.storedValueUnreadable,
                     "\(what) is too near the greatest position to count on from (edited outside the library); nothing was sealed: restore from a backup")
    }

    /// Records the positions a copy brought (given at insert by the SQLite source, so in `seq`
    /// order there): every positioned event after the last record, as runs of consecutive
    /// positions of at most `copiedRecordSlots`. `key` is the copying handle's audit key (the
    /// copy is opened with the same key), checked against the copied chain.
    package static func recordCopied(_ db: Connection, key: [UInt8]?) throws {
        let last = try db.first("SELECT seal, first_position, seqs FROM outbox_seals ORDER BY seal DESC LIMIT 1") { row in
            (row.int(0), row.int(1), Int64(parseSeqs(row.text(2))?.count ?? 0))
        }
        var recorded: Int64 = 0
        if let last {
            let (end, overflow) = last.1.addingReportingOverflow(last.2 - 1)
            if overflow { throw positionOverflow("outbox seal \(last.0)'s first position \(last.1)") }
            recorded = end
        }
        var first: Int64 = 0
        var run: [Int64] = []
        var batches: [(first: Int64, seqs: [Int64])] = []
        try db.forEach("SELECT position, seq FROM events WHERE position > ? ORDER BY position", [recorded]) { row in
            let position = row.int(0)
            // Positions come in order: past the greatest integer, none can follow the run.
            let (next, overflow) = first.addingReportingOverflow(Int64(run.count))
            if run.isEmpty || overflow || position != next || run.count >= copiedRecordSlots {
                if !run.isEmpty { batches.append((first, run)) }
                first = position
                run = []
            }
            run.append(row.int(1))
        }
        if !run.isEmpty { batches.append((first, run)) }
        guard !batches.isEmpty else { return }
        // The sealer's rule (`keyRequired`): records of events keyed rows wrote are keyed (verify
        // reports an unkeyed one), so their copy needs the key, as a sealer does. One statement
        // per record's worth of events.
        var required = false
        for batch in batches where !required {
            required = try keyRequired(db, seqs: list(batch.seqs))
        }
        if required {
            guard let key else {
                throw BillingError.refused(.auditKeyRequired,
                                           "this database's audit chain is keyed: copy it into PostgreSQL from a handle opened with its audit_key (the copy records its event positions, keyed)")
            }
            try AuditLog.checkKey(db, key)
        }
        for batch in batches { try record(db, first: batch.first, seqs: batch.seqs, key: key) }
    }

    /// The hash of a record given the previous record's: its number, first position and list
    /// of `seq`s, hashed as the audit chain's links are (`AuditLog.chainLink`).
    package static func link(previous: String, seal: Int64, first: Int64, seqs: String, key: [UInt8]?) -> String {
        AuditLog.chainLink("libbilling outbox seal 1", ["previous": previous, "seal": String(seal), "first": String(first), "seqs": seqs],
                           key: key)
    }

    /// A record's list of `seq`s, nil when it is not a list of integers.
    private static func parseSeqs(_ text: String) -> [Int64]? {
        guard case .array(let items)? = try? JSONValue.parse(text) else { return nil }
        var seqs: [Int64] = []
        seqs.reserveCapacity(items.count)
        for item in items {
            guard case .integer(let seq) = item else { return nil }
            seqs.append(seq)
        }
        return seqs
    }

    /// Keyed records whose links a verify without the key cannot check (it checks their slots
    /// only): counted into `audit_links_unchecked`, as keyed audit rows are.
    package static func uncheckedLinks(_ db: Connection, key: [UInt8]?) throws -> Int64 {
        guard key == nil else { return 0 }
        return try db.first("SELECT count(*) FROM outbox_seals WHERE hash LIKE 'k:%'") { $0.int(0) } ?? 0
    }

    /// Verify's findings on a backend whose sealer gives positions: records that do not follow
    /// from the one before them (edited, removed, reordered, recomputed without the key) or
    /// overlap an earlier one, by seal number (`outbox_seals`); events not at the position their
    /// record gave them, by `seq` (`events`), each once. Keyed links are checked given `key`
    /// (without it only the slots are); a record after a keyed one must be keyed.
    package static func breaches(_ db: Connection, key: [UInt8]?) throws -> [(table: String, key: Int64, detail: String)] {
        var found: [(table: String, key: Int64, detail: String)] = []
        var reported = Set<Int64>()
        func event(_ seq: Int64, _ detail: String) {
            if reported.insert(seq).inserted { found.append(("events", seq, detail)) }
        }
        var records: [(seal: Int64, first: Int64, seqs: [Int64])] = []
        var lastUnkeyed: (seal: Int64, seqs: String)?
        var previous = ""
        var keyedSeen = false
        var end: Int64 = 0
        try db.forEach("SELECT seal, first_position, seqs, hash FROM outbox_seals ORDER BY seal") { row in
            let (seal, first, text, hash) = (row.int(0), row.int(1), row.text(2), row.text(3))
            defer { previous = hash }
            let keyed = hash.hasPrefix(AuditLog.keyedPrefix)
            if keyedSeen && !keyed {
                found.append(("outbox_seals", seal, "outbox seal \(seal) is unkeyed after keyed seals (the seals were recomputed without the key)"))
            } else if (!keyed || key != nil) && hash != link(previous: previous, seal: seal, first: first, seqs: text, key: keyed ? key : nil) {
                found.append(("outbox_seals", seal, "outbox seal \(seal) does not follow from the seal before it (edited, removed or reordered): the positions it gave cannot be trusted"))
            }
            keyedSeen = keyedSeen || keyed
            guard let seqs = parseSeqs(text), !seqs.isEmpty else {
                found.append(("outbox_seals", seal, "outbox seal \(seal) does not list the events it gave positions to"))
                return
            }
            guard first > end else {
                found.append(("outbox_seals", seal, "outbox seal \(seal) gives positions from \(first), which an earlier seal already gave"))
                return
            }
            let (last, overflow) = first.addingReportingOverflow(Int64(seqs.count) - 1)
            guard !overflow else {
                found.append(("outbox_seals", seal, "outbox seal \(seal) gives positions from \(first) to beyond the greatest a position can hold: it was edited"))
                return
            }
            end = last
            records.append((seal, first, seqs))
            if !keyed { lastUnkeyed = (seal, text) }
        }
        // Given the key, the sealer's rule (`keyRequired`): a record listing an event a keyed
        // audit row wrote is keyed, so the last unkeyed one lists none (one statement, however
        // many it lists). Records recomputed without the key fail this at their end; the
        // earlier ones cannot change without breaking the links after them. Only the last
        // unkeyed record is read: its events are the latest.
        if key != nil, let lastUnkeyed, let seq = try writtenWithKey(db, seqs: lastUnkeyed.seqs) {
            found.append(("outbox_seals", lastUnkeyed.seal, "outbox seal \(lastUnkeyed.seal) is unkeyed but gives positions to events written with the key (event \(seq)): the seals were recomputed without the key"))
        }
        // The records' slots in position order (they increase with the seal number), merged
        // with the positioned events in position order.
        var recordIndex = 0
        var slotIndex = 0
        func slot() -> (position: Int64, seq: Int64, seal: Int64)? {
            guard recordIndex < records.count else { return nil }
            let record = records[recordIndex]
            return (record.first + Int64(slotIndex), record.seqs[slotIndex], record.seal)
        }
        func advance() {
            slotIndex += 1
            if slotIndex == records[recordIndex].seqs.count { recordIndex += 1; slotIndex = 0 }
        }
        func vacant(_ slot: (position: Int64, seq: Int64, seal: Int64)) {
            event(slot.seq, "outbox seal \(slot.seal) gave it position \(slot.position), which it no longer holds: its position was cleared or changed (hosts paging the outbox miss it or see it twice)")
        }
        try db.forEach("SELECT seq, position FROM events WHERE position IS NOT NULL ORDER BY position") { row in
            let (seq, position) = (row.int(0), row.int(1))
            while let current = slot(), current.position < position {
                vacant(current)
                advance()
            }
            if let current = slot(), current.position == position {
                if current.seq != seq {
                    // Both are out of place: this event, and the one the slot was given to.
                    event(seq, "its position \(position) was given by outbox seal \(current.seal) to event \(current.seq): the outbox order was changed")
                    event(current.seq, "outbox seal \(current.seal) gave it position \(position), which event \(seq) holds now: the outbox order was changed")
                }
                advance()
            } else {
                event(seq, "its position \(position) was given by no outbox seal: it was set outside the library")
            }
        }
        while let current = slot() {
            vacant(current)
            advance()
        }
        return found
    }
}
