import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// The renewal-management view (§4.6, §3.8): primary yearly/monthly resources of one policy
    /// tab (or ALL of them), soonest expiry first: `{"account_id", "tab": "ALL"|"MANUAL"|
    /// "AUTO_RENEW"|"TO_ON_DEMAND"|"NO_RENEW", "expire_from"?, "expire_to"?, "resource_id"?,
    /// "resource_ids"? (up to 200), "order_id"?, "status"? ("IN_USE"|"EXPIRED"|"FROZEN"),
    /// "hide_pending_orders"?: bool, "after"?, "limit"?: 1–100, "with_counts"?: bool}` →
    /// `{"resources": [{…, "bound_resources", "pending_order_id"}], "next_cursor", "has_more", "counts"?}`.
    public func listRenewals(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: { reader -> (RenewalFilter, (Int64, Int64)?, Int64, Bool) in
            let account = try reader.string("account_id", maxLength: 64)
            return (try RenewalFilter(reader, account: account), try Engine.pairCursor(reader), try reader.optionalInt("limit", in: 1...100) ?? 20,
                    try reader.optionalBool("with_counts") ?? false)
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
            var document: [String: JSONValue] = ["resources": .array(rows), "next_cursor": JSONValue(page.last.map { "\($0.expiry):\($0.sequence)" }),
                                                 "has_more": .bool(keys.count > page.count)]
            if input.3 { document["counts"] = try input.0.tabCounts(context.db) }
            return .object(document)
        }
    }
}

/// Reading the renewal-view filters from a request and writing them back (stored with an export).
extension RenewalFilter {
    init(_ reader: ObjectReader, account: String) throws {
        guard let tab = try reader.optionalChoice("tab", ["ALL"] + ExpiryPolicy.allCases.map(\.rawValue)) else {
            throw BillingError.invalid("missing_field", "request.tab is required (ALL, MANUAL, AUTO_RENEW, TO_ON_DEMAND or NO_RENEW)")
        }
        self.init(account: account, tab: tab)
        from = try reader.optionalInstant("expire_from")
        to = try reader.optionalInstant("expire_to")
        let single = try reader.optionalString("resource_id", maxLength: 64)
        let several = try reader.optionalChoices("resource_ids", nil, maxCount: RenewalFilter.maximumResourceIDs)
        if single != nil || several != nil {
            let all = (single.map { [$0] } ?? []) + (several ?? []).filter { $0 != single }
            guard all.count <= RenewalFilter.maximumResourceIDs else {
                throw BillingError.invalid("too_many_items", "resource_id and resource_ids together may name at most \(RenewalFilter.maximumResourceIDs) instances")
            }
            resources = all
        }
        order = try reader.optionalString("order_id", maxLength: 64)
        status = try reader.optionalChoice("status", ["IN_USE", "EXPIRED", "FROZEN"])
        hidePending = try reader.optionalBool("hide_pending_orders") ?? false
    }

    /// The filter as a request document (stored with an export, read back by `init`).
    var json: JSONValue {
        ["tab": .string(tab), "expire_from": JSONValue(from), "expire_to": JSONValue(to),
         "resource_ids": resources.map { .array($0.map { .string($0) }) } ?? .null,
         "order_id": JSONValue(order), "status": JSONValue(status), "hide_pending_orders": .bool(hidePending)]
    }

    /// Keys of the matching resources, soonest expiry first, after an (expire_at, seq) cursor.
    func page(_ db: Connection, after cursor: (Int64, Int64)?, limit: Int64) throws -> [(id: String, expiry: Int64, sequence: Int64)] {
        try ResourceStore.page(db, self, after: cursor, limit: limit)
    }

    /// How many resources match.
    func count(_ db: Connection) throws -> Int64 { try ResourceStore.count(db, self) }

    /// The tabs' totals (§4.6): every filter but the tab applies; `ALL` is every policy.
    func tabCounts(_ db: Connection) throws -> JSONValue {
        var counts: [String: JSONValue] = Dictionary(uniqueKeysWithValues: ExpiryPolicy.allCases.map { ($0.rawValue, JSONValue.integer(0)) })
        var total: Int64 = 0
        for (policy, count) in try ResourceStore.policyCounts(db, self) {
            counts[policy] = .integer(count)
            total += count
        }
        counts["ALL"] = .integer(total)
        return .object(counts)
    }
}
