import BillingDomain
import BillingDocuments

/// The request and response of a copy into another database.

/// `billing_engine_copy`: `{"destination": a database path or PostgreSQL connection string}`.
struct CopyRequest: RequestDocument {
    let destination: String

    init(_ reader: ObjectReader) throws {
        destination = try reader.string("destination", maxLength: 4096)
    }
}

/// `{"copy": {"destination", "taken_at", "rows", "tables": {table: rows}}}`.
struct CopyResponse: ResponseDocument {
    let destination: String
    /// The engine's now when the source snapshot was read.
    let takenAt: Int64
    let tables: [(table: String, rows: Int64)]

    var json: JSONValue {
        var counts: [String: JSONValue] = [:]
        var total: Int64 = 0
        for (table, rows) in tables {
            counts[table] = .integer(rows)
            total += rows
        }
        return ["copy": ["destination": .string(destination), "taken_at": .integer(takenAt),
                         "rows": .integer(total), "tables": .object(counts)]]
    }
}
