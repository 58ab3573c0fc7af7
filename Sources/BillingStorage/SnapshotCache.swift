import BillingDomain
import BillingDocuments

/// Product snapshots (the product document every order line stores, `order_lines.product`)
/// by their exact text: the value parsed from it and the text an answer shows of it.
///
/// Every line of a product carries the same snapshot, and each read of an order's lines
/// parsed it again (about 120,000 instructions a line), as each answer wrote it again.
/// Parsing and writing are pure functions of the bytes, so a text is looked up by its bytes
/// (not by `String ==`, which takes canonically equivalent texts as equal) and a rolled-back
/// write or another process leaves nothing stale. Shared by every handle of the process,
/// hence its lock; bounded, like `ProductCache`.
package final class SnapshotCache: @unchecked Sendable {
    package static let shared = SnapshotCache()

    private struct Key: Hashable {
        let text: String

        /// The length and a sample of the bytes: the first and last 64 and 8 bytes at each of
        /// 16 places between. Hashing the whole text (a product document of a few KB, several
        /// look-ups a purchase) was about 18,000 instructions a create + pay; texts that agree
        /// in the sample only share a bucket, and `==` still compares every byte.
        func hash(into hasher: inout Hasher) {
            var text = text
            text.withUTF8 { bytes in
                hasher.combine(bytes.count)
                let raw = UnsafeRawBufferPointer(bytes)
                guard raw.count > 256 else { return hasher.combine(bytes: raw) }
                // The sample is gathered on the stack and hashed in one call: eighteen calls
                // of `combine(bytes:)`, each with its own setup, cost twice the hashing.
                withUnsafeTemporaryAllocation(byteCount: 256, alignment: 8) { sample in
                    sample.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[..<64]))
                    UnsafeMutableRawBufferPointer(rebasing: sample[64..<128])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[(raw.count - 64)...]))
                    let stride = (raw.count - 136) / 16
                    for place in 0..<16 {
                        let start = 64 + place * stride
                        UnsafeMutableRawBufferPointer(rebasing: sample[(128 + place * 8)..<(136 + place * 8)])
                            .copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[start..<(start + 8)]))
                    }
                    hasher.combine(bytes: UnsafeRawBufferPointer(sample))
                }
            }
        }

        static func == (a: Key, b: Key) -> Bool { TextBytes.same(a.text, b.text) }
    }

    private struct Entry {
        var value: JSONValue
        var shown: String?
    }

    private let lock = Lock()
    private var entries: [Key: Entry] = [:]
    private let capacity = 256

    /// The value of a snapshot's text (parsed once per distinct text).
    package func value(_ text: String, _ record: @autoclosure () -> String) throws -> JSONValue {
        if let entry = lock.withLock({ entries[Key(text: text)] }) { return entry.value }
        let value = try StoredValue.document(text, record())
        remember(text, value)
        return value
    }

    /// Notes that `text` is the text of `value` (a snapshot just written from a product).
    package func remember(_ text: String, _ value: JSONValue) {
        lock.withLock {
            let key = Key(text: text)
            guard entries[key] == nil else { return }
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = Entry(value: value, shown: nil)
        }
    }

    /// What `write` gives for the snapshot of `text` (whose value is `value`), computed once
    /// per distinct text.
    package func shown(_ text: String, _ value: JSONValue, write: (JSONValue) -> String) -> String {
        let key = Key(text: text)
        if let shown = lock.withLock({ entries[key]?.shown }) { return shown }
        let shown = write(value)
        lock.withLock {
            if entries.count >= capacity && entries[key] == nil { entries.removeAll(keepingCapacity: true) }
            entries[key, default: Entry(value: value, shown: nil)].shown = shown
        }
        return shown
    }
}
