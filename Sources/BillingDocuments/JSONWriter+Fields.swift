import BillingDomain

/// Writing a document field by field, straight from the values at hand, without building a
/// `JSONValue` tree first (building the tree hashed every key into a dictionary, and writing
/// it sorted them again: most of an order list page's instructions).
///
/// The caller writes the keys in the order `write(_:)` would give them (`String`'s order,
/// which for ASCII keys is byte order); each direct writer has a test comparing its bytes with
/// the tree's. Keys are ASCII literals that need no escape.
extension JSONWriter {
    /// Writes `"key":` for a key known only at run time (a map's), escaped as any string.
    package mutating func key(text key: String) {
        if needsComma { put(UInt8(ascii: ",")) }
        needsComma = true
        writeString(key)
        put(UInt8(ascii: ":"))
    }

    package mutating func beginObject() {
        put(UInt8(ascii: "{"))
        needsComma = false
    }

    package mutating func endObject() {
        put(UInt8(ascii: "}"))
        needsComma = true
    }

    package mutating func beginArray() {
        put(UInt8(ascii: "["))
        needsComma = false
    }

    package mutating func endArray() {
        put(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Starts the next element of an array (a comma after the first).
    package mutating func element() {
        if needsComma { put(UInt8(ascii: ",")) }
        needsComma = true
    }

    /// Writes `"key":` (after a comma when a field came before); the value follows.
    package mutating func key(_ key: StaticString) {
        if needsComma { put(UInt8(ascii: ",")) }
        needsComma = true
        put(UInt8(ascii: "\""))
        append(key)
        put(UInt8(ascii: "\""))
        put(UInt8(ascii: ":"))
    }

    /// Appends a literal holding the next key with its punctuation, `,"name":` (or `{"name":`
    /// for an object's first field): one copy instead of `key`'s five appends, for runs of
    /// fields whose order is fixed. The value follows.
    @inline(__always)
    package mutating func raw(_ literal: StaticString) {
        append(literal)
        needsComma = true
    }

    /// Writes an integer or null (after `raw`).
    @inline(__always)
    package mutating func writeOptional(_ value: Int64?) {
        if let value { writeInteger(value) } else { append("null") }
    }

    /// Writes a string or null (after `raw`).
    @inline(__always)
    package mutating func writeOptional(_ value: String?) {
        if let value { writeString(value) } else { append("null") }
    }

    /// Writes true or false (after `raw`).
    @inline(__always)
    package mutating func writeBool(_ value: Bool) {
        append(value ? "true" : "false")
    }

    package mutating func field(_ name: StaticString, _ value: Int64) {
        key(name)
        writeInteger(value)
    }

    package mutating func field(_ name: StaticString, _ value: Int64?) {
        key(name)
        if let value { writeInteger(value) } else { append("null") }
    }

    package mutating func field(_ name: StaticString, _ value: String) {
        key(name)
        writeString(value)
    }

    package mutating func field(_ name: StaticString, _ value: String?) {
        key(name)
        if let value { writeString(value) } else { append("null") }
    }

    package mutating func field(_ name: StaticString, _ value: Bool) {
        key(name)
        append(value ? "true" : "false")
    }

    package mutating func field(_ name: StaticString, _ value: JSONValue) {
        key(name)
        write(value)
    }

    /// Writes an object value leaving out the fields named in `omitting` (`write` of the
    /// object with those keys removed, without copying it); any other value as `write` does.
    package mutating func write(_ value: JSONValue, omitting: [String]) {
        guard case .object(let fields) = value else { return write(value) }
        put(UInt8(ascii: "{"))
        var first = true
        for index in JSONWriter.sortedIndices(fields) {
            let (key, value) = fields[index]
            if omitting.contains(key) { continue }
            if skippingNullFields, case .null = value { continue }
            if !first { put(UInt8(ascii: ",")) }
            first = false
            writeString(key)
            put(UInt8(ascii: ":"))
            write(value)
        }
        put(UInt8(ascii: "}"))
    }
}
