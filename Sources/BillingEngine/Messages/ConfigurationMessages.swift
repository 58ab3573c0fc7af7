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
        _ = try ConfigurationUpdateRequest.defaults.applying(ObjectReader(changes.value, path: "request.changes"))
        self.changes = changes.value
    }

    /// The defaults, made once: making them builds five maps.
    private static let defaults = Configuration()
}

/// `{"configuration", "changed"}`: the configuration after the change and the names of the
/// fields whose value changed.
struct ConfigurationUpdateResponse: ResponseDocument {
    /// The configuration and its document's text as stored (`Configuration.documentText`).
    let configuration: Configuration
    let configurationText: String
    let changed: [String]

    /// The tree, built only when asked for: the answer is written from `configurationText`.
    var json: JSONValue { ["configuration": configuration.json, "changed": .array(changed.map { .string($0) })] }

    /// The texts of a change's event data, `{"changed":[…]}`, and audit detail,
    /// `{"changed":[…],"changes":{…}}`: the bytes of those trees' `text` (keys in the writer's
    /// order, the patch written as `write` writes it), written without building the trees
    /// (`TypedResponseTests` compares them).
    static func changeTexts(changed: [String], changes: JSONValue) -> (event: String, detail: String) {
        var event = JSONWriter(capacity: 16 + 32 * changed.count)
        writeChanged(changed, into: &event)
        event.writeMark("}")
        var detail = JSONWriter(capacity: 256 + 32 * changed.count)
        writeChanged(changed, into: &detail)
        detail.raw(",\"changes\":")
        detail.write(changes)
        detail.writeMark("}")
        return (event.text, detail.text)
    }

    /// `{"changed":[…]` — the opening of the event data, the audit detail and the answer.
    static func writeChanged(_ changed: [String], into writer: inout JSONWriter) {
        writer.raw("{\"changed\":")
        writer.beginArray()
        for name in changed {
            writer.element()
            writer.writeString(name)
        }
        writer.endArray()
    }

    /// `{"changed":[…],"configuration":…,"schema_version":1}`: the keys in the writer's
    /// order, the configuration's stored text reused as it is (`Engine.document(json)` gives
    /// the same bytes; `TypedResponseTests` compares them).
    var documentText: String {
        var writer = JSONWriter(capacity: configurationText.utf8.count + 64 + 24 * changed.count)
        // The keys as literals and the names one by one: no array of values is built for them.
        ConfigurationUpdateResponse.writeChanged(changed, into: &writer)
        writer.raw(",\"configuration\":")
        writer.writeWritten(configurationText)
        writer.raw(",\"schema_version\":")
        writer.writeInteger(Engine.schemaVersion)
        writer.writeMark("}")
        return writer.text
    }
}
