#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Texts told apart by their bytes. `String`'s `==` holds canonically equivalent texts equal
/// ("é" and "e" followed by U+0301), whose stored, hashed or written bytes differ: where the
/// bytes are what counts — a cached document, an idempotent replay's request, a configuration
/// value, the password hash a login verified — texts are compared with this, one `memcmp` when
/// both are contiguous UTF-8 (a native string always is).
package enum TextBytes {
    package static func same(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        let compared = a.utf8.withContiguousStorageIfAvailable { left in
            b.utf8.withContiguousStorageIfAvailable { right in
                left.count == 0 || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0
            }
        }
        return (compared ?? nil) ?? a.utf8.elementsEqual(b.utf8)
    }

    /// Two absent texts are the same; an absent one and a present one are not.
    package static func same(_ a: String?, _ b: String?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return same(a, b)
    }
}
