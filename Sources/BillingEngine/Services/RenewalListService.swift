extension Engine {
    /// The renewal-management view (§4.6, §3.8): primary yearly/monthly resources of one policy
    /// tab, soonest expiry first: `{"account_id", "tab": "MANUAL"|"AUTO_RENEW"|"TO_ON_DEMAND"|
    /// "NO_RENEW", "expire_from"?, "expire_to"?, "resource_id"?, "order_id"?, "status"?
    /// ("IN_USE"|"EXPIRED"|"FROZEN"), "hide_pending_orders"?: bool, "after"?, "limit"?: 1–100}`
    /// → `{"resources": [{…, "bound_resources", "pending_order_id"}], "next_cursor", "has_more"}`.
    public func listRenewals(_ requestJSON: String?) throws -> String {
        struct Input {
            var account: String
            var tab: String
            var from: Int64?
            var to: Int64?
            var resource: String?
            var order: String?
            var status: String?
            var hidePending: Bool
            var cursor: (Int64, Int64)?
            var limit: Int64
        }
        return try query(requestJSON, parse: { reader in
            let account = try reader.string("account_id", maxLength: 64)
            guard let tab = try reader.optionalChoice("tab", ExpiryPolicy.allCases.map(\.rawValue)) else {
                throw BillingError.invalid("missing_field", "request.tab is required (MANUAL, AUTO_RENEW, TO_ON_DEMAND or NO_RENEW)")
            }
            var input = Input(account: account, tab: tab, from: try reader.optionalInstant("expire_from"), to: try reader.optionalInstant("expire_to"),
                              resource: try reader.optionalString("resource_id", maxLength: 64), order: try reader.optionalString("order_id", maxLength: 64),
                              status: try reader.optionalChoice("status", ["IN_USE", "EXPIRED", "FROZEN"]),
                              hidePending: try reader.optionalBool("hide_pending_orders") ?? false, cursor: nil,
                              limit: try reader.optionalInt("limit", in: 1...100) ?? 20)
            if let cursor = try reader.optionalString("after", maxLength: 64) {
                let parts = cursor.split(separator: ":")
                guard parts.count == 2, let expiry = Int64(parts[0]), let sequence = Int64(parts[1]) else {
                    throw BillingError.invalid("invalid_cursor", "request.after must be a cursor returned as next_cursor")
                }
                input.cursor = (expiry, sequence)
            }
            return input
        }) { context, input in
            var conditions = ["account_id = ?", "expiry_policy = ?", "billing_mode = 'PREPAID'", "primary_id IS NULL",
                              "status IN ('IN_USE', 'EXPIRED', 'FROZEN')"]
            var arguments: [SQLiteBindable] = [input.account, input.tab]
            if let from = input.from { conditions.append("expire_at >= ?"); arguments.append(from) }
            if let to = input.to { conditions.append("expire_at <= ?"); arguments.append(to) }
            if let id = input.resource { conditions.append("id = ?"); arguments.append(id) }
            if let status = input.status { conditions.append("status = ?"); arguments.append(status) }
            if let order = input.order {
                // A combined order's id finds the resources of its sub-orders too.
                conditions.append("""
                    (order_id IN (SELECT id FROM orders WHERE id = ? OR combined_id = ?) OR id IN (SELECT resource_id FROM order_lines
                        WHERE order_id IN (SELECT id FROM orders WHERE id = ? OR combined_id = ?) AND resource_id IS NOT NULL))
                    """)
                arguments += [order, order, order, order]
            }
            if input.hidePending { conditions.append("id NOT IN (SELECT resource_id FROM resource_open_orders)") }
            if let cursor = input.cursor { conditions.append("(expire_at, seq) > (?, ?)"); arguments += [cursor.0, cursor.1] }
            arguments.append(input.limit + 1)
            var keys: [(String, Int64, Int64)] = []
            try context.db.forEach("""
                SELECT id, expire_at, seq FROM resources WHERE \(conditions.joined(separator: " AND "))
                ORDER BY expire_at, seq LIMIT ?
                """, arguments) { keys.append(($0.text(0), $0.int(1), $0.int(2))) }
            let page = keys.prefix(Int(input.limit))
            let rows: [JSONValue] = try page.map { key in
                let resource = try ResourceStore.require(context.db, key.0, account: input.account)
                guard case .object(var fields) = resource.json(context.calendar) else { return .null }
                fields["bound_resources"] = .array(try ResourceStore.bound(context.db, to: resource.id).map { $0.json(context.calendar) })
                fields["pending_order_id"] = JSONValue(try ResourceStore.openOrder(context.db, of: resource.id))
                return .object(fields)
            }
            return ["resources": .array(rows), "next_cursor": JSONValue(page.last.map { "\($0.1):\($0.2)" }),
                    "has_more": .bool(keys.count > page.count)]
        }
    }
}
