import BillingDomain
import BillingDocuments

/// The SQLite backend's check (`SQLiteConnection.checkSchema`) that a file's schema is the one
/// its version promises: every table, column, index,
/// trigger and view as the migrations create them, and nothing else.
///
/// SQLite keeps each object's `CREATE` statement in `sqlite_schema` (rewritten by `ALTER
/// TABLE`, deterministically), so applying the same migrations to an empty in-memory
/// database gives the exact rows an intact file must have. Comparing those rows costs a
/// read of the schema SQLite has loaded anyway, which keeps opening a file fast.
package enum SchemaFingerprint {
    /// The schema objects, by name: type, table and `CREATE` statement.
    package typealias Objects = [String: String]

    /// The fingerprint an intact file of the latest version has: the objects of
    /// `SchemaFingerprint+Released.swift`, which `scripts/schema_fingerprint.py` writes from
    /// the migrations. An open compares the file with it, so that no process has to run every
    /// migration into a scratch database first (that took longer than the open itself).
    /// `SchemaFingerprintTests` fails while it is out of date. Should it ever differ from
    /// what this SQLite makes of the migrations, a file is still compared with the
    /// fingerprint computed from them: the constant only ever saves work.
    package static let releasedFingerprint = releasedObjects.joined(separator: "\u{1E}")

    /// What the released migrations produce, computed once per process and only when a file
    /// does not match `releasedFingerprint`: the fingerprint it is compared with then, and
    /// the objects a refusal names differences against.
    private static let released: Result<(fingerprint: String, objects: Objects), Error> = Result {
        try expected(migrations: Schema.migrations)
    }

    /// Refuses the file with `schema_damaged` when its objects differ from what `version`
    /// migrations produce, naming what differs.
    package static func check(_ db: Connection, version: Int64, migrations: [String]) throws {
        // The released list is passed by default and shares its storage, so this comparison
        // is a pointer check on every open.
        let isReleased = version == Schema.latestVersion && migrations == Schema.migrations
        // SQLite compares the one text byte for byte: the common case costs a read of the
        // schema it has loaded anyway.
        if isReleased, try db.first("SELECT (\(fingerprintQuery)) = ?", releasedFingerprint, map: { $0.bool(0) }) == true {
            return
        }
        let expected = isReleased
            ? try released.get()
            : try expected(migrations: Array(migrations.prefix(Int(clamping: max(version, 0)))))
        if try db.first("SELECT (\(fingerprintQuery)) = ?", expected.fingerprint, map: { $0.bool(0) }) == true { return }
        let found = try objects(db)
        var differences: [String] = []
        for name in expected.objects.keys.sorted() {
            guard let stored = found[name] else {
                differences.append("\(kind(expected.objects[name])) \(ObjectReader.shown(name)) is missing")
                continue
            }
            if stored != expected.objects[name] {
                differences.append("\(kind(stored)) \(ObjectReader.shown(name)) is not defined as version \(version) defines it")
            }
        }
        for name in found.keys.sorted() where expected.objects[name] == nil {
            differences.append("\(kind(found[name])) \(ObjectReader.shown(name)) is not part of the schema")
        }
        let shown = differences.prefix(5).joined(separator: "; ")
            + (differences.count > 5 ? "; and \(differences.count - 5) more" : "")
        throw BillingError(.schemaDamaged,
                           "the file's schema is not the one of version \(version): \(shown); refusing to use it")
    }

    /// The fingerprint of the schema `migrations` create, for the test that checks
    /// `releasedFingerprint`.
    package static func fingerprint(of migrations: [String]) throws -> String {
        try expected(migrations: migrations).fingerprint
    }

    /// The objects the migrations create on an empty database, and their fingerprint.
    private static func expected(migrations: [String]) throws -> (fingerprint: String, objects: Objects) {
        let scratch = try SQLiteConnection(path: ":memory:", create: true, busyTimeoutMilliseconds: 0)
        for migration in migrations { try scratch.executeScript(migration) }
        return (try scratch.first(fingerprintQuery) { $0.text(0) } ?? "", try objects(scratch))
    }

    /// Statistics tables (`ANALYZE`, `PRAGMA optimize`) are the host's business and left out.
    private static let selection = "FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_stat%' ESCAPE '\\'"

    /// Every object's type, name, table and statement, in name order, as one text.
    private static let fingerprintQuery = """
        SELECT group_concat(type || char(31) || name || char(31) || tbl_name || char(31) || coalesce(sql, ''), char(30))
        FROM (SELECT type, name, tbl_name, sql \(selection) ORDER BY name)
        """

    private static func objects(_ db: Connection) throws -> Objects {
        var objects: Objects = [:]
        try db.forEach("SELECT type, name, tbl_name, sql \(selection)") { row in
            objects[row.text(1)] = "\(row.text(0))\u{1F}\(row.text(2))\u{1F}\(row.optionalText(3) ?? "")"
        }
        return objects
    }

    private static func kind(_ object: String?) -> String {
        String(object?.split(separator: "\u{1F}", maxSplits: 1, omittingEmptySubsequences: false).first ?? "object")
    }
}
