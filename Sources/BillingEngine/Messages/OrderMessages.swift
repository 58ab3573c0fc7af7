import BillingDomain
import BillingDocuments
import BillingStorage

// The typed requests and responses of the order operations: quote, create, cancel, review,
// confirm, details, list, pay and the pay quote. Each request reads every field it accepts, in
// the order (and with the checks) the operation always has, so errors name the same field
// first; each response renders the same document the operation always answered.

// MARK: - Requests

/// `billing_order_quote`: `{"account_id", "items"}`.
struct OrderQuoteRequest: RequestDocument {
    var accountID: String
    var items: [PurchaseItem]

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        items = try PurchaseItem.read(reader)
    }
}

/// `billing_order_create`: the quote's request plus how the order is placed and paid.
struct OrderCreateRequest: RequestDocument {
    var accountID: String
    var items: [PurchaseItem]
    var autoPay: Bool
    var couponIDs: [String]
    var placedByManager: Bool
    var contract: String?
    var expectedAmountDue: Money?

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        items = try PurchaseItem.read(reader)
        autoPay = try reader.optionalBool("auto_pay") ?? false
        couponIDs = try Engine.couponIDs(reader)
        placedByManager = try reader.optionalBool("placed_by_manager") ?? false
        contract = try reader.optionalString("contract", maxLength: 200)
        expectedAmountDue = try reader.optionalMoney("expected_amount_due_fen")
        if !couponIDs.isEmpty && !autoPay {
            throw BillingError.invalid(.invalidField, "coupon_ids are used when paying; give them with auto_pay or to billing_order_pay")
        }
        if autoPay && placedByManager {
            throw BillingError.invalid(.invalidField, "an order placed by an account manager waits for the customer; it cannot be paid at once")
        }
    }
}

/// `billing_orders_cancel`: `{"account_id", "order_ids": [...], "reason"?}`.
struct OrderCancelRequest: RequestDocument {
    var accountID: String
    var orderIDs: [String]
    var reason: String?

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        guard let ids = try reader.optionalIdentifiers("order_ids", maxCount: 1000), !ids.isEmpty else {
            throw BillingError.invalid(.missingField, "request.order_ids must list at least one order")
        }
        orderIDs = ids
        reason = try reader.optionalString("reason", maxLength: 500)
    }
}

/// A decision on a waiting order (review or confirmation): `{"account_id", "order_id",
/// "decision", "comment"?}`.
protocol OrderDecisionRequest: RequestDocument {
    /// The decisions this request accepts, the first one being the yes.
    static var decisions: [String] { get }
    var accountID: String { get }
    var orderID: String { get }
    var decision: String { get }
    var comment: String? { get }
}

extension OrderDecisionRequest {
    /// Reads the fields every decision has, in their order.
    static func fields(_ reader: ObjectReader) throws -> (account: String, order: String, decision: String, comment: String?) {
        let account = try reader.string("account_id", maxLength: 64)
        let order = try reader.string("order_id", maxLength: 64)
        guard let decision = try reader.optionalChoice("decision", decisions) else {
            throw BillingError.invalid(.missingField, "request.decision is required (\(decisions.joined(separator: " or ")))")
        }
        return (account, order, decision, try reader.optionalString("comment", maxLength: 500))
    }
}

/// `billing_order_review` (T6, T7).
struct OrderReviewRequest: OrderDecisionRequest {
    static let decisions = ["APPROVE", "REJECT"]
    var accountID: String
    var orderID: String
    var decision: String
    var comment: String?
    var approve: Bool { decision == "APPROVE" }

    init(_ reader: ObjectReader) throws {
        (accountID, orderID, decision, comment) = try Self.fields(reader)
    }
}

/// `billing_order_confirm` (T8, T9).
struct OrderConfirmRequest: OrderDecisionRequest {
    static let decisions = ["CONFIRM", "DECLINE"]
    var accountID: String
    var orderID: String
    var decision: String
    var comment: String?
    var confirm: Bool { decision == "CONFIRM" }

    init(_ reader: ObjectReader) throws {
        (accountID, orderID, decision, comment) = try Self.fields(reader)
    }
}

/// `billing_order_get`: `{"account_id", "order_id"}`.
struct OrderDetailsRequest: RequestDocument {
    var accountID: String
    var orderID: String

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        orderID = try reader.string("order_id", maxLength: 64)
    }
}

/// `billing_orders_list`: the filter, a page and whether to count and group.
struct OrderListRequest: RequestDocument {
    var filter: OrderFilter
    var after: (created: Int64, sequence: Int64)?
    var limit: Int64
    var withCounts: Bool
    var groupCombined: Bool

    init(_ reader: ObjectReader) throws {
        let account = try reader.string("account_id", maxLength: 64)
        filter = try OrderFilter(reader, account: account)
        after = try Engine.pairCursor(reader)
        limit = try reader.optionalInt("limit", in: 1...100) ?? 20
        withCounts = try reader.optionalBool("with_counts") ?? false
        groupCombined = try reader.optionalBool("group_combined") ?? false
    }
}

/// `billing_order_pay` and `billing_order_payment_quote`: `{"account_id", "order_id", "coupon_ids"?}`.
struct OrderPayRequest: RequestDocument {
    var accountID: String
    var orderID: String
    var couponIDs: [String]

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        orderID = try reader.string("order_id", maxLength: 64)
        couponIDs = try Engine.couponIDs(reader)
    }
}

// MARK: - Responses

/// How a payment made with the operation went (auto-pay of a new order or a renewal).
enum PaymentOutcome {
    /// No payment was asked for (`"payment": null`).
    case notAttempted
    case succeeded
    /// Refused: the order stays pending payment and the host shows why.
    case failed(reason: String, message: String)

    var json: JSONValue {
        switch self {
        case .notAttempted: return .null
        case .succeeded: return ["succeeded": true]
        case .failed(let reason, let message): return ["succeeded": false, "reason": .string(reason), "message": .string(message)]
        }
    }
}

/// The answer of every operation that answers with an order: its details, with the payment
/// made along (create, renew) or the quote executed (unsubscribe) when there is one.
///
/// Written once, directly from the values at hand (`OrderDetail.write`), when it is made: an
/// order's amounts refuse to render a sum that overflows. `json`, the same document as a
/// tree, is built only when asked for.
struct OrderDetailResponse: ResponseDocument {
    let detail: OrderDetail
    let payment: PaymentOutcome?
    let quote: JSONValue?
    let calendar: BusinessCalendar
    let documentText: String

    init(_ detail: OrderDetail, payment: PaymentOutcome? = nil, quote: JSONValue? = nil, calendar: BusinessCalendar) throws {
        self.detail = detail
        self.payment = payment
        self.quote = quote
        self.calendar = calendar
        var writer = JSONWriter(capacity: 4096)
        writer.beginObject()
        writer.key("order")
        try detail.write(into: &writer, calendar: calendar)
        if let payment { writer.field("payment", payment.json) }
        if let quote { writer.field("quote", quote) }
        writer.field("schema_version", Engine.schemaVersion)
        writer.endObject()
        documentText = writer.text
    }

    var json: JSONValue {
        // The amounts were checked when the text was written, so building the tree cannot fail.
        guard case .object(var fields)? = try? detail.json(calendar) else { return .null }
        if let payment { fields["payment"] = payment.json }
        if let quote { fields["quote"] = quote }
        return .object(fields)
    }

    /// The details of an order as stored now.
    static func load(_ id: String, account: String, payment: PaymentOutcome? = nil, quote: JSONValue? = nil,
                     context: OperationContext) throws -> OrderDetailResponse {
        try OrderDetailResponse(try OrderDetail.load(id, account: account, context: context), payment: payment, quote: quote,
                                calendar: context.calendar)
    }
}

/// `billing_order_quote`: each item's lines and amounts, and the total.
struct OrderQuoteResponse: ResponseDocument {
    let json: JSONValue

    init(accountID: String, priced: [PricedItem], pricedAt: Int64) throws {
        let total = try OrderAmounts.total(priced.flatMap { $0.lines.map(\.amounts) })
        json = ["account_id": .string(accountID),
                "items": .array(try priced.map { ["product_id": .string($0.primary.id), "lines": .array(try $0.lines.map { try $0.json }),
                                                  "amounts": try OrderAmounts.total($0.lines.map(\.amounts)).json] }),
                "amounts": try total.json, "priced_at": .integer(pricedAt)]
    }
}

/// `billing_orders_cancel`: one result per order asked for.
struct OrderCancelResponse: ResponseDocument {
    enum Result {
        case cancelled(String)
        case refused(String, reason: String, message: String)

        var json: JSONValue {
            switch self {
            case .cancelled(let id): return ["order_id": .string(id), "cancelled": true]
            case .refused(let id, let reason, let message):
                return ["order_id": .string(id), "cancelled": false, "reason": .string(reason), "message": .string(message)]
            }
        }
    }

    var results: [Result]
    var json: JSONValue { ["results": .array(results.map(\.json))] }
}

/// `billing_orders_list`: a page of order rows (orders, or combined orders with their
/// matching sub-orders), its cursor and the status counts when asked for. Its text is
/// written directly from the orders read (`text()`); `json` is the same document as a tree.
struct OrderListResponse: ResponseDocument {
    /// A plain order, or a combined order with its matching sub-orders under "sub_orders".
    /// (A struct rather than an enum: the writer reads `order` in place, where a `switch`
    /// binding copied each order out, retaining and releasing every text of it.)
    struct Row {
        let order: Order
        /// The combined order's matching sub-orders; nil for a plain order.
        let subOrders: [Order]?

        static func order(_ order: Order) -> Row { Row(order: order, subOrders: nil) }
        static func combined(_ order: Order, subOrders: [Order]) -> Row { Row(order: order, subOrders: subOrders) }
    }

    let rows: [Row]
    let nextCursor: (created: Int64, sequence: Int64)?
    let hasMore: Bool
    /// The counts when asked for; nil leaves the key out (a `.null` would render it).
    let counts: JSONValue?
    let documentText: String

    /// Writes the text at once: an order's amounts refuse to render a sum that overflows.
    init(rows: [Row], nextCursor: (created: Int64, sequence: Int64)?, hasMore: Bool, counts: JSONValue?) throws {
        self.rows = rows
        self.nextCursor = nextCursor
        self.hasMore = hasMore
        self.counts = counts
        documentText = try OrderListResponse.text(rows: rows, cursor: nextCursor.map { "\($0.created):\($0.sequence)" },
                                                  hasMore: hasMore, counts: counts)
    }

    var json: JSONValue {
        let documents: [JSONValue] = rows.map { row in
            guard let subOrders = row.subOrders else { return (try? row.order.json) ?? .null }
            guard case .object(var fields)? = try? row.order.json else { return .null }
            fields["sub_orders"] = .array(subOrders.map { (try? $0.json) ?? .null })
            return .object(fields)
        }
        var document: [String: JSONValue] = ["orders": .array(documents), "next_cursor": JSONValue(cursorText), "has_more": .bool(hasMore)]
        if let counts { document["counts"] = counts }
        return .object(document)
    }

    private var cursorText: String? { nextCursor.map { "\($0.created):\($0.sequence)" } }

    /// The response's text with `schema_version`, written from the orders directly.
    private static func text(rows: [Row], cursor cursorText: String?, hasMore: Bool, counts: JSONValue?) throws -> String {
        var writer = JSONWriter(capacity: 1024 + 1024 * rows.count)
        writer.beginObject()
        if let counts { writer.field("counts", counts) }
        writer.field("has_more", hasMore)
        writer.field("next_cursor", cursorText)
        writer.key("orders")
        writer.beginArray()
        for index in rows.indices {
            writer.element()
            // Read in place through the index (a `for row in rows` copy retains each text).
            guard let subOrders = rows[index].subOrders else {
                try writer.writeOrder(rows[index].order)
                continue
            }
            writer.beginObject()
            try writer.writeOrderFields(rows[index].order, .beforeLines)
            try writer.writeOrderFields(rows[index].order, .beforePayments)
            try writer.writeOrderFields(rows[index].order, .beforeRefunds)
            try writer.writeOrderFields(rows[index].order, .beforeSubOrders)
            try writer.writeSubOrders(subOrders)
            try writer.writeOrderFields(rows[index].order, .afterSubOrders)
            writer.endObject()
        }
        writer.endArray()
        writer.field("schema_version", Engine.schemaVersion)
        writer.endObject()
        return writer.text
    }
}

/// `billing_order_payment_quote`: what paying the order with the chosen coupons would take.
struct OrderPaymentQuoteResponse: ResponseDocument {
    let json: JSONValue

    init(order: Order, amounts: OrderAmounts, coupons: [JSONValue], applicableCoupons: [JSONValue], payment: JSONValue,
         quotedAt: Int64) throws {
        json = ["quoted_at": .integer(quotedAt), "order_id": .string(order.id), "is_combined": .bool(order.isCombined),
                "pay_deadline": JSONValue(order.payDeadline),
                "amounts": try amounts.json, "coupons": .array(coupons),
                "applicable_coupons": .array(applicableCoupons), "payment": payment]
    }
}
