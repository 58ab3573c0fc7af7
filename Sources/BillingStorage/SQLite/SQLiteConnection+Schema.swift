import BillingDomain
import BillingDocuments

#if canImport(Glibc)
import Glibc
#endif

/// The SQLite backend's schema stamp, schema check and the settings an opened file gets.
extension SQLiteConnection {
    /// `PRAGMA application_id` and `PRAGMA user_version`: both live in the file's header, so
    /// they are read and written with the schema in the same transaction.
    func schemaStamp() throws -> SchemaStamp {
        let application = try first("PRAGMA application_id") { $0.int(0) } ?? 0
        let version = try first("PRAGMA user_version") { $0.int(0) } ?? 0
        return SchemaStamp(application: application, version: version)
    }

    func setSchemaStamp(_ stamp: SchemaStamp) throws {
        try executeScript("PRAGMA user_version = \(stamp.version); PRAGMA application_id = \(stamp.application);")
    }

    func holdsObjects() throws -> Bool {
        (try first("SELECT count(*) FROM sqlite_schema") { $0.int(0) } ?? 0) > 0
    }

    func hasTable(_ name: String) throws -> Bool {
        try first("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?", name) { _ in true } ?? false
    }

    /// Compares `sqlite_schema` with the objects the migrations create (`SchemaFingerprint`).
    func checkSchema(version: Int64, migrations: [String]) throws {
        try SchemaFingerprint.check(self, version: version, migrations: migrations)
    }

    /// Settings of a file the engine uses, applied after the migration (which must see the
    /// file before anything changes it): WAL, the durability asked for, foreign keys.
    func configure(synchronous: String, busyTimeoutMilliseconds: Int32) throws {
        try enableWAL(waitingUpTo: Int64(busyTimeoutMilliseconds))
        try executeScript("""
            PRAGMA synchronous = \(synchronous);
            PRAGMA foreign_keys = ON;
            """)
    }

    /// Switches the file to WAL. The switch needs a moment of exclusive access, and SQLite
    /// answers BUSY without calling the busy handler when another process holds the file
    /// (two processes opening a new file together), so it is retried here within the busy
    /// timeout.
    private func enableWAL(waitingUpTo milliseconds: Int64) throws {
        var waited: Int64 = 0
        while true {
            do {
                try executeScript("PRAGMA journal_mode = WAL;")
                return
            } catch let error as BillingError where error.status == .busy && waited < milliseconds {
                usleep(2000)
                waited += 2
            }
        }
    }

    // MARK: The file

    /// `VACUUM INTO`: one read snapshot, while WAL readers and writers go on; the copy is
    /// compact and holds no WAL.
    func writeCopy(to destination: String) throws {
        try run("VACUUM INTO ?", destination)
    }

    func checkStorage(full: Bool) throws -> (messages: [String], stoppedOn: String?) {
        var messages: [String] = []
        do {
            try forEach(full ? "PRAGMA integrity_check" : "PRAGMA quick_check") { row in
                let message = row.text(0)
                if message != "ok" { messages.append(message) }
            }
        } catch let error as BillingError where error.reason == "database_corrupt" {
            return (messages, error.message)
        }
        return (messages, nil)
    }

    func fileGeometry() throws -> (pageSize: Int64, file: String?) {
        let pageSize = try first("PRAGMA page_size") { $0.int(0) } ?? 0
        let file = try first("PRAGMA main.database_list", map: { $0.optionalText(2) }) ?? nil
        return (pageSize, file)
    }
}
