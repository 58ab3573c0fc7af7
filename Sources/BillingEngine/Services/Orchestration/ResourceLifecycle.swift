import BillingDomain
import BillingDocuments
import BillingStorage

/// What one scheduler pass did to resources.
struct LifecycleCounts {
    /// What can happen to a resource in a pass; `key` names it in the response
    /// (`SchedulerRunResponse.resourceOutcomes`).
    enum Outcome: Int, CaseIterable {
        case processed, effective, reminders, autoRenewed, autoRenewFailed, expired, converted, frozen, released, failed

        var key: String {
            switch self {
            case .processed: "processed"
            case .effective: "effective"
            case .reminders: "reminders"
            case .autoRenewed: "auto_renewed"
            case .autoRenewFailed: "auto_renew_failed"
            case .expired: "expired"
            case .converted: "converted"
            case .frozen: "frozen"
            case .released: "released"
            case .failed: "failed"
            }
        }
    }

    /// By the outcome's number: a dictionary keyed by name hashed two names for every resource.
    private var counts = [Int64](repeating: 0, count: Outcome.allCases.count)

    mutating func add(_ outcome: Outcome) { counts[outcome.rawValue] += 1 }
    mutating func add(_ other: LifecycleCounts) { for index in counts.indices { counts[index] += other.counts[index] } }

    /// The counts by name, outcomes that did not happen left out.
    var values: [String: Int64] {
        var values: [String: Int64] = [:]
        for outcome in Outcome.allCases where counts[outcome.rawValue] != 0 { values[outcome.key] = counts[outcome.rawValue] }
        return values
    }
}

enum ResourceLifecycle {
    /// Does everything due for one resource up to now, in the order it fell due: a package
    /// taking effect, an auto-renew attempt, a reminder, expiry (or conversion to pay-per-use),
    /// freezing at the end of grace, release at the end of retention. Bound resources share
    /// their primary's transitions.
    static func advance(_ id: String, account: String, counts: inout LifecycleCounts, context: OperationContext) throws {
        var resource = try ResourceStore.require(context.db, id, account: account)
        let now = context.now
        // Every move is made in memory through `Resource.transition(to:)`, which checks each
        // step of a pass that crosses several (a package taking effect and expiring, expiry
        // then freezing); each row is written once at the end (`ResourceStore.write`, no
        // re-read of a status this transaction just read), with its new `due_at`.
        if resource.status == .pendingEffective, let effective = resource.effectiveAt, effective <= now {
            try resource.transition(to: .inUse)
            try context.emit("resource.effective", account: account, subject: id, data: ["effective_at": .integer(effective)])
            counts.add(.effective)
        }
        // The attempt time first: the policy is read from its text (`Resource.policy`), and most
        // resources a pass meets have no attempt.
        if let attempt = resource.nextAttemptAt, attempt <= now, resource.billingMode == .prepaid, resource.policy == .autoRenew,
           resource.status == .inUse || resource.status == .expired || resource.status == .frozen {
            // The attempt reads and writes the row itself: it must hold what was moved so far.
            try ResourceStore.write(context.db, resource)
            counts.add(try AutoRenewal.attemptAutoRenew(resource, context: context) ? .autoRenewed : .autoRenewFailed)
            resource = try ResourceStore.require(context.db, id, account: account)
        }
        if resource.status == .inUse, let expireAt = resource.expireAt, expireAt >= now {
            let reminders = RenewalRules.reminders(expireAt: expireAt, days: ResourceSchedule.reminderDays(resource, context.configuration),
                                                   lastSent: resource.remindedDays, now: now, calendar: context.calendar)
            if let days = reminders.send {
                resource.remindedDays = days
                try context.emit("resource.expiry_reminder", account: account, subject: id,
                                 data: ["days_before": .integer(days), "expire_at": .integer(expireAt),
                                        "policy": .string(resource.expiryPolicy)])
                counts.add(.reminders)
            }
        }
        // The bound resources, moved with their primary (the primary first, then each in turn)
        // and written at the end when they were. Kept apart from the primary: a group array
        // copied the primary in and out of it for every resource a pass moved.
        var bound = try ResourceStore.liveBound(context.db, to: id)
        var boundMoved = false
        func transition(_ change: (inout Resource) throws -> Void) throws {
            try change(&resource)
            for index in bound.indices { try change(&bound[index]) }
            boundMoved = true
        }
        if resource.status == .inUse, let expireAt = resource.expireAt, now > expireAt {
            if resource.billingMode == .package {
                try transition { try $0.transition(to: .expired); $0.endedAt = expireAt + 1 }
                try context.emit("resource.expired", account: account, subject: id, data: ["expire_at": .integer(expireAt)])
                counts.add(.expired)
            } else if resource.policy == .toOnDemand {
                // Pay-per-use billing starts at the conversion: the prepaid period was paid for.
                try transition { $0.billingMode = .onDemand; $0.effectiveAt = expireAt + 1; $0.expireAt = nil; $0.nextAttemptAt = nil }
                let group = [resource] + bound
                try OrderTransitions.cancelOpenOrders(of: group.map(\.id), reason: .resourceConverted, context: context)
                let order = try recordConversion(group, at: expireAt + 1, context: context)
                try context.emit("resource.converted", account: account, subject: id,
                                 data: ["converted_at": .integer(expireAt + 1), "billing_mode": "ON_DEMAND", "order_id": .string(order.id)])
                counts.add(.converted)
            } else {
                let days = context.configuration.graceRetention(for: try AccountStore.level(context.db, account))
                let graceEnd = expireAt + days.prepaidGraceDays * 86_400
                let retentionEnd = graceEnd + days.prepaidRetentionDays * 86_400
                try transition { try $0.transition(to: .expired); $0.graceEnd = graceEnd; $0.retentionEnd = retentionEnd }
                try context.emit("resource.expired", account: account, subject: id,
                                 dataText: expiredData(expireAt: expireAt, graceEnd: graceEnd, retentionEnd: retentionEnd))
                counts.add(.expired)
            }
        }
        if resource.status == .inUse, resource.billingMode == .onDemand, let graceEnd = resource.graceEnd, now > graceEnd {
            try transition { try $0.transition(to: .frozen); $0.freezeReason = .arrears }
            try context.emit("resource.frozen", account: account, subject: id,
                             data: ["reason": .string(ResourceFreezeReason.arrears.rawValue), "retention_end": JSONValue(resource.retentionEnd)])
            counts.add(.frozen)
        }
        if resource.status == .expired, let graceEnd = resource.graceEnd, now > graceEnd {
            try transition { try $0.transition(to: .frozen); $0.freezeReason = .expiry }
            try context.emit("resource.frozen", account: account, subject: id,
                             data: ["reason": .string(ResourceFreezeReason.expiry.rawValue), "retention_end": JSONValue(resource.retentionEnd)])
            counts.add(.frozen)
        }
        if resource.status == .frozen, resource.freezeReason?.releasedAtRetentionEnd == true,
           let retentionEnd = resource.retentionEnd, now > retentionEnd {
            try transition { try $0.transition(to: .released); $0.endedAt = retentionEnd + 1; $0.nextAttemptAt = nil }
            let ids = [resource.id] + bound.map(\.id)
            try OrderTransitions.cancelOpenOrders(of: ids, reason: .resourceDeleted, context: context)
            try context.emit("resource.released", account: account, subject: id,
                             data: ["reason": "RETENTION_ENDED", "resource_ids": .array(ids.map { .string($0) })])
            counts.add(.released)
        }
        ResourceSchedule.reschedule(&resource, context: context)
        try ResourceStore.write(context.db, resource)
        if boundMoved {
            for member in bound { try ResourceStore.write(context.db, member) }
        }
    }

    /// The data of a prepaid resource's `resource.expired` event, written directly: the text
    /// `["expire_at": …, "grace_end": …, "retention_end": …].text` gives (keys in its sorted
    /// order), without the tree, its hashed keys and their sort, for every resource a pass expires.
    static func expiredData(expireAt: Int64, graceEnd: Int64, retentionEnd: Int64) -> String {
        var writer = JSONWriter(capacity: 80)
        writer.raw("{\"expire_at\":")
        writer.writeInteger(expireAt)
        writer.raw(",\"grace_end\":")
        writer.writeInteger(graceEnd)
        writer.raw(",\"retention_end\":")
        writer.writeInteger(retentionEnd)
        writer.endObject()
        return writer.text
    }

    /// Records a conversion to pay-per-use at expiry as a PREPAID_TO_ONDEMAND order (§3.1,
    /// type 10) so that it shows in "My orders": COMPLETED at once, nothing to pay, one line
    /// per converted resource (the primary first, its bound resources under it) naming the
    /// resource and the instant pay-per-use billing starts.
    static func recordConversion(_ group: [Resource], at start: Int64, context: OperationContext) throws -> Order {
        guard let primary = group.first else { throw BillingError.invalid(.missingField, "no resource to convert") }
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

    /// Scheduler job: advances every resource whose next work is due, soonest first.
    ///
    /// One resource that cannot advance must not stop the work of every other account: it is
    /// set aside for a day, and the host hears why (`scheduler.resource_failed`). That needs
    /// its step undone, which a savepoint per resource gave at two statements (two round trips
    /// on PostgreSQL) each, nearly always for nothing. So the batch first runs under one
    /// savepoint, every step as it is; only when a step is refused is that attempt undone
    /// whole and the batch run again a savepoint per resource (`careful`), which sets the
    /// refused one aside. Both runs are in the pass's transaction, on the rows it claimed.
    static func advanceDueResources(limit: Int64, context: OperationContext) throws -> (counts: LifecycleCounts, more: Bool) {
        let due = try ResourceStore.due(context.db, at: context.now, limit: limit)
        do {
            let counts = try context.db.savepoint { try advance(due.rows, careful: false, context: context) }
            return (counts, due.more)
        } catch let error as BillingError where recoverable(error) {
            return (try advance(due.rows, careful: true, context: context), due.more)
        }
    }

    /// A refusal of one resource's step, which sets that resource aside; storage and busy errors
    /// and an aborted PostgreSQL transaction (after which no savepoint can run) end the pass.
    /// Other internal errors (a defect met in one resource's arithmetic) set it aside too: the
    /// pass must not stall every account's due work on one resource.
    private static func recoverable(_ error: BillingError) -> Bool {
        error.status != .storage && error.status != .busy && error.reason != Reason.transactionAborted.name
    }

    private static func advance(_ due: [(id: String, account: String)], careful: Bool,
                                context: OperationContext) throws -> LifecycleCounts {
        var counts = LifecycleCounts()
        for (id, account) in due {
            if !careful {
                try advance(id, account: account, counts: &counts, context: context)
                counts.add(.processed)
                continue
            }
            // The resource's counts join the pass's only if its savepoint holds: a step counted
            // before a later one was refused was undone with it.
            var own = LifecycleCounts()
            do {
                try context.db.savepoint { try advance(id, account: account, counts: &own, context: context) }
                counts.add(own)
            } catch let error as BillingError where recoverable(error) {
                try ResourceStore.postpone(context.db, id, until: context.now + 86_400)
                try context.emit("scheduler.resource_failed", account: account, subject: id,
                                 data: ["reason": .string(error.reason), "message": .string(error.message)])
                counts.add(.failed)
            }
            counts.add(.processed)
        }
        return counts
    }
}
