import BillingDomain

/// One cell of a CSV row.
package enum CSVCell {
    /// Text: quoted when needed, and defused when a spreadsheet would read it as a formula.
    case text(String)
    /// A number already formatted ("12.34", "-5"): written as is, so it stays a number.
    case number(String)
    case empty
}

/// Writes CSV that spreadsheets open cleanly (RFC 4180): CRLF line ends, fields with commas,
/// quotes or line breaks quoted with doubled quotes, and text cells starting with = + - @ or a
/// tab or carriage return prefixed with an apostrophe so they are never run as formulas.
/// Numbers are written as numbers, negative ones included.
package enum CSVWriter {
    /// The UTF-8 byte-order mark that makes spreadsheet programs read the file as UTF-8.
    package static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    package static func row(_ cells: [CSVCell]) -> [UInt8] {
        var output: [UInt8] = []
        for (index, cell) in cells.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            switch cell {
            case .empty: break
            case .number(let text): output += Array(text.utf8)
            case .text(let text): output += field(text)
            }
        }
        output += [13, 10]
        return output
    }

    package static func field(_ text: String) -> [UInt8] {
        var value = text
        if let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { value = "'" + value }
        let bytes = Array(value.utf8)
        guard bytes.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 }) else { return bytes }
        var quoted: [UInt8] = [UInt8(ascii: "\"")]
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { quoted.append(byte) }
            quoted.append(byte)
        }
        quoted.append(UInt8(ascii: "\""))
        return quoted
    }
}
