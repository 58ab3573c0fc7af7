import BillingDomain
import BillingDocuments

/// Idempotency records: the first response of each key, stored in the same transaction as
/// the effect it describes, so a replay after a crash sees either both or neither.
///
/// Keys live in a scope (`scope(account:actor:)`): the account a request is about, or the
/// actor for requests about no account. The same key in another scope is another key, so one
/// account's keys neither block another's requests nor reveal what they did.
package enum IdempotencyStore {
    /// The scope of a request's key: its account, else its actor. The prefixes keep an
    /// account and an actor of the same name apart.
    ///
    /// Written as bytes into the new string's own storage, as `IdentifierSequence.format` writes
    /// an id: `+` went through the standard library's append machinery, which every audit row
    /// ran for its scope and which a login runs nowhere else (some 36 lines of code a login
    /// fetched cold after its argon2id pass).
    package static func scope(account: String?, actor: String) -> String {
        if let account { return prefixed("account:", account) }
        return prefixed("actor:", actor)
    }

    private static func prefixed(_ prefix: StaticString, _ text: String) -> String {
        var text = text
        return prefix.withUTF8Buffer { head in
            text.withUTF8 { tail in
                String(unsafeUninitializedCapacity: head.count + tail.count) { out in
                    // Never nil: the prefix alone is 6 or 8 bytes.
                    guard let base = out.baseAddress, let prefixBytes = head.baseAddress else { return 0 }
                    base.initialize(from: prefixBytes, count: head.count)
                    if let bytes = tail.baseAddress { (base + head.count).initialize(from: bytes, count: tail.count) }
                    return head.count + tail.count
                }
            }
        }
    }

    /// The stored response for a replay of the same request; a conflict error when the key
    /// was used in the scope for another request; nil for a new key.
    package static func lookup(_ db: Connection, scope: String, key: String, operation: String, request: String) throws -> String? {
        guard let stored = try firstRow(db, "SELECT operation, request, response FROM idempotency WHERE scope = ? AND key = ?",
                                       values: .text(scope), .text(key), map: { ($0.text(0), $0.text(1), $0.text(2)) }) else { return nil }
        // The request's bytes, not `==`: Swift holds canonically equivalent texts equal, and a
        // request whose "é" is spelt e + U+0301 is another request.
        guard stored.0 == operation, TextBytes.same(stored.1, request) else {
            throw BillingError(.idempotencyKeyReused,
                               "idempotency key \(BillingError.quote(key)) was already used for a different request (\(stored.0)); use a new key for a new request")
        }
        return stored.2
    }

    package static func record(_ db: Connection, scope: String, key: String, operation: String, request: String, response: String, at: Int64) throws {
        try db.run("INSERT INTO idempotency (scope, key, operation, request, response, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                   values: .text(scope), .text(key), .text(operation), .text(request), .text(response), .integer(at))
    }
}
