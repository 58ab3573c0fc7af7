/// Stores write their statements once, with SQLite's `?` parameters; PostgreSQL numbers them
/// (`$1`, `$2`, …). This rewrites each `?` that is a parameter — not one inside a string
/// literal, a quoted identifier, a dollar-quoted string or a comment — to the next `$n`.
/// A statement already written with `$n` (and no bare `?`) comes back unchanged. The result is
/// cached with the prepared statement, so the rewrite runs once per statement text.
package enum PostgresPlaceholders {
    package static func numbered(_ sql: String) -> String {
        let bytes = Array(sql.utf8)
        guard bytes.contains(UInt8(ascii: "?")) else { return sql }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 8)
        var next = 1
        var i = 0
        let n = bytes.count
        /// Copies from `i` up to and including the first `end` sequence (or to the end).
        func copyThrough(_ end: [UInt8]) {
            while i < n {
                if bytes[i] == end[0], i + end.count <= n, Array(bytes[i..<(i + end.count)]) == end {
                    out.append(contentsOf: end)
                    i += end.count
                    return
                }
                out.append(bytes[i])
                i += 1
            }
        }
        while i < n {
            let byte = bytes[i]
            switch byte {
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                // A literal or quoted identifier; a doubled quote inside is an escaped one and
                // simply closes and reopens, which copying through the next quote handles.
                out.append(byte)
                i += 1
                copyThrough([byte])
            case UInt8(ascii: "-") where i + 1 < n && bytes[i + 1] == UInt8(ascii: "-"):
                copyThrough([UInt8(ascii: "\n")])
            case UInt8(ascii: "/") where i + 1 < n && bytes[i + 1] == UInt8(ascii: "*"):
                out.append(contentsOf: [byte, bytes[i + 1]])
                i += 2
                copyThrough(Array("*/".utf8))
            case UInt8(ascii: "$"):
                // $tag$ … $tag$ (tag empty or an identifier); `$1` is a parameter already.
                var j = i + 1
                while j < n, bytes[j] == UInt8(ascii: "_") || (bytes[j] >= UInt8(ascii: "a") && bytes[j] <= UInt8(ascii: "z"))
                    || (bytes[j] >= UInt8(ascii: "A") && bytes[j] <= UInt8(ascii: "Z")) || (j > i + 1 && bytes[j] >= UInt8(ascii: "0") && bytes[j] <= UInt8(ascii: "9")) {
                    j += 1
                }
                if j < n, bytes[j] == UInt8(ascii: "$") {
                    let tag = Array(bytes[i...j])
                    out.append(contentsOf: tag)
                    i = j + 1
                    copyThrough(tag)
                } else {
                    out.append(byte)
                    i += 1
                }
            case UInt8(ascii: "?"):
                // `?NNN` names its parameter (SQLite's numbered form, used where one value is
                // bound once and read several times): it becomes `$NNN`. A bare `?` takes the next.
                var j = i + 1
                while j < n, bytes[j] >= UInt8(ascii: "0"), bytes[j] <= UInt8(ascii: "9") { j += 1 }
                if j > i + 1 {
                    out.append(UInt8(ascii: "$"))
                    out.append(contentsOf: bytes[(i + 1)..<j])
                    i = j
                } else {
                    out.append(contentsOf: Array("$\(next)".utf8))
                    next += 1
                    i += 1
                }
            default:
                out.append(byte)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
