#if canImport(Glibc)
import Glibc
#endif
import BillingDomain
import BillingDocuments
import BillingStorage

/// The facade of the library: one handle on one database (an SQLite file, or a PostgreSQL
/// schema for a `postgresql://` path; reached only through `Connection`), with its own clock.
///
/// A handle is safe to share across threads: its one connection and its clock live behind a
/// lock. Several handles and several processes may open the same database; every write is one
/// transaction: on SQLite `BEGIN IMMEDIATE`, so they queue on the busy timeout; on PostgreSQL
/// SERIALIZABLE, run again when it fails to serialize — so an operation's body keeps nothing
/// with the handle before its commit (`perform`).
public final class Engine: @unchecked Sendable {
    let lock = Lock()
    let db: Connection
    /// The database this handle opened: a file path, ":memory:", or a PostgreSQL connection
    /// string.
    public let path: String
    private var clock: Clock
    /// The decoded configuration of a stored revision.
    private var cachedConfiguration: (revision: Int64, value: Configuration)?
    /// A configuration the running operation wrote: kept (`cachedConfiguration`) only once its
    /// transaction committed. A revision number written by a transaction that rolled back (or
    /// is run again after a PostgreSQL serialization failure) may be written by another
    /// writer with other values, so remembering it before the commit could serve a wrong one.
    var pendingConfiguration: (revision: Int64, value: Configuration)?
    /// The last configuration document a change wrote, whose unchanged fields the next change
    /// copies (`Configuration.documentText(reusing:)`). Only a cache of text by value: one
    /// written by a transaction that rolled back is as good as any. Used with the lock held.
    var configurationDocument = Configuration.DocumentTextCache()

    /// Opens (and creates or migrates) the database at `path`, or ":memory:" for a private one.
    ///
    /// - Throws: `.schema` for a file of a newer libbilling or of another application (left
    ///   untouched), `.storage` when the file cannot be opened.
    public convenience init(path: String, options: EngineOptions = EngineOptions()) throws {
        guard !path.isEmpty, !path.utf8.contains(0) else {
            throw BillingError.invalid(.invalidPath, "the database path must be a non-empty file name or \":memory:\"")
        }
        self.init(path: path, connection: try Database.open(path: path, options: options), options: options)
    }

    /// An engine on a connection already opened and migrated (`Database.open`), which it uses
    /// through the `Connection` interface only (a test wraps the connection to watch it).
    init(path: String, connection: Connection, options: EngineOptions) {
        self.path = path
        db = connection
        clock = options.clock
    }

    /// Opens with options given as JSON (see `EngineOptions`).
    public convenience init(path: String, optionsJSON: String?) throws {
        try self.init(path: path, options: EngineOptions(json: optionsJSON))
    }

    // MARK: Clock

    /// The handle's current instant in Unix seconds.
    public var now: Int64 { lock.withLock { clock.now } }

    /// Sets a manual clock to an instant; time may not run backwards.
    public func setClock(to instant: Int64) throws {
        try lock.withLock {
            guard case .manual(let current) = clock else { throw Engine.notManual }
            guard BusinessCalendar.instantRange.contains(instant) else {
                throw BillingError.invalid(.instantOutOfRange, "the clock must stay within the years 1970–9999")
            }
            guard instant >= current else {
                throw BillingError.invalid(.clockBackwards, "the manual clock cannot move backwards (from \(current) to \(instant))")
            }
            clock = .manual(instant)
        }
    }

    /// Advances a manual clock by a non-negative number of seconds and returns the new instant.
    @discardableResult
    public func advanceClock(by seconds: Int64) throws -> Int64 {
        try lock.withLock {
            guard case .manual(let current) = clock else { throw Engine.notManual }
            guard seconds >= 0 else {
                throw BillingError.invalid(.clockBackwards, "the manual clock cannot move backwards")
            }
            let (next, overflow) = current.addingReportingOverflow(seconds)
            guard !overflow, BusinessCalendar.instantRange.contains(next) else {
                throw BillingError.invalid(.instantOutOfRange, "the clock must stay within the years 1970–9999")
            }
            clock = .manual(next)
            return next
        }
    }

    private static let notManual = BillingError.refused(
        .clockNotManual, "this handle uses the system clock; open it with {\"clock\": \"manual\", \"now\": …} to set time")

    // MARK: Configuration cache

    /// The stored configuration, decoded again only when another writer changed its revision.
    /// Call with the lock held, inside a transaction.
    func loadConfiguration() throws -> Configuration {
        let revision = try ConfigurationStore.revision(db)
        // The value alone is copied out, not the whole cached entry first.
        if cachedConfiguration?.revision == revision, let value = cachedConfiguration?.value { return value }
        // Costs stored by an older library below today's floors rise to them (a rule, so it is
        // applied to what storage read, not inside the decoder).
        let value = PasswordHashCost.raisedToFloors(try ConfigurationStore.load(db) ?? Configuration())
        cachedConfiguration = (revision, value)
        return value
    }

    /// Keeps a configuration this handle just wrote, so its next operation need not decode it
    /// again. Call with the lock held, inside the writing transaction: it is kept once that
    /// transaction commits (`commitPendingState`), never before.
    func rememberConfiguration(_ value: Configuration) throws {
        pendingConfiguration = (try ConfigurationStore.revision(db), value)
    }

    /// What a write keeps with the handle once it committed. Call with the lock held, right
    /// after the transaction returned.
    func commitPendingState() {
        // Moved, not copied: a copy retains each of the configuration's maps and texts.
        if let pending = pendingConfiguration.take() { cachedConfiguration = pending }
    }

    /// The process's working directory, for relative database paths.
    func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The instant now, read with the lock held.
    func instantLocked() -> Int64 { clock.now }
}
