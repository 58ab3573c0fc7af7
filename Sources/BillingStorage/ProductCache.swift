import BillingDomain
import BillingDocuments

/// Products decoded from their stored documents, kept by id with the exact text and
/// `updated_at` they were decoded from.
///
/// Rating usage and pricing orders load the same few products for every record and line;
/// decoding a stored document (JSON, then every field checked) was most of rating's work.
/// A product is reused only when its row holds the very same text and time, so another
/// handle or process changing the catalog is seen at once (decoding is a pure function of
/// the two), and a rolled-back write leaves nothing stale behind. Shared by every handle of
/// the process, hence its own lock; bounded, so a huge catalog costs at most `capacity`
/// entries.
package final class ProductCache: @unchecked Sendable {
    package static let shared = ProductCache()

    private let lock = Lock()
    private var entries: [String: (document: String, updatedAt: Int64, product: Product, snapshot: (value: JSONValue, text: String)?)] = [:]
    private let capacity = 512

    /// The product decoded from exactly this document and time, if it is kept.
    package func product(id: String, document: String, updatedAt: Int64) -> Product? {
        lock.withLock {
            guard let entry = entries[id], entry.updatedAt == updatedAt,
                  // Bytes, not `==`: that would hand back a product decoded from other bytes.
                  TextBytes.same(entry.document, document) else { return nil }
            return entry.product
        }
    }

    /// Keeps a product decoded from `document` and `updatedAt`.
    package func remember(_ product: Product, document: String, updatedAt: Int64) {
        lock.withLock {
            if entries.count >= capacity && entries[product.id] == nil { entries.removeAll(keepingCapacity: true) }
            entries[product.id] = (document, updatedAt, product, nil)
        }
    }

    /// The snapshot an order line stores of a product (`Product.json`) and its text, built
    /// once per kept product: only for the very product kept (`==`, which finds the same
    /// storage at once), else built anew.
    package func snapshot(of product: Product) -> (value: JSONValue, text: String) {
        if let kept = lock.withLock({ entries[product.id].flatMap { $0.product == product ? $0.snapshot : nil } }) { return kept }
        let value = product.json
        let snapshot = (value: value, text: value.text)
        lock.withLock {
            if let entry = entries[product.id], entry.product == product { entries[product.id]?.snapshot = snapshot }
        }
        return snapshot
    }
}
