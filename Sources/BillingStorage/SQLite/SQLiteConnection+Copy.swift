import BillingDomain
import BillingDocuments

extension SQLiteConnection {
    /// SQLite checks deferred foreign keys at the commit; the pragma ends with the transaction.
    package func deferConstraints() throws {
        try executeScript("PRAGMA defer_foreign_keys = ON;")
    }

    /// Nothing to move: an explicit key above an AUTOINCREMENT table's counter raises it, and
    /// the identifier counters are `id_sequences` rows, copied as they are.
    package func finishCopy(tables: [String], identifierCounters: [(name: String, next: Int64)]) throws {}
}
