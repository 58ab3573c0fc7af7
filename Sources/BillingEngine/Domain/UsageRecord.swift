/// One usage record as the host reports it.
struct UsageRecord: Equatable {
    var usageID: String
    var resourceID: String
    var quantity: Int64
    var start: Int64
    var end: Int64
}
