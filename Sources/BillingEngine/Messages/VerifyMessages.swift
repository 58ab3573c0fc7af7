import BillingDomain
import BillingDocuments

/// The requests and responses of `verify` and the audit chain's head.

/// What verify is asked to check: `{"integrity"?: "QUICK" | "FULL" | "NONE", "audit_head"?:
/// {"position", "digest"}}` — how thoroughly SQLite checks the file, and optionally the head of
/// the audit chain the host kept from `billing_audit_head`.
struct VerifyRequest: RequestDocument {
    let integrity: Engine.IntegrityMode
    let head: (position: Int64, digest: String)?

    init(_ reader: ObjectReader) throws {
        integrity = try Engine.integrityMode(reader)
        if let head = try reader.optionalObject("audit_head") {
            let position = try head.int("position", in: 0...Int64.max)
            let digest = try head.string("digest", maxLength: 128)
            // billing_audit_head's response may be passed back as it came.
            _ = try head.optionalInt("schema_version")
            try head.finish()
            self.head = (position, digest)
        } else {
            self.head = nil
        }
    }
}

/// What verify counted while checking.
struct VerifiedCounts {
    var accounts: Int64
    var orders: Int64
    var coupons: Int64
    var resources: Int64
    var auditRows: Int64
    /// Keyed links this handle could not check: it was opened without the audit key.
    var auditLinksUnchecked: Int64

    var json: JSONValue {
        ["accounts": .integer(accounts), "orders": .integer(orders), "coupons": .integer(coupons), "resources": .integer(resources),
         "audit_rows": .integer(auditRows), "audit_links_unchecked": .integer(auditLinksUnchecked)]
    }
}

/// `{"ok", "integrity", "checked", "breaches"}`. A damaged file is reported alone: `checked`
/// is empty (nil here), since invariants computed from it would mislead.
struct VerifyResponse: ResponseDocument {
    let integrity: Engine.IntegrityMode
    let checked: VerifiedCounts?
    /// `{"check", "subject", "detail", …}` each, as the checks describe them.
    let breaches: [JSONValue]

    var json: JSONValue {
        ["ok": .bool(breaches.isEmpty), "integrity": .string(integrity.rawValue), "checked": checked?.json ?? [:],
         "breaches": .array(breaches)]
    }
}

/// `{"position", "digest"}`: the last audit row's id and hash.
struct AuditHeadResponse: ResponseDocument {
    let position: Int64
    let digest: String

    var json: JSONValue { ["position": .integer(position), "digest": .string(digest)] }
}
