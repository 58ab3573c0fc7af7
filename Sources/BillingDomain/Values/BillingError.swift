/// A failure the engine reports to its caller: a stable status, a machine-readable reason
/// and a message that says what to fix.
///
/// Statuses are append-only and never renumbered (they are the `BILLING_E_*` codes of
/// include/billing.h). Reasons are snake_case words hosts may branch on.
public struct BillingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The status classes of failures; raw values are the C status codes.
    public enum Status: Int32, Sendable {
        /// Bad input: malformed JSON, a wrong type, a missing or unknown field, a value out of range.
        case invalidArgument = 1
        /// An id that does not exist, or that belongs to another account.
        case notFound = 2
        /// The request collides with stored state: an idempotency key reused for another request.
        case conflict = 3
        /// A business rule refuses the operation in the current state.
        case refused = 4
        /// SQLite reported an I/O error, a full disk or a corrupt file.
        case storage = 5
        /// The database stayed locked by another writer beyond the busy timeout.
        case busy = 6
        /// The file is not a libbilling database, or was written by a newer library.
        case schema = 7
        /// A defect in the library; the operation changed nothing.
        case `internal` = 8
        /// Login failed: unknown identifier or wrong password (one status for both), or a
        /// locked account.
        case unauthenticated = 9
    }

    public let status: Status
    public let reason: String
    public let message: String
    /// The Unix second a refused login may be tried again (`login_throttled`, and
    /// `invalid_credentials` when the failure started a wait); billing_call's error document
    /// carries it as "retry_after" so hosts need not read it out of the message.
    public var retryAfter: Int64? = nil

    public init(_ status: Status, _ reason: String, _ message: String) {
        self.status = status
        self.reason = reason
        self.message = message
    }

    public var description: String { "\(status) [\(reason)]: \(message)" }

    /// Bad input with the given reason and message.
    public static func invalid(_ reason: String, _ message: String) -> BillingError {
        BillingError(.invalidArgument, reason, message)
    }

    /// A missing record, reported the same way whether it does not exist or is another account's.
    public static func notFound(_ what: String, _ id: String) -> BillingError {
        BillingError(.notFound, "\(what)_not_found", "no \(what.replacingUnderscores()) with id \(quote(id))")
    }

    /// A business rule refusing the operation.
    public static func refused(_ reason: String, _ message: String) -> BillingError {
        BillingError(.refused, reason, message)
    }

    /// How a message quotes text that came from outside (a request, a file): in single quotes
    /// and cut to `limit` characters, so that a 10 MB field name does not come back as a
    /// 10 MB message. Every message that quotes input goes through this.
    public static func quote(_ text: String, limit: Int = 64) -> String {
        let head = text.prefix(limit + 1)
        guard head.count > limit else { return "'\(text)'" }
        return "'\(head.prefix(limit))…' (\(text.utf8.count) bytes)"
    }

    /// Arithmetic that left the range of 64-bit fen.
    public static func overflow(_ what: String) -> BillingError {
        BillingError(.invalidArgument, "amount_out_of_range", "\(what) does not fit in a 64-bit count of fen")
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        String(map { $0 == "_" ? " " : $0 })
    }
}
