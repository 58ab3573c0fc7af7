import Testing
@testable import BillingEngine

@Suite("Schema fingerprint")
struct SchemaFingerprintTests {
    /// Opening a file compares its schema with `SchemaFingerprint.releasedDigest` instead of
    /// running every migration first: the constant must be what the migrations produce.
    /// When a migration is appended, this fails with the value to put there.
    @Test func releasedDigestIsWhatTheMigrationsProduce() throws {
        let computed = SchemaFingerprint.digest(try SchemaFingerprint.fingerprint(of: Schema.migrations))
        #expect(computed == SchemaFingerprint.releasedDigest,
                "update SchemaFingerprint.releasedDigest to \"\(computed)\" (the migrations changed)")
    }

    /// A file made by this library matches the constant, so opening it needs no scratch
    /// database; an altered schema is still refused, naming the difference.
    @Test func anIntactFileMatchesTheConstant() throws {
        let path = temporaryDatabasePath()
        _ = try manualEngine(path: path)
        let raw = try Connection(path: path, create: false, busyTimeoutMilliseconds: 1000)
        try raw.transaction(write: false) {
            try SchemaFingerprint.check(raw, version: Schema.latestVersion, migrations: Schema.migrations)
        }
        try raw.executeScript("CREATE INDEX mine ON accounts (level);")
        let error = expectBillingError {
            try raw.transaction(write: false) {
                try SchemaFingerprint.check(raw, version: Schema.latestVersion, migrations: Schema.migrations)
            }
        }
        #expect(error?.reason == "schema_damaged")
        #expect(error?.message.contains("index mine is not part of the schema") == true)
    }
}
