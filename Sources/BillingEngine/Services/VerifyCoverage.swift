/// The parts of `verify` that catch changes made outside the library: the chain's head, rows
/// that no longer match their last recorded write, and money that does not reconcile with
/// the operations that moved it.
extension Engine {
    /// What verify is asked to check: how thoroughly SQLite checks the file, and optionally the
    /// head of the audit chain the host kept from `billing_audit_head`.
    struct VerifyRequest {
        let integrity: IntegrityMode
        let head: (position: Int64, digest: String)?

        init(_ reader: ObjectReader) throws {
            integrity = try Engine.integrityMode(reader)
            if let head = try reader.optionalObject("audit_head") {
                let position = try head.int("position", in: 0...Int64.max)
                let digest = try head.string("digest", maxLength: 128)
                // billing_audit_head's response may be passed back as it came.
                _ = try head.optionalInt("schema_version")
                try head.finish()
                self.head = (position, digest)
            } else {
                self.head = nil
            }
        }
    }

    /// The chain's head: `{}` → `{"position", "digest"}` (the last audit row's id and hash).
    /// A host that stores it outside the file (after each write, or periodically) and passes it
    /// back to `verify` detects a cut chain (rows deleted at the end) and a recomputed one.
    public func auditHead(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: { _ in () }) { context, _ in
            let head = try AuditLog.head(context.db)
            return ["position": .integer(head.position), "digest": .string(head.digest)]
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

    /// The host's head against the chain: the row at `position` must exist with that hash.
    static func headBreaches(_ db: Connection, head: (position: Int64, digest: String)?) throws -> [JSONValue] {
        guard let head else { return [] }
        let current = try AuditLog.head(db)
        let stored = try db.first("SELECT coalesce(hash, '') FROM audit_log WHERE id = ?", head.position) { $0.text(0) }
        let problem: String?
        if head.position == 0 {
            problem = nil
        } else if stored == nil {
            problem = "the chain does not reach position \(head.position) (it ends at \(current.position)): rows were deleted at its end"
        } else if stored != head.digest {
            problem = "the row at position \(head.position) hashes to another digest than the head the host kept: the chain was rewritten"
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
                let recorded = try db.first("SELECT digest, audit_id FROM row_digests WHERE table_name = ? AND row_key = ?",
                                            table.name, key) { ($0.text(0), $0.int(1)) }
                if let recorded {
                    if recorded.0 != digest {
                        breaches.append(rowBreach("row_tampered", table: table.name, key: key,
                                                  "the row differs from its last write by the library (audit row \(recorded.1))"))
                    }
                } else {
                    breaches.append(rowBreach("row_tampered", table: table.name, key: key,
                                              "the row was not written by the library (no recorded digest)"))
                }
            }
            let match = table.key.enumerated().map { "t.\($1) = json_extract(d.row_key, '$[\($0)]')" }.joined(separator: " AND ")
            try db.forEach("""
                SELECT d.row_key, d.audit_id FROM row_digests d
                WHERE d.table_name = ? AND NOT EXISTS (SELECT 1 FROM main.\(table.name) t WHERE \(match))
                """, [table.name]) { row in
                breaches.append(rowBreach("row_tampered", table: table.name, key: row.text(0),
                                          "the row was deleted outside the library (last written by audit row \(row.int(1)))"))
            }
        }
        // The recorded digests must be the chain's: the last write of each key that an audit
        // row lists. A digest edited to match an edited row shows here.
        try db.forEach("""
            WITH writes AS (
                SELECT a.id AS audit_id, json_extract(j.value, '$[0]') AS t, json_extract(j.value, '$[1]') AS k,
                    json_extract(j.value, '$[2]') AS d
                FROM audit_log a, json_each(a.rows) j WHERE a.rows IS NOT NULL AND json_valid(a.rows)),
            last AS (SELECT t, k, d, max(audit_id) AS audit_id FROM writes GROUP BY t, k)
            SELECT l.t, l.k, l.audit_id, 'listed' FROM last l LEFT JOIN row_digests r ON r.table_name = l.t AND r.row_key = l.k
                WHERE (l.d IS NULL) != (r.digest IS NULL) OR l.d != r.digest OR l.audit_id != r.audit_id
            UNION ALL
            SELECT r.table_name, r.row_key, r.audit_id, 'unlisted' FROM row_digests r
                WHERE NOT EXISTS (SELECT 1 FROM last l WHERE l.t = r.table_name AND l.k = r.row_key)
            """) { row in
            breaches.append(rowBreach("row_tampered", table: row.text(0), key: row.text(1), row.text(3) == "listed"
                ? "its recorded digest is not the one audit row \(row.int(2)) wrote last"
                : "its recorded digest names audit row \(row.int(2)), which does not list it"))
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
        try db.forEach("""
            SELECT l.id, l.reference FROM ledger l WHERE l.kind = 'TOPUP' AND (l.reference IS NULL OR l.fund != 'CASH' OR l.amount <= 0
                OR l.order_id IS NOT NULL OR NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.account_id = l.account_id
                    AND a.operation = 'account.topup' AND a.subject_id = l.reference))
            """) { row in
            ledger(row.int(0), "top-up \(row.optionalText(1).map { BillingError.quote($0) } ?? "without reference") was not recorded by an audited top-up")
        }
        // Payments and refunds name an order of the account that exists and could cause them.
        try db.forEach("""
            SELECT l.id, l.kind, l.order_id FROM ledger l LEFT JOIN orders o ON o.id = l.order_id AND o.account_id = l.account_id
            WHERE l.kind IN ('PAYMENT', 'AUTO_RENEWAL', 'REFUND') AND (o.id IS NULL
                OR (l.kind = 'REFUND') != (o.type = 'UNSUBSCRIBE') OR o.is_combined = 1)
            """) { row in
            ledger(row.int(0), "\(row.text(1)) names order \(row.optionalText(2) ?? "none"), which is not an order of the account that could cause it")
        }
        // Usage charges name the hour they paid.
        try db.forEach("""
            SELECT l.id FROM ledger l WHERE l.kind = 'USAGE' AND (l.reference IS NULL OR l.order_id IS NOT NULL)
            UNION ALL
            SELECT l.id FROM ledger l WHERE l.kind NOT IN ('TOPUP', 'PAYMENT', 'AUTO_RENEWAL', 'REFUND', 'USAGE')
            """) { row in
            ledger(row.int(0), "a ledger row of a kind or shape no operation writes")
        }
        // What each order paid from cash and credit is what the ledger took for it.
        try db.forEach("""
            SELECT o.id, o.cash, o.credit,
                (SELECT coalesce(-sum(amount), 0) FROM ledger WHERE order_id = o.id AND fund = 'CASH' AND kind IN ('PAYMENT', 'AUTO_RENEWAL')),
                (SELECT coalesce(-sum(amount), 0) FROM ledger WHERE order_id = o.id AND fund = 'CREDIT' AND kind IN ('PAYMENT', 'AUTO_RENEWAL'))
            FROM orders o WHERE o.is_combined = 0 AND o.type != 'UNSUBSCRIBE'
            """) { row in
            let (cash, credit, cashTaken, creditTaken) = (row.int(1), row.int(2), row.int(3), row.int(4))
            if cash != cashTaken || credit != creditTaken {
                order(row.text(0), "paid cash \(cash) and credit \(credit) but the ledger took cash \(cashTaken) and credit \(creditTaken)")
            }
        }
        // What a refund order gave back in cash and credit is what its refund records say,
        // once it completed (a refund under review has its records and no ledger rows yet).
        try db.forEach("""
            SELECT o.id, o.status,
                (SELECT coalesce(sum(amount), 0) FROM resource_refunds WHERE refund_order_id = o.id AND source = 'CASH'),
                (SELECT coalesce(sum(amount), 0) FROM resource_refunds WHERE refund_order_id = o.id AND source = 'CREDIT'),
                (SELECT coalesce(sum(amount), 0) FROM ledger WHERE order_id = o.id AND kind = 'REFUND' AND fund = 'CASH'),
                (SELECT coalesce(sum(amount), 0) FROM ledger WHERE order_id = o.id AND kind = 'REFUND' AND fund = 'CREDIT')
            FROM orders o WHERE o.is_combined = 0 AND o.type = 'UNSUBSCRIBE'
            """) { row in
            let completed = row.text(1) == "COMPLETED"
            let (cash, credit) = completed ? (row.int(2), row.int(3)) : (0, 0)
            if cash != row.int(4) || credit != row.int(5) {
                order(row.text(0), "refund records give back cash \(cash) and credit \(credit) but the ledger credited cash \(row.int(4)) and credit \(row.int(5))")
            }
        }
        // Pay-per-use hours: what each hour's funding took from cash and credit is what the
        // ledger took under that hour's reference.
        try db.forEach("""
            WITH funded AS (SELECT resource_id || '@' || hour_start AS reference, source, sum(amount) AS amount FROM usage_funding
                    WHERE source IN ('CASH', 'CREDIT') GROUP BY resource_id, hour_start, source),
                taken AS (SELECT reference, fund AS source, -sum(amount) AS amount, min(id) AS id FROM ledger WHERE kind = 'USAGE'
                    GROUP BY reference, fund)
            SELECT t.id, t.reference, t.amount, coalesce(f.amount, 0) FROM taken t
                LEFT JOIN funded f ON f.reference = t.reference AND f.source = t.source WHERE t.amount != coalesce(f.amount, 0)
            UNION ALL
            SELECT 0, f.reference, 0, f.amount FROM funded f
                WHERE NOT EXISTS (SELECT 1 FROM taken t WHERE t.reference = f.reference AND t.source = f.source) AND f.amount != 0
            """) { row in
            let detail = "usage hour \(row.text(1)) was funded with \(row.int(3)) but the ledger took \(row.int(2))"
            if row.int(0) > 0 { ledger(row.int(0), detail) } else {
                breaches.append(["check": "ledger_reconciliation", "subject": .string("usage_funding \(row.text(1))"),
                                 "table": "usage_funding", "detail": .string(detail)])
            }
        }
        return breaches
    }
}
