import Testing
import FoundationEssentials
@testable import BillingEngine

#if canImport(Glibc)
import Glibc
#endif
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

/// The direct reader and writer against the ones they replaced (`LegacyJSON`): every input
/// must give the same value or be refused with the same reason, and every value the same text.
@Suite("JSON reader and writer")
struct JSONTests {
    /// The one documented difference: an integer too large for the old decoder's `Decimal`
    /// (more than about 165 digits) was malformed JSON; it is now a number beyond 64 bits,
    /// which every reader refuses as such.
    private static func knownDifference(_ text: String, legacy: Result<JSONValue, BillingError>) -> Bool {
        guard case .failure(let error) = legacy, error.reason == "malformed_json" else { return false }
        var run = 0
        for byte in text.utf8 {
            run = (48...57).contains(byte) ? run + 1 : 0
            if run > 150 { return true }
        }
        return false
    }

    private static func outcome(_ body: () throws -> JSONValue) -> Result<JSONValue, BillingError> {
        do { return .success(try body()) } catch let error as BillingError { return .failure(error) } catch {
            return .failure(BillingError(.unexpectedError, "\(error)"))
        }
    }

    /// Compares the two readers on one text; returns a description of a difference.
    static func difference(_ text: String) -> String? {
        let new = outcome { try JSONValue.parse(text) }
        let old = outcome { try LegacyJSON.parse(text) }
        switch (new, old) {
        case (.success(let a), .success(let b)):
            // Bytes too: `JSONValue`'s `==` compares keys as Swift strings (canonically), so
            // which of two equal keys' bytes was kept shows only in the text.
            return a == b && Array(a.text.utf8) == Array(b.text.utf8) ? nil : "\(text.debugDescription): \(a) != legacy \(b)"
        case (.failure(let a), .failure(let b)):
            return a.reason == b.reason ? nil : "\(text.debugDescription): \(a.reason) != legacy \(b.reason)"
        default:
            if knownDifference(text, legacy: old) { return nil }
            return "\(text.debugDescription): \(new) != legacy \(old)"
        }
    }

    static let edgeCases: [String] = [
        "1", "\"a\"", "true", "false", "null", "-0", "[]", "{}", "{ }", "[ ]", " {} ", "\t{\n}\r",
        "{\"a\":1,\"a\":2}", "{\"a\":2,\"a\":1}", "{\"a\":{\"b\":1,\"b\":null}}",
        "\u{FEFF}{}", "{}\u{FEFF}", " \u{FEFF}{}", "\u{FEFF}", "\u{FEFF} {\"a\":1}",
        "{\"a\":\"\u{01}\"}", "\"\t\"", "\"\u{7F}\"", "\"\\u0000\"", "{\"\\u0000\":1}",
        "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800x\"", "\"\\ud800\\u0041\"", "\"\\ud83d\\ude00\"", "\"\\ud800\\ud800\"",
        "\"\\udbff\\udfff\"", "\"\\uDBFF\\uDFFF\"", "\"\\uD83D\\uDE00\"", "\"\\u00e9\"", "\"\\u00E9\"", "\"é😀\"",
        "\"\\x\"", "\"\\/\"", "\"\\U00e9\"", "\"\\u12\"", "\"\\uGGGG\"", "\"\\b\\f\\n\\r\\t\\\"\\\\\"", "\"abc", "\"\\",
        "[-]", "[1a]", "[1 2]", "{\"a\" : 1 , }", "[1,]", "[1,,2]", "[,]", "{,}", "{\"a\":1,,\"b\":2}", "{\"a\":1,\"b\"}",
        "\u{0B}{}", "\u{0C}{}", "{}\u{00A0}", "nul", "tru", "fals", "nulll", "true false", "True", "NULL",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "18446744073709551615", "18446744073709551616", "-18446744073709551616",
        String(repeating: "9", count: 39), String(repeating: "9", count: 100), "[" + String(repeating: "1", count: 166) + "]",
        "{\"a\":1}x", "{\"a\":1} ", "{'a':1}", "[NaN]", "[Infinity]", "[-Infinity]", "/*c*/{}", "{a:1}", "[00]", "[01]", "[-01]",
        "[1.0]", "[1e2]", "[1E2]", "[1.5e3]", "[-0.0]", "[.5]", "[-.5]", "[+1]", "[1-2]", "[--1]", "[0x10]", "[1.]", "[1e]",
        "123abc", "", " ", "[", "]", "{", "}", "[[", "]]", "{\"a\"", "{\"a\":", "{\"a\":}", "{1:2}", "{\"a\" 1}",
        String(repeating: "[", count: 64) + String(repeating: "]", count: 64),
        String(repeating: "[", count: 65) + String(repeating: "]", count: 65),
        String(repeating: "[", count: 513), String(repeating: "{\"a\":", count: 64) + "1" + String(repeating: "}", count: 64),
        String(repeating: "{\"a\":", count: 65) + "1" + String(repeating: "}", count: 65),
        "[1.5, 01]", "[01, 1.5]", "{\"a\":1.5,", "{\"a\" 1.5}", "[1,]1.5", "[" + String(repeating: "[", count: 70) + "1.5",
        "{\"actor\":\"t\",\"changes\":{\"five_day_quota_per_year\":1e300}}",
        "{\"k\":[1,\"two\",{\"three\":[null,true,false,-4]}],\"\":\"\",\"é\":\"\\n\"}",
        // Equal keys: the first value stays (also for keys equal as Swift strings only, U+212A
        // and K, e + U+0301 and é).
        "{\"a\":1,\"a\":2}", "{\"a\":{\"b\":1},\"a\":2,\"a\":[3]}", "{\"b\":0,\"a\":1,\"c\":2,\"a\":3,\"b\":4}",
        "{\"K\":1,\"\u{212A}\":2}", "{\"\u{212A}\":2,\"K\":1}", "{\"é\":1,\"e\u{301}\":2}", "{\"x\":{\"a\":1,\"a\":null}}",
    ]

    @Test func readerAgreesWithTheDecoderOnEdgeCases() {
        for text in JSONTests.edgeCases {
            if let difference = JSONTests.difference(text) { Issue.record(Comment(rawValue: difference)) }
        }
    }

    /// The requests of the fuzz corpus and regressions (each call of an input), as given and
    /// with deterministic mutations: bytes replaced, inserted, removed, and spans cut.
    @Test func readerAgreesWithTheDecoderOnTheFuzzCorpus() throws {
        let requests = JSONTests.corpusRequests()
        #expect(requests.count > 500)
        var generator = SplitMix64(seed: 17)
        let alphabet = Array("{}[]\":,0123456789-.eE+ \\u/tfnrabx\u{7F}\u{01}é".utf8)
        var compared = 0
        for request in requests {
            if let difference = JSONTests.difference(request) { Issue.record(Comment(rawValue: difference)) }
            let bytes = Array(request.utf8)
            guard !bytes.isEmpty else { continue }
            for _ in 0..<12 {
                var mutated = bytes
                for _ in 0..<Int.random(in: 1...3, using: &generator) {
                    let position = Int.random(in: 0..<max(mutated.count, 1), using: &generator)
                    switch Int.random(in: 0..<4, using: &generator) {
                    case 0 where !mutated.isEmpty: mutated[position] = alphabet.randomElement(using: &generator)!
                    case 1: mutated.insert(alphabet.randomElement(using: &generator)!, at: min(position, mutated.count))
                    case 2 where !mutated.isEmpty: mutated.remove(at: position)
                    default: mutated = Array(mutated.prefix(position))
                    }
                }
                guard let text = String(validating: mutated, as: UTF8.self), !text.utf8.contains(0) else { continue }
                compared += 1
                if let difference = JSONTests.difference(text) { Issue.record(Comment(rawValue: difference)) }
            }
        }
        #expect(compared > 3000)
    }

    /// Every request of fuzz/corpus/json and fuzz/regressions/json that is valid UTF-8: byte 0
    /// of each call picks the function, the request runs to the next NUL.
    static func corpusRequests() -> [String] {
        let root = String(#filePath).split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/")
        var requests: [String] = []
        for directory in ["fuzz/corpus/json", "fuzz/regressions/json"] {
            let path = root + "/" + directory
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { continue }
            for name in names.sorted() {
                guard let data = try? Data(contentsOf: URL(fileURLWithPath: path + "/" + name)) else { continue }
                for call in Array(data).split(separator: 0, omittingEmptySubsequences: false) where call.count > 1 {
                    if let text = String(validating: call.dropFirst(), as: UTF8.self) { requests.append(text) }
                }
            }
        }
        return requests
    }

    /// Random values: strings with escapes, controls, DEL and non-ASCII (keys too, for the
    /// order), integers at the extremes, nesting.
    private static func randomValue(_ generator: inout SplitMix64, depth: Int = 0) -> JSONValue {
        let pieces = ["a", "B", "z", "_", "0", "\"", "\\", "\n", "\r", "\t", "\u{01}", "\u{1F}", "\u{7F}", "é", "e\u{301}", "中", "😀", " ", "/"]
        func string() -> String {
            (0..<Int.random(in: 0...6, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
        }
        switch Int.random(in: 0..<(depth > 3 ? 5 : 8), using: &generator) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2: return .integer([0, 1, 9, 10, -1, -10, Int64.max, Int64.min, Int64.random(in: Int64.min...Int64.max, using: &generator)].randomElement(using: &generator)!)
        case 3: return .string(string())
        case 4: return .nonInteger
        case 5: return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in randomValue(&generator, depth: depth + 1) })
        default:
            var fields: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...5, using: &generator) { fields[string()] = randomValue(&generator, depth: depth + 1) }
            return .object(fields)
        }
    }

    /// Keys that agree in their first 16 bytes, prefixes of each other, NUL bytes and
    /// non-ASCII keys: the writer's key order is `String`'s.
    @Test func keysAreSortedAsStringsSortThem() {
        let keys = ["login_throttle_after_failures", "login_throttle_base_seconds", "login_throttle_", "login_throttle",
                    "login_throttle_\u{0}", "login_throttle_\u{0}a", "a", "", "\u{0}", "aaaaaaaaaaaaaaaaX", "aaaaaaaaaaaaaaaa",
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa0", "password_hash_ops_limit",
                    "password_hash_memory_bytes", "Z", "_", "~", "\u{7F}"]
        let ascii = JSONValue.object(Dictionary(uniqueKeysWithValues: keys.map { ($0, JSONValue.integer(1)) }))
        #expect(ascii.text == LegacyJSON.text(ascii))
        let mixed = JSONValue.object(Dictionary(uniqueKeysWithValues: (keys + ["é", "e\u{301}x", "中", "a\u{301}"]).map { ($0, JSONValue.null) }))
        #expect(mixed.text == LegacyJSON.text(mixed))
    }

    /// Strings are escaped eight bytes at a time where nothing needs an escape: each byte that
    /// does (and its neighbours that do not) at every position of texts of several lengths
    /// escapes as the old writer escaped it.
    @Test func escapesAtEveryPositionAreTheOldWritersOnes() {
        let specials = ["\u{0}", "\u{1F}", "\"", "\\", "\u{7F}", "\n", " ", "!", "[", "]", "~", "é", "中", "😀"]
        for length in [1, 7, 8, 9, 15, 16, 17, 24, 40] {
            for position in 0..<length {
                for special in specials {
                    let text = String(repeating: "a", count: position) + special + String(repeating: "b", count: length - position - 1)
                    #expect(JSONValue.string(text).text == LegacyJSON.text(.string(text)), "\(Array(text.utf8))")
                }
            }
        }
    }

    /// The reader's control-character test, eight bytes at a time, finds what a byte-by-byte
    /// test finds: each special byte at every position of texts of several lengths, beside
    /// bytes just outside the range and multi-byte characters.
    @Test func controlCharactersAreFoundAtEveryPosition() {
        let specials = ["\u{0}", "\u{1}", "\u{1F}", "\u{7F}", "\n", " ", "~", "\u{80}", "é", "中", "😀", "\u{9F}"]
        for length in [1, 7, 8, 9, 15, 16, 17, 24, 33] {
            for position in 0..<length {
                for special in specials {
                    let text = String(repeating: "a", count: position) + special + String(repeating: "é", count: length - position - 1)
                    #expect(ObjectReader.hasControlCharacter(text) == text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }),
                            "\(Array(text.utf8))")
                }
            }
        }
    }

    @Test func writerWritesWhatTheOldWriterWrote() throws {
        var generator = SplitMix64(seed: 2026)
        for _ in 0..<3000 {
            let value = JSONTests.randomValue(&generator)
            let text = value.text
            #expect(text == LegacyJSON.text(value))
            #expect(value.textWithoutNulls == LegacyJSON.text(value.withoutNulls))
            // What is written reads back as the same value (but for .nonInteger, written as null).
            if !text.contains("null") { #expect(try JSONValue.parse(text) == value) }
        }
    }

    /// A writer that starts small grows its own memory as it goes: every piece (a byte, a
    /// literal, an integer, a string run longer than the room left, a text written before)
    /// lands once, in order, whatever the room left when it came.
    @Test func writerGrowsItsMemoryKeepingEveryByte() {
        var generator = SplitMix64(seed: 17)
        for round in 0..<200 {
            var writer = JSONWriter(capacity: round % 40)
            var expected = "["
            writer.beginArray()
            for index in 0..<Int(generator.next() % 60) {
                writer.element()
                if index > 0 { expected += "," }
                switch generator.next() % 4 {
                case 0:
                    let number = Int64(bitPattern: generator.next()) >> (generator.next() % 64)
                    writer.writeInteger(number)
                    expected += String(number)
                case 1:
                    let text = String(repeating: "é\"x", count: Int(generator.next() % 300))
                    writer.writeString(text)
                    expected += LegacyJSON.text(.string(text))
                case 2:
                    writer.writeOptional(nil as String?)
                    expected += "null"
                default:
                    let written = String(repeating: "[1,2]", count: Int(generator.next() % 200))
                    writer.writeWritten(written)
                    expected += written
                }
            }
            writer.endArray()
            expected += "]"
            #expect(writer.text == expected, "round \(round)")
        }
    }

    /// The configuration's direct writer gives the bytes of its tree: the default one, and one
    /// with every map changed (keys to sort, an escaped text, a level missing its own days).
    @Test func configurationTextIsTheTreesText() {
        var configuration = Configuration()
        #expect(configuration.documentText == configuration.json.text)
        configuration.exportDirectory = "/srv/导出/\"q\"\\"
        configuration.payDeadlineSeconds = ["default": 1, "hardware": 2, "a_kind": 3, "Zebra": 4, "é": 5]
        configuration.handlingFeeRatesBP = ["YEAR_5": [1, 2, 3], "MONTHLY": [], "A": [Int64.max, Int64.min]]
        configuration.expiryReminderDays = [:]
        configuration.graceAndRetention[.v2] = nil
        configuration.graceAndRetention[.v4] = GraceRetention(2, 3, 4, 5)
        configuration.businessUTCOffsetSeconds = -(5 * 3600 + 30 * 60)
        configuration.largeRefundThreshold = Money(fen: 0)
        #expect(configuration.documentText == configuration.json.text)
    }

    /// `applying` reads only the fields a patch holds (`Configuration.Field`, looked up by the
    /// patch's keys): every key of the document is such a field, read under its own name with
    /// its own check; a key that is no field is still refused beside good ones; and of several
    /// bad fields the first in `applying`'s reading order is the one named, as when it probed
    /// every field in turn.
    @Test func patchReadsEachFieldItHoldsByItsOwnName() throws {
        let defaults = Configuration()
        func apply(_ fields: [String: JSONValue]) throws -> Configuration {
            try defaults.applying(ObjectReader(.object(fields), path: "request.changes"))
        }
        guard case .object(let document) = defaults.json else {
            Issue.record("the configuration is not an object")
            return
        }
        #expect(Set(document.keys) == Set(Configuration.Field.allCases.map(\.name)))
        #expect(Configuration.Field.allCases.count <= 64)
        for (name, value) in document {
            // Its own value back: read and accepted (no unknown field), nothing changed.
            #expect(try apply([name: value]).documentText == defaults.documentText, "\(name)")
            // A value of the wrong type: refused, naming this field.
            let refused = expectBillingError { try apply([name: .bool(true)]) }
            #expect(refused?.reason == "wrong_type", "\(name)")
            #expect(refused?.message.hasPrefix("request.changes.\(name) must") == true, "\(name): \(refused?.message ?? "accepted")")
            // Beside a key that is no field: that key is refused.
            let unknown = expectBillingError { try apply([name: value, "auto_renew_hours": .integer(1)]) }
            #expect(unknown?.reason == "unknown_field", "\(name)")
        }
        // One field changed takes effect.
        #expect(try apply(["auto_renew_hour": .integer(5)]).autoRenewHour == 5)
        #expect(try apply(["login_throttle_forget_seconds": .integer(600)]).loginThrottleForgetSeconds == 600)
        // Two bad fields: the one read first (currency before token_ttl_seconds) is named.
        let first = expectBillingError { try apply(["token_ttl_seconds": .integer(1), "currency": .integer(1)]) }
        #expect(first?.message.hasPrefix("request.changes.currency ") == true, "\(first?.message ?? "accepted")")
        // The checks across fields still run when neither field is in the patch.
        var tight = defaults
        tight.passwordMinimumLength = 20
        tight.passwordMaximumLength = 10
        #expect(expectBillingError { try tight.applying(ObjectReader(.object(["auto_renew_hour": .integer(1)]), path: "request.changes")) }?.reason == "out_of_range")
    }

    /// One change of each field of the configuration (and a few that write alike).
    static func configurationChanges() -> [(inout Configuration) -> Void] {
        [
            { $0.autoRenewHour = 4 },
            { $0.businessUTCOffsetSeconds = -(5 * 3600 + 30 * 60) },
            { $0.businessUTCOffsetSeconds += 30 },  // the same minute: no change in the document
            { $0.currency = "USD" },
            { $0.defaultDeductionDays = 3 },
            { $0.defaultUnifiedExpiryDay = -1 },
            { $0.expiryReminderDays["AUTO_RENEW"] = [1] },
            { $0.exportDirectory = "/srv/导出" },
            { $0.exportRetentionHours = 1 },
            { $0.exportRowsPerStep = 10 },
            { $0.fiveDayQuotaPerYear = 0 },
            { $0.fiveDayRefundHours = 1 },
            { $0.graceAndRetention[.v3] = GraceRetention(1, 2, 3, 4) },
            { $0.graceAndRetention[.v0] = nil },  // the fallback days are V0's: no change
            { $0.graceAndRetention[.v5] = nil },
            { $0.handlingFeeBeyondTableBP = 1 },
            { $0.handlingFeeRatesBP["YEAR_2"] = [1500] },
            { $0.largeRefundThreshold = Money(fen: 1) },
            { $0.loginThrottleAfterFailures = 1 },
            { $0.loginThrottleBaseSeconds = 1 },
            { $0.loginThrottleForgetSeconds = 60 },
            { $0.loginThrottleMaxSeconds = 1 },
            { $0.maxBatchCancel = 1 },
            { $0.maxBatchRenew = 1 },
            { $0.maxCouponsPerPayment = 0 },
            { $0.maxRenewalPriceExportRows = 1 },
            { $0.passwordHashMemoryBytes += 1 },
            { $0.passwordHashOpsLimit = 3 },
            { $0.passwordMaximumLength = 9 },
            { $0.passwordMinimumClasses = 1 },
            { $0.passwordMinimumLength = 7 },
            { $0.payDeadlineSeconds["hardware"] = 60 },
            { $0.refundDurationGranularity = "DAY" },
            { $0.tokenTTLSeconds = 60 },
        ]
    }

    /// A document written reusing the last one's unchanged fields is the tree's text: one
    /// cache through every single change, changes piling up, a map equal but rebuilt, and back.
    @Test func configurationTextReusingTheLastIsTheTreesText() {
        var cache = Configuration.DocumentTextCache()
        var piled = Configuration()
        #expect(piled.documentText(reusing: &cache) == piled.json.text)
        #expect(piled.documentText(reusing: &cache) == piled.json.text)
        for change in JSONTests.configurationChanges() {
            var single = Configuration()
            change(&single)
            #expect(single.documentText(reusing: &cache) == single.json.text)
            change(&piled)
            #expect(piled.documentText(reusing: &cache) == piled.json.text)
        }
        var rebuilt = piled
        rebuilt.payDeadlineSeconds = Dictionary(uniqueKeysWithValues: piled.payDeadlineSeconds.map { ($0.key, $0.value) })
        rebuilt.autoRenewHour = 23
        #expect(rebuilt.documentText(reusing: &cache) == rebuilt.json.text)
        // Texts and keys equal as Swift strings but not as bytes are written as they are.
        var composed = rebuilt
        composed.exportDirectory = "/srv/\u{E9}"
        composed.payDeadlineSeconds = ["default": 60, "\u{E9}": 61]
        composed.handlingFeeRatesBP = ["MONTHLY": [1], "\u{212A}": [2]]
        // (Compared as bytes: `String`'s `==` holds canonically equivalent texts equal.)
        #expect(Array(composed.documentText(reusing: &cache).utf8) == Array(composed.json.text.utf8))
        var decomposed = composed
        decomposed.exportDirectory = "/srv/e\u{301}"
        decomposed.payDeadlineSeconds = ["default": 60, "e\u{301}": 61]
        decomposed.handlingFeeRatesBP = ["MONTHLY": [1], "K": [2]]
        #expect(decomposed.exportDirectory == composed.exportDirectory && decomposed.payDeadlineSeconds == composed.payDeadlineSeconds)
        #expect(Array(decomposed.documentText(reusing: &cache).utf8) == Array(decomposed.json.text.utf8))
        #expect(Array(decomposed.documentText(reusing: &cache).utf8) != Array(composed.documentText.utf8))
        #expect(Array(composed.documentText(reusing: &cache).utf8) == Array(composed.json.text.utf8))
        let base = Configuration()
        #expect(base.documentText(reusing: &cache) == base.json.text)
        #expect(base.documentText(reusing: &cache) == base.documentText)
    }

    /// The keys of the document whose values differ, as comparing the two trees gives them:
    /// `changedKeys` compares the values instead. Each field changed alone, every field at once
    /// and a few pairs; together the single changes reach every key of the document, so a field
    /// `changedKeys` forgot fails here.
    @Test func changedKeysAreTheTreesDifferences() {
        func treeDifference(_ old: Configuration, _ new: Configuration) -> [String] {
            guard case .object(let before) = old.json, case .object(let after) = new.json else { return ["?"] }
            return after.keys.filter { before[$0] != after[$0] }.sorted()
        }
        let changes = JSONTests.configurationChanges()
        let base = Configuration()
        var reached: Set<String> = []
        var everything = base
        for change in changes {
            var changed = base
            change(&changed)
            change(&everything)
            let keys = changed.changedKeys(since: base)
            #expect(keys == treeDifference(base, changed))
            #expect(changed.changedKeys(since: changed).isEmpty)
            reached.formUnion(keys)
        }
        guard case .object(let fields) = base.json else { Issue.record("not an object"); return }
        #expect(reached == Set(fields.keys))
        #expect(everything.changedKeys(since: base) == treeDifference(base, everything))
        #expect(base.changedKeys(since: everything) == fields.keys.sorted())
        for (first, second) in zip(changes, changes.dropFirst(7)) {
            var changed = base
            first(&changed)
            second(&changed)
            #expect(changed.changedKeys(since: base) == treeDifference(base, changed))
            #expect(base.changedKeys(since: changed) == treeDifference(changed, base))
        }
    }

    /// An idempotent call's stored request is compared byte for byte with a repeat's, also
    /// with records an older build stored: `Engine.canonicalRequest` writes the request as read
    /// without its key, which must be the text of the fields with the key removed, nulls left
    /// out (the form it replaced), at every depth and whatever the keys around
    /// `idempotency_key` sort to. A nested `idempotency_key` is part of the request.
    @Test func canonicalRequestIsTheFieldsTextWithoutTheKey() throws {
        let requests = [
            #"{"actor":"a","idempotency_key":"k","changes":{"auto_renew_hour":3}}"#,
            #"{"idempotency_key":"k","actor":"a","account_id":null,"z":[null,{"b":null,"a":1}],"i":{"idempotency_key":"inner","n":null}}"#,
            #"{"actor":"a","idempotency_key":"k","idempotency_keys":1,"idempotency":2,"ia":3,"中文":{"é":"x"},"e\u0301":true}"#,
            #"{"actor":"a","idempotency_key":"k"}"#,
            #"{"actor":"a","idempotency_key":"k","amount_fen":-9223372036854775808,"note":"tab\t\"q\"\u007f"}"#,
        ]
        for text in requests {
            guard case .object(var fields) = try JSONValue.parse(text) else { Issue.record("not an object"); continue }
            let request = JSONValue.object(fields)
            let read = fields
            fields["idempotency_key"] = nil
            let expected = JSONValue.object(fields).textWithoutNulls
            #expect(Engine.canonicalRequest(request, fields: read, secrets: []) == expected)
            // With secrets the fields are copied and masked, as before.
            var masked = fields
            masked["actor"] = "[secret]"
            #expect(Engine.canonicalRequest(request, fields: read, secrets: ["actor", "password"]) == JSONValue.object(masked).textWithoutNulls)
        }
    }
}
