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
final class ProductCache: @unchecked Sendable {
    static let shared = ProductCache()

    private let lock = Lock()
    private var entries: [String: (document: String, updatedAt: Int64, product: Product)] = [:]
    private let capacity = 512

    /// The product decoded from exactly this document and time, if it is kept.
    func product(id: String, document: String, updatedAt: Int64) -> Product? {
        lock.withLock {
            guard let entry = entries[id], entry.updatedAt == updatedAt,
                  entry.document.utf8.elementsEqual(document.utf8) else { return nil }
            return entry.product
        }
    }

    /// Keeps a product decoded from `document` and `updatedAt`.
    func remember(_ product: Product, document: String, updatedAt: Int64) {
        lock.withLock {
            if entries.count >= capacity && entries[product.id] == nil { entries.removeAll(keepingCapacity: true) }
            entries[product.id] = (document, updatedAt, product)
        }
    }
}
