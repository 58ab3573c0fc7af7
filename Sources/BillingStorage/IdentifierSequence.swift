import BillingDomain
import BillingDocuments

/// Engine-made identifiers: a prefix and a per-kind sequence number drawn inside the
/// operation's transaction, so two processes never hand out the same one.
package enum IdentifierSequence {
    /// The next number of a sequence, starting at 1.
    package static func next(_ db: Connection, _ name: String) throws -> Int64 {
        try db.run("INSERT INTO id_sequences (name, next) VALUES (?, 2) ON CONFLICT (name) DO UPDATE SET next = next + 1", name)
        return (try db.first("SELECT next - 1 FROM id_sequences WHERE name = ?", name) { $0.int(0) }) ?? 1
    }

    /// "CPN000000000042" for prefix "CPN" and number 42: fixed width so ids sort by age.
    package static func format(_ prefix: String, _ number: Int64) -> String {
        let digits = String(number)
        return prefix + String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }
}
