import BillingDomain
import BillingDocuments
import BillingStorage

/// Readers of request fields that several operations share (coupon lists, resource lists,
/// periods, list cursors). They sit below every service so that a service reading the same
/// field as another does not depend on it.
extension Engine {
    /// Reads `coupon_ids` (at most 10 listed; the configured maximum is checked at payment).
    static func couponIDs(_ reader: ObjectReader) throws -> [String] {
        try reader.optionalIdentifiers("coupon_ids", maxCount: 10) ?? []
    }

    /// Reads a list of resource ids.
    static func resourceIDs(_ reader: ObjectReader, maximum: Int) throws -> [String] {
        guard let ids = try reader.optionalIdentifiers("resource_ids", maxCount: maximum), !ids.isEmpty else {
            throw BillingError.invalid("missing_field", "request.resource_ids must list 1–\(maximum) resources")
        }
        guard Set(ids).count == ids.count else { throw BillingError.invalid("duplicate_resource", "a resource is listed twice") }
        return ids
    }

    /// Reads an optional `{"unit", "count"}` period.
    static func period(_ reader: ObjectReader, _ key: String) throws -> Period? {
        guard let given = try reader.optionalObject(key) else { return nil }
        guard let unit = try given.optionalChoice("unit", PeriodUnit.allCases.map(\.rawValue)).flatMap(PeriodUnit.init) else {
            throw BillingError.invalid("missing_field", "\(given.path).unit is required")
        }
        let period = try Period(try given.int("count", in: 1...Period.maximumCount), unit)
        try given.finish()
        return period
    }

    /// Reads an "after" cursor of the form "<number>:<number>".
    static func pairCursor(_ reader: ObjectReader) throws -> (Int64, Int64)? {
        guard let cursor = try reader.optionalString("after", maxLength: 64) else { return nil }
        let parts = cursor.split(separator: ":")
        guard parts.count == 2, let first = Int64(parts[0]), let second = Int64(parts[1]) else {
            throw BillingError.invalid("invalid_cursor", "request.after must be a cursor returned as next_cursor")
        }
        return (first, second)
    }

    /// Reads `after` of a list paged by a row's sequence number (the unsubscription and
    /// resource lists): a positive integer as the last page's `next_cursor` gave it.
    static func rowCursor(_ reader: ObjectReader) throws -> Int64? {
        guard let cursor = try reader.optionalString("after", maxLength: 32) else { return nil }
        guard let value = Int64(cursor), value > 0 else {
            throw BillingError.invalid("invalid_cursor", "request.after must be a cursor returned as next_cursor")
        }
        return value
    }
}
