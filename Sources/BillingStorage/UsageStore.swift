import BillingDomain
import BillingDocuments

/// Pay-per-use usage: the records the host reported (each usage id once per account), the
/// hourly lines they were rated into, and what paid each line.
package enum UsageStore {
    /// The record stored under a usage id of an account, nil for a new id.
    package static func record(_ db: Connection, account: String, usageID: String) throws -> UsageRecord? {
        try db.first("SELECT resource_id, quantity, start_at, end_at FROM usage_records WHERE account_id = ? AND usage_id = ?",
                     account, usageID, map: { UsageRecord(usageID: usageID, resourceID: $0.text(0), quantity: $0.int(1), start: $0.int(2), end: $0.int(3)) })
    }

    package static func insertRecord(_ db: Connection, _ record: UsageRecord, account: String, at: Int64) throws {
        try db.run("INSERT INTO usage_records (account_id, usage_id, resource_id, quantity, start_at, end_at, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   account, record.usageID, record.resourceID, record.quantity, record.start, record.end, at)
    }

    /// One hourly line of a resource as stored.
    package struct Line {
        package var units: Int64
        package var covered: Int64
        package var overage: Int64
        package var priceMicrofen: Int64
        package var charged: Money
    }

    /// The line of a resource for an hour, nil before its first usage.
    package static func line(_ db: Connection, resource: String, hour: Int64) throws -> Line? {
        try db.first("SELECT units, covered, overage, price_microfen, charged FROM usage_lines WHERE resource_id = ? AND hour_start = ?",
                     resource, hour) { Line(units: $0.int(0), covered: $0.int(1), overage: $0.int(2), priceMicrofen: $0.int(3), charged: Money(fen: $0.int(4))) }
    }

    /// Opens the line of an hour with its first usage.
    package static func insertLine(_ db: Connection, resource: String, hour: Int64, account: String, units: Int64, covered: Int64, overage: Int64,
                           priceMicrofen: Int64, perHour: Bool, charged: Money) throws {
        try db.run("""
            INSERT INTO usage_lines (resource_id, hour_start, account_id, units, covered, overage, price_microfen, per_hour, charged)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, resource, hour, account, units, covered, overage, priceMicrofen, perHour, charged)
    }

    /// Adds usage to the line of an hour, with the line's new overage and charge.
    package static func addToLine(_ db: Connection, resource: String, hour: Int64, units: Int64, covered: Int64, overage: Int64, charged: Money) throws {
        try db.run("UPDATE usage_lines SET units = units + ?, covered = covered + ?, overage = ?, charged = ? WHERE resource_id = ? AND hour_start = ?",
                   units, covered, overage, charged, resource, hour)
    }

    /// Records what one source paid of a line.
    package static func fund(_ db: Connection, resource: String, hour: Int64, source: FundingSource, coupon: String?, amount: Money) throws {
        try db.run("""
            INSERT INTO usage_funding (resource_id, hour_start, source, coupon_id, amount) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (resource_id, hour_start, source, coupon_id) DO UPDATE SET amount = usage_funding.amount + excluded.amount
            """, resource, hour, source.rawValue, coupon ?? "", amount)
    }

    /// A line as listed.
    package struct ListedLine {
        package var resource: String
        package var hour: Int64
        package var units: Int64
        package var covered: Int64
        package var overage: Int64
        package var priceMicrofen: Int64
        package var charged: Money
        package var perHour: Bool
    }

    /// The lines of an account, newest first, optionally of one resource and within hours
    /// `from`…`to`, after an (hour, resource) cursor.
    package static func lines(_ db: Connection, account: String, resource: String?, from: Int64?, to: Int64?, after cursor: (Int64, String)?,
                      limit: Int64) throws -> [ListedLine] {
        var conditions = ["account_id = ?"]
        var arguments: [DatabaseBindable] = [account]
        if let resource { conditions.append("resource_id = ?"); arguments.append(resource) }
        if let from { conditions.append("hour_start >= ?"); arguments.append(from) }
        if let to { conditions.append("hour_start <= ?"); arguments.append(to) }
        if let cursor {
            conditions.append("(hour_start, resource_id) < (?, ?)")
            arguments += [cursor.0, cursor.1]
        }
        arguments.append(limit)
        var rows: [ListedLine] = []
        try db.forEach("""
            SELECT resource_id, hour_start, units, covered, overage, price_microfen, charged, per_hour FROM usage_lines
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY hour_start DESC, resource_id DESC LIMIT ?
            """, arguments) { row in
            rows.append(ListedLine(resource: row.text(0), hour: row.int(1), units: row.int(2), covered: row.int(3), overage: row.int(4),
                                   priceMicrofen: row.int(5), charged: Money(fen: row.int(6)), perHour: row.bool(7)))
        }
        return rows
    }

    /// What paid a line, by source: (source as stored, coupon id or nil, amount).
    package static func funding(_ db: Connection, resource: String, hour: Int64) throws -> [(source: String, coupon: String?, amount: Money)] {
        try db.all("SELECT source, coupon_id, amount FROM usage_funding WHERE resource_id = ? AND hour_start = ? ORDER BY source",
                   resource, hour) { ($0.text(0), $0.text(1).isEmpty ? nil : $0.text(1), Money(fen: $0.int(2))) }
    }
}
