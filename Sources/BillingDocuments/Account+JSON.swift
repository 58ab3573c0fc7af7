import BillingDomain

extension Account {
    /// The account document; `configuration` supplies the defaults of unset settings.
    package func json(_ configuration: Configuration) -> JSONValue {
        [
            "account_id": .string(id),
            "type": .string(type.rawValue),
            "realname_verified": .bool(realnameVerified),
            "restricted": .bool(restricted),
            "freeze": .string(freeze.rawValue),
            "level": .string(level.rawValue),
            "currency": .string(configuration.currency),
            "cash_balance_fen": .integer(availableCash.fen),
            "arrears_fen": .integer(arrears.fen),
            "credit_limit_fen": .integer(creditLimit.fen),
            "credit_used_fen": .integer(creditUsed.fen),
            "credit_available_fen": .integer(availableCredit.fen),
            "deduction_days": .integer(deductionDays ?? configuration.defaultDeductionDays),
            "unified_expiry_day": .integer(unifiedExpiryDay ?? configuration.defaultUnifiedExpiryDay),
            "created_at": .integer(createdAt),
            "updated_at": .integer(updatedAt),
        ]
    }
}

extension CouponScope {
    /// The stored and exchanged form; empty lists are kept so the shape is fixed.
    package var json: JSONValue {
        [
            "products": .array(products.map { .string($0) }),
            "excluded_products": .array(excludedProducts.map { .string($0) }),
            "order_types": .array(orderTypes.map { .string($0) }),
            "billing_modes": .array(billingModes.map { .string($0) }),
            "regions": .array(regions.map { .string($0) }),
        ]
    }

    /// The order types a coupon may be scoped to (§3.1, purchase-type orders).
    package static let orderTypeValues = ["NEW", "RENEW", "CHANGE", "ONDEMAND_TO_PREPAID", "TRIAL_TO_COMMERCIAL"]
    /// The billing modes a coupon may be scoped to (§3.5).
    package static let billingModeValues = ["PREPAID_MONTHLY", "PREPAID_YEARLY", "ON_DEMAND", "PACKAGE", "ONE_OFF"]

    /// Reads a scope from a request.
    package init(_ reader: ObjectReader) throws {
        func list(_ key: String, allowed: [String]? = nil) throws -> [String] {
            let values = try reader.optionalIdentifiers(key, maxCount: 200) ?? []
            for (index, value) in values.enumerated() where allowed.map({ !$0.contains(value) }) ?? false {
                throw BillingError.invalid(.unknownValue, "\(reader.path).\(key)[\(index)] must be one of \(allowed?.joined(separator: ", ") ?? ""), got \(BillingError.quote(value))")
            }
            return values
        }
        self.init()
        products = try list("products")
        excludedProducts = try list("excluded_products")
        orderTypes = try list("order_types", allowed: CouponScope.orderTypeValues)
        billingModes = try list("billing_modes", allowed: CouponScope.billingModeValues)
        regions = try list("regions")
        try reader.finish()
    }
}

extension Coupon {
    package func json(at instant: Int64) -> JSONValue {
        [
            "coupon_id": .string(id),
            "account_id": .string(accountID),
            "kind": .string(kind.rawValue),
            "face_value_fen": .integer(faceValue.fen),
            "balance_fen": .integer(balance.fen),
            "discount_bp": JSONValue(discountBP),
            "max_discount_fen": JSONValue(maxDiscount?.fen),
            "valid_from": .integer(validFrom),
            "valid_to": .integer(validTo),
            "scope": scope.json,
            "min_spend_fen": .integer(minSpend.fen),
            "exclusive_with_discounts": .bool(exclusiveWithDiscounts),
            "external_reference": JSONValue(reference),
            "issued_at": .integer(issuedAt),
            "status": .string(status(at: instant)),
        ]
    }
}

extension PlatformAccount {
    /// The platform account document: never the password hash.
    package var json: JSONValue {
        [
            "platform_account_id": .string(id),
            "account_id": .string(accountID),
            "status": .string(status.rawValue),
            "user_name": .string(userName),
            "email": .string(email),
            "phone": .string(phone),
            "contact_name": JSONValue(contactName),
            "reject_reason": JSONValue(rejectReason),
            "submitted_at": .integer(submittedAt),
            "decided_at": JSONValue(decidedAt),
            "activated_at": JSONValue(activatedAt),
            "password_changed_at": JSONValue(passwordChangedAt),
        ]
    }
}

extension JSONWriter {
    /// Writes `PlatformAccount.json` directly from the account, keys in the tree's (sorted)
    /// order: a login answers with it, and building the tree and sorting its twelve keys was
    /// most of the answer's cost. Keys and punctuation are one literal each (`raw`).
    package mutating func writePlatformAccount(_ account: PlatformAccount) {
        raw("{\"account_id\":")
        writeString(account.accountID)
        raw(",\"activated_at\":")
        writeOptional(account.activatedAt)
        raw(",\"contact_name\":")
        writeOptional(account.contactName)
        raw(",\"decided_at\":")
        writeOptional(account.decidedAt)
        raw(",\"email\":")
        writeString(account.email)
        raw(",\"password_changed_at\":")
        writeOptional(account.passwordChangedAt)
        raw(",\"phone\":")
        writeString(account.phone)
        raw(",\"platform_account_id\":")
        writeString(account.id)
        raw(",\"reject_reason\":")
        writeOptional(account.rejectReason)
        raw(",\"status\":")
        writeString(account.status.rawValue)
        raw(",\"submitted_at\":")
        writeInteger(account.submittedAt)
        raw(",\"user_name\":")
        writeString(account.userName)
        endObject()
    }
}
