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
    /// identifier sequences go on from the source's counters (`identifierCounters`, its
    /// `id_sequences` rows: the table stays empty here, `IdentifierSequence.keptInRows`).
    ///
    /// `setval` is not transactional: a sequence it moved stays moved when the transaction
    /// rolls back. So the deferred foreign keys are checked first (`SET CONSTRAINTS ALL
    /// IMMEDIATE`, instead of at COMMIT), and the sequences are moved last, when every row is
    /// in and checked: after them only the COMMIT itself can fail (a lost connection). A
    /// sequence moved by such a copy is harmless: the destination is left empty (the rows
    /// rolled back), a new copy into it sets every sequence again to an absolute value from
    /// its own rows, and an engine that writes into it instead only starts its numbers higher
    /// (numbers may skip, never repeat: docs/postgresql.md, "Concurrency").
    package func finishCopy(tables: [String], identifierCounters: [(name: String, next: Int64)]) throws {
        try executeScript("SET CONSTRAINTS ALL IMMEDIATE;")
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
        for (name, next) in identifierCounters where next > 1 {
            try run("SELECT setval(CAST(? AS regclass), ?)", IdentifierSequence.sequence(name), next - 1)
        }
    }
}
