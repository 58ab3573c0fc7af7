import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// The unsubscription page's tabs (§5, §9.1, §5.8): the account's live resources, newest
    /// purchase first, each with the class and reason `billing_refund_quote` gives it when quoted
    /// alone: `{"account_id", "type"?: "RESOURCE" | "RENEWAL_ONLY", "class"?: one or several of
    /// "REFUNDABLE", "NOT_ALLOWED", "FIVE_DAY", "NON_FIVE_DAY", "RENEWAL_ONLY", "INACTIVE",
    /// "resource_ids"? (up to 200), "product_type"? (one or several), "after"?, "limit"?: 1–100,
    /// "with_counts"?: bool}` → `{"resources": [{…resource, "resource_ids", "class", "reason",
    /// "message", "refund_fen"}], "next_cursor", "has_more", "counts"?}`.
    public func listUnsubscriptions(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: { reader -> (UnsubscriptionFilter, Int64?, Int64, Bool) in
            let filter = try UnsubscriptionFilter(reader)
            return (filter, try Engine.rowCursor(reader), try reader.optionalInt("limit", in: 1...100) ?? 20,
                    try reader.optionalBool("with_counts") ?? false)
        }) { context, input in
            let (filter, after, limit, withCounts) = input
            _ = try AccountStore.require(context.db, filter.account)
            // The class is worked out, not stored, so the class filter applies to what the keyset
            // read returns: a page reads at most `scanBudget` resources and may come back short
            // while `has_more` is true; the cursor still moves past everything read.
            var rows: [JSONValue] = []
            var cursor = after ?? Int64.max
            var scanned: Int64 = 0
            reading: while rows.count < Int(limit) && scanned < UnsubscriptionFilter.scanBudget {
                let chunk = try filter.candidates(context.db, before: cursor, limit: min(100, UnsubscriptionFilter.scanBudget - scanned))
                if chunk.isEmpty { break }
                for (id, sequence) in chunk {
                    scanned += 1
                    cursor = sequence
                    let (resource, group) = try Engine.unsubscriptionClass(of: id, filter: filter, context: context)
                    if filter.matches(group.refundClass) { rows.append(try Engine.unsubscriptionRow(resource, group, context: context)) }
                    if rows.count == Int(limit) { break reading }
                }
            }
            let more = try !filter.candidates(context.db, before: cursor, limit: 1).isEmpty
            var document: [String: JSONValue] = [
                "resources": .array(rows), "has_more": .bool(more),
                "next_cursor": cursor == Int64.max ? .null : .string(String(cursor)),
            ]
            if withCounts { document["counts"] = try filter.classCounts(context) }
            return .object(document)
        }
    }

    /// The class a quote of this resource alone gives it (the same `planRefund`, so the list never
    /// disagrees with a quote or an unsubscription made at the same instant).
    static func unsubscriptionClass(of id: String, filter: UnsubscriptionFilter, context: OperationContext) throws -> (Resource, RefundGroup) {
        let resource = try ResourceStore.require(context.db, id, account: filter.account)
        do {
            let plan = try planRefund(account: filter.account, resourceIDs: [id], type: filter.type, fallback: nil, context: context)
            if let group = plan.groups.first { return (resource, group) }
        } catch let error as BillingError where error.reason == "invalid_fallback_expiry" {
            // Only a RENEWAL_ONLY quote without a period that can stay refuses its own defaults;
            // the quote would refuse it, so the list shows it as not allowed, with the reason why.
            return (resource, RefundGroup(primary: resource, members: [resource], refundClass: .notAllowed, reason: .noInactivePeriod,
                                          message: error.message))
        }
        return (resource, RefundGroup(primary: resource, members: [resource], refundClass: .notAllowed, reason: .ended, message: nil))
    }

    /// One row of the list: the resource, its group, class, reason and the refund a quote of it
    /// alone gives now.
    static func unsubscriptionRow(_ resource: Resource, _ group: RefundGroup, context: OperationContext) throws -> JSONValue {
        guard case .object(var fields) = resource.json(context.calendar) else { return .null }
        fields["resource_ids"] = .array(group.members.map { .string($0.id) })
        fields["class"] = .string(group.refundClass.rawValue)
        fields["reason"] = JSONValue(group.reason?.rawValue)
        fields["message"] = JSONValue(group.message)
        fields["refund_fen"] = .integer(try group.refund.fen)
        return .object(fields)
    }

    /// Reads `after` of a list paged by a row's sequence number (the unsubscription and
    /// resource lists): a positive integer as the last page's `next_cursor` gave it.
    static func rowCursor(_ reader: ObjectReader) throws -> Int64? {
        guard let cursor = try reader.optionalString("after", maxLength: 32) else { return nil }
        guard let value = Int64(cursor), value > 0 else {
            throw BillingError.invalid("invalid_cursor", "request.after must be a cursor returned as next_cursor")
        }
        return value
    }
}

/// The filters of the unsubscription list: the tab (class) and the others (type, instances,
/// product types), which the counts respect as well.
struct UnsubscriptionFilter {
    /// Resources a page classifies at most (each a few indexed reads).
    static let scanBudget: Int64 = 1000
    /// Every class the list can show (FAILED_CREATION resources were refunded when they failed
    /// and are not live), and the tab of those that can be unsubscribed.
    static let classes: [RefundClass] = [.fiveDay, .nonFiveDay, .renewalOnly, .inactive, .notAllowed]
    static let refundable = "REFUNDABLE"

    var account: String
    var type: String
    /// The classes asked for (nil: all).
    var classes: Set<RefundClass>?
    var resources: [String]?
    var productTypes: [String]?

    init(_ reader: ObjectReader) throws {
        account = try reader.string("account_id", maxLength: 64)
        type = try reader.optionalChoice("type", ["RESOURCE", "RENEWAL_ONLY"]) ?? "RESOURCE"
        if let names = try reader.optionalChoices("class", [UnsubscriptionFilter.refundable] + UnsubscriptionFilter.classes.map(\.rawValue)) {
            classes = Set(names.flatMap { name -> [RefundClass] in
                name == UnsubscriptionFilter.refundable
                    ? UnsubscriptionFilter.classes.filter { $0 != .notAllowed } : RefundClass(rawValue: name).map { [$0] } ?? []
            })
        }
        resources = try reader.optionalChoices("resource_ids", nil, maxCount: RenewalFilter.maximumResourceIDs)
        productTypes = try reader.optionalChoices("product_type", nil)
    }

    func matches(_ refundClass: RefundClass) -> Bool { classes?.contains(refundClass) ?? true }

    /// Live resources of the account matching the non-tab filters, newest first, before a
    /// `seq` cursor (see `ResourceStore.liveCandidates`).
    func candidates(_ db: Connection, before cursor: Int64, limit: Int64) throws -> [(String, Int64)] {
        try ResourceStore.liveCandidates(db, account: account, ids: resources, productTypes: productTypes, before: cursor, limit: limit)
    }

    /// The tabs' totals: every live resource of the account that the non-tab filters keep is
    /// classified once; `ALL` counts them all and `REFUNDABLE` those that can be unsubscribed.
    func classCounts(_ context: OperationContext) throws -> JSONValue {
        var counts: [String: Int64] = Dictionary(uniqueKeysWithValues: UnsubscriptionFilter.classes.map { ($0.rawValue, 0) })
        var all: Int64 = 0
        var cursor = Int64.max
        while true {
            let chunk = try candidates(context.db, before: cursor, limit: 500)
            for (id, sequence) in chunk {
                cursor = sequence
                let (_, group) = try Engine.unsubscriptionClass(of: id, filter: self, context: context)
                counts[group.refundClass.rawValue, default: 0] += 1
                all += 1
            }
            if chunk.count < 500 { break }
        }
        var document = counts.mapValues { JSONValue.integer($0) }
        document["ALL"] = .integer(all)
        document[UnsubscriptionFilter.refundable] = .integer(all - (counts[RefundClass.notAllowed.rawValue] ?? 0))
        return .object(document)
    }
}
