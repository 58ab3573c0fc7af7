import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// A page of the event outbox: `{"after": cursor?, "limit": 1–1000?, "account_id": …?,
    /// "from"?: "start" | "end"}` → `{"events": […], "next_cursor": "…", "has_more": bool}`.
    /// Pass `next_cursor` back as `after` to continue; when no new event exists it comes back
    /// unchanged. `"from": "end"` returns no events and the outbox's current end, so a host
    /// that starts listening now skips the history instead of paging through it.
    /// Cursors are outbox positions (EventLog): on a backend whose writers run at once, the
    /// events committed since the last read are first given theirs, in a short transaction of
    /// its own, so that the page and `"from": "end"` see every event that committed before the
    /// call and no later event can take a position below the cursor handed out.
    public func listEvents(_ requestJSON: String?) throws -> String {
        try lock.withLock { try EventLog.seal(db) }
        return try query(requestJSON, parse: EventListRequest.init) { context, input -> EventPageResponse in
            let (page, fromEnd) = (input.page, input.fromEnd)
            if fromEnd {
                // The end of the whole outbox, whatever the account filter: cursors are outbox
                // positions shared by every filter, and a later page filters from there.
                return .end(try EventLog.end(context.db))
            }
            let rows = try EventLog.page(context.db, after: page.after, limit: page.limit + 1, account: page.account)
            return .page(SequencePageResponse(page: page, rows: rows, itemsKey: "events", sequenceKey: "seq"))
        }
    }

    /// A page of the audit log, paged like `listEvents`.
    public func listAudit(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: PageRequest.init) { context, page -> SequencePageResponse in
            let rows = try AuditLog.page(context.db, after: page.after, limit: page.limit + 1, account: page.account)
            return SequencePageResponse(page: page, rows: rows, itemsKey: "entries", sequenceKey: "id")
        }
    }
}
