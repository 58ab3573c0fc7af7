import BillingDomain
import BillingDocuments

/// Brings a database file to the latest schema, or refuses it untouched.
package enum Migrator {
    /// Checks the file's identity, version and schema before anything writes to it, then
    /// applies the missing migrations in one write transaction (re-checking inside it, since
    /// another process may have migrated meanwhile; on PostgreSQL under the migration lock,
    /// `Connection.withMigrationLock`) and checks the result before it commits.
    ///
    /// Without `migrations`, the library's own history for the connection's backend
    /// (`SchemaHistory.library`: SQLite's `Schema.migrations`, PostgreSQL's
    /// `PostgresSchema.migrations`); a list given here moves one version per script.
    package static func migrate(_ db: Connection, latest: Int64? = nil, migrations: [String]? = nil) throws {
        let history = migrations.map { SchemaHistory(scripts: $0) } ?? SchemaHistory.library(db.dialect)
        try migrate(db, history: history, latest: latest ?? history.latest)
    }

    package static func migrate(_ db: Connection, history: SchemaHistory, latest: Int64) throws {
        let built = history.scripts(upTo: latest)
        // Both pragmas and the schema are read in one snapshot: another process may finish
        // migrating a new file between two separate reads.
        let current = try db.transaction(write: false) { () -> Int64 in
            let current = try check(db, latest: latest)
            if current == latest { try db.checkSchema(version: latest, migrations: built) }
            return current
        }
        if current == latest { return }
        try db.withMigrationLock {
            try db.transaction(write: true) {
                let current = try check(db, latest: latest)
                guard current < latest else { return }
                guard let steps = history.steps(from: current) else {
                    throw BillingError(.schemaDamaged,
                                       "the database has schema version \(current), which this backend's history never stamps (it starts at \(history.firstVersion)); it was not changed")
                }
                let covered = try hasRowDigests(db)
                for (script, reaches) in steps where reaches <= latest {
                    do {
                        try db.executeScript(script)
                    } catch let error as BillingError where Migrator.statementFailures.contains(error.reason) {
                        // A migration written for the schema of its version fails only on a file
                        // whose schema is not that one.
                        throw BillingError(.schemaDamaged,
                                           "the file's schema is not the one of version \(current): migration \(reaches) failed (\(error.message)); the file was not changed")
                    }
                }
                try db.setSchemaStamp(SchemaStamp(application: Schema.applicationID, version: latest))
                try db.checkSchema(version: latest, migrations: built)
                // The migration that brought row coverage: the rows already there get their digests
                // in the same transaction, so no file is ever at that version without them.
                if !covered, try hasRowDigests(db) { try RowCoverage.baseline(db) }
            }
        }
    }

    /// The reasons a backend gives a statement it could not run for a reason of the schema
    /// (no such table or column, a constraint of a changed definition): on a migration, they
    /// mean the file's schema is not the one of its version. SQLite's is `sqlite_error`,
    /// PostgreSQL's `postgres_error` (undefined table or column, 42P01/42703, and the like).
    static let statementFailures: Set<String> = [Reason.sqliteError.name, Reason.postgresError.name]

    private static func hasRowDigests(_ db: Connection) throws -> Bool {
        try db.hasTable("row_digests")
    }

    static func version(_ db: Connection) throws -> Int64 {
        try db.schemaStamp().version
    }

    /// The file's schema version, 0…`latest`, or an error for every other value it can hold.
    private static func check(_ db: Connection, latest: Int64) throws -> Int64 {
        let stamp = try db.schemaStamp()
        let application = stamp.application
        if application != 0 && application != Schema.applicationID {
            throw BillingError(.notABillingDatabase,
                               "the file belongs to another application (application_id \(application))")
        }
        let current = stamp.version
        if current != 0 && application != Schema.applicationID {
            // Migrations set both in one transaction: a versioned file without our id
            // belongs to someone else.
            throw BillingError(.notABillingDatabase,
                               "the file has schema version \(current) but is not a libbilling database")
        }
        if current < 0 {
            throw BillingError(.invalidSchemaVersion,
                               "the file has schema version \(current), which no libbilling writes; refusing to change it")
        }
        if current > latest {
            throw BillingError(.schemaTooNew,
                               "the file has schema version \(current) from a newer libbilling; this library knows up to \(latest) and will not change it")
        }
        if current == 0 {
            if try db.holdsObjects() {
                throw BillingError(.notABillingDatabase,
                                   "the file already holds tables that libbilling did not create; refusing to change it")
            }
        }
        return current
    }
}
