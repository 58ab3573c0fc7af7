/// The catalog: one row per product, its definition kept as the JSON document it was given in.
enum ProductStore {
    static func load(_ db: Connection, _ id: String) throws -> Product? {
        try db.first("SELECT document, updated_at FROM products WHERE id = ?", id) { row in
            let text = row.optionalText(0)
            let updatedAt = row.int(1)
            // The same text and time decode to the same product (see ProductCache).
            if let text, let cached = ProductCache.shared.product(id: id, document: text, updatedAt: updatedAt) { return cached }
            let record = "document of product \(BillingError.quote(id))"
            let document = try StoredValue.document(text, record)
            let product = try StoredValue.decode(record) {
                let reader = try ObjectReader(document, path: "stored product")
                let product = try Product(reader, updatedAt: updatedAt)
                try reader.finish()
                return product
            }
            // Kept under the id asked for: a document naming another id is decoded as stored.
            if let text, product.id == id { ProductCache.shared.remember(product, document: text, updatedAt: updatedAt) }
            return product
        }
    }

    static func require(_ db: Connection, _ id: String) throws -> Product {
        guard let product = try load(db, id) else { throw BillingError.notFound("product", id) }
        return product
    }

    static func save(_ db: Connection, _ product: Product) throws {
        try db.run("""
            INSERT INTO products (id, product_type, kind, billing_mode, document, on_sale, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET product_type = excluded.product_type, kind = excluded.kind,
                billing_mode = excluded.billing_mode, document = excluded.document, on_sale = excluded.on_sale,
                updated_at = excluded.updated_at
            """, product.id, product.productType, product.kind, product.billingMode.rawValue, product.json.text,
                 product.onSale, product.updatedAt)
    }

    /// Products after an id, in id order, optionally of one type.
    static func page(_ db: Connection, after: String, limit: Int64, type: String?) throws -> [Product] {
        let sql = type == nil
            ? "SELECT id FROM products WHERE id > ? ORDER BY id LIMIT ?"
            : "SELECT id FROM products WHERE product_type = ? AND id > ? ORDER BY id LIMIT ?"
        let ids = try type.map { try db.all(sql, $0, after, limit) { $0.text(0) } } ?? db.all(sql, after, limit) { $0.text(0) }
        return try ids.compactMap { try load(db, $0) }
    }

    /// The account's commercial discount for a product type ("*" covers every type).
    static func commercialDiscount(_ db: Connection, account: String, productType: String) throws -> Int64? {
        try db.first("""
            SELECT rate_bp FROM commercial_discounts WHERE account_id = ? AND product_type IN (?, '*')
            ORDER BY product_type = '*' LIMIT 1
            """, account, productType) { $0.int(0) }
    }
}
