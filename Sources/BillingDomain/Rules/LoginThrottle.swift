/// How failed logins slow down further attempts at one identifier (domain-rules §1.3).
///
/// A hard lock after N failures let a stranger lock out anyone whose phone number they knew,
/// and, since only known identifiers locked, told which identifiers exist. The throttle
/// instead makes each attempt after `afterFailures` failures in a row wait
/// `baseSeconds · 2^k` (k = 0, 1, … for the failures past the threshold) up to `maxSeconds`.
/// It is kept per identifier as login normalises it, whether or not an account holds it, so
/// the answers for a known and an unknown identifier are the same; a success clears it, and
/// a row of failures is forgotten `forgetSeconds` after its wait ended.
public struct LoginThrottle: Hashable, Sendable {
    public var afterFailures: Int64
    public var baseSeconds: Int64
    public var maxSeconds: Int64
    public var forgetSeconds: Int64

    /// One identifier's failures in a row and the instant before which attempts are refused
    /// (the last failure's instant when no wait applies).
    public struct State: Equatable, Sendable {
        public var failures: Int64
        public var retryAfter: Int64

        public init(failures: Int64, retryAfter: Int64) {
            self.failures = failures
            self.retryAfter = retryAfter
        }
    }

    public init(afterFailures: Int64, baseSeconds: Int64, maxSeconds: Int64, forgetSeconds: Int64) {
        self.afterFailures = afterFailures
        self.baseSeconds = baseSeconds
        self.maxSeconds = maxSeconds
        self.forgetSeconds = forgetSeconds
    }

    /// The state that counts at `now`: nil once `forgetSeconds` have passed since the wait
    /// ended, so the answer never depends on whether the scheduler has purged the row yet.
    public func current(_ stored: State?, at now: Int64) -> State? {
        guard let stored, !isForgotten(stored, at: now) else { return nil }
        return stored
    }

    /// Whether a stored row no longer counts (and may be purged).
    public func isForgotten(_ state: State, at now: Int64) -> Bool {
        state.retryAfter <= forgottenEndedBy(at: now)
    }

    /// Rows whose wait ended at or before this instant are forgotten at `now`.
    public func forgottenEndedBy(at now: Int64) -> Int64 {
        now.subtractingReportingOverflow(forgetSeconds).partialValue
    }

    /// The instant before which an attempt is refused without looking at its password, if
    /// that instant is still to come.
    public func waitUntil(_ state: State?, at now: Int64) -> Int64? {
        guard let state = current(state, at: now), now < state.retryAfter else { return nil }
        return state.retryAfter
    }

    /// The state after one more failure at `now`.
    public func failing(_ state: State?, at now: Int64) -> State {
        let failures = (current(state, at: now)?.failures ?? 0).addingReportingOverflow(1)
        let count = failures.overflow ? Int64.max : failures.partialValue
        let (retryAfter, overflow) = now.addingReportingOverflow(wait(afterFailure: count))
        return State(failures: count, retryAfter: overflow ? Int64.max : retryAfter)
    }

    /// The wait that the `failures`-th failure in a row imposes on the next attempt.
    public func wait(afterFailure failures: Int64) -> Int64 {
        guard failures >= afterFailures else { return 0 }
        let doublings = failures - afterFailures
        guard doublings < 62 else { return maxSeconds }
        let (seconds, overflow) = baseSeconds.multipliedReportingOverflow(by: Int64(1) << doublings)
        return overflow ? maxSeconds : min(seconds, maxSeconds)
    }
}
