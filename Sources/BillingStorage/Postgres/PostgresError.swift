import CPostgres
import BillingDomain

/// Maps PostgreSQL's failures (SQLSTATE codes, a connection that went away) to the engine's
/// error statuses, the way `SQLiteError` maps SQLite's result codes: a host sees the same
/// statuses whichever backend it opened.
package enum PostgresError {
    /// The reasons a transaction is retried for (SERIALIZABLE's 40001 and a deadlock's 40P01):
    /// nothing of the failed attempt was committed, and running it again may succeed.
    package static let retryableReasons: Set<String> = [Reason.serializationFailure.name, Reason.deadlockDetected.name]

    /// Whether `error` is one a whole transaction may be retried for.
    package static func isRetryable(_ error: Error) -> Bool {
        guard let failure = error as? BillingError else { return false }
        return failure.status == .busy && retryableReasons.contains(failure.reason)
    }

    /// The error for a failed command. `connectionLost` says the connection is gone (libpq
    /// reports CONNECTION_BAD, or the server ended the session); `duringCommit` that the
    /// command was COMMIT, whose outcome is then unknown.
    static func from(_ result: OpaquePointer?, _ connection: OpaquePointer?, connectionLost: Bool, duringCommit: Bool) -> BillingError {
        let state = billing_pq_sqlstate(result).map { String(cString: $0) } ?? ""
        let detail = message(result, connection)
        if connectionLost || state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state) {
            if duringCommit {
                // The server may have committed before the connection went: the caller cannot
                // know. A write retried with its idempotency key is answered once either way.
                return BillingError(.commitOutcomeUnknown,
                                    "the connection to PostgreSQL was lost while committing, so whether the transaction committed is unknown (\(detail)); retry with the same idempotency key")
            }
            return BillingError(.connectionLost,
                                "the connection to PostgreSQL was lost (\(detail)); nothing of the open transaction was committed, and the next call reconnects")
        }
        switch state {
        case "40001":
            return BillingError(.serializationFailure,
                                "a concurrent transaction changed what this one read (PostgreSQL \(state)): \(detail)")
        case "40P01":
            return BillingError(.deadlockDetected,
                                "two transactions waited for each other and this one was chosen to fail (PostgreSQL \(state)): \(detail)")
        case "55P03", "57014":
            // lock_timeout (55P03) or a cancelled statement (57014, statement_timeout): the
            // same situation as SQLite's busy timeout running out.
            return BillingError(.databaseBusy, "the database stayed locked by another writer: \(detail)")
        case "53100":
            return BillingError(.diskFull, "the disk is full: \(detail)")
        case "25006":
            return BillingError(.readOnly, "the database is read-only: \(detail)")
        case "22003":
            return BillingError.invalid(.valueTooBig, "a value is too large to store: \(detail)")
        case "22021", "22P05":
            // A NUL character in text (valid UTF-8 that PostgreSQL text cannot hold).
            return BillingError.invalid(.valueNotStorable, "a text value cannot be stored in PostgreSQL: \(detail)")
        default:
            if state.hasPrefix("23") {
                return BillingError(.constraintViolation, "a stored-data constraint refused the change: \(detail)")
            }
            return BillingError(.postgresError, "PostgreSQL error \(state.isEmpty ? "(no SQLSTATE)" : state): \(detail)")
        }
    }

    /// The server's message, or libpq's own for failures the server did not report.
    static func message(_ result: OpaquePointer?, _ connection: OpaquePointer?) -> String {
        if let primary = billing_pq_primary_message(result) { return String(cString: primary) }
        let text = result.flatMap { PQresultErrorMessage($0) }.map { String(cString: $0) } ?? ""
        let fallback = text.isEmpty ? (connection.flatMap { PQerrorMessage($0) }.map { String(cString: $0) } ?? "") : text
        let trimmed = fallback.split(whereSeparator: { $0 == "\n" }).joined(separator: " ")
        return trimmed.isEmpty ? "no message" : trimmed
    }
}
