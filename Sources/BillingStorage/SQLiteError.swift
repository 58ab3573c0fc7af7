import CSQLite
#if canImport(Glibc)
import Glibc
#endif
import BillingDomain
import BillingDocuments

/// Maps SQLite result codes to the engine's error statuses.
package enum SQLiteError {
    package static func from(_ code: Int32, _ connection: OpaquePointer?) -> BillingError {
        let detail = connection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
            ?? String(cString: sqlite3_errstr(code))
        switch code & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED:
            return BillingError(.busy, "database_busy", "the database stayed locked by another writer: \(detail)")
        case SQLITE_CONSTRAINT:
            return BillingError(.conflict, "constraint_violation", "a stored-data constraint refused the change: \(detail)")
        case SQLITE_NOTADB:
            return BillingError(.schema, "not_a_database", "the file is not an SQLite database: \(detail)")
        case SQLITE_CANTOPEN:
            return BillingError(.storage, "cannot_open", "cannot open the database file: \(detail)")
        case SQLITE_FULL:
            return BillingError(.storage, "disk_full", "the disk is full: \(detail)")
        case SQLITE_IOERR where code == SQLITE_IOERR | (19 << 8) || connection.map(sqlite3_system_errno) == ENOSPC:
            // Growing the shared-memory index of a WAL file (the first read after an open)
            // reports a full disk as SQLITE_IOERR_SHMSIZE (a macro Swift does not import), and
            // other writes may report ENOSPC as a plain I/O error.
            return BillingError(.storage, "disk_full", "the disk is full: \(detail)")
        case SQLITE_READONLY:
            return BillingError(.storage, "read_only", "the database is read-only: \(detail)")
        case SQLITE_CORRUPT:
            return BillingError(.storage, "database_corrupt", "the database file is corrupt: \(detail)")
        case SQLITE_TOOBIG:
            return BillingError.invalid("value_too_big", "a value is too large to store: \(detail)")
        default:
            return BillingError(.storage, "sqlite_error", "SQLite error \(code): \(detail)")
        }
    }
}
