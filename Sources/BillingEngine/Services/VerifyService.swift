extension Engine {
    /// Recomputes the invariants from the stored facts and reports every breach with the rows
    /// involved: `{}` → `{"ok", "checked": {...}, "breaches": [{"check", "subject", "detail"}]}`.
    /// Checks: cash balance = cash ledger sum and credit used = −credit ledger sum per account;
    /// coupon balance = coupon ledger sum, never negative; order amounts = sum of their lines
    /// and the amount identities on paid orders; a combined order's status matches its
    /// sub-orders'; what resources were funded with under an order = what the order was paid
    /// with; nothing refunded beyond what was paid; paid periods of a resource never overlap;
    /// every usage line paid exactly its charge and covered exactly what packages gave; the
    /// audit chain is unbroken; order and resource statuses agree with their stored facts; a
    /// prepaid resource's expiry is the end of its last paid period; every keyed operation has
    /// its audit row; the chain reaches the head the host kept (`audit_head`); every covered
    /// row matches the digest of its last write and that digest is the one the chain lists
    /// (`row_tampered`, naming table and key); every ledger row is tied to what made it and
    /// orders, refunds and usage hours agree with the ledger (`ledger_reconciliation`).
    public func verify(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: VerifyRequest.init) { context, request in
            let integrity = request.integrity
            // A damaged file is reported as such; invariants computed from it would mislead.
            let damage = try Engine.integrityBreaches(context.db, mode: integrity)
            if !damage.isEmpty { return ["ok": false, "integrity": .string(integrity.rawValue), "checked": [:], "breaches": .array(damage)] }
            var breaches: [JSONValue] = []
            func breach(_ check: String, _ subject: String, _ detail: String) {
                breaches.append(["check": .string(check), "subject": .string(subject), "detail": .string(detail)])
            }
            let db = context.db
            try db.forEach("""
                SELECT a.id, a.cash_balance, a.credit_used,
                    (SELECT coalesce(sum(amount), 0) FROM ledger WHERE account_id = a.id AND fund = 'CASH'),
                    (SELECT coalesce(sum(amount), 0) FROM ledger WHERE account_id = a.id AND fund = 'CREDIT')
                FROM accounts a
                """) { row in
                if row.int(1) != row.int(3) { breach("cash_ledger", row.text(0), "balance \(row.int(1)) but ledger sums to \(row.int(3))") }
                if row.int(2) != -row.int(4) { breach("credit_ledger", row.text(0), "credit used \(row.int(2)) but ledger sums to \(-row.int(4))") }
            }
            try db.forEach("""
                SELECT c.id, c.balance, (SELECT coalesce(sum(amount), 0) FROM coupon_ledger WHERE coupon_id = c.id)
                FROM coupons c WHERE c.kind != 'DISCOUNT_COUPON'
                """) { row in
                if row.int(1) != row.int(2) { breach("coupon_ledger", row.text(0), "balance \(row.int(1)) but ledger sums to \(row.int(2))") }
                if row.int(1) < 0 { breach("coupon_balance", row.text(0), "negative balance \(row.int(1))") }
            }
            let amountColumns = ["list_price", "commercial_discount", "promotion_discount", "discount_coupon", "voucher",
                                 "cash_coupon", "stored_value_card", "cash", "credit"]
            let lineSums = amountColumns.map { "coalesce(sum(l.\($0)), 0)" }.joined(separator: ", ")
            try db.forEach("""
                SELECT o.id, o.status, \(amountColumns.map { "o.\($0)" }.joined(separator: ", ")), \(lineSums)
                FROM orders o JOIN order_lines l ON l.order_id = o.id WHERE o.is_combined = 0 GROUP BY o.id
                """) { row in
                for (index, column) in amountColumns.enumerated() where row.int(Int32(2 + index)) != row.int(Int32(11 + index)) {
                    breach("order_lines", row.text(0), "\(column) is \(row.int(Int32(2 + index))) but its lines sum to \(row.int(Int32(11 + index)))")
                }
            }
            try db.forEach("""
                SELECT c.id, c.status, group_concat(DISTINCT s.status) FROM orders c JOIN orders s ON s.combined_id = c.id
                WHERE c.is_combined = 1 GROUP BY c.id
                """) { row in
                let statuses = row.text(2).split(separator: ",").map(String.init)
                let container = row.text(1)
                let consistent = container == "COMPLETED" || container == "PROCESSING"
                    ? statuses.allSatisfy { $0 == "COMPLETED" || $0 == "PROCESSING" } && (container != "COMPLETED" || statuses == ["COMPLETED"])
                    : statuses == [container]
                if !consistent { breach("combined_order", row.text(0), "combined order is \(container) but its sub-orders are \(row.text(2))") }
            }
            try db.forEach("""
                SELECT o.id, o.voucher + o.cash_coupon + o.stored_value_card + o.cash + o.credit,
                    (SELECT coalesce(sum(amount), 0) FROM resource_funding WHERE order_id = o.id), o.status
                FROM orders o WHERE o.is_combined = 0 AND o.type != 'UNSUBSCRIBE' AND o.paid_at IS NOT NULL
                """) { row in
                if row.int(1) != row.int(2) { breach("order_funding", row.text(0), "paid \(row.int(1)) but resources were funded with \(row.int(2))") }
            }
            for (id, list, discounts, due, voucher, paid) in try db.all("""
                SELECT id, list_price, commercial_discount + promotion_discount + discount_coupon,
                    list_price - commercial_discount - promotion_discount - discount_coupon, voucher,
                    cash_coupon + stored_value_card + cash + credit
                FROM orders WHERE paid_at IS NOT NULL AND type != 'UNSUBSCRIBE'
                """, map: { ($0.text(0), $0.int(1), $0.int(2), $0.int(3), $0.int(4), $0.int(5)) }) {
                if due - voucher != paid || list - discounts != due || paid < 0 || voucher < 0 {
                    breach("amount_identity", id, "list \(list) − discounts \(discounts) = due \(due); due − voucher \(voucher) should be paid \(paid)")
                }
            }
            try db.forEach("""
                SELECT r.resource_id, r.order_id, r.source, r.coupon_id, r.amount, coalesce(f.amount, 0)
                FROM resource_refunds r LEFT JOIN resource_funding f ON f.resource_id = r.resource_id AND f.order_id = r.order_id
                    AND f.source = r.source AND f.coupon_id = r.coupon_id
                WHERE r.amount > coalesce(f.amount, 0)
                """) { row in
                breach("refund_exceeds_payment", row.text(0), "refunded \(row.int(4)) of \(row.text(2)) paid \(row.int(5)) by \(row.text(1))")
            }
            try db.forEach("""
                SELECT a.resource_id, a.start_at, b.start_at FROM resource_periods a JOIN resource_periods b
                    ON a.resource_id = b.resource_id AND a.start_at < b.start_at AND b.start_at < a.end_at
                WHERE a.status = 'PAID' AND b.status = 'PAID'
                """) { row in
                breach("overlapping_periods", row.text(0), "periods starting \(row.int(1)) and \(row.int(2)) overlap")
            }
            try db.forEach("""
                SELECT l.resource_id, l.hour_start, l.charged, coalesce(sum(f.amount), 0) FROM usage_lines l
                LEFT JOIN usage_funding f ON f.resource_id = l.resource_id AND f.hour_start = l.hour_start
                GROUP BY l.resource_id, l.hour_start HAVING l.charged != coalesce(sum(f.amount), 0)
                """) { row in
                breach("usage_funding", row.text(0), "hour \(row.int(1)) charged \(row.int(2)) but paid \(row.int(3))")
            }
            try db.forEach("""
                SELECT l.resource_id, l.hour_start, l.covered, coalesce(sum(d.units), 0) FROM usage_lines l
                LEFT JOIN package_deductions d ON d.resource_id = l.resource_id AND d.hour_start = l.hour_start
                GROUP BY l.resource_id, l.hour_start HAVING l.covered != coalesce(sum(d.units), 0)
                """) { row in
                breach("package_coverage", row.text(0), "hour \(row.int(1)) covered \(row.int(2)) but packages gave \(row.int(3))")
            }
            let chain = try AuditLog.firstBrokenLink(db, key: db.auditKey)
            if let broken = chain.broken {
                breach("audit_chain", String(broken.id), broken.detail)
            }
            breaches += try Engine.headBreaches(db, head: request.head)
            breaches += try Engine.coverageBreaches(db)
            breaches += try Engine.reconciliationBreaches(db)
            // Legal states: what each status implies about the stored times and facts.
            try db.forEach("""
                SELECT id, status, paid_at, completed_at, cancelled_at, cancel_reason, type FROM orders WHERE
                    (status = 'CANCELLED' AND (cancelled_at IS NULL OR cancel_reason IS NULL OR paid_at IS NOT NULL))
                    OR (status = 'COMPLETED' AND completed_at IS NULL)
                    OR (status IN ('PENDING_PAYMENT', 'PENDING_REVIEW', 'PENDING_CONFIRMATION') AND paid_at IS NOT NULL)
                    OR (status IN ('PROCESSING') AND paid_at IS NULL AND billing_mode != 'ON_DEMAND')
                    OR status NOT IN ('PENDING_PAYMENT', 'PENDING_REVIEW', 'PROCESSING', 'COMPLETED', 'CANCELLED', 'PENDING_CONFIRMATION', 'REFUNDING')
                """) { row in
                breach("order_state", row.text(0), "status \(row.text(1)) does not agree with its times (paid \(row.optionalInt(2).map(String.init) ?? "-"), completed \(row.optionalInt(3).map(String.init) ?? "-"), cancelled \(row.optionalInt(4).map(String.init) ?? "-"))")
            }
            try db.forEach("""
                SELECT id, status FROM resources WHERE
                    (status IN ('RELEASED', 'UNSUBSCRIBED', 'PROVISION_FAILED', 'DELETED') AND ended_at IS NULL)
                    OR (status IN ('IN_USE', 'EXPIRED', 'FROZEN') AND billing_mode = 'PREPAID' AND expire_at IS NULL)
                    OR (status = 'EXPIRED' AND billing_mode = 'PREPAID' AND grace_end IS NULL)
                    OR (status = 'FROZEN' AND freeze_reason IS NULL)
                """) { row in
                breach("resource_state", row.text(0), "status \(row.text(1)) does not agree with its stored facts")
            }
            try db.forEach("""
                SELECT r.id, r.expire_at, max(p.end_at) FROM resources r JOIN resource_periods p ON p.resource_id = r.id AND p.status = 'PAID'
                WHERE r.billing_mode = 'PREPAID' AND r.status IN ('IN_USE', 'EXPIRED', 'FROZEN') GROUP BY r.id HAVING r.expire_at != max(p.end_at)
                """) { row in
                breach("expiry_from_periods", row.text(0), "expiry \(row.int(1)) but its last paid period ends \(row.int(2))")
            }
            // Linear: every keyed operation wrote an audit row of its kind, so each kind has at
            // least as many audit rows as idempotency records.
            try db.forEach("""
                SELECT i.operation, i.keyed, coalesce(a.audited, 0) FROM
                    (SELECT operation, count(*) AS keyed FROM idempotency GROUP BY operation) i
                    LEFT JOIN (SELECT operation, count(*) AS audited FROM audit_log GROUP BY operation) a ON a.operation = i.operation
                WHERE coalesce(a.audited, 0) < i.keyed
                """) { row in
                breach("missing_audit", row.text(0), "\(row.int(1)) keyed operations but \(row.int(2)) audit rows")
            }
            let counts: JSONValue = [
                "accounts": .integer(try db.first("SELECT count(*) FROM accounts") { $0.int(0) } ?? 0),
                "orders": .integer(try db.first("SELECT count(*) FROM orders") { $0.int(0) } ?? 0),
                "coupons": .integer(try db.first("SELECT count(*) FROM coupons") { $0.int(0) } ?? 0),
                "resources": .integer(try db.first("SELECT count(*) FROM resources") { $0.int(0) } ?? 0),
                "audit_rows": .integer(try db.first("SELECT count(*) FROM audit_log") { $0.int(0) } ?? 0),
                // Keyed links this handle could not check: it was opened without the audit key.
                "audit_links_unchecked": .integer(chain.unchecked),
            ]
            return ["ok": .bool(breaches.isEmpty), "integrity": .string(integrity.rawValue), "checked": counts, "breaches": .array(breaches)]
        }
    }
}
