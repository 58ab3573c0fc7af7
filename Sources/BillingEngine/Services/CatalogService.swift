import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// Defines or replaces a product: `{"actor", "product": {…}}` (see billing.h for the fields).
    /// Orders keep the prices they were made with, so a change affects only later quotes.
    /// Emits `product.saved`.
    public func putProduct(_ requestJSON: String?) throws -> String {
        try perform("product.put", requestJSON, parse: PutProductRequest.init) { context, input -> ProductResponse in
            var product = input.product
            product.updatedAt = context.now
            try ProductStore.save(context.db, product)
            try context.emit("product.saved", subject: product.id, data: ["product_id": .string(product.id), "on_sale": .bool(product.onSale)])
            context.audit(subject: product.id, detail: product.json)
            return ProductResponse(product: product)
        }
    }

    /// A product: `{"product_id"}` → `{"product"}`.
    public func getProduct(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: ProductRequest.init) { context, request -> ProductResponse in
            ProductResponse(product: try ProductStore.require(context.db, request.productID))
        }
    }

    /// The catalog in id order: `{"product_type"?, "after"?, "limit"?}` → `{"products", "next_cursor", "has_more"}`.
    public func listProducts(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: ProductListRequest.init) { context, input -> ProductPageResponse in
            // The cursor is the last product id of a page; products are never deleted, so any
            // other string was not handed out.
            if let cursor = input.after, try ProductStore.load(context.db, cursor) == nil {
                throw BillingError.invalid(.invalidCursor, "request.after must be a cursor returned as next_cursor")
            }
            let rows = try ProductStore.page(context.db, after: input.after ?? "", limit: input.limit + 1, type: input.productType)
            let page = rows.prefix(Int(input.limit))
            return ProductPageResponse(products: Array(page), after: input.after, hasMore: rows.count > page.count)
        }
    }

    /// Sets an account's commercial discount for a product type ("*" for all):
    /// `{"actor", "account_id", "product_type", "rate_bp": 0–9999}`; 0 removes it.
    public func setCommercialDiscount(_ requestJSON: String?) throws -> String {
        try perform("discount.set", requestJSON, parse: CommercialDiscountRequest.init) { context, input -> CommercialDiscountResponse in
            _ = try AccountStore.require(context.db, input.accountID)
            try ProductStore.setCommercialDiscount(context.db, account: input.accountID, productType: input.productType, rateBP: input.rateBP)
            let detail: JSONValue = ["product_type": .string(input.productType), "rate_bp": .integer(input.rateBP)]
            try context.emit("account.discount_set", account: input.accountID, subject: input.accountID, data: detail)
            context.audit(account: input.accountID, subject: input.productType, detail: detail)
            return CommercialDiscountResponse(accountID: input.accountID, productType: input.productType, rateBP: input.rateBP)
        }
    }

    static func productDocument(_ product: Product) -> JSONValue {
        guard case .object(var fields) = product.json else { return product.json }
        fields["updated_at"] = .integer(product.updatedAt)
        return .object(fields)
    }
}
