import BillingDomain

/// Row coverage's change tracking on PostgreSQL (see `RowCoverage`). PostgreSQL has no TEMP
/// triggers, so the work is split:
///
/// - each covered table gets one row trigger, `billing_cover_<table>`, and its function, in the
///   database's schema (created here when missing or different; the PostgreSQL migrations are
///   to create them, docs/postgresql.md). The function notes the row's key in the session's
///   TEMP table `billing_touched` **when that table exists**, and does nothing otherwise, so a
///   session that does not track (another tool, psql) writes as if there were no trigger;
/// - `trackChanges` creates that TEMP table for this session (again after a reconnection).
///
/// The TEMP table is transactional like SQLite's temp database: keys noted by a statement,
/// a savepoint or a transaction that is rolled back are gone with it. TRUNCATE fires no row
/// trigger; the library never truncates a covered table.
extension PostgresConnection {
    package var tracksChanges: Bool { coverageInstalled }

    package func trackChanges(_ tables: [RowCoverage.Table]) throws {
        guard !coverageInstalled else { return }
        try createTouchedTable()
        for table in tables {
            let source = Self.coverageFunctionSource(table)
            let current = try first("""
                SELECT p.prosrc, EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgname = ? AND t.tgrelid = to_regclass(?))
                FROM pg_proc p WHERE p.oid = to_regprocedure(?)
                """, "billing_cover_\(table.name)", table.name, "billing_cover_\(table.name)()") { ($0.text(0), $0.bool(1)) }
            // DDL takes a lock that writers of the table wait for: only when something differs.
            if current?.0 == source && current?.1 == true { continue }
            try executeScript(Self.coverageScript([table]))
        }
        coverageInstalled = true
    }

    /// The session's table of touched keys. `COLLATE "C"`: `takeTouchedRows` orders by bytes,
    /// as SQLite's BINARY collation does, whatever the database's collation.
    func createTouchedTable() throws {
        try executeScript("""
            CREATE TEMP TABLE IF NOT EXISTS billing_touched (tbl text COLLATE "C" NOT NULL, key text COLLATE "C" NOT NULL)
            """)
    }

    package func takeTouchedRows() throws -> [(table: String, key: String)] {
        guard coverageInstalled else { return [] }
        let touched = try all("SELECT DISTINCT tbl, key FROM pg_temp.billing_touched ORDER BY tbl, key") { (table: $0.text(0), key: $0.text(1)) }
        guard !touched.isEmpty else { return [] }
        try run("DELETE FROM pg_temp.billing_touched")
        return touched
    }

    /// Whether the open transaction touched covered rows that no audit row has taken yet.
    func hasUntakenTouches() throws -> Bool {
        try first("SELECT 1 FROM pg_temp.billing_touched LIMIT 1") { _ in true } ?? false
    }

    /// The function and trigger of each covered table (the PostgreSQL migrations run it, and
    /// `trackChanges` when one is missing or differs).
    static func coverageScript(_ tables: [RowCoverage.Table]) -> String {
        tables.map { table in
            """
            CREATE OR REPLACE FUNCTION billing_cover_\(table.name)() RETURNS trigger LANGUAGE plpgsql AS $billing$\(coverageFunctionSource(table))$billing$;
            CREATE OR REPLACE TRIGGER billing_cover_\(table.name) AFTER INSERT OR UPDATE OR DELETE ON \(table.name)
                FOR EACH ROW EXECUTE FUNCTION billing_cover_\(table.name)();
            """
        }.joined(separator: "\n")
    }

    /// The body of a covered table's trigger function.
    static func coverageFunctionSource(_ table: RowCoverage.Table) -> String {
        let insert = "INSERT INTO pg_temp.billing_touched (tbl, key) VALUES ('\(table.name)', "
        return """
             BEGIN
              IF to_regclass('pg_temp.billing_touched') IS NULL THEN RETURN NULL; END IF;
              IF TG_OP <> 'INSERT' THEN \(insert)\(keyExpression(table, "OLD."))); END IF;
              IF TG_OP <> 'DELETE' THEN \(insert)\(keyExpression(table, "NEW."))); END IF;
              RETURN NULL;
             END
            """
    }

    /// A row's key as exactly the text SQLite's `json_array(...)` gives
    /// (`RowCoverage.keyExpression`): compact, `[` values `,`-separated `]`, integers as digits,
    /// text as a JSON string (`to_json` escapes `"`, `\` and control characters as SQLite
    /// does, and leaves other characters as they are), NULL as `null`. PostgreSQL's own
    /// `json_build_array` puts a space after each comma, which would change every key.
    static func keyExpression(_ table: RowCoverage.Table, _ prefix: String) -> String {
        let values = table.key.map { "coalesce(to_json(\(prefix)\($0))::text, 'null')" }
        return "'[' || concat_ws(',', \(values.joined(separator: ", "))) || ']'"
    }
}
