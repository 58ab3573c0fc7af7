import BillingDomain
import BillingDocuments
import BillingStorage

/// What one scheduler pass did to resources.
struct LifecycleCounts {
    var values: [String: Int64] = [:]
    mutating func add(_ key: String) { values[key, default: 0] += 1 }
}

extension Engine {
    /// The days before expiry on which a resource's reminders go out, by its policy (§6.3).
    static func reminderDays(_ resource: Resource, _ configuration: Configuration) -> [Int64] {
        guard resource.billingMode == .prepaid else { return [] }
        return configuration.expiryReminderDays[resource.policy.rawValue] ?? []
    }

    /// After the expiry changed (provisioning, renewal, policy change): reminders already past
    /// count as sent, and auto-renew starts over from its first attempt for the new expiry.
    static func restartSchedule(_ resource: inout Resource, context: OperationContext) throws {
        guard let expireAt = resource.expireAt, resource.billingMode == .prepaid else { return reschedule(&resource, context: context) }
        resource.remindedDays = RenewalRules.passedReminder(expireAt: expireAt, days: reminderDays(resource, context.configuration),
                                                            now: context.now, calendar: context.calendar)
        if resource.policy == .autoRenew {
            let account = try AccountStore.require(context.db, resource.accountID)
            resource.nextAttemptAt = firstAutoRenewAttempt(expireAt: expireAt, account: account, context: context)
        } else {
            resource.nextAttemptAt = nil
        }
        reschedule(&resource, context: context)
    }

    /// The first auto-renew attempt for an expiry by the account's deduction day (§4.5).
    static func firstAutoRenewAttempt(expireAt: Int64, account: Account, context: OperationContext) -> Int64 {
        RenewalRules.firstAttempt(expireAt: expireAt, deductionDays: account.deductionDays ?? context.configuration.defaultDeductionDays,
                                  hour: context.configuration.autoRenewHour, now: context.now, calendar: context.calendar)
    }

    /// The account's deduction day changed (§4.5: at once, account-wide): every auto-renewing
    /// primary still in use has its next attempt moved to the new deduction day, and one whose
    /// new attempt has already come (or which expires before the next 03:00) is attempted now,
    /// as when auto-renew is enabled (the same-day rule). Expired and frozen resources are past
    /// every deduction day and keep their daily retries. Returns the ids moved, in order.
    static func followDeductionDays(account: String, context: OperationContext) throws -> [String] {
        let ids = try ResourceStore.autoRenewingInUse(context.db, account: account)
        let holder = try AccountStore.require(context.db, account)
        var moved: [String] = []
        var due: [String] = []
        for id in ids {
            var resource = try ResourceStore.require(context.db, id, account: account)
            guard resource.relation != .bound, let expireAt = resource.expireAt else { continue }
            resource.nextAttemptAt = firstAutoRenewAttempt(expireAt: expireAt, account: holder, context: context)
            reschedule(&resource, context: context)
            try ResourceStore.update(context.db, resource)
            moved.append(id)
            if let next = resource.nextAttemptAt, next <= context.now { due.append(id) }
        }
        for id in due {
            _ = try attemptAutoRenew(try ResourceStore.require(context.db, id, account: account), context: context)
        }
        return moved
    }

    /// Sets `dueAt` to the next instant the scheduler has work for the resource. Bound resources
    /// follow their primary and have none of their own.
    static func reschedule(_ resource: inout Resource, context: OperationContext) {
        guard resource.relation != .bound else { resource.dueAt = nil; return }
        var candidates: [Int64?] = []
        let renewing = resource.policy == .autoRenew && resource.billingMode == .prepaid
        switch resource.status {
        case .pendingEffective:
            candidates.append(resource.effectiveAt)
        case .inUse:
            // A pay-per-use resource of an account in arrears is in grace until it freezes.
            if resource.billingMode == .onDemand { candidates.append(resource.graceEnd.map { $0 + 1 }) }
            if let expireAt = resource.expireAt {
                candidates.append(expireAt + 1)
                candidates.append(RenewalRules.reminders(expireAt: expireAt, days: reminderDays(resource, context.configuration),
                                                         lastSent: resource.remindedDays, now: context.now, calendar: context.calendar).next)
            }
            if renewing { candidates.append(resource.nextAttemptAt) }
        case .expired:
            candidates.append(resource.graceEnd.map { $0 + 1 })
            if renewing { candidates.append(resource.nextAttemptAt) }
        case .frozen:
            if resource.freezeReason?.releasedAtRetentionEnd == true { candidates.append(resource.retentionEnd.map { $0 + 1 }) }
            if renewing { candidates.append(resource.nextAttemptAt) }
        default:
            break
        }
        resource.dueAt = candidates.compactMap { $0 }.min()
    }

    /// Does everything due for one resource up to now, in the order it fell due: a package
    /// taking effect, an auto-renew attempt, a reminder, expiry (or conversion to pay-per-use),
    /// freezing at the end of grace, release at the end of retention. Bound resources share
    /// their primary's transitions.
    static func advance(_ id: String, account: String, counts: inout LifecycleCounts, context: OperationContext) throws {
        var resource = try ResourceStore.require(context.db, id, account: account)
        let now = context.now
        // Each move is written as it happens, so the store checks every step of a pass that
        // crosses several (a package taking effect and expiring, expiry then freezing).
        if resource.status == .pendingEffective, let effective = resource.effectiveAt, effective <= now {
            try resource.transition(to: .inUse)
            try ResourceStore.update(context.db, resource)
            try context.emit("resource.effective", account: account, subject: id, data: ["effective_at": .integer(effective)])
            counts.add("effective")
        }
        if resource.policy == .autoRenew, resource.billingMode == .prepaid, let attempt = resource.nextAttemptAt, attempt <= now,
           [.inUse, .expired, .frozen].contains(resource.status) {
            try ResourceStore.update(context.db, resource)
            counts.add(try attemptAutoRenew(resource, context: context) ? "auto_renewed" : "auto_renew_failed")
            resource = try ResourceStore.require(context.db, id, account: account)
        }
        if resource.status == .inUse, let expireAt = resource.expireAt, expireAt >= now {
            let reminders = RenewalRules.reminders(expireAt: expireAt, days: reminderDays(resource, context.configuration),
                                                   lastSent: resource.remindedDays, now: now, calendar: context.calendar)
            if let days = reminders.send {
                resource.remindedDays = days
                try context.emit("resource.expiry_reminder", account: account, subject: id,
                                 data: ["days_before": .integer(days), "expire_at": .integer(expireAt),
                                        "policy": .string(resource.expiryPolicy)])
                counts.add("reminders")
            }
        }
        var group = [resource] + (try ResourceStore.liveBound(context.db, to: id))
        func transition(_ change: (inout Resource) throws -> Void) throws {
            for index in group.indices {
                try change(&group[index])
                try ResourceStore.update(context.db, group[index])
            }
            resource = group[0]
        }
        if resource.status == .inUse, let expireAt = resource.expireAt, now > expireAt {
            if resource.billingMode == .package {
                try transition { try $0.transition(to: .expired); $0.endedAt = expireAt + 1 }
                try context.emit("resource.expired", account: account, subject: id, data: ["expire_at": .integer(expireAt)])
                counts.add("expired")
            } else if resource.policy == .toOnDemand {
                // Pay-per-use billing starts at the conversion: the prepaid period was paid for.
                try transition { $0.billingMode = .onDemand; $0.effectiveAt = expireAt + 1; $0.expireAt = nil; $0.nextAttemptAt = nil }
                try cancelOpenOrders(of: group.map(\.id), reason: .resourceConverted, context: context)
                let order = try recordConversion(group, at: expireAt + 1, context: context)
                try context.emit("resource.converted", account: account, subject: id,
                                 data: ["converted_at": .integer(expireAt + 1), "billing_mode": "ON_DEMAND", "order_id": .string(order.id)])
                counts.add("converted")
            } else {
                let holder = try AccountStore.require(context.db, account)
                let days = context.configuration.graceRetention(for: holder.level)
                let graceEnd = expireAt + days.prepaidGraceDays * 86_400
                let retentionEnd = graceEnd + days.prepaidRetentionDays * 86_400
                try transition { try $0.transition(to: .expired); $0.graceEnd = graceEnd; $0.retentionEnd = retentionEnd }
                try context.emit("resource.expired", account: account, subject: id,
                                 data: ["expire_at": .integer(expireAt), "grace_end": .integer(graceEnd), "retention_end": .integer(retentionEnd)])
                counts.add("expired")
            }
        }
        if resource.status == .inUse, resource.billingMode == .onDemand, let graceEnd = resource.graceEnd, now > graceEnd {
            try transition { try $0.transition(to: .frozen); $0.freezeReason = .arrears }
            try context.emit("resource.frozen", account: account, subject: id,
                             data: ["reason": .string(ResourceFreezeReason.arrears.rawValue), "retention_end": JSONValue(resource.retentionEnd)])
            counts.add("frozen")
        }
        if resource.status == .expired, let graceEnd = resource.graceEnd, now > graceEnd {
            try transition { try $0.transition(to: .frozen); $0.freezeReason = .expiry }
            try context.emit("resource.frozen", account: account, subject: id,
                             data: ["reason": .string(ResourceFreezeReason.expiry.rawValue), "retention_end": JSONValue(resource.retentionEnd)])
            counts.add("frozen")
        }
        if resource.status == .frozen, resource.freezeReason?.releasedAtRetentionEnd == true,
           let retentionEnd = resource.retentionEnd, now > retentionEnd {
            try transition { try $0.transition(to: .released); $0.endedAt = retentionEnd + 1; $0.nextAttemptAt = nil }
            try cancelOpenOrders(of: group.map(\.id), reason: .resourceDeleted, context: context)
            try context.emit("resource.released", account: account, subject: id,
                             data: ["reason": "RETENTION_ENDED", "resource_ids": .array(group.map { .string($0.id) })])
            counts.add("released")
        }
        reschedule(&resource, context: context)
        try ResourceStore.update(context.db, resource)
    }

    /// One auto-renew attempt (§4.5): a RENEW order for the resource and its bound resources,
    /// paid as a manual payment would be (§3.5): the account's coupons (a discount coupon,
    /// vouchers, cash coupons, stored-value cards) chosen by
    /// `PaymentAllocation.automaticCoupons`, then cash and credit;
    /// inside a savepoint so that a failure leaves no order behind.
    /// Success counts down the remaining renewals (none left: back to manual renewal); failure
    /// schedules the next daily attempt. Each outcome is an event.
    static func attemptAutoRenew(_ resource: Resource, context: OperationContext) throws -> Bool {
        let account = try AccountStore.require(context.db, resource.accountID)
        let period = resource.autoRenewPeriod ?? (try? Period(1, resource.period?.unit ?? .month)) ?? resource.period
        do {
            let order = try context.db.savepoint { () -> Order in
                guard let period else { throw BillingError.refused("no_period", "no auto-renew period") }
                guard account.freeze == .none else {
                    throw BillingError.refused("account_frozen", "the account is frozen (\(account.freeze.rawValue))")
                }
                let order = try createRenewalOrder([resource], period: period, unifiedDay: nil, account: account,
                                                   automatic: true, context: context)
                try applyPayment(try planPayment(order, coupons: [], automaticCoupons: true, context: context),
                                 ledgerKind: "AUTO_RENEWAL", context: context)
                return order
            }
            var renewed = try ResourceStore.require(context.db, resource.id, account: resource.accountID)
            if let remaining = renewed.autoRenewRemaining {
                renewed.autoRenewRemaining = remaining - 1
                if remaining - 1 <= 0 {
                    renewed.expiryPolicy = ExpiryPolicy.manual.rawValue
                    renewed.autoRenewPeriod = nil
                    renewed.autoRenewRemaining = nil
                    try restartSchedule(&renewed, context: context)
                    // Bound resources follow their primary back to manual renewal.
                    for var member in try ResourceStore.bound(context.db, to: resource.id) {
                        member.expiryPolicy = ExpiryPolicy.manual.rawValue
                        try ResourceStore.update(context.db, member)
                    }
                }
            }
            try ResourceStore.update(context.db, renewed)
            try context.emit("resource.auto_renewed", account: resource.accountID, subject: resource.id,
                             data: ["order_id": .string(order.id), "expire_at": JSONValue(renewed.expireAt),
                                    "remaining": JSONValue(renewed.autoRenewRemaining), "policy": .string(renewed.expiryPolicy)])
            return true
        } catch let error as BillingError where error.status == .refused || error.status == .notFound || error.status == .invalidArgument {
            // invalidArgument: e.g. a renewal that would end after the year 9999.
            var failed = try ResourceStore.require(context.db, resource.id, account: resource.accountID)
            failed.nextAttemptAt = RenewalRules.nextRetry(after: context.now, hour: context.configuration.autoRenewHour, calendar: context.calendar)
            reschedule(&failed, context: context)
            try ResourceStore.update(context.db, failed)
            let notice = failed.expireAt.map {
                RenewalRules.isFailureNoticeDay(context.calendar.date(of: context.now), expireAt: $0, graceEnd: failed.graceEnd,
                                                retentionEnd: failed.retentionEnd, calendar: context.calendar)
            } ?? false
            try context.emit("resource.auto_renew_failed", account: resource.accountID, subject: resource.id,
                             data: ["reason": .string(error.reason), "message": .string(error.message), "notice": .bool(notice),
                                    "next_attempt_at": JSONValue(failed.nextAttemptAt)])
            return false
        }
    }

    /// Records a conversion to pay-per-use at expiry as a PREPAID_TO_ONDEMAND order (§3.1,
    /// type 10) so that it shows in "My orders": COMPLETED at once, nothing to pay, one line
    /// per converted resource (the primary first, its bound resources under it) naming the
    /// resource and the instant pay-per-use billing starts.
    static func recordConversion(_ group: [Resource], at start: Int64, context: OperationContext) throws -> Order {
        guard let primary = group.first else { throw BillingError.invalid("missing_field", "no resource to convert") }
        let product = try ProductStore.require(context.db, primary.productID)
        let sequence = try IdentifierSequence.next(context.db, "order")
        let order = Order(id: IdentifierSequence.format("CS", sequence), accountID: primary.accountID, combinedID: nil, isCombined: false,
                          type: .prepaidToOnDemand, status: .completed, productType: primary.productType,
                          billingMode: BillingMode.onDemand.rawValue, productKind: product.kind, createdAt: context.now,
                          payDeadline: nil, paidAt: nil, completedAt: context.now, cancelledAt: nil, cancelReason: nil,
                          reviewRequired: false, placedByManager: false, contract: nil, sourceOrderID: nil, amounts: OrderAmounts())
        try OrderStore.insert(context.db, order, sequence: sequence)
        for (index, member) in group.enumerated() {
            let memberProduct = index == 0 ? product : try ProductStore.require(context.db, member.productID)
            var line = OrderLine(orderID: order.id, lineNo: Int64(index + 1), productID: member.productID, productType: member.productType,
                                 billingMode: .onDemand, region: member.region, period: nil, quantity: 1, parentLine: index == 0 ? nil : 1,
                                 relation: index == 0 ? nil : member.relation, effectiveAt: start, product: memberProduct.json,
                                 amounts: OrderAmounts())
            line.resourceID = member.id
            try OrderStore.insertLine(context.db, line)
        }
        return order
    }

    /// Cancels the orders waiting on resources (T13): conversion, release, deletion.
    static func cancelOpenOrders(of resources: [String], reason: CancelReason, context: OperationContext) throws {
        for id in resources {
            guard let orderID = try ResourceStore.openOrder(context.db, of: id) else { continue }
            guard let account = try OrderStore.owner(context.db, orderID) else { continue }
            let order = try OrderStore.require(context.db, account.1 ?? orderID, account: account.0)
            if [.pendingPayment, .pendingReview, .pendingConfirmation].contains(order.status) {
                try cancel(order, reason: reason, note: nil, context: context)
            }
        }
    }

    /// Scheduler job: advances every resource whose next work is due, soonest first.
    static func advanceDueResources(limit: Int64, context: OperationContext) throws -> (counts: LifecycleCounts, more: Bool) {
        let due = try ResourceStore.due(context.db, at: context.now, limit: limit + 1)
        var counts = LifecycleCounts()
        for (id, account) in due.prefix(Int(limit)) {
            do {
                try context.db.savepoint { try advance(id, account: account, counts: &counts, context: context) }
            } catch let error as BillingError where error.status != .storage && error.status != .busy {
                // One resource that cannot advance must not stop the work of every other account:
                // it is set aside for a day, and the host hears why.
                try ResourceStore.postpone(context.db, id, until: context.now + 86_400)
                try context.emit("scheduler.resource_failed", account: account, subject: id,
                                 data: ["reason": .string(error.reason), "message": .string(error.message)])
                counts.add("failed")
            }
            counts.add("processed")
        }
        return (counts, due.count > Int(limit))
    }
}
