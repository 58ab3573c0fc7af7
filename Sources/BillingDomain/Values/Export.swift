/// The kinds of export (§3.9, §4.9).
package enum ExportKind: String, CaseIterable {
    case orders = "ORDERS"
    case pendingOrders = "PENDING_ORDERS"
    case renewals = "RENEWALS"
    case renewalPrices = "RENEWAL_PRICES"
}

/// An export record as stored.
package struct ExportRecord {
    package var id: String
    package var account: String
    package var kind: ExportKind
    package var status: String
    package var request: JSONValue
    package var language: String
    package var directory: String
    package var fileName: String
    package var rowsExpected: Int64
    package var rowsWritten: Int64
    package var bytes: Int64
    package var cursor: String?
    package var createdAt: Int64
    package var purgeAt: Int64
    package var completedAt: Int64?
    package var failureReason: String?

    package var path: String { directory + "/" + fileName }

    package init(id: String, account: String, kind: ExportKind, status: String, request: JSONValue, language: String, directory: String, fileName: String, rowsExpected: Int64, rowsWritten: Int64, bytes: Int64, cursor: String? = nil, createdAt: Int64, purgeAt: Int64, completedAt: Int64? = nil, failureReason: String? = nil) {
        self.id = id
        self.account = account
        self.kind = kind
        self.status = status
        self.request = request
        self.language = language
        self.directory = directory
        self.fileName = fileName
        self.rowsExpected = rowsExpected
        self.rowsWritten = rowsWritten
        self.bytes = bytes
        self.cursor = cursor
        self.createdAt = createdAt
        self.purgeAt = purgeAt
        self.completedAt = completedAt
        self.failureReason = failureReason
    }
}
