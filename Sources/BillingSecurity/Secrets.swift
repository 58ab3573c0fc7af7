import CSodium
import BillingDomain

/// Password hashes and single-use tokens, from libsodium (never hand-written crypto).
///
/// Passwords are hashed with argon2id (`crypto_pwhash_str`): the stored string names its own
/// algorithm and costs, so old hashes keep verifying after the costs change and are
/// re-hashed at the next successful login.
public enum Secrets {
    private static let ready: Bool = sodium_init() >= 0

    private static func requireSodium() throws {
        guard ready else { throw BillingError(.cryptoUnavailable, "libsodium failed to initialise") }
    }

    /// An argon2id hash string of the password with the given costs.
    public static func hashPassword(_ password: String, opsLimit: Int64, memoryBytes: Int64) throws -> String {
        try requireSodium()
        var output = [CChar](repeating: 0, count: Int(crypto_pwhash_strbytes()))
        let length = UInt64(password.utf8.count)
        let code = password.withCString { chars in
            crypto_pwhash_str(&output, chars, length, UInt64(opsLimit), Int(memoryBytes))
        }
        guard code == 0 else {
            throw BillingError(.passwordHashFailed, "hashing the password failed (out of memory?)")
        }
        // The hash is ASCII up to its NUL terminator.
        return String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether the password matches a stored hash (constant-time inside libsodium).
    public static func verifyPassword(_ password: String, hash: String) -> Bool {
        guard ready else { return false }
        let length = UInt64(password.utf8.count)
        return hash.withCString { stored in
            password.withCString { chars in crypto_pwhash_str_verify(stored, chars, length) == 0 }
        }
    }

    /// Whether a stored hash was made with other costs than the configured ones.
    public static func needsRehash(_ hash: String, opsLimit: Int64, memoryBytes: Int64) -> Bool {
        hash.withCString { crypto_pwhash_str_needs_rehash($0, UInt64(opsLimit), Int(memoryBytes)) != 0 }
    }

    /// A hash that no password matches, verified against for unknown identifiers so that
    /// they cost the same time as a wrong password.
    package static func decoyHash(opsLimit: Int64, memoryBytes: Int64) -> String {
        (try? hashPassword(randomToken(), opsLimit: opsLimit, memoryBytes: memoryBytes)) ?? ""
    }

    /// 32 random bytes as 64 hex characters.
    public static func randomToken() throws -> String {
        try requireSodium()
        var bytes = [UInt8](repeating: 0, count: 32)
        randombytes_buf(&bytes, bytes.count)
        return hex(bytes)
    }

    /// BLAKE2b-256 of a token, in hex: what is stored instead of the token. Tokens carry 256
    /// random bits, so a fast hash is enough to make the stored value useless to a reader.
    public static func tokenDigest(_ token: String) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        let bytes = Array(token.utf8)
        _ = crypto_generichash(&digest, digest.count, bytes, UInt64(bytes.count), nil, 0)
        return hex(digest)
    }

    /// BLAKE2b-256 of bytes, in hex: the digest of a row's content and of audit links;
    /// keyed (BLAKE2b's own MAC mode) when a key of 16–64 bytes is given.
    ///
    /// The 32 digest bytes live on the stack: an array per hash was an allocation and a
    /// release each time (a create + pay hashes a dozen rows and links).
    package static func digest(_ bytes: [UInt8], key: [UInt8]? = nil) -> String {
        var digest: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &digest) { raw in
            let out = raw.bindMemory(to: UInt8.self)
            // A tuple's buffer always has an address; nil is only the type's possibility.
            guard let base = out.baseAddress else { return "" }
            if let key {
                _ = crypto_generichash(base, out.count, bytes, UInt64(bytes.count), key, key.count)
            } else {
                _ = crypto_generichash(base, out.count, bytes, UInt64(bytes.count), nil, 0)
            }
            return hex(UnsafeBufferPointer(out))
        }
    }

    /// Lowercase hex, written as ASCII bytes (appending `Character`s went through grapheme
    /// handling: a tenth of a usage call's time went to hex digests).
    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { hex($0) }
    }

    private static func hex(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        let digits: StaticString = "0123456789abcdef"
        return digits.withUTF8Buffer { table in
            String(unsafeUninitializedCapacity: bytes.count * 2) { out in
                for index in 0..<bytes.count {
                    let byte = bytes[index]
                    out[2 * index] = table[Int(byte >> 4)]
                    out[2 * index + 1] = table[Int(byte & 0x0F)]
                }
                return bytes.count * 2
            }
        }
    }
}
