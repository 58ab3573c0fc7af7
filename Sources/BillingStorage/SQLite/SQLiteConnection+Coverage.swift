import BillingDomain
import BillingDocuments

/// Row coverage's change tracking on SQLite: TEMP triggers on this connection note the key of
/// every row each write touches in `temp.billing_touched` (see `RowCoverage`).
extension SQLiteConnection {
    var tracksChanges: Bool { coverageInstalled }

    /// Creates, once per connection, the table of touched keys and the triggers that fill it.
    /// TEMP objects belong to this connection only: they change nothing in the file.
    func trackChanges(_ tables: [RowCoverage.Table]) throws {
        guard !coverageInstalled else { return }
        // No unique key: an outer statement's conflict clause (an upsert, INSERT OR …)
        // overrides a trigger's, so the triggers cannot rely on OR IGNORE; `takeTouchedRows`
        // reads the distinct keys.
        var script = "CREATE TEMP TABLE IF NOT EXISTS billing_touched (tbl TEXT NOT NULL, key TEXT NOT NULL);\n"
        for table in tables {
            let insert = "INSERT INTO billing_touched (tbl, key) VALUES"
            let new = "('\(table.name)', \(RowCoverage.keyExpression(table, "NEW.")))"
            let old = "('\(table.name)', \(RowCoverage.keyExpression(table, "OLD.")))"
            script += """
                CREATE TEMP TRIGGER IF NOT EXISTS billing_cover_\(table.name)_insert AFTER INSERT ON main.\(table.name) BEGIN \(insert) \(new); END;
                CREATE TEMP TRIGGER IF NOT EXISTS billing_cover_\(table.name)_update AFTER UPDATE ON main.\(table.name) BEGIN \(insert) \(old), \(new); END;
                CREATE TEMP TRIGGER IF NOT EXISTS billing_cover_\(table.name)_delete AFTER DELETE ON main.\(table.name) BEGIN \(insert) \(old); END;

                """
        }
        try executeScript(script)
        coverageInstalled = true
    }

    func takeTouchedRows() throws -> [(table: String, key: String)] {
        guard coverageInstalled else { return [] }
        let touched = try all("SELECT DISTINCT tbl, key FROM temp.billing_touched ORDER BY tbl, key") { (table: $0.text(0), key: $0.text(1)) }
        guard !touched.isEmpty else { return [] }
        try run("DELETE FROM temp.billing_touched")
        return touched
    }

    /// Whether the open transaction touched covered rows that no audit row has taken yet.
    func hasUntakenTouches() throws -> Bool {
        try first("SELECT 1 FROM temp.billing_touched LIMIT 1") { _ in true } ?? false
    }
}
