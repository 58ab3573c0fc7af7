import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

/// Decoded products are reused only for the very text and time they came from.
@Suite("Product cache")
struct ProductCacheTests {
    /// Another handle changing a product (same clock second, so only the text differs) is seen
    /// by the next load of the first handle, and so is a change written outside the library.
    @Test func aChangedProductIsDecodedAgain() throws {
        let path = temporaryDatabasePath()
        let first = try manualEngine(path: path)
        let second = try manualEngine(path: path)
        let put = #"{"actor":"catalog","product":{"product_id":"cache.1","product_type":"EVS","billing_mode":"PREPAID","monthly_price_fen":PRICE}}"#
        _ = try first.putProduct(put.replacing("PRICE", with: "100"))
        func price(_ engine: Engine) throws -> Int64? {
            try engine.lock.withLock { try engine.db.transaction(write: false) { try ProductStore.require(engine.db, "cache.1").monthlyPrice?.fen } }
        }
        #expect(try price(first) == 100)
        #expect(try price(second) == 100)
        _ = try second.putProduct(put.replacing("PRICE", with: "250"))
        #expect(try price(first) == 250)
        try first.lock.withLock {
            try first.db.executeScript("UPDATE products SET document = replace(document, '250', '300') WHERE id = 'cache.1'")
        }
        #expect(try price(second) == 300)
    }

    @Test func entriesMatchTextAndTimeExactly() {
        let cache = ProductCache()
        let product = try? Product(ObjectReader(text: #"{"product_id":"p","product_type":"EVS","billing_mode":"PREPAID","monthly_price_fen":1}"#), updatedAt: 5)
        guard let product else { Issue.record("product"); return }
        cache.remember(product, document: "{a}", updatedAt: 5)
        #expect(cache.product(id: "p", document: "{a}", updatedAt: 5) == product)
        #expect(cache.product(id: "p", document: "{b}", updatedAt: 5) == nil)
        #expect(cache.product(id: "p", document: "{a}", updatedAt: 6) == nil)
        #expect(cache.product(id: "q", document: "{a}", updatedAt: 5) == nil)
    }
}
