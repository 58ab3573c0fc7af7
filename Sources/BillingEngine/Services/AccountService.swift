import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// Creates or updates a customer account from the host's KYC data:
    /// `{"actor", "account_id", "type"?, "realname_verified"?, "restricted"?, "freeze"?, "level"?,
    /// "credit_limit_fen"?}`. `type` is required when the account is new. Emits
    /// `account.created` or `account.updated` with the changed fields.
    public func putAccount(_ requestJSON: String?) throws -> String {
        try perform("account.put", requestJSON, parse: PutAccountRequest.init) { context, input -> AccountResponse in
            let existing = try AccountStore.load(context.db, input.accountID)
            var account: Account
            if let existing {
                account = existing
            } else {
                guard let type = input.type else {
                    throw BillingError.invalid(.missingField, "request.type is required for a new account")
                }
                account = Account(id: input.accountID, type: type, realnameVerified: false, restricted: false, freeze: .none,
                                  level: .v0, cashBalance: .zero, creditLimit: .zero, creditUsed: .zero,
                                  deductionDays: nil, unifiedExpiryDay: nil, createdAt: context.now, updatedAt: context.now)
            }
            let before = account.json(context.configuration)
            if let type = input.type { account.type = type }
            if let realname = input.realnameVerified { account.realnameVerified = realname }
            if let restricted = input.restricted { account.restricted = restricted }
            if let freeze = input.freeze { account.freeze = freeze }
            if let level = input.level { account.level = level }
            if let limit = input.creditLimit {
                guard limit >= account.creditUsed else {
                    throw BillingError.refused(.creditLimitBelowUsed,
                                               "the credit limit \(limit) is below the credit already used \(account.creditUsed)")
                }
                account.creditLimit = limit
            }
            account.updatedAt = context.now
            let after = account.json(context.configuration)
            let changed = Engine.changedKeys(before, after, ignoring: ["updated_at"])
            if existing == nil {
                try AccountStore.insert(context.db, account)
                try context.emit("account.created", account: account.id, subject: account.id, data: ["account": after])
            } else if !changed.isEmpty {
                try AccountStore.updateAttributes(context.db, account)
                try context.emit("account.updated", account: account.id, subject: account.id,
                                 data: ["changed": .array(changed.map { .string($0) }), "account": after])
            }
            context.audit(account: account.id, subject: account.id,
                          detail: ["created": .bool(existing == nil), "changed": .array(changed.map { .string($0) })])
            // An unchanged account answers as stored (its updated_at untouched).
            return AccountResponse(account: existing.flatMap { changed.isEmpty ? $0 : nil } ?? account,
                                   configuration: context.configuration)
        }
    }

    /// The account document: `{"account_id"}` → `{"account": {...}}`.
    public func getAccount(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: AccountRequest.init) { context, request -> AccountResponse in
            AccountResponse(account: try AccountStore.require(context.db, request.accountID), configuration: context.configuration)
        }
    }

    /// The customer's renewal settings: `{"actor", "account_id", "deduction_days"? (2–7),
    /// "unified_expiry_day"? (1–28 or -1)}` → `{"account", "rescheduled_resource_ids"}`. A new
    /// deduction day moves every auto-renewing resource in use at once (§4.5). Emits
    /// `account.settings_changed`.
    public func updateAccountSettings(_ requestJSON: String?) throws -> String {
        try perform("account.settings", requestJSON, parse: AccountSettingsRequest.init) { context, input -> AccountSettingsResponse in
            var account = try AccountStore.require(context.db, input.accountID)
            let deductionBefore = account.deductionDays ?? context.configuration.defaultDeductionDays
            if let deduction = input.deductionDays { account.deductionDays = deduction }
            if let unified = input.unifiedExpiryDay { account.unifiedExpiryDay = unified }
            account.updatedAt = context.now
            try AccountStore.updateAttributes(context.db, account)
            var moved: [String] = []
            if let deduction = input.deductionDays, deduction != deductionBefore {
                moved = try AutoRenewal.followDeductionDays(account: account.id, context: context)
                // A resource whose new attempt day has passed renews at once (the same-day
                // rule), which pays from the account: answer with its balances after that.
                if !moved.isEmpty { account = try AccountStore.require(context.db, account.id) }
            }
            let settings: JSONValue = [
                "deduction_days": .integer(account.deductionDays ?? context.configuration.defaultDeductionDays),
                "unified_expiry_day": .integer(account.unifiedExpiryDay ?? context.configuration.defaultUnifiedExpiryDay),
            ]
            try context.emit("account.settings_changed", account: account.id, subject: account.id, data: settings)
            context.audit(account: account.id, subject: account.id, detail: settings)
            return AccountSettingsResponse(account: account, configuration: context.configuration, rescheduledResourceIDs: moved)
        }
    }

    /// Names of top-level keys whose values differ between two objects.
    static func changedKeys(_ before: JSONValue, _ after: JSONValue, ignoring: Set<String> = []) -> [String] {
        guard case .object(let old) = before, case .object(let new) = after else { return [] }
        return new.keys.sorted().filter { !ignoring.contains($0) && old[$0] != new[$0] }
    }
}
