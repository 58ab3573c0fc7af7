import BillingDomain
import BillingDocuments
import BillingStorage

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
        try query(requestJSON, long: true, parse: VerifyRequest.init) { context, request -> VerifyResponse in
            let integrity = request.integrity
            // A damaged file is reported as such; invariants computed from it would mislead.
            let damage = try Engine.integrityBreaches(context.db, mode: integrity)
            if !damage.isEmpty { return VerifyResponse(integrity: integrity, checked: nil, breaches: damage) }
            var breaches: [JSONValue] = []
            func breach(_ check: String, _ subject: String, _ detail: String) {
                breaches.append(["check": .string(check), "subject": .string(subject), "detail": .string(detail)])
            }
            let db = context.db
            for account in try InvariantQueries.accountLedgers(db) {
                if account.cash != account.cashLedger { breach("cash_ledger", account.account, "balance \(account.cash) but ledger sums to \(account.cashLedger)") }
                if account.creditUsed != -account.creditLedger { breach("credit_ledger", account.account, "credit used \(account.creditUsed) but ledger sums to \(-account.creditLedger)") }
            }
            for coupon in try InvariantQueries.couponLedgers(db) {
                if coupon.balance != coupon.ledger { breach("coupon_ledger", coupon.coupon, "balance \(coupon.balance) but ledger sums to \(coupon.ledger)") }
                if coupon.balance < 0 { breach("coupon_balance", coupon.coupon, "negative balance \(coupon.balance)") }
            }
            for order in try InvariantQueries.orderLineSums(db) {
                for amount in order.amounts where amount.order != amount.lines {
                    breach("order_lines", order.order, "\(amount.column) is \(amount.order) but its lines sum to \(amount.lines)")
                }
            }
            for combined in try InvariantQueries.combinedOrders(db) {
                let statuses = combined.subStatuses.split(separator: ",").map(String.init)
                let container = combined.status
                let consistent = container == "COMPLETED" || container == "PROCESSING"
                    ? statuses.allSatisfy { $0 == "COMPLETED" || $0 == "PROCESSING" } && (container != "COMPLETED" || statuses == ["COMPLETED"])
                    : statuses == [container]
                if !consistent { breach("combined_order", combined.order, "combined order is \(container) but its sub-orders are \(combined.subStatuses)") }
            }
            for order in try InvariantQueries.orderFunding(db) {
                if order.paid != order.funded { breach("order_funding", order.order, "paid \(order.paid) but resources were funded with \(order.funded)") }
            }
            for (id, list, discounts, due, voucher, paid) in try InvariantQueries.orderAmounts(db) {
                if due - voucher != paid || list - discounts != due || paid < 0 || voucher < 0 {
                    breach("amount_identity", id, "list \(list) − discounts \(discounts) = due \(due); due − voucher \(voucher) should be paid \(paid)")
                }
            }
            for refund in try InvariantQueries.refundsBeyondFunding(db) {
                breach("refund_exceeds_payment", refund.resource, "refunded \(refund.refunded) of \(refund.source) paid \(refund.funded) by \(refund.paidBy)")
            }
            for overlap in try InvariantQueries.overlappingPeriods(db) {
                breach("overlapping_periods", overlap.resource, "periods starting \(overlap.first) and \(overlap.second) overlap")
            }
            for hour in try InvariantQueries.usageFundingMismatches(db) {
                breach("usage_funding", hour.resource, "hour \(hour.hour) charged \(hour.charged) but paid \(hour.paid)")
            }
            for hour in try InvariantQueries.packageCoverageMismatches(db) {
                breach("package_coverage", hour.resource, "hour \(hour.hour) covered \(hour.covered) but packages gave \(hour.given)")
            }
            let chain = try AuditLog.firstBrokenLink(db, key: db.session.auditKey)
            if let broken = chain.broken {
                breach("audit_chain", String(broken.id), broken.detail)
            }
            breaches += try Engine.headBreaches(db, head: request.head)
            breaches += try Engine.coverageBreaches(db)
            breaches += try Engine.reconciliationBreaches(db)
            // Legal states: what each status implies about the stored times and facts.
            func shown(_ value: Int64?) -> String { value.map(String.init) ?? "-" }
            for order in try InvariantQueries.illegalOrderStates(db) {
                breach("order_state", order.order, "status \(order.status) does not agree with its times (paid \(shown(order.paidAt)), completed \(shown(order.completedAt)), cancelled \(shown(order.cancelledAt)))")
            }
            for resource in try InvariantQueries.illegalResourceStates(db) {
                breach("resource_state", resource.resource, "status \(resource.status) does not agree with its stored facts")
            }
            for resource in try InvariantQueries.expiryMismatches(db) {
                breach("expiry_from_periods", resource.resource, "expiry \(resource.expireAt) but its last paid period ends \(resource.lastPeriodEnd)")
            }
            // Linear: every keyed operation wrote an audit row of its kind, so each kind has at
            // least as many audit rows as idempotency records.
            for operation in try InvariantQueries.operationsMissingAudit(db) {
                breach("missing_audit", operation.operation, "\(operation.keyed) keyed operations but \(operation.audited) audit rows")
            }
            let count = try InvariantQueries.counts(db)
            let counts = VerifiedCounts(accounts: count.accounts, orders: count.orders, coupons: count.coupons, resources: count.resources,
                                        auditRows: count.auditRows,
                                        // Keyed outbox records too: a keyless verify checks their slots, not their links.
                                        auditLinksUnchecked: chain.unchecked + (try OutboxSeals.uncheckedLinks(db, key: db.session.auditKey)))
            return VerifyResponse(integrity: integrity, checked: counts, breaches: breaches)
        }
    }
}
