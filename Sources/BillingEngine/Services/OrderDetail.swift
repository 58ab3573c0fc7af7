import BillingDomain
import BillingDocuments
import BillingStorage

// The document of one order (§3.7) that every operation returning an order answers with: the
// order details query, creation, payment, renewal, review and unsubscription (rendered by
// `OrderDetailResponse`).

/// An order's details as every order operation answers them (§3.7): the order, its
/// sub-orders, lines, resources, what paid for them and, for an unsubscription, its refund
/// shares.
struct OrderDetail {
    var order: Order
    var subOrders: [Order]
    /// Every line of the order (of each sub-order, in turn, for a combined order).
    var lines: [OrderLine]
    var resources: [Resource]
    /// The funding of the resources under this order, summed per source and coupon.
    var payments: [(source: String, coupon: String?, amount: Money)]
    /// The refund shares of an UNSUBSCRIBE order; nil for other orders.
    var refunds: [RefundEntry]?

    /// An order just created and not paid: nothing but its rows, which are at hand.
    static func unpaid(_ order: Order, subOrders: [Order], lines: [OrderLine]) -> OrderDetail {
        OrderDetail(order: order, subOrders: subOrders, lines: lines, resources: [], payments: [], refunds: nil)
    }

    /// Reads an order's details (another account's order is not found).
    static func load(_ id: String, account: String, context: OperationContext) throws -> OrderDetail {
        let order = try OrderStore.require(context.db, id, account: account)
        let subOrders = order.isCombined ? try OrderStore.subOrders(context.db, of: order.id) : []
        return try load(order, subOrders: subOrders, context: context)
    }

    /// Reads the rest of an order's details for the order (and a combined order's
    /// sub-orders, in their stored order) at hand, as just written: the order rows are not
    /// read again; lines, resources and funding are.
    static func load(_ order: Order, subOrders: [Order], context: OperationContext) throws -> OrderDetail {
        let account = order.accountID
        let members = order.isCombined ? subOrders : [order]
        var allLines: [OrderLine] = []
        var resources: [Resource] = []
        var payments: [String: Money] = [:]
        for member in members {
            let lines = try OrderStore.lines(context.db, of: member.id)
            allLines += lines
            // A NEW order's resources were created by it; a RENEW (or PREPAID_TO_ONDEMAND)
            // order's are the existing ones its lines name; an UNSUBSCRIBE order's are the
            // ones it gives money back for.
            var owned = try ResourceStore.ofOrder(context.db, member.id)
            let named = member.type == .unsubscribe ? try UnsubscriptionRecords.unsubscribedResourceIDs(of: member.id, context: context)
                                                    : lines.compactMap(\.resourceID)
            for id in named where !owned.contains(where: { $0.id == id }) {
                owned.append(try ResourceStore.require(context.db, id, account: account))
            }
            for resource in owned {
                resources.append(resource)
                for funding in try ResourceStore.funding(context.db, resource: resource.id, order: member.id) {
                    let key = fundingKey(source: funding.source.rawValue, coupon: funding.coupon)
                    payments[key] = try (payments[key] ?? .zero).adding(funding.amount)
                }
            }
        }
        var refunds: [RefundEntry]?
        if order.type == .unsubscribe {
            // A combined unsubscription's shares are recorded on its sub-orders.
            refunds = try members.flatMap { try RefundStore.sortedEntries(context.db, refundOrder: $0.id) }
        }
        return OrderDetail(order: order, subOrders: subOrders, lines: allLines, resources: resources, payments: fundingSums(payments),
                           refunds: refunds)
    }

    /// The key funding is summed under: source and coupon (a coupon stored as "" reads as none).
    static func fundingKey(source: String, coupon: String?) -> String { "\(source)|\(coupon ?? "")" }

    /// Funding summed per `fundingKey`, as the answer lists it: by key.
    static func fundingSums(_ payments: [String: Money]) -> [(source: String, coupon: String?, amount: Money)] {
        payments.keys.sorted().map { key -> (source: String, coupon: String?, amount: Money) in
            let parts = key.split(separator: "|", omittingEmptySubsequences: false)
            return (String(parts[0]), parts.count > 1 && !parts[1].isEmpty ? String(parts[1]) : nil, payments[key] ?? .zero)
        }
    }

    /// `{"order": {…, "sub_orders", "lines", "resources", "payments", "refunds"?}}`.
    func json(_ calendar: BusinessCalendar) throws -> JSONValue {
        guard case .object(var fields) = try order.json else { return try order.json }
        fields["sub_orders"] = .array(try subOrders.map { try $0.json })
        fields["lines"] = .array(try lines.compactMap { line -> JSONValue? in
            guard case .object(var lineFields) = try line.json else { return nil }
            lineFields["order_id"] = .string(line.orderID)
            return .object(lineFields)
        })
        fields["resources"] = .array(resources.map { $0.json(calendar) })
        fields["payments"] = .array(payments.map { ["source": .string($0.source), "coupon_id": JSONValue($0.coupon), "amount_fen": .integer($0.amount.fen)] })
        if let refunds {
            fields["refunds"] = .array(refunds.map { share -> JSONValue in
                ["resource_id": .string(share.resource), "paid_by_order_id": .string(share.paidBy), "source": .string(share.source.rawValue),
                 "coupon_id": JSONValue(share.coupon), "amount_fen": .integer(share.amount.fen)]
            })
        }
        return ["order": .object(fields)]
    }

    /// Writes `json(calendar)`'s `"order"` object directly, keys in the writer's order
    /// (`OrderDocumentWritingTests` compares the bytes with the tree's).
    func write(into writer: inout JSONWriter, calendar: BusinessCalendar) throws {
        writer.beginObject()
        try writer.writeOrderFields(order, .beforeLines)
        writer.key("lines")
        writer.beginArray()
        for line in lines {
            writer.element()
            // A snapshot's shown part is written once per distinct snapshot text.
            let shown = line.productText.text.map { SnapshotCache.shared.shown($0, line.product, write: JSONWriter.shownSnapshot) }
            try writer.writeLine(line, withOrderID: true, shownProduct: shown)
        }
        writer.endArray()
        try writer.writeOrderFields(order, .beforePayments)
        writer.key("payments")
        writer.beginArray()
        for payment in payments {
            writer.element()
            writer.beginObject()
            writer.field("amount_fen", payment.amount.fen)
            writer.field("coupon_id", payment.coupon)
            writer.field("source", payment.source)
            writer.endObject()
        }
        writer.endArray()
        try writer.writeOrderFields(order, .beforeRefunds)
        if let refunds {
            writer.key("refunds")
            writer.beginArray()
            for share in refunds {
                writer.element()
                writer.beginObject()
                writer.field("amount_fen", share.amount.fen)
                writer.field("coupon_id", share.coupon)
                writer.field("paid_by_order_id", share.paidBy)
                writer.field("resource_id", share.resource)
                writer.field("source", share.source.rawValue)
                writer.endObject()
            }
            writer.endArray()
        }
        writer.key("resources")
        writer.beginArray()
        for resource in resources {
            writer.element()
            writer.writeResource(resource, calendar: calendar)
        }
        writer.endArray()
        try writer.writeOrderFields(order, .beforeSubOrders)
        try writer.writeSubOrders(subOrders)
        try writer.writeOrderFields(order, .afterSubOrders)
        writer.endObject()
    }
}
