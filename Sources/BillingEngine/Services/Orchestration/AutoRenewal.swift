import BillingDomain
import BillingDocuments
import BillingStorage

/// Auto-renewal (§4.5) composes renewal and payment: a RENEW order paid from the account
/// as a manual payment would be. Called by the lifecycle pass, by expiry-policy changes and
/// by a change of the account's deduction day.
enum AutoRenewal {
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
            resource.nextAttemptAt = ResourceSchedule.firstAutoRenewAttempt(expireAt: expireAt, account: holder, context: context)
            ResourceSchedule.reschedule(&resource, context: context)
            try ResourceStore.write(context.db, resource)
            moved.append(id)
            if let next = resource.nextAttemptAt, next <= context.now { due.append(id) }
        }
        for id in due {
            _ = try attemptAutoRenew(try ResourceStore.require(context.db, id, account: account), context: context)
        }
        return moved
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
                guard let period else { throw BillingError.refused(.noPeriod, "no auto-renew period") }
                guard account.freeze == .none else {
                    throw BillingError.refused(.accountFrozen, "the account is frozen (\(account.freeze.rawValue))")
                }
                let order = try Renewals.createRenewalOrder([resource], period: period, unifiedDay: nil, account: account,
                                                   automatic: true, context: context)
                try PaymentSettlement.applyPayment(try Payments.planPayment(order, coupons: [], automaticCoupons: true, context: context),
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
                    try ResourceSchedule.restartSchedule(&renewed, context: context)
                    // Bound resources follow their primary back to manual renewal.
                    for var member in try ResourceStore.bound(context.db, to: resource.id) {
                        member.expiryPolicy = ExpiryPolicy.manual.rawValue
                        try ResourceStore.write(context.db, member)
                    }
                }
            }
            try ResourceStore.write(context.db, renewed)
            try context.emit("resource.auto_renewed", account: resource.accountID, subject: resource.id,
                             data: ["order_id": .string(order.id), "expire_at": JSONValue(renewed.expireAt),
                                    "remaining": JSONValue(renewed.autoRenewRemaining), "policy": .string(renewed.expiryPolicy)])
            return true
        } catch let error as BillingError where error.status == .refused || error.status == .notFound || error.status == .invalidArgument {
            // invalidArgument: e.g. a renewal that would end after the year 9999.
            var failed = try ResourceStore.require(context.db, resource.id, account: resource.accountID)
            failed.nextAttemptAt = RenewalRules.nextRetry(after: context.now, hour: context.configuration.autoRenewHour, calendar: context.calendar)
            ResourceSchedule.reschedule(&failed, context: context)
            try ResourceStore.write(context.db, failed)
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
}
