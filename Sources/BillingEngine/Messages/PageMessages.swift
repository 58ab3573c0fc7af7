import BillingDomain
import BillingDocuments

/// Keyset pages over a sequence column (the ledger, the event outbox, the audit log, coupons,
/// packages): the request's cursor and limit, and the page document.

/// A keyset page request over a sequence column; the cursor is the last sequence seen.
struct PageRequest: RequestDocument {
    let after: Int64
    let limit: Int64
    let account: String?
    /// Whether the request named a cursor.
    let hasCursor: Bool

    init(_ reader: ObjectReader) throws {
        if let cursor = try reader.optionalString("after", maxLength: 32) {
            guard let value = Int64(cursor), value >= 0 else {
                throw BillingError.invalid(.invalidCursor, "request.after must be a cursor returned as next_cursor")
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

/// `{items, "next_cursor", "has_more"}` for a page read by a `PageRequest`.
struct SequencePageResponse: ResponseDocument {
    let page: PageRequest
    /// Up to `limit + 1` rows, the extra one only telling that more exist.
    let rows: [JSONValue]
    /// The key of the list ("entries", "events").
    let itemsKey: String
    /// The field of a row that holds its sequence (the next cursor).
    let sequenceKey: String

    var json: JSONValue { page.document(rows, itemsKey: itemsKey, sequenceKey: sequenceKey) }
}
