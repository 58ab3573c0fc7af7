import BillingDomain
import BillingDocuments

/// Money across tables, for verify's `ledger_reconciliation`: ledger rows not tied to what made
/// them, and orders, refund orders and usage hours whose amounts differ from the ledger's.
extension InvariantQueries {
    /// Top-up ledger rows of a wrong shape or without the audited top-up that recorded them.
    ///
    /// The audited top-ups are read once and joined (a LEFT JOIN on the distinct pairs, an
    /// anti-join both engines run in one pass: SQLite with an automatic index, PostgreSQL by
    /// hashing or merging, whatever `work_mem` holds): a NOT EXISTS per top-up searched the
    /// account's audit rows, top-ups × the account's audit rows, and a NOT IN that PostgreSQL
    /// cannot hash in `work_mem` rescans its subquery for every row. `account_id` is never null
    /// in `ledger`, and a null reference is caught before the join is asked.
    package static func unrecordedTopUps(_ db: Connection) throws -> [(ledger: Int64, reference: String?)] {
        try db.all("""
            SELECT l.id, l.reference FROM ledger l
                LEFT JOIN (SELECT DISTINCT account_id, subject_id FROM audit_log WHERE operation = 'account.topup') a
                    ON a.account_id = l.account_id AND a.subject_id = l.reference
            WHERE l.kind = 'TOPUP' AND (l.reference IS NULL OR l.fund != 'CASH' OR l.amount <= 0
                OR l.order_id IS NOT NULL OR a.subject_id IS NULL)
            """, map: { ($0.int(0), $0.optionalText(1)) })
    }

    /// Payment and refund ledger rows that name no order of the account that could cause them.
    package static func unexplainedOrderEntries(_ db: Connection) throws -> [(ledger: Int64, kind: String, order: String?)] {
        try db.all("""
            SELECT l.id, l.kind, l.order_id FROM ledger l LEFT JOIN orders o ON o.id = l.order_id AND o.account_id = l.account_id
            WHERE l.kind IN ('PAYMENT', 'AUTO_RENEWAL', 'REFUND') AND (o.id IS NULL
                OR (l.kind = 'REFUND') != (o.type = 'UNSUBSCRIBE') OR o.is_combined = 1)
            """, map: { ($0.int(0), $0.text(1), $0.optionalText(2)) })
    }

    /// Ledger rows of a kind or shape no operation writes (usage charges without their hour).
    package static func misshapenEntries(_ db: Connection) throws -> [Int64] {
        try db.all("""
            SELECT l.id FROM ledger l WHERE l.kind = 'USAGE' AND (l.reference IS NULL OR l.order_id IS NOT NULL)
            UNION ALL
            SELECT l.id FROM ledger l WHERE l.kind NOT IN ('TOPUP', 'PAYMENT', 'AUTO_RENEWAL', 'REFUND', 'USAGE')
            """, map: { $0.int(0) })
    }

    /// Per order that pays (not combined, not a refund order): the cash and credit it paid and
    /// what the ledger took for it from each.
    ///
    /// The ledger is summed per order once and joined: `ledger` has no index on `order_id`, so
    /// a subquery per order scanned the whole ledger for each order (orders × ledger rows).
    package static func orderPayments(_ db: Connection) throws -> [(order: String, cash: Int64, credit: Int64, cashTaken: Int64, creditTaken: Int64)] {
        try db.all("""
            WITH taken AS (SELECT order_id, -sum(CASE WHEN fund = 'CASH' THEN amount END) AS cash,
                    -sum(CASE WHEN fund = 'CREDIT' THEN amount END) AS credit
                FROM ledger WHERE order_id IS NOT NULL AND kind IN ('PAYMENT', 'AUTO_RENEWAL') GROUP BY order_id)
            SELECT o.id, o.cash, o.credit, coalesce(t.cash, 0), coalesce(t.credit, 0)
            FROM orders o LEFT JOIN taken t ON t.order_id = o.id
            WHERE o.is_combined = 0 AND o.type != 'UNSUBSCRIBE'
            """, map: { ($0.text(0), $0.int(1), $0.int(2), $0.int(3), $0.int(4)) })
    }

    /// Per refund order: its status, the cash and credit its refund records give back, and what
    /// the ledger credited under it from each (summed per order once, as in `orderPayments`).
    package static func refundOrders(_ db: Connection) throws -> [(order: String, status: String, cash: Int64, credit: Int64, cashCredited: Int64, creditCredited: Int64)] {
        try db.all("""
            WITH credited AS (SELECT order_id, sum(CASE WHEN fund = 'CASH' THEN amount END) AS cash,
                    sum(CASE WHEN fund = 'CREDIT' THEN amount END) AS credit
                FROM ledger WHERE order_id IS NOT NULL AND kind = 'REFUND' GROUP BY order_id)
            SELECT o.id, o.status,
                (SELECT coalesce(sum(amount), 0) FROM resource_refunds WHERE refund_order_id = o.id AND source = 'CASH'),
                (SELECT coalesce(sum(amount), 0) FROM resource_refunds WHERE refund_order_id = o.id AND source = 'CREDIT'),
                coalesce(c.cash, 0), coalesce(c.credit, 0)
            FROM orders o LEFT JOIN credited c ON c.order_id = o.id
            WHERE o.is_combined = 0 AND o.type = 'UNSUBSCRIBE'
            """, map: { ($0.text(0), $0.text(1), $0.int(2), $0.int(3), $0.int(4), $0.int(5)) })
    }

    /// Pay-per-use hours (reference `resource@hour`) and funds whose funding differs from what
    /// the ledger took; `ledger` is the first ledger row of the hour and fund, 0 when the ledger
    /// took nothing for a funded hour. One grouping over both tables' rows: joining the two
    /// grouped sets compared every hour with every other (neither has an index on the
    /// reference), so verify took minutes on a file of 50,000 usage hours.
    package static func usageHourMismatches(_ db: Connection) throws -> [(ledger: Int64, reference: String, taken: Int64, funded: Int64)] {
        try db.all("""
            SELECT coalesce(min(id), 0), reference, sum(taken), sum(funded) FROM (
                SELECT NULL AS id, resource_id || '@' || hour_start AS reference, source, 0 AS taken, amount AS funded FROM usage_funding
                    WHERE source IN ('CASH', 'CREDIT')
                UNION ALL
                SELECT id, reference, fund, -amount, 0 FROM ledger WHERE kind = 'USAGE') hours
            GROUP BY reference, source HAVING sum(taken) != sum(funded)
            """, map: { ($0.int(0), $0.text(1), $0.int(2), $0.int(3)) })
    }
}
