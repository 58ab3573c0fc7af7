import BillingDomain
import BillingDocuments

/// The configuration as the `config` row stores it: a document written by `Configuration.json`
/// of this or an older library.
extension Configuration {
    /// Decodes a stored document (written by `json`), starting from the defaults so that a
    /// document from an older library gains the fields added since (and hash costs below
    /// this library's floors rise to them).
    package static func decodeStored(_ text: String) throws -> Configuration {
        let document = PasswordHashCost.raisedToFloors(renamingLegacyKeys(try StoredValue.document(text, "configuration document")))
        return try StoredValue.decode("configuration document") {
            try Configuration().applying(ObjectReader(document, path: "stored configuration"))
        }
    }

    /// Keys a stored document of an older library may hold, with the key that replaced each.
    /// 0.1.0 locked an account after `login_max_failures` failures for `login_lockout_seconds`;
    /// the throttle that replaced the lock keeps both numbers as its threshold and its longest
    /// wait. The stored row is left as it is (it is rewritten with the new keys at the next
    /// configuration change), so opening a file never writes to it.
    private static let legacyKeys = [
        "login_max_failures": "login_throttle_after_failures",
        "login_lockout_seconds": "login_throttle_max_seconds",
    ]

    private static func renamingLegacyKeys(_ document: JSONValue) -> JSONValue {
        guard case .object(var fields) = document else { return document }
        for (old, new) in legacyKeys {
            guard let value = fields.removeValue(forKey: old) else { continue }
            if fields[new] == nil { fields[new] = value }
        }
        return .object(fields)
    }
}
