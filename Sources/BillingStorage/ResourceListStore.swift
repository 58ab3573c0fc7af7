import BillingDomain
import BillingDocuments

/// The account page's resource list (`billing_resources_list`): every resource of an account,
/// ended ones included, newest first, with the filters the page offers. Its reads go through
/// `resources_by_account` (account_id, seq) for pages and `resources_by_status`
/// (account_id, status, seq) for a status tab and the per-status counts.
package struct ResourceListFilter {
    package var account: String
    /// Column and accepted values: each filter takes one value or several (any of them).
    package var filters: [(column: String, values: [String])] = []

    /// The request keys of the filters that take values, with their columns.
    private static let keys = [("status", "status"), ("billing_mode", "billing_mode"), ("product_type", "product_type")]

    package init(_ reader: ObjectReader, account: String) throws {
        self.account = account
        let allowed: [String: [String]] = ["status": ResourceStatus.allCases.map(\.rawValue),
                                           "billing_mode": BillingMode.allCases.map(\.rawValue)]
        for (key, column) in ResourceListFilter.keys {
            if let values = try reader.optionalChoices(key, allowed[key]) { filters.append((column, values)) }
        }
    }

    /// The WHERE conditions, leaving out the filter on `skipping` (the column counted by tab).
    private func conditions(skipping: String? = nil) -> ([String], [DatabaseBindable]) {
        var conditions = ["account_id = ?"]
        var arguments: [DatabaseBindable] = [account]
        for (column, values) in filters where column != skipping {
            conditions.append(values.count == 1 ? "\(column) = ?" : "\(column) IN (\(Array(repeating: "?", count: values.count).joined(separator: ", ")))")
            arguments += values.map { $0 as DatabaseBindable }
        }
        return (conditions, arguments)
    }

    /// Whether a cursor is the `seq` of one of this account's resources: a cursor handed out
    /// for another account (or made up) is refused rather than silently paging from it.
    package func owns(_ db: Connection, cursor: Int64) throws -> Bool {
        try db.first("SELECT 1 FROM resources WHERE seq = ? AND account_id = ?", cursor, account) { _ in true } ?? false
    }

    /// Ids and sequence numbers of the matching resources, newest first, before a `seq` cursor.
    package func page(_ db: Connection, before cursor: Int64?, limit: Int64) throws -> [(id: String, sequence: Int64)] {
        var (conditions, arguments) = self.conditions()
        if let cursor { conditions.append("seq < ?"); arguments.append(cursor) }
        arguments.append(limit)
        var keys: [(id: String, sequence: Int64)] = []
        try db.forEach("SELECT id, seq FROM resources WHERE \(conditions.joined(separator: " AND ")) ORDER BY seq DESC LIMIT ?",
                       arguments) { keys.append((id: $0.text(0), sequence: $0.int(1))) }
        return keys
    }

    /// The status tabs' totals: every other filter applies, the status filter does not; `ALL`
    /// is every status. One grouped read of the account's rows through `resources_by_status`.
    package func statusCounts(_ db: Connection) throws -> JSONValue {
        let (conditions, arguments) = self.conditions(skipping: "status")
        var counts: [String: JSONValue] = Dictionary(uniqueKeysWithValues: ResourceStatus.allCases.map { ($0.rawValue, JSONValue.integer(0)) })
        var total: Int64 = 0
        try db.forEach("SELECT status, count(*) FROM resources WHERE \(conditions.joined(separator: " AND ")) GROUP BY status",
                       arguments) { row in
            counts[row.text(0)] = .integer(row.int(1))
            total += row.int(1)
        }
        counts["ALL"] = .integer(total)
        return .object(counts)
    }
}
