import BillingDomain
import BillingDocuments

/// The request and response of an online backup.

/// `billing_backup`: `{"destination": absolute path of a file that does not exist yet}`.
struct BackupRequest: RequestDocument {
    let destination: String

    init(_ reader: ObjectReader) throws {
        destination = try reader.string("destination", maxLength: 4096)
    }
}

/// `{"backup": {"destination", "bytes", "taken_at"}}`.
struct BackupResponse: ResponseDocument {
    let destination: String
    /// The size of the synced copy.
    let bytes: Int64
    /// The engine's now when the snapshot was read.
    let takenAt: Int64

    var json: JSONValue {
        ["backup": ["destination": .string(destination), "bytes": .integer(bytes), "taken_at": .integer(takenAt)]]
    }
}
