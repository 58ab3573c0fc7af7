import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// A page of the event outbox: `{"after": cursor?, "limit": 1–1000?, "account_id": …?,
    /// "from"?: "start" | "end"}` → `{"events": […], "next_cursor": "…", "has_more": bool}`.
    /// Pass `next_cursor` back as `after` to continue; when no new event exists it comes back
    /// unchanged. `"from": "end"` returns no events and the outbox's current end, so a host
    /// that starts listening now skips the history instead of paging through it.
    public func listEvents(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: { reader -> (PageRequest, Bool) in
            let page = try PageRequest(reader)
            let fromEnd = try reader.optionalChoice("from", ["start", "end"]) == "end"
            if fromEnd && page.hasCursor {
                throw BillingError.invalid("conflicting_fields", "request.from \"end\" starts at the end; it cannot be given with request.after")
            }
            return (page, fromEnd)
        }) { context, input in
            let (page, fromEnd) = input
            if fromEnd {
                // The end of the whole outbox, whatever the account filter: cursors are sequence
                // numbers shared by every filter, and a later page filters from there.
                return ["events": .array([]), "next_cursor": .string(String(try EventLog.end(context.db))), "has_more": false]
            }
            let rows = try EventLog.page(context.db, after: page.after, limit: page.limit + 1, account: page.account)
            return page.document(rows, itemsKey: "events", sequenceKey: "seq")
        }
    }

    /// A page of the audit log, paged like `listEvents`.
    public func listAudit(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: PageRequest.init) { context, page in
            let rows = try AuditLog.page(context.db, after: page.after, limit: page.limit + 1, account: page.account)
            return page.document(rows, itemsKey: "entries", sequenceKey: "id")
        }
    }
}

/// A keyset page request over a sequence column; the cursor is the last sequence seen.
struct PageRequest {
    let after: Int64
    let limit: Int64
    let account: String?
    /// Whether the request named a cursor.
    let hasCursor: Bool

    init(_ reader: ObjectReader) throws {
        if let cursor = try reader.optionalString("after", maxLength: 32) {
            guard let value = Int64(cursor), value >= 0 else {
                throw BillingError.invalid("invalid_cursor", "request.after must be a cursor returned as next_cursor")
            }
            after = value
            hasCursor = true
        } else {
            after = 0
            hasCursor = false
        }
        limit = try reader.optionalInt("limit", in: 1...1000) ?? 100
        account = try reader.optionalString("account_id", maxLength: 64)
    }

    /// The page document; `rows` holds up to `limit + 1` rows, the extra one only telling that
    /// more exist.
    func document(_ rows: [JSONValue], itemsKey: String, sequenceKey: String) -> JSONValue {
        let page = Array(rows.prefix(Int(limit)))
        var last = after
        if case .object(let fields)? = page.last, case .integer(let sequence)? = fields[sequenceKey] { last = sequence }
        return [itemsKey: .array(page), "next_cursor": .string(String(last)), "has_more": .bool(rows.count > page.count)]
    }
}
