/// The filters of the order list (§3.8), shared by the list, its counts and its export.
///
/// A plain value in storage, since the stores build their conditions from it; reading it from
/// a request and the reads it drives are the service's (Services/OrderQueryService.swift).
struct OrderFilter {
    var account: String
    var orderID: String?
    var from: Int64?
    var to: Int64?
    /// Request key and accepted values: each filter takes one value or several (any of them).
    var filters: [(key: String, values: [String])] = []

    /// The request keys of the filters that take values.
    static let requestKeys = ["product_type", "order_type", "status", "billing_mode"]
}
