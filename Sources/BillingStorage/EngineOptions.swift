import BillingDomain
import BillingDocuments

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
    /// A key the host keeps outside the file (16–64 bytes): the audit chain's links become
    /// keyed BLAKE2b, which nobody without the key can recompute after an edit.
    public var auditKey: [UInt8]?

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
        if let hex = try reader.optionalString("audit_key", maxLength: 128) {
            guard let key = EngineOptions.bytes(hex: hex), (16...64).contains(key.count) else {
                throw BillingError.invalid("invalid_option", "options.audit_key must be 32 to 128 hexadecimal digits (16 to 64 bytes)")
            }
            auditKey = key
        }
        try reader.finish()
    }

    /// The bytes of an even-length hexadecimal text, nil for anything else.
    package static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }
}
