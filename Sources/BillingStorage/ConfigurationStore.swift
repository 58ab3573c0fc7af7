import BillingDomain
import BillingDocuments

/// The platform configuration: one row holding its document and a revision that every change
/// raises, so a handle can keep the decoded value until another writer changes it.
package enum ConfigurationStore {
    /// The stored revision (0 before the first change).
    package static func revision(_ db: Connection) throws -> Int64 {
        try firstRow(db, "SELECT revision FROM config WHERE id = 1") { $0.int(0) } ?? 0
    }

    /// The stored document, decoded; nil before the first change (the defaults apply).
    package static func load(_ db: Connection) throws -> Configuration? {
        try db.first("SELECT document FROM config WHERE id = 1") { $0.text(0) }.map(decode)
    }

    package static func save(_ db: Connection, _ configuration: Configuration) throws {
        try save(db, documentText: configuration.json.text)
    }

    /// Stores a configuration document already written (`Configuration.json.text`), so that
    /// a caller that also answers with it writes it once.
    package static func save(_ db: Connection, documentText: String) throws {
        try db.run("""
            INSERT INTO config (id, document, revision) VALUES (1, ?, 1)
            ON CONFLICT (id) DO UPDATE SET document = excluded.document, revision = config.revision + 1
            """, documentText)
    }
}
