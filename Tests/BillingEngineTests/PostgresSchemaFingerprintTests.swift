import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingStorage

/// The released PostgreSQL schema fingerprint (`PostgresSchemaFingerprint`), against the
/// throwaway cluster (`make test-pg`).
@Suite("PostgreSQL schema fingerprint", .serialized,
       .enabled(if: postgresTestURL != nil,
                "BILLING_TEST_POSTGRES_URL is not set: `make test-pg` starts a throwaway PostgreSQL cluster and sets it"))
struct PostgresSchemaFingerprintTests {
    /// Opening a schema compares its catalogue digest with the released one instead of running
    /// every migration into a scratch schema first: the released digest of this server's
    /// major version must be what the migrations make now. When a migration is appended this
    /// fails until `python3 scripts/pg_schema_fingerprint.py` has rewritten the file.
    @Test func releasedDigestIsWhatTheMigrationsMake() throws {
        let db = try postgresTestConnection()
        let made = try db.rehearsal { () -> (digest: String, major: Int64) in
            let name = try db.buildScratchSchema(PostgresSchema.migrations)
            return try PostgresSchemaFingerprint.digest(db, schema: name)
        }
        let stale = "PostgresSchemaFingerprint+Released.swift is out of date for PostgreSQL \(made.major): run python3 scripts/pg_schema_fingerprint.py"
        #expect(PostgresSchemaFingerprint.releasedVersion == PostgresSchema.latestVersion, "\(stale)")
        #expect(PostgresSchemaFingerprint.releasedDigests[made.major] == made.digest, "\(stale)")
        #expect(PostgresSchemaFingerprint.released(version: PostgresSchema.latestVersion, migrations: PostgresSchema.migrations,
                                                   major: made.major) == made.digest)
    }

    /// A schema the library made has the released digest; a role without the right to create
    /// a schema (so no scratch schema is possible) opens it; a damaged one is still refused,
    /// by the digest, even when the differences cannot be named.
    @Test func anIntactSchemaMatchesWithoutAScratchSchema() throws {
        let schema = try PostgresTestSchema()
        _ = try Engine(path: schema.url, options: EngineOptions())
        let db = try schema.connect()
        let found = try PostgresSchemaFingerprint.digest(db, schema: schema.name)
        #expect(PostgresSchemaFingerprint.releasedDigests[found.major] == found.digest)

        // A role with the rights on the schema's objects but none to create a schema.
        let role = "reader_\(schema.name)"
        try db.executeScript("""
            CREATE ROLE \(role) LOGIN;
            GRANT USAGE ON SCHEMA \(schema.name) TO \(role);
            GRANT ALL ON ALL TABLES IN SCHEMA \(schema.name) TO \(role);
            GRANT ALL ON ALL SEQUENCES IN SCHEMA \(schema.name) TO \(role);
            """)
        defer {
            try? db.executeScript("""
                DROP OWNED BY \(role); DROP ROLE \(role)
                """)
        }
        let reader = try PostgresConnection(conninfo: schema.url + "&user=\(role)")
        #expect(try reader.first("SELECT has_database_privilege(current_database(), 'CREATE')") { $0.bool(0) } == false)
        try Migrator.migrate(reader)

        // Damaged: the role cannot build the scratch schema, the digest still refuses it.
        try db.executeScript("CREATE INDEX mine ON accounts (level)")
        let refused = expectBillingError { try Migrator.migrate(try PostgresConnection(conninfo: schema.url + "&user=\(role)")) }
        #expect(refused?.reason == "schema_damaged")
        // The owner's open names the difference (the scratch comparison).
        let named = expectBillingError { try Migrator.migrate(try schema.connect()) }
        #expect(named?.reason == "schema_damaged")
        #expect(named?.message.contains("unexpected index mine") == true)

        // A column's collation is part of the schema (text compares by bytes everywhere).
        try db.executeScript("DROP INDEX mine; ALTER TABLE accounts ALTER COLUMN level TYPE text COLLATE \"default\"")
        let collation = expectBillingError { try Migrator.migrate(try schema.connect()) }
        #expect(collation?.reason == "schema_damaged")
        #expect(collation?.message.contains("accounts.level") == true)
    }
}
