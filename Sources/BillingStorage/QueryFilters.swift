import BillingDomain

// The filters of the list pages, as the stores query them. Reading them from a request and
// writing them into an export's stored request belong to the engine (its list services).

/// The filters of the order list (§3.8), shared by the list, its counts and its export.
package struct OrderFilter {
    package var account: String
    package var orderID: String?
    package var from: Int64?
    package var to: Int64?
    /// Request key and accepted values: each filter takes one value or several (any of them).
    package var filters: [(key: String, values: [String])] = []

    /// The request keys of the filters that take values.
    package static let keys = ["product_type", "order_type", "status", "billing_mode"]

    package init(account: String) {
        self.account = account
    }
}

/// The filters of the renewal view, shared by the view, its counts and the renewal-list exports.
package struct RenewalFilter {
    /// The most instance ids one search takes (the guide's search box).
    package static let maximumResourceIDs = 200

    package var account: String
    /// A policy, or "ALL" for every policy.
    package var tab: String
    package var from: Int64?
    package var to: Int64?
    /// Instance ids searched for ("resource_id" and "resource_ids" together), nil for all.
    package var resources: [String]?
    package var order: String?
    package var status: String?
    package var hidePending = false

    package init(account: String, tab: String) {
        self.account = account
        self.tab = tab
    }
}
