import BillingDomain
import BillingDocuments

/// The five-day unconditional refund quota (§5.3): one row per unit (a resource, or an order
/// for products not refundable per resource) used by an account in a calendar year.
package enum FiveDayUnitStore {
    /// How many units the account used in `year`.
    package static func used(_ db: Connection, account: String, year: Int64) throws -> Int64 {
        try db.first("SELECT count(*) FROM five_day_units WHERE account_id = ? AND year = ?", account, year) { $0.int(0) } ?? 0
    }

    /// Whether the unit already counts against the account's quota of `year`.
    package static func contains(_ db: Connection, account: String, year: Int64, unit: String) throws -> Bool {
        try db.first("SELECT 1 FROM five_day_units WHERE account_id = ? AND year = ? AND unit_key = ?", account, year, unit) { _ in true } ?? false
    }

    /// Counts a unit once (a unit already counted stays as it is).
    package static func use(_ db: Connection, account: String, year: Int64, unit: String, order: String) throws {
        try db.run("INSERT INTO five_day_units (account_id, year, unit_key, order_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", account, year, unit, order)
    }
}
