import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// Reports the host's provisioning results: `{"actor", "account_id", "results":
    /// [{"resource_id", "outcome": "SUCCEEDED" | "FAILED"}]}` (1–100). A success starts the
    /// resource's first period at this instant (§2.2); a failure refunds the resource in full
    /// through an automatic unsubscription order, coupons included (T15, §5.6). An order whose
    /// resources are all settled completes (T14).
    public func reportProvisioning(_ requestJSON: String?) throws -> String {
        try perform("resource.provisioned", requestJSON, parse: ProvisioningReportRequest.init, apply: { context, input in
            var failedByOrder: [String: [Resource]] = [:]
            var touched: [String] = []
            var reported: [Resource] = []
            for result in input.results {
                let id = result.resourceID
                var resource = try ResourceStore.require(context.db, id, account: input.accountID)
                guard resource.status == .pendingProvision else {
                    throw BillingError.refused(.notPendingProvision, "resource \(id) is \(resource.status.rawValue), not PENDING_PROVISION")
                }
                if result.succeeded {
                    try resource.transition(to: .inUse)
                    resource.provisionedAt = context.now
                    resource.effectiveAt = context.now
                    if resource.billingMode == .prepaid, let period = resource.period {
                        let anchor = AnchorDay.day(context.calendar.date(of: context.now).day)
                        resource.anchorDay = anchor
                        resource.expireAt = try context.calendar.expiry(startingAt: context.now, period: period, anchor: anchor)
                        if let end = resource.expireAt {
                            try ResourceStore.addPeriod(context.db, resource: id, order: resource.orderID, start: context.now, end: end)
                        }
                    }
                    try ResourceSchedule.restartSchedule(&resource, context: context)
                    try context.emit("resource.provisioned", account: input.accountID, subject: id,
                                     data: ["order_id": .string(resource.orderID), "expire_at": JSONValue(resource.expireAt)])
                } else {
                    try resource.transition(to: .provisionFailed)
                    resource.endedAt = context.now
                    failedByOrder[resource.orderID, default: []].append(resource)
                    try context.emit("resource.provision_failed", account: input.accountID, subject: id, data: ["order_id": .string(resource.orderID)])
                }
                try ResourceStore.update(context.db, resource)
                if !touched.contains(resource.orderID) { touched.append(resource.orderID) }
                reported.append(resource)
            }
            var refunds: [Order] = []
            for orderID in touched {
                if let failed = failedByOrder[orderID], let first = failed.first {
                    var entries: [RefundEntry] = []
                    for resource in failed {
                        for funding in try ResourceStore.funding(context.db, resource: resource.id, order: orderID) {
                            entries.append(RefundEntry(resource: resource.id, paidBy: orderID, source: funding.source,
                                                       coupon: funding.coupon, amount: funding.amount))
                        }
                    }
                    let refund = try Refunds.refund(entries, account: input.accountID, sourceOrder: orderID, productType: first.productType,
                                                   billingMode: first.billingMode.rawValue, reason: "PROVISION_FAILED", context: context)
                    refunds.append(refund)
                }
                try OrderTransitions.completeIfSettled(orderID, account: input.accountID, context: context)
            }
            context.audit(account: input.accountID,
                          detail: ["results": .array(input.results.map { ["resource_id": .string($0.resourceID), "succeeded": .bool($0.succeeded)] })])
            return try ProvisioningReportResponse(resources: reported, refundOrders: refunds, calendar: context.calendar)
        })
    }

    /// A resource: `{"account_id", "resource_id"}` → `{"resource"}`.
    public func getResource(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: ResourceRequest.init) { context, input in
            ResourceResponse(resource: try ResourceStore.require(context.db, input.resourceID, account: input.accountID), calendar: context.calendar)
        }
    }
}
