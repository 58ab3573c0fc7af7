import Testing
@testable import BillingStorage

/// The bytes the library's chains hash (`AuditLog.chainLink`: audit rows of a scope, audit
/// seals, outbox seals) may never change: stored chains would no longer verify. The expected
/// values were computed outside the library (Python's `hashlib.blake2b(digest_size=32,
/// key=…)`) from the layout the code documents — a header line, then `name=<length>:<value>`
/// or `name=-` per field, each ending in a newline — so a change to either side fails here.
@Suite("Chain links")
struct ChainLinkTests {
    static let key: [UInt8] = Array(repeating: 0xa5, count: 32)

    @Test func outboxSealLinks() {
        #expect(OutboxSeals.link(previous: "", seal: 1, first: 1, seqs: "[3,1,2]", key: nil)
                == "4bd79be4330c7a6f16a0a072c0265f5110ff1c6fd8411802103f79f8db401b6c")
        #expect(OutboxSeals.link(previous: "abc", seal: 2, first: 4, seqs: "[7]", key: Self.key)
                == "k:05dc9f068fbff88110604bb7bed8cc7f99585a8f9299b4e2a50f63e89e5d745c")
    }

    /// A row's scope is hashed and stored: its bytes are the prefix and the name, whatever the
    /// name holds (written into the string's storage directly, not by `+`).
    @Test func scopesAreThePrefixAndTheName() {
        for name in ["acme", "", "中文-账户", "e\u{301}", String(repeating: "x", count: 300)] {
            #expect(Array(IdempotencyStore.scope(account: name, actor: "someone").utf8) == Array(("account:" + name).utf8))
            #expect(Array(IdempotencyStore.scope(account: nil, actor: name).utf8) == Array(("actor:" + name).utf8))
        }
    }

    @Test func auditRowLinks() {
        #expect(AuditLog.link(previous: "", at: 1_704_076_200, actor: "buyer", operation: "order.create", account: "acme",
                              subject: "O1", detail: #"{"x":"中文"}"#, rows: #"[["orders","[\"O1\"]","d"]]"#, scope: "account:acme")
                == "0822a0560af2dd3f16fc04015c21916e48fa3c043d8157e2cdc13d5adb0899d9")
        // Null fields are `-`, a negative instant its sign.
        #expect(AuditLog.link(previous: "prev", at: -5, actor: "", operation: "op", account: nil, subject: nil, detail: "{}",
                              rows: nil, scope: "actor:cron", key: Self.key)
                == "k:0f2af489d80b4111d02144cea44d760ab807f5f07d34bbbb4d4a175b29485002")
    }

    /// A scoped row's link, written field by field (its instant without a string), hashes the
    /// bytes `chainLink` hashes for the same fields, at every sign and number of digits.
    @Test func auditRowLinksAreChainLinks() {
        let instants: [Int64] = [0, 1, 9, 10, 99, 100, -1, -9, -10, -100, 1_704_076_200, Int64.max, Int64.min, Int64.min + 1]
        for at in instants {
            for (account, rows) in [("acme" as String?, "[]" as String?), (nil, nil)] {
                let direct = AuditLog.link(previous: "p", at: at, actor: "a", operation: "op", account: account, subject: nil,
                                           detail: "{}", rows: rows, scope: "actor:a", key: Self.key)
                let listed = AuditLog.chainLink("libbilling audit row 2", [
                    "scope": "actor:a", "previous": "p", "at": String(at), "actor": "a", "operation": "op",
                    "account": account, "subject": nil, "detail": "{}", "rows": rows,
                ], key: Self.key)
                #expect(direct == listed, "\(at)")
            }
        }
    }

    @Test func auditSealLinks() {
        #expect(AuditLog.sealLink(previous: "", position: 1, heads: #"[["account:acme",3,"h"],["outbox",1,"o"]]"#)
                == "4a018f013a7090f81f349a104843516f069bae30ce747153c1aa9edad27fe9c2")
        #expect(AuditLog.sealLink(previous: "p", position: 2, heads: "[]", key: Self.key)
                == "k:8536f361a1cdaed0eb0e10aa3b779075ba3698188e5ced775140f815e1d9a2c7")
    }
}
