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
        try perform("resource.provisioned", requestJSON, parse: { reader -> (String, [(String, Bool)]) in
            let account = try reader.string("account_id", maxLength: 64)
            guard let values = try reader.optionalArray("results", maxCount: 100), !values.isEmpty else {
                throw BillingError.invalid(.missingField, "request.results must list 1–100 results")
            }
            let results = try values.enumerated().map { index, value -> (String, Bool) in
                let result = try ObjectReader(value, path: "request.results[\(index)]")
                let id = try result.string("resource_id", maxLength: 64)
                guard let outcome = try result.optionalChoice("outcome", ["SUCCEEDED", "FAILED"]) else {
                    throw BillingError.invalid(.missingField, "\(result.path).outcome is required")
                }
                try result.finish()
                return (id, outcome == "SUCCEEDED")
            }
            guard Set(results.map(\.0)).count == results.count else {
                throw BillingError.invalid(.duplicateResource, "a resource is reported twice")
            }
            return (account, results)
        }, apply: { context, input in
            var failedByOrder: [String: [Resource]] = [:]
            var touched: [String] = []
            var documents: [JSONValue] = []
            for (id, succeeded) in input.1 {
                var resource = try ResourceStore.require(context.db, id, account: input.0)
                guard resource.status == .pendingProvision else {
                    throw BillingError.refused(.notPendingProvision, "resource \(id) is \(resource.status.rawValue), not PENDING_PROVISION")
                }
                if succeeded {
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
                    try context.emit("resource.provisioned", account: input.0, subject: id,
                                     data: ["order_id": .string(resource.orderID), "expire_at": JSONValue(resource.expireAt)])
                } else {
                    try resource.transition(to: .provisionFailed)
                    resource.endedAt = context.now
                    failedByOrder[resource.orderID, default: []].append(resource)
                    try context.emit("resource.provision_failed", account: input.0, subject: id, data: ["order_id": .string(resource.orderID)])
                }
                try ResourceStore.update(context.db, resource)
                if !touched.contains(resource.orderID) { touched.append(resource.orderID) }
                documents.append(resource.json(context.calendar))
            }
            var refunds: [JSONValue] = []
            for orderID in touched {
                if let failed = failedByOrder[orderID], let first = failed.first {
                    var entries: [RefundEntry] = []
                    for resource in failed {
                        for funding in try ResourceStore.funding(context.db, resource: resource.id, order: orderID) {
                            entries.append(RefundEntry(resource: resource.id, paidBy: orderID, source: funding.source,
                                                       coupon: funding.coupon, amount: funding.amount))
                        }
                    }
                    let refund = try Refunds.refund(entries, account: input.0, sourceOrder: orderID, productType: first.productType,
                                                   billingMode: first.billingMode.rawValue, reason: "PROVISION_FAILED", context: context)
                    refunds.append(try refund.json)
                }
                try OrderTransitions.completeIfSettled(orderID, account: input.0, context: context)
            }
            context.audit(account: input.0, detail: ["results": .array(input.1.map { ["resource_id": .string($0.0), "succeeded": .bool($0.1)] })])
            return ["resources": .array(documents), "refund_orders": .array(refunds)]
        })
    }

    /// A resource: `{"account_id", "resource_id"}` → `{"resource"}`.
    public func getResource(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: { reader in
            (try reader.string("account_id", maxLength: 64), try reader.string("resource_id", maxLength: 64))
        }) { context, input in
            ["resource": try ResourceStore.require(context.db, input.1, account: input.0).json(context.calendar)]
        }
    }
}
