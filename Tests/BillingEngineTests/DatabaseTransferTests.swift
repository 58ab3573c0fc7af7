import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

/// The copy's table list (`DatabaseTransfer.tables`) against the schema the migrations make:
/// every table once, each after the tables its foreign keys name. A migration that adds a
/// table fails here until the list names it.
@Suite("Copying a database")
struct DatabaseTransferTests {
    @Test func tableListIsTheSchemasInForeignKeyOrder() throws {
        let db = try SQLiteConnection(path: ":memory:", create: true, busyTimeoutMilliseconds: 1000)
        try Migrator.migrate(db)
        let schema = try db.all("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") { $0.text(0) }
        #expect(Set(schema) == Set(DatabaseTransfer.tables))
        #expect(DatabaseTransfer.tables.count == Set(DatabaseTransfer.tables).count)
        let position = Dictionary(uniqueKeysWithValues: DatabaseTransfer.tables.enumerated().map { ($1, $0) })
        for table in DatabaseTransfer.tables {
            let parents = try db.all("SELECT \"table\" FROM pragma_foreign_key_list(?)", table) { $0.text(0) }
            for parent in parents where parent != table {
                #expect((position[parent] ?? Int.max) < (position[table] ?? -1), "\(table) names \(parent), which the copy must fill first")
            }
        }
    }

    @Test func refusesADestinationOfAnotherVersion() throws {
        let source = try SQLiteConnection(path: ":memory:", create: true, busyTimeoutMilliseconds: 1000)
        try Migrator.migrate(source)
        let older = try SQLiteConnection(path: ":memory:", create: true, busyTimeoutMilliseconds: 1000)
        try Migrator.migrate(older, latest: 1, migrations: Array(Schema.migrations.prefix(1)))
        #expect(throws: BillingError.self) { _ = try DatabaseTransfer.copy(from: source, to: older) }
        do {
            _ = try DatabaseTransfer.copy(from: source, to: older)
        } catch let error as BillingError {
            #expect(error.reason == Reason.copyVersionMismatch.name)
        }
    }
}
