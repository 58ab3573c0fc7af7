/// An export record as stored (`ExportStore`): a value of storage, so that storage needs
/// nothing from the export service; its file and its document are the service's.
struct ExportRecord {
    var id: String
    var account: String
    var kind: ExportKind
    var status: String
    var request: JSONValue
    var language: String
    var directory: String
    var fileName: String
    var rowsExpected: Int64
    var rowsWritten: Int64
    var bytes: Int64
    var cursor: String?
    var createdAt: Int64
    var purgeAt: Int64
    var completedAt: Int64?
    var failureReason: String?
}
