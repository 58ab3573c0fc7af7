/// One amount going back: what `source` (and coupon) paid for `resource` under `paidBy`.
struct RefundEntry {
    var resource: String
    var paidBy: String
    var source: FundingSource
    var coupon: String?
    var amount: Money
}
