import BillingDomain
import BillingDocuments

/// What packages covered (§2.4): the units an AMOUNT package used in each quota window, and the
/// units each package took from each resource's hour (which a CAPACITY package shares out).
package enum PackageStore {
    /// Units of a package's quota used in a window (0 before the first).
    package static func used(_ db: Connection, package: String, window: Int64) throws -> Int64 {
        try db.first("SELECT used FROM package_usage WHERE package_id = ? AND window_start = ?", package, window) { $0.int(0) } ?? 0
    }

    package static func addUsed(_ db: Connection, package: String, window: Int64, units: Int64) throws {
        try db.run("""
            INSERT INTO package_usage (package_id, window_start, used) VALUES (?, ?, ?)
            ON CONFLICT (package_id, window_start) DO UPDATE SET used = package_usage.used + excluded.used
            """, package, window, units)
    }

    /// Units a package covered in an hour, over every resource.
    package static func coveredInHour(_ db: Connection, package: String, hour: Int64) throws -> Int64 {
        try db.first("SELECT coalesce(sum(units), 0) FROM package_deductions WHERE package_id = ? AND hour_start = ?", package, hour) { $0.int(0) } ?? 0
    }

    /// Records units a package covered of a resource's hour.
    package static func deduct(_ db: Connection, package: String, resource: String, hour: Int64, units: Int64) throws {
        try db.run("""
            INSERT INTO package_deductions (package_id, resource_id, hour_start, units) VALUES (?, ?, ?, ?)
            ON CONFLICT (package_id, resource_id, hour_start) DO UPDATE SET units = package_deductions.units + excluded.units
            """, package, resource, hour, units)
    }
}
