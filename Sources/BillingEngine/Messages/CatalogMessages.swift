import BillingDomain
import BillingDocuments

/// The requests and responses of the product catalog and commercial discounts.

/// `billing_product_put`: `{"actor", "product": {…}}`, the product read strictly by
/// `Product.init(_:updatedAt:)` (its time is the operation's).
struct PutProductRequest: RequestDocument {
    let product: Product

    init(_ reader: ObjectReader) throws {
        guard let definition = try reader.optionalObject("product") else {
            throw BillingError.invalid(.missingField, "request.product is required")
        }
        product = try Product(definition, updatedAt: 0)
        try definition.finish()
    }
}

/// A request naming one product: `{"product_id"}`.
struct ProductRequest: RequestDocument {
    let productID: String

    init(_ reader: ObjectReader) throws {
        productID = try reader.string("product_id", maxLength: 64)
    }
}

/// `{"product"}`: the product document with its `updated_at`.
struct ProductResponse: ResponseDocument {
    let product: Product

    var json: JSONValue { ["product": Engine.productDocument(product)] }
}

/// `billing_products_list`: `{"product_type"?, "after"?, "limit"?: 1–1000 (100)}`.
struct ProductListRequest: RequestDocument {
    let productType: String?
    /// The last product id of the previous page.
    let after: String?
    let limit: Int64

    init(_ reader: ObjectReader) throws {
        productType = try reader.optionalString("product_type", maxLength: 64)
        after = try reader.optionalString("after", maxLength: 64)
        limit = try reader.optionalInt("limit", in: 1...1000) ?? 100
    }
}

/// `{"products", "next_cursor", "has_more"}`.
struct ProductPageResponse: ResponseDocument {
    let products: [Product]
    /// The request's cursor, kept when the page is empty.
    let after: String?
    let hasMore: Bool

    var json: JSONValue {
        ["products": .array(products.map(Engine.productDocument)),
         "next_cursor": JSONValue(products.last?.id ?? after), "has_more": .bool(hasMore)]
    }
}

/// `billing_discount_set`: `{"actor", "account_id", "product_type", "rate_bp": 0–9999}`.
struct CommercialDiscountRequest: RequestDocument {
    let accountID: String
    /// A product type, or "*" for all.
    let productType: String
    /// 0 removes the discount.
    let rateBP: Int64

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        productType = try reader.string("product_type", maxLength: 64)
        rateBP = try reader.int("rate_bp", in: 0...9999)
    }
}

/// `{"account_id", "product_type", "rate_bp"}`: the discount as set.
struct CommercialDiscountResponse: ResponseDocument {
    let accountID: String
    let productType: String
    let rateBP: Int64

    var json: JSONValue { ["account_id": .string(accountID), "product_type": .string(productType), "rate_bp": .integer(rateBP)] }
}
