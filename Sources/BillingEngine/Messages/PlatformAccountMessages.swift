import BillingDomain
import BillingDocuments

/// The requests and responses of platform accounts: eligibility, application, approval,
/// passwords, login and the approver's queue.

/// `billing_login`: `{"identifier", "password"}`. The identifier is kept as typed: text that is
/// no identifier at all still fails (and is throttled) like an unknown one.
struct LoginRequest: RequestDocument {
    let identifier: String
    let password: String

    init(_ reader: ObjectReader) throws {
        identifier = try reader.string("identifier", maxLength: 254)
        password = try reader.string("password", maxLength: 1024)
    }
}

/// `{"platform_account", "account_id"}`.
struct LoginResponse: ResponseDocument {
    let platformAccount: PlatformAccount

    var json: JSONValue { ["platform_account": platformAccount.json, "account_id": .string(platformAccount.accountID)] }

    /// `json` with `schema_version`, written directly from the account (the same bytes; a
    /// test compares them): the tree and its sorted writing were a tenth of a login's own
    /// work beyond the password hash.
    var documentText: String {
        var writer = JSONWriter(capacity: 512)
        writer.beginObject()
        writer.field("account_id", platformAccount.accountID)
        writer.key("platform_account")
        writer.writePlatformAccount(platformAccount)
        writer.field("schema_version", Engine.schemaVersion)
        writer.endObject()
        return writer.text
    }
}

/// `billing_platform_eligibility`: `{"account_id"}` → `{"account_id", "eligible", "checks"}`.
struct EligibilityResponse: ResponseDocument {
    static let checks = ["E1", "E2", "E3", "E4"]

    let accountID: String
    let failures: [EligibilityFailure]

    var json: JSONValue {
        let checks: [JSONValue] = EligibilityResponse.checks.map { check in
            if let failure = failures.first(where: { $0.check == check }) {
                return ["check": .string(check), "passed": false, "code": .string(failure.code), "message": .string(failure.message)]
            }
            return ["check": .string(check), "passed": true]
        }
        return ["account_id": .string(accountID), "eligible": .bool(failures.isEmpty), "checks": .array(checks)]
    }
}

/// `billing_platform_apply`: `{"actor", "account_id", "user_name", "email", "phone",
/// "contact_name"?}`, the identifiers normalised.
struct PlatformApplicationRequest: RequestDocument {
    let accountID: String
    let userName: String
    let email: String
    let phone: String
    let contactName: String?

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        userName = try LoginIdentifier.userName(try reader.string("user_name", maxLength: 32))
        email = try LoginIdentifier.email(try reader.string("email", maxLength: 254))
        phone = try LoginIdentifier.phone(try reader.string("phone", maxLength: 32))
        contactName = try reader.optionalString("contact_name", maxLength: 128)
    }
}

/// A request naming one platform account: `{"platform_account_id"}`.
struct PlatformAccountRequest: RequestDocument {
    let platformAccountID: String

    init(_ reader: ObjectReader) throws {
        platformAccountID = try reader.string("platform_account_id", maxLength: 64)
    }
}

/// `{"platform_account"}`.
struct PlatformAccountResponse: ResponseDocument {
    let platformAccount: PlatformAccount

    var json: JSONValue { ["platform_account": platformAccount.json] }
}

/// `{"platform_account", "password_set_token", "token_expires_at"}`: an approval or a new
/// password link. The token is a secret: an idempotent replay answers null for it.
struct PasswordLinkResponse: ResponseDocument {
    let platformAccount: PlatformAccount
    let token: String
    let tokenExpiresAt: Int64

    var json: JSONValue {
        ["platform_account": platformAccount.json, "password_set_token": .string(token), "token_expires_at": .integer(tokenExpiresAt)]
    }
}

/// `billing_platform_reject`: `{"actor", "platform_account_id", "reason"}`.
struct RejectPlatformAccountRequest: RequestDocument {
    let platformAccountID: String
    let reason: String

    init(_ reader: ObjectReader) throws {
        platformAccountID = try reader.string("platform_account_id", maxLength: 64)
        reason = try reader.string("reason", maxLength: 500)
    }
}

/// `billing_platform_accounts_list`: `{"status"?: one or a list of statuses, "account_id"?,
/// "after"?, "limit"?: 1–100 (20)}`.
struct PlatformAccountListRequest: RequestDocument {
    let statuses: [String]?
    let accountID: String?
    /// The sequence of the last platform account of the previous page.
    let after: Int64?
    let limit: Int64

    init(_ reader: ObjectReader) throws {
        statuses = try reader.optionalChoices("status", PlatformAccountStatus.allCases.map(\.rawValue))
        accountID = try reader.optionalString("account_id", maxLength: 64)
        after = try reader.optionalString("after", maxLength: 32).map { text -> Int64 in
            guard let value = Int64(text), value >= 0 else {
                throw BillingError.invalid(.invalidCursor, "request.after must be a cursor returned as next_cursor")
            }
            return value
        }
        limit = try reader.optionalInt("limit", in: 1...100) ?? 20
    }
}

/// `{"platform_accounts", "next_cursor", "has_more"}`.
struct PlatformAccountPageResponse: ResponseDocument {
    let platformAccounts: [(account: PlatformAccount, seq: Int64)]
    let hasMore: Bool

    var json: JSONValue {
        ["platform_accounts": .array(platformAccounts.map { $0.account.json }),
         "next_cursor": JSONValue(platformAccounts.last.map { String($0.seq) }), "has_more": .bool(hasMore)]
    }
}

/// `billing_platform_activate`, `billing_password_reset_complete`: `{"actor", "token", "password"}`.
/// Both are secrets, never stored with the idempotency record.
struct SetPasswordRequest: RequestDocument {
    let token: String
    let password: String

    init(_ reader: ObjectReader) throws {
        token = try reader.string("token", maxLength: 128)
        password = try reader.string("password", maxLength: 1024)
    }
}

/// `billing_password_reset_request`: `{"actor", "identifier"}`.
struct PasswordResetRequest: RequestDocument {
    let identifier: LoginIdentifier

    init(_ reader: ObjectReader) throws {
        identifier = try LoginIdentifier.parse(try reader.string("identifier", maxLength: 254))
    }
}

/// `{"platform_account", "channel", "reset_token", "token_expires_at"}`, the same keys whether
/// or not an ACTIVE platform account holds the identifier (then the account and token are null).
struct PasswordResetResponse: ResponseDocument {
    let platformAccount: PlatformAccount?
    /// The identifier's kind: where the token is sent.
    let channel: String
    let resetToken: String?
    let tokenExpiresAt: Int64

    var json: JSONValue {
        ["platform_account": platformAccount.map(\.json) ?? .null, "channel": .string(channel),
         "reset_token": JSONValue(resetToken), "token_expires_at": .integer(tokenExpiresAt)]
    }
}
