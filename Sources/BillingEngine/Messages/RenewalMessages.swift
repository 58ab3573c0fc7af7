import BillingDomain
import BillingDocuments
import BillingStorage

// The typed requests and responses of renewals: renew, the renewal quote and the renewal
// view. Each request reads every field it accepts in the order (and with the checks) the
// operation always has; each response renders the document the operation always answered.

// MARK: - Requests

/// `billing_resources_renew`: `{"account_id", "resource_ids", "period"?, "unified_expiry"?,
/// "auto_pay"?, "coupon_ids"?}`.
struct RenewalRequest: RequestDocument {
    var accountID: String
    var resourceIDs: [String]
    var period: Period?
    var unifiedExpiry: Bool
    var autoPay: Bool
    var couponIDs: [String]

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        resourceIDs = try Engine.resourceIDs(reader, maximum: Int(Configuration.maxBatchRenewLimit))
        period = try Engine.period(reader, "period")
        unifiedExpiry = try reader.optionalBool("unified_expiry") ?? false
        autoPay = try reader.optionalBool("auto_pay") ?? false
        couponIDs = try Engine.couponIDs(reader)
    }
}

/// `billing_renewal_quote`: the renewal's request without `auto_pay`.
struct RenewalQuoteRequest: RequestDocument {
    var accountID: String
    var resourceIDs: [String]
    var period: Period?
    var unifiedExpiry: Bool
    var couponIDs: [String]

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        resourceIDs = try Engine.resourceIDs(reader, maximum: Int(Configuration.maxBatchRenewLimit))
        period = try Engine.period(reader, "period")
        unifiedExpiry = try reader.optionalBool("unified_expiry") ?? false
        couponIDs = try Engine.couponIDs(reader)
    }
}

/// `billing_renewals_list`: the filter of one policy tab, a page and whether to count.
struct RenewalListRequest: RequestDocument {
    var filter: RenewalFilter
    var after: (expiry: Int64, sequence: Int64)?
    var limit: Int64
    var withCounts: Bool

    init(_ reader: ObjectReader) throws {
        let account = try reader.string("account_id", maxLength: 64)
        filter = try RenewalFilter(reader, account: account)
        after = try Engine.pairCursor(reader)
        limit = try reader.optionalInt("limit", in: 1...100) ?? 20
        withCounts = try reader.optionalBool("with_counts") ?? false
    }
}

// MARK: - Responses

/// `billing_renewal_quote`: what the renewal would charge, line by line, and how its payment
/// would go.
struct RenewalQuoteResponse: ResponseDocument {
    let json: JSONValue

    /// `lines` are the RENEW order's lines as the payment would leave them.
    init(period: Period, unifiedExpiry: Bool, lines: [OrderLine], coupons: [JSONValue], applicableCoupons: [JSONValue],
         payment: JSONValue, quotedAt: Int64, calendar: BusinessCalendar) throws {
        let resources: [JSONValue] = try lines.map { line in
            let primary = line.parentLine.flatMap { parent in lines.first { $0.orderID == line.orderID && $0.lineNo == parent }?.resourceID }
            return ["resource_id": JSONValue(line.resourceID), "primary_resource_id": JSONValue(primary), "product_id": .string(line.productID),
                    "product_type": .string(line.productType), "expire_at": JSONValue(line.renewFrom), "new_expire_at": JSONValue(line.renewTo),
                    "new_expire_at_local": line.renewTo.map { .string(calendar.iso8601($0)) } ?? .null,
                    "amounts": try line.amounts.json]
        }
        json = ["quoted_at": .integer(quotedAt), "period": ["unit": .string(period.unit.rawValue), "count": .integer(period.count)],
                "unified_expiry": .bool(unifiedExpiry), "resources": .array(resources),
                "amounts": try OrderAmounts.total(lines.map(\.amounts)).json, "coupons": .array(coupons),
                "applicable_coupons": .array(applicableCoupons), "payment": payment]
    }
}

/// `billing_renewals_list`: a page of primary resources with their bound resources and the
/// order each waits on.
struct RenewalListResponse: ResponseDocument {
    struct Row {
        var resource: Resource
        var bound: [Resource]
        var pendingOrderID: String?
    }

    var rows: [Row]
    var nextCursor: (expiry: Int64, sequence: Int64)?
    var hasMore: Bool
    /// The counts when asked for; nil leaves the key out (a `.null` would render it).
    var counts: JSONValue?
    var calendar: BusinessCalendar

    var json: JSONValue {
        let resources: [JSONValue] = rows.map { row in
            guard case .object(var fields) = row.resource.json(calendar) else { return .null }
            fields["bound_resources"] = .array(row.bound.map { $0.json(calendar) })
            fields["pending_order_id"] = JSONValue(row.pendingOrderID)
            return .object(fields)
        }
        var document: [String: JSONValue] = ["resources": .array(resources), "next_cursor": JSONValue(nextCursor.map { "\($0.expiry):\($0.sequence)" }),
                                             "has_more": .bool(hasMore)]
        if let counts { document["counts"] = counts }
        return .object(document)
    }
}
