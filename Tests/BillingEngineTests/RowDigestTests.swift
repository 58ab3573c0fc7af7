import Testing
@testable import BillingStorage

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
}
