import BillingDomain
import BillingDocuments

/// Whole-table consistency queries behind `verify`: each recomputes one invariant across the
/// tables that hold its facts and returns only the rows that may breach it (or the figures to
/// compare), as plain values. What counts as a breach, and how it is reported, stays in the
/// verify services; the statements live here so that no service holds SQL.
package enum InvariantQueries {
    /// Per account: stored cash balance and credit used, and the sums of its cash and credit
    /// ledger rows.
    package static func accountLedgers(_ db: Connection) throws -> [(account: String, cash: Int64, creditUsed: Int64, cashLedger: Int64, creditLedger: Int64)] {
        try db.all("""
            SELECT a.id, a.cash_balance, a.credit_used,
                (SELECT coalesce(sum(amount), 0) FROM ledger WHERE account_id = a.id AND fund = 'CASH'),
                (SELECT coalesce(sum(amount), 0) FROM ledger WHERE account_id = a.id AND fund = 'CREDIT')
            FROM accounts a
            """, map: { ($0.text(0), $0.int(1), $0.int(2), $0.int(3), $0.int(4)) })
    }

    /// Per balance-carrying coupon: its stored balance and the sum of its ledger.
    package static func couponLedgers(_ db: Connection) throws -> [(coupon: String, balance: Int64, ledger: Int64)] {
        try db.all("""
            SELECT c.id, c.balance, (SELECT coalesce(sum(amount), 0) FROM coupon_ledger WHERE coupon_id = c.id)
            FROM coupons c WHERE c.kind != 'DISCOUNT_COUPON'
            """, map: { ($0.text(0), $0.int(1), $0.int(2)) })
    }

    /// The amount columns an order and its lines both carry.
    package static let orderAmountColumns = ["list_price", "commercial_discount", "promotion_discount", "discount_coupon", "voucher",
                                     "cash_coupon", "stored_value_card", "cash", "credit"]

    /// Per order with lines (combined orders excepted): each amount column as stored on the
    /// order and as summed over its lines, in `orderAmountColumns` order.
    package static func orderLineSums(_ db: Connection) throws -> [(order: String, amounts: [(column: String, order: Int64, lines: Int64)])] {
        let amountColumns = orderAmountColumns
        let lineSums = amountColumns.map { "coalesce(sum(l.\($0)), 0)" }.joined(separator: ", ")
        return try db.all("""
            SELECT o.id, o.status, \(amountColumns.map { "o.\($0)" }.joined(separator: ", ")), \(lineSums)
            FROM orders o JOIN order_lines l ON l.order_id = o.id WHERE o.is_combined = 0 GROUP BY o.id
            """, map: { row in
            (row.text(0), amountColumns.enumerated().map { index, column in
                (column, row.int(Int32(2 + index)), row.int(Int32(11 + index)))
            })
        })
    }

    /// Per combined order with sub-orders: its status and its sub-orders' distinct statuses,
    /// comma-separated.
    package static func combinedOrders(_ db: Connection) throws -> [(order: String, status: String, subStatuses: String)] {
        try db.all("""
            SELECT c.id, c.status, \(db.dialect.distinctList("s.status")) FROM orders c JOIN orders s ON s.combined_id = c.id
            WHERE c.is_combined = 1 GROUP BY c.id
            """, map: { ($0.text(0), $0.text(1), $0.text(2)) })
    }

    /// Per paid order (not combined, not a refund order): what it was paid with and what its
    /// resources were funded with under it.
    package static func orderFunding(_ db: Connection) throws -> [(order: String, paid: Int64, funded: Int64)] {
        try db.all("""
            SELECT o.id, o.voucher + o.cash_coupon + o.stored_value_card + o.cash + o.credit,
                (SELECT coalesce(sum(amount), 0) FROM resource_funding WHERE order_id = o.id), o.status
            FROM orders o WHERE o.is_combined = 0 AND o.type != 'UNSUBSCRIBE' AND o.paid_at IS NOT NULL
            """, map: { ($0.text(0), $0.int(1), $0.int(2)) })
    }

    /// Per paid order (not a refund order): list price, total discounts, amount due, voucher
    /// and what was paid with everything else.
    package static func orderAmounts(_ db: Connection) throws -> [(order: String, list: Int64, discounts: Int64, due: Int64, voucher: Int64, paid: Int64)] {
        try db.all("""
            SELECT id, list_price, commercial_discount + promotion_discount + discount_coupon,
                list_price - commercial_discount - promotion_discount - discount_coupon, voucher,
                cash_coupon + stored_value_card + cash + credit
            FROM orders WHERE paid_at IS NOT NULL AND type != 'UNSUBSCRIBE'
            """, map: { ($0.text(0), $0.int(1), $0.int(2), $0.int(3), $0.int(4), $0.int(5)) })
    }

    /// Refund shares larger than the funding they give back (resource, paying order, source).
    package static func refundsBeyondFunding(_ db: Connection) throws -> [(resource: String, paidBy: String, source: String, refunded: Int64, funded: Int64)] {
        try db.all("""
            SELECT r.resource_id, r.order_id, r.source, r.coupon_id, r.amount, coalesce(f.amount, 0)
            FROM resource_refunds r LEFT JOIN resource_funding f ON f.resource_id = r.resource_id AND f.order_id = r.order_id
                AND f.source = r.source AND f.coupon_id = r.coupon_id
            WHERE r.amount > coalesce(f.amount, 0)
            """, map: { ($0.text(0), $0.text(1), $0.text(2), $0.int(4), $0.int(5)) })
    }

    /// Pairs of paid periods of one resource that overlap, by their starts.
    package static func overlappingPeriods(_ db: Connection) throws -> [(resource: String, first: Int64, second: Int64)] {
        try db.all("""
            SELECT a.resource_id, a.start_at, b.start_at FROM resource_periods a JOIN resource_periods b
                ON a.resource_id = b.resource_id AND a.start_at < b.start_at AND b.start_at < a.end_at
            WHERE a.status = 'PAID' AND b.status = 'PAID'
            """, map: { ($0.text(0), $0.int(1), $0.int(2)) })
    }

    /// Usage hours whose charge differs from what their funding paid.
    package static func usageFundingMismatches(_ db: Connection) throws -> [(resource: String, hour: Int64, charged: Int64, paid: Int64)] {
        try db.all("""
            SELECT l.resource_id, l.hour_start, l.charged, coalesce(sum(f.amount), 0) FROM usage_lines l
            LEFT JOIN usage_funding f ON f.resource_id = l.resource_id AND f.hour_start = l.hour_start
            GROUP BY l.resource_id, l.hour_start HAVING l.charged != coalesce(sum(f.amount), 0)
            """, map: { ($0.text(0), $0.int(1), $0.int(2), $0.int(3)) })
    }

    /// Usage hours whose covered units differ from what package deductions gave.
    package static func packageCoverageMismatches(_ db: Connection) throws -> [(resource: String, hour: Int64, covered: Int64, given: Int64)] {
        try db.all("""
            SELECT l.resource_id, l.hour_start, l.covered, coalesce(sum(d.units), 0) FROM usage_lines l
            LEFT JOIN package_deductions d ON d.resource_id = l.resource_id AND d.hour_start = l.hour_start
            GROUP BY l.resource_id, l.hour_start HAVING l.covered != coalesce(sum(d.units), 0)
            """, map: { ($0.text(0), $0.int(1), $0.int(2), $0.int(3)) })
    }

    /// Orders whose status disagrees with their stored times and facts (or is unknown).
    package static func illegalOrderStates(_ db: Connection) throws -> [(order: String, status: String, paidAt: Int64?, completedAt: Int64?, cancelledAt: Int64?)] {
        try db.all("""
            SELECT id, status, paid_at, completed_at, cancelled_at, cancel_reason, type FROM orders WHERE
                (status = 'CANCELLED' AND (cancelled_at IS NULL OR cancel_reason IS NULL OR paid_at IS NOT NULL))
                OR (status = 'COMPLETED' AND completed_at IS NULL)
                OR (status IN ('PENDING_PAYMENT', 'PENDING_REVIEW', 'PENDING_CONFIRMATION') AND paid_at IS NOT NULL)
                OR (status IN ('PROCESSING') AND paid_at IS NULL AND billing_mode != 'ON_DEMAND')
                OR status NOT IN ('PENDING_PAYMENT', 'PENDING_REVIEW', 'PROCESSING', 'COMPLETED', 'CANCELLED', 'PENDING_CONFIRMATION', 'REFUNDING')
            """, map: { ($0.text(0), $0.text(1), $0.optionalInt(2), $0.optionalInt(3), $0.optionalInt(4)) })
    }

    /// Resources whose status disagrees with their stored facts.
    package static func illegalResourceStates(_ db: Connection) throws -> [(resource: String, status: String)] {
        try db.all("""
            SELECT id, status FROM resources WHERE
                (status IN ('RELEASED', 'UNSUBSCRIBED', 'PROVISION_FAILED', 'DELETED') AND ended_at IS NULL)
                OR (status IN ('IN_USE', 'EXPIRED', 'FROZEN') AND billing_mode = 'PREPAID' AND expire_at IS NULL)
                OR (status = 'EXPIRED' AND billing_mode = 'PREPAID' AND grace_end IS NULL)
                OR (status = 'FROZEN' AND freeze_reason IS NULL)
            """, map: { ($0.text(0), $0.text(1)) })
    }

    /// Live prepaid resources whose expiry is not the end of their last paid period.
    package static func expiryMismatches(_ db: Connection) throws -> [(resource: String, expireAt: Int64, lastPeriodEnd: Int64)] {
        try db.all("""
            SELECT r.id, r.expire_at, max(p.end_at) FROM resources r JOIN resource_periods p ON p.resource_id = r.id AND p.status = 'PAID'
            WHERE r.billing_mode = 'PREPAID' AND r.status IN ('IN_USE', 'EXPIRED', 'FROZEN') GROUP BY r.id HAVING r.expire_at != max(p.end_at)
            """, map: { ($0.text(0), $0.int(1), $0.int(2)) })
    }

    /// Operations with fewer audit rows than idempotency records.
    package static func operationsMissingAudit(_ db: Connection) throws -> [(operation: String, keyed: Int64, audited: Int64)] {
        try db.all("""
            SELECT i.operation, i.keyed, coalesce(a.audited, 0) FROM
                (SELECT operation, count(*) AS keyed FROM idempotency GROUP BY operation) i
                LEFT JOIN (SELECT operation, count(*) AS audited FROM audit_log GROUP BY operation) a ON a.operation = i.operation
            WHERE coalesce(a.audited, 0) < i.keyed
            """, map: { ($0.text(0), $0.int(1), $0.int(2)) })
    }

    /// How many rows verify looked at, by kind.
    package static func counts(_ db: Connection) throws -> (accounts: Int64, orders: Int64, coupons: Int64, resources: Int64, auditRows: Int64) {
        (try db.first("SELECT count(*) FROM accounts") { $0.int(0) } ?? 0,
         try db.first("SELECT count(*) FROM orders") { $0.int(0) } ?? 0,
         try db.first("SELECT count(*) FROM coupons") { $0.int(0) } ?? 0,
         try db.first("SELECT count(*) FROM resources") { $0.int(0) } ?? 0,
         try db.first("SELECT count(*) FROM audit_log") { $0.int(0) } ?? 0)
    }
}
