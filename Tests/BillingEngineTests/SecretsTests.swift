import Testing
@testable import BillingSecurity

/// The digests of the audit chain and of stored tokens are BLAKE2b-256 in lowercase hex: a
/// file written by one build must verify under the next, so the text is pinned to the
/// algorithm's published values (RFC 7693's "abc"; the empty input; a keyed digest).
@Suite("Secrets: digests")
struct SecretsTests {
    @Test func digestsAreBlake2b256InLowercaseHex() {
        #expect(Secrets.digest(Array("abc".utf8)) == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319")
        #expect(Secrets.digest([]) == "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8")
        #expect(Secrets.digest(Array("abc".utf8), key: Array(repeating: UInt8(ascii: "k"), count: 32))
                == "0a9b1f4f633832a535f3e4539d906998c3814fbcd4cc136e57e8ea742ac36b61")
    }
}
