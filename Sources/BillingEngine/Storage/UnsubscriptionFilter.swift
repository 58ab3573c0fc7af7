/// The filters of the unsubscription list: the tab (class) and the others (type, instances,
/// product types), which the counts respect as well.
///
/// A plain value in storage, since the stores build their conditions from it; reading it from
/// a request and the reads it drives are the service's (Services/UnsubscriptionListService.swift).
struct UnsubscriptionFilter {
    /// Resources a page classifies at most (each a few indexed reads).
    static let scanBudget: Int64 = 1000
    /// Every class the list can show (FAILED_CREATION resources were refunded when they failed
    /// and are not live), and the tab of those that can be unsubscribed.
    static let classes: [RefundClass] = [.fiveDay, .nonFiveDay, .renewalOnly, .inactive, .notAllowed]
    static let refundable = "REFUNDABLE"

    var account: String
    var type: String
    /// The classes asked for (nil: all).
    var classes: Set<RefundClass>?
    var resources: [String]?
    var productTypes: [String]?
}
