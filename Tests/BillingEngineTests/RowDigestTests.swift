import Testing
@testable import BillingStorage
import BillingDomain
import BillingDocuments

/// Row digests are stored (`row_digests`) and compared by every later verify, so the bytes a
/// row's digest is computed from must never change: these digests were computed by the first
/// implementation and pin its canonical form (column name, storage class, length in bytes,
/// value; null columns left out; several rows of one key sorted as text).
@Suite("Row digests stay what files recorded")
struct RowDigestTests {
    @Test func digestsAreStableAcrossImplementations() throws {
        let db = try SQLiteConnection(path: ":memory:", create: true, busyTimeoutMilliseconds: 1000)
        try db.executeScript("""
            CREATE TABLE t (k TEXT NOT NULL, n INTEGER, s TEXT, r REAL, b BLOB);
            INSERT INTO t VALUES ('one', 42, 'plain', NULL, NULL);
            INSERT INTO t VALUES ('two', -9223372036854775808, '中文 e\u{301} \"q\";=:', 1.5, x'00ff');
            INSERT INTO t VALUES ('many', 1, 'zeta', NULL, NULL);
            INSERT INTO t VALUES ('many', 2, 'Éclair', NULL, NULL);
            INSERT INTO t VALUES ('many', 3, 'alpha', NULL, NULL);
            """)
        let table = RowCoverage.Table(name: "t", key: ["k"])
        #expect(try RowCoverage.digest(db, table, key: #"["one"]"#) == "02b1b76c18e431a38bf0dff2b379da9a916fc0feaaf63c2e6ddf0e0b1b612944")
        #expect(try RowCoverage.digest(db, table, key: #"["two"]"#) == "ef5123ebd0376f07e463b55a1e2dbf56c765c4f87051e9de341a75ce8881df98")
        #expect(try RowCoverage.digest(db, table, key: #"["many"]"#) == "fa71a829948add467c6b543f053b49bd84bc053379af241afd4f291b71d2aa79")
        #expect(try RowCoverage.digest(db, table, key: #"["none"]"#) == nil)
        var keys: [String: String] = [:]
        try RowCoverage.forEachKey(db, table) { key, digest in keys[key] = digest }
        #expect(keys == [#"["many"]"#: "fa71a829948add467c6b543f053b49bd84bc053379af241afd4f291b71d2aa79", #"["one"]"#: "02b1b76c18e431a38bf0dff2b379da9a916fc0feaaf63c2e6ddf0e0b1b612944", #"["two"]"#: "ef5123ebd0376f07e463b55a1e2dbf56c765c4f87051e9de341a75ce8881df98"])
    }

    /// An operation's digests are read one statement per table (`RowCoverage.digests`): they
    /// must be the digests `digest` gives key by key (the pinned ones above), rows of one key
    /// sorted, a key without rows nil, in the order of the keys asked.
    @Test func digestsOfSeveralKeysAreTheDigestsKeyByKey() throws {
        let db = try SQLiteConnection(path: ":memory:", create: true, busyTimeoutMilliseconds: 1000)
        try db.executeScript("""
            CREATE TABLE t (k TEXT NOT NULL, n INTEGER, s TEXT, r REAL, b BLOB);
            INSERT INTO t VALUES ('one', 42, 'plain', NULL, NULL);
            INSERT INTO t VALUES ('two', -9223372036854775808, '中文 e\u{301} \"q\";=:', 1.5, x'00ff');
            INSERT INTO t VALUES ('many', 1, 'zeta', NULL, NULL);
            INSERT INTO t VALUES ('many', 2, 'Éclair', NULL, NULL);
            INSERT INTO t VALUES ('many', 3, 'alpha', NULL, NULL);
            CREATE TABLE p (a TEXT NOT NULL, b INTEGER NOT NULL, c TEXT, d INTEGER, PRIMARY KEY (a, b));
            INSERT INTO p VALUES ('x"\', 1, 'first', 7);
            INSERT INTO p VALUES ('x"\', 2, NULL, 8);
            INSERT INTO p VALUES ('y', 1, 'third', NULL);
            """)
        let table = RowCoverage.Table(name: "t", key: ["k"])
        let keys = [#"["many"]"#, #"["none"]"#, #"["one"]"#, #"["two"]"#]
        #expect(try RowCoverage.digests(db, table, keys: keys) == [
            "fa71a829948add467c6b543f053b49bd84bc053379af241afd4f291b71d2aa79", nil,
            "02b1b76c18e431a38bf0dff2b379da9a916fc0feaaf63c2e6ddf0e0b1b612944",
            "ef5123ebd0376f07e463b55a1e2dbf56c765c4f87051e9de341a75ce8881df98",
        ])
        // Two key columns, keys as the triggers write them (json_array), and a digest of some
        // columns only.
        for pair in [RowCoverage.Table(name: "p", key: ["a", "b"]), RowCoverage.Table(name: "p", key: ["a", "b"], columns: ["a", "b", "d"])] {
            let written = try db.all("SELECT json_array(a, b) FROM p ORDER BY 1") { $0.text(0) } + [#"["y",2]"#]
            let oneByOne = try written.map { try RowCoverage.digest(db, pair, key: $0) }
            #expect(oneByOne.compactMap { $0 }.count == 3)
            #expect(try RowCoverage.digests(db, pair, keys: written) == oneByOne)
        }
    }

    /// The audit row's list of writes is written directly: the same text as the JSON array.
    @Test func listTextIsTheArraysText() {
        let writes = [RowCoverage.Write(table: "idempotency", key: #"["actor:a \"b\"","k\u0001é"]"#, digest: "ab12"),
                      RowCoverage.Write(table: "orders", key: #"["o1"]"#, digest: nil),
                      RowCoverage.Write(table: "accounts", key: #"["a\"b"]"#, digest: "00ff"),
                      RowCoverage.Write(table: "usage_records", key: "[\"中文 e\u{301}\",\"tab\tnew\nline\u{7f}\u{1}\"]", digest: "ab")]
        let tree = JSONValue.array(writes.map { [.string($0.table), .string($0.key), JSONValue($0.digest)] }).text
        #expect(RowCoverage.listText(writes) == tree)
        #expect(RowCoverage.listText([]) == "[]")
    }

    /// A row's canonical bytes are read straight from the backend; they must be what the
    /// first implementation made from `String`s (`text`, `columnName`), also for text that is
    /// not valid UTF-8 (an edit made outside the library), reals and blobs.
    @Test func canonicalBytesAreWhatStringsGave() throws {
        let db = try SQLiteConnection(path: ":memory:", create: true, busyTimeoutMilliseconds: 1000)
        try db.executeScript("""
            CREATE TABLE t (k TEXT NOT NULL, n INTEGER, s TEXT, r REAL, b BLOB);
            INSERT INTO t VALUES ('a', 0, '中文 e\u{301}', 2.25, x'');
            INSERT INTO t VALUES ('b', 12345678901, CAST(x'41ff42c0afeda080f4908080e282' AS TEXT), -0.5, x'e4b8ad00ff');
            INSERT INTO t VALUES ('c', NULL, CAST(x'efbfbd' AS TEXT), NULL, NULL);
            INSERT INTO t VALUES ('', -1, '', NULL, x'41');
            INSERT INTO t VALUES (replace(hex(zeroblob(250)), '0', 'k'), 5, replace(hex(zeroblob(350)), '0', 'é'), NULL, NULL);
            INSERT INTO t VALUES ('long', 6, replace(hex(zeroblob(1500)), '0', 'x'), 0.5, NULL);
            INSERT INTO t VALUES (replace(hex(zeroblob(300)), '0', 'k'), 8, CAST(x'41ff42' AS TEXT), NULL, x'00');
            INSERT INTO t VALUES ('longbad', 9, CAST(CAST(replace(hex(zeroblob(700)), '0', 'y') AS BLOB) || x'ff' AS TEXT), NULL, NULL);
            INSERT INTO t VALUES ('longwide', 10, replace(hex(zeroblob(800)), '0', '中'), NULL, NULL);
            """)
        // The last five rows: columns that fill `canonicalColumns`' stack buffer part way
        // through a row, one longer than the buffer, text not valid UTF-8 after columns still
        // in the buffer, and texts longer than the buffer not valid UTF-8 and valid but wide.
        try db.forEach("SELECT * FROM t") { row in
            var expected: [UInt8] = []
            for column in 0..<row.columnCount where row.columnKind(column) != .null {
                let value = row.text(column)
                expected += Array("\(row.columnName(column))=\(row.columnKind(column).digestTag)\(value.utf8.count):".utf8) + Array(value.utf8) + [UInt8(ascii: ";")]
            }
            var bytes: [UInt8] = []
            RowCoverage.canonical(row, from: 0, into: &bytes)
            #expect(bytes == expected)
        }
    }

    /// The UTF-8 check agrees with `String(decoding:)` keeping the bytes unchanged.
    @Test func utf8CheckAgreesWithString() {
        var samples: [[UInt8]] = [[], [0x41], [0xC2, 0x80], [0xC1, 0xBF], [0xE0, 0x9F, 0x80], [0xE0, 0xA0, 0x80], [0xED, 0xA0, 0x80],
                                  [0xED, 0x9F, 0xBF], [0xF0, 0x8F, 0x80, 0x80], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF],
                                  [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xE2, 0x82], [0x80], [0xFF], [0xEF, 0xBF, 0xBD]]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<20_000 {
            var sample: [UInt8] = []
            for _ in 0..<Int(state % 6) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let byte = UInt8(truncatingIfNeeded: state >> 56)
                sample.append(state & 1 == 0 ? byte : (byte | 0x80))
            }
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            samples.append(sample)
        }
        for sample in samples {
            let kept = String(decoding: sample, as: UTF8.self).utf8.elementsEqual(sample)
            #expect(sample.withUnsafeBufferPointer { RowCoverage.isValidUTF8($0) } == kept, "\(sample)")
        }
    }
}

