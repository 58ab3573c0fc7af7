/// The forward-only schema history. Each entry moves the file from version `index` to
/// `index + 1`; entries are never edited once released, only appended.
enum Schema {
    /// `PRAGMA application_id` of a libbilling file ("BILL").
    static let applicationID: Int64 = 0x4249_4C4C

    static let migrations: [String] = [
        // 1: the cross-cutting tables every operation uses.
        """
        CREATE TABLE config (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            document TEXT NOT NULL,
            revision INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            type TEXT NOT NULL,
            account_id TEXT,
            subject_id TEXT,
            occurred_at INTEGER NOT NULL,
            data TEXT NOT NULL
        ) STRICT;
        CREATE INDEX events_by_account ON events (account_id, seq) WHERE account_id IS NOT NULL;
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            recorded_at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            operation TEXT NOT NULL,
            account_id TEXT,
            subject_id TEXT,
            detail TEXT NOT NULL
        ) STRICT;
        CREATE INDEX audit_by_account ON audit_log (account_id, id) WHERE account_id IS NOT NULL;
        CREATE TABLE idempotency (
            key TEXT PRIMARY KEY,
            operation TEXT NOT NULL,
            request TEXT NOT NULL,
            response TEXT NOT NULL,
            created_at INTEGER NOT NULL
        ) STRICT;
        """,
    ]

    static var latestVersion: Int64 { Int64(migrations.count) }
}
