import BillingDomain
import BillingDocuments

/// The requests and responses of the account operations (`account.put`, `account.get`,
/// `account.settings`): each request is read once here, with the checks the C ABI documents.

/// `billing_account_put`: `{"actor", "account_id", "type"?, "realname_verified"?,
/// "restricted"?, "freeze"?, "level"?, "credit_limit_fen"?}`.
struct PutAccountRequest: RequestDocument {
    let accountID: String
    let type: AccountType?
    let realnameVerified: Bool?
    let restricted: Bool?
    let freeze: FreezeReason?
    let level: CustomerLevel?
    let creditLimit: Money?

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        type = try reader.optionalChoice("type", AccountType.allCases.map(\.rawValue)).flatMap(AccountType.init)
        realnameVerified = try reader.optionalBool("realname_verified")
        restricted = try reader.optionalBool("restricted")
        freeze = try reader.optionalChoice("freeze", FreezeReason.allCases.map(\.rawValue)).flatMap(FreezeReason.init)
        level = try reader.optionalChoice("level", CustomerLevel.allCases.map(\.rawValue)).flatMap(CustomerLevel.init)
        creditLimit = try reader.optionalMoney("credit_limit_fen")
    }
}

/// A request naming one account: `{"account_id"}`.
struct AccountRequest: RequestDocument {
    let accountID: String

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
    }
}

/// `{"account"}`: one account document, its unset settings shown with the configuration's defaults.
struct AccountResponse: ResponseDocument {
    let account: Account
    let configuration: Configuration

    var json: JSONValue { ["account": account.json(configuration)] }
}

/// `billing_account_settings`: `{"actor", "account_id", "deduction_days"? (2–7),
/// "unified_expiry_day"? (1–28 or -1)}`, at least one of the two.
struct AccountSettingsRequest: RequestDocument {
    let accountID: String
    let deductionDays: Int64?
    let unifiedExpiryDay: Int64?

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        deductionDays = try reader.optionalInt("deduction_days", in: 2...7)
        unifiedExpiryDay = try reader.optionalInt("unified_expiry_day", in: -1...28)
        if unifiedExpiryDay == 0 {
            throw BillingError.invalid(.outOfRange, "request.unified_expiry_day must be 1–28 or -1 (last day of the month)")
        }
        if deductionDays == nil && unifiedExpiryDay == nil {
            throw BillingError.invalid(.missingField, "give deduction_days, unified_expiry_day or both")
        }
    }
}

/// `{"account", "rescheduled_resource_ids"}`.
struct AccountSettingsResponse: ResponseDocument {
    let account: Account
    let configuration: Configuration
    /// The auto-renewing resources a new deduction day moved.
    let rescheduledResourceIDs: [String]

    var json: JSONValue {
        ["account": account.json(configuration), "rescheduled_resource_ids": .array(rescheduledResourceIDs.map { .string($0) })]
    }
}
