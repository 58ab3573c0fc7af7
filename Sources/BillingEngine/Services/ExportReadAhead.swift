import BillingDomain
import BillingDocuments
import BillingStorage

/// An export step's rows read ahead of its write transaction, in a read-only snapshot
/// (`Connection.readOnlySnapshot`), for the export's record as it was then.
///
/// Reading an export's next rows is the long part of a step (up to `export_rows_per_step`
/// orders or resources with their lines and prices). Read inside the step's SERIALIZABLE write
/// transaction, on PostgreSQL every row read would hold a predicate lock until the commit and
/// could make writers of those rows fail serialization (or the step fail). So the rows are
/// read first in a read-only snapshot, and the write transaction only appends them and records
/// the progress — when what they were made from is still what the write transaction reads:
/// the record (same status, cursor, length, row count), the instant (prices depend on it) and
/// the configuration's revision (the calendar the times are written in, the step size, the
/// prices: a configuration changed in between makes the rows stale). Otherwise (another step
/// advanced the record meanwhile, a second boundary passed, the configuration changed) it
/// reads them itself as before, so no row of a stale snapshot is written. Each step of an
/// export has always read its own snapshot, so rows read a moment before the write are what a
/// step run a moment earlier would write.
struct ExportReadAhead {
    struct Rows {
        let record: ExportRecord
        let limit: Int64
        let now: Int64
        /// `config.revision` in the snapshot the rows were read in.
        let configurationRevision: Int64
        let written: ExportRowsWritten
    }

    private(set) var byExport: [String: Rows] = [:]

    /// The rows read ahead for `record` at `limit`, when they were read for this very state:
    /// the record, the instant `now` and the configuration revision the write transaction on
    /// `db` sees. The revision is read (one primary-key row the transaction already read to load
    /// its configuration) only when there are rows to check.
    func rows(for record: ExportRecord, limit: Int64, now: Int64, db: Connection) throws -> ExportRowsWritten? {
        guard let read = byExport[record.id], read.limit == limit, read.now == now, read.record.status == record.status,
              read.record.cursor == record.cursor, read.record.bytes == record.bytes,
              read.record.rowsWritten == record.rowsWritten,
              try ConfigurationStore.revision(db) == read.configurationRevision else { return nil }
        return read.written
    }

    /// Keeps the rows read for `record` (`Engine.readExportsAhead`).
    mutating func keep(_ rows: Rows) { byExport[rows.record.id] = rows }
}

/// An export step's rows as CSV text (`Engine.exportRows`).
struct ExportRowsWritten {
    var bytes: [UInt8]
    /// How many rows the text holds.
    var count: Int64
    /// The cursor after them (nil when none was read).
    var cursor: String?
    /// Whether they were the last.
    var done: Bool
}
