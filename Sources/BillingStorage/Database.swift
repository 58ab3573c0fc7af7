import BillingDomain
import BillingDocuments

/// Opens the backend a path names: the one place that picks an implementation of
/// `Connection`. Every path is an SQLite file today (":memory:" a private database); a
/// PostgreSQL backend would be chosen here by its URL (issue 18), and nothing above storage
/// would change.
package enum Database {
    /// Opens the database, sets the host's audit key on the connection (a migration may append
    /// audit rows), brings the schema to the latest version or refuses the file untouched, and
    /// then applies the backend's settings.
    package static func open(path: String, options: EngineOptions) throws -> Connection {
        let db = try SQLiteConnection(path: path, create: options.create, busyTimeoutMilliseconds: options.busyTimeoutMilliseconds)
        db.session.auditKey = options.auditKey
        // Identity and version are checked before any statement that could change the file.
        try Migrator.migrate(db)
        try db.configure(synchronous: options.synchronous, busyTimeoutMilliseconds: options.busyTimeoutMilliseconds)
        return db
    }

    /// Whether a path names a database server (a PostgreSQL connection string) rather than a
    /// file.
    package static func namesServer(_ path: String) -> Bool {
        PostgresConnection.accepts(path)
    }
}
