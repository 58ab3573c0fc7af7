import BillingDomain
import BillingDocuments

/// Resources, what paid for them, and the periods they were paid for.
package enum ResourceStore {
    // Built once: a constant text is found in the statement cache by its address.
    private static let requireSQL = "SELECT \(columns) FROM resources WHERE id = ? AND account_id = ?"
    private static let ofOrderSQL = "SELECT \(columns) FROM resources WHERE order_id = ? ORDER BY seq"
    private static let columns = """
        id, account_id, order_id, line_no, product_id, product_type, billing_mode, region, status, primary_id, relation,
        period_unit, period_count, anchor_day, created_at, provisioned_at, effective_at, expire_at, ended_at, expiry_policy,
        grace_end, retention_end, freeze_reason, auto_renew_unit, auto_renew_count, auto_renew_remaining, next_attempt_at,
        reminded_days, due_at, refund_blocks
        """

    package static func decode(_ row: Row) throws -> Resource {
        // Named only in an error: not built for every row read.
        func record() -> String { "resource \(row.text(0))" }
        let unit: PeriodUnit? = try StoredValue.optionalChoice(row.optionalText(11), "period unit of \(record())")
        let renewUnit: PeriodUnit? = try StoredValue.optionalChoice(row.optionalText(23), "auto-renew unit of \(record())")
        return Resource(id: row.text(0), accountID: row.text(1), orderID: row.text(2), lineNo: row.int(3),
                        productID: row.text(4), productType: row.text(5),
                        billingMode: try StoredValue.choice(row.optionalText(6), "billing mode of \(record())"), region: row.optionalText(7),
                        status: try StoredValue.choice(row.optionalText(8), "status of \(record())"), primaryID: row.optionalText(9),
                        relation: try StoredValue.optionalChoice(row.optionalText(10), "relation of \(record())"),
                        period: try unit.map { try Period(row.int(12), $0) },
                        anchorDay: try row.optionalInt(13).map { code in
                            guard let day = AnchorDay(code: code) else { throw StoredValue.unreadable("anchor day of \(record())", "\(code) is not 1–31 or -1") }
                            return day
                        }, createdAt: row.int(14),
                        provisionedAt: row.optionalInt(15), effectiveAt: row.optionalInt(16), expireAt: row.optionalInt(17),
                        endedAt: row.optionalInt(18), expiryPolicy: row.text(19),
                        // Every field through the initializer, in column order (the same order
                        // of checks): set one by one afterwards, the value was copied again.
                        graceEnd: row.optionalInt(20), retentionEnd: row.optionalInt(21),
                        freezeReason: try StoredValue.optionalChoice(row.optionalText(22), "freeze reason of \(record())"),
                        autoRenewPeriod: try renewUnit.map { try Period(row.int(24), $0) }, autoRenewRemaining: row.optionalInt(25),
                        nextAttemptAt: row.optionalInt(26), remindedDays: row.optionalInt(27), dueAt: row.optionalInt(28),
                        refundBlocks: (row.optionalText(29) ?? "").split(separator: ",").map(String.init))
    }

    /// A resource of an account; another account's resource is "not found".
    package static func require(_ db: Connection, _ id: String, account: String) throws -> Resource {
        var resource: Resource?
        try db.query(requireSQL, texts: id, account) { resource = try decode($0); return false }
        // Taken out of the optional, not copied from it (ten strings and an array).
        guard let resource = resource.take() else { throw BillingError.notFound(.resourceNotFound, id) }
        return resource
    }

    package static func ofOrder(_ db: Connection, _ order: String) throws -> [Resource] {
        try db.all(ofOrderSQL, order, map: decode)
    }

    /// Writes a new resource; its status must be one `ResourceStateMachine` creates resources in.
    package static func insert(_ db: Connection, _ resource: Resource, sequence: Int64) throws {
        try ResourceStateMachine.transition(from: nil, to: resource.status, subject: "resource \(resource.id)")
        let values: [DatabaseBindable] = [
            sequence, resource.id, resource.accountID, resource.orderID, resource.lineNo, resource.productID,
            resource.productType, resource.billingMode.rawValue, resource.region, resource.status.rawValue,
            resource.primaryID, resource.relation?.rawValue, resource.period?.unit.rawValue, resource.period?.count,
            resource.anchorDay?.code, resource.createdAt, resource.provisionedAt, resource.effectiveAt,
            resource.expireAt, resource.endedAt, resource.expiryPolicy, resource.graceEnd, resource.retentionEnd,
            resource.freezeReason?.rawValue, resource.autoRenewPeriod?.unit.rawValue, resource.autoRenewPeriod?.count,
            resource.autoRenewRemaining, resource.nextAttemptAt, resource.remindedDays, resource.dueAt,
            resource.refundBlocks.isEmpty ? nil : resource.refundBlocks.joined(separator: ","),
        ]
        try db.forEach(insertSQL, values) { _ in }
    }

    /// A parameter for `seq` and each of `columns` (the text built once, found by address).
    private static let insertSQL = """
        INSERT INTO resources (seq, \(columns)) VALUES (\(Array(repeating: "?", count: columns.split(separator: ",").count + 1).joined(separator: ", ")))
        """

    /// Writes the fields that change over a resource's life. A status other than the stored one
    /// must be a move of `ResourceStateMachine` from it: a forbidden move, or a copy read before
    /// another write moved the resource, is refused, never written.
    package static func update(_ db: Connection, _ resource: Resource) throws {
        guard let stored = try db.first("SELECT status FROM resources WHERE id = ?", resource.id, map: {
            try StoredValue.choice($0.optionalText(0), "status of resource \(resource.id)") as ResourceStatus
        }) else { throw BillingError.notFound(.resourceNotFound, resource.id) }
        if stored != resource.status {
            try ResourceStateMachine.transition(from: stored, to: resource.status, subject: "resource \(resource.id)")
        }
        try write(db, resource)
    }

    /// Writes a copy of a resource that this transaction read and moved only through
    /// `Resource.transition(to:)` (each step checked there), without reading its stored status
    /// again: nothing else can have moved the row since (SQLite's write transaction holds the
    /// file; on PostgreSQL a concurrent change of a row this SERIALIZABLE transaction read
    /// fails the UPDATE with a serialization failure). Several moves made in memory (expiry then
    /// freezing) are written as one.
    package static func write(_ db: Connection, _ resource: Resource) throws {
        // The values built as `DatabaseValue`s, not through `DatabaseBindable`: its witness for
        // an optional is generic, and nineteen of them (an array of existentials before, a
        // parameter pack since) looked up metadata for every row the scheduler moves.
        let values: [DatabaseValue] = [
            .text(resource.status.rawValue), .text(resource.billingMode.rawValue), integer(resource.anchorDay?.code),
            integer(resource.provisionedAt), integer(resource.effectiveAt), integer(resource.expireAt), integer(resource.endedAt),
            .text(resource.expiryPolicy), integer(resource.graceEnd), integer(resource.retentionEnd), text(resource.freezeReason?.rawValue),
            text(resource.autoRenewPeriod?.unit.rawValue), integer(resource.autoRenewPeriod?.count), integer(resource.autoRenewRemaining),
            integer(resource.nextAttemptAt), integer(resource.remindedDays), integer(resource.dueAt),
            resource.refundBlocks.isEmpty ? .null : .text(resource.refundBlocks.joined(separator: ",")), .text(resource.id),
        ]
        try values.withUnsafeBufferPointer { _ = try db.execute(writeSQL, values: $0) }
    }

    private static let writeSQL = """
        UPDATE resources SET status = ?, billing_mode = ?, anchor_day = ?, provisioned_at = ?, effective_at = ?, expire_at = ?,
            ended_at = ?, expiry_policy = ?, grace_end = ?, retention_end = ?, freeze_reason = ?, auto_renew_unit = ?,
            auto_renew_count = ?, auto_renew_remaining = ?, next_attempt_at = ?, reminded_days = ?, due_at = ?,
            refund_blocks = ?
        WHERE id = ?
        """

    @inline(__always)
    private static func integer(_ value: Int64?) -> DatabaseValue { value.map { .integer($0) } ?? .null }

    @inline(__always)
    private static func text(_ value: String?) -> DatabaseValue { value.map { .text($0) } ?? .null }

    /// The bound resources that share the primary's life (in use, expired or frozen): not
    /// those still waiting for provisioning, nor those that failed or ended.
    package static func liveBound(_ db: Connection, to primary: String) throws -> [Resource] {
        try bound(db, to: primary).filter {
            switch $0.status {
            case .inUse, .expired, .frozen: true
            default: false
            }
        }
    }

    /// The bound resources hanging on a primary.
    package static func bound(_ db: Connection, to primary: String) throws -> [Resource] {
        var resources: [Resource] = []
        try db.query(boundSQL, texts: primary) { resources.append(try decode($0)); return true }
        return resources
    }

    /// Built once (found by address): the text interpolated on each call was a new string each
    /// time, which the statement cache hashed whole and added another entry for.
    private static let boundSQL = "SELECT \(columns) FROM resources WHERE primary_id = ? AND relation = 'BOUND' ORDER BY seq"

    /// The order waiting for payment or processing on a resource, if any.
    package static func openOrder(_ db: Connection, of resource: String) throws -> String? {
        try db.first("SELECT order_id FROM resource_open_orders WHERE resource_id = ?", resource) { $0.text(0) }
    }

    /// Marks an order open on a resource; a second open order is refused by the primary key.
    package static func open(_ db: Connection, order: String, on resource: String) throws {
        // Not a failing INSERT: on PostgreSQL a failed statement aborts the whole transaction.
        let inserted = try db.run("INSERT INTO resource_open_orders (resource_id, order_id) VALUES (?, ?) ON CONFLICT (resource_id) DO NOTHING",
                                  resource, order)
        if inserted == 0 {
            throw BillingError.refused(.pendingOrderExists, "resource \(resource) already has an order waiting; pay or cancel it first")
        }
    }

    /// Clears the open-order marks of an order (paid and applied, or cancelled).
    package static func close(_ db: Connection, order: String) throws {
        try db.run("DELETE FROM resource_open_orders WHERE order_id = ?", order)
    }

    /// Records what one source paid for a resource under an order.
    package static func fund(_ db: Connection, resource: String, order: String, source: FundingSource, coupon: String?, amount: Money) throws {
        try db.run("""
            INSERT INTO resource_funding (resource_id, order_id, source, coupon_id, amount) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (resource_id, order_id, source, coupon_id) DO UPDATE SET amount = resource_funding.amount + excluded.amount
            """, resource, order, source.rawValue, coupon ?? "", amount)
    }

    /// What paid for a resource under an order: (source, coupon id or nil, amount).
    package static func funding(_ db: Connection, resource: String, order: String) throws -> [(source: FundingSource, coupon: String?, amount: Money)] {
        try db.all("SELECT source, coupon_id, amount FROM resource_funding WHERE resource_id = ? AND order_id = ? ORDER BY source, coupon_id",
                   resource, order) { row in
            (try StoredValue.choice(row.optionalText(0), "funding source of resource \(resource) under order \(order)"),
             row.text(1).isEmpty ? nil : row.text(1), Money(fen: row.int(2)))
        }
    }

    /// The paid periods of a resource, oldest first: (paying order, start, end).
    package static func periods(_ db: Connection, of resource: String) throws -> [(order: String, start: Int64, end: Int64)] {
        try db.all("SELECT order_id, start_at, end_at FROM resource_periods WHERE resource_id = ? AND status = 'PAID' ORDER BY start_at",
                   resource) { ($0.text(0), $0.int(1), $0.int(2)) }
    }

    /// Records a paid period.
    package static func addPeriod(_ db: Connection, resource: String, order: String, start: Int64, end: Int64) throws {
        try db.run("INSERT INTO resource_periods (resource_id, order_id, start_at, end_at) VALUES (?, ?, ?, ?)", resource, order, start, end)
    }

    /// Marks refunded the paid periods of a resource that start at or after `start` (a renewal
    /// unsubscribed: the resource falls back to its earlier expiry).
    package static func refundPeriods(_ db: Connection, of resource: String, startingFrom start: Int64) throws {
        try db.run("UPDATE resource_periods SET status = 'REFUNDED' WHERE resource_id = ? AND start_at >= ?", resource, start)
    }

    /// Marks refunded the paid periods of a resource that end after `instant` (the resource
    /// unsubscribed).
    package static func refundPeriods(_ db: Connection, of resource: String, endingAfter instant: Int64) throws {
        try db.run("UPDATE resource_periods SET status = 'REFUNDED' WHERE resource_id = ? AND end_at > ?", resource, instant)
    }

    // MARK: Selections of the scheduler and the operations

    /// At most `limit` resources whose next work is due at `instant`, soonest first, taken
    /// (`DueClaim`): (id, account); and whether more are due.
    package static func due(_ db: Connection, at instant: Int64, limit: Int64) throws -> (rows: [(id: String, account: String)], more: Bool) {
        try dueClaim.take(db, [instant], limit: limit) { ($0.text(0), $0.text(1)) }
    }

    private static let dueClaim = DueClaim("SELECT id, account_id FROM resources WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at")

    /// Moves a resource's next work to `instant` (one that could not advance is set aside).
    package static func postpone(_ db: Connection, _ id: String, until instant: Int64) throws {
        try db.run("UPDATE resources SET due_at = ? WHERE id = ?", instant, id)
    }

    /// The account's auto-renewing yearly/monthly resources in use, in purchase order.
    package static func autoRenewingInUse(_ db: Connection, account: String) throws -> [String] {
        try db.all("""
            SELECT id FROM resources WHERE account_id = ? AND expiry_policy = 'AUTO_RENEW' AND billing_mode = 'PREPAID'
                AND status = 'IN_USE' ORDER BY seq
            """, account) { $0.text(0) }
    }

    /// The account's pay-per-use resources in use.
    package static func onDemandInUse(_ db: Connection, account: String) throws -> [String] {
        try db.all("SELECT id FROM resources WHERE account_id = ? AND billing_mode = 'ON_DEMAND' AND status = 'IN_USE'", account, map: { $0.text(0) })
    }

    /// The account's pay-per-use resources held by its arrears: in grace, or frozen for them.
    package static func onDemandInArrears(_ db: Connection, account: String) throws -> [String] {
        try db.all("""
            SELECT id FROM resources WHERE account_id = ? AND billing_mode = 'ON_DEMAND'
                AND ((status = 'IN_USE' AND grace_end IS NOT NULL) OR (status = 'FROZEN' AND freeze_reason = ?))
            """, account, ResourceFreezeReason.arrears.rawValue, map: { $0.text(0) })
    }

    /// The account's packages valid at an instant (in effect, waiting to take effect, or expired
    /// since), in the order they cover usage (§2.4): earliest expiry, earliest effective,
    /// earliest purchase.
    package static func packagesCovering(_ db: Connection, account: String, at instant: Int64) throws -> [String] {
        try db.all("""
            SELECT id FROM resources WHERE account_id = ? AND billing_mode = 'PACKAGE' AND status IN ('IN_USE', 'PENDING_EFFECTIVE', 'EXPIRED')
                AND effective_at <= ? AND expire_at >= ? ORDER BY expire_at, effective_at, seq
            """, account, instant, instant) { $0.text(0) }
    }

    /// The account's packages in purchase order after a sequence number: (id, seq).
    package static func packagePage(_ db: Connection, account: String, after: Int64, limit: Int64) throws -> [(id: String, sequence: Int64)] {
        try db.all("""
            SELECT id, seq FROM resources WHERE account_id = ? AND billing_mode = 'PACKAGE' AND seq > ? ORDER BY seq LIMIT ?
            """, account, after, limit) { ($0.text(0), $0.int(1)) }
    }

    // MARK: The renewal view (§4.6)

    /// The WHERE conditions of a renewal-view filter; `allTabs` leaves out the tab (for the per-tab counts).
    private static func conditions(_ filter: RenewalFilter, allTabs: Bool = false) -> ([String], [DatabaseBindable]) {
        var conditions = ["account_id = ?", "billing_mode = 'PREPAID'", "primary_id IS NULL", "status IN ('IN_USE', 'EXPIRED', 'FROZEN')"]
        var arguments: [DatabaseBindable] = [filter.account]
        if filter.tab != "ALL" && !allTabs { conditions.append("expiry_policy = ?"); arguments.append(filter.tab) }
        if let from = filter.from { conditions.append("expire_at >= ?"); arguments.append(from) }
        if let to = filter.to { conditions.append("expire_at <= ?"); arguments.append(to) }
        if let resources = filter.resources {
            conditions.append("id IN (\(Array(repeating: "?", count: resources.count).joined(separator: ", ")))")
            arguments += resources.map { $0 as DatabaseBindable }
        }
        if let status = filter.status { conditions.append("status = ?"); arguments.append(status) }
        if let order = filter.order {
            // A combined order's id finds the resources of its sub-orders too.
            conditions.append("""
                (order_id IN (SELECT id FROM orders WHERE id = ? OR combined_id = ?) OR id IN (SELECT resource_id FROM order_lines
                    WHERE order_id IN (SELECT id FROM orders WHERE id = ? OR combined_id = ?) AND resource_id IS NOT NULL))
                """)
            arguments += [order, order, order, order]
        }
        if filter.hidePending { conditions.append("id NOT IN (SELECT resource_id FROM resource_open_orders)") }
        return (conditions, arguments)
    }

    /// Keys of the resources a renewal-view filter keeps, soonest expiry first, after an
    /// (expire_at, seq) cursor.
    package static func page(_ db: Connection, _ filter: RenewalFilter, after cursor: (Int64, Int64)?, limit: Int64)
        throws -> [(id: String, expiry: Int64, sequence: Int64)] {
        var (conditions, arguments) = self.conditions(filter)
        if let cursor { conditions.append("(expire_at, seq) > (?, ?)"); arguments += [cursor.0, cursor.1] }
        arguments.append(limit)
        var keys: [(id: String, expiry: Int64, sequence: Int64)] = []
        try db.forEach("SELECT id, expire_at, seq FROM resources WHERE \(conditions.joined(separator: " AND ")) ORDER BY expire_at, seq LIMIT ?",
                       arguments) { keys.append(($0.text(0), $0.int(1), $0.int(2))) }
        return keys
    }

    /// How many resources a renewal-view filter keeps.
    package static func count(_ db: Connection, _ filter: RenewalFilter) throws -> Int64 {
        let (conditions, arguments) = self.conditions(filter)
        var total: Int64 = 0
        try db.forEach("SELECT count(*) FROM resources WHERE \(conditions.joined(separator: " AND "))", arguments) { total = $0.int(0) }
        return total
    }

    /// How many resources of each expiry policy a renewal-view filter keeps, its tab left out:
    /// one grouped read of the account's primary prepaid resources through `renewals_view`.
    package static func policyCounts(_ db: Connection, _ filter: RenewalFilter) throws -> [(policy: String, count: Int64)] {
        let (conditions, arguments) = self.conditions(filter, allTabs: true)
        var counts: [(policy: String, count: Int64)] = []
        try db.forEach("SELECT expiry_policy, count(*) FROM resources WHERE \(conditions.joined(separator: " AND ")) GROUP BY expiry_policy",
                       arguments) { counts.append(($0.text(0), $0.int(1))) }
        return counts
    }

    // MARK: The unsubscription list

    /// Live resources (in effect or a package waiting to take effect; not those waiting for
    /// provisioning, failed or ended, nor those bound to a primary that carries them) of an
    /// account, optionally only some ids and product types, newest first, before a `seq`
    /// cursor; read through the partial index `resources_live`. Returns (id, seq).
    package static func liveCandidates(_ db: Connection, account: String, ids: [String]?, productTypes: [String]?, before cursor: Int64,
                               limit: Int64) throws -> [(String, Int64)] {
        var conditions = ["account_id = ?", "status IN ('PENDING_EFFECTIVE', 'IN_USE', 'EXPIRED', 'FROZEN')",
                          "(relation IS NULL OR relation != 'BOUND')", "seq < ?"]
        var arguments: [DatabaseBindable] = [account, cursor]
        if let ids {
            conditions.append("id IN (\(Array(repeating: "?", count: ids.count).joined(separator: ", ")))")
            arguments += ids.map { $0 as DatabaseBindable }
        }
        if let productTypes {
            conditions.append("product_type IN (\(Array(repeating: "?", count: productTypes.count).joined(separator: ", ")))")
            arguments += productTypes.map { $0 as DatabaseBindable }
        }
        arguments.append(limit)
        var rows: [(String, Int64)] = []
        try db.forEach("SELECT id, seq FROM resources WHERE \(conditions.joined(separator: " AND ")) ORDER BY seq DESC LIMIT ?", arguments) {
            rows.append(($0.text(0), $0.int(1)))
        }
        return rows
    }
}
