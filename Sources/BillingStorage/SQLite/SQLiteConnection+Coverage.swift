#if canImport(Glibc)
import Glibc
#endif
import BillingDomain
import BillingDocuments
import CSQLite

/// Row coverage's change tracking on SQLite: TEMP triggers on this connection note the key of
/// every row each write touches (see `RowCoverage`) by calling `billing_touch(table, key)`, a
/// function of this connection that appends to `TouchLog`, in memory.
///
/// The log follows the transaction as the TEMP table it replaced did (SQLite rolled that
/// table's rows back with everything else): a statement that fails forgets what it noted, a
/// savepoint undone forgets what was noted since it began, a transaction rolled back forgets
/// what was noted since `BEGIN`. Keeping it in memory spares each covered write an insert into
/// a temporary B-tree, and each audit row a sorted read and a delete of that table, and each
/// commit a read of it.
extension SQLiteConnection {
    var tracksChanges: Bool { coverageInstalled }

    /// Registers `billing_touch` and creates, once per connection, the triggers that call it.
    /// TEMP objects belong to this connection only: they change nothing in the file.
    func trackChanges(_ tables: [RowCoverage.Table]) throws {
        guard !coverageInstalled else { return }
        // SQLITE_DIRECTONLY: no view, trigger or index stored in a file can call it (TEMP
        // triggers can); SQLITE_INNOCUOUS is not claimed, it has a side effect.
        let code = sqlite3_create_function_v2(handle, "billing_touch", 2, SQLITE_UTF8 | SQLITE_DIRECTONLY,
                                              Unmanaged.passUnretained(touches).toOpaque(), { context, count, values in
            guard let context, count == 2, let values,
                  let table = sqlite3_value_text(values[0]), let key = sqlite3_value_text(values[1]) else {
                sqlite3_result_error(context, "billing_touch: a table and a key", -1)
                return
            }
            let log = Unmanaged<TouchLog>.fromOpaque(sqlite3_user_data(context)).takeUnretainedValue()
            log.note(table: UnsafeBufferPointer(start: table, count: Int(sqlite3_value_bytes(values[0]))),
                     key: String(decoding: UnsafeBufferPointer(start: key, count: Int(sqlite3_value_bytes(values[1]))), as: UTF8.self))
            sqlite3_result_null(context)
        }, nil, nil, nil)
        guard code == SQLITE_OK else { throw SQLiteError.from(code, handle) }
        var script = ""
        for table in tables {
            let new = "billing_touch('\(table.name)', \(RowCoverage.keyExpression(table, "NEW.")))"
            let old = "billing_touch('\(table.name)', \(RowCoverage.keyExpression(table, "OLD.")))"
            script += """
                CREATE TEMP TRIGGER IF NOT EXISTS billing_cover_\(table.name)_insert AFTER INSERT ON main.\(table.name) BEGIN SELECT \(new); END;
                CREATE TEMP TRIGGER IF NOT EXISTS billing_cover_\(table.name)_update AFTER UPDATE ON main.\(table.name) BEGIN SELECT \(old), \(new); END;
                CREATE TEMP TRIGGER IF NOT EXISTS billing_cover_\(table.name)_delete AFTER DELETE ON main.\(table.name) BEGIN SELECT \(old); END;

                """
        }
        try executeScript(script)
        coverageInstalled = true
    }

    /// The distinct touched keys in (table, key) byte order, as `SELECT DISTINCT … ORDER BY`
    /// gave them from the TEMP table; the log is emptied.
    func takeTouchedRows() throws -> [(table: String, key: String)] {
        guard coverageInstalled else { return [] }
        return touches.take()
    }

    /// Whether the open transaction touched covered rows that no audit row has taken yet.
    func hasUntakenTouches() throws -> Bool {
        !touches.isEmpty
    }
}

/// The keys touched on one connection and not yet taken by an audit row, with the marks
/// statements, savepoints and transactions go back to when they fail.
///
/// Entries are appended and never moved while a transaction runs: taking them only moves
/// `taken`, so a mark is two counts, and going back to one (a savepoint undone after its audit
/// row took keys noted before it) gives those keys back too, as the TEMP table's rollback did.
final class TouchLog {
    /// Each entry names its table by its place in `tables` (a write touches a handful of
    /// tables, thousands of keys): no `String` per noted table, and sorting compares integers
    /// before it compares keys.
    /// `@exclusivity(unchecked)` (these three): every touched row and every statement reach
    /// them, one thread at a time and never reentrantly; a dynamic exclusivity check per access
    /// cost more than most of the accesses.
    @exclusivity(unchecked) private var entries: [(table: Int, key: String)] = []
    @exclusivity(unchecked) private var tables: [(bytes: [UInt8], name: String)] = []
    /// Entries before this index were taken by an audit row.
    @exclusivity(unchecked) private var taken = 0
    /// Each table's place in the byte order of the names, for as many tables as `rankedCount`
    /// (tables are only ever added): computed again only when one was.
    @exclusivity(unchecked) private var rank: [Int] = []
    @exclusivity(unchecked) private var rankedCount = 0

    struct Mark {
        fileprivate let count: Int
        fileprivate let taken: Int
    }

    var isEmpty: Bool { taken == entries.count }

    func note(table: UnsafeBufferPointer<UInt8>, key: String) {
        entries.append((index(of: table), key))
    }

    private func index(of table: UnsafeBufferPointer<UInt8>) -> Int {
        // The table of the entry before is the likeliest (a statement touches one table).
        if let last = entries.last?.table, TouchLog.equal(tables[last].bytes, table) { return last }
        for (index, known) in tables.enumerated() where TouchLog.equal(known.bytes, table) { return index }
        tables.append((Array(table), String(decoding: table, as: UTF8.self)))
        return tables.count - 1
    }

    private static func equal(_ bytes: [UInt8], _ other: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.withUnsafeBufferPointer { compare($0, other) == 0 }
    }

    var mark: Mark { Mark(count: entries.count, taken: taken) }

    /// Forgets what was noted after `mark`, and gives back what was taken after it.
    func restore(_ mark: Mark) {
        if entries.count > mark.count { entries.removeSubrange(mark.count...) }
        taken = mark.taken
    }

    /// Drops what was taken (a transaction ended: no mark before it is gone back to).
    func settle() {
        if taken == entries.count {
            entries.removeAll(keepingCapacity: entries.count <= 1024)
        } else if taken > 0 {
            entries.removeSubrange(..<taken)
        }
        taken = 0
    }

    /// The keys noted since the last take, distinct, in (table, key) byte order.
    func take() -> [(table: String, key: String)] {
        guard taken < entries.count else { return [] }
        var fresh = Array(entries[taken...])
        taken = entries.count
        // SQLite's BINARY collation: bytes. (`String`'s own order and equality follow Unicode
        // canonical equivalence, which two different keys may share.)
        if rankedCount != tables.count {
            rank = [Int](repeating: 0, count: tables.count)
            let byName = tables.indices.sorted { a, b in
                tables[a].bytes.withUnsafeBufferPointer { x in tables[b].bytes.withUnsafeBufferPointer { y in TouchLog.compare(x, y) < 0 } }
            }
            for (place, index) in byName.enumerated() { rank[index] = place }
            rankedCount = tables.count
        }
        if fresh.count > 1 {
            fresh.sort { a, b in
                a.table != b.table ? rank[a.table] < rank[b.table] : TouchLog.compare(a.key, b.key) < 0
            }
        }
        var distinct: [(table: String, key: String)] = []
        distinct.reserveCapacity(fresh.count)
        var previous: (table: Int, key: String)?
        for entry in fresh {
            if let previous, previous.table == entry.table, TouchLog.compare(previous.key, entry.key) == 0 { continue }
            previous = entry
            distinct.append((tables[entry.table].name, entry.key))
        }
        return distinct
    }

    /// The order of two texts' UTF-8 bytes (memcmp, then length), as SQLite's BINARY collation.
    static func compare(_ a: String, _ b: String) -> Int {
        let order = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in compare(x, y) }
        } ?? nil
        if let order { return order }
        return Array(a.utf8).withUnsafeBufferPointer { x in Array(b.utf8).withUnsafeBufferPointer { y in compare(x, y) } }
    }

    static func compare(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Int {
        let common = min(x.count, y.count)
        if common > 0, let p = x.baseAddress, let q = y.baseAddress {
            let order = memcmp(p, q, common)
            if order != 0 { return Int(order) }
        }
        return x.count - y.count
    }
}
