import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// Records money the host received for an account: `{"actor", "account_id", "amount_fen" (> 0),
    /// "external_reference"}`. The reference (the payment's id at the host) makes top-ups
    /// idempotent on their own: the same reference and amount return the first top-up; the
    /// same reference with another amount is a conflict. Arrears are settled first, because
    /// the cash position simply rises from below zero. Emits `account.topped_up` (and
    /// `account.arrears_settled` when the position leaves arrears).
    public func topUp(_ requestJSON: String?) throws -> String {
        try perform("account.topup", requestJSON, parse: TopUpRequest.init) { context, input -> TopUpResponse in
            let (id, amount, reference) = (input.accountID, input.amount, input.externalReference)
            let before = try AccountStore.require(context.db, id)
            if let first = try AccountStore.topUp(context.db, account: id, reference: reference) {
                guard case .object(let fields) = first, fields["amount_fen"] == .integer(amount.fen) else {
                    throw BillingError(.topupReferenceReused,
                                       "top-up reference \(BillingError.quote(reference)) was already recorded with another amount")
                }
                context.audit(account: id, subject: reference, detail: ["replayed": true])
                return TopUpResponse(topUp: first, account: before, configuration: context.configuration, arrearsSettled: nil)
            }
            // The account as `post` wrote it: its cash position moved, nothing else.
            var after = before
            after.cashBalance = try AccountStore.post(context.db, account: id, fund: .cash, kind: "TOPUP", amount: amount,
                                                      reference: reference, at: context.now)
            after.updatedAt = context.now
            let entry = try AccountStore.topUp(context.db, account: id, reference: reference) ?? .null
            let settled = Money(fen: min(before.arrears.fen, amount.fen))
            try context.emit("account.topped_up", account: id, subject: reference,
                             data: ["amount_fen": .integer(amount.fen), "cash_balance_fen": .integer(after.availableCash.fen),
                                    "arrears_settled_fen": .integer(settled.fen)])
            try Arrears.settleArrearsIfCleared(id, owedBefore: before.arrears, context: context)
            context.audit(account: id, subject: reference, detail: ["amount_fen": .integer(amount.fen)])
            return TopUpResponse(topUp: entry, account: after, configuration: context.configuration, arrearsSettled: settled)
        }
    }

    /// A page of an account's ledger: `{"account_id", "after"?, "limit"?}`.
    public func listLedger(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: LedgerListRequest.init) { context, input -> SequencePageResponse in
            _ = try AccountStore.require(context.db, input.accountID)
            let rows = try AccountStore.ledgerPage(context.db, account: input.accountID, after: input.page.after, limit: input.page.limit + 1)
            return SequencePageResponse(page: input.page, rows: rows, itemsKey: "entries", sequenceKey: "id")
        }
    }
}
