/// The kinds of export (§3.9, §4.9).
enum ExportKind: String, CaseIterable {
    case orders = "ORDERS"
    case pendingOrders = "PENDING_ORDERS"
    case renewals = "RENEWALS"
    case renewalPrices = "RENEWAL_PRICES"
}
