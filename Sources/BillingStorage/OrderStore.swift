import BillingDomain
import BillingDocuments

/// Orders and their lines.
package enum OrderStore {
    private static let columns = "id, " + columnsAfterID
    private static let columnsAfterID = """
        account_id, combined_id, is_combined, type, status, product_type, billing_mode, product_kind, created_at,
        pay_deadline, paid_at, completed_at, cancelled_at, cancel_reason, review_required, placed_by_manager, contract,
        source_order_id, list_price, commercial_discount, promotion_discount, discount_coupon, voucher, cash_coupon,
        stored_value_card, cash, credit
        """

    // The statements' texts are built once (each call used to build its text again), and a
    // constant text is found in the connection's statement cache by its address.
    private static let loadSQL = "SELECT \(columns) FROM orders WHERE id = ? AND account_id = ?"
    private static let subOrdersSQL = "SELECT \(columns) FROM orders WHERE combined_id = ? ORDER BY seq"
    private static let insertSQL =
        "INSERT INTO orders (id, seq, \(columnsAfterID)) VALUES (\(Array(repeating: "?", count: 29).joined(separator: ", ")))"
    private static let linesSQL = "SELECT \(lineColumns) FROM order_lines WHERE order_id = ? ORDER BY line_no"
    private static let insertLineSQL = "INSERT INTO order_lines (\(lineColumns)) VALUES (\(Array(repeating: "?", count: 26).joined(separator: ", ")))"

    package static func decode(_ row: Row) throws -> Order {
        let id = row.text(0)
        return Order(id: id, accountID: row.text(1), combinedID: row.optionalText(2), isCombined: row.bool(3),
              type: try StoredValue.choice(row.optionalText(4), "type of order \(id)"),
              status: try StoredValue.choice(row.optionalText(5), "status of order \(id)"),
              productType: row.text(6), billingMode: row.text(7), productKind: row.text(8), createdAt: row.int(9),
              payDeadline: row.optionalInt(10), paidAt: row.optionalInt(11), completedAt: row.optionalInt(12),
              cancelledAt: row.optionalInt(13), cancelReason: row.optionalText(14), reviewRequired: row.bool(15),
              placedByManager: row.bool(16), contract: row.optionalText(17), sourceOrderID: row.optionalText(18),
              amounts: amounts(row, from: 19))
    }

    /// Reads the nine amount columns starting at `first`.
    package static func amounts(_ row: Row, from first: Int32) -> OrderAmounts {
        var amounts = OrderAmounts()
        amounts.listPrice = Money(fen: row.int(first))
        amounts.commercialDiscount = Money(fen: row.int(first + 1))
        amounts.promotionDiscount = Money(fen: row.int(first + 2))
        amounts.discountCoupon = Money(fen: row.int(first + 3))
        amounts.voucher = Money(fen: row.int(first + 4))
        amounts.cashCoupon = Money(fen: row.int(first + 5))
        amounts.storedValueCard = Money(fen: row.int(first + 6))
        amounts.cash = Money(fen: row.int(first + 7))
        amounts.credit = Money(fen: row.int(first + 8))
        return amounts
    }

    package static func amountArguments(_ amounts: OrderAmounts) -> [DatabaseBindable] {
        [amounts.listPrice, amounts.commercialDiscount, amounts.promotionDiscount, amounts.discountCoupon, amounts.voucher,
         amounts.cashCoupon, amounts.storedValueCard, amounts.cash, amounts.credit]
    }

    package static func load(_ db: Connection, _ id: String, account: String) throws -> Order? {
        try db.first(loadSQL, id, account, map: decode)
    }

    /// The order of an account; another account's order is "not found".
    package static func require(_ db: Connection, _ id: String, account: String) throws -> Order {
        guard let order = try load(db, id, account: account) else { throw BillingError.notFound(.orderNotFound, id) }
        return order
    }

    package static func subOrders(_ db: Connection, of combined: String) throws -> [Order] {
        try db.all(subOrdersSQL, combined, map: decode)
    }

    /// Writes a new order; its status must be one `OrderStateMachine` creates orders in.
    package static func insert(_ db: Connection, _ order: Order, sequence: Int64) throws {
        try OrderStateMachine.transition(from: nil, to: order.status, type: order.type, subject: "order \(order.id)")
        let arguments: [DatabaseBindable] = [
            order.id, sequence, order.accountID, order.combinedID, order.isCombined, order.type.rawValue, order.status.rawValue,
            order.productType, order.billingMode, order.productKind, order.createdAt, order.payDeadline, order.paidAt,
            order.completedAt, order.cancelledAt, order.cancelReason, order.reviewRequired, order.placedByManager,
            order.contract, order.sourceOrderID,
        ] + amountArguments(order.amounts)
        try db.forEach(insertSQL, arguments) { _ in }
    }

    /// Writes status, times and amounts (the only fields that change after creation). A status
    /// other than the stored one must be a move of `OrderStateMachine` from it: a forbidden move,
    /// or a copy read before another write moved the order, is refused, never written.
    package static func update(_ db: Connection, _ order: Order) throws {
        guard let stored = try db.first("SELECT status FROM orders WHERE id = ?", order.id, map: {
            try StoredValue.choice($0.optionalText(0), "status of order \(order.id)") as OrderStatus
        }) else { throw BillingError.notFound(.orderNotFound, order.id) }
        if stored != order.status {
            try OrderStateMachine.transition(from: stored, to: order.status, type: order.type, subject: "order \(order.id)")
        }
        let arguments: [DatabaseBindable] = [order.status.rawValue, order.payDeadline, order.paidAt, order.completedAt,
                                           order.cancelledAt, order.cancelReason] + amountArguments(order.amounts) + [order.id]
        try db.forEach("""
            UPDATE orders SET status = ?, pay_deadline = ?, paid_at = ?, completed_at = ?, cancelled_at = ?, cancel_reason = ?,
                list_price = ?, commercial_discount = ?, promotion_discount = ?, discount_coupon = ?, voucher = ?,
                cash_coupon = ?, stored_value_card = ?, cash = ?, credit = ?
            WHERE id = ?
            """, arguments) { _ in }
    }

    private static let lineColumns = """
        order_id, line_no, product_id, product_type, billing_mode, region, period_unit, period_count, quantity, parent_line,
        relation, effective_at, product, list_price, commercial_discount, promotion_discount, discount_coupon, voucher,
        cash_coupon, stored_value_card, cash, credit, resource_id, renew_from, renew_to, anchor_after
        """

    package static func lines(_ db: Connection, of order: String) throws -> [OrderLine] {
        try db.all(linesSQL, order) { row in
            // Named only when a value cannot be read.
            func record() -> String { "order line \(row.int(1)) of order \(row.text(0))" }
            let unit: PeriodUnit? = try StoredValue.optionalChoice(row.optionalText(6), "period unit of \(record())")
            // Every line of a product holds the same snapshot: parsed once per distinct text.
            let productText = row.optionalText(12)
            var line = OrderLine(orderID: row.text(0), lineNo: row.int(1), productID: row.text(2), productType: row.text(3),
                             billingMode: try StoredValue.choice(row.optionalText(4), "billing mode of \(record())"), region: row.optionalText(5),
                             period: try unit.map { try Period(row.int(7), $0) }, quantity: row.int(8),
                             parentLine: row.optionalInt(9),
                             relation: try StoredValue.optionalChoice(row.optionalText(10), "relation of \(record())"),
                             effectiveAt: row.optionalInt(11),
                             product: try productText.map { try SnapshotCache.shared.value($0, "product document of \(record())") }
                                ?? StoredValue.document(nil, "product document of \(record())"),
                             amounts: amounts(row, from: 13))
            line.productText = KnownText(productText)
            line.resourceID = row.optionalText(22)
            line.renewFrom = row.optionalInt(23)
            line.renewTo = row.optionalInt(24)
            line.anchorAfter = row.optionalInt(25)
            return line
        }
    }

    package static func insertLine(_ db: Connection, _ line: OrderLine) throws {
        let arguments: [DatabaseBindable] = [
            line.orderID, line.lineNo, line.productID, line.productType, line.billingMode.rawValue, line.region,
            line.period?.unit.rawValue, line.period?.count, line.quantity, line.parentLine, line.relation?.rawValue,
            line.effectiveAt, line.productText.text ?? line.product.text,
        ] + amountArguments(line.amounts) + [line.resourceID, line.renewFrom, line.renewTo, line.anchorAfter]
        try db.forEach(insertLineSQL, arguments) { _ in }
    }

    package static func updateLineAmounts(_ db: Connection, _ line: OrderLine) throws {
        try db.forEach("""
            UPDATE order_lines SET list_price = ?, commercial_discount = ?, promotion_discount = ?, discount_coupon = ?, voucher = ?,
                cash_coupon = ?, stored_value_card = ?, cash = ?, credit = ? WHERE order_id = ? AND line_no = ?
            """, amountArguments(line.amounts) + [line.orderID, line.lineNo]) { _ in }
    }

    /// The status of an order, whoever holds it; nil when there is no such order.
    package static func status(_ db: Connection, _ id: String) throws -> String? {
        try db.first("SELECT status FROM orders WHERE id = ?", id, map: { $0.text(0) })
    }

    /// The type of an order, nil when there is no such order.
    package static func type(_ db: Connection, _ id: String) throws -> OrderType? {
        try db.first("SELECT type FROM orders WHERE id = ?", id) {
            try StoredValue.optionalChoice($0.optionalText(0), "type of order \(id)") as OrderType?
        } ?? nil
    }

    /// The account holding an order and the combined order it belongs to, if any.
    package static func owner(_ db: Connection, _ id: String) throws -> (account: String, combined: String?)? {
        try db.first("SELECT account_id, combined_id FROM orders WHERE id = ?", id, map: { ($0.text(0), $0.optionalText(1)) })
    }

    /// At most `limit` orders (not sub-orders) waiting for payment or confirmation whose
    /// deadline has passed, oldest deadline first, taken (`DueClaim`): (id, account); and
    /// whether more are due.
    package static func overdue(_ db: Connection, at instant: Int64, limit: Int64) throws -> (rows: [(id: String, account: String)], more: Bool) {
        try overdueClaim.take(db, [instant], limit: limit) { ($0.text(0), $0.text(1)) }
    }

    private static let overdueClaim = DueClaim("""
        SELECT id, account_id FROM orders
        WHERE combined_id IS NULL AND status IN ('PENDING_PAYMENT', 'PENDING_CONFIRMATION') AND pay_deadline <= ?
        ORDER BY pay_deadline
        """)

    /// The term (unit, count) of the order line that paid a resource's period: the purchase
    /// line `lineNo`, or with `lineNo` nil the renewal line naming the resource.
    package static func lineTerm(_ db: Connection, order: String, lineNo: Int64?, resource: String) throws -> (unit: PeriodUnit?, count: Int64)? {
        func term(_ row: Row) throws -> (unit: PeriodUnit?, count: Int64) {
            (try StoredValue.optionalChoice(row.optionalText(0), "period unit of order \(order)") as PeriodUnit?, row.int(1))
        }
        if let lineNo {
            return try db.first("SELECT period_unit, period_count FROM order_lines WHERE order_id = ? AND line_no = ?", order, lineNo, map: term)
        }
        return try db.first("SELECT period_unit, period_count FROM order_lines WHERE order_id = ? AND resource_id = ?", order, resource, map: term)
    }

    // MARK: The order list (§3.8)

    /// The column each list filter applies to, by its request key.
    private static let filterColumns = ["product_type": "product_type", "order_type": "type", "status": "status", "billing_mode": "billing_mode"]

    /// The WHERE conditions of a list filter, leaving out the filter `skipping` (the one counted by tab).
    private static func conditions(_ filter: OrderFilter, skipping: String? = nil) -> ([String], [DatabaseBindable]) {
        var conditions = ["account_id = ?", "is_combined = 0"]
        var arguments: [DatabaseBindable] = [filter.account]
        for (key, values) in filter.filters where key != skipping {
            let column = filterColumns[key] ?? key
            conditions.append(values.count == 1 ? "\(column) = ?" : "\(column) IN (\(Array(repeating: "?", count: values.count).joined(separator: ", ")))")
            arguments += values.map { $0 as DatabaseBindable }
        }
        if let id = filter.orderID {
            conditions.append("(id = ? OR combined_id = ?)")
            arguments += [id, id]
        }
        if let from = filter.from { conditions.append("created_at >= ?"); arguments.append(from) }
        if let to = filter.to { conditions.append("created_at <= ?"); arguments.append(to) }
        return (conditions, arguments)
    }

    /// Keys of the orders a list filter keeps, newest first, after a (created_at, seq) cursor.
    package static func page(_ db: Connection, _ filter: OrderFilter, after cursor: (Int64, Int64)?, limit: Int64)
        throws -> [(id: String, created: Int64, sequence: Int64)] {
        try page(db, filter, after: cursor, limit: limit, withCombined: false).map { (id: $0.id, created: $0.created, sequence: $0.sequence) }
    }

    /// The same keys with each sub-order's combined order (read only when asked for).
    package static func page(_ db: Connection, _ filter: OrderFilter, after cursor: (Int64, Int64)?, limit: Int64,
                     withCombined: Bool) throws -> [(id: String, created: Int64, sequence: Int64, combined: String?)] {
        var (conditions, arguments) = self.conditions(filter)
        if let cursor { conditions.append("(created_at, seq) < (?, ?)"); arguments += [cursor.0, cursor.1] }
        arguments.append(limit)
        var keys: [(id: String, created: Int64, sequence: Int64, combined: String?)] = []
        let columns = withCombined ? "id, created_at, seq, combined_id" : "id, created_at, seq"
        try db.forEach("SELECT \(columns) FROM orders WHERE \(conditions.joined(separator: " AND ")) ORDER BY created_at DESC, seq DESC LIMIT ?",
                       arguments) { keys.append(($0.text(0), $0.int(1), $0.int(2), withCombined ? $0.optionalText(3) : nil)) }
        return keys
    }

    // The page of the unfiltered list (an account's orders, the portal's first screen) as
    // constant texts, found in the statement cache by address; filtered lists build theirs.
    private static let pageRowsSQL =
        "SELECT \(columns), seq FROM orders WHERE account_id = ? AND is_combined = 0 ORDER BY created_at DESC, seq DESC LIMIT ?"
    private static let pageRowsAfterSQL = "SELECT \(columns), seq FROM orders WHERE account_id = ? AND is_combined = 0"
        + " AND (created_at, seq) < (?, ?) ORDER BY created_at DESC, seq DESC LIMIT ?"

    /// The orders a list filter keeps, newest first, after a (created_at, seq) cursor, each
    /// with its `seq` (the cursor's second half): the same rows as `page` followed by `require`
    /// of each key, read by one statement instead of one per order plus the keys' (the list's
    /// statements were most of a page's instructions). `body` gets each row as `decode` reads
    /// it, `seq` in column `sequenceColumn`.
    package static func pageRows(_ db: Connection, _ filter: OrderFilter, after cursor: (Int64, Int64)?, limit: Int64,
                                 _ body: (Row) throws -> Void) throws {
        if filter.filters.isEmpty, filter.orderID == nil, filter.from == nil, filter.to == nil {
            if let cursor {
                return try db.forEach(pageRowsAfterSQL, [filter.account, cursor.0, cursor.1, limit], body)
            }
            return try db.forEach(pageRowsSQL, [filter.account, limit], body)
        }
        var (conditions, arguments) = self.conditions(filter)
        if let cursor { conditions.append("(created_at, seq) < (?, ?)"); arguments += [cursor.0, cursor.1] }
        arguments.append(limit)
        try db.forEach("SELECT \(columns), seq FROM orders WHERE \(conditions.joined(separator: " AND "))"
                       + " ORDER BY created_at DESC, seq DESC LIMIT ?", arguments, body)
    }

    /// The column of `pageRows` holding `seq`.
    package static let sequenceColumn: Int32 = 28

    /// How many orders a list filter keeps.
    /// Grouped, a combined order counts once however many of its sub-orders match.
    package static func count(_ db: Connection, _ filter: OrderFilter, grouped: Bool = false, skipping: String? = nil) throws -> Int64 {
        let (conditions, arguments) = self.conditions(filter, skipping: skipping)
        let counted = grouped ? "count(DISTINCT coalesce(combined_id, id))" : "count(*)"
        var total: Int64 = 0
        try db.forEach("SELECT \(counted) FROM orders WHERE \(conditions.joined(separator: " AND "))", arguments) { total = $0.int(0) }
        return total
    }

    /// How many orders of each status a list filter keeps, its status filter left out: one
    /// grouped read of the account's rows through `orders_by_status`.
    package static func statusCounts(_ db: Connection, _ filter: OrderFilter, grouped: Bool = false) throws -> [(status: String, count: Int64)] {
        let (conditions, arguments) = self.conditions(filter, skipping: "status")
        // Grouped, a combined order is one row of its tab however many sub-orders match.
        let counted = grouped ? "count(DISTINCT coalesce(combined_id, id))" : "count(*)"
        var counts: [(status: String, count: Int64)] = []
        try db.forEach("SELECT status, \(counted) FROM orders WHERE \(conditions.joined(separator: " AND ")) GROUP BY status", arguments) { row in
            counts.append((row.text(0), row.int(1)))
        }
        return counts
    }
}
