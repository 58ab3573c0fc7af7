extension Engine {
    /// The renewal-management view (§4.6, §3.8): primary yearly/monthly resources of one policy
    /// tab, soonest expiry first: `{"account_id", "tab": "MANUAL"|"AUTO_RENEW"|"TO_ON_DEMAND"|
    /// "NO_RENEW", "expire_from"?, "expire_to"?, "resource_id"?, "order_id"?, "status"?
    /// ("IN_USE"|"EXPIRED"|"FROZEN"), "hide_pending_orders"?: bool, "after"?, "limit"?: 1–100}`
    /// → `{"resources": [{…, "bound_resources", "pending_order_id"}], "next_cursor", "has_more"}`.
    public func listRenewals(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: { reader -> (RenewalFilter, (Int64, Int64)?, Int64) in
            let account = try reader.string("account_id", maxLength: 64)
            return (try RenewalFilter(reader, account: account), try Engine.pairCursor(reader), try reader.optionalInt("limit", in: 1...100) ?? 20)
        }) { context, input in
            let keys = try input.0.page(context.db, after: input.1, limit: input.2 + 1)
            let page = keys.prefix(Int(input.2))
            let rows: [JSONValue] = try page.map { key in
                let resource = try ResourceStore.require(context.db, key.id, account: input.0.account)
                guard case .object(var fields) = resource.json(context.calendar) else { return .null }
                fields["bound_resources"] = .array(try ResourceStore.bound(context.db, to: resource.id).map { $0.json(context.calendar) })
                fields["pending_order_id"] = JSONValue(try ResourceStore.openOrder(context.db, of: resource.id))
                return .object(fields)
            }
            return ["resources": .array(rows), "next_cursor": JSONValue(page.last.map { "\($0.expiry):\($0.sequence)" }),
                    "has_more": .bool(keys.count > page.count)]
        }
    }
}

/// The filters of the renewal view, shared by the view and the renewal-list exports.
struct RenewalFilter {
    var account: String
    var tab: String
    var from: Int64?
    var to: Int64?
    var resource: String?
    var order: String?
    var status: String?
    var hidePending: Bool

    init(_ reader: ObjectReader, account: String) throws {
        self.account = account
        guard let tab = try reader.optionalChoice("tab", ExpiryPolicy.allCases.map(\.rawValue)) else {
            throw BillingError.invalid("missing_field", "request.tab is required (MANUAL, AUTO_RENEW, TO_ON_DEMAND or NO_RENEW)")
        }
        self.tab = tab
        from = try reader.optionalInstant("expire_from")
        to = try reader.optionalInstant("expire_to")
        resource = try reader.optionalString("resource_id", maxLength: 64)
        order = try reader.optionalString("order_id", maxLength: 64)
        status = try reader.optionalChoice("status", ["IN_USE", "EXPIRED", "FROZEN"])
        hidePending = try reader.optionalBool("hide_pending_orders") ?? false
    }

    /// The filter as a request document (stored with an export, read back by `init`).
    var json: JSONValue {
        ["tab": .string(tab), "expire_from": JSONValue(from), "expire_to": JSONValue(to), "resource_id": JSONValue(resource),
         "order_id": JSONValue(order), "status": JSONValue(status), "hide_pending_orders": .bool(hidePending)]
    }

    private func conditions() -> ([String], [SQLiteBindable]) {
        var conditions = ["account_id = ?", "expiry_policy = ?", "billing_mode = 'PREPAID'", "primary_id IS NULL",
                          "status IN ('IN_USE', 'EXPIRED', 'FROZEN')"]
        var arguments: [SQLiteBindable] = [account, tab]
        if let from { conditions.append("expire_at >= ?"); arguments.append(from) }
        if let to { conditions.append("expire_at <= ?"); arguments.append(to) }
        if let resource { conditions.append("id = ?"); arguments.append(resource) }
        if let status { conditions.append("status = ?"); arguments.append(status) }
        if let order {
            // A combined order's id finds the resources of its sub-orders too.
            conditions.append("""
                (order_id IN (SELECT id FROM orders WHERE id = ? OR combined_id = ?) OR id IN (SELECT resource_id FROM order_lines
                    WHERE order_id IN (SELECT id FROM orders WHERE id = ? OR combined_id = ?) AND resource_id IS NOT NULL))
                """)
            arguments += [order, order, order, order]
        }
        if hidePending { conditions.append("id NOT IN (SELECT resource_id FROM resource_open_orders)") }
        return (conditions, arguments)
    }

    /// Keys of the matching resources, soonest expiry first, after an (expire_at, seq) cursor.
    func page(_ db: Connection, after cursor: (Int64, Int64)?, limit: Int64) throws -> [(id: String, expiry: Int64, sequence: Int64)] {
        var (conditions, arguments) = self.conditions()
        if let cursor { conditions.append("(expire_at, seq) > (?, ?)"); arguments += [cursor.0, cursor.1] }
        arguments.append(limit)
        var keys: [(String, Int64, Int64)] = []
        try db.forEach("SELECT id, expire_at, seq FROM resources WHERE \(conditions.joined(separator: " AND ")) ORDER BY expire_at, seq LIMIT ?",
                       arguments) { keys.append(($0.text(0), $0.int(1), $0.int(2))) }
        return keys.map { (id: $0.0, expiry: $0.1, sequence: $0.2) }
    }

    /// How many resources match.
    func count(_ db: Connection) throws -> Int64 {
        let (conditions, arguments) = self.conditions()
        var total: Int64 = 0
        try db.forEach("SELECT count(*) FROM resources WHERE \(conditions.joined(separator: " AND "))", arguments) { total = $0.int(0) }
        return total
    }
}
