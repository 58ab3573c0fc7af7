import BillingDomain
import BillingDocuments
import BillingStorage

/// The requests and responses of pay-per-use rating, usage lines and packages.

/// `billing_usage_report`: `{"actor", "account_id", "records": [{"usage_id", "resource_id",
/// "quantity", "start", "end"}]}` (1–1000, each usage id once).
struct UsageReportRequest: RequestDocument {
    let accountID: String
    let records: [UsageRecord]

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        guard let values = try reader.optionalArray("records", maxCount: 1000), !values.isEmpty else {
            throw BillingError.invalid(.missingField, "request.records must list 1–1000 usage records")
        }
        records = try values.enumerated().map { index, value -> UsageRecord in
            let item = try ObjectReader(value, path: "request.records[\(index)]")
            let record = UsageRecord(usageID: try item.string("usage_id", maxLength: 128), resourceID: try item.string("resource_id", maxLength: 64),
                                     quantity: try item.int("quantity", in: 0...100_000), start: try item.instant("start"), end: try item.instant("end"))
            try item.finish()
            guard record.end >= record.start, record.end - record.start <= 31 * 86_400 else {
                throw BillingError.invalid(.invalidWindow, "\(item.path): end must not precede start, and a record spans at most 31 days")
            }
            return record
        }
        guard Set(records.map(\.usageID)).count == records.count else {
            throw BillingError.invalid(.duplicateUsage, "a usage id is listed twice in one report")
        }
    }
}

/// What became of one reported record.
enum UsageResult {
    /// Reported before with the same values: skipped.
    case duplicate(usageID: String)
    /// Rated into these hourly lines (each with the change of its charge).
    case rated(usageID: String, lines: [Engine.RatedSlot])

    var json: JSONValue {
        switch self {
        case .duplicate(let usageID):
            ["usage_id": .string(usageID), "status": "DUPLICATE"]
        case .rated(let usageID, let lines):
            ["usage_id": .string(usageID), "status": "RATED",
             "lines": .array(lines.map { ["hour_start": .integer($0.hour), "units": .integer($0.units), "covered": .integer($0.covered),
                                          "overage": .integer($0.overage), "charged_fen": .integer($0.charge.fen)] })]
        }
    }
}

/// `{"results", "charged_fen", "account"}`.
struct UsageReportResponse: ResponseDocument {
    let results: [UsageResult]
    /// What this report charged in all.
    let charged: Money
    let account: Account
    let configuration: Configuration

    var json: JSONValue {
        ["results": .array(results.map(\.json)), "charged_fen": .integer(charged.fen), "account": account.json(configuration)]
    }

    /// `json` with `schema_version`, the results written directly (up to 1,000 of them: the
    /// tree of a call's results was a tenth of the instructions outside SQLite and the audit).
    var documentText: String {
        var writer = JSONWriter(capacity: 256 + 160 * results.count)
        writer.beginObject()
        writer.field("account", account.json(configuration))
        writer.field("charged_fen", charged.fen)
        writer.key("results")
        writer.beginArray()
        for result in results {
            writer.element()
            writer.beginObject()
            switch result {
            case .duplicate(let usageID):
                writer.field("status", "DUPLICATE")
                writer.field("usage_id", usageID)
            case .rated(let usageID, let lines):
                writer.key("lines")
                writer.beginArray()
                for line in lines {
                    writer.element()
                    writer.beginObject()
                    writer.field("charged_fen", line.charge.fen)
                    writer.field("covered", line.covered)
                    writer.field("hour_start", line.hour)
                    writer.field("overage", line.overage)
                    writer.field("units", line.units)
                    writer.endObject()
                }
                writer.endArray()
                writer.field("status", "RATED")
                writer.field("usage_id", usageID)
            }
            writer.endObject()
        }
        writer.endArray()
        writer.field("schema_version", Engine.schemaVersion)
        writer.endObject()
        return writer.text
    }
}

/// `billing_usage_list`: `{"account_id", "resource_id"?, "from"?, "to"?, "after"?, "limit"?: 1–1000 (100)}`.
struct UsageListRequest: RequestDocument {
    let accountID: String
    let resourceID: String?
    let from: Int64?
    let to: Int64?
    /// The (hour, resource) of the last line of the previous page.
    let after: (hour: Int64, resource: String)?
    let limit: Int64

    init(_ reader: ObjectReader) throws {
        limit = try reader.optionalInt("limit", in: 1...1000) ?? 100
        // The cursor is read with the request, so a bad one is refused as such whatever the account.
        after = try reader.optionalString("after", maxLength: 80).map { text -> (hour: Int64, resource: String) in
            let parts = text.split(separator: "|")
            guard parts.count == 2, let hour = Int64(parts[0]) else {
                throw BillingError.invalid(.invalidCursor, "request.after must be a cursor returned as next_cursor")
            }
            return (hour, String(parts[1]))
        }
        accountID = try reader.string("account_id", maxLength: 64)
        resourceID = try reader.optionalString("resource_id", maxLength: 64)
        from = try reader.optionalInstant("from")
        to = try reader.optionalInstant("to")
    }
}

/// One hourly usage line with what paid it.
struct ListedUsageLine {
    let line: UsageStore.ListedLine
    let paidBy: [(source: String, coupon: String?, amount: Money)]

    var json: JSONValue {
        ["resource_id": .string(line.resource), "hour_start": .integer(line.hour), "units": .integer(line.units),
         "covered": .integer(line.covered), "overage": .integer(line.overage), "price_microfen": .integer(line.priceMicrofen),
         "charged_fen": .integer(line.charged.fen), "unit": .string(line.perHour ? "UNIT_SECONDS" : "UNITS"),
         "paid_by": .array(paidBy.map { ["source": .string($0.source), "coupon_id": JSONValue($0.coupon), "amount_fen": .integer($0.amount.fen)] })]
    }
}

/// `{"lines", "next_cursor", "has_more"}`.
struct UsagePageResponse: ResponseDocument {
    let lines: [ListedUsageLine]
    let hasMore: Bool

    var json: JSONValue {
        ["lines": .array(lines.map(\.json)), "next_cursor": JSONValue(lines.last.map { "\($0.line.hour)|\($0.line.resource)" }),
         "has_more": .bool(hasMore)]
    }
}

/// `billing_packages_list`: `{"account_id", "after"?, "limit"?: 1–1000 (100)}`.
struct PackageListRequest: RequestDocument {
    let accountID: String
    let page: PageRequest

    init(_ reader: ObjectReader) throws {
        page = try PageRequest(reader)
        guard let account = page.account else { throw BillingError.invalid(.missingField, "request.account_id is required") }
        accountID = account
    }
}

/// A package's quota in its current window.
struct PackageQuota {
    let terms: PackageTerms
    /// The start of the quota window holding now.
    let windowStart: Int64
    /// What the window has used (unit-seconds for timed usage).
    let used: Int64
}

/// `{"packages", "next_cursor", "has_more"}`: each package resource with its quota now.
struct PackagePageResponse: ResponseDocument {
    let packages: [(resource: Resource, quota: PackageQuota?)]
    let calendar: BusinessCalendar
    /// The sequence of the last package of the page (the request's cursor when empty).
    let lastSequence: Int64
    let hasMore: Bool

    var json: JSONValue {
        let documents: [JSONValue] = packages.map { package in
            guard case .object(var fields) = package.resource.json(calendar) else { return .null }
            if let quota = package.quota {
                fields["kind"] = .string(quota.terms.kind)
                fields["quota"] = .integer(quota.terms.quota)
                fields["window_start"] = .integer(quota.windowStart)
                fields["used"] = .integer(quota.used)
                fields["applies_to"] = .array(quota.terms.appliesTo.map { .string($0) })
            }
            return .object(fields)
        }
        return ["packages": .array(documents), "next_cursor": .string(String(lastSequence)), "has_more": .bool(hasMore)]
    }
}
