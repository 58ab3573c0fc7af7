import BillingDomain

/// Reads JSON text (RFC 8259, strict) straight from its UTF-8 bytes into a `JSONValue`.
///
/// It replaced FoundationEssentials' `JSONDecoder`, which went through `Codable` with a chain
/// of failing `try?` decodes per value and cost about a tenth of every write. It accepts
/// exactly what the engine accepted before (a differential test replays the fuzz corpus
/// against the old reader):
/// - integers only: a fraction or an exponent is `not_an_integer`, a leading zero is
///   malformed, an integer beyond Int64 is kept as `.nonInteger` for its reader to refuse;
/// - at most `JSONValue.maximumDepth` levels of nesting (`too_deep`);
/// - a key given twice keeps its first value, as the decoder did;
/// - a leading UTF-8 byte order mark is skipped, as the decoder did;
/// - strings: no raw control characters, only the escapes of RFC 8259, no lone surrogates.
///
/// The text is a Swift `String`, so it is valid UTF-8: the C boundary refuses invalid input.
/// When the text is refused, `JSONValue.checkTokens` (a lexical pass over the whole text)
/// names the reason if it finds one, so that every input keeps the reason it always had
/// (`too_deep`, `not_an_integer`, a trailing comma or a leading zero anywhere in the text
/// before any other complaint); otherwise the parser's own message is used.
package struct JSONParser {
    /// Where parsing stopped, and why (the reason is always `malformed_json`).
    package struct Failure: Error {
        package let offset: Int
        package let what: String
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// The value of the whole text, or a `BillingError` (`malformed_json`, `too_deep`,
    /// `not_an_integer`).
    package static func parse(_ text: String) throws -> JSONValue {
        let result: Result<JSONValue, Failure>
        if let parsed = text.utf8.withContiguousStorageIfAvailable({ JSONParser.parseDocument($0) }) {
            result = parsed
        } else {
            result = Array(text.utf8).withUnsafeBufferPointer { JSONParser.parseDocument($0) }
        }
        switch result {
        case .success(let value):
            return value
        case .failure(let failure):
            try JSONValue.checkTokens(text)
            throw BillingError.invalid(.malformedJson, "the request is not valid JSON: \(failure.what) at byte \(failure.offset)")
        }
    }

    private static func parseDocument(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<JSONValue, Failure> {
        var parser = JSONParser(bytes)
        do {
            // A byte order mark at the very start is skipped (the decoder did so).
            if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { parser.index = 3 }
            parser.skipWhitespace()
            let value = try parser.value()
            parser.skipWhitespace()
            guard parser.index == bytes.count else { throw parser.failure("text after the value") }
            return .success(value)
        } catch let failure as Failure {
            return .failure(failure)
        } catch {
            return .failure(Failure(offset: parser.index, what: "\(error)"))
        }
    }

    private func failure(_ what: String) -> Failure { Failure(offset: index, what: what) }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func value() throws -> JSONValue {
        guard index < bytes.count else { throw failure("the text ends where a value should be") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: throw failure("an unexpected character")
        }
    }

    private mutating func literal(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw failure("an unknown literal") }
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        for offset in 0..<count where bytes[index + offset] != expected[offset] {
            throw failure("an unknown literal")
        }
        index += count
    }

    private mutating func enter() throws {
        depth += 1
        guard depth <= JSONValue.maximumDepth else { throw failure("nesting deeper than \(JSONValue.maximumDepth) levels") }
        index += 1
        skipWhitespace()
    }

    private mutating func object() throws -> JSONValue {
        try enter()
        defer { depth -= 1 }
        if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object([:])
        }
        // Room for a request's few fields at once: growing from one field rehashed them twice.
        var fields = [String: JSONValue](minimumCapacity: 4)
        while true {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw failure("a key should be a string") }
            let key = try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw failure("a ':' should follow a key") }
            index += 1
            skipWhitespace()
            let field = try value()
            // The first of two equal keys wins, as it did with the decoder: the field goes in
            // with one hash of its key (a lookup, then an insert, hashed it twice), and the
            // first value is put back when the key was there (the key kept is the first's).
            if let first = fields.updateValue(field, forKey: key) { fields[key] = first }
            skipWhitespace()
            guard index < bytes.count else { throw failure("the text ends inside an object") }
            switch bytes[index] {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
            case UInt8(ascii: "}"):
                index += 1
                return .object(fields)
            default:
                throw failure("a ',' or '}' should follow a field")
            }
        }
    }

    private mutating func array() throws -> JSONValue {
        try enter()
        defer { depth -= 1 }
        if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array([])
        }
        var elements: [JSONValue] = []
        while true {
            elements.append(try value())
            skipWhitespace()
            guard index < bytes.count else { throw failure("the text ends inside an array") }
            switch bytes[index] {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
            case UInt8(ascii: "]"):
                index += 1
                return .array(elements)
            default:
                throw failure("a ',' or ']' should follow an element")
            }
        }
    }

    /// An integer: `-`? then `0` or a digit 1–9 followed by digits. Beyond Int64 it is
    /// `.nonInteger` (however long); a fraction or exponent is refused.
    private mutating func number() throws -> JSONValue {
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        let start = index
        var magnitude: UInt64 = 0
        var overflow = false
        while index < bytes.count, case let digit = bytes[index] &- UInt8(ascii: "0"), digit < 10 {
            if !overflow {
                let (times, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (plus, o2) = times.addingReportingOverflow(UInt64(digit))
                if o1 || o2 { overflow = true } else { magnitude = plus }
            }
            index += 1
        }
        guard index > start else { throw failure("a number without digits") }
        if index - start > 1 && bytes[start] == UInt8(ascii: "0") { throw failure("a number with a leading zero") }
        if index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"):
                throw failure("a number that is not an integer")
            default:
                break
            }
        }
        if overflow { return .nonInteger }
        if negative {
            if magnitude <= UInt64(Int64.max) { return .integer(-Int64(magnitude)) }
            if magnitude == UInt64(Int64.max) + 1 { return .integer(Int64.min) }
            return .nonInteger
        }
        return magnitude <= UInt64(Int64.max) ? .integer(Int64(magnitude)) : .nonInteger
    }

    /// A string at `index` (which holds its opening quote). Without escapes it is one copy of
    /// its bytes; with escapes they are decoded into a byte buffer first.
    private mutating func string() throws -> String {
        index += 1
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw failure("a control character inside a string") }
            index += 1
        }
        guard index < bytes.count else { throw failure("the text ends inside a string") }
        var decoded = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: decoded, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw failure("the text ends inside an escape") }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escaped)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"): try unicodeEscape(into: &decoded)
                default: throw failure("an unknown escape")
                }
            case 0..<0x20:
                throw failure("a control character inside a string")
            default:
                decoded.append(byte)
                index += 1
            }
        }
        throw failure("the text ends inside a string")
    }

    /// `\uXXXX` (the `\u` read already), with a surrogate pair as one scalar; a lone
    /// surrogate is refused.
    private mutating func unicodeEscape(into decoded: inout [UInt8]) throws {
        var scalar = try hex4()
        if (0xD800...0xDBFF).contains(scalar) {
            guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw failure("a lone surrogate in a \\u escape")
            }
            index += 2
            let low = try hex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw failure("a lone surrogate in a \\u escape") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(scalar) {
            throw failure("a lone surrogate in a \\u escape")
        }
        guard let unicode = Unicode.Scalar(scalar) else { throw failure("an invalid \\u escape") }
        decoded.append(contentsOf: unicode.utf8)
    }

    private mutating func hex4() throws -> UInt32 {
        guard bytes.count - index >= 4 else { throw failure("a short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("an invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }
}
