import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// An order's details (§3.7): `{"account_id", "order_id"}` → `{"order": {…, "lines",
    /// "sub_orders", "resources", "payments", "refunds"}}`. Another account's order is not found.
    public func orderDetails(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: { reader in
            (try reader.string("account_id", maxLength: 64), try reader.string("order_id", maxLength: 64))
        }) { context, input in
            try Engine.orderDetail(input.1, account: input.0, context: context)
        }
    }

    static func orderDetail(_ id: String, account: String, context: OperationContext) throws -> JSONValue {
        let order = try OrderStore.require(context.db, id, account: account)
        guard case .object(var fields) = try order.json else { return try order.json }
        let subOrders = order.isCombined ? try OrderStore.subOrders(context.db, of: order.id) : []
        let members = order.isCombined ? subOrders : [order]
        fields["sub_orders"] = .array(try subOrders.map { try $0.json })
        var lineDocuments: [JSONValue] = []
        var resources: [JSONValue] = []
        var payments: [String: Money] = [:]
        for member in members {
            let lines = try OrderStore.lines(context.db, of: member.id)
            for line in lines {
                guard case .object(var lineFields) = try line.json else { continue }
                lineFields["order_id"] = .string(member.id)
                lineDocuments.append(.object(lineFields))
            }
            // A NEW order's resources were created by it; a RENEW (or PREPAID_TO_ONDEMAND)
            // order's are the existing ones its lines name; an UNSUBSCRIBE order's are the
            // ones it gives money back for.
            var owned = try ResourceStore.ofOrder(context.db, member.id)
            let named = member.type == .unsubscribe ? try Engine.unsubscribedResourceIDs(of: member.id, context: context)
                                                    : lines.compactMap(\.resourceID)
            for id in named where !owned.contains(where: { $0.id == id }) {
                owned.append(try ResourceStore.require(context.db, id, account: account))
            }
            for resource in owned {
                resources.append(resource.json(context.calendar))
                for funding in try ResourceStore.funding(context.db, resource: resource.id, order: member.id) {
                    let key = "\(funding.source.rawValue)|\(funding.coupon ?? "")"
                    payments[key] = try (payments[key] ?? .zero).adding(funding.amount)
                }
            }
        }
        fields["lines"] = .array(lineDocuments)
        fields["resources"] = .array(resources)
        fields["payments"] = .array(payments.keys.sorted().map { key in
            let parts = key.split(separator: "|", omittingEmptySubsequences: false)
            return ["source": .string(String(parts[0])), "coupon_id": parts.count > 1 && !parts[1].isEmpty ? .string(String(parts[1])) : .null,
                    "amount_fen": .integer(payments[key]?.fen ?? 0)]
        })
        if order.type == .unsubscribe {
            // A combined unsubscription's shares are recorded on its sub-orders.
            var refunds: [JSONValue] = []
            for member in members {
                refunds += try RefundStore.sortedEntries(context.db, refundOrder: member.id).map { share -> JSONValue in
                    ["resource_id": .string(share.resource), "paid_by_order_id": .string(share.paidBy), "source": .string(share.source.rawValue),
                     "coupon_id": JSONValue(share.coupon), "amount_fen": .integer(share.amount.fen)]
                }
            }
            fields["refunds"] = .array(refunds)
        }
        return ["order": .object(fields)]
    }

    /// The order list (§3.8), newest first: `{"account_id", "order_id"?, "created_from"?,
    /// "created_to"? (a window of at most 366 days), "product_type"?, "order_type"?, "status"?,
    /// "billing_mode"? (each one value or a list of them), "after"?, "limit"?: 1–100,
    /// "with_counts"?: bool}` → `{"orders", "next_cursor", "has_more", "counts"?}`.
    /// Rows are plain orders and sub-orders; a combined order is reached through its
    /// sub-orders' `combined_order_id` or by asking for its id.
    public func listOrders(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: { reader -> (OrderFilter, (Int64, Int64)?, Int64, Bool, Bool) in
            let account = try reader.string("account_id", maxLength: 64)
            return (try OrderFilter(reader, account: account), try Engine.pairCursor(reader), try reader.optionalInt("limit", in: 1...100) ?? 20,
                    try reader.optionalBool("with_counts") ?? false, try reader.optionalBool("group_combined") ?? false)
        }) { context, input in
            if input.4 { return try Engine.groupedOrderPage(input.0, after: input.1, limit: input.2, counts: input.3, context: context) }
            let keys = try input.0.page(context.db, after: input.1, limit: input.2 + 1)
            let page = keys.prefix(Int(input.2))
            let orders = try page.map { try OrderStore.require(context.db, $0.id, account: input.0.account).json }
            var document: [String: JSONValue] = ["orders": .array(orders), "next_cursor": JSONValue(page.last.map { "\($0.created):\($0.sequence)" }),
                                                 "has_more": .bool(keys.count > page.count)]
            if input.3 { document["counts"] = try input.0.statusCounts(context.db) }
            return .object(document)
        }
    }

    /// The order list with each combined order as one row (`"group_combined": true`): the
    /// combined order's details with its matching sub-orders under "sub_orders", never cut
    /// across two pages. A combined order's sub-orders are created in one transaction, so they
    /// are neighbours in (created_at, seq) order and a page ends after the last of them; the
    /// cursor is that sub-order's key. Counts are of rows as shown: plain orders and combined
    /// orders (a combined order counts once per status its matching sub-orders are in).
    static func groupedOrderPage(_ filter: OrderFilter, after cursor: (Int64, Int64)?, limit: Int64, counts: Bool,
                                 context: OperationContext) throws -> JSONValue {
        var groups: [(combined: String?, members: [(id: String, created: Int64, sequence: Int64)])] = []
        var position = cursor
        var more = false
        reading: while true {
            let keys = try filter.page(context.db, after: position, limit: 200, withCombined: true)
            for key in keys {
                if let combined = key.combined, let last = groups.last, last.combined == combined {
                    groups[groups.count - 1].members.append((key.id, key.created, key.sequence))
                    continue
                }
                if groups.count == Int(limit) {
                    more = true
                    break reading
                }
                groups.append((key.combined, [(key.id, key.created, key.sequence)]))
            }
            guard keys.count == 200, let last = keys.last else { break }
            position = (last.created, last.sequence)
        }
        let rows: [JSONValue] = try groups.map { group in
            guard let combined = group.combined else {
                return try OrderStore.require(context.db, group.members[0].id, account: filter.account).json
            }
            let row = try OrderStore.require(context.db, combined, account: filter.account).json
            guard case .object(var fields) = row else { return row }  // an order's document is always an object
            fields["sub_orders"] = .array(try group.members.map { try OrderStore.require(context.db, $0.id, account: filter.account).json })
            return .object(fields)
        }
        let last = groups.last?.members.last
        var document: [String: JSONValue] = ["orders": .array(rows), "next_cursor": JSONValue(last.map { "\($0.created):\($0.sequence)" }),
                                             "has_more": .bool(more)]
        if counts { document["counts"] = try filter.statusCounts(context.db, grouped: true) }
        return .object(document)
    }

    /// Reads an "after" cursor of the form "<number>:<number>".
    static func pairCursor(_ reader: ObjectReader) throws -> (Int64, Int64)? {
        guard let cursor = try reader.optionalString("after", maxLength: 64) else { return nil }
        let parts = cursor.split(separator: ":")
        guard parts.count == 2, let first = Int64(parts[0]), let second = Int64(parts[1]) else {
            throw BillingError.invalid("invalid_cursor", "request.after must be a cursor returned as next_cursor")
        }
        return (first, second)
    }
}

/// Reading the order-list filters from a request and writing them back (stored with an export).
extension OrderFilter {
    init(_ reader: ObjectReader, account: String) throws {
        self.init(account: account)
        orderID = try reader.optionalString("order_id", maxLength: 64)
        from = try reader.optionalInstant("created_from")
        to = try reader.optionalInstant("created_to")
        if let from, let to {
            guard to >= from, to - from <= 366 * 86_400 else {
                throw BillingError.invalid("invalid_window", "created_from … created_to must be a window of at most one year")
            }
        }
        let allowed: [String: [String]] = ["order_type": OrderType.allCases.map(\.rawValue), "status": OrderStatus.allCases.map(\.rawValue),
                                           "billing_mode": BillingMode.allCases.map(\.rawValue)]
        for key in OrderFilter.keys {
            if let values = try reader.optionalChoices(key, allowed[key]) { filters.append((key, values)) }
        }
    }

    /// The filter as a request document (stored with an export, read back by `init`): one
    /// value as a string, several as an array.
    var json: JSONValue {
        var fields: [String: JSONValue] = ["order_id": JSONValue(orderID), "created_from": JSONValue(from), "created_to": JSONValue(to)]
        for key in OrderFilter.keys {
            guard let values = filters.first(where: { $0.key == key })?.values else { continue }
            fields[key] = values.count == 1 ? .string(values[0]) : .array(values.map { .string($0) })
        }
        return .object(fields)
    }

    /// Keys of the matching orders, newest first, after a (created_at, seq) cursor.
    func page(_ db: Connection, after cursor: (Int64, Int64)?, limit: Int64) throws -> [(id: String, created: Int64, sequence: Int64)] {
        try OrderStore.page(db, self, after: cursor, limit: limit)
    }

    /// The same keys with each sub-order's combined order (read only when asked for).
    func page(_ db: Connection, after cursor: (Int64, Int64)?, limit: Int64,
              withCombined: Bool) throws -> [(id: String, created: Int64, sequence: Int64, combined: String?)] {
        try OrderStore.page(db, self, after: cursor, limit: limit, withCombined: withCombined)
    }

    /// How many orders match.
    func count(_ db: Connection) throws -> Int64 { try OrderStore.count(db, self) }

    /// The status tabs' totals (§3.8 "My orders", "Pending payment"): every other filter
    /// applies, the status filter does not; `ALL` is every status. One grouped read of the
    /// account's rows through `orders_by_status`, whatever the page.
    func statusCounts(_ db: Connection, grouped: Bool = false) throws -> JSONValue {
        var counts: [String: JSONValue] = Dictionary(uniqueKeysWithValues: OrderStatus.allCases.map { ($0.rawValue, JSONValue.integer(0)) })
        var total: Int64 = 0
        for (status, count) in try OrderStore.statusCounts(db, self, grouped: grouped) {
            counts[status] = .integer(count)
            total += count
        }
        if grouped {
            // ALL counts each combined order once even when its sub-orders differ in status.
            total = try OrderStore.count(db, self, grouped: true, skipping: "status")
        }
        counts["ALL"] = .integer(total)
        return .object(counts)
    }
}
