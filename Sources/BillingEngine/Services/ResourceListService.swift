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
        try query(requestJSON, parse: ResourceListRequest.init) { context, input in
            let (filter, after, limit) = (input.filter, input.after, input.limit)
            _ = try AccountStore.require(context.db, filter.account)
            if let after, try !filter.owns(context.db, cursor: after) {
                throw BillingError.invalid(.invalidCursor, "request.after must be a cursor this list returned for this account")
            }
            let keys = try filter.page(context.db, before: after, limit: limit + 1)
            let page = keys.prefix(Int(limit))
            let rows = try page.map { try ResourceStore.require(context.db, $0.id, account: filter.account) }
            return ResourceListResponse(resources: rows, nextCursor: page.last?.sequence, hasMore: keys.count > page.count,
                                        counts: input.withCounts ? .some(try filter.statusCounts(context.db)) : .none, calendar: context.calendar)
        }
    }
}
