/// Options of one engine handle, given as JSON to `open`.
public struct EngineOptions: Sendable, Equatable {
    /// Create the file when it does not exist (default true).
    public var create = true
    /// SQLite `synchronous`: "FULL" (durable at every commit, the default) or "NORMAL"
    /// (WAL: durable at checkpoints, survives process crashes).
    public var synchronous = "FULL"
    /// How long a writer waits for another connection's lock before failing with BUSY.
    public var busyTimeoutMilliseconds: Int32 = 5000
    /// The handle's clock.
    public var clock: Clock = .system

    public init() {}

    /// Reads `{"create", "synchronous", "busy_timeout_ms", "clock": "system"|"manual", "now"}`.
    public init(json text: String?) throws {
        let reader = try ObjectReader(text: text, path: "options")
        create = try reader.optionalBool("create") ?? true
        synchronous = try reader.optionalChoice("synchronous", ["FULL", "NORMAL"]) ?? "FULL"
        busyTimeoutMilliseconds = Int32(try reader.optionalInt("busy_timeout_ms", in: 0...600_000) ?? 5000)
        let kind = try reader.optionalChoice("clock", ["system", "manual"]) ?? "system"
        let start = try reader.optionalInstant("now")
        switch kind {
        case "manual":
            guard let start else {
                throw BillingError.invalid("missing_field", "options.now (Unix seconds) is required with a manual clock")
            }
            clock = .manual(start)
        default:
            if start != nil {
                throw BillingError.invalid("invalid_option", "options.now is only allowed with \"clock\": \"manual\"")
            }
            clock = .system
        }
        try reader.finish()
    }
}
