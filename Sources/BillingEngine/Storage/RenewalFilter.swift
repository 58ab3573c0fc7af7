/// The filters of the renewal view, shared by the view, its counts and the renewal-list exports.
///
/// A plain value in storage, since the stores build their conditions from it; reading it from
/// a request and the reads it drives are the service's (Services/RenewalListService.swift).
struct RenewalFilter {
    /// The most instance ids one search takes (the guide's search box).
    static let maximumResourceIDs = 200

    var account: String
    /// A policy, or "ALL" for every policy.
    var tab: String
    var from: Int64?
    var to: Int64?
    /// Instance ids searched for ("resource_id" and "resource_ids" together), nil for all.
    var resources: [String]?
    var order: String?
    var status: String?
    var hidePending: Bool
}
