import FoundationEssentials
import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

/// Files the engine must refuse without touching them, and stored values it cannot read.
/// (The C ABI versions, with WAL files and directory listings, are in
/// examples/python/tests/test_damaged_files.py.)
@Suite("Damaged files and stored values")
struct DamagedFileTests {
    /// A closed libbilling file changed by `sql` outside the library, in rollback-journal
    /// mode so that its bytes are all in the one file.
    func damagedFile(_ sql: String) throws -> String {
        let path = temporaryDatabasePath()
        _ = try manualEngine(path: path)
        let raw = try SQLiteConnection(path: path, create: false, busyTimeoutMilliseconds: 1000)
        try raw.executeScript("PRAGMA journal_mode = DELETE; \(sql)")
        return path
    }

    @Test(arguments: [("-1", "invalid_schema_version"), ("-2147483648", "invalid_schema_version"),
                      ("0", "not_a_billing_database"), ("2147483647", "schema_too_new")])
    func everyVersionAFileCanHoldGetsAStatus(version: String, reason: String) throws {
        let path = try damagedFile("PRAGMA user_version = \(version);")
        let before = try bytes(path)
        let error = expectBillingError { try manualEngine(path: path) }
        #expect(error?.status == .schema)
        #expect(error?.reason == reason)
        #expect(try bytes(path) == before)
    }

    @Test func aSchemaThatDiffersFromItsVersionIsRefusedNamingTheDifference() throws {
        let path = try damagedFile("DROP TABLE five_day_units; CREATE INDEX mine ON accounts (level);")
        let before = try bytes(path)
        let error = expectBillingError { try manualEngine(path: path) }
        #expect(error?.reason == "schema_damaged")
        #expect(error?.message.contains("table five_day_units is missing") == true)
        #expect(error?.message.contains("index mine is not part of the schema") == true)
        #expect(try bytes(path) == before)
    }

    @Test func storedValuesThatCannotBeReadAreStorageErrors() throws {
        #expect(throws: StoredValue.unreadable("x", "not valid JSON")) { try StoredValue.document("{", "x") }
        let status: Result<OrderStatus, Error> = Result { try StoredValue.choice("SHIPPED", "status of order O1") }
        #expect((try? status.get()) == nil)
        let optional: PeriodUnit? = try StoredValue.optionalChoice(nil, "unit")
        #expect(optional == nil)
    }

    @Test func messagesQuoteLittleOfTheirInput() {
        #expect(BillingError.quote("short") == "'short'")
        let quoted = BillingError.quote(String(repeating: "x", count: 1_000_000))
        #expect(quoted.count < 100)
        #expect(quoted.hasSuffix("(1000000 bytes)"))
    }
}
