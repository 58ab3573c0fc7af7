import BillingDomain
import BillingDocuments

/// The requests and responses of top-ups and the ledger.

/// `billing_account_topup`: `{"actor", "account_id", "amount_fen" (> 0), "external_reference"}`.
struct TopUpRequest: RequestDocument {
    let accountID: String
    let amount: Money
    /// The payment's id at the host; it makes top-ups idempotent on their own.
    let externalReference: String

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        amount = try reader.money("amount_fen")
        guard amount.fen > 0 else { throw BillingError.invalid(.nonPositiveAmount, "request.amount_fen must be greater than 0") }
        externalReference = try reader.string("external_reference", maxLength: 128)
    }
}

/// `{"topup", "account", "arrears_settled_fen", "replayed": false}` for a new top-up;
/// `{"topup", "account", "replayed": true}` for a reference already recorded.
struct TopUpResponse: ResponseDocument {
    /// The ledger entry of the top-up (the first one on a replay).
    let topUp: JSONValue
    let account: Account
    let configuration: Configuration
    /// Nil on a replay, which settles nothing.
    let arrearsSettled: Money?

    var json: JSONValue {
        var fields: [String: JSONValue] = ["topup": topUp, "account": account.json(configuration), "replayed": .bool(arrearsSettled == nil)]
        if let arrearsSettled { fields["arrears_settled_fen"] = .integer(arrearsSettled.fen) }
        return .object(fields)
    }
}

/// `billing_ledger_list`: `{"account_id", "after"?, "limit"?}`.
struct LedgerListRequest: RequestDocument {
    let accountID: String
    let page: PageRequest

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        page = try PageRequest(reader)
    }
}
