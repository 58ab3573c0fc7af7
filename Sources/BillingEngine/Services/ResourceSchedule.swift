import BillingDomain
import BillingDocuments
import BillingStorage

/// When the scheduler next has work for a resource, and how an expiry change restarts its
/// reminders and auto-renew attempts. Below every service that changes an expiry or a
/// status (payment, renewal, refunds, usage, expiry policies, the lifecycle pass).
enum ResourceSchedule {
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

    /// Sets `dueAt` to the next instant the scheduler has work for the resource. Bound resources
    /// follow their primary and have none of their own.
    static func reschedule(_ resource: inout Resource, context: OperationContext) {
        guard resource.relation != .bound else { resource.dueAt = nil; return }
        // The soonest candidate, kept as they come: no array built for a handful of instants
        // (every resource the scheduler moves is rescheduled).
        var soonest: Int64?
        func consider(_ instant: Int64?) {
            if let instant, soonest.map({ instant < $0 }) ?? true { soonest = instant }
        }
        // Asked only with an attempt to consider (the policy is read from its text).
        func renewing() -> Bool { resource.billingMode == .prepaid && resource.policy == .autoRenew }
        switch resource.status {
        case .pendingEffective:
            consider(resource.effectiveAt)
        case .inUse:
            // A pay-per-use resource of an account in arrears is in grace until it freezes.
            if resource.billingMode == .onDemand { consider(resource.graceEnd.map { $0 + 1 }) }
            if let expireAt = resource.expireAt {
                consider(expireAt + 1)
                consider(RenewalRules.reminders(expireAt: expireAt, days: reminderDays(resource, context.configuration),
                                                lastSent: resource.remindedDays, now: context.now, calendar: context.calendar).next)
            }
            if resource.nextAttemptAt != nil, renewing() { consider(resource.nextAttemptAt) }
        case .expired:
            consider(resource.graceEnd.map { $0 + 1 })
            if resource.nextAttemptAt != nil, renewing() { consider(resource.nextAttemptAt) }
        case .frozen:
            if resource.freezeReason?.releasedAtRetentionEnd == true { consider(resource.retentionEnd.map { $0 + 1 }) }
            if resource.nextAttemptAt != nil, renewing() { consider(resource.nextAttemptAt) }
        default:
            break
        }
        resource.dueAt = soonest
    }
}
