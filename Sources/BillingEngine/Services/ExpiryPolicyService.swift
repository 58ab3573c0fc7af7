import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// Whether a policy change is allowed (§4.6): every change between different policies is,
    /// AUTO_RENEW to AUTO_RENEW modifies it; leaving NO_RENEW for manual or auto renewal needs
    /// the product on sale, as does enabling or modifying auto-renew.
    static func checkPolicyChange(_ resource: Resource, to target: ExpiryPolicy, product: Product) throws {
        guard resource.relation != .bound else {
            throw BillingError.refused("not_primary", "resource \(resource.id) follows its primary \(resource.primaryID ?? "")")
        }
        guard resource.billingMode == .prepaid, [.inUse, .expired, .frozen].contains(resource.status) else {
            throw BillingError.refused("policy_not_applicable",
                                       "resource \(resource.id) is \(resource.billingMode.rawValue) \(resource.status.rawValue); expiry policies apply to paid yearly/monthly resources")
        }
        let from = resource.policy
        if from == .noRenew && (target == .manual || target == .autoRenew) && !product.onSale {
            throw BillingError.refused("product_off_sale", "product \(product.id) is off sale; the resource cannot leave no-renewal")
        }
        switch target {
        case .autoRenew:
            guard product.autoRenewSupported else { throw BillingError.refused("auto_renew_not_supported", "product \(product.id) does not support auto-renewal") }
            guard product.onSale else { throw BillingError.refused("product_off_sale", "auto-renewal cannot be enabled or changed for a product off sale") }
        case .toOnDemand:
            guard product.toOnDemandSupported, product.hourlyPriceMicrofen != nil || product.unitPriceMicrofen != nil else {
                throw BillingError.refused("to_on_demand_not_supported", "product \(product.id) cannot convert to pay-per-use (it needs a pay-per-use price)")
            }
            guard resource.status == .inUse else {
                throw BillingError.refused("policy_not_applicable", "only a resource in use can convert to pay-per-use at expiry")
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
        struct Input { var account: String; var ids: [String]; var policy: ExpiryPolicy; var period: Period?; var times: Int64? }
        return try perform("resource.policy", requestJSON, parse: { reader in
            let account = try reader.string("account_id", maxLength: 64)
            let ids = try Engine.resourceIDs(reader, maximum: 200)
            guard let policy = try reader.optionalChoice("policy", ExpiryPolicy.allCases.map(\.rawValue)).flatMap(ExpiryPolicy.init) else {
                throw BillingError.invalid("missing_field", "request.policy is required")
            }
            let input = Input(account: account, ids: ids, policy: policy,
                              period: try Engine.period(reader, "auto_renew_period"),
                              times: try reader.optionalInt("auto_renew_times", in: 0...99))
            if input.policy != .autoRenew && (input.period != nil || input.times != nil) {
                throw BillingError.invalid("invalid_field", "auto_renew_period and auto_renew_times go with policy AUTO_RENEW")
            }
            return input
        }, apply: { context, input in
            var documents: [JSONValue] = []
            var attempts: [String] = []
            for id in input.ids {
                var resource = try ResourceStore.require(context.db, id, account: input.account)
                let product = try ProductStore.require(context.db, resource.productID)
                try Engine.checkPolicyChange(resource, to: input.policy, product: product)
                if input.policy == .toOnDemand {
                    // Every resource that converts needs a pay-per-use price, bound ones too.
                    for member in try ResourceStore.bound(context.db, to: id) {
                        let memberProduct = try ProductStore.require(context.db, member.productID)
                        guard memberProduct.hourlyPriceMicrofen != nil || memberProduct.unitPriceMicrofen != nil else {
                            throw BillingError.refused("to_on_demand_not_supported",
                                                       "bound resource \(member.id) (product \(memberProduct.id)) has no pay-per-use price")
                        }
                    }
                }
                let from = resource.policy
                if input.policy == .autoRenew {
                    // Decision: by default one unit of the purchase period (monthly ⇒ 1 month).
                    let fallback = try Period(1, resource.period?.unit ?? .month)
                    let period = input.period ?? resource.autoRenewPeriod ?? fallback
                    guard product.allowedPeriods.contains(period) else {
                        throw BillingError.refused("period_not_allowed", "product \(product.id) cannot be renewed for \(period)")
                    }
                    resource.autoRenewPeriod = period
                    if let times = input.times { resource.autoRenewRemaining = times == 0 ? nil : times }
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
                    try Engine.restartSchedule(&resource, context: context)
                }
                try ResourceStore.update(context.db, resource)
                try context.emit("resource.policy_changed", account: input.account, subject: id,
                                 data: ["from": .string(from.rawValue), "to": .string(input.policy.rawValue),
                                        "auto_renew_period": resource.autoRenewPeriod.map { .string($0.description) } ?? .null,
                                        "auto_renew_remaining": JSONValue(resource.autoRenewRemaining),
                                        "next_attempt_at": JSONValue(resource.nextAttemptAt)])
                if input.policy == .autoRenew, let next = resource.nextAttemptAt, next <= context.now { attempts.append(id) }
            }
            // The same-day safety rule: a deduction already due happens now, not at 03:00.
            for id in attempts {
                let resource = try ResourceStore.require(context.db, id, account: input.account)
                _ = try Engine.attemptAutoRenew(resource, context: context)
            }
            for id in input.ids {
                documents.append(try ResourceStore.require(context.db, id, account: input.account).json(context.calendar))
            }
            context.audit(account: input.account, detail: ["resource_ids": .array(input.ids.map { .string($0) }),
                                                           "policy": .string(input.policy.rawValue)])
            return ["resources": .array(documents)]
        })
    }

    /// Releases expired or frozen resources at the customer's request (§4.7): `{"actor",
    /// "account_id", "resource_ids": [...]}`. Bound resources go with their primary; attached
    /// ones stay. Refused under a police freeze, while an order is processing, and without
    /// real-name verification. Uses no five-day quota. Emits `resource.released`.
    public func releaseResources(_ requestJSON: String?) throws -> String {
        try perform("resource.release", requestJSON, parse: { reader in
            (try reader.string("account_id", maxLength: 64), try Engine.resourceIDs(reader, maximum: 200))
        }, apply: { context, input in
            let account = try AccountStore.require(context.db, input.0)
            guard account.realnameVerified else { throw BillingError.refused("not_realname_verified", "only real-name verified customers can release resources") }
            guard account.freeze != .police else {
                throw BillingError.refused("police_frozen", "the account is frozen by public security; resources cannot be released")
            }
            var released: [JSONValue] = []
            for id in input.1 {
                let resource = try ResourceStore.require(context.db, id, account: input.0)
                guard resource.relation != .bound else {
                    throw BillingError.refused("not_primary", "resource \(id) is released with its primary \(resource.primaryID ?? "")")
                }
                guard resource.status == .expired || resource.status == .frozen else {
                    throw BillingError.refused("not_releasable", "only expired or frozen resources can be released; \(id) is \(resource.status.rawValue)")
                }
                guard resource.freezeReason != .police else { throw BillingError.refused("police_frozen", "resource \(id) is frozen by public security") }
                let group = [resource] + (try ResourceStore.liveBound(context.db, to: id))
                for member in group {
                    if let order = try ResourceStore.openOrder(context.db, of: member.id),
                       let status = try OrderStore.status(context.db, order),
                       status == OrderStatus.processing.rawValue {
                        throw BillingError.refused("order_processing", "resource \(member.id) has order \(order) processing")
                    }
                }
                try Engine.cancelOpenOrders(of: group.map(\.id), reason: .resourceDeleted, context: context)
                for var member in group {
                    try member.transition(to: .released)
                    member.endedAt = context.now
                    member.nextAttemptAt = nil
                    member.dueAt = nil
                    try ResourceStore.update(context.db, member)
                    released.append(member.json(context.calendar))
                }
                try context.emit("resource.released", account: input.0, subject: id,
                                 data: ["reason": "CUSTOMER", "resource_ids": .array(group.map { .string($0.id) })])
            }
            context.audit(account: input.0, detail: ["resource_ids": .array(input.1.map { .string($0) })])
            return ["resources": .array(released)]
        })
    }
}
