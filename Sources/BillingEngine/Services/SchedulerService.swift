import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// Does the work that is due at the engine's now, in bounded batches:
    /// `{"actor", "limit"?: 1–10000 (per job, default 1000)}` → `{"now", "cancelled_orders",
    /// "exports_stepped", "exports_purged", "login_throttles_purged", "resources", "has_more"}`. Running it twice, or from two processes at once, has the effect of running
    /// it once: each job selects only what is still due inside its write transaction.
    /// Call it again while `has_more` is true.
    public func runScheduler(_ requestJSON: String?) throws -> String {
        try perform("scheduler.run", requestJSON, parse: { reader in
            try reader.optionalInt("limit", in: 1...10_000) ?? 1000
        }, apply: { context, limit in
            let orders = try Engine.cancelOverdueOrders(limit: limit, context: context)
            let resources = try Engine.advanceDueResources(limit: limit, context: context)
            let exports = try Engine.runExportJobs(limit: limit, context: context)
            let throttles = try Engine.purgeLoginThrottles(limit: limit, context: context)
            var fields: [String: JSONValue] = ["now": .integer(context.now), "cancelled_orders": .integer(orders.cancelled),
                                               "exports_stepped": .integer(exports.stepped), "exports_purged": .integer(exports.purged),
                                               "login_throttles_purged": .integer(throttles.purged),
                                               "has_more": .bool(orders.more || resources.more || exports.more || throttles.more)]
            var counts: [String: JSONValue] = [:]
            for key in ["processed", "effective", "reminders", "auto_renewed", "auto_renew_failed", "expired", "converted", "frozen", "released", "failed"] {
                counts[key] = .integer(resources.counts.values[key] ?? 0)
            }
            fields["resources"] = .object(counts)
            let summary = JSONValue.object(fields)
            context.audit(detail: summary)
            return summary
        })
    }
}
