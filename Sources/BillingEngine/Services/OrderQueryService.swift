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
        var lineDocuments: [JSONValue] = []
        var resources: [JSONValue] = []
        var payments: [String: Money] = [:]
        for member in members {
            let lines = try OrderStore.lines(context.db, of: member.id)
            for line in lines {
                guard case .object(var lineFields) = line.json else { continue }
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
                refunds += try context.db.all("""
                    SELECT resource_id, order_id, source, coupon_id, amount FROM resource_refunds WHERE refund_order_id = ?
                    ORDER BY resource_id, source, coupon_id
                    """, member.id) { row -> JSONValue in
                    ["resource_id": .string(row.text(0)), "paid_by_order_id": .string(row.text(1)), "source": .string(row.text(2)),
                     "coupon_id": row.text(3).isEmpty ? .null : .string(row.text(3)), "amount_fen": .integer(row.int(4))]
                }
            }
            fields["refunds"] = .array(refunds)
        }
        return ["order": .object(fields)]
    }

    /// The order list (§3.8), newest first: `{"account_id", "order_id"?, "created_from"?,
    /// "created_to"? (a window of at most 366 days), "product_type"?, "order_type"?, "status"?,
    /// "billing_mode"?, "after"?, "limit"?: 1–100}` → `{"orders", "next_cursor", "has_more"}`.
    /// Rows are plain orders and sub-orders; a combined order is reached through its
    /// sub-orders' `combined_order_id` or by asking for its id.
    public func listOrders(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: { reader -> (OrderFilter, (Int64, Int64)?, Int64) in
            let account = try reader.string("account_id", maxLength: 64)
            return (try OrderFilter(reader, account: account), try Engine.pairCursor(reader), try reader.optionalInt("limit", in: 1...100) ?? 20)
        }) { context, input in
            let keys = try input.0.page(context.db, after: input.1, limit: input.2 + 1)
            let page = keys.prefix(Int(input.2))
            let orders = try page.map { try OrderStore.require(context.db, $0.id, account: input.0.account).json }
            return ["orders": .array(orders), "next_cursor": JSONValue(page.last.map { "\($0.created):\($0.sequence)" }),
                    "has_more": .bool(keys.count > page.count)]
        }
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

/// The filters of the order list (§3.8), shared by the list and its export.
struct OrderFilter {
    var account: String
    var orderID: String?
    var from: Int64?
    var to: Int64?
    var filters: [(String, String)] = []

    init(_ reader: ObjectReader, account: String) throws {
        self.account = account
        orderID = try reader.optionalString("order_id", maxLength: 64)
        from = try reader.optionalInstant("created_from")
        to = try reader.optionalInstant("created_to")
        if let from, let to {
            guard to >= from, to - from <= 366 * 86_400 else {
                throw BillingError.invalid("invalid_window", "created_from … created_to must be a window of at most one year")
            }
        }
        if let type = try reader.optionalChoice("product_type", nil) { filters.append(("product_type", type)) }
        if let type = try reader.optionalChoice("order_type", OrderType.allCases.map(\.rawValue)) { filters.append(("type", type)) }
        if let status = try reader.optionalChoice("status", OrderStatus.allCases.map(\.rawValue)) { filters.append(("status", status)) }
        if let mode = try reader.optionalChoice("billing_mode", BillingMode.allCases.map(\.rawValue)) { filters.append(("billing_mode", mode)) }
    }

    /// The filter as a request document (stored with an export, read back by `init`).
    var json: JSONValue {
        var fields: [String: JSONValue] = ["order_id": JSONValue(orderID), "created_from": JSONValue(from), "created_to": JSONValue(to)]
        for (column, value) in filters {
            fields[column == "type" ? "order_type" : column] = .string(value)
        }
        return .object(fields)
    }

    private func conditions() -> ([String], [SQLiteBindable]) {
        var conditions = ["account_id = ?", "is_combined = 0"]
        var arguments: [SQLiteBindable] = [account]
        for (column, value) in filters {
            conditions.append("\(column) = ?")
            arguments.append(value)
        }
        if let id = orderID {
            conditions.append("(id = ? OR combined_id = ?)")
            arguments += [id, id]
        }
        if let from { conditions.append("created_at >= ?"); arguments.append(from) }
        if let to { conditions.append("created_at <= ?"); arguments.append(to) }
        return (conditions, arguments)
    }

    /// Keys of the matching orders, newest first, after a (created_at, seq) cursor.
    func page(_ db: Connection, after cursor: (Int64, Int64)?, limit: Int64) throws -> [(id: String, created: Int64, sequence: Int64)] {
        var (conditions, arguments) = self.conditions()
        if let cursor { conditions.append("(created_at, seq) < (?, ?)"); arguments += [cursor.0, cursor.1] }
        arguments.append(limit)
        var keys: [(String, Int64, Int64)] = []
        try db.forEach("SELECT id, created_at, seq FROM orders WHERE \(conditions.joined(separator: " AND ")) ORDER BY created_at DESC, seq DESC LIMIT ?",
                       arguments) { keys.append(($0.text(0), $0.int(1), $0.int(2))) }
        return keys.map { (id: $0.0, created: $0.1, sequence: $0.2) }
    }

    /// How many orders match.
    func count(_ db: Connection) throws -> Int64 {
        let (conditions, arguments) = self.conditions()
        var total: Int64 = 0
        try db.forEach("SELECT count(*) FROM orders WHERE \(conditions.joined(separator: " AND "))", arguments) { total = $0.int(0) }
        return total
    }
}
