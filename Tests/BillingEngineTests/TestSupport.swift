import Testing
import FoundationEssentials
@testable import BillingEngine

#if canImport(Glibc)
import Glibc
#endif
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

/// 2024-01-01 10:30:00 +08:00, the start of the EVS worked example.
let january1st2024 = BusinessCalendar.chinaStandard.instant(CivilDate(year: 2024, month: 1, day: 1), hour: 10, minute: 30)

/// A fresh database file in a private temporary directory.
func temporaryDatabasePath(_ name: String = "billing.sqlite") -> String {
    var template = Array("/tmp/billing-test-XXXXXX".utf8CString)
    let directory = template.withUnsafeMutableBufferPointer { buffer -> String in
        // No directory is no test: tests sharing /tmp/billing.sqlite would pass for each other.
        guard let base = buffer.baseAddress, let made = mkdtemp(base) else { preconditionFailure("mkdtemp failed") }
        return String(cString: made)
    }
    return directory + "/" + name
}

/// An engine on a fresh file with a manual clock.
/// `wrap`, when given, is put between the engine and the database it opened (a
/// `RecordingConnection`): the engine then runs on the wrapper.
func manualEngine(at instant: Int64 = january1st2024, path: String = temporaryDatabasePath(),
                  wrap: ((Connection) -> Connection)? = nil) throws -> Engine {
    var options = EngineOptions()
    options.clock = .manual(instant)
    let path = enginesOnPostgres(path)
    guard let wrap else { return try Engine(path: path, options: options) }
    return Engine(path: path, connection: wrap(try Database.open(path: path, options: options)), options: options)
}

/// With `BILLING_TEST_ENGINES_ON_POSTGRES=1` (and the cluster's URL), the engines the tests
/// open on a fresh temporary file open on a fresh PostgreSQL schema instead: a way to run the
/// engine's whole suite on PostgreSQL by hand (tests of SQLite's file, backups and SQL are
/// expected to fail there). Off by default.
func enginesOnPostgres(_ path: String) -> String {
    guard getenv("BILLING_TEST_ENGINES_ON_POSTGRES").map({ String(cString: $0) }) == "1", let url = postgresTestURL,
          path.hasPrefix("/tmp/billing-test-") else { return path }
    // One schema per file path, so that a test opening its file twice opens one database.
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in path.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return urlWithSearchPath(url, schema: "suite_\(getpid())_\(hash)")
}

/// A PostgreSQL URL whose sessions use `schema` (the libpq `options` parameter).
func urlWithSearchPath(_ url: String, schema: String) -> String {
    url + (url.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
}

/// A fresh database for an engine on `backend`: a temporary SQLite file, or the test
/// cluster's URL with a schema of its own (the engine makes it when it opens; the cluster is
/// thrown away after the run).
func freshDatabasePath(_ backend: ConformanceBackend) throws -> String {
    switch backend {
    case .sqlite:
        return temporaryDatabasePath()
    case .postgres:
        return urlWithSearchPath(try #require(postgresTestURL), schema: "engine_\(getpid())_\(UInt32.random(in: 0...UInt32.max))")
    }
}

/// Parses a response document.
func object(_ text: String) throws -> [String: JSONValue] {
    guard case .object(let fields) = try JSONValue.parse(text) else { throw BillingError.invalid(.malformedJson, "not an object") }
    return fields
}

// MARK: Reading a response's shape
// A test that needs a field of some shape reads it with `try #require(value?.arrayValue)` and
// friends, never `guard case … else { return }`: a response whose shape changed must fail the
// test, not end it early as a pass. Each accessor is nil for any other shape.
extension JSONValue {
    var arrayValue: [JSONValue]? { if case .array(let items) = self { items } else { nil } }
    var objectValue: [String: JSONValue]? { if case .object(let fields) = self { fields } else { nil } }
    var stringValue: String? { if case .string(let value) = self { value } else { nil } }
    var integerValue: Int64? { if case .integer(let value) = self { value } else { nil } }
    var boolValue: Bool? { if case .bool(let value) = self { value } else { nil } }
}

/// The array at `value` with every element an object; a missing array or another element
/// fails the test (where `filter`/`compactMap` would silently drop it).
func objects(_ value: JSONValue?, sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: JSONValue]] {
    let items = try #require(value?.arrayValue, "not an array: \(String(describing: value))", sourceLocation: sourceLocation)
    return try items.map { try #require($0.objectValue, "not an object: \($0)", sourceLocation: sourceLocation) }
}

/// The first element of the array at `value`, which must be an object.
func firstObject(_ value: JSONValue?, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: JSONValue] {
    try #require(try objects(value, sourceLocation: sourceLocation).first, "empty array", sourceLocation: sourceLocation)
}

/// The bytes of a file that must exist (a missing file fails the test instead of comparing
/// nil with nil).
func bytes(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [UInt8] {
    Array(try #require(try? Data(contentsOf: URL(fileURLWithPath: path)), "cannot read \(path)", sourceLocation: sourceLocation))
}

/// Runs `body`, expecting a BillingError, and returns it.
func expectBillingError(_ body: () throws -> Any) -> BillingError? {
    do {
        _ = try body()
        return nil
    } catch let error as BillingError {
        return error
    } catch {
        return BillingError(.unexpectedError, "\(error)")
    }
}

/// The number of events in the outbox.
func eventCount(_ engine: Engine) throws -> Int {
    try engine.lock.withLock { try engine.db.first("SELECT count(*) FROM events") { Int($0.int(0)) } ?? 0 }
}

/// The number of audit rows.
func auditCount(_ engine: Engine) throws -> Int {
    try engine.lock.withLock { try engine.db.first("SELECT count(*) FROM audit_log") { Int($0.int(0)) } ?? 0 }
}

/// A small deterministic random generator so property tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Cheapest argon2id costs, so tests that hash many passwords stay fast.
func useFastPasswordHashing(_ engine: Engine) throws {
    _ = try engine.updateConfiguration(#"{"actor":"test","changes":{"password_hash_ops_limit":2,"password_hash_memory_bytes":19922944}}"#)
}

/// Creates an account with the given attributes.
@discardableResult
func putAccount(_ engine: Engine, _ id: String, type: String = "ENTERPRISE", realname: Bool = true,
                level: String = "V3", extra: String = "") throws -> [String: JSONValue] {
    try object(engine.putAccount(#"{"actor":"host","account_id":"\#(id)","type":"\#(type)","realname_verified":\#(realname),"level":"\#(level)"\#(extra)}"#))
}

/// A field of a nested object in a response.
func field(_ document: [String: JSONValue], _ path: String...) -> JSONValue? {
    var current: JSONValue = .object(document)
    for key in path {
        guard case .object(let fields) = current, let next = fields[key] else { return nil }
        current = next
    }
    return current
}

/// The string at a path, or "" (a test compares it with the value it expects, never with "":
/// a missing field then fails the comparison).
func text(_ document: [String: JSONValue], _ path: String...) -> String {
    var current: JSONValue = .object(document)
    for key in path {
        guard case .object(let fields) = current, let next = fields[key] else { return "" }
        current = next
    }
    if case .string(let value) = current { return value }
    return ""
}

/// The integer at a path, or Int64.min, which no expected value equals.
func integer(_ document: [String: JSONValue], _ path: String...) -> Int64 {
    var current: JSONValue = .object(document)
    for key in path {
        guard case .object(let fields) = current, let next = fields[key] else { return .min }
        current = next
    }
    if case .integer(let value) = current { return value }
    return .min
}

/// Runs the engine's invariant check and records every breach as a test issue.
func expectNoBreaches(_ engine: Engine, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let report = try object(engine.verify(nil))
    if report["ok"] != true {
        Issue.record("invariant breaches: \(report["breaches"].map { $0.text } ?? "")", sourceLocation: sourceLocation)
    }
}

extension Engine {
    /// Writes a test's setup as the library writes: the rows `body` writes are listed by an
    /// audit row of the same transaction (a write without one is refused, `unaudited_write`).
    func writeForTest(_ body: () throws -> Void) throws {
        try lock.withLock {
            try RowCoverage.install(db)
            try db.transaction(write: true) {
                try body()
                try AuditLog.append(db, at: instantLocked(), actor: "test", operation: "test.setup", account: nil, subject: nil, detail: [:])
            }
        }
    }

    /// Changes the file behind the library's back, as another program with write access would.
    func tamper(_ sql: String) throws {
        let other = try SQLiteConnection(path: path, create: false, busyTimeoutMilliseconds: 5000)
        try other.executeScript(sql)
    }
}
