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
    /// "billing_mode"? (each one value or a list of them), "after"?, "limit"?: 1–100,
    /// "with_counts"?: bool}` → `{"orders", "next_cursor", "has_more", "counts"?}`.
    /// Rows are plain orders and sub-orders; a combined order is reached through its
    /// sub-orders' `combined_order_id` or by asking for its id.
    public func listOrders(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: { reader -> (OrderFilter, (Int64, Int64)?, Int64, Bool) in
            let account = try reader.string("account_id", maxLength: 64)
            return (try OrderFilter(reader, account: account), try Engine.pairCursor(reader), try reader.optionalInt("limit", in: 1...100) ?? 20,
                    try reader.optionalBool("with_counts") ?? false)
        }) { context, input in
            let keys = try input.0.page(context.db, after: input.1, limit: input.2 + 1)
            let page = keys.prefix(Int(input.2))
            let orders = try page.map { try OrderStore.require(context.db, $0.id, account: input.0.account).json }
            var document: [String: JSONValue] = ["orders": .array(orders), "next_cursor": JSONValue(page.last.map { "\($0.created):\($0.sequence)" }),
                                                 "has_more": .bool(keys.count > page.count)]
            if input.3 { document["counts"] = try input.0.statusCounts(context.db) }
            return .object(document)
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

/// The filters of the order list (§3.8), shared by the list, its counts and its export.
struct OrderFilter {
    var account: String
    var orderID: String?
    var from: Int64?
    var to: Int64?
    /// Column and accepted values: each filter takes one value or several (any of them).
    var filters: [(column: String, values: [String])] = []

    /// The request keys of the filters that take values, with their columns.
    private static let keys = [("product_type", "product_type"), ("order_type", "type"), ("status", "status"), ("billing_mode", "billing_mode")]

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
        let allowed: [String: [String]] = ["order_type": OrderType.allCases.map(\.rawValue), "status": OrderStatus.allCases.map(\.rawValue),
                                           "billing_mode": BillingMode.allCases.map(\.rawValue)]
        for (key, column) in OrderFilter.keys {
            if let values = try reader.optionalChoices(key, allowed[key]) { filters.append((column, values)) }
        }
    }

    /// The filter as a request document (stored with an export, read back by `init`): one
    /// value as a string, several as an array.
    var json: JSONValue {
        var fields: [String: JSONValue] = ["order_id": JSONValue(orderID), "created_from": JSONValue(from), "created_to": JSONValue(to)]
        for (key, column) in OrderFilter.keys {
            guard let values = filters.first(where: { $0.column == column })?.values else { continue }
            fields[key] = values.count == 1 ? .string(values[0]) : .array(values.map { .string($0) })
        }
        return .object(fields)
    }

    /// The WHERE conditions, leaving out the filter on `skipping` (the column counted by tab).
    private func conditions(skipping: String? = nil) -> ([String], [SQLiteBindable]) {
        var conditions = ["account_id = ?", "is_combined = 0"]
        var arguments: [SQLiteBindable] = [account]
        for (column, values) in filters where column != skipping {
            conditions.append(values.count == 1 ? "\(column) = ?" : "\(column) IN (\(Array(repeating: "?", count: values.count).joined(separator: ", ")))")
            arguments += values.map { $0 as SQLiteBindable }
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

    /// The status tabs' totals (§3.8 "My orders", "Pending payment"): every other filter
    /// applies, the status filter does not; `ALL` is every status. One grouped read of the
    /// account's rows through `orders_by_status`, whatever the page.
    func statusCounts(_ db: Connection) throws -> JSONValue {
        let (conditions, arguments) = self.conditions(skipping: "status")
        var counts: [String: JSONValue] = Dictionary(uniqueKeysWithValues: OrderStatus.allCases.map { ($0.rawValue, JSONValue.integer(0)) })
        var total: Int64 = 0
        try db.forEach("SELECT status, count(*) FROM orders WHERE \(conditions.joined(separator: " AND ")) GROUP BY status", arguments) { row in
            counts[row.text(0)] = .integer(row.int(1))
            total += row.int(1)
        }
        counts["ALL"] = .integer(total)
        return .object(counts)
    }
}
