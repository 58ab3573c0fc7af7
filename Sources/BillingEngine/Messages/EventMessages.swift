import BillingDomain
import BillingDocuments

/// The requests and responses of the event outbox and the audit log listings.

/// `billing_events_list`: `{"after"?, "limit"?, "account_id"?, "from"?: "start" | "end"}`.
struct EventListRequest: RequestDocument {
    let page: PageRequest
    /// `"from": "end"`: no events, only the outbox's current end.
    let fromEnd: Bool

    init(_ reader: ObjectReader) throws {
        page = try PageRequest(reader)
        fromEnd = try reader.optionalChoice("from", ["start", "end"]) == "end"
        if fromEnd && page.hasCursor {
            throw BillingError.invalid(.conflictingFields, "request.from \"end\" starts at the end; it cannot be given with request.after")
        }
    }
}

/// `{"events", "next_cursor", "has_more"}`: a page of events, or the end of the outbox.
enum EventPageResponse: ResponseDocument {
    case page(SequencePageResponse)
    /// No events; the cursor is the outbox's current end.
    case end(Int64)

    var json: JSONValue {
        switch self {
        case .page(let page): page.json
        case .end(let end): ["events": .array([]), "next_cursor": .string(String(end)), "has_more": false]
        }
    }
}
