/// Queries of hot paths whose arguments are one or two texts, bound without generics.
///
/// `first`, `all` and `run` take their arguments as a parameter pack, which the compiler does
/// not specialize inside their closures: each call looked up type metadata (`Optional<T>` for
/// `first`'s result) and copied and destroyed the arguments through value witnesses. The
/// scheduler reads a resource, its bound resources and its account's level this way for every
/// resource a pass moves.
extension Connection {
    @inline(__always)
    func query(_ sql: String, texts first: String, _ second: String? = nil, _ body: (Row) throws -> Bool) throws {
        try withUnsafeTemporaryAllocation(of: DatabaseValue.self, capacity: 2) { buffer in
            buffer.initializeElement(at: 0, to: .text(first))
            var count = 1
            if let second {
                buffer.initializeElement(at: 1, to: .text(second))
                count = 2
            }
            defer { buffer.baseAddress!.deinitialize(count: count) }
            try self.query(sql, values: UnsafeBufferPointer(rebasing: buffer[..<count]), body)
        }
    }
}
