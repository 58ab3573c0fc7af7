/// The customer level V0–V5 the host assigns; it selects grace and retention days.
public enum CustomerLevel: String, CaseIterable, Hashable, Sendable {
    case v0 = "V0", v1 = "V1", v2 = "V2", v3 = "V3", v4 = "V4", v5 = "V5"
}

/// Days a resource keeps working (grace) and keeps its data (retention) after expiry or
/// arrears, for one customer level (domain-rules §4.2).
public struct GraceRetention: Hashable, Sendable {
    public var prepaidGraceDays: Int64
    public var prepaidRetentionDays: Int64
    public var onDemandGraceDays: Int64
    public var onDemandRetentionDays: Int64

    public init(_ prepaidGrace: Int64, _ prepaidRetention: Int64, _ onDemandGrace: Int64, _ onDemandRetention: Int64) {
        prepaidGraceDays = prepaidGrace
        prepaidRetentionDays = prepaidRetention
        onDemandGraceDays = onDemandGrace
        onDemandRetentionDays = onDemandRetention
    }
}
