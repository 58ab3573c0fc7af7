import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

@Suite("Schema fingerprint")
struct SchemaFingerprintTests {
    /// Opening a file compares its schema with `SchemaFingerprint.releasedFingerprint`
    /// instead of running every migration first: it must be what the migrations produce.
    /// When a migration is appended, this fails until `python3 scripts/schema_fingerprint.py`
    /// has rewritten SchemaFingerprint+Released.swift.
    @Test func releasedFingerprintIsWhatTheMigrationsProduce() throws {
        let computed = try SchemaFingerprint.fingerprint(of: Schema.migrations)
        #expect(computed.utf8.elementsEqual(SchemaFingerprint.releasedFingerprint.utf8),
                "SchemaFingerprint+Released.swift is out of date: run python3 scripts/schema_fingerprint.py")
    }

    /// A file made by this library matches the constant, so opening it needs no scratch
    /// database; an altered schema is still refused, naming the difference.
    @Test func anIntactFileMatchesTheConstant() throws {
        let path = temporaryDatabasePath()
        _ = try manualEngine(path: path)
        let raw = try SQLiteConnection(path: path, create: false, busyTimeoutMilliseconds: 1000)
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
