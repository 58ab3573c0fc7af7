import BillingDomain
import BillingDocuments

/// The typed edges of an operation: its request is read once into a `RequestDocument` before
/// any lock is taken, and it answers with a `ResponseDocument` built from the values at hand.
///
/// Requests are read through `ObjectReader`, which stays strict (integers only, bounded depth,
/// no duplicate or unknown fields): a request type reads every field it accepts in its
/// initializer, and `ObjectReader.finish()` refuses whatever it did not read.
protocol RequestDocument {
    init(_ reader: ObjectReader) throws
}

/// A response rendered as one JSON object (keys sorted, `schema_version` stamped by the
/// operation runner).
protocol ResponseDocument {
    var json: JSONValue { get }
    /// The response's text with `schema_version` stamped: by default `json` written out; a
    /// response holding the text of a large part already (the configuration document, also
    /// stored) writes the rest around it instead of building and writing that part again.
    var documentText: String { get }
}

extension ResponseDocument {
    var documentText: String { Engine.document(json) }
}
