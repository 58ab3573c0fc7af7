import BillingDomain
import BillingDocuments
import BillingStorage

/// Leaving arrears (§6.1): when money coming back clears what the account owes, its
/// pay-per-use resources come back into use. Shared by top-ups, refunds and usage.
enum Arrears {
    /// When money coming back (a refund, a top-up) clears the arrears, the account's pay-per-use
    /// resources come back into use and the host hears of it (§6.1).
    static func settleArrearsIfCleared(_ account: String, owedBefore: Money, context: OperationContext) throws {
        guard owedBefore.fen > 0, try AccountStore.require(context.db, account).arrears.fen == 0 else { return }
        try context.emit("account.arrears_settled", account: account, subject: account, data: ["settled_fen": .integer(owedBefore.fen)])
        try leaveArrears(account, context: context)
    }

    /// Arrears settled: pay-per-use resources in grace or frozen for arrears are back in use.
    static func leaveArrears(_ account: String, context: OperationContext) throws {
        for id in try ResourceStore.onDemandInArrears(context.db, account: account) {
            var resource = try ResourceStore.require(context.db, id, account: account)
            let wasFrozen = resource.status == .frozen
            try resource.transition(to: .inUse)
            resource.graceEnd = nil
            resource.retentionEnd = nil
            resource.freezeReason = nil
            ResourceSchedule.reschedule(&resource, context: context)
            try ResourceStore.update(context.db, resource)
            if wasFrozen { try context.emit("resource.unfrozen", account: account, subject: id, data: ["reason": "ARREARS_SETTLED"]) }
        }
    }
}
