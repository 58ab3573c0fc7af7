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
        guard case .object(var fields) = order.json else { return order.json }
        let subOrders = order.isCombined ? try OrderStore.subOrders(context.db, of: order.id) : []
        let members = order.isCombined ? subOrders : [order]
        fields["sub_orders"] = .array(subOrders.map(\.json))
        fields["lines"] = .array(try members.flatMap { member in
            try OrderStore.lines(context.db, of: member.id).map { line -> JSONValue in
                guard case .object(var lineFields) = line.json else { return line.json }
                lineFields["order_id"] = .string(member.id)
                return .object(lineFields)
            }
        })
        var resources: [JSONValue] = []
        var payments: [String: Int64] = [:]
        for member in members {
            for resource in try ResourceStore.ofOrder(context.db, member.id) {
                resources.append(resource.json(context.calendar))
                for funding in try ResourceStore.funding(context.db, resource: resource.id, order: member.id) {
                    payments["\(funding.source.rawValue)|\(funding.coupon ?? "")", default: 0] += funding.amount.fen
                }
            }
        }
        fields["resources"] = .array(resources)
        fields["payments"] = .array(payments.keys.sorted().map { key in
            let parts = key.split(separator: "|", omittingEmptySubsequences: false)
            return ["source": .string(String(parts[0])), "coupon_id": parts.count > 1 && !parts[1].isEmpty ? .string(String(parts[1])) : .null,
                    "amount_fen": .integer(payments[key] ?? 0)]
        })
        if order.type == .unsubscribe {
            fields["refunds"] = .array(try context.db.all("""
                SELECT resource_id, order_id, source, coupon_id, amount FROM resource_refunds WHERE refund_order_id = ?
                ORDER BY resource_id, source, coupon_id
                """, order.id) { row in
                ["resource_id": .string(row.text(0)), "paid_by_order_id": .string(row.text(1)), "source": .string(row.text(2)),
                 "coupon_id": row.text(3).isEmpty ? .null : .string(row.text(3)), "amount_fen": .integer(row.int(4))]
            })
        }
        return ["order": .object(fields)]
    }

    /// The order list (§3.8), newest first: `{"account_id", "order_id"?, "created_from"?,
    /// "created_to"? (a window of at most 366 days), "product_type"?, "order_type"?, "status"?,
    /// "billing_mode"?, "after"?, "limit"?: 1–100}` → `{"orders", "next_cursor", "has_more"}`.
    /// Rows are plain orders and sub-orders; a combined order is reached through its
    /// sub-orders' `combined_order_id` or by asking for its id.
    public func listOrders(_ requestJSON: String?) throws -> String {
        struct Input {
            var account: String
            var orderID: String?
            var from: Int64?
            var to: Int64?
            var filters: [(String, String)]
            var cursor: (Int64, Int64)?
            var limit: Int64
        }
        return try query(requestJSON, parse: { reader in
            var input = Input(account: try reader.string("account_id", maxLength: 64), orderID: try reader.optionalString("order_id", maxLength: 64),
                              from: try reader.optionalInstant("created_from"), to: try reader.optionalInstant("created_to"),
                              filters: [], cursor: nil, limit: try reader.optionalInt("limit", in: 1...100) ?? 20)
            if let from = input.from, let to = input.to {
                guard to >= from, to - from <= 366 * 86_400 else {
                    throw BillingError.invalid("invalid_window", "created_from … created_to must be a window of at most one year")
                }
            }
            if let type = try reader.optionalChoice("product_type", nil) { input.filters.append(("product_type", type)) }
            if let type = try reader.optionalChoice("order_type", OrderType.allCases.map(\.rawValue)) { input.filters.append(("type", type)) }
            if let status = try reader.optionalChoice("status", OrderStatus.allCases.map(\.rawValue)) { input.filters.append(("status", status)) }
            if let mode = try reader.optionalChoice("billing_mode", BillingMode.allCases.map(\.rawValue)) { input.filters.append(("billing_mode", mode)) }
            if let cursor = try reader.optionalString("after", maxLength: 64) {
                let parts = cursor.split(separator: ":")
                guard parts.count == 2, let created = Int64(parts[0]), let sequence = Int64(parts[1]) else {
                    throw BillingError.invalid("invalid_cursor", "request.after must be a cursor returned as next_cursor")
                }
                input.cursor = (created, sequence)
            }
            return input
        }) { context, input in
            var conditions = ["account_id = ?", "is_combined = 0"]
            var arguments: [SQLiteBindable] = [input.account]
            for (column, value) in input.filters.prefix(1) {
                conditions.append("\(column) = ?")
                arguments.append(value)
            }
            if let id = input.orderID {
                conditions.append("(id = ? OR combined_id = ?)")
                arguments += [id, id]
            }
            for (column, value) in input.filters.dropFirst() {
                conditions.append("\(column) = ?")
                arguments.append(value)
            }
            if let from = input.from { conditions.append("created_at >= ?"); arguments.append(from) }
            if let to = input.to { conditions.append("created_at <= ?"); arguments.append(to) }
            if let cursor = input.cursor { conditions.append("(created_at, seq) < (?, ?)"); arguments += [cursor.0, cursor.1] }
            arguments.append(input.limit + 1)
            let sql = "SELECT id, created_at, seq FROM orders WHERE \(conditions.joined(separator: " AND ")) ORDER BY created_at DESC, seq DESC LIMIT ?"
            var keys: [(String, Int64, Int64)] = []
            try context.db.forEach(sql, arguments) { row in keys.append((row.text(0), row.int(1), row.int(2))) }
            let page = keys.prefix(Int(input.limit))
            let orders = try page.map { try OrderStore.require(context.db, $0.0, account: input.account).json }
            let next = page.last.map { "\($0.1):\($0.2)" }
            return ["orders": .array(orders), "next_cursor": JSONValue(next), "has_more": .bool(keys.count > page.count)]
        }
    }
}
