import BillingDomain
#if canImport(Glibc)
import Glibc
#endif

/// The PostgreSQL backend's schema stamp, schema check and "file" members.
///
/// A "database" here is the schema the connection works in (`current_schema()`, the first
/// of its `search_path`, `public` by default): a PostgreSQL database may hold several, and a
/// host may give each engine its own with `options=-csearch_path=…` in the connection string.
extension PostgresConnection {
    // MARK: Schema version

    /// PostgreSQL has no `application_id`/`user_version`: the stamp is the one row of
    /// `billing_schema`, a table in the same schema as the engine's tables, read and written in
    /// the caller's (migrating) transaction like everything else. No table, or no row, reads
    /// as (0, 0), a new database.
    package func schemaStamp() throws -> SchemaStamp {
        guard try hasTable("billing_schema") else { return SchemaStamp(application: 0, version: 0) }
        return try first("SELECT application, version FROM billing_schema") {
            SchemaStamp(application: $0.int(0), version: $0.int(1))
        } ?? SchemaStamp(application: 0, version: 0)
    }

    /// Creates `billing_schema` when it is missing (the PostgreSQL migrations will create it
    /// first) and writes its one row: the `one` column is true in the only row there can be.
    package func setSchemaStamp(_ stamp: SchemaStamp) throws {
        try executeScript("""
            CREATE TABLE IF NOT EXISTS billing_schema (
                one boolean PRIMARY KEY DEFAULT true CHECK (one),
                application bigint NOT NULL,
                version bigint NOT NULL)
            """)
        try run("""
            INSERT INTO billing_schema (one, application, version) VALUES (true, ?, ?)
            ON CONFLICT (one) DO UPDATE SET application = excluded.application, version = excluded.version
            """, stamp.application, stamp.version)
    }

    /// Whether the schema holds any table, view, sequence, index, function or trigger — a
    /// schema with some and no stamp belongs to someone else. TEMP objects (this session's
    /// `billing_touched`) live in their own schema and do not count.
    package func holdsObjects() throws -> Bool {
        try first("""
            SELECT EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace)
                OR EXISTS (SELECT 1 FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace)
            """) { $0.bool(0) } ?? false
    }

    /// Whether a table (not a view) of that name exists in the connection's schema.
    package func hasTable(_ name: String) throws -> Bool {
        try first("""
            SELECT 1 FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace
                AND c.relname = ? AND c.relkind IN ('r', 'p')
            """, name) { _ in true } ?? false
    }

    /// Refuses (`schema_damaged`, naming the differences) a schema whose tables, columns,
    /// constraints, indexes, triggers and views are not exactly what `migrations` create at
    /// `version`.
    ///
    /// An open of the library's own latest schema compares one catalogue query's digest with
    /// the released one for the server's major version (`PostgresSchemaFingerprint`): no
    /// scratch schema, no right to create one. Otherwise — other migrations, a server version
    /// with no released digest, or a schema that differs — what the migrations create is
    /// learnt by running them: on a second connection, in a scratch schema inside a
    /// transaction that is rolled back (so nothing is left, and the caller's transaction —
    /// read-only when `Migrator` checks an opened database — is not touched), once per process
    /// for each list of migrations, and the differences are named. The stamp table and row
    /// coverage's `billing_cover_*` triggers and functions are the backend's, not the
    /// migrations', and are left out of the comparison.
    package func checkSchema(version: Int64, migrations: [String]) throws {
        // The first `version` scripts, as on SQLite. The library's own PostgreSQL history has
        // fewer scripts than versions (its first script is SQLite's first 15 at once,
        // `SchemaHistory`), and `Migrator` passes exactly the scripts that build `version`.
        let applied = Array(migrations.prefix(Int(max(0, version))))
        let schema = try first("SELECT current_schema()::text") { $0.text(0) } ?? "public"
        let found = try PostgresSchemaFingerprint.digest(self, schema: schema)
        let released = PostgresSchemaFingerprint.released(version: version, migrations: applied, major: found.major)
        if found.digest == released { return }
        let key = applied.joined(separator: "\u{1E}")
        if ExpectedSchemas.lock.withLock({ ExpectedSchemas.accepted.contains(key + "\u{1E}" + found.digest) }) { return }
        let expected: Set<String>
        do {
            expected = try Self.expectedObjects(conninfo: conninfo, key: key, migrations: applied)
        } catch let error as BillingError where released != nil {
            // The released digest of this server's version is what an intact schema has: this
            // one differs, only the differences cannot be named (no right to create the
            // scratch schema, typically).
            throw BillingError(.schemaDamaged,
                               "the database's schema is not the one of version \(version): its catalogue digest \(found.digest) is not the released \(released ?? "") of PostgreSQL \(found.major) (the differences could not be named: \(error.message))")
        }
        let actual = try describeSchema(schema)
        let missing = expected.filter { !actual.contains($0) }.sorted()
        let unexpected = actual.filter { !expected.contains($0) }.sorted()
        guard missing.isEmpty && unexpected.isEmpty else {
            let shown = (missing.prefix(5).map { "missing \($0)" } + unexpected.prefix(5).map { "unexpected \($0)" })
            let more = missing.count + unexpected.count - shown.count
            throw BillingError(.schemaDamaged,
                               "the database's schema is not the one of version \(version): \(shown.joined(separator: "; "))\(more > 0 ? "; and \(more) more" : "")")
        }
        // The same objects under another digest (a server version with none released): later
        // opens in this process compare the digest only.
        ExpectedSchemas.lock.withLock { _ = ExpectedSchemas.accepted.insert(key + "\u{1E}" + found.digest) }
    }

    /// One line per column, constraint, index, trigger, view, sequence (the identifier
    /// sequences among them) and function (but row coverage's) of `schema`, with the schema's
    /// name taken out of definitions so that two schemas holding the same objects compare
    /// equal (`PostgresSchemaFingerprint.descriptionQuery`, the lines the digest is made of).
    func describeSchema(_ schema: String) throws -> Set<String> {
        var lines = Set<String>()
        try forEach(PostgresSchemaFingerprint.descriptionQuery, [schema]) { lines.insert($0.text(0)) }
        return lines
    }

    /// What `migrations` create, described (`describeSchema`), cached per process under `key`.
    private static func expectedObjects(conninfo: String, key: String, migrations: [String]) throws -> Set<String> {
        if let cached = ExpectedSchemas.lock.withLock({ ExpectedSchemas.objects[key] }) { return cached }
        let scratch = try PostgresConnection(conninfo: conninfo)
        let objects = try scratch.rehearsal { () -> Set<String> in
            let name = try scratch.buildScratchSchema(migrations)
            return try scratch.describeSchema(name)
        }
        ExpectedSchemas.lock.withLock { ExpectedSchemas.objects[key] = objects }
        return objects
    }

    /// Creates a scratch schema, makes it the transaction's search path and runs `migrations`
    /// in it; returns its name. Inside a transaction that the caller rolls back.
    package func buildScratchSchema(_ migrations: [String]) throws -> String {
        let name = "billing_check_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        try executeScript("CREATE SCHEMA \(name); SET LOCAL search_path TO \(name)")
        for migration in migrations { try executeScript(migration) }
        return name
    }

    /// Two processes opening a new database must migrate it once. The lock is a session
    /// advisory lock taken *before* the migrating transaction begins: a SERIALIZABLE
    /// transaction's snapshot is taken at its first statement, so a lock taken inside it would
    /// let the second migrator wait and then still see the database unmigrated. Keyed by the
    /// application and the schema's name; released after the transaction (and by the server
    /// if the session ends).
    package func withMigrationLock<T>(_ body: () throws -> T) throws -> T {
        let lock = "SELECT pg_advisory_lock(\(Schema.applicationID), hashtext(coalesce(current_schema(), '')))"
        _ = try first(lock) { _ in true }
        defer { _ = try? first("SELECT pg_advisory_unlock(\(Schema.applicationID), hashtext(coalesce(current_schema(), '')))") { _ in true } }
        return try body()
    }

    /// The name of the schema the connection's `search_path` names first (`current_schema()`
    /// is NULL while it does not exist), with `$user` taken as the session's user.
    func searchPathSchema() throws -> String {
        let path = try first("SELECT current_setting('search_path'), current_user::text") { ($0.text(0), $0.text(1)) } ?? ("", "")
        var name = ""
        var quoted = false
        let characters = Array(path.0.drop { $0 == " " })
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if quoted {
                if character == "\"" {
                    if index + 1 < characters.count && characters[index + 1] == "\"" { name.append("\""); index += 1 } else { quoted = false }
                } else {
                    name.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                break
            } else {
                // PostgreSQL folds an unquoted identifier to lower case.
                name.append(contentsOf: character.lowercased())
            }
            index += 1
        }
        while name.last == " " { name.removeLast() }
        return name == "$user" ? path.1 : name
    }

    /// Makes sure the schema the connection works in exists: a PostgreSQL "database" of the
    /// engine is a schema (docs/postgresql.md), named by the connection's `search_path`
    /// (`options=-csearch_path=name`). With `create`, a missing one is created
    /// (`CREATE SCHEMA IF NOT EXISTS`; another process creating it at the same instant is
    /// fine); without, opening is refused `cannot_open`.
    package func ensureSchema(create: Bool) throws {
        if try first("SELECT current_schema() IS NOT NULL", map: { $0.bool(0) }) == true { return }
        let name = try searchPathSchema()
        guard !name.isEmpty else {
            throw BillingError(.cannotOpen, "the PostgreSQL connection's search_path names no schema to work in")
        }
        guard create else {
            throw BillingError(.cannotOpen, "the schema \"\(name)\" named by the connection's search_path does not exist (open with \"create\": true to create it)")
        }
        let quoted = "\"" + name.replacing("\"", with: "\"\"") + "\""
        do {
            try executeScript("CREATE SCHEMA IF NOT EXISTS \(quoted)")
        } catch let error as BillingError where error.reason == Reason.constraintViolation.name {
            // Created by another process between the check and the statement.
        }
        guard try first("SELECT current_schema() IS NOT NULL", map: { $0.bool(0) }) == true else {
            throw BillingError(.cannotOpen, "the schema \"\(name)\" could not be made the connection's schema")
        }
    }

    // MARK: The "file"

    /// Refused: a PostgreSQL database is no file the library can copy consistently. Its
    /// backup is `pg_dump` (one consistent snapshot while others go on, like `VACUUM INTO`),
    /// or the server's base backups with WAL archiving.
    package func writeCopy(to destination: String) throws {
        throw BillingError(.backupNeedsPgDump,
                           "a PostgreSQL database cannot be copied to a file by the library; back it up with pg_dump (for example `pg_dump --format=custom --file=\(destination) <connection string>`)")
    }

    /// PostgreSQL checks its own pages (data checksums, when the cluster has them). When the
    /// `amcheck` extension is installed in the database, its B-tree check runs on every
    /// index of the schema (`full`: also that every table row is in its indexes); without
    /// it there is nothing more to check from a client, and no message.
    package func checkStorage(full: Bool) throws -> (messages: [String], stoppedOn: String?) {
        guard let module = try first("""
            SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'amcheck'
            """, map: { $0.text(0) }) else { return ([], nil) }
        let indexes = try all("""
            SELECT i.oid::bigint, i.relname::text FROM pg_class i JOIN pg_am a ON a.oid = i.relam
            WHERE i.relnamespace = current_schema()::regnamespace AND i.relkind = 'i' AND a.amname = 'btree'
            ORDER BY i.relname
            """) { ($0.int(0), $0.text(1)) }
        var messages: [String] = []
        for (oid, name) in indexes {
            let check = { _ = try self.first("SELECT \"\(module)\".bt_index_check(?::bigint::oid, ? <> 0)", oid, full) { _ in true } }
            do {
                // A failing statement aborts an open transaction: check under a savepoint there.
                if inTransaction { try savepoint(check) } else { try check() }
            } catch let error as BillingError where error.reason != Reason.connectionLost.name {
                messages.append("index \(name): \(error.message)")
            }
        }
        return (messages, nil)
    }

    /// No file: (0, nil), and verify's file-size check is skipped.
    package func fileGeometry() throws -> (pageSize: Int64, file: String?) { (0, nil) }
}

/// `PostgresConnection.checkSchema`'s per-process cache of what lists of migrations create.
private enum ExpectedSchemas {
    static let lock = Lock()
    nonisolated(unsafe) static var objects: [String: Set<String>] = [:]
    /// Migrations and digest (joined by U+001E) of schemas found equal to what the migrations
    /// create although the digest is not a released one.
    nonisolated(unsafe) static var accepted: Set<String> = []
}
