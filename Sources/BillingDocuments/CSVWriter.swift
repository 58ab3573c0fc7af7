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

/// Writes CSV rows straight into one byte buffer, cell by cell, exactly as `CSVWriter.row`
/// writes the same cells: an export step's thousands of rows no longer build an array of
/// cells, a `String` per number and time, and an array of bytes per cell and row first (that
/// was most of an export's instructions).
package struct CSVRowWriter {
    package private(set) var bytes: [UInt8] = []
    /// Whether the next cell needs a comma before it.
    private var inRow = false

    package init(capacity: Int = 65_536) {
        bytes.reserveCapacity(capacity)
    }

    /// Appends bytes written before (the byte-order mark, a header row).
    package mutating func appendWritten(_ written: [UInt8]) {
        bytes.append(contentsOf: written)
    }

    private mutating func separate() {
        if inRow { bytes.append(UInt8(ascii: ",")) }
        inRow = true
    }

    /// Ends the row (CRLF).
    package mutating func endRow() {
        bytes.append(13)
        bytes.append(10)
        inRow = false
    }

    /// A whole row of cells, as `CSVWriter.row`.
    package mutating func rowCells(_ cells: [CSVCell]) {
        for cell in cells {
            switch cell {
            case .empty: emptyCell()
            case .number(let text): separate(); bytes.append(contentsOf: text.utf8)
            case .text(let text): textCell(text)
            }
        }
        endRow()
    }

    package mutating func emptyCell() { separate() }

    /// A text cell (`CSVWriter.field`): defused when it starts like a formula, quoted when it
    /// holds a comma, a quote or a line break.
    package mutating func textCell(_ text: String) {
        separate()
        var text = text
        text.withUTF8 { writeField($0) }
    }

    /// An optional text cell: empty for nil.
    package mutating func textCell(_ text: String?) {
        if let text { textCell(text) } else { emptyCell() }
    }

    private mutating func writeField(_ source: UnsafeBufferPointer<UInt8>) {
        // The characters that start a formula are ASCII, so the first byte tells.
        let defuse: Bool
        switch source.first {
        case UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), UInt8(ascii: "\t"), 13: defuse = true
        default: defuse = false
        }
        let quoted = source.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 }
        if !quoted {
            if defuse { bytes.append(UInt8(ascii: "'")) }
            bytes.append(contentsOf: source)
            return
        }
        bytes.append(UInt8(ascii: "\""))
        if defuse { bytes.append(UInt8(ascii: "'")) }
        for byte in source {
            if byte == UInt8(ascii: "\"") { bytes.append(byte) }
            bytes.append(byte)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// An amount in yuan as a number cell, as `Money.description` writes it ("-12.05").
    package mutating func moneyCell(_ amount: Money) {
        separate()
        let magnitude = amount.fen.magnitude
        if amount.fen < 0 { bytes.append(UInt8(ascii: "-")) }
        writeDigits(magnitude / 100, width: 1)
        bytes.append(UInt8(ascii: "."))
        writeDigits(magnitude % 100, width: 2)
    }

    /// A business time as a text cell ("2024-02-01 23:59:59", `BusinessCalendar.display`), or
    /// an empty cell for nil.
    package mutating func timeCell(_ instant: Int64?, _ calendar: BusinessCalendar) {
        guard let instant else { return emptyCell() }
        let (date, second) = calendar.civil(instant)
        guard (0...9999).contains(date.year) else { return textCell(calendar.display(instant)) }
        separate()
        writeDigits(UInt64(date.year), width: 4)
        bytes.append(UInt8(ascii: "-"))
        writeDigits(UInt64(date.month), width: 2)
        bytes.append(UInt8(ascii: "-"))
        writeDigits(UInt64(date.day), width: 2)
        bytes.append(UInt8(ascii: " "))
        writeDigits(UInt64(second / 3600), width: 2)
        bytes.append(UInt8(ascii: ":"))
        writeDigits(UInt64(second / 60 % 60), width: 2)
        bytes.append(UInt8(ascii: ":"))
        writeDigits(UInt64(second % 60), width: 2)
    }

    /// A number's decimal digits, zero-padded to at least `width`, appended byte by byte
    /// (most are two-digit parts of a time or the cents of an amount).
    private mutating func writeDigits(_ value: UInt64, width: Int) {
        if value < 100 && width <= 2 {
            if value >= 10 || width == 2 { bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value / 10)) }
            bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value % 10))
            return
        }
        var divisor: UInt64 = 1
        var digits = 1
        while divisor <= value / 10 {
            divisor *= 10
            digits += 1
        }
        while digits < width {
            bytes.append(UInt8(ascii: "0"))
            digits += 1
        }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
