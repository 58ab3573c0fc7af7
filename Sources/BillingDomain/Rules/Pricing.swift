/// Prices of order lines (domain-rules §0, §3.7): list price, then the better of the
/// account's commercial discount and the product's promotion discount (not both, §3.5),
/// rounded half-up once per line.
public enum Pricing {
    /// The amounts of one line before any coupon.
    public static func line(listPrice: Money, commercialBP: Int64?, promotionBP: Int64?) throws -> OrderAmounts {
        var amounts = OrderAmounts()
        amounts.listPrice = listPrice
        let commercial = try listPrice.proportion(commercialBP ?? 0, over: 10_000)
        let promotion = try listPrice.proportion(promotionBP ?? 0, over: 10_000)
        // The better price wins; on a tie the commercial discount is taken (§3.5).
        if commercial >= promotion {
            amounts.commercialDiscount = commercial
        } else {
            amounts.promotionDiscount = promotion
        }
        return amounts
    }
}
