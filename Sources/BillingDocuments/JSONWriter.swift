import BillingDomain

/// Writes a `JSONValue` as compact JSON text with object keys sorted, so equal values give
/// equal text (stored requests and responses are compared and hashed as text).
///
/// Every response, stored document and idempotency record goes through here, so it writes
/// bytes straight into one growing buffer: runs of string bytes that need no escape are
/// copied whole, integers are written digit by digit, and nothing builds an intermediate
/// `String` (the profile of a write had half its instructions in the previous writer).
/// Strings are escaped as RFC 8259 requires (quote, backslash, control characters, and DEL
/// as `\u007f`) and otherwise kept as UTF-8.
package struct JSONWriter: ~Copyable {
    /// The text written so far is `base[0..<count]`, in memory of `capacity` bytes the writer
    /// owns (freed with it). The writer keeps the length itself and copies into the room
    /// through one pointer: an `[UInt8]` checked its uniqueness and capacity and went through
    /// `append(contentsOf:)`'s generic bookkeeping (some 100 instructions) for each key
    /// literal, integer and run of a string, more than the copies (a seventh of a
    /// configuration change's own work). Not copyable, so no two writers share the memory.
    private var base: Memory
    private var capacity: Int
    /// The writer's memory (a name of its own: scripts/catalogue.py's call graph reads a call of
    /// `allocate` on a generic type's name as a call of the library's own `allocate`).
    private typealias Memory = UnsafeMutablePointer<UInt8>
    private var count = 0
    /// Whether the next field or element written by `key`/`element` needs a comma before it
    /// (the direct writers of JSONWriter+Fields.swift).
    var needsComma = false
    /// Leaves out object fields whose value is null, at every depth (a request's canonical
    /// form, where a null field counts as absent).
    package let skippingNullFields: Bool

    package init(skippingNullFields: Bool = false, capacity: Int = 512) {
        self.skippingNullFields = skippingNullFields
        self.capacity = Swift.max(capacity, 16)
        base = Memory.allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// How many bytes were written so far.
    var writtenCount: Int { count }

    /// The text written so far.
    package var text: String {
        String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self)
    }

    /// Appends one byte.
    @inline(__always)
    mutating func put(_ byte: UInt8) {
        if count == capacity { grow(1) }
        base[count] = byte
        count += 1
    }

    /// Appends bytes, copied at once into the room (made first when there is too little).
    @inline(__always)
    mutating func put(_ source: UnsafeBufferPointer<UInt8>) {
        guard let from = source.baseAddress else { return }
        let length = source.count
        if capacity - count < length { grow(length) }
        (base + count).update(from: from, count: length)
        count += length
    }

    /// Makes room for at least `needed` more bytes: twice the memory, or more.
    @inline(never)
    private mutating func grow(_ needed: Int) {
        let larger = Swift.max(capacity * 2, count + needed)
        let moved = Memory.allocate(capacity: larger)
        moved.update(from: base, count: count)
        base.deallocate()
        base = moved
        capacity = larger
    }

    /// Appends JSON text this writer (or another with the same settings) wrote before, as
    /// the next value: the bytes are what writing that value again would give, without
    /// building and sorting its tree once more.
    package mutating func writeWritten(_ text: String) {
        var text = text
        text.withUTF8 { put($0) }
    }

    /// Appends the punctuation of a hand-assembled document: `{`, `}`, `,`, `:`.
    package mutating func writeMark(_ mark: Unicode.Scalar) {
        put(UInt8(ascii: mark))
    }

    package mutating func write(_ value: JSONValue) {
        switch value {
        case .null, .nonInteger: append("null")
        case .bool(let flag): append(flag ? "true" : "false")
        case .integer(let number): writeInteger(number)
        case .string(let string): writeString(string)
        case .array(let elements):
            put(UInt8(ascii: "["))
            var first = true
            for element in elements {
                if !first { put(UInt8(ascii: ",")) }
                first = false
                write(element)
            }
            put(UInt8(ascii: "]"))
        case .object(let fields):
            writeObject(fields)
        }
    }

    private mutating func writeObject(_ fields: [String: JSONValue]) {
        put(UInt8(ascii: "{"))
        var first = true
        if fields.count == 1, let (key, value) = fields.first {
            writeField(key, value, first: &first)
        } else if fields.count > 1 {
            // The fields are visited through their dictionary indices in key order: nothing is
            // hashed again, and the sort moves indices, not keys and values.
            for index in JSONWriter.sortedIndices(fields) {
                let (key, value) = fields[index]
                writeField(key, value, first: &first)
            }
        }
        put(UInt8(ascii: "}"))
    }

    private mutating func writeField(_ key: String, _ value: JSONValue, first: inout Bool) {
        if skippingNullFields, case .null = value { return }
        if !first { put(UInt8(ascii: ",")) }
        first = false
        writeString(key)
        put(UInt8(ascii: ":"))
        write(value)
    }

    /// The dictionary's indices in the order of their keys: `String`'s own order, which the
    /// stored texts were written in. When every key is ASCII that order is the order of their
    /// bytes, so each key's first 16 bytes become two big-endian integers compared as such,
    /// and only keys equal that far are compared byte by byte (sorting by `String.<` was most
    /// of the writer's time); otherwise `String.<` decides.
    package static func sortedIndices(_ fields: [String: JSONValue]) -> [Dictionary<String, JSONValue>.Index] {
        var entries: [(high: UInt64, low: UInt64, index: Dictionary<String, JSONValue>.Index)] = []
        entries.reserveCapacity(fields.count)
        var ascii = true
        for index in fields.indices {
            let key = fields.keys[index]
            var packed = key.utf8.withContiguousStorageIfAvailable { JSONWriter.pack($0) }
            if packed == nil { packed = Array(key.utf8).withUnsafeBufferPointer { JSONWriter.pack($0) } }
            guard let packed else { continue }
            if !packed.2 { ascii = false }
            entries.append((packed.0, packed.1, index))
        }
        guard ascii else { return fields.indices.sorted { fields.keys[$0] < fields.keys[$1] } }
        entries.sort { a, b in
            if a.high != b.high { return a.high < b.high }
            if a.low != b.low { return a.low < b.low }
            // Equal in their first 16 bytes (or padded with zeros there): the bytes decide.
            return fields.keys[a.index].utf8.lexicographicallyPrecedes(fields.keys[b.index].utf8)
        }
        return entries.map(\.index)
    }

    /// A key's first 16 bytes as two big-endian words (zero-padded), and whether all its
    /// bytes are ASCII (checked eight at a time).
    private static func pack(_ bytes: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64, Bool) {
        var words: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &words) { raw in
            raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes).prefix(16)))
        }
        var high8: UInt64 = 0
        var offset = 0
        let raw = UnsafeRawBufferPointer(bytes)
        while offset + 8 <= bytes.count {
            high8 |= raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        while offset < bytes.count {
            high8 |= UInt64(bytes[offset])
            offset += 1
        }
        return (UInt64(bigEndian: words.0), UInt64(bigEndian: words.1), high8 & 0x8080_8080_8080_8080 == 0)
    }

    @inline(__always)
    mutating func append(_ literal: StaticString) {
        put(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    package mutating func writeInteger(_ number: Int64) {
        if number >= 0 && number < 10 {
            put(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: number))
            return
        }
        // At most 19 digits and a sign, written backwards straight into the room for them.
        var magnitude = number.magnitude
        var digits = 1
        var rest = magnitude
        while rest >= 10 { rest /= 10; digits += 1 }
        let length = digits + (number < 0 ? 1 : 0)
        if capacity - count < length { grow(length) }
        var position = count + length
        repeat {
            position -= 1
            base[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
        if number < 0 { base[count] = UInt8(ascii: "-") }
        count += length
    }

    package mutating func writeString(_ string: String) {
        put(UInt8(ascii: "\""))
        if string.utf8.withContiguousStorageIfAvailable({ writeEscaped($0) }) == nil {
            Array(string.utf8).withUnsafeBufferPointer { writeEscaped($0) }
        }
        put(UInt8(ascii: "\""))
    }

    private mutating func writeEscaped(_ source: UnsafeBufferPointer<UInt8>) {
        guard let base = source.baseAddress else { return }
        var runStart = 0
        var index = 0
        while index < source.count {
            // Eight bytes at a time while none of them needs an escape (most of every text).
            while index + 8 <= source.count,
                  !JSONWriter.needsEscape(UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)) {
                index += 8
            }
            guard index < source.count else { break }
            // Fewer than eight bytes left (a key, a short value): copied into a word of spaces
            // and checked at once; only a tail that needs an escape goes byte by byte.
            let left = source.count - index
            if left < 8 {
                var word: UInt64 = 0x2020_2020_2020_2020
                withUnsafeMutableBytes(of: &word) { $0.baseAddress!.copyMemory(from: base + index, byteCount: left) }
                if !JSONWriter.needsEscape(word) {
                    index = source.count
                    break
                }
            }
            let byte = source[index]
            // Most bytes need no escape: one comparison chain, then on.
            if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") && byte != 0x7F {
                index += 1
                continue
            }
            if index > runStart { put(UnsafeBufferPointer(rebasing: source[runStart..<index])) }
            put(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""): put(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): put(UInt8(ascii: "\\"))
            case UInt8(ascii: "\n"): put(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): put(UInt8(ascii: "r"))
            case UInt8(ascii: "\t"): put(UInt8(ascii: "t"))
            default:
                let hex: StaticString = "0123456789abcdef"
                append("u00")
                put(hex.utf8Start[Int(byte >> 4)])
                put(hex.utf8Start[Int(byte & 0x0F)])
            }
            index += 1
            runStart = index
        }
        if index > runStart { put(UnsafeBufferPointer(rebasing: source[runStart..<index])) }
    }

    /// Whether any of a word's eight bytes needs an escape: below 0x20, a quote, a backslash or
    /// DEL (bytes from 0x80 up, UTF-8's, never do). Each test sets a byte's high bit where a
    /// byte is below 0x20 (or zero, after the XOR with the character it looks for); a borrow
    /// can only mark a byte above one already marked, so the answer for the word is exact.
    @inline(__always)
    static func needsEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        func below(_ value: UInt64, _ limit: UInt64) -> UInt64 { (value &- ones &* limit) & ~value & highs }
        return (below(word, 0x20) | below(word ^ (ones &* 0x22), 1) | below(word ^ (ones &* 0x5C), 1)
            | below(word ^ (ones &* 0x7F), 1)) != 0
    }
}
