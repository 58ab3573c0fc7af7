import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// Defines or replaces a product: `{"actor", "product": {…}}` (see billing.h for the fields).
    /// Orders keep the prices they were made with, so a change affects only later quotes.
    /// Emits `product.saved`.
    public func putProduct(_ requestJSON: String?) throws -> String {
        try perform("product.put", requestJSON, parse: { reader -> Product in
            guard let definition = try reader.optionalObject("product") else {
                throw BillingError.invalid("missing_field", "request.product is required")
            }
            let product = try Product(definition, updatedAt: 0)
            try definition.finish()
            return product
        }, apply: { context, input in
            var product = input
            product.updatedAt = context.now
            try ProductStore.save(context.db, product)
            let document = Engine.productDocument(product)
            try context.emit("product.saved", subject: product.id, data: ["product_id": .string(product.id), "on_sale": .bool(product.onSale)])
            context.audit(subject: product.id, detail: product.json)
            return ["product": document]
        })
    }

    /// A product: `{"product_id"}` → `{"product"}`.
    public func getProduct(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: { try $0.string("product_id", maxLength: 64) }) { context, id in
            ["product": Engine.productDocument(try ProductStore.require(context.db, id))]
        }
    }

    /// The catalog in id order: `{"product_type"?, "after"?, "limit"?}` → `{"products", "next_cursor", "has_more"}`.
    public func listProducts(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: { reader in
            (try reader.optionalString("product_type", maxLength: 64), try reader.optionalString("after", maxLength: 64),
             try reader.optionalInt("limit", in: 1...1000) ?? 100)
        }) { context, input in
            // The cursor is the last product id of a page; products are never deleted, so any
            // other string was not handed out.
            if let cursor = input.1, try ProductStore.load(context.db, cursor) == nil {
                throw BillingError.invalid("invalid_cursor", "request.after must be a cursor returned as next_cursor")
            }
            let rows = try ProductStore.page(context.db, after: input.1 ?? "", limit: input.2 + 1, type: input.0)
            let page = rows.prefix(Int(input.2))
            return ["products": .array(page.map(Engine.productDocument)),
                    "next_cursor": JSONValue(page.last?.id ?? input.1), "has_more": .bool(rows.count > page.count)]
        }
    }

    /// Sets an account's commercial discount for a product type ("*" for all):
    /// `{"actor", "account_id", "product_type", "rate_bp": 0–9999}`; 0 removes it.
    public func setCommercialDiscount(_ requestJSON: String?) throws -> String {
        try perform("discount.set", requestJSON, parse: { reader in
            (try reader.string("account_id", maxLength: 64), try reader.string("product_type", maxLength: 64),
             try reader.int("rate_bp", in: 0...9999))
        }, apply: { context, input in
            _ = try AccountStore.require(context.db, input.0)
            try ProductStore.setCommercialDiscount(context.db, account: input.0, productType: input.1, rateBP: input.2)
            let detail: JSONValue = ["product_type": .string(input.1), "rate_bp": .integer(input.2)]
            try context.emit("account.discount_set", account: input.0, subject: input.0, data: detail)
            context.audit(account: input.0, subject: input.1, detail: detail)
            return ["account_id": .string(input.0), "product_type": .string(input.1), "rate_bp": .integer(input.2)]
        })
    }

    static func productDocument(_ product: Product) -> JSONValue {
        guard case .object(var fields) = product.json else { return product.json }
        fields["updated_at"] = .integer(product.updatedAt)
        return .object(fields)
    }
}
