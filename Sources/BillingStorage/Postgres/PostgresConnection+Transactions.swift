import CPostgres
import BillingDomain
#if canImport(Glibc)
import Glibc
#endif

/// Transactions on PostgreSQL: SERIALIZABLE, retried whole on a serialization failure or a
/// deadlock (docs/postgresql.md, "Concurrency", says why this and not row locks).
///
/// SQLite runs one writer at a time (`BEGIN IMMEDIATE`), so the engine's operations were
/// written as read–decide–write without naming the rows they depend on. SERIALIZABLE keeps
/// that code correct on PostgreSQL unchanged: the server lets transactions run at once and
/// fails one (40001) whenever their interleaving could differ from some serial order. Such a
/// failure committed nothing, so the whole body runs again until it commits or the busy
/// timeout is spent (writers of one hot row — an account paid from several processes — then
/// take turns as SQLite's writers queue); the body must therefore have no effect outside the transaction (the engine's
/// operations compute their answer from the database and the request only).
extension PostgresConnection {
    /// Runs `body` in one transaction and commits it, or rolls all of it back when `body`
    /// throws (and rethrows). `write: true` is `SERIALIZABLE`; `write: false` is
    /// `SERIALIZABLE READ ONLY`, a snapshot consistent with the serial order of the writers.
    /// A serialization failure or a deadlock reruns the body (with a short random pause that
    /// grows with each attempt) until the busy timeout is spent (at most
    /// `maxTransactionAttempts` runs), then is thrown `.busy`.
    @discardableResult
    package func transaction<T>(write: Bool, _ body: () throws -> T) throws -> T {
        try retrying(write ? "BEGIN ISOLATION LEVEL SERIALIZABLE" : "BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY", commit: true, audited: write, body)
    }

    /// A long read (`Connection.readOnlySnapshot`). Not `deferrable`: `REPEATABLE READ, READ
    /// ONLY`, a plain snapshot taken at once (no predicate locks, no serialization failure,
    /// nothing it reads makes a writer fail). `deferrable`: `SERIALIZABLE, READ ONLY,
    /// DEFERRABLE`: PostgreSQL takes a snapshot and waits until the serializable read-write
    /// transactions running at that moment have ended; when none of them could have made the
    /// snapshot inconsistent with a serial order it is "safe" (else it takes another), and the
    /// transaction then runs on it as a plain snapshot. The wait is the length of the writers'
    /// transactions (short: one operation each) — but every serializable writer of the whole
    /// cluster counts, and one left open (a host's session idle in a transaction) would hold
    /// the read for as long. So the snapshot is taken at once, by a `SELECT 1` under a
    /// `statement_timeout` of the busy timeout (0: no time limit, as for writers' reruns), and
    /// the session's own `statement_timeout` (read before, outside the transaction) is put back
    /// for the read itself: a read that gets no safe snapshot in that time fails
    /// `BILLING_E_BUSY` `database_busy` (57014), as a writer that waited that long for its
    /// turn does. Run through `retrying` like every transaction, for the failures it shares
    /// with them (a lost connection is passed on as it is).
    package func readOnlySnapshot<T>(deferrable: Bool, _ body: () throws -> T) throws -> T {
        guard deferrable else {
            return try retrying("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", commit: true, audited: false, body)
        }
        let session = try first("SELECT current_setting('statement_timeout')") { $0.text(0) } ?? "0"
        let begin = """
            BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE; SET LOCAL statement_timeout = \(max(0, lockTimeoutMilliseconds));
            SELECT 1; SET LOCAL statement_timeout = '\(session.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "''"))'
            """
        return try retrying(begin, commit: true, audited: false, body)
    }

    /// Runs `body` in a write transaction that is always rolled back, whole, and returns its
    /// result (a quote computed by the code that would do the operation). A rollback that
    /// fails is thrown (`rollback_failed`), never taken for success.
    package func rehearsal<T>(_ body: () throws -> T) throws -> T {
        try retrying("BEGIN ISOLATION LEVEL SERIALIZABLE", commit: false, audited: false, body)
    }

    /// Writers run at once: a sequence number taken at insert is not commit order.
    package var writersTakeTurns: Bool { false }

    /// `READ COMMITTED`: each statement sees what committed before it (after a row lock it
    /// waited for, what the lock's holder committed), and it takes no predicate locks, so a
    /// sealer never makes an operation fail serialization (docs/postgresql.md, "Events in
    /// commit order").
    package func bookkeeping<T>(_ body: () throws -> T) throws -> T {
        try retrying("BEGIN ISOLATION LEVEL READ COMMITTED", commit: true, audited: true, body)
    }

    /// `audited`: the transaction is refused at its end (`unaudited_write`) when change
    /// tracking is on and touched rows were not taken by an audit row, as on SQLite.
    private func retrying<T>(_ begin: String, commit: Bool, audited: Bool, _ body: () throws -> T) throws -> T {
        guard !inTransaction else {
            throw BillingError(.nestedTransaction, "a transaction was opened inside another")
        }
        var attempt = 1
        // The busy timeout bounds the reruns as it bounds SQLite's wait for the write lock (0:
        // no time limit, only the attempts).
        let deadline = PostgresConnection.monotonicMilliseconds() + Int64(lockTimeoutMilliseconds)
        var uniqueRetries = 0
        while true {
            lastTransactionAttempts = attempt
            lastFailureWasUniqueViolation = false
            do {
                return try once(begin, commit: commit, audited: audited, body)
            } catch let failure as BillingError where failure.reason == Reason.constraintViolation.name
                        && lastFailureWasUniqueViolation && uniqueRetries < PostgresConnection.uniqueViolationReruns {
                // Two transactions inserted the same key at once (two reports of one resource's
                // provisioning): the one that lost sees the other's row when run again, and
                // decides from it (a refusal, or nothing to do). A violation that persists is
                // the operation's own, and is passed on.
                uniqueRetries += 1
                usleep(UInt32.random(in: 0...UInt32(1 << min(attempt, 8))) * 1000)
                attempt += 1
            } catch let failure as BillingError where PostgresError.isRetryable(failure) {
                // A few reruns whatever the clock says: a long transaction (verify, an export, a
                // scheduler batch) may have spent the busy timeout by itself before it failed.
                let late = attempt >= PostgresConnection.reruns && lockTimeoutMilliseconds > 0
                    && PostgresConnection.monotonicMilliseconds() >= deadline
                guard attempt < maxTransactionAttempts, !late else {
                    // The retryable reasons are busy ones: the error keeps the one that persisted.
                    let reason: Reason = failure.reason == Reason.deadlockDetected.name ? .deadlockDetected : .serializationFailure
                    throw BillingError(reason, "\(failure.message); still failing after \(attempt) attempts, try again later")
                }
                // A pause of up to 2^attempt milliseconds (at most about a quarter second),
                // random so that two transactions that collided do not collide again.
                let ceiling = UInt32(1) << UInt32(min(attempt, 8))
                usleep(UInt32.random(in: 0...ceiling) * 1000)
                attempt += 1
            }
        }
    }

    /// How many times a transaction is run at least before the busy timeout may stop it.
    static let reruns = 4

    /// How many times a transaction that broke a unique constraint is run again.
    static let uniqueViolationReruns = 2

    /// A clock for timeouts: monotonic, unaffected by the host's or the handle's time.
    static func monotonicMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    private func once<T>(_ begin: String, commit: Bool, audited: Bool, _ body: () throws -> T) throws -> T {
        do {
            try control(begin)
        } catch {
            // A begin of several statements (`readOnlySnapshot`) may fail after its BEGIN: end
            // that transaction, or the next one would be refused as nested by the server.
            if !broken && transactionStatus != PQTRANS_IDLE { _ = try? control("ROLLBACK") }
            throw error
        }
        inTransaction = true
        defer { inTransaction = false }
        let result: T
        do {
            result = try body()
            // A statement that failed inside the body leaves the transaction aborted even when
            // the body caught its error: COMMIT would quietly roll back ("ROLLBACK" tag), so a
            // body that swallowed a failure is refused, never reported as committed.
            if transactionStatus == PQTRANS_INERROR {
                throw BillingError(.transactionAborted,
                                   "a statement failed inside the transaction and the failure was not passed on; nothing was committed")
            }
            // Every covered row a write touched must be listed by an audit row of the same
            // transaction: a write path that forgot its audit row is refused, not committed.
            if audited, coverageInstalled, try hasUntakenTouches() {
                throw BillingError(.unauditedWrite,
                                   "a write touched covered rows without appending an audit row; nothing was changed")
            }
        } catch {
            try abandon(after: error)
            throw error
        }
        if !commit {
            try undo("ROLLBACK", "rolling back a rehearsal")
            return result
        }
        let tag: String
        do {
            tag = try control("COMMIT", duringCommit: true)
        } catch {
            // A serialization failure at COMMIT ends the transaction on the server already.
            if transactionStatus != PQTRANS_IDLE && !broken { _ = try? control("ROLLBACK") }
            throw error
        }
        guard tag == "COMMIT" else {
            throw BillingError(.postgresError, "COMMIT answered \(tag): the transaction was rolled back by the server")
        }
        return result
    }

    /// Ends a transaction whose body threw. Nothing to do when the connection is gone (the
    /// server rolled it back); a ROLLBACK that fails is the error the caller must hear.
    private func abandon(after error: Error) throws {
        if broken { return }
        let status = transactionStatus
        guard status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE else { return }
        try undo("ROLLBACK", "rolling back a failed transaction (\((error as? BillingError)?.reason ?? "\(error)"))")
    }

    /// Runs `body` inside a savepoint of the open transaction: when it throws, only what it
    /// wrote is undone and the error is rethrown; the transaction goes on.
    ///
    /// Two failures cannot be undone to a savepoint and are rethrown as they are, for the
    /// whole transaction to end: a lost connection, and a serialization failure or deadlock
    /// (PostgreSQL dooms the whole transaction; `transaction` runs it again). Should undoing
    /// fail, a storage error (`rollback_failed`) is thrown so that the caller does not go on
    /// writing on top of a half-undone step.
    package func savepoint<T>(_ body: () throws -> T) throws -> T {
        try control("SAVEPOINT attempt")
        let result: T
        do {
            result = try body()
        } catch {
            if broken || PostgresError.isRetryable(error) { throw error }
            try undo("ROLLBACK TO SAVEPOINT attempt", "undoing a failed step")
            try undo("RELEASE SAVEPOINT attempt", "closing a failed step")
            throw error
        }
        if transactionStatus == PQTRANS_INERROR {
            throw BillingError(.transactionAborted,
                               "a statement failed inside a step and the failure was not passed on; the transaction is abandoned")
        }
        try undo("RELEASE SAVEPOINT attempt", "keeping a step")
        return result
    }

    /// Runs an undo statement; its failure is a storage error naming what was being undone
    /// (a lost connection keeps its own reason: the server has rolled back already).
    private func undo(_ sql: String, _ what: String) throws {
        do {
            try control(sql)
        } catch let error as BillingError {
            if broken { throw error }
            throw BillingError(.rollbackFailed, "\(what) failed, so the transaction was abandoned: \(error.message)")
        }
    }
}
