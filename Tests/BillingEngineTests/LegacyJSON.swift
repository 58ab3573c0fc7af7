import FoundationEssentials
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

/// The JSON reader and writer of 0.2.0 before the direct `JSONParser` and `JSONWriter`
/// replaced them, kept as the reference the differential tests compare with: the token
/// check, then FoundationEssentials' `JSONDecoder` into a tree; the writer sorting keys
/// and looking each up again.
enum LegacyJSON {
    static func parse(_ text: String) throws -> JSONValue {
        try JSONValue.checkTokens(text)
        do {
            return try JSONDecoder().decode(Node.self, from: Data(text.utf8)).value
        } catch let error as BillingError {
            throw error
        } catch {
            throw BillingError.invalid("malformed_json", "the request is not valid JSON")
        }
    }

    struct Node: Decodable {
        let value: JSONValue
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                value = .null
            } else if let flag = try? container.decode(Bool.self) {
                value = .bool(flag)
            } else if let number = try? container.decode(Int64.self) {
                value = .integer(number)
            } else if let string = try? container.decode(String.self) {
                value = .string(string)
            } else if let elements = try? container.decode([Node].self) {
                value = .array(elements.map(\.value))
            } else if let fields = try? container.decode([String: Node].self) {
                value = .object(fields.mapValues(\.value))
            } else if let number = try? container.decode(Decimal.self) {
                value = Int64("\(number)").map { .integer($0) } ?? .nonInteger
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "an invalid string or number")
            }
        }
    }

    static func text(_ value: JSONValue) -> String {
        var output: [UInt8] = []
        write(value, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    private static func write(_ value: JSONValue, into output: inout [UInt8]) {
        switch value {
        case .null, .nonInteger: output += Array("null".utf8)
        case .bool(let flag): output += Array((flag ? "true" : "false").utf8)
        case .integer(let number): output += Array(String(number).utf8)
        case .string(let string): writeString(string, into: &output)
        case .array(let values):
            output.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                write(element, into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let fields):
            output.append(UInt8(ascii: "{"))
            for (index, key) in fields.keys.sorted().enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                writeString(key, into: &output)
                output.append(UInt8(ascii: ":"))
                write(fields[key]!, into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    private static func writeString(_ value: String, into output: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        output.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): output += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\n"): output += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): output += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): output += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20, 0x7F:
                output += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
