import BillingDomain
import BillingDocuments

// The typed requests and responses of unsubscription: the refund quote, the unsubscription
// itself, the host's refund blocks and the unsubscription list. Each request reads every field
// it accepts in the order (and with the checks) the operation always has; each response renders
// the document the operation always answered.

// MARK: - Requests

/// `billing_refund_quote`: `{"account_id", "resource_ids", "type"?: "RESOURCE" |
/// "RENEWAL_ONLY", "fallback_expiry"?}`.
struct RefundQuoteRequest: RequestDocument {
    var accountID: String
    var resourceIDs: [String]
    var type: String
    var fallbackExpiry: Int64?

    init(_ reader: ObjectReader) throws {
        (accountID, resourceIDs, type, fallbackExpiry) = try Engine.refundRequest(reader)
    }
}

/// `billing_resources_unsubscribe`: the quote's request plus `"quote_id"`?, `"reason_type"`?
/// 1–5 and `"reason"`?.
struct UnsubscribeRequest: RequestDocument {
    var quote: RefundQuoteRequest
    var quoteID: String?
    var reasonType: Int64?
    var reason: String?

    init(_ reader: ObjectReader) throws {
        quote = try RefundQuoteRequest(reader)
        quoteID = try reader.optionalString("quote_id", maxLength: 64)
        reasonType = try reader.optionalInt("reason_type", in: 1...5)
        reason = try reader.optionalString("reason", maxLength: 500)
    }
}

/// `billing_resource_refund_blocks`: `{"account_id", "resource_id", "blocks": [...]}`.
struct RefundBlocksRequest: RequestDocument {
    /// The §5.8 reasons only the host knows.
    static let allowed = [NotRefundableReason.invoicedMarketplace, .archived, .supportBenefitUsed].map(\.rawValue)

    var accountID: String
    var resourceID: String
    /// Each block once, sorted.
    var blocks: [String]

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        resourceID = try reader.string("resource_id", maxLength: 64)
        guard let values = try reader.optionalArray("blocks", maxCount: 3) else {
            throw BillingError.invalid(.missingField, "request.blocks is required (an empty list clears them)")
        }
        let allowed = RefundBlocksRequest.allowed
        let blocks = try values.enumerated().map { index, value -> String in
            guard case .string(let block) = value, allowed.contains(block) else {
                throw BillingError.invalid(.unknownValue, "request.blocks[\(index)] must be one of \(allowed.joined(separator: ", "))")
            }
            return block
        }
        self.blocks = Array(Set(blocks)).sorted()
    }
}

/// `billing_unsubscriptions_list`: the filter, a page and whether to count.
struct UnsubscriptionListRequest: RequestDocument {
    var filter: UnsubscriptionFilter
    var after: Int64?
    var limit: Int64
    var withCounts: Bool

    init(_ reader: ObjectReader) throws {
        filter = try UnsubscriptionFilter(reader)
        after = try Engine.rowCursor(reader)
        limit = try reader.optionalInt("limit", in: 1...100) ?? 20
        withCounts = try reader.optionalBool("with_counts") ?? false
    }
}

// MARK: - Responses

/// The refund quote: each resource's class and breakdown, with the `quote_id` naming the
/// state it was computed on.
struct RefundQuoteResponse: ResponseDocument {
    let json: JSONValue

    init(_ plan: RefundPlan, context: OperationContext) throws {
        json = try Engine.planDocument(plan, context: context)
    }

    /// The digest an unsubscription given this quote's id must reproduce.
    var quoteID: JSONValue? {
        guard case .object(let fields) = json else { return nil }
        return fields["quote_id"]
    }
}

/// `billing_resource_refund_blocks`: the resource and its blocks as now set.
struct RefundBlocksResponse: ResponseDocument {
    var resourceID: String
    var blocks: [String]

    var blocksJSON: JSONValue { .array(blocks.map { .string($0) }) }
    var json: JSONValue { ["resource_id": .string(resourceID), "blocks": blocksJSON] }
}

/// `billing_unsubscriptions_list`: a page of live resources, each with the class a quote of it
/// alone gives it.
struct UnsubscriptionListResponse: ResponseDocument {
    let json: JSONValue

    init(rows: [(resource: Resource, group: RefundGroup)], nextCursor: Int64?, hasMore: Bool, counts: JSONValue?,
         context: OperationContext) throws {
        var document: [String: JSONValue] = [
            "resources": .array(try rows.map { try Engine.unsubscriptionRow($0.resource, $0.group, context: context) }),
            "has_more": .bool(hasMore), "next_cursor": nextCursor.map { .string(String($0)) } ?? .null,
        ]
        if let counts { document["counts"] = counts }
        json = .object(document)
    }
}
