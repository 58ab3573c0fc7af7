import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// The account page's resources (issue 16): every resource of the account, ended ones
    /// (RELEASED, UNSUBSCRIBED, DELETED, PROVISION_FAILED) included, newest first:
    /// `{"account_id", "status"?, "billing_mode"?, "product_type"? (each one value or a list),
    /// "after"?, "limit"?: 1–100, "with_counts"?: bool}` → `{"resources", "next_cursor",
    /// "has_more", "counts"?}`. The cursor is the last row's sequence number.
    public func listResources(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: { reader -> (ResourceListFilter, Int64?, Int64, Bool) in
            let filter = try ResourceListFilter(reader, account: try reader.string("account_id", maxLength: 64))
            return (filter, try Engine.rowCursor(reader), try reader.optionalInt("limit", in: 1...100) ?? 20,
                    try reader.optionalBool("with_counts") ?? false)
        }) { context, input in
            let (filter, after, limit, withCounts) = input
            _ = try AccountStore.require(context.db, filter.account)
            if let after, try !filter.owns(context.db, cursor: after) {
                throw BillingError.invalid("invalid_cursor", "request.after must be a cursor this list returned for this account")
            }
            let keys = try filter.page(context.db, before: after, limit: limit + 1)
            let page = keys.prefix(Int(limit))
            let rows = try page.map { try ResourceStore.require(context.db, $0.id, account: filter.account).json(context.calendar) }
            var document: [String: JSONValue] = ["resources": .array(rows), "next_cursor": JSONValue(page.last.map { String($0.sequence) }),
                                                 "has_more": .bool(keys.count > page.count)]
            if withCounts { document["counts"] = try filter.statusCounts(context.db) }
            return .object(document)
        }
    }
}
