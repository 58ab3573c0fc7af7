import Testing
@testable import BillingDomain

/// `TextBytes.same` tells texts apart by their bytes where `String`'s `==` would not.
@Suite("Texts compared by their bytes")
struct TextBytesTests {
    @Test func canonicallyEquivalentTextsDiffer() {
        #expect("é" == "e\u{301}")  // what `==` says, and why the library does not use it here
        #expect(!TextBytes.same("é", "e\u{301}"))
        #expect(!TextBytes.same("e\u{301}", "é"))
    }

    @Test func equalAndUnequalTexts() {
        #expect(TextBytes.same("", ""))
        #expect(TextBytes.same("$argon2id$v=19$m=19456,t=2,p=1$abc", "$argon2id$v=19$m=19456,t=2,p=1$abc"))
        #expect(!TextBytes.same("abc", "abd"))  // the same length
        #expect(!TextBytes.same("abc", "abcd"))
        let long = String(repeating: "中文", count: 500)
        #expect(TextBytes.same(long, String(repeating: "中", count: 1) + String(repeating: "文中", count: 499) + "文"))
    }

    @Test func absentTexts() {
        #expect(TextBytes.same(nil as String?, nil))
        #expect(!TextBytes.same(nil as String?, ""))
        #expect(!TextBytes.same("" as String?, nil))
        #expect(TextBytes.same("x" as String?, "x"))
    }
}
