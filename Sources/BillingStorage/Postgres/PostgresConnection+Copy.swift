import BillingDomain
import BillingDocuments

extension PostgresConnection {
    /// Only constraints declared DEFERRABLE are deferred; the schema declares its foreign keys
    /// so.
    package func deferConstraints() throws {
        try executeScript("SET CONSTRAINTS ALL DEFERRED;")
    }

    /// Identity columns take keys from their own sequences, which explicit keys do not move:
    /// each is set to the largest copied key, so the next insert takes the one after it. The
    /// identifier sequences go on from the counters a copied SQLite database kept in
    /// `id_sequences` (`IdentifierSequence`).
    package func finishCopy(tables: [String]) throws {
        let identities = try all("""
            SELECT table_name::text, column_name::text FROM information_schema.columns
            WHERE table_schema = current_schema() AND is_identity = 'YES'
            """) { ($0.text(0), $0.text(1)) }
        for (table, column) in identities where tables.contains(table) {
            try run("""
                SELECT setval(pg_get_serial_sequence(quote_ident(?), ?), GREATEST(COALESCE(MAX(\(column)), 0), 1), MAX(\(column)) IS NOT NULL)
                FROM \(table)
                """, table, column)
        }
        guard tables.contains("id_sequences") else { return }
        let counters = try all("SELECT name, next FROM id_sequences WHERE next > 1") { ($0.text(0), $0.int(1)) }
        for (name, next) in counters {
            try run("SELECT setval(CAST(? AS regclass), ?)", IdentifierSequence.sequence(name), next - 1)
        }
    }
}
