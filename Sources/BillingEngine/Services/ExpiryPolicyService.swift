import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// Whether a policy change is allowed (§4.6): every change between different policies is,
    /// AUTO_RENEW to AUTO_RENEW modifies it; leaving NO_RENEW for manual or auto renewal needs
    /// the product on sale, as does enabling or modifying auto-renew.
    static func checkPolicyChange(_ resource: Resource, to target: ExpiryPolicy, product: Product) throws {
        guard resource.relation != .bound else {
            throw BillingError.refused(.notPrimary, "resource \(resource.id) follows its primary \(resource.primaryID ?? "")")
        }
        guard resource.billingMode == .prepaid, [.inUse, .expired, .frozen].contains(resource.status) else {
            throw BillingError.refused(.policyNotApplicable,
                                       "resource \(resource.id) is \(resource.billingMode.rawValue) \(resource.status.rawValue); expiry policies apply to paid yearly/monthly resources")
        }
        let from = resource.policy
        if from == .noRenew && (target == .manual || target == .autoRenew) && !product.onSale {
            throw BillingError.refused(.productOffSale, "product \(product.id) is off sale; the resource cannot leave no-renewal")
        }
        switch target {
        case .autoRenew:
            guard product.autoRenewSupported else { throw BillingError.refused(.autoRenewNotSupported, "product \(product.id) does not support auto-renewal") }
            guard product.onSale else { throw BillingError.refused(.productOffSale, "auto-renewal cannot be enabled or changed for a product off sale") }
        case .toOnDemand:
            guard product.toOnDemandSupported, product.hourlyPriceMicrofen != nil || product.unitPriceMicrofen != nil else {
                throw BillingError.refused(.toOnDemandNotSupported, "product \(product.id) cannot convert to pay-per-use (it needs a pay-per-use price)")
            }
            guard resource.status == .inUse else {
                throw BillingError.refused(.policyNotApplicable, "only a resource in use can convert to pay-per-use at expiry")
            }
        case .manual, .noRenew:
            break
        }
    }

    /// Sets the expiry policy of resources and their bound resources (§4.5, §4.6):
    /// `{"actor", "account_id", "resource_ids": [...], "policy": "MANUAL"|"AUTO_RENEW"|
    /// "TO_ON_DEMAND"|"NO_RENEW", "auto_renew_period"?: {"unit", "count"}, "auto_renew_times"?:
    /// 0–99 (0 = unlimited)}`. All or nothing: one refused resource changes none. Enabling
    /// auto-renew too close to expiry attempts the renewal at once (same-day rule).
    public func setExpiryPolicy(_ requestJSON: String?) throws -> String {
        try perform("resource.policy", requestJSON, parse: ExpiryPolicyRequest.init, apply: { context, input in
            var changed: [Resource] = []
            var attempts: [String] = []
            for id in input.resourceIDs {
                var resource = try ResourceStore.require(context.db, id, account: input.accountID)
                let product = try ProductStore.require(context.db, resource.productID)
                try Engine.checkPolicyChange(resource, to: input.policy, product: product)
                if input.policy == .toOnDemand {
                    // Every resource that converts needs a pay-per-use price, bound ones too.
                    for member in try ResourceStore.bound(context.db, to: id) {
                        let memberProduct = try ProductStore.require(context.db, member.productID)
                        guard memberProduct.hourlyPriceMicrofen != nil || memberProduct.unitPriceMicrofen != nil else {
                            throw BillingError.refused(.toOnDemandNotSupported,
                                                       "bound resource \(member.id) (product \(memberProduct.id)) has no pay-per-use price")
                        }
                    }
                }
                let from = resource.policy
                if input.policy == .autoRenew {
                    // Decision: by default one unit of the purchase period (monthly ⇒ 1 month).
                    let fallback = try Period(1, resource.period?.unit ?? .month)
                    let period = input.autoRenewPeriod ?? resource.autoRenewPeriod ?? fallback
                    guard product.allowedPeriods.contains(period) else {
                        throw BillingError.refused(.periodNotAllowed, "product \(product.id) cannot be renewed for \(period)")
                    }
                    resource.autoRenewPeriod = period
                    if let times = input.autoRenewTimes { resource.autoRenewRemaining = times == 0 ? nil : times }
                    else if from != .autoRenew { resource.autoRenewRemaining = nil }
                } else {
                    resource.autoRenewPeriod = nil
                    resource.autoRenewRemaining = nil
                }
                resource.expiryPolicy = input.policy.rawValue
                for var member in try ResourceStore.bound(context.db, to: id) {
                    member.expiryPolicy = input.policy.rawValue
                    try ResourceStore.update(context.db, member)
                }
                if from != input.policy || input.policy == .autoRenew {
                    try ResourceSchedule.restartSchedule(&resource, context: context)
                }
                try ResourceStore.update(context.db, resource)
                changed.append(resource)
                try context.emit("resource.policy_changed", account: input.accountID, subject: id,
                                 data: ["from": .string(from.rawValue), "to": .string(input.policy.rawValue),
                                        "auto_renew_period": resource.autoRenewPeriod.map { .string($0.description) } ?? .null,
                                        "auto_renew_remaining": JSONValue(resource.autoRenewRemaining),
                                        "next_attempt_at": JSONValue(resource.nextAttemptAt)])
                if input.policy == .autoRenew, let next = resource.nextAttemptAt, next <= context.now { attempts.append(id) }
            }
            // The same-day safety rule: a deduction already due happens now, not at 03:00.
            for id in attempts {
                let resource = try ResourceStore.require(context.db, id, account: input.accountID)
                _ = try AutoRenewal.attemptAutoRenew(resource, context: context)
            }
            // Each resource is answered as written above, unless an auto-renewal attempt
            // changed resources since: then they are read back as they now stand.
            if !attempts.isEmpty {
                changed = try input.resourceIDs.map { try ResourceStore.require(context.db, $0, account: input.accountID) }
            }
            context.audit(account: input.accountID, detail: ["resource_ids": .array(input.resourceIDs.map { .string($0) }),
                                                             "policy": .string(input.policy.rawValue)])
            return ResourcesResponse(resources: changed, calendar: context.calendar)
        })
    }

    /// Releases expired or frozen resources at the customer's request (§4.7): `{"actor",
    /// "account_id", "resource_ids": [...]}`. Bound resources go with their primary; attached
    /// ones stay. Refused under a police freeze, while an order is processing, and without
    /// real-name verification. Uses no five-day quota. Emits `resource.released`.
    public func releaseResources(_ requestJSON: String?) throws -> String {
        try perform("resource.release", requestJSON, parse: ResourceBatchRequest.init, apply: { context, input in
            let account = try AccountStore.require(context.db, input.accountID)
            guard account.realnameVerified else { throw BillingError.refused(.notRealnameVerified, "only real-name verified customers can release resources") }
            guard account.freeze != .police else {
                throw BillingError.refused(.policeFrozen, "the account is frozen by public security; resources cannot be released")
            }
            var released: [Resource] = []
            for id in input.resourceIDs {
                let resource = try ResourceStore.require(context.db, id, account: input.accountID)
                guard resource.relation != .bound else {
                    throw BillingError.refused(.notPrimary, "resource \(id) is released with its primary \(resource.primaryID ?? "")")
                }
                guard resource.status == .expired || resource.status == .frozen else {
                    throw BillingError.refused(.notReleasable, "only expired or frozen resources can be released; \(id) is \(resource.status.rawValue)")
                }
                guard resource.freezeReason != .police else { throw BillingError.refused(.policeFrozen, "resource \(id) is frozen by public security") }
                let group = [resource] + (try ResourceStore.liveBound(context.db, to: id))
                for member in group {
                    if let order = try ResourceStore.openOrder(context.db, of: member.id),
                       let status = try OrderStore.status(context.db, order),
                       status == OrderStatus.processing.rawValue {
                        throw BillingError.refused(.orderProcessing, "resource \(member.id) has order \(order) processing")
                    }
                }
                try OrderTransitions.cancelOpenOrders(of: group.map(\.id), reason: .resourceDeleted, context: context)
                for var member in group {
                    try member.transition(to: .released)
                    member.endedAt = context.now
                    member.nextAttemptAt = nil
                    member.dueAt = nil
                    try ResourceStore.update(context.db, member)
                    released.append(member)
                }
                try context.emit("resource.released", account: input.accountID, subject: id,
                                 data: ["reason": "CUSTOMER", "resource_ids": .array(group.map { .string($0.id) })])
            }
            context.audit(account: input.accountID, detail: ["resource_ids": .array(input.resourceIDs.map { .string($0) })])
            return ResourcesResponse(resources: released, calendar: context.calendar)
        })
    }
}
