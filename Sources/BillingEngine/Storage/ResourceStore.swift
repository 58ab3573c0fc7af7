/// Resources, what paid for them, and the periods they were paid for.
enum ResourceStore {
    private static let columns = """
        id, account_id, order_id, line_no, product_id, product_type, billing_mode, region, status, primary_id, relation,
        period_unit, period_count, anchor_day, created_at, provisioned_at, effective_at, expire_at, ended_at, expiry_policy,
        grace_end, retention_end, freeze_reason, auto_renew_unit, auto_renew_count, auto_renew_remaining, next_attempt_at,
        reminded_days, due_at, refund_blocks
        """

    static func decode(_ row: Row) throws -> Resource {
        let record = "resource \(row.text(0))"
        let unit: PeriodUnit? = try StoredValue.optionalChoice(row.optionalText(11), "period unit of \(record)")
        let renewUnit: PeriodUnit? = try StoredValue.optionalChoice(row.optionalText(23), "auto-renew unit of \(record)")
        var resource = Resource(id: row.text(0), accountID: row.text(1), orderID: row.text(2), lineNo: row.int(3),
                        productID: row.text(4), productType: row.text(5),
                        billingMode: try StoredValue.choice(row.optionalText(6), "billing mode of \(record)"), region: row.optionalText(7),
                        status: try StoredValue.choice(row.optionalText(8), "status of \(record)"), primaryID: row.optionalText(9),
                        relation: try StoredValue.optionalChoice(row.optionalText(10), "relation of \(record)"),
                        period: try unit.map { try Period(row.int(12), $0) },
                        anchorDay: try row.optionalInt(13).map { code in
                            guard let day = AnchorDay(code: code) else { throw StoredValue.unreadable("anchor day of \(record)", "\(code) is not 1–31 or -1") }
                            return day
                        }, createdAt: row.int(14),
                        provisionedAt: row.optionalInt(15), effectiveAt: row.optionalInt(16), expireAt: row.optionalInt(17),
                        endedAt: row.optionalInt(18), expiryPolicy: row.text(19))
        resource.graceEnd = row.optionalInt(20)
        resource.retentionEnd = row.optionalInt(21)
        resource.freezeReason = try StoredValue.optionalChoice(row.optionalText(22), "freeze reason of \(record)")
        resource.autoRenewPeriod = try renewUnit.map { try Period(row.int(24), $0) }
        resource.autoRenewRemaining = row.optionalInt(25)
        resource.nextAttemptAt = row.optionalInt(26)
        resource.remindedDays = row.optionalInt(27)
        resource.dueAt = row.optionalInt(28)
        resource.refundBlocks = (row.optionalText(29) ?? "").split(separator: ",").map(String.init)
        return resource
    }

    /// A resource of an account; another account's resource is "not found".
    static func require(_ db: Connection, _ id: String, account: String) throws -> Resource {
        guard let resource = try db.first("SELECT \(columns) FROM resources WHERE id = ? AND account_id = ?", id, account, map: decode) else {
            throw BillingError.notFound("resource", id)
        }
        return resource
    }

    static func ofOrder(_ db: Connection, _ order: String) throws -> [Resource] {
        try db.all("SELECT \(columns) FROM resources WHERE order_id = ? ORDER BY seq", order, map: decode)
    }

    /// Writes a new resource; its status must be one `ResourceStateMachine` creates resources in.
    static func insert(_ db: Connection, _ resource: Resource, sequence: Int64) throws {
        try ResourceStateMachine.transition(from: nil, to: resource.status, subject: "resource \(resource.id)")
        let values: [SQLiteBindable] = [
            sequence, resource.id, resource.accountID, resource.orderID, resource.lineNo, resource.productID,
            resource.productType, resource.billingMode.rawValue, resource.region, resource.status.rawValue,
            resource.primaryID, resource.relation?.rawValue, resource.period?.unit.rawValue, resource.period?.count,
            resource.anchorDay?.code, resource.createdAt, resource.provisionedAt, resource.effectiveAt,
            resource.expireAt, resource.endedAt, resource.expiryPolicy, resource.graceEnd, resource.retentionEnd,
            resource.freezeReason?.rawValue, resource.autoRenewPeriod?.unit.rawValue, resource.autoRenewPeriod?.count,
            resource.autoRenewRemaining, resource.nextAttemptAt, resource.remindedDays, resource.dueAt,
            resource.refundBlocks.isEmpty ? nil : resource.refundBlocks.joined(separator: ","),
        ]
        try db.forEach("INSERT INTO resources (seq, \(columns)) VALUES (\(Array(repeating: "?", count: values.count).joined(separator: ", ")))",
                       values) { _ in }
    }

    /// Writes the fields that change over a resource's life. A status other than the stored one
    /// must be a move of `ResourceStateMachine` from it: a forbidden move, or a copy read before
    /// another write moved the resource, is refused, never written.
    static func update(_ db: Connection, _ resource: Resource) throws {
        guard let stored = try db.first("SELECT status FROM resources WHERE id = ?", resource.id, map: {
            try StoredValue.choice($0.optionalText(0), "status of resource \(resource.id)") as ResourceStatus
        }) else { throw BillingError.notFound("resource", resource.id) }
        if stored != resource.status {
            try ResourceStateMachine.transition(from: stored, to: resource.status, subject: "resource \(resource.id)")
        }
        try db.forEach("""
            UPDATE resources SET status = ?, billing_mode = ?, anchor_day = ?, provisioned_at = ?, effective_at = ?, expire_at = ?,
                ended_at = ?, expiry_policy = ?, grace_end = ?, retention_end = ?, freeze_reason = ?, auto_renew_unit = ?,
                auto_renew_count = ?, auto_renew_remaining = ?, next_attempt_at = ?, reminded_days = ?, due_at = ?,
                refund_blocks = ?
            WHERE id = ?
            """, [resource.status.rawValue, resource.billingMode.rawValue, resource.anchorDay?.code, resource.provisionedAt,
                  resource.effectiveAt, resource.expireAt, resource.endedAt, resource.expiryPolicy, resource.graceEnd,
                  resource.retentionEnd, resource.freezeReason?.rawValue, resource.autoRenewPeriod?.unit.rawValue,
                  resource.autoRenewPeriod?.count, resource.autoRenewRemaining, resource.nextAttemptAt,
                  resource.remindedDays, resource.dueAt,
                  resource.refundBlocks.isEmpty ? nil : resource.refundBlocks.joined(separator: ","), resource.id]) { _ in }
    }

    /// The bound resources that share the primary's life (in use, expired or frozen): not
    /// those still waiting for provisioning, nor those that failed or ended.
    static func liveBound(_ db: Connection, to primary: String) throws -> [Resource] {
        try bound(db, to: primary).filter { [.inUse, .expired, .frozen].contains($0.status) }
    }

    /// The bound resources hanging on a primary.
    static func bound(_ db: Connection, to primary: String) throws -> [Resource] {
        try db.all("SELECT \(columns) FROM resources WHERE primary_id = ? AND relation = 'BOUND' ORDER BY seq", primary, map: decode)
    }

    /// The order waiting for payment or processing on a resource, if any.
    static func openOrder(_ db: Connection, of resource: String) throws -> String? {
        try db.first("SELECT order_id FROM resource_open_orders WHERE resource_id = ?", resource) { $0.text(0) }
    }

    /// Marks an order open on a resource; a second open order is refused by the primary key.
    static func open(_ db: Connection, order: String, on resource: String) throws {
        do {
            try db.run("INSERT INTO resource_open_orders (resource_id, order_id) VALUES (?, ?)", resource, order)
        } catch let error as BillingError where error.status == .conflict {
            throw BillingError.refused("pending_order_exists", "resource \(resource) already has an order waiting; pay or cancel it first")
        }
    }

    /// Clears the open-order marks of an order (paid and applied, or cancelled).
    static func close(_ db: Connection, order: String) throws {
        try db.run("DELETE FROM resource_open_orders WHERE order_id = ?", order)
    }

    /// Records what one source paid for a resource under an order.
    static func fund(_ db: Connection, resource: String, order: String, source: FundingSource, coupon: String?, amount: Money) throws {
        try db.run("""
            INSERT INTO resource_funding (resource_id, order_id, source, coupon_id, amount) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (resource_id, order_id, source, coupon_id) DO UPDATE SET amount = amount + excluded.amount
            """, resource, order, source.rawValue, coupon ?? "", amount)
    }

    /// What paid for a resource under an order: (source, coupon id or nil, amount).
    static func funding(_ db: Connection, resource: String, order: String) throws -> [(source: FundingSource, coupon: String?, amount: Money)] {
        try db.all("SELECT source, coupon_id, amount FROM resource_funding WHERE resource_id = ? AND order_id = ? ORDER BY source, coupon_id",
                   resource, order) { row in
            (try StoredValue.choice(row.optionalText(0), "funding source of resource \(resource) under order \(order)"),
             row.text(1).isEmpty ? nil : row.text(1), Money(fen: row.int(2)))
        }
    }

    /// The paid periods of a resource, oldest first: (paying order, start, end).
    static func periods(_ db: Connection, of resource: String) throws -> [(order: String, start: Int64, end: Int64)] {
        try db.all("SELECT order_id, start_at, end_at FROM resource_periods WHERE resource_id = ? AND status = 'PAID' ORDER BY start_at",
                   resource) { ($0.text(0), $0.int(1), $0.int(2)) }
    }

    /// Records a paid period.
    static func addPeriod(_ db: Connection, resource: String, order: String, start: Int64, end: Int64) throws {
        try db.run("INSERT INTO resource_periods (resource_id, order_id, start_at, end_at) VALUES (?, ?, ?, ?)", resource, order, start, end)
    }
}
