import BillingDomain
import BillingDocuments

/// What refund orders give back: one share per (resource, paying order, source, coupon), each
/// refundable once (a unique constraint, so recording a share also reserves it while a review
/// is pending), and the decision each unsubscription stored for when it completes.
package enum RefundStore {
    private static func entry(_ row: Row, _ refundOrder: String) throws -> RefundEntry {
        RefundEntry(resource: row.text(0), paidBy: row.text(1),
                    source: try StoredValue.choice(row.optionalText(2), "funding source of refund order \(refundOrder)"),
                    coupon: row.text(3).isEmpty ? nil : row.text(3), amount: Money(fen: row.int(4)))
    }

    /// Records (and so reserves) one share of a refund order; a share already refunded is a
    /// conflict error.
    package static func reserve(_ db: Connection, _ entry: RefundEntry, refundOrder: String) throws {
        // Not a failing INSERT: on PostgreSQL a failed statement aborts the whole transaction,
        // and the caller turns this conflict into a refusal.
        let inserted = try db.run("""
            INSERT INTO resource_refunds (resource_id, order_id, source, coupon_id, refund_order_id, amount) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (resource_id, order_id, source, coupon_id) DO NOTHING
            """, entry.resource, entry.paidBy, entry.source.rawValue, entry.coupon ?? "", refundOrder, entry.amount)
        if inserted == 0 {
            throw BillingError(.constraintViolation, "the share of resource \(entry.resource) paid by order \(entry.paidBy) was refunded already")
        }
    }

    /// The shares of a refund order, as recorded.
    package static func entries(_ db: Connection, refundOrder: String) throws -> [RefundEntry] {
        try db.all("SELECT resource_id, order_id, source, coupon_id, amount FROM resource_refunds WHERE refund_order_id = ?", refundOrder) {
            try entry($0, refundOrder)
        }
    }

    /// The shares of a refund order by resource, source and coupon (the order's details).
    package static func sortedEntries(_ db: Connection, refundOrder: String) throws -> [RefundEntry] {
        try db.all("""
            SELECT resource_id, order_id, source, coupon_id, amount FROM resource_refunds WHERE refund_order_id = ?
            ORDER BY resource_id, source, coupon_id
            """, refundOrder) { try entry($0, refundOrder) }
    }

    /// The resources a refund order's shares name (with repeats), in the resources' creation
    /// order (`resources.seq`, the order `ResourceStore.ofOrder` lists an order's own
    /// resources in), then by the share's key: the order details list them so, the same on
    /// every backend. (Insertion order is not kept by any column, and PostgreSQL has no rowid:
    /// `ctid` is only where a row happens to lie.)
    package static func resourceIDs(_ db: Connection, refundOrder: String) throws -> [String] {
        try db.all("""
            SELECT s.resource_id FROM resource_refunds s JOIN resources r ON r.id = s.resource_id
            WHERE s.refund_order_id = ? ORDER BY r.seq, s.order_id, s.source, s.coupon_id
            """, refundOrder, map: { $0.text(0) })
    }

    /// Drops a refund order's shares (a rejected review), so they can be refunded again.
    package static func release(_ db: Connection, refundOrder: String) throws {
        try db.run("DELETE FROM resource_refunds WHERE refund_order_id = ?", refundOrder)
    }

    /// Stores an unsubscription's decision (class, members, fallback expiry, five-day unit …).
    package static func saveDetail(_ db: Connection, order: String, primary: String, _ detail: JSONValue) throws {
        try db.run("INSERT INTO refund_details (order_id, resource_id, detail) VALUES (?, ?, ?)", order, primary, detail.text)
    }

    /// The stored decision of an unsubscription order, nil for a refund order without one
    /// (a failed creation, T15); one that is not a JSON object is a storage error.
    package static func detail(_ db: Connection, order: String) throws -> [String: JSONValue]? {
        guard let row = try db.first("SELECT detail FROM refund_details WHERE order_id = ?", order, map: { $0.optionalText(0) }) else {
            return nil
        }
        let record = "refund detail of order \(order)"
        guard case .object(let detail) = try StoredValue.document(row, record) else {
            throw StoredValue.unreadable(record, "not a JSON object")
        }
        return detail
    }
}
