/// Brings a database file to the latest schema, or refuses it untouched.
enum Migrator {
    /// Checks the file's identity and version before anything writes to it, then applies the
    /// missing migrations in one `BEGIN IMMEDIATE` transaction (re-checking the version inside
    /// it, since another process may have migrated meanwhile).
    static func migrate(_ db: Connection, latest: Int64 = Schema.latestVersion,
                        migrations: [String] = Schema.migrations) throws {
        // Both pragmas are read in one snapshot: another process may finish migrating a new
        // file between two separate reads.
        let current = try db.transaction(write: false) { () -> Int64 in
            try check(db, latest: latest)
            return try version(db)
        }
        if current == latest { return }
        try db.transaction(write: true) {
            try check(db, latest: latest)
            let current = try version(db)
            if current == 0 {
                let tables = try db.first("SELECT count(*) FROM sqlite_schema") { $0.int(0) } ?? 0
                if tables > 0 {
                    throw BillingError(.schema, "not_a_billing_database",
                                       "the file already holds tables that libbilling did not create; refusing to change it")
                }
            }
            for index in Int(current)..<Int(latest) { try db.executeScript(migrations[index]) }
            try db.executeScript("PRAGMA user_version = \(latest); PRAGMA application_id = \(Schema.applicationID);")
        }
    }

    static func version(_ db: Connection) throws -> Int64 {
        try db.first("PRAGMA user_version") { $0.int(0) } ?? 0
    }

    private static func check(_ db: Connection, latest: Int64) throws {
        let application = try db.first("PRAGMA application_id") { $0.int(0) } ?? 0
        if application != 0 && application != Schema.applicationID {
            throw BillingError(.schema, "not_a_billing_database",
                               "the file belongs to another application (application_id \(application))")
        }
        let current = try version(db)
        if current > 0 && application != Schema.applicationID {
            // Migrations set both pragmas in one transaction: a versioned file without our id
            // belongs to someone else.
            throw BillingError(.schema, "not_a_billing_database",
                               "the file has schema version \(current) but is not a libbilling database")
        }
        if current > latest {
            throw BillingError(.schema, "schema_too_new",
                               "the file has schema version \(current) from a newer libbilling; this library knows up to \(latest) and will not change it")
        }
    }
}
