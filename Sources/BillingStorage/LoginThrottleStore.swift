import BillingDomain
import BillingDocuments

/// The login throttle's rows: one per identifier with failures in a row, keyed by a digest of
/// the normalised identifier (an unknown identifier is often a typo or a password typed in
/// the wrong field, which must not be kept in clear).
package enum LoginThrottleStore {
    package static func load(_ db: Connection, key: String) throws -> LoginThrottle.State? {
        try firstRow(db, "SELECT failures, retry_after FROM login_throttles WHERE key = ?", values: .text(key)) {
            LoginThrottle.State(failures: $0.int(0), retryAfter: $0.int(1))
        }
    }

    package static func save(_ db: Connection, key: String, _ state: LoginThrottle.State) throws {
        try db.run("""
            INSERT INTO login_throttles (key, failures, retry_after) VALUES (?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, retry_after = excluded.retry_after
            """, key, state.failures, state.retryAfter)
    }

    package static func clear(_ db: Connection, keys: [String]) throws {
        for key in keys { try clear(db, key: key) }
    }

    /// One key's row (a successful login's), without an array around it.
    package static func clear(_ db: Connection, key: String) throws {
        try db.run("DELETE FROM login_throttles WHERE key = ?", key)
    }

    /// Deletes up to `limit` rows whose wait ended at or before `endedBy`, oldest first;
    /// returns how many it deleted and whether more remain that a run could take now.
    ///
    /// Both statements claim (`SQLDialect.claimDueRows`): rows another transaction holds (another runner's batch, a login updating
    /// its row) are neither deleted nor counted as more, so a host calling again while
    /// `has_more` does not spin until that transaction ends. The one further row the check
    /// takes is held until the commit, and purged by the next run. (`DueClaim`, for the other
    /// jobs, checks for more without a lock instead: their rows are work another runner could
    /// do; docs/postgresql.md, "Scheduler claims".)
    package static func purge(_ db: Connection, endedBy: Int64, limit: Int64) throws -> (purged: Int64, more: Bool) {
        let purged = try db.run("""
            DELETE FROM login_throttles WHERE key IN
                (SELECT key FROM login_throttles WHERE retry_after <= ? ORDER BY retry_after LIMIT ?\(db.dialect.claimDueRows))
            """, endedBy, limit)
        let more = try db.first("SELECT 1 FROM login_throttles WHERE retry_after <= ? LIMIT 1\(db.dialect.claimDueRows)", endedBy) { _ in true } ?? false
        return (Int64(purged), more)
    }
}
