import BillingDomain
import BillingDocuments

/// Export records: what each export asked for, where its file is, and how far it was written
/// (the file's committed length and the keyset cursor after its last row).
package enum ExportStore {
    private static let columns = """
        id, account_id, kind, status, request, language, directory, file_name, rows_expected, rows_written, bytes, cursor, created_at,
        purge_at, completed_at, failure_reason
        """

    private static func decode(_ row: Row) throws -> ExportRecord {
        ExportRecord(id: row.text(0), account: row.text(1), kind: try StoredValue.choice(row.optionalText(2), "kind of export \(row.text(0))"),
                     status: row.text(3), request: try StoredValue.document(row.optionalText(4), "request of export \(row.text(0))"), language: row.text(5), directory: row.text(6), fileName: row.text(7),
                     rowsExpected: row.int(8), rowsWritten: row.int(9), bytes: row.int(10), cursor: row.optionalText(11),
                     createdAt: row.int(12), purgeAt: row.int(13), completedAt: row.optionalInt(14), failureReason: row.optionalText(15))
    }

    /// An export of an account; another account's export is "not found".
    package static func require(_ db: Connection, _ id: String, account: String) throws -> ExportRecord {
        guard let record = try db.first("SELECT \(columns) FROM exports WHERE id = ? AND account_id = ?", id, account, map: decode) else {
            throw BillingError.notFound(.exportNotFound, id)
        }
        return record
    }

    /// Writes a new export record, GENERATING with nothing written yet.
    package static func insert(_ db: Connection, _ record: ExportRecord, sequence: Int64) throws {
        try db.run("""
            INSERT INTO exports (id, seq, account_id, kind, status, request, language, directory, file_name, rows_expected, created_at, purge_at)
            VALUES (?, ?, ?, ?, 'GENERATING', ?, ?, ?, ?, ?, ?, ?)
            """, record.id, sequence, record.account, record.kind.rawValue, record.request.text, record.language, record.directory,
                 record.fileName, record.rowsExpected, record.createdAt, record.purgeAt)
    }

    /// Records an export's progress (or its end) after a step.
    package static func saveProgress(_ db: Connection, _ record: ExportRecord) throws {
        try db.run("""
            UPDATE exports SET status = ?, rows_written = ?, bytes = ?, cursor = ?, completed_at = ?, failure_reason = ? WHERE id = ?
            """, record.status, record.rowsWritten, record.bytes, record.cursor, record.completedAt, record.failureReason, record.id)
    }

    /// An account's exports, newest first, before a sequence number: (record, seq).
    package static func page(_ db: Connection, account: String, before: Int64, limit: Int64) throws -> [(record: ExportRecord, sequence: Int64)] {
        try db.all("""
            SELECT \(columns), seq FROM exports WHERE account_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?
            """, account, before, limit) { (try decode($0), $0.int(16)) }
    }

    /// At most `limit` exports still being generated, oldest first, taken by the scheduler
    /// (`DueClaim`); and whether more are.
    package static func generating(_ db: Connection, limit: Int64) throws -> (rows: [ExportRecord], more: Bool) {
        try generatingClaim.take(db, [], limit: limit, map: decode)
    }

    /// At most `limit` exports whose purge time has come at `instant`, soonest first, taken
    /// (`DueClaim`); and whether more are due.
    package static func expired(_ db: Connection, at instant: Int64, limit: Int64) throws -> (rows: [ExportRecord], more: Bool) {
        try expiredClaim.take(db, [instant], limit: limit, map: decode)
    }

    private static let generatingClaim = DueClaim("SELECT \(columns) FROM exports WHERE status = 'GENERATING' ORDER BY seq")
    private static let expiredClaim = DueClaim("SELECT \(columns) FROM exports WHERE purge_at <= ? ORDER BY purge_at")

    package static func delete(_ db: Connection, _ id: String) throws {
        try db.run("DELETE FROM exports WHERE id = ?", id)
    }
}
