import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// The platform configuration as a JSON document (`{"schema_version", "configuration": {…}}`).
    public func configurationJSON() throws -> String {
        try query(nil, parse: { _ in () }) { context, _ in
            ["configuration": context.configuration.json]
        }
    }

    /// The decoded configuration.
    public func configuration() throws -> Configuration {
        try lock.withLock { try db.transaction(write: false) { try loadConfiguration() } }
    }

    /// Changes configuration values: `{"actor", "idempotency_key"?, "changes": {field: value, …}}`.
    /// Fields not named keep their value; every named field is checked, and one bad field
    /// changes nothing. Emits `config.changed` with the names of the changed fields.
    public func updateConfiguration(_ requestJSON: String?) throws -> String {
        try perform("config.update", requestJSON, parse: { reader -> JSONValue in
            guard let changes = try reader.optionalObject("changes") else {
                throw BillingError.invalid("missing_field", "request.changes is required")
            }
            // Validated here against the defaults; applied below on top of the stored values.
            _ = try Configuration().applying(ObjectReader(changes.value, path: "request.changes"))
            return changes.value
        }, apply: { context, changes in
            let updated = try context.configuration.applying(ObjectReader(changes, path: "request.changes"))
            let before = context.configuration.json
            let after = updated.json
            var changed: [JSONValue] = []
            if case .object(let old) = before, case .object(let new) = after {
                changed = new.keys.sorted().filter { old[$0] != new[$0] }.map { .string($0) }
            }
            try ConfigurationStore.save(context.db, updated)
            try rememberConfiguration(updated)
            if !changed.isEmpty { try context.emit("config.changed", data: ["changed": .array(changed)]) }
            context.audit(subject: "configuration", detail: ["changed": .array(changed), "changes": changes])
            return ["configuration": after, "changed": .array(changed)]
        })
    }
}
