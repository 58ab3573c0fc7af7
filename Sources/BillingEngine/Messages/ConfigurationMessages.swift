import BillingDomain
import BillingDocuments

/// The requests and responses of the platform configuration.

/// A request without fields (`{}`, or no text at all).
struct EmptyRequest: RequestDocument {
    init(_ reader: ObjectReader) throws {}
}

/// `{"configuration"}`.
struct ConfigurationResponse: ResponseDocument {
    let configuration: Configuration

    var json: JSONValue { ["configuration": configuration.json] }
}

/// `billing_config_update`: `{"actor", "changes": {field: value, …}}`. The patch is checked
/// here against the defaults (every named field, so one bad field changes nothing) and
/// applied by the operation on top of the stored values.
struct ConfigurationUpdateRequest: RequestDocument {
    /// The patch as given (it is also the audit row's record of the change).
    let changes: JSONValue

    init(_ reader: ObjectReader) throws {
        guard let changes = try reader.optionalObject("changes") else {
            throw BillingError.invalid(.missingField, "request.changes is required")
        }
        _ = try Configuration().applying(ObjectReader(changes.value, path: "request.changes"))
        self.changes = changes.value
    }
}

/// `{"configuration", "changed"}`: the configuration after the change and the names of the
/// fields whose value changed.
struct ConfigurationUpdateResponse: ResponseDocument {
    let configuration: Configuration
    let changed: [String]

    var json: JSONValue { ["configuration": configuration.json, "changed": .array(changed.map { .string($0) })] }
}
