import BillingDomain
import BillingDocuments
import BillingSecurity

/// The append-only audit log: who did what, written in the operation's own transaction.
///
/// Rows are chained **per scope**: the account the row names, or for operations about no
/// account the actor (`IdempotencyStore.scope`: "account:<id>" / "actor:<name>", as idempotency
/// keys are scoped). Each row carries BLAKE2b(previous hash of its scope, its own fields and
/// scope, the rows its operation wrote), so deleting, editing or reordering a row breaks its
/// scope's chain at that row, and `verify` names the first broken link. A write reads only its
/// own scope's last row: two writes wait for each other on the chain only when they are about
/// the same account, which they already are about its balance — no global lock (on PostgreSQL,
/// no conflict between every pair of writers). Within a scope the chain runs in id order
/// (writers of one scope take turns on its last row, so a later link has a later id).
///
/// **Seals** tie the scopes together: `seal` (run by `billing_audit_head`, in a short
/// transaction of its own, off every operation's write path) appends one row to `audit_seals`,
/// a chain of its own, listing the head (scope, id, hash) of every scope that moved since the
/// previous seal. The head a host keeps (`head`: the last seal's position and hash) therefore
/// covers every scope: a chain cut at its end or rewritten in any scope no longer matches a
/// seal, and a seal chain cut at its end no longer reaches the kept head.
///
/// Rows written before scopes existed (version 16 and older) have no scope: they stay the one
/// chain they were, verified as before, and the first seal lists its last row.
///
/// A seal also lists, as the scope `outbox`, the last record of event positions
/// (`OutboxSeals`, PostgreSQL's): verify finds it still there as it was, so the kept head covers
/// the order of the outbox too.
package enum AuditLog {
    /// Appends the operation's audit row, listing (and covering) every row it wrote.
    package static func append(_ db: Connection, at: Int64, actor: String, operation: String,
                       account: String?, subject: String?, detail: JSONValue) throws {
        try append(db, at: at, actor: actor, operation: operation, account: account, subject: subject, detailText: detail.text)
    }

    /// `append` with the detail's text already written (`detail.text`'s bytes), by an operation
    /// that writes it directly instead of building its tree.
    package static func append(_ db: Connection, at: Int64, actor: String, operation: String,
                       account: String?, subject: String?, detailText: String) throws {
        try appendRow(db, at: at, actor: actor, operation: operation, account: account, subject: subject, detailText: detailText,
                      writes: try RowCoverage.collect(db))
    }

    /// Appends an audit row with a given list of writes, and keeps their digests.
    package static func appendRow(_ db: Connection, at: Int64, actor: String, operation: String, account: String?,
                          subject: String?, detail: JSONValue, writes: [RowCoverage.Write]) throws {
        try appendRow(db, at: at, actor: actor, operation: operation, account: account, subject: subject, detailText: detail.text,
                      writes: writes)
    }

    /// `appendRow` with the detail's text already written.
    package static func appendRow(_ db: Connection, at: Int64, actor: String, operation: String, account: String?,
                          subject: String?, detailText text: String, writes: [RowCoverage.Write]) throws {
        let scope = IdempotencyStore.scope(account: account, actor: actor)
        let previous = try firstRow(db, "SELECT hash FROM audit_log WHERE scope = ? ORDER BY id DESC LIMIT 1", values: .text(scope)) {
            $0.optionalText(0)
        } ?? nil
        // A keyed chain stays keyed: a handle without the key (or with another one) would
        // append links nobody can check, so it may not write. A scope's first row asks the
        // log's last row (once per scope) whether the file is keyed.
        let keyedBy = try previous ?? db.first("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1") { $0.optionalText(0) } ?? nil
        if let keyedBy, keyedBy.hasPrefix(keyedPrefix) {
            try requireKey(db)
        }
        let rows = RowCoverage.listText(writes)
        let hash = link(previous: previous ?? "", at: at, actor: actor, operation: operation, account: account, subject: subject,
                        detail: text, rows: rows, scope: scope, key: db.session.auditKey)
        var id: Int64 = 0
        if db.dialect == .sqlite {
            // The rowid SQLite keeps anyway: `RETURNING` costs SQLite more than reading it.
            try db.run(insertRow, values: .integer(at), .text(actor), .text(operation), account.databaseValue, subject.databaseValue,
                       .text(text), .text(rows), .text(scope), .text(hash))
            id = db.lastInsertRowID
        } else {
            // The id comes back with the insert: `lastval()` took a savepoint and two more
            // round trips.
            for inserted in try db.all(insertRowReturningID, at, actor, operation, account, subject, text, rows, scope, hash,
                                       map: { $0.int(0) }) {
                id = inserted
            }
        }
        try RowCoverage.store(db, writes, list: rows, audit: id)
    }

    private static let insertRow = """
        INSERT INTO audit_log (recorded_at, actor, operation, account_id, subject_id, detail, rows, scope, hash)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    private static let insertRowReturningID = insertRow + " RETURNING id"

    /// The handle's key, checked once against the chain; `audit_key_required` without one.
    /// (The outbox sealer's records are keyed the same way: `OutboxSeals.sealingKey`.)
    package static func requireKey(_ db: Connection) throws {
        guard let key = db.session.auditKey else {
            throw BillingError.refused(.auditKeyRequired,
                                       "this file's audit chain is keyed: open it with the host's audit_key to write to it")
        }
        if !db.session.auditKeyChecked {
            try checkKey(db, key)
            db.session.auditKeyChecked = true
        }
    }

    /// What starts the hash of a row linked with the host's key.
    package static let keyedPrefix = "k:"

    /// The hash of a row given the one before it in its chain: BLAKE2b of its fields, or with a
    /// key the keyed BLAKE2b marked "k:". A row of a scope hashes its fields as length-prefixed
    /// bytes (`chainLink`): no JSON text is built, and the detail and the list of rows are hashed
    /// as they are stored, not escaped again. Rows written before scopes (no scope) hash as they
    /// did then: the JSON object of their fields, without `rows` before row coverage.
    package static func link(previous: String, at: Int64, actor: String, operation: String, account: String?, subject: String?,
                     detail: String, rows: String?, scope: String? = nil, key: [UInt8]? = nil) -> String {
        if let scope {
            // `chainLink("libbilling audit row 2", ["scope": scope, "previous": previous,
            // "at": String(at), "actor": actor, "operation": operation, "account": account,
            // "subject": subject, "detail": detail, "rows": rows])`, its bytes written field by
            // field: the list of pairs was an array of optional strings built and destroyed
            // through the runtime's generic code for every audit row (ChainLinkTests).
            var total = rowHeader.utf8.count + 1
            total += LinkWriter.size("scope", scope) + LinkWriter.size("previous", previous) + LinkWriter.size("at", integer: at)
                + LinkWriter.size("actor", actor) + LinkWriter.size("operation", operation) + LinkWriter.size("account", account)
                + LinkWriter.size("subject", subject) + LinkWriter.size("detail", detail) + LinkWriter.size("rows", rows)
            let bytes = [UInt8](unsafeUninitializedCapacity: total) { buffer, written in
                var writer = LinkWriter(buffer: buffer)
                writer.put(rowHeader)
                writer.put(10)
                writer.field("scope", scope)
                writer.field("previous", previous)
                writer.field("at", integer: at)
                writer.field("actor", actor)
                writer.field("operation", operation)
                writer.field("account", account)
                writer.field("subject", subject)
                writer.field("detail", detail)
                writer.field("rows", rows)
                written = writer.at
            }
            return hashed(bytes, key: key)
        }
        var fields: [String: JSONValue] = ["previous": .string(previous), "at": .integer(at), "actor": .string(actor),
                                           "operation": .string(operation), "account": JSONValue(account),
                                           "subject": JSONValue(subject), "detail": .string(detail)]
        if let rows { fields["rows"] = .string(rows) }
        return hashed(Array(JSONValue.object(fields).text.utf8), key: key)
    }

    /// The header of an audit row's link (`link`, for a row of a scope).
    private static let rowHeader = "libbilling audit row 2"

    /// The hash of a seal given the previous seal's: its position and the heads it lists.
    package static func sealLink(previous: String, position: Int64, heads: String, key: [UInt8]? = nil) -> String {
        chainLink("libbilling audit seal 1", ["previous": previous, "seal": String(position), "heads": heads], key: key)
    }

    /// The one hash of a link in the library's chains — an audit row of a scope, an audit seal,
    /// an outbox seal (`OutboxSeals.link`): BLAKE2b-256 of the `header` line, then each field in
    /// the order given as its name, `=`, `-` for null or the value's length in bytes, `:` and the
    /// value, and a newline (unambiguous whatever a value holds); keyed with `key` (BLAKE2b's MAC
    /// mode) and marked "k:" when given. Stored chains hash these bytes: they may not change.
    package static func chainLink(_ header: String, _ fields: KeyValuePairs<String, String?>, key: [UInt8]?) -> String {
        // The exact length first, then every piece copied into one buffer of that length:
        // appending piece by piece checked the array's uniqueness and capacity for each (a
        // tenth of an audit row's own work).
        var total = header.utf8.count + 1
        for (name, value) in fields {
            total += name.utf8.count + 2
            if let value {
                let count = value.utf8.count
                total += decimalDigits(count) + 1 + count
            } else {
                total += 1
            }
        }
        let bytes = [UInt8](unsafeUninitializedCapacity: total) { buffer, written in
            var writer = LinkWriter(buffer: buffer)
            writer.put(header)
            writer.put(10)
            for (name, value) in fields {
                writer.put(name)
                writer.put(UInt8(ascii: "="))
                if let value {
                    writer.putDecimal(value.utf8.count)
                    writer.put(UInt8(ascii: ":"))
                    writer.put(value)
                } else {
                    writer.put(UInt8(ascii: "-"))
                }
                writer.put(10)
            }
            written = writer.at
        }
        return hashed(bytes, key: key)
    }

    /// How many decimal digits a non-negative number has (`RowCoverage.appendDecimal`'s).
    private static func decimalDigits(_ number: Int) -> Int {
        var digits = 1
        var rest = number
        while rest >= 10 { rest /= 10; digits += 1 }
        return digits
    }

    /// Copies a link's pieces into the buffer `chainLink` sized for them; never past its end,
    /// whatever the lengths counted.
    private struct LinkWriter {
        let buffer: UnsafeMutableBufferPointer<UInt8>
        var at = 0

        mutating func put(_ text: String) {
            var text = text
            let start = at
            let copied = text.withUTF8 { piece -> Int in
                let count = min(piece.count, buffer.count - start)
                if count > 0, let from = piece.baseAddress, let to = buffer.baseAddress {
                    (to + start).initialize(from: from, count: count)
                }
                return max(count, 0)
            }
            at += copied
        }

        /// How many bytes `field` writes.
        static func size(_ name: StaticString, _ value: String?) -> Int {
            guard let value else { return name.utf8CodeUnitCount + 3 }
            let count = value.utf8.count
            return name.utf8CodeUnitCount + 2 + decimalDigits(count) + 1 + count
        }

        /// How many bytes `field(_:integer:)` writes.
        static func size(_ name: StaticString, integer value: Int64) -> Int {
            let length = magnitudeDigits(value.magnitude) + (value < 0 ? 1 : 0)
            return name.utf8CodeUnitCount + 3 + magnitudeDigits(UInt64(length)) + length
        }

        /// `field(name, String(value))`, without making the string.
        mutating func field(_ name: StaticString, integer value: Int64) {
            let digits = LinkWriter.magnitudeDigits(value.magnitude)
            put(UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            put(UInt8(ascii: "="))
            putDecimal(digits + (value < 0 ? 1 : 0))
            put(UInt8(ascii: ":"))
            if value < 0 { put(UInt8(ascii: "-")) }
            var divisor: UInt64 = 1
            for _ in 1..<digits { divisor *= 10 }
            var rest = value.magnitude
            while divisor > 0 {
                put(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest / divisor))
                rest %= divisor
                divisor /= 10
            }
            put(10)
        }

        /// How many decimal digits a magnitude has.
        static func magnitudeDigits(_ number: UInt64) -> Int {
            var digits = 1
            var rest = number
            while rest >= 10 { rest /= 10; digits += 1 }
            return digits
        }

        /// One field of a link: its name, `=`, `-` for null or the value's length in bytes, `:`
        /// and the value, and a newline (`chainLink`'s layout).
        mutating func field(_ name: StaticString, _ value: String?) {
            put(UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            put(UInt8(ascii: "="))
            if let value {
                putDecimal(value.utf8.count)
                put(UInt8(ascii: ":"))
                put(value)
            } else {
                put(UInt8(ascii: "-"))
            }
            put(10)
        }

        mutating func put(_ piece: UnsafeBufferPointer<UInt8>) {
            let count = min(piece.count, buffer.count - at)
            if count > 0, let from = piece.baseAddress, let to = buffer.baseAddress {
                (to + at).initialize(from: from, count: count)
                at += count
            }
        }

        mutating func put(_ byte: UInt8) {
            guard at < buffer.count else { return }
            buffer[at] = byte
            at += 1
        }

        /// The bytes `String(number)` gives, without making that string.
        mutating func putDecimal(_ number: Int) {
            var divisor = 1
            while divisor <= number / 10 { divisor *= 10 }
            var rest = number
            while divisor > 0 {
                put(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
    }

    private static func hashed(_ bytes: [UInt8], key: [UInt8]?) -> String {
        if let key { return keyedPrefix + Secrets.digest(bytes, key: key) }
        return Secrets.digest(bytes)
    }

    private static let rowColumns = "id, recorded_at, actor, operation, account_id, subject_id, detail, rows, hash, scope"

    /// Refuses a key that does not link the chain's last keyed row (`audit_key_mismatch`),
    /// checked against the row before it in its own chain.
    package static func checkKey(_ db: Connection, _ key: [UInt8]) throws {
        // The last keyed row: the log's last row may be an unkeyed one of a scope that never
        // was keyed (a keyless handle may write there), which no key links.
        guard let last = try db.first("SELECT id, COALESCE(scope, '') FROM audit_log WHERE hash LIKE 'k:%' ORDER BY id DESC LIMIT 1",
                                      map: { ($0.int(0), $0.text(1)) })
        else { return }
        let previous = try db.first("SELECT hash FROM audit_log WHERE COALESCE(scope, '') = ? AND id < ? ORDER BY id DESC LIMIT 1",
                                    last.1, last.0) { $0.optionalText(0) } ?? nil
        var matches = true
        try db.forEach("SELECT \(rowColumns) FROM audit_log WHERE id = ?", [last.0]) { row in
            matches = row.optionalText(8) == expected(row, previous: previous ?? "", key: key)
        }
        if !matches {
            throw BillingError.refused(.auditKeyMismatch,
                                       "the audit_key does not link the audit chain's last keyed row: another key was used, or that row was changed")
        }
    }

    /// Every chain in turn: rows without a scope first (the chain of files before scopes), then
    /// each scope, each in id order.
    private static let chainQuery = "SELECT \(rowColumns) FROM audit_log ORDER BY COALESCE(scope, ''), id"

    private static func expected(_ row: Row, previous: String, key: [UInt8]? = nil) -> String {
        link(previous: previous, at: row.int(1), actor: row.text(2), operation: row.text(3), account: row.optionalText(4),
             subject: row.optionalText(5), detail: row.text(6), rows: row.optionalText(7), scope: row.optionalText(9), key: key)
    }

    /// The first row (by id) whose hash is missing or does not follow from the row before it in
    /// its scope, else the first seal that does not follow from the one before it or lists a
    /// head the log no longer holds as it was; and how many keyed links could not be checked
    /// for want of the key. A chain's first row links to an empty hash. Once a row is keyed
    /// every later one (by id, in any chain) must be; given a key, the log's last row must be
    /// keyed (a chain recomputed without the key is not); a seal listing keyed rows must be
    /// keyed, and so must every seal after a keyed one.
    package static func firstBrokenLink(_ db: Connection, key: [UInt8]? = nil) throws -> (broken: (id: Int64, detail: String)?, unchecked: Int64) {
        let seals = try db.all("SELECT position, heads, hash FROM audit_seals ORDER BY position") { ($0.int(0), $0.text(1), $0.text(2)) }
        var sealed: [Int64: (scope: String, hash: String?)] = [:]
        for seal in seals { for head in parseHeads(seal.1) where head.scope != OutboxSeals.scope { sealed[head.id] = ("", nil) } }

        var broken: (id: Int64, detail: String)?
        func found(_ id: Int64, _ detail: String) {
            if broken == nil || id < broken!.id { broken = (id, detail) }
        }
        var started = false
        var scope: String?
        var previous = ""
        var scopeBroken = false
        var unchecked: Int64 = 0
        var last: (id: Int64, keyed: Bool)?
        var firstKeyed: Int64?
        var unkeyed: [Int64] = []
        try db.forEach(chainQuery) { row in
            let id = row.int(0), rowScope = row.optionalText(9), stored = row.optionalText(8)
            if sealed[id] != nil { sealed[id] = (rowScope ?? "", stored) }
            if !started || rowScope != scope {
                started = true
                scope = rowScope
                previous = ""
                scopeBroken = false
            } else if scopeBroken {
                return  // one break per chain: the rows after it cannot link anyway
            }
            guard let hash = stored else {
                found(id, "the row has no hash (the chain was switched off or cut here)")
                scopeBroken = true
                return
            }
            let keyed = hash.hasPrefix(keyedPrefix)
            if last == nil || id > last!.id { last = (id, keyed) }
            if keyed { firstKeyed = min(firstKeyed ?? id, id) } else { unkeyed.append(id) }
            if keyed && key == nil {
                unchecked += 1
            } else if hash != expected(row, previous: previous, key: keyed ? key : nil) {
                found(id, previous.isEmpty
                    ? "the first row of its chain does not hash to its stored value (edited, or rows before it deleted)"
                    : "the row does not follow from the row before it (edited, deleted or reordered)")
                scopeBroken = true
            }
            previous = hash
        }
        if let firstKeyed, let late = unkeyed.filter({ $0 > firstKeyed }).min() {
            found(late, "an unkeyed row follows keyed ones (the chain was recomputed without the key)")
        }
        if broken == nil, key != nil, let last, !last.keyed {
            broken = (last.id, "the chain's last row is not keyed although the host gave its key (recomputed without the key, or no write since the key was set)")
        }
        if broken != nil { return (broken, unchecked) }
        // The seals: a chain of their own, each listing heads the log must still hold as sealed.
        var previousSeal = ""
        var sealKeyedSeen = false
        for (position, heads, hash) in seals {
            let keyed = hash.hasPrefix(keyedPrefix)
            if sealKeyedSeen && !keyed {
                return ((position, "seal \(position) is unkeyed after keyed seals (the seals were recomputed without the key)"), unchecked)
            }
            sealKeyedSeen = sealKeyedSeen || keyed
            if keyed && key == nil {
                unchecked += 1
            } else if hash != sealLink(previous: previousSeal, position: position, heads: heads, key: keyed ? key : nil) {
                return ((position, "seal \(position) does not follow from the seal before it (edited, deleted or reordered)"), unchecked)
            }
            previousSeal = hash
            let listed = parseHeads(heads)
            // A seal of keyed rows is made keyed (a handle without the key cannot seal them).
            if !keyed, listed.contains(where: { $0.hash.hasPrefix(keyedPrefix) }) {
                return ((position, "seal \(position) lists keyed rows but is not keyed (the seals were recomputed without the key)"), unchecked)
            }
            for head in listed {
                if head.scope == OutboxSeals.scope {
                    // The outbox's last record when the seal was made (OutboxSeals).
                    guard try db.first("SELECT hash FROM outbox_seals WHERE seal = ?", head.id, map: { $0.text(0) }) == head.hash else {
                        return ((position, "outbox seal \(head.id), the last record of event positions when audit seal \(position) was made, is gone or changed: the outbox records were cut or rewritten"), unchecked)
                    }
                    continue
                }
                guard let stored = sealed[head.id], stored.hash != nil else {
                    return ((head.id, "audit row \(head.id), sealed as the head of its chain by seal \(position), is gone: the chain was cut"), unchecked)
                }
                if stored.scope != head.scope || stored.hash != head.hash {
                    return ((head.id, "audit row \(head.id) is not what seal \(position) sealed as the head of its chain: the chain was rewritten"), unchecked)
                }
            }
        }
        return (nil, unchecked)
    }

    /// A seal's list of heads: `[[scope, id, hash], …]` ("" for rows without a scope).
    private static func parseHeads(_ text: String) -> [(scope: String, id: Int64, hash: String)] {
        guard case .array(let entries)? = try? JSONValue.parse(text) else { return [(scope: "", id: -1, hash: "")] }
        return entries.map { entry in
            guard case .array(let parts) = entry, parts.count == 3, case .string(let scope) = parts[0],
                  case .integer(let id) = parts[1], case .string(let hash) = parts[2] else { return (scope: "", id: -1, hash: "") }
            return (scope, id, hash)
        }
    }

    /// Recomputes every row's hash in every chain, then every seal (unkeyed, or with `key`):
    /// at the upgrade that gives every row a hash (rows from before the chain existed had
    /// none); tests use it as an attacker recomputing a chain after an edit.
    package static func rehashAll(_ db: Connection, key: [UInt8]? = nil) throws {
        var scope: String?
        var previous = ""
        var first = true
        var hashes: [(Int64, String)] = []
        var byID: [Int64: String] = [:]
        try db.forEach(chainQuery) { row in
            let rowScope = row.optionalText(9)
            if first || rowScope != scope { previous = "" }
            first = false
            scope = rowScope
            previous = expected(row, previous: previous, key: key)
            hashes.append((row.int(0), previous))
            byID[row.int(0)] = previous
        }
        for (id, hash) in hashes { try db.run("UPDATE audit_log SET hash = ? WHERE id = ?", hash, id) }
        var previousSeal = ""
        let seals = try db.all("SELECT position, heads FROM audit_seals ORDER BY position") { ($0.int(0), $0.text(1)) }
        for (position, heads) in seals {
            let relisted = JSONValue.array(parseHeads(heads).map {
                [.string($0.scope), .integer($0.id), .string($0.scope == OutboxSeals.scope ? $0.hash : byID[$0.id] ?? $0.hash)]
            }).text
            previousSeal = sealLink(previous: previousSeal, position: position, heads: relisted, key: key)
            try db.run("UPDATE audit_seals SET heads = ?, hash = ? WHERE position = ?", relisted, previousSeal, position)
        }
    }

    /// Seals the heads of every chain that moved since the last seal (none moved: nothing is
    /// written): outside any transaction, before the head is read (`billing_audit_head`).
    ///
    /// One short `bookkeeping` transaction (READ COMMITTED on PostgreSQL): it takes the
    /// sealers' row (`outbox_head`, shared with the event sealer), marks every audit row not
    /// yet sealed with the new seal's position and, from the rows that one statement marked,
    /// lists the last of each chain; the seal links to the previous seal. A row that commits
    /// while it runs is not marked, and the next seal lists it.
    @discardableResult
    package static func seal(_ db: Connection) throws -> Int {
        guard try db.first("SELECT 1 FROM audit_log WHERE seal IS NULL LIMIT 1", map: { _ in true }) == true else { return 0 }
        return try db.bookkeeping {
            try db.run("UPDATE outbox_head SET seals = seals + 1 WHERE id = 1")
            let last = try db.first("SELECT position, hash FROM audit_seals ORDER BY position DESC LIMIT 1") { ($0.int(0), $0.text(1)) }
            let position = (last?.0 ?? 0) + 1
            var heads: [String: (id: Int64, hash: String)] = [:]
            var keyed = last.map { $0.1.hasPrefix(keyedPrefix) } ?? false
            var marked = 0
            try db.forEach("UPDATE audit_log SET seal = ? WHERE seal IS NULL RETURNING id, COALESCE(scope, ''), COALESCE(hash, '')", [position]) { row in
                marked += 1
                let (id, scope, hash) = (row.int(0), row.text(1), row.text(2))
                keyed = keyed || hash.hasPrefix(keyedPrefix)
                if let head = heads[scope], head.id > id { return }
                heads[scope] = (id, hash)
            }
            guard marked > 0 else { return 0 }
            // The outbox's last record of event positions (PostgreSQL's sealer writes them under
            // the same row), so that the head a host keeps covers them too.
            if let outbox = try db.first("SELECT seal, hash FROM outbox_seals ORDER BY seal DESC LIMIT 1", map: { ($0.int(0), $0.text(1)) }) {
                heads[OutboxSeals.scope] = outbox
                keyed = keyed || outbox.1.hasPrefix(keyedPrefix)
            }
            if keyed { try requireKey(db) }
            let list = JSONValue.array(heads.keys.sorted().map { scope in
                [.string(scope), .integer(heads[scope]!.id), .string(heads[scope]!.hash)]
            }).text
            try db.run("INSERT INTO audit_seals (position, heads, hash) VALUES (?, ?, ?)", position, list,
                       sealLink(previous: last?.1 ?? "", position: position, heads: list, key: db.session.auditKey))
            return marked
        }
    }

    /// The first head listed by the seals up to `position` that the log no longer holds as it
    /// was sealed (a scope's chain cut at its end after the host kept its head): the row's id
    /// and the seal that listed it, nil when every one is there.
    package static func sealedHeadGone(_ db: Connection, through position: Int64) throws -> (id: Int64, seal: Int64)? {
        let seals = try db.all("SELECT position, heads FROM audit_seals WHERE position <= ? ORDER BY position", position) { ($0.int(0), $0.text(1)) }
        for (seal, heads) in seals {
            for head in parseHeads(heads) where head.scope != OutboxSeals.scope {
                let stored = try db.first("SELECT COALESCE(scope, ''), hash FROM audit_log WHERE id = ?", head.id) { ($0.text(0), $0.optionalText(1)) }
                if stored == nil || stored!.0 != head.scope || stored!.1 != head.hash { return (head.id, seal) }
            }
        }
        return nil
    }

    /// The chain's head: the last seal's position and hash (position 0 and an empty digest
    /// before the first seal).
    package static func head(_ db: Connection) throws -> (position: Int64, digest: String) {
        try db.first("SELECT position, hash FROM audit_seals ORDER BY position DESC LIMIT 1") { ($0.int(0), $0.text(1)) } ?? (0, "")
    }

    /// The hash of the seal at a position, nil when there is no such seal.
    package static func hash(_ db: Connection, at position: Int64) throws -> String? {
        try db.first("SELECT hash FROM audit_seals WHERE position = ?", position) { $0.text(0) }
    }

    /// Audit rows after an id, oldest first, optionally of one account.
    package static func page(_ db: Connection, after: Int64, limit: Int64, account: String?) throws -> [JSONValue] {
        let sql = account == nil
            ? "SELECT id, recorded_at, actor, operation, account_id, subject_id, detail FROM audit_log WHERE id > ? ORDER BY id LIMIT ?"
            : "SELECT id, recorded_at, actor, operation, account_id, subject_id, detail FROM audit_log WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?"
        let arguments: [DatabaseBindable] = account.map { [$0, after, limit] } ?? [after, limit]
        var rows: [JSONValue] = []
        try db.forEach(sql, arguments) { row in
            rows.append([
                "id": .integer(row.int(0)),
                "recorded_at": .integer(row.int(1)),
                "actor": .string(row.text(2)),
                "operation": .string(row.text(3)),
                "account_id": JSONValue(row.optionalText(4)),
                "subject_id": JSONValue(row.optionalText(5)),
                "detail": try StoredValue.document(row.optionalText(6), "detail of audit row \(row.int(0))"),
            ])
        }
        return rows
    }
}
