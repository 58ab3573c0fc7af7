import BillingDomain
import BillingDocuments
import BillingStorage

/// What one business operation sees and writes through while its transaction is open:
/// the connection, the instant, the actor, the policy, and the outbox and audit log.
public final class OperationContext {
    let db: Connection
    /// The engine's now, read once so that the whole operation happens at one instant.
    public let now: Int64
    /// Who asked, as the host named them (empty for reads).
    public let actor: String
    public let configuration: Configuration
    var auditAccount: String?
    var auditSubject: String?
    var auditDetail: JSONValue = .object([:])
    /// Work outside the database (removing files) that must happen only once the
    /// operation's transaction has committed.
    var afterCommit: [() -> Void] = []
    /// Export rows read before the transaction, in a read-only snapshot (`ExportReadAhead`).
    var exportReadAhead = ExportReadAhead()

    init(db: Connection, now: Int64, actor: String, configuration: Configuration) {
        self.db = db
        self.now = now
        self.actor = actor
        self.configuration = configuration
    }

    /// The business calendar of the configuration.
    public var calendar: BusinessCalendar { configuration.calendar }

    /// Appends an event to the outbox, in the operation's transaction.
    public func emit(_ type: String, account: String? = nil, subject: String? = nil, data: JSONValue = [:]) throws {
        try EventLog.append(db, type: type, account: account, subject: subject, at: now, data: data)
    }

    /// `emit` with the data already written as JSON text, byte for byte what `data.text` would
    /// be (each direct writer has a test comparing the two).
    func emit(_ type: String, account: String?, subject: String?, dataText: String) throws {
        try EventLog.append(db, type: type, account: account, subject: subject, at: now, dataText: dataText)
    }

    /// Says what the operation's audit row names: the account, the subject and a detail
    /// document (never a secret).
    public func audit(account: String? = nil, subject: String? = nil, detail: JSONValue = [:]) {
        auditAccount = account
        auditSubject = subject
        auditDetail = detail
    }
}
