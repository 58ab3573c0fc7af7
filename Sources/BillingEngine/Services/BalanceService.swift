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
        try perform("account.topup", requestJSON, parse: { reader -> (String, Money, String) in
            let id = try reader.string("account_id", maxLength: 64)
            let amount = try reader.money("amount_fen")
            guard amount.fen > 0 else { throw BillingError.invalid("non_positive_amount", "request.amount_fen must be greater than 0") }
            return (id, amount, try reader.string("external_reference", maxLength: 128))
        }, apply: { context, input in
            let (id, amount, reference) = input
            let before = try AccountStore.require(context.db, id)
            if let first = try AccountStore.topUp(context.db, account: id, reference: reference) {
                guard case .object(let fields) = first, fields["amount_fen"] == .integer(amount.fen) else {
                    throw BillingError(.conflict, "topup_reference_reused",
                                       "top-up reference \(BillingError.quote(reference)) was already recorded with another amount")
                }
                context.audit(account: id, subject: reference, detail: ["replayed": true])
                return ["topup": first, "account": before.json(context.configuration), "replayed": true]
            }
            try AccountStore.post(context.db, account: id, fund: .cash, kind: "TOPUP", amount: amount,
                                  reference: reference, at: context.now)
            let after = try AccountStore.require(context.db, id)
            let entry = try AccountStore.topUp(context.db, account: id, reference: reference) ?? .null
            let settled = Money(fen: min(before.arrears.fen, amount.fen))
            try context.emit("account.topped_up", account: id, subject: reference,
                             data: ["amount_fen": .integer(amount.fen), "cash_balance_fen": .integer(after.availableCash.fen),
                                    "arrears_settled_fen": .integer(settled.fen)])
            try Engine.settleArrearsIfCleared(id, owedBefore: before.arrears, context: context)
            context.audit(account: id, subject: reference, detail: ["amount_fen": .integer(amount.fen)])
            return ["topup": entry, "account": after.json(context.configuration), "arrears_settled_fen": .integer(settled.fen),
                    "replayed": false]
        })
    }

    /// A page of an account's ledger: `{"account_id", "after"?, "limit"?}`.
    public func listLedger(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: { reader in (try reader.string("account_id", maxLength: 64), try PageRequest(reader)) }) { context, input in
            _ = try AccountStore.require(context.db, input.0)
            let rows = try AccountStore.ledgerPage(context.db, account: input.0, after: input.1.after, limit: input.1.limit + 1)
            return input.1.document(rows, itemsKey: "entries", sequenceKey: "id")
        }
    }
}
