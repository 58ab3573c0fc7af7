import CPostgres
import BillingDomain

/// One row of a PostgreSQL result, valid only inside the closure it is passed to (the result
/// is cleared when the query returns).
///
/// Results come in PostgreSQL's binary format, so integer columns arrive as big-endian two's
/// complement and are read into `Int64` exactly, never through binary floating point. The
/// readers give what SQLite's give for the same stored value: `bigint`, `integer`, `smallint`
/// and `boolean` are integers; `numeric` (what SUM over `bigint` yields) is an integer when it
/// is a whole number within Int64; `text`, `varchar`, `char`, `name`, `json` and `jsonb` are
/// text. A column of any other type reads as 0 / nil, as a `real` or `blob` column would in
/// SQLite's integer reader — the schema has none.
package struct PostgresRow: Row {
    let result: OpaquePointer
    let row: Int32

    // Type OIDs of the built-in types read here (pg_type.oid; fixed by PostgreSQL).
    static let boolType: UInt32 = 16, byteaType: UInt32 = 17, nameType: UInt32 = 19, int8Type: UInt32 = 20
    static let int2Type: UInt32 = 21, int4Type: UInt32 = 23, textType: UInt32 = 25, oidType: UInt32 = 26
    static let jsonType: UInt32 = 114, float4Type: UInt32 = 700, float8Type: UInt32 = 701, unknownType: UInt32 = 705
    static let bpcharType: UInt32 = 1042, varcharType: UInt32 = 1043, numericType: UInt32 = 1700, jsonbType: UInt32 = 3802

    private func isNull(_ column: Int32) -> Bool { PQgetisnull(result, row, column) != 0 }

    private func bytes(_ column: Int32) -> UnsafeRawBufferPointer {
        let count = Int(PQgetlength(result, row, column))
        guard let value = PQgetvalue(result, row, column) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: value, count: count)
    }

    /// A big-endian two's-complement integer of `count` bytes.
    private static func bigEndian(_ raw: UnsafeRawBufferPointer, count: Int) -> Int64? {
        guard raw.count == count, count > 0 else { return nil }
        var value: UInt64 = 0
        for byte in raw { value = value << 8 | UInt64(byte) }
        let shift = UInt64(64 - count * 8)
        // Sign-extend from the width of the column's type.
        return Int64(bitPattern: value << shift) >> Int64(shift)
    }

    /// An integral `numeric` within Int64 (binary format: digit count, weight, sign, display
    /// scale, then base-10000 digits); nil for a fraction, NaN, infinity or an overflow.
    private static func numeric(_ raw: UnsafeRawBufferPointer) -> Int64? {
        guard raw.count >= 8 else { return nil }
        func word(_ at: Int) -> UInt16 { UInt16(raw[at]) << 8 | UInt16(raw[at + 1]) }
        let digitCount = Int(word(0)), weight = Int(Int16(bitPattern: word(2))), sign = word(4)
        guard raw.count == 8 + 2 * digitCount, sign == 0x0000 || sign == 0x4000 else { return nil }
        // Digits past the weight are a fraction: a whole number has none that is not zero.
        var magnitude: UInt64 = 0
        for index in 0..<digitCount {
            let digit = UInt64(word(8 + 2 * index))
            if index > weight {
                if digit != 0 { return nil }
                continue
            }
            let (times, overflowTimes) = magnitude.multipliedReportingOverflow(by: 10_000)
            let (plus, overflowPlus) = times.addingReportingOverflow(digit)
            if overflowTimes || overflowPlus { return nil }
            magnitude = plus
        }
        // Trailing base-10000 zero groups are left out of the digits: scale up to the weight.
        if digitCount > 0 && weight >= digitCount {
            for _ in digitCount...weight {
                let (times, overflow) = magnitude.multipliedReportingOverflow(by: 10_000)
                if overflow { return nil }
                magnitude = times
            }
        }
        if sign == 0x4000 {
            if magnitude == UInt64(Int64.max) + 1 { return Int64.min }
            return magnitude <= UInt64(Int64.max) ? -Int64(magnitude) : nil
        }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    /// The type OID of a column.
    func type(_ column: Int32) -> UInt32 { PQftype(result, column) }

    /// The integer in a column (0 for NULL).
    package func int(_ column: Int32) -> Int64 { optionalInt(column) ?? 0 }

    /// The integer in a column, nil for NULL (and for a value that is not a whole number).
    package func optionalInt(_ column: Int32) -> Int64? {
        guard !isNull(column) else { return nil }
        let raw = bytes(column)
        switch type(column) {
        case Self.int8Type: return Self.bigEndian(raw, count: 8)
        case Self.int4Type: return Self.bigEndian(raw, count: 4)
        case Self.int2Type: return Self.bigEndian(raw, count: 2)
        case Self.oidType: return Self.bigEndian(raw, count: 4).map { $0 & 0xFFFF_FFFF }
        case Self.boolType: return raw.count == 1 ? Int64(raw[0] != 0 ? 1 : 0) : nil
        case Self.numericType: return Self.numeric(raw)
        case Self.textType, Self.varcharType, Self.bpcharType, Self.nameType, Self.unknownType:
            // SQLite reads decimal text as its integer; exact, digits only.
            return Int64(String(decoding: raw, as: UTF8.self))
        default: return nil
        }
    }

    /// The text in a column, nil for NULL; an integer column gives its decimal digits.
    package func optionalText(_ column: Int32) -> String? {
        guard !isNull(column) else { return nil }
        let raw = bytes(column)
        switch type(column) {
        case Self.jsonbType:
            // Binary jsonb is a version byte (1) followed by the document's text.
            return raw.count >= 1 && raw[0] == 1 ? String(decoding: UnsafeRawBufferPointer(rebasing: raw[1...]), as: UTF8.self) : nil
        case Self.int8Type, Self.int4Type, Self.int2Type, Self.oidType, Self.boolType, Self.numericType:
            return optionalInt(column).map { String($0) }
        case Self.byteaType, Self.float4Type, Self.float8Type:
            return nil
        default:
            return String(decoding: raw, as: UTF8.self)
        }
    }

    /// The number of columns of the row.
    package var columnCount: Int32 { PQnfields(result) }

    /// A column's name as the query gives it.
    package func columnName(_ column: Int32) -> String {
        PQfname(result, column).map { String(cString: $0) } ?? ""
    }

    /// Whether a column is NULL in this row.
    package func isNull(column: Int32) -> Bool { isNull(column) }

    /// What kind of value a column holds, named as SQLite's storage classes are (row coverage
    /// hashes the kind with the value, so both backends must agree on it): `bigint` and the
    /// other integer types are `.integer`, a whole `numeric` too, text types `.text`.
    package func columnKind(_ column: Int32) -> ColumnKind {
        if isNull(column) { return .null }
        switch type(column) {
        case Self.int8Type, Self.int4Type, Self.int2Type, Self.oidType, Self.boolType: return .integer
        case Self.numericType: return optionalInt(column) == nil ? .real : .integer
        case Self.float4Type, Self.float8Type: return .real
        case Self.byteaType: return .blob
        default: return .text
        }
    }
}
