import BillingDomain
import BillingDocuments

/// Engine-made identifiers: a prefix and a per-kind sequence number drawn inside the
/// operation's transaction, so two processes never hand out the same one.
///
/// SQLite keeps the next number of each kind in a row of `id_sequences` (one writer at a time:
/// no gaps). PostgreSQL draws from one `SEQUENCE` per kind (`billing_ids_<kind>`, created by
/// its migrations): `nextval` never makes two writers conflict (a row every operation
/// increments would make every pair of SERIALIZABLE writers fail one), and is not rolled back,
/// so a retried or failed operation leaves a gap. Numbers stay unique and increasing; no rule
/// needs them gapless (docs/postgresql.md). A new kind needs its sequence in a PostgreSQL
/// migration.
package enum IdentifierSequence {
    /// The next number of a sequence, starting at 1.
    package static func next(_ db: Connection, _ name: String) throws -> Int64 {
        switch db.dialect {
        case .sqlite:
            try db.run("INSERT INTO id_sequences (name, next) VALUES (?, 2) ON CONFLICT (name) DO UPDATE SET next = id_sequences.next + 1", name)
            return (try db.first("SELECT next - 1 FROM id_sequences WHERE name = ?", name) { $0.int(0) }) ?? 1
        case .postgres:
            guard let number = try db.first("SELECT nextval(CAST(? AS regclass))", sequence(name), map: { $0.int(0) }) else {
                throw BillingError(.postgresError, "the identifier sequence \(sequence(name)) gave no number")
            }
            return number
        }
    }

    /// Whether a backend keeps its counters in `id_sequences` rows (SQLite). PostgreSQL keeps
    /// them in its sequences and leaves the table empty, a copied database included
    /// (`DatabaseTransfer`): verify there does not expect the rows the copied audit rows list
    /// (`RowCoverage.digestsOffChain`).
    package static func keptInRows(_ dialect: SQLDialect) -> Bool { dialect == .sqlite }

    /// The PostgreSQL sequence of a kind of identifier.
    package static func sequence(_ name: String) -> String { "billing_ids_" + name }

    /// "CPN000000000042" for prefix "CPN" and number 42: fixed width so ids sort by age.
    ///
    /// Written as bytes into the string's own storage: three strings concatenated cost about
    /// 2 K instructions an identifier (two a create + pay). The text is the same: the
    /// prefix, zeros up to 12 characters, then `String(number)` (a minus sign included).
    package static func format(_ prefix: String, _ number: Int64) -> String {
        let magnitude = number.magnitude
        var digits = 1
        var rest = magnitude
        while rest >= 10 { rest /= 10; digits += 1 }
        let length = digits + (number < 0 ? 1 : 0)
        let padding = max(0, 12 - length)
        let total = prefix.utf8.count + padding + length
        return String(unsafeUninitializedCapacity: total) { out in
            var position = 0
            for byte in prefix.utf8 {
                out[position] = byte
                position += 1
            }
            for _ in 0..<padding {
                out[position] = UInt8(ascii: "0")
                position += 1
            }
            if number < 0 { out[position] = UInt8(ascii: "-") }
            var remaining = magnitude
            var digit = total - 1
            repeat {
                out[digit] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remaining % 10)
                remaining /= 10
                digit -= 1
            } while remaining > 0
            return total
        }
    }
}
