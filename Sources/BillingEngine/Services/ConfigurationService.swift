import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// The platform configuration as a JSON document (`{"schema_version", "configuration": {…}}`).
    public func configurationJSON() throws -> String {
        try query(nil, parse: EmptyRequest.init) { context, _ -> ConfigurationResponse in
            ConfigurationResponse(configuration: context.configuration)
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
        try perform("config.update", requestJSON, parse: ConfigurationUpdateRequest.init) { context, input -> ConfigurationUpdateResponse in
            let changes = input.changes
            let updated = try context.configuration.applying(ObjectReader(changes, path: "request.changes"))
            // The changed fields by comparing the values, without building either document's
            // tree; the new document is written once: the stored row and the answer carry the
            // same bytes.
            let changed = updated.changedKeys(since: context.configuration)
            let afterText = updated.documentText(reusing: &configurationDocument)
            try ConfigurationStore.save(context.db, documentText: afterText)
            try rememberConfiguration(updated)
            // The event's data and the audit detail written directly (`changeTexts`), not as
            // trees of the names and the patch written out again.
            let texts = ConfigurationUpdateResponse.changeTexts(changed: changed, changes: changes)
            if !changed.isEmpty { try context.emit("config.changed", dataText: texts.event) }
            context.audit(subject: "configuration", detailText: texts.detail)
            return ConfigurationUpdateResponse(configuration: updated, configurationText: afterText, changed: changed)
        }
    }
}
