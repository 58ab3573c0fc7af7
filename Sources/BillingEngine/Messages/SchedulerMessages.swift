import BillingDomain
import BillingDocuments

/// The request and response of a scheduler run.

/// `billing_scheduler_run`: `{"actor", "limit"?: 1–10000 (per job, default 1000)}`.
struct SchedulerRunRequest: RequestDocument {
    let limit: Int64

    init(_ reader: ObjectReader) throws {
        limit = try reader.optionalInt("limit", in: 1...10_000) ?? 1000
    }
}

/// `{"now", "cancelled_orders", "exports_stepped", "exports_purged", "login_throttles_purged",
/// "resources": {count per outcome}, "has_more"}`; also the run's audit detail.
struct SchedulerRunResponse: ResponseDocument {
    /// The outcomes of the resource job, each listed (0 when none) so the shape is fixed.
    static let resourceOutcomes = LifecycleCounts.Outcome.allCases.map(\.key)

    let now: Int64
    let cancelledOrders: Int64
    let exportsStepped: Int64
    let exportsPurged: Int64
    let loginThrottlesPurged: Int64
    /// Counts by outcome; outcomes not in `resourceOutcomes` are not shown.
    let resources: [String: Int64]
    let hasMore: Bool

    var json: JSONValue {
        var counts: [String: JSONValue] = [:]
        for key in SchedulerRunResponse.resourceOutcomes { counts[key] = .integer(resources[key] ?? 0) }
        return ["now": .integer(now), "cancelled_orders": .integer(cancelledOrders),
                "exports_stepped": .integer(exportsStepped), "exports_purged": .integer(exportsPurged),
                "login_throttles_purged": .integer(loginThrottlesPurged), "resources": .object(counts), "has_more": .bool(hasMore)]
    }
}
