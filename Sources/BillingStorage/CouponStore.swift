import BillingDomain
import BillingDocuments

/// Coupons and their own ledger (issue, use, return, void), which always sums to the
/// coupon's balance.
package enum CouponStore {
    private static let columns = """
        id, account_id, kind, face_value, balance, discount_bp, max_discount, valid_from, valid_to, scope, min_spend,
        exclusive_with_discounts, reference, issued_at, used_at
        """

    package static func decode(_ row: Row) throws -> Coupon {
        Coupon(id: row.text(0), accountID: row.text(1), kind: try StoredValue.choice(row.optionalText(2), "kind of coupon \(row.text(0))"),
               faceValue: Money(fen: row.int(3)), balance: Money(fen: row.int(4)),
               discountBP: row.optionalInt(5), maxDiscount: row.optionalInt(6).map { Money(fen: $0) },
               validFrom: row.int(7), validTo: row.int(8), scope: try decodeScope(row.optionalText(9), coupon: row.text(0)),
               minSpend: Money(fen: row.int(10)), exclusiveWithDiscounts: row.bool(11),
               reference: row.optionalText(12), issuedAt: row.int(13), usedAt: row.optionalInt(14))
    }

    /// Reads a stored scope (written from `CouponScope.json`) by type only: the request's
    /// limits (list lengths, known order types and modes) were checked when it was issued. A
    /// damaged scope, or one with a restriction this library does not know, is a storage error,
    /// never an empty (unrestricted) scope.
    package static func decodeScope(_ text: String?, coupon: String) throws -> CouponScope {
        let record = "scope of coupon \(coupon)"
        let document = try StoredDocument(StoredValue.document(text, record), record: record)
        try document.refuseUnknown(["products", "excluded_products", "order_types", "billing_modes", "regions"])
        var scope = CouponScope()
        scope.products = try document.optionalStrings("products") ?? []
        scope.excludedProducts = try document.optionalStrings("excluded_products") ?? []
        scope.orderTypes = try document.optionalStrings("order_types") ?? []
        scope.billingModes = try document.optionalStrings("billing_modes") ?? []
        scope.regions = try document.optionalStrings("regions") ?? []
        return scope
    }

    /// A coupon of an account; another account's coupon is "not found".
    package static func require(_ db: Connection, id: String, account: String) throws -> Coupon {
        guard let coupon = try db.first("SELECT \(columns) FROM coupons WHERE id = ? AND account_id = ?", id, account, map: decode) else {
            throw BillingError.notFound("coupon", id)
        }
        return coupon
    }

    /// The account's coupons usable at an instant (balance coupons with a balance left,
    /// discount coupons not yet used), in issue order.
    package static func usable(_ db: Connection, account: String, at instant: Int64) throws -> [Coupon] {
        try db.all("""
            SELECT \(columns) FROM coupons WHERE account_id = ?
                AND (kind = 'DISCOUNT_COUPON' AND used_at IS NULL OR kind != 'DISCOUNT_COUPON' AND balance > 0)
                AND valid_from <= ? AND valid_to > ? ORDER BY seq
            """, account, instant, instant, map: decode)
    }

    package static func byReference(_ db: Connection, account: String, reference: String) throws -> Coupon? {
        try db.first("SELECT \(columns) FROM coupons WHERE account_id = ? AND reference = ?", account, reference, map: decode)
    }

    package static func insert(_ db: Connection, _ coupon: Coupon, sequence: Int64) throws {
        try db.run("""
            INSERT INTO coupons (id, seq, account_id, kind, face_value, balance, discount_bp, max_discount, valid_from, valid_to,
                scope, min_spend, exclusive_with_discounts, reference, issued_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, coupon.id, sequence, coupon.accountID, coupon.kind.rawValue, coupon.faceValue, coupon.balance,
                 coupon.discountBP, coupon.maxDiscount?.fen, coupon.validFrom, coupon.validTo, coupon.scope.json.text,
                 coupon.minSpend, coupon.exclusiveWithDiscounts, coupon.reference, coupon.issuedAt)
        try db.run("INSERT INTO coupon_ledger (coupon_id, kind, amount, recorded_at) VALUES (?, 'ISSUE', ?, ?)",
                   coupon.id, coupon.faceValue, coupon.issuedAt)
    }

    /// Takes `amount` from a coupon's balance (or marks a discount coupon used) for an order.
    package static func use(_ db: Connection, coupon: Coupon, amount: Money, order: String, at: Int64) throws {
        if coupon.kind == .discountCoupon {
            try db.run("UPDATE coupons SET used_at = ? WHERE id = ?", at, coupon.id)
            try db.run("INSERT INTO coupon_ledger (coupon_id, kind, amount, order_id, recorded_at) VALUES (?, 'USE', ?, ?, ?)",
                       coupon.id, Money.zero, order, at)
        } else {
            try take(amount, from: coupon.id, order: order, at: at, db)
        }
    }

    /// Takes `amount` from a balance coupon for pay-per-use usage (no order: the usage line
    /// records what it paid), through the same ledger entry as an order's use.
    package static func useForUsage(_ db: Connection, coupon: String, amount: Money, at: Int64) throws {
        try take(amount, from: coupon, order: nil, at: at, db)
    }

    private static func take(_ amount: Money, from coupon: String, order: String?, at: Int64, _ db: Connection) throws {
        try db.run("UPDATE coupons SET balance = balance - ? WHERE id = ?", amount, coupon)
        try db.run("INSERT INTO coupon_ledger (coupon_id, kind, amount, order_id, recorded_at) VALUES (?, 'USE', ?, ?, ?)",
                   coupon, Money(fen: -amount.fen), order, at)
    }

    /// Gives back what a refund returns to a balance coupon; one that has expired meanwhile is
    /// returned void (§5.1: lost), which the ledger records as a RETURN and a VOID.
    /// Returns whether the amount is usable again.
    @discardableResult
    package static func give(back amount: Money, to couponID: String, order: String, at: Int64, _ db: Connection) throws -> Bool {
        guard amount.fen > 0, let validTo = try db.first("SELECT valid_to FROM coupons WHERE id = ?", couponID, map: { $0.int(0) }) else {
            return false
        }
        try db.run("UPDATE coupons SET balance = balance + ? WHERE id = ?", amount, couponID)
        try db.run("INSERT INTO coupon_ledger (coupon_id, kind, amount, order_id, recorded_at) VALUES (?, 'RETURN', ?, ?, ?)",
                   couponID, amount, order, at)
        if at >= validTo {
            try db.run("UPDATE coupons SET balance = balance - ? WHERE id = ?", amount, couponID)
            try db.run("INSERT INTO coupon_ledger (coupon_id, kind, amount, order_id, recorded_at) VALUES (?, 'VOID', ?, ?, ?)",
                       couponID, Money(fen: -amount.fen), order, at)
            return false
        }
        return true
    }

    /// Coupons of an account in issue order after a sequence number.
    package static func page(_ db: Connection, account: String, after: Int64, limit: Int64) throws -> [(sequence: Int64, coupon: Coupon)] {
        try db.all("SELECT \(columns), seq FROM coupons WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                   account, after, limit) { row in (row.int(15), try decode(row)) }
    }

    /// The end of a coupon's validity, nil when there is no such coupon.
    package static func validTo(_ db: Connection, _ id: String) throws -> Int64? {
        try db.first("SELECT valid_to FROM coupons WHERE id = ?", id) { $0.int(0) }
    }
}
