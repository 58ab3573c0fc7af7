/// Idempotency records: the first response of each key, stored in the same transaction as
/// the effect it describes, so a replay after a crash sees either both or neither.
enum IdempotencyStore {
    /// The stored response for a replay of the same request; a conflict error when the key
    /// was used for another request; nil for a new key.
    static func lookup(_ db: Connection, key: String, operation: String, request: String) throws -> String? {
        guard let stored = try db.first("SELECT operation, request, response FROM idempotency WHERE key = ?", key,
                                        map: { ($0.text(0), $0.text(1), $0.text(2)) }) else { return nil }
        guard stored.0 == operation, stored.1 == request else {
            throw BillingError(.conflict, "idempotency_key_reused",
                               "idempotency key \(BillingError.quote(key)) was already used for a different request (\(stored.0)); use a new key for a new request")
        }
        return stored.2
    }

    static func record(_ db: Connection, key: String, operation: String, request: String, response: String, at: Int64) throws {
        try db.run("INSERT INTO idempotency (key, operation, request, response, created_at) VALUES (?, ?, ?, ?, ?)",
                   key, operation, request, response, at)
    }
}
