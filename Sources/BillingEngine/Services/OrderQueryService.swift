import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// An order's details (§3.7): `{"account_id", "order_id"}` → `{"order": {…, "lines",
    /// "sub_orders", "resources", "payments", "refunds"}}`. Another account's order is not found.
    public func orderDetails(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: OrderDetailsRequest.init) { context, input in
            try OrderDetailResponse.load(input.orderID, account: input.accountID, context: context)
        }
    }

    /// The order list (§3.8), newest first: `{"account_id", "order_id"?, "created_from"?,
    /// "created_to"? (a window of at most 366 days), "product_type"?, "order_type"?, "status"?,
    /// "billing_mode"? (each one value or a list of them), "after"?, "limit"?: 1–100,
    /// "with_counts"?: bool}` → `{"orders", "next_cursor", "has_more", "counts"?}`.
    /// Rows are plain orders and sub-orders; a combined order is reached through its
    /// sub-orders' `combined_order_id` or by asking for its id.
    public func listOrders(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: OrderListRequest.init) { context, input in
            if input.groupCombined {
                return try Engine.groupedOrderPage(input.filter, after: input.after, limit: input.limit, counts: input.withCounts, context: context)
            }
            // One statement reads the page's whole rows and one more, for has_more (that one
            // is counted, not decoded); each order goes straight into the answer's rows.
            var rows: [OrderListResponse.Row] = []
            rows.reserveCapacity(Int(input.limit))
            var read: Int64 = 0
            var cursor: (Int64, Int64)?
            try OrderStore.pageRows(context.db, input.filter, after: input.after, limit: input.limit + 1) { row in
                read += 1
                guard read <= input.limit else { return }
                let order = try OrderStore.decode(row)
                cursor = (order.createdAt, row.int(OrderStore.sequenceColumn))
                rows.append(.order(order))
            }
            return try OrderListResponse(rows: rows, nextCursor: cursor, hasMore: read > input.limit,
                                         counts: input.withCounts ? .some(try input.filter.statusCounts(context.db)) : .none)
        }
    }

    /// The order list with each combined order as one row (`"group_combined": true`): the
    /// combined order's details with its matching sub-orders under "sub_orders", never cut
    /// across two pages. A combined order's sub-orders are created in one transaction, so they
    /// are neighbours in (created_at, seq) order and a page ends after the last of them; the
    /// cursor is that sub-order's key. Counts are of rows as shown: plain orders and combined
    /// orders (a combined order counts once per status its matching sub-orders are in).
    static func groupedOrderPage(_ filter: OrderFilter, after cursor: (Int64, Int64)?, limit: Int64, counts: Bool,
                                 context: OperationContext) throws -> OrderListResponse {
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
        let rows: [OrderListResponse.Row] = try groups.map { group in
            guard let combined = group.combined else {
                return .order(try OrderStore.require(context.db, group.members[0].id, account: filter.account))
            }
            return .combined(try OrderStore.require(context.db, combined, account: filter.account),
                             subOrders: try group.members.map { try OrderStore.require(context.db, $0.id, account: filter.account) })
        }
        let last = groups.last?.members.last
        return try OrderListResponse(rows: rows, nextCursor: last.map { ($0.created, $0.sequence) }, hasMore: more,
                                 counts: counts ? .some(try filter.statusCounts(context.db, grouped: true)) : .none)
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
                throw BillingError.invalid(.invalidWindow, "created_from … created_to must be a window of at most one year")
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
