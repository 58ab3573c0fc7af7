import BillingDomain
import BillingDocuments

/// A consistent copy of the whole database file (the backup operation).
package enum DatabaseCopy {
    /// Writes one read snapshot of the database to `destination` (SQLite: `VACUUM INTO`, so
    /// WAL readers and writers go on, and the copy is compact and holds no WAL).
    package static func write(_ db: Connection, to destination: String) throws {
        try db.writeCopy(to: destination)
    }
}
