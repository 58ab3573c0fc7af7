/// A scheduler job's selection of due rows and whether more are due than it takes (`has_more`),
/// its statements built once (a constant text is found in the statement cache by its address).
///
/// SQLite runs one writer at a time and locks no rows: one statement takes `limit + 1` rows,
/// the last only to tell that there are more. On PostgreSQL the rows a runner selects are
/// locked until its commit (`SQLDialect.claimDueRows`), so taking one more than the batch does
/// would hold a row it leaves for the next run, which another runner could have done: the claim
/// takes `limit` rows, and only when it got that many does a plain read (no lock) look for the
/// row after them. That read may find a row another runner holds (or, when the claim passed
/// over held rows, the claim's own last row): `has_more` then says "call
/// again" when the next call may find nothing, which is all it promises (docs/postgresql.md,
/// "Scheduler claims").
package struct DueClaim {
    private let sqlite: String
    private let postgres: String
    private let peek: String

    /// `select`: one table's `SELECT … WHERE … ORDER BY …`, without LIMIT.
    package init(_ select: String) {
        sqlite = select + " LIMIT ?"
        postgres = select + " LIMIT ?" + SQLDialect.postgres.claimDueRows
        peek = select + " LIMIT 1 OFFSET ?"
    }

    /// At most `limit` due rows, mapped, and whether more are due.
    package func take<T>(_ db: Connection, _ arguments: [DatabaseBindable], limit: Int64,
                         map: (Row) throws -> T) throws -> (rows: [T], more: Bool) {
        var rows: [T] = []
        if db.dialect == .sqlite {
            try db.forEach(sqlite, arguments + [limit + 1]) { rows.append(try map($0)) }
            guard rows.count > limit else { return (rows, false) }
            rows.removeLast(rows.count - Int(limit))
            return (rows, true)
        }
        try db.forEach(postgres, arguments + [limit]) { rows.append(try map($0)) }
        guard rows.count >= limit else { return (rows, false) }
        var more = false
        try db.query(peek, arguments + [limit]) { _ in more = true; return false }
        return (rows, more)
    }
}
