import BillingDomain

/// The JSON text of a value tree: strict parsing and canonical writing.
extension JSONValue {
    /// The deepest nesting a request may have. Requests need a handful of levels; the limit
    /// also keeps deep input away from the decoder, which traps on some depths.
    public static let maximumDepth = 64

    /// Parses UTF-8 JSON text strictly (see `JSONParser`).
    public static func parse(_ text: String) throws -> JSONValue {
        try JSONParser.parse(text)
    }

    /// Compact JSON text with keys sorted, so equal values give equal text (see `JSONWriter`).
    public var text: String {
        var writer = JSONWriter()
        writer.write(self)
        return writer.text
    }

    /// The text of the value with every null object field left out, at every depth (the text
    /// of `withoutNulls`, written without building that copy): a request's canonical form.
    public var textWithoutNulls: String {
        var writer = JSONWriter(skippingNullFields: true)
        writer.write(self)
        return writer.text
    }

    /// Names why a text `JSONParser` refused is refused, when a lexical check over the whole
    /// text finds a reason: nesting deeper than `maximumDepth`, trailing commas, numbers with
    /// a leading zero, and numbers written with a fraction or exponent. Money and time are
    /// integers, so a number must be written as one: "1.0" and "1e3" are refused, and no
    /// number is ever rounded. This pass ran before the decoder the engine once used; it now
    /// runs only on refused text, so that each input keeps the reason it always had.
    package static func checkTokens(_ text: String) throws {
        let bytes = Array(text.utf8)
        var depth = 0
        var index = 0
        var lastSignificant: UInt8 = 0
        func malformed(_ what: String) -> BillingError {
            BillingError.invalid("malformed_json", "the request is not valid JSON: \(what) at byte \(index)")
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                while index < bytes.count && bytes[index] != UInt8(ascii: "\"") {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > maximumDepth {
                    throw BillingError.invalid("too_deep", "the request nests deeper than \(maximumDepth) levels")
                }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                if lastSignificant == UInt8(ascii: ",") { throw malformed("a trailing comma") }
                depth -= 1
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let start = index
                while index + 1 < bytes.count, "0123456789.eE+-".utf8.contains(bytes[index + 1]) { index += 1 }
                let token = bytes[start...index]
                let digits = token.first == UInt8(ascii: "-") ? token.dropFirst() : token[...]
                if digits.count > 1 && digits.first == UInt8(ascii: "0") && digits.dropFirst().first.map({ (48...57).contains($0) }) == true {
                    throw malformed("a number with a leading zero")
                }
                if token.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
                    throw BillingError.invalid("not_an_integer",
                                               "the number \(String(decoding: token.prefix(40), as: UTF8.self)) at byte \(start) is not written as an integer; amounts and times are whole numbers without a decimal point or exponent")
                }
            default:
                break
            }
            if byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\n") && byte != UInt8(ascii: "\r") && byte != UInt8(ascii: "\t") {
                lastSignificant = byte
            }
            index += 1
        }
    }
}
