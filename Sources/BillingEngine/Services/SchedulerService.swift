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
        // The exports' rows are read inside the run's transaction, not ahead of it as
        // `stepExport` does (`ExportReadAhead`): the jobs before them cancel orders and move
        // resources in that transaction, and an export stepped here shows their new state.
        try perform("scheduler.run", requestJSON, parse: SchedulerRunRequest.init) { context, input -> SchedulerRunResponse in
            let limit = input.limit
            let orders = try OrderTransitions.cancelOverdueOrders(limit: limit, context: context)
            let resources = try ResourceLifecycle.advanceDueResources(limit: limit, context: context)
            let exports = try Engine.runExportJobs(limit: limit, context: context)
            let throttles = try Engine.purgeLoginThrottles(limit: limit, context: context)
            let summary = SchedulerRunResponse(now: context.now, cancelledOrders: orders.cancelled, exportsStepped: exports.stepped,
                                               exportsPurged: exports.purged, loginThrottlesPurged: throttles.purged,
                                               resources: resources.counts.values,
                                               hasMore: orders.more || resources.more || exports.more || throttles.more)
            context.audit(detail: summary.json)
            return summary
        }
    }
}
