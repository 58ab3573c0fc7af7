#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where an engine handle reads the time: nothing else in the library reads wall time.
public enum Clock: Sendable, Equatable {
    /// The system's real-time clock.
    case system
    /// A clock the host sets and advances (tests, simulations, back-fills).
    case manual(Int64)

    /// The current instant in Unix seconds.
    public var now: Int64 {
        switch self {
        case .system:
            var spec = timespec()
            clock_gettime(CLOCK_REALTIME, &spec)
            return Int64(spec.tv_sec)
        case .manual(let instant):
            return instant
        }
    }
}
