import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// Creates or updates a customer account from the host's KYC data:
    /// `{"actor", "account_id", "type"?, "realname_verified"?, "restricted"?, "freeze"?, "level"?,
    /// "credit_limit_fen"?}`. `type` is required when the account is new. Emits
    /// `account.created` or `account.updated` with the changed fields.
    public func putAccount(_ requestJSON: String?) throws -> String {
        struct Input {
            var id: String
            var type: AccountType?
            var realname: Bool?
            var restricted: Bool?
            var freeze: FreezeReason?
            var level: CustomerLevel?
            var creditLimit: Money?
        }
        return try perform("account.put", requestJSON, parse: { reader in
            Input(id: try reader.string("account_id", maxLength: 64),
                  type: try reader.optionalChoice("type", AccountType.allCases.map(\.rawValue)).flatMap(AccountType.init),
                  realname: try reader.optionalBool("realname_verified"),
                  restricted: try reader.optionalBool("restricted"),
                  freeze: try reader.optionalChoice("freeze", FreezeReason.allCases.map(\.rawValue)).flatMap(FreezeReason.init),
                  level: try reader.optionalChoice("level", CustomerLevel.allCases.map(\.rawValue)).flatMap(CustomerLevel.init),
                  creditLimit: try reader.optionalMoney("credit_limit_fen"))
        }, apply: { context, input in
            let existing = try AccountStore.load(context.db, input.id)
            var account: Account
            if let existing {
                account = existing
            } else {
                guard let type = input.type else {
                    throw BillingError.invalid("missing_field", "request.type is required for a new account")
                }
                account = Account(id: input.id, type: type, realnameVerified: false, restricted: false, freeze: .none,
                                  level: .v0, cashBalance: .zero, creditLimit: .zero, creditUsed: .zero,
                                  deductionDays: nil, unifiedExpiryDay: nil, createdAt: context.now, updatedAt: context.now)
            }
            let before = account.json(context.configuration)
            if let type = input.type { account.type = type }
            if let realname = input.realname { account.realnameVerified = realname }
            if let restricted = input.restricted { account.restricted = restricted }
            if let freeze = input.freeze { account.freeze = freeze }
            if let level = input.level { account.level = level }
            if let limit = input.creditLimit {
                guard limit >= account.creditUsed else {
                    throw BillingError.refused("credit_limit_below_used",
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
            return ["account": existing == nil || !changed.isEmpty ? after : (existing?.json(context.configuration) ?? after)]
        })
    }

    /// The account document: `{"account_id"}` → `{"account": {...}}`.
    public func getAccount(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: { try $0.string("account_id", maxLength: 64) }) { context, id in
            ["account": try AccountStore.require(context.db, id).json(context.configuration)]
        }
    }

    /// The customer's renewal settings: `{"actor", "account_id", "deduction_days"? (2–7),
    /// "unified_expiry_day"? (1–28 or -1)}` → `{"account", "rescheduled_resource_ids"}`. A new
    /// deduction day moves every auto-renewing resource in use at once (§4.5). Emits
    /// `account.settings_changed`.
    public func updateAccountSettings(_ requestJSON: String?) throws -> String {
        try perform("account.settings", requestJSON, parse: { reader -> (String, Int64?, Int64?) in
            let id = try reader.string("account_id", maxLength: 64)
            let deduction = try reader.optionalInt("deduction_days", in: 2...7)
            let unified = try reader.optionalInt("unified_expiry_day", in: -1...28)
            if unified == 0 {
                throw BillingError.invalid("out_of_range", "request.unified_expiry_day must be 1–28 or -1 (last day of the month)")
            }
            if deduction == nil && unified == nil {
                throw BillingError.invalid("missing_field", "give deduction_days, unified_expiry_day or both")
            }
            return (id, deduction, unified)
        }, apply: { context, input in
            var account = try AccountStore.require(context.db, input.0)
            let deductionBefore = account.deductionDays ?? context.configuration.defaultDeductionDays
            if let deduction = input.1 { account.deductionDays = deduction }
            if let unified = input.2 { account.unifiedExpiryDay = unified }
            account.updatedAt = context.now
            try AccountStore.updateAttributes(context.db, account)
            var moved: [String] = []
            if let deduction = input.1, deduction != deductionBefore {
                moved = try Engine.followDeductionDays(account: account.id, context: context)
                account = try AccountStore.require(context.db, account.id)
            }
            let document = account.json(context.configuration)
            let settings: JSONValue = [
                "deduction_days": .integer(account.deductionDays ?? context.configuration.defaultDeductionDays),
                "unified_expiry_day": .integer(account.unifiedExpiryDay ?? context.configuration.defaultUnifiedExpiryDay),
            ]
            try context.emit("account.settings_changed", account: account.id, subject: account.id, data: settings)
            context.audit(account: account.id, subject: account.id, detail: settings)
            return ["account": document, "rescheduled_resource_ids": .array(moved.map { .string($0) })]
        })
    }

    /// Names of top-level keys whose values differ between two objects.
    static func changedKeys(_ before: JSONValue, _ after: JSONValue, ignoring: Set<String> = []) -> [String] {
        guard case .object(let old) = before, case .object(let new) = after else { return [] }
        return new.keys.sorted().filter { !ignoring.contains($0) && old[$0] != new[$0] }
    }
}
