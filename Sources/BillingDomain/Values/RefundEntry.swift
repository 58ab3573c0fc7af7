/// One amount going back: what `source` (and coupon) paid for `resource` under `paidBy`.
package struct RefundEntry {
    package var resource: String
    package var paidBy: String
    package var source: FundingSource
    package var coupon: String?
    package var amount: Money

    package init(resource: String, paidBy: String, source: FundingSource, coupon: String? = nil, amount: Money) {
        self.resource = resource
        self.paidBy = paidBy
        self.source = source
        self.coupon = coupon
        self.amount = amount
    }
}
