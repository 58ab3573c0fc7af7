import BillingDomain
import BillingDocuments

/// The catalog: one row per product, its definition kept as the JSON document it was given in.
package enum ProductStore {
    package static func load(_ db: Connection, _ id: String) throws -> Product? {
        try db.first("SELECT document, updated_at FROM products WHERE id = ?", id) { row in
            let text = row.optionalText(0)
            let updatedAt = row.int(1)
            // The same text and time decode to the same product (see ProductCache).
            if let text, let cached = ProductCache.shared.product(id: id, document: text, updatedAt: updatedAt) { return cached }
            let record = "document of product \(BillingError.quote(id))"
            let product = try decode(StoredDocument(StoredValue.document(text, record), record: record), updatedAt: updatedAt)
            // Kept under the id asked for: a document naming another id is decoded as stored.
            if let text, product.id == id { ProductCache.shared.remember(product, document: text, updatedAt: updatedAt) }
            return product
        }
    }

    /// Reads a stored product document (written from `Product.json`) with its own decoder, not
    /// the request reader: a request check tightened later (a length, a range, a price rule)
    /// must never make a product stored before it unreadable. Fields missing from a document
    /// written by an older library take the defaults a request gets.
    package static func decode(_ document: StoredDocument, updatedAt: Int64) throws -> Product {
        let id = try document.string("product_id")
        guard let mode: BillingMode = try document.optionalChoice("billing_mode") else {
            throw StoredValue.unreadable(document.record, "billing_mode is missing")
        }
        var package: PackageTerms?
        if let terms = try document.optionalObject("package") {
            package = PackageTerms(kind: try terms.optionalString("kind") ?? "AMOUNT", quota: try terms.int("quota"),
                                   appliesTo: try terms.optionalStrings("applies_to") ?? [],
                                   resettable: try terms.optionalBool("resettable") ?? false,
                                   resetAnchor: try terms.optionalString("reset_anchor") ?? "CALENDAR_MONTH")
        }
        var product = Product(
            id: id, productType: try document.string("product_type"), kind: try document.optionalString("kind") ?? "default",
            billingMode: mode, name: try document.optionalString("name") ?? id, region: try document.optionalString("region"),
            specs: document.optionalValue("specs") ?? .object([:]), allowedPeriods: [],
            monthlyPrice: try document.optionalInt("monthly_price_fen").map { Money(fen: $0) },
            yearlyPrice: try document.optionalInt("yearly_price_fen").map { Money(fen: $0) },
            hourlyPriceMicrofen: try document.optionalInt("hourly_price_microfen"),
            unitPriceMicrofen: try document.optionalInt("unit_price_microfen"), package: package,
            oneOffPrice: try document.optionalInt("one_off_price_fen").map { Money(fen: $0) },
            promotionDiscountBP: try document.optionalInt("promotion_discount_bp"),
            refundable: try document.optionalBool("refundable") ?? true,
            perResourceRefund: try document.optionalBool("per_resource_refund") ?? true,
            fiveDayEligible: try document.optionalBool("five_day_eligible") ?? true,
            autoRenewSupported: try document.optionalBool("auto_renew_supported") ?? true,
            toOnDemandSupported: try document.optionalBool("to_on_demand_supported") ?? true,
            onSale: try document.optionalBool("on_sale") ?? true, reviewRequired: try document.optionalBool("review_required") ?? false,
            trial: try document.optionalBool("trial") ?? false,
            promotionForbidsRefund: try document.optionalBool("promotion_forbids_refund") ?? false,
            boundProducts: try document.optionalStrings("bound_products") ?? [], updatedAt: updatedAt)
        if let periods = try document.optionalArray("allowed_periods") {
            product.allowedPeriods = try periods.map { value in
                let period = try StoredDocument(value, record: "\(document.record), allowed_periods")
                guard let unit: PeriodUnit = try period.optionalChoice("unit") else {
                    throw StoredValue.unreadable(period.record, "unit is missing")
                }
                return try StoredValue.decode(period.record) { try Period(period.int("count"), unit) }
            }
        } else if mode == .prepaid || mode == .package {
            product.allowedPeriods = product.defaultPeriods
        }
        return product
    }

    package static func require(_ db: Connection, _ id: String) throws -> Product {
        guard let product = try load(db, id) else { throw BillingError.notFound(.productNotFound, id) }
        return product
    }

    package static func save(_ db: Connection, _ product: Product) throws {
        try db.run("""
            INSERT INTO products (id, product_type, kind, billing_mode, document, on_sale, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET product_type = excluded.product_type, kind = excluded.kind,
                billing_mode = excluded.billing_mode, document = excluded.document, on_sale = excluded.on_sale,
                updated_at = excluded.updated_at
            """, product.id, product.productType, product.kind, product.billingMode.rawValue, product.json.text,
                 product.onSale, product.updatedAt)
    }

    /// Products after an id, in id order, optionally of one type.
    package static func page(_ db: Connection, after: String, limit: Int64, type: String?) throws -> [Product] {
        let sql = type == nil
            ? "SELECT id FROM products WHERE id > ? ORDER BY id LIMIT ?"
            : "SELECT id FROM products WHERE product_type = ? AND id > ? ORDER BY id LIMIT ?"
        let ids = try type.map { try db.all(sql, $0, after, limit) { $0.text(0) } } ?? db.all(sql, after, limit) { $0.text(0) }
        return try ids.compactMap { try load(db, $0) }
    }

    /// Sets an account's commercial discount for a product type; 0 removes it.
    package static func setCommercialDiscount(_ db: Connection, account: String, productType: String, rateBP: Int64) throws {
        if rateBP == 0 {
            try db.run("DELETE FROM commercial_discounts WHERE account_id = ? AND product_type = ?", account, productType)
        } else {
            try db.run("""
                INSERT INTO commercial_discounts (account_id, product_type, rate_bp) VALUES (?, ?, ?)
                ON CONFLICT (account_id, product_type) DO UPDATE SET rate_bp = excluded.rate_bp
                """, account, productType, rateBP)
        }
    }

    /// The account's commercial discount for a product type ("*" covers every type).
    /// Two searches of the primary key, the type's own row first: no sort (an `IN` over both
    /// with `ORDER BY product_type = '*'` built a temporary B-tree on every line priced).
    package static func commercialDiscount(_ db: Connection, account: String, productType: String) throws -> Int64? {
        try db.first(discountSQL, account, productType) { $0.optionalInt(0) } ?? nil
    }

    private static let discountSQL = """
        SELECT COALESCE(
            (SELECT rate_bp FROM commercial_discounts WHERE account_id = ?1 AND product_type = ?2),
            (SELECT rate_bp FROM commercial_discounts WHERE account_id = ?1 AND product_type = '*'))
        """
}

extension ProductStore {
    /// The snapshot an order line stores of a product (`Product.json`) and its text: kept
    /// with the cached product, and noted in `SnapshotCache` so reading the line back finds
    /// its value without parsing.
    package static func snapshot(of product: Product) -> (value: JSONValue, text: String) {
        let snapshot = ProductCache.shared.snapshot(of: product)
        SnapshotCache.shared.remember(snapshot.text, snapshot.value)
        return snapshot
    }
}
