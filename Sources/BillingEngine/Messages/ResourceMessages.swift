import BillingDomain
import BillingDocuments
import BillingStorage

// The typed requests and responses of the resource operations: provisioning results, one
// resource, deletion, release, expiry policies and the account's resource list. Each request
// reads every field it accepts in the order (and with the checks) the operation always has;
// each response renders the document the operation always answered.

// MARK: - Requests

/// `billing_resources_provisioned`: `{"account_id", "results": [{"resource_id", "outcome"}]}`.
struct ProvisioningReportRequest: RequestDocument {
    struct Result {
        var resourceID: String
        var succeeded: Bool
    }

    var accountID: String
    var results: [Result]

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        guard let values = try reader.optionalArray("results", maxCount: 100), !values.isEmpty else {
            throw BillingError.invalid(.missingField, "request.results must list 1–100 results")
        }
        results = try values.enumerated().map { index, value in
            let result = try ObjectReader(value, path: "request.results[\(index)]")
            let id = try result.string("resource_id", maxLength: 64)
            guard let outcome = try result.optionalChoice("outcome", ["SUCCEEDED", "FAILED"]) else {
                throw BillingError.invalid(.missingField, "\(result.path).outcome is required")
            }
            try result.finish()
            return Result(resourceID: id, succeeded: outcome == "SUCCEEDED")
        }
        guard Set(results.map(\.resourceID)).count == results.count else {
            throw BillingError.invalid(.duplicateResource, "a resource is reported twice")
        }
    }
}

/// `billing_resource_get`: `{"account_id", "resource_id"}`.
struct ResourceRequest: RequestDocument {
    var accountID: String
    var resourceID: String

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        resourceID = try reader.string("resource_id", maxLength: 64)
    }
}

/// `billing_resources_delete` and `billing_resources_release`: `{"account_id", "resource_ids"}`
/// (1–200 primary resources).
struct ResourceBatchRequest: RequestDocument {
    var accountID: String
    var resourceIDs: [String]

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        resourceIDs = try Engine.resourceIDs(reader, maximum: 200)
    }
}

/// `billing_resources_set_policy`: `{"account_id", "resource_ids", "policy",
/// "auto_renew_period"?, "auto_renew_times"?}`.
struct ExpiryPolicyRequest: RequestDocument {
    var accountID: String
    var resourceIDs: [String]
    var policy: ExpiryPolicy
    var autoRenewPeriod: Period?
    var autoRenewTimes: Int64?

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        resourceIDs = try Engine.resourceIDs(reader, maximum: 200)
        guard let policy = try reader.optionalChoice("policy", ExpiryPolicy.allCases.map(\.rawValue)).flatMap(ExpiryPolicy.init) else {
            throw BillingError.invalid(.missingField, "request.policy is required")
        }
        self.policy = policy
        autoRenewPeriod = try Engine.period(reader, "auto_renew_period")
        autoRenewTimes = try reader.optionalInt("auto_renew_times", in: 0...99)
        if policy != .autoRenew && (autoRenewPeriod != nil || autoRenewTimes != nil) {
            throw BillingError.invalid(.invalidField, "auto_renew_period and auto_renew_times go with policy AUTO_RENEW")
        }
    }
}

/// `billing_resources_list`: the account's resources by filter, a page and whether to count.
struct ResourceListRequest: RequestDocument {
    var filter: ResourceListFilter
    var after: Int64?
    var limit: Int64
    var withCounts: Bool

    init(_ reader: ObjectReader) throws {
        filter = try ResourceListFilter(reader, account: try reader.string("account_id", maxLength: 64))
        after = try Engine.rowCursor(reader)
        limit = try reader.optionalInt("limit", in: 1...100) ?? 20
        withCounts = try reader.optionalBool("with_counts") ?? false
    }
}

// MARK: - Responses

/// `{"resource"}`.
struct ResourceResponse: ResponseDocument {
    var resource: Resource
    var calendar: BusinessCalendar
    var json: JSONValue { ["resource": resource.json(calendar)] }
}

/// `{"resources": [...]}`: the resources an operation changed, as it left them.
struct ResourcesResponse: ResponseDocument {
    var resources: [Resource]
    var calendar: BusinessCalendar
    var json: JSONValue { ["resources": .array(resources.map { $0.json(calendar) })] }
}

/// `billing_resources_provisioned`: the resources as reported, and the refund order made for
/// each order whose resources failed.
struct ProvisioningReportResponse: ResponseDocument {
    let json: JSONValue

    init(resources: [Resource], refundOrders: [Order], calendar: BusinessCalendar) throws {
        json = ["resources": .array(resources.map { $0.json(calendar) }), "refund_orders": .array(try refundOrders.map { try $0.json })]
    }
}

/// `billing_resources_list`: a page of the account's resources, its cursor (the last row's
/// sequence number) and the status counts when asked for.
struct ResourceListResponse: ResponseDocument {
    var resources: [Resource]
    var nextCursor: Int64?
    var hasMore: Bool
    /// The counts when asked for; nil leaves the key out (a `.null` would render it).
    var counts: JSONValue?
    var calendar: BusinessCalendar

    var json: JSONValue {
        var document: [String: JSONValue] = ["resources": .array(resources.map { $0.json(calendar) }),
                                             "next_cursor": JSONValue(nextCursor.map { String($0) }), "has_more": .bool(hasMore)]
        if let counts { document["counts"] = counts }
        return .object(document)
    }
}
