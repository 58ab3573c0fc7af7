import BillingDomain
import BillingDocuments
import BillingStorage

/// The parts of `verify` that catch changes made outside the library: the chain's head, rows
/// that no longer match their last recorded write, and money that does not reconcile with
/// the operations that moved it.
extension Engine {
    /// The chain's head: `{}` → `{"position", "digest"}`, the last seal's position and hash
    /// after sealing every audit row written since the previous seal (AuditLog: each scope's
    /// chain, tied together by the seal chain). A host that stores it outside the file (after
    /// each write, or periodically) and passes it back to `verify` detects a cut chain (rows
    /// deleted at the end of any scope, or seals deleted) and a recomputed one.
    public func auditHead(_ requestJSON: String?) throws -> String {
        // A request refused (an unknown field) seals nothing.
        let reader = try ObjectReader(text: requestJSON)
        _ = try EmptyRequest(reader)
        try reader.finish()
        // Sealing is a short write of its own (on PostgreSQL READ COMMITTED), before the read.
        try lock.withLock { try AuditLog.seal(db) }
        return try query(requestJSON, parse: EmptyRequest.init) { context, _ -> AuditHeadResponse in
            let head = try AuditLog.head(context.db)
            return AuditHeadResponse(position: head.position, digest: head.digest)
        }
    }

    /// A breach about one row: `{"check", "subject": "<table> <key>", "table", "key", "detail"}`,
    /// the key being the array of the row's key column values.
    static func rowBreach(_ check: String, table: String, key: String, _ detail: String) -> JSONValue {
        let values = (try? JSONValue.parse(key)) ?? .string(key)
        var shown = key
        if case .array(let parts) = values, parts.count == 1 {
            if case .string(let text) = parts[0] { shown = text } else if case .integer(let number) = parts[0] { shown = String(number) }
        }
        return ["check": .string(check), "subject": .string("\(table) \(shown)"), "table": .string(table), "key": values,
                "detail": .string(detail)]
    }

    /// The host's head against the chain: the seal at `position` must exist with that hash
    /// (and verify's walk checks that every head it sealed is still in the log as it was).
    static func headBreaches(_ db: Connection, head: (position: Int64, digest: String)?) throws -> [JSONValue] {
        guard let head else { return [] }
        let current = try AuditLog.head(db)
        let stored = try AuditLog.hash(db, at: head.position)
        let problem: String?
        if head.position == 0 {
            problem = nil
        } else if stored == nil {
            problem = "the seal chain does not reach position \(head.position) (it ends at \(current.position)): audit rows or seals were deleted at its end"
        } else if stored != head.digest {
            problem = "the seal at position \(head.position) hashes to another digest than the head the host kept: the chain was rewritten"
        } else if let gone = try AuditLog.sealedHeadGone(db, through: head.position) {
            problem = "audit row \(gone.id), the last of its scope when seal \(gone.seal) was made, is no longer there as it was: rows were deleted at the end of its chain, or it was rewritten"
        } else {
            problem = nil
        }
        guard let problem else { return [] }
        return [["check": "audit_head", "subject": .string(String(head.position)), "detail": .string(problem)]]
    }

    /// Every covered row against its recorded digest, and the recorded digests against the
    /// last write of each row the chain lists.
    static func coverageBreaches(_ db: Connection) throws -> [JSONValue] {
        var breaches: [JSONValue] = []
        for table in RowCoverage.tables {
            try RowCoverage.forEachKey(db, table) { key, digest in
                let recorded = try RowCoverage.recorded(db, table: table.name, key: key)
                if let recorded {
                    if recorded.digest != digest {
                        breaches.append(rowBreach("row_tampered", table: table.name, key: key,
                                                  "the row differs from its last write by the library (audit row \(recorded.audit))"))
                    }
                } else {
                    breaches.append(rowBreach("row_tampered", table: table.name, key: key,
                                              "the row was not written by the library (no recorded digest)"))
                }
            }
            for missing in try RowCoverage.missingRows(db, table) {
                breaches.append(rowBreach("row_tampered", table: table.name, key: missing.key,
                                          "the row was deleted outside the library (last written by audit row \(missing.audit))"))
            }
        }
        // The recorded digests must be the chain's: the last write of each key that an audit
        // row lists. A digest edited to match an edited row shows here.
        for mismatch in try RowCoverage.digestsOffChain(db) {
            breaches.append(rowBreach("row_tampered", table: mismatch.table, key: mismatch.key, mismatch.listed
                ? "its recorded digest is not the one audit row \(mismatch.audit) wrote last"
                : "its recorded digest names audit row \(mismatch.audit), which does not list it"))
        }
        // An event's outbox position is not in its digest (a sealer may set it later): where
        // positions are given at insert, they must follow the order events were written in;
        // where a sealer gives them, they must be the ones its chained records say it gave.
        for misplaced in try EventLog.misplaced(db, key: db.session.auditKey) {
            breaches.append(rowBreach("row_tampered", table: misplaced.table, key: "[\(misplaced.key)]", misplaced.detail))
        }
        // A key reported twice (row and digest both changed) is reported once per reason.
        return breaches
    }

    /// Money across tables: every ledger row tied to what made it, and each order's payment
    /// and each refund order's refunds equal to the ledger rows naming them.
    static func reconciliationBreaches(_ db: Connection) throws -> [JSONValue] {
        var breaches: [JSONValue] = []
        func ledger(_ id: Int64, _ detail: String) {
            breaches.append(rowBreach("ledger_reconciliation", table: "ledger", key: "[\(id)]", detail))
        }
        func order(_ id: String, _ detail: String) {
            breaches.append(rowBreach("ledger_reconciliation", table: "orders", key: JSONValue.array([.string(id)]).text, detail))
        }
        // A top-up is tied to its reference and to the audited top-up that recorded it.
        for topUp in try InvariantQueries.unrecordedTopUps(db) {
            ledger(topUp.ledger, "top-up \(topUp.reference.map { BillingError.quote($0) } ?? "without reference") was not recorded by an audited top-up")
        }
        // Payments and refunds name an order of the account that exists and could cause them.
        for entry in try InvariantQueries.unexplainedOrderEntries(db) {
            ledger(entry.ledger, "\(entry.kind) names order \(entry.order ?? "none"), which is not an order of the account that could cause it")
        }
        // Usage charges name the hour they paid.
        for id in try InvariantQueries.misshapenEntries(db) {
            ledger(id, "a ledger row of a kind or shape no operation writes")
        }
        // What each order paid from cash and credit is what the ledger took for it.
        for payment in try InvariantQueries.orderPayments(db) {
            let (cash, credit, cashTaken, creditTaken) = (payment.cash, payment.credit, payment.cashTaken, payment.creditTaken)
            if cash != cashTaken || credit != creditTaken {
                order(payment.order, "paid cash \(cash) and credit \(credit) but the ledger took cash \(cashTaken) and credit \(creditTaken)")
            }
        }
        // What a refund order gave back in cash and credit is what its refund records say,
        // once it completed (a refund under review has its records and no ledger rows yet).
        for refund in try InvariantQueries.refundOrders(db) {
            let completed = refund.status == "COMPLETED"
            let (cash, credit) = completed ? (refund.cash, refund.credit) : (0, 0)
            if cash != refund.cashCredited || credit != refund.creditCredited {
                order(refund.order, "refund records give back cash \(cash) and credit \(credit) but the ledger credited cash \(refund.cashCredited) and credit \(refund.creditCredited)")
            }
        }
        // Pay-per-use hours: what each hour's funding took from cash and credit is what the
        // ledger took under that hour's reference.
        for hour in try InvariantQueries.usageHourMismatches(db) {
            let detail = "usage hour \(hour.reference) was funded with \(hour.funded) but the ledger took \(hour.taken)"
            if hour.ledger > 0 { ledger(hour.ledger, detail) } else {
                breaches.append(["check": "ledger_reconciliation", "subject": .string("usage_funding \(hour.reference)"),
                                 "table": "usage_funding", "detail": .string(detail)])
            }
        }
        return breaches
    }
}
