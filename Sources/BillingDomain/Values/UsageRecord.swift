/// One usage record as the host reports it.
package struct UsageRecord: Equatable {
    package var usageID: String
    package var resourceID: String
    package var quantity: Int64
    package var start: Int64
    package var end: Int64

    package init(usageID: String, resourceID: String, quantity: Int64, start: Int64, end: Int64) {
        self.usageID = usageID
        self.resourceID = resourceID
        self.quantity = quantity
        self.start = start
        self.end = end
    }
}
