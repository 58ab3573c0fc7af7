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
    package static func scope(account: String?, actor: String) -> String {
        account.map { "account:" + $0 } ?? "actor:" + actor
    }

    /// The stored response for a replay of the same request; a conflict error when the key
    /// was used in the scope for another request; nil for a new key.
    package static func lookup(_ db: Connection, scope: String, key: String, operation: String, request: String) throws -> String? {
        guard let stored = try firstRow(db, "SELECT operation, request, response FROM idempotency WHERE scope = ? AND key = ?",
                                       values: .text(scope), .text(key), map: { ($0.text(0), $0.text(1), $0.text(2)) }) else { return nil }
        // The request's bytes, not `==`: Swift holds canonically equivalent texts equal, and a
        // request whose "é" is spelt e + U+0301 is another request.
        guard stored.0 == operation, stored.1.utf8.elementsEqual(request.utf8) else {
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
