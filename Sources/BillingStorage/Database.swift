import BillingDomain
import BillingDocuments

/// Opens the backend a path names: the one place that picks an implementation of
/// `Connection`. A `postgresql://` or `postgres://` URL, or a libpq key=value string
/// (`host=… dbname=…`), opens PostgreSQL (`PostgresConnection.accepts`); every other path is
/// an SQLite file (":memory:" a private database). Nothing above storage changes with it.
package enum Database {
    /// Whether `path` names a database server rather than a file (exports then need an
    /// `export_directory`, backups are the server's).
    package static func namesServer(_ path: String) -> Bool {
        PostgresConnection.accepts(path)
    }

    /// Opens the database, sets the host's audit key on the connection (a migration may append
    /// audit rows), brings the schema to the latest version or refuses the file untouched, and
    /// then applies the backend's settings.
    package static func open(path: String, options: EngineOptions) throws -> Connection {
        try open(path: path, options: options, versionAccepted: { _ in })
    }

    /// Opens a copy's destination: a new database is migrated; one already at the latest
    /// version is checked as any; one of another version is refused untouched
    /// (`copy_version_mismatch`) — never upgraded, since a copy does not go into it anyway.
    package static func openCopyDestination(path: String) throws -> Connection {
        try open(path: path, options: EngineOptions()) { db in
            let stamp = try db.transaction(write: false) { try db.schemaStamp() }
            let latest = SchemaHistory.library(db.dialect).latest
            guard stamp.application != Schema.applicationID || stamp.version == latest || stamp.version == 0 else {
                throw BillingError(.copyVersionMismatch,
                                   "the destination is at schema version \(stamp.version), this library writes \(latest); a copy goes only into a new database or one of the same version, and this one was not changed")
            }
        }
    }

    /// `versionAccepted` sees the connection before any migration may write to it.
    private static func open(path: String, options: EngineOptions, versionAccepted: (Connection) throws -> Void) throws -> Connection {
        if PostgresConnection.accepts(path) {
            let db = try PostgresConnection(conninfo: path, lockTimeoutMilliseconds: options.busyTimeoutMilliseconds)
            db.session.auditKey = options.auditKey
            // A PostgreSQL "database" of the engine is a schema: the search_path's first,
            // created here when missing and `create` is on.
            try db.ensureSchema(create: options.create)
            try versionAccepted(db)
            try Migrator.migrate(db)
            return db
        }
        let db = try SQLiteConnection(path: path, create: options.create, busyTimeoutMilliseconds: options.busyTimeoutMilliseconds)
        db.session.auditKey = options.auditKey
        // Identity and version are checked before any statement that could change the file.
        try versionAccepted(db)
        try Migrator.migrate(db)
        try db.configure(synchronous: options.synchronous, busyTimeoutMilliseconds: options.busyTimeoutMilliseconds)
        return db
    }
}
