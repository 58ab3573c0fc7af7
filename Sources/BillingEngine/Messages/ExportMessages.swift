import BillingDomain
import BillingDocuments
import BillingStorage

/// The requests and responses of exports (§3.9, §4.9).

/// What an export lists: an order-list filter, a renewal-view filter, or named pending orders.
enum ExportSelection {
    case orders(OrderFilter)
    case renewals(RenewalFilter)
    case pendingOrders([String])

    /// The form stored with the export record, which each step reads back.
    var stored: JSONValue {
        switch self {
        case .orders(let filter): filter.json
        case .renewals(let filter): filter.json
        case .pendingOrders(let ids): .array(ids.map { .string($0) })
        }
    }
}

/// `billing_export_request`: `{"actor", "account_id", "kind", "filter"? (the order-list or
/// renewal-view filters), "order_ids"? (PENDING_ORDERS), "language"?: "zh" | "en"}`.
struct ExportRequest: RequestDocument {
    let accountID: String
    let kind: ExportKind
    let selection: ExportSelection
    let language: String

    init(_ reader: ObjectReader) throws {
        let account = try reader.string("account_id", maxLength: 64)
        guard let kind = try reader.optionalChoice("kind", ExportKind.allCases.map(\.rawValue)).flatMap(ExportKind.init) else {
            throw BillingError.invalid(.missingField, "request.kind is required")
        }
        language = try reader.optionalChoice("language", ["zh", "en"]) ?? "zh"
        switch kind {
        case .orders:
            let filter = try reader.optionalObject("filter") ?? ObjectReader(.object([:]), path: "request.filter")
            selection = .orders(try OrderFilter(filter, account: account))
            try filter.finish()
        case .renewals, .renewalPrices:
            guard let filter = try reader.optionalObject("filter") else {
                throw BillingError.invalid(.missingField, "request.filter with a tab is required")
            }
            selection = .renewals(try RenewalFilter(filter, account: account))
            try filter.finish()
        case .pendingOrders:
            guard let ids = try reader.optionalIdentifiers("order_ids", maxCount: 1000), !ids.isEmpty else {
                throw BillingError.invalid(.missingField, "request.order_ids must list the pending orders to export")
            }
            selection = .pendingOrders(ids)
        }
        accountID = account
        self.kind = kind
    }
}

/// `{"export"}`: an export record with its progress.
struct ExportResponse: ResponseDocument {
    let export: ExportRecord

    var json: JSONValue { ["export": export.json] }
}

/// `billing_export_step`: `{"actor", "account_id", "export_id", "max_rows"?}`.
struct ExportStepRequest: RequestDocument {
    let accountID: String
    let exportID: String
    let maxRows: Int64?

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        exportID = try reader.string("export_id", maxLength: 64)
        maxRows = try reader.optionalInt("max_rows", in: 1...1_000_000)
    }
}

/// `billing_export_download`: `{"account_id", "export_id", "mode"?: "PATH" | "BYTES"}`.
struct ExportDownloadRequest: RequestDocument {
    let accountID: String
    let exportID: String
    /// The file's bytes in the answer rather than its path.
    let inline: Bool

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        exportID = try reader.string("export_id", maxLength: 64)
        inline = try reader.optionalChoice("mode", ["PATH", "BYTES"]) == "BYTES"
    }
}

/// `{"export", "path"}` or `{"export", "content_base64"}`.
struct ExportDownloadResponse: ResponseDocument {
    enum File {
        case path(String)
        case contentBase64(String)
    }

    let export: ExportRecord
    let file: File

    var json: JSONValue {
        switch file {
        case .path(let path): ["export": export.json, "path": .string(path)]
        case .contentBase64(let content): ["export": export.json, "content_base64": .string(content)]
        }
    }
}

/// `billing_exports_list`: `{"account_id", "after"?, "limit"?: 1–100 (20)}`.
struct ExportListRequest: RequestDocument {
    let accountID: String
    /// The sequence of the last record of the previous page (pages go newest first).
    let before: Int64?
    let limit: Int64

    init(_ reader: ObjectReader) throws {
        accountID = try reader.string("account_id", maxLength: 64)
        before = try reader.optionalString("after", maxLength: 32).map { text -> Int64 in
            guard let value = Int64(text), value >= 0 else { throw BillingError.invalid(.invalidCursor, "request.after must be a cursor returned as next_cursor") }
            return value
        }
        limit = try reader.optionalInt("limit", in: 1...100) ?? 20
    }
}

/// `{"exports", "next_cursor", "has_more"}`.
struct ExportPageResponse: ResponseDocument {
    /// The records of the page with their sequences (the last one is the next cursor).
    let exports: [(record: ExportRecord, sequence: Int64)]
    let hasMore: Bool

    var json: JSONValue {
        ["exports": .array(exports.map { $0.record.json }), "next_cursor": JSONValue(exports.last.map { String($0.sequence) }),
         "has_more": .bool(hasMore)]
    }
}
