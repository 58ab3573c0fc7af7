import FoundationEssentials
import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

extension Shop {
    func export(_ body: String) throws -> [String: JSONValue] {
        try object(engine.requestExport(#"{"actor":"c","account_id":"acme",\#(body)}"#))
    }

    func runExportToEnd(_ id: String) throws -> [String: JSONValue] {
        var record: [String: JSONValue] = [:]
        for _ in 0..<1000 {
            record = try object(engine.stepExport(#"{"actor":"c","account_id":"acme","export_id":"\#(id)"}"#))
            if text(record, "export", "status") != "GENERATING" { break }
        }
        return record
    }

    func csv(_ id: String) throws -> String {
        let download = try object(engine.downloadExport(#"{"account_id":"acme","export_id":"\#(id)","mode":"BYTES"}"#))
        let data = try #require(Data(base64Encoded: text(download, "content_base64")), "content_base64 is not base64")
        return String(decoding: data, as: UTF8.self)
    }
}

@Suite("Exports")
struct ExportTests {
    @Test func orderExportIsASafeCSV() throws {
        let shop = try Shop()
        _ = try shop.engine.putProduct(#"{"actor":"c","product":{"product_id":"evil","product_type":"=HYPERLINK(\"x\"), \"quoted\"","billing_mode":"PREPAID","monthly_price_fen":12345}}"#)
        let paid = text(try shop.create(Shop.oneEVS), "order", "order_id")
        _ = try shop.pay(paid)
        let evil = text(try shop.create(#"[{"product_id":"evil","period":{"unit":"MONTH","count":1}}]"#), "order", "order_id")
        let record = try shop.export(#""kind":"ORDERS","language":"en""#)
        #expect(text(record, "export", "status") == "GENERATING")
        #expect(integer(record, "export", "rows_expected") == 2)
        let id = text(record, "export", "export_id")
        let done = try shop.runExportToEnd(id)
        #expect(text(done, "export", "status") == "READY")
        #expect(integer(done, "export", "rows_written") == 2)
        let content = try shop.csv(id)
        #expect(content.hasPrefix("\u{FEFF}Order ID,Combined order ID,Order type,Status"))
        let lines = content.split(separator: "\r\n", omittingEmptySubsequences: true)
        #expect(lines.count == 3)
        // Newest first; the formula-like text is defused and quoted; amounts are yuan numbers.
        #expect(lines[1].hasPrefix("\(evil),,NEW,PENDING_PAYMENT,\"'=HYPERLINK(\"\"x\"\"), \"\"quoted\"\"\",PREPAID,"))
        #expect(lines[1].contains(",123.45,0.00,123.45,"))
        #expect(lines[2].contains("\(paid),,NEW,PROCESSING,EVS,PREPAID,2024-01-01 10:30:00,2024-01-01 10:30:00,100.00,"))
        let chinese = try shop.export(#""kind":"ORDERS","filter":{"status":"PROCESSING"}"#)
        let chineseID = text(chinese, "export", "export_id")
        _ = try shop.runExportToEnd(chineseID)
        #expect(try shop.csv(chineseID).hasPrefix("\u{FEFF}订单号,组合交易订单号"))
        #expect(integer(chinese, "export", "rows_expected") == 1)
    }

    @Test func generatesInBoundedStepsAndSurvivesAnUncommittedStep() throws {
        let shop = try Shop()
        _ = try shop.engine.updateConfiguration(#"{"actor":"o","changes":{"export_rows_per_step":10}}"#)
        for _ in 0..<25 { _ = try shop.create(Shop.oneEVS) }
        let id = text(try shop.export(#""kind":"ORDERS""#), "export", "export_id")
        let first = try object(shop.engine.stepExport(#"{"actor":"c","account_id":"acme","export_id":"\#(id)"}"#))
        #expect(integer(first, "export", "rows_written") == 10)
        // Bytes written by a step that never committed are cut off by the next step.
        let record = try shop.engine.lock.withLock { try ExportStore.require(shop.engine.db, id, account: "acme") }
        try ExportFile.append(Array("garbage,row\r\n".utf8), to: record.path, at: record.bytes, sync: false)
        _ = try shop.engine.runScheduler(#"{"actor":"cron"}"#)
        _ = try shop.engine.runScheduler(#"{"actor":"cron"}"#)
        let done = try object(shop.engine.stepExport(#"{"actor":"c","account_id":"acme","export_id":"\#(id)"}"#))
        #expect(text(done, "export", "status") == "READY")
        let content = try shop.csv(id)
        #expect(!content.contains("garbage"))
        #expect(content.split(separator: "\r\n").count == 26)
    }

    /// `billing_export_step` reads its rows ahead, in a read-only snapshot (`ExportReadAhead`):
    /// its write transaction reads no order, only the export's record, and the file is the same
    /// as ever.
    @Test func stepsReadTheirRowsBeforeTheirWriteTransaction() throws {
        var recorder: RecordingConnection?
        let shop = try Shop(wrap: { inner in
            let wrapper = RecordingConnection(inner)
            recorder = wrapper
            return wrapper
        })
        let recording = try #require(recorder)
        _ = try shop.engine.updateConfiguration(#"{"actor":"o","changes":{"export_rows_per_step":10}}"#)
        for _ in 0..<15 { _ = try shop.create(Shop.oneEVS) }
        let id = text(try shop.export(#""kind":"ORDERS""#), "export", "export_id")
        shop.engine.lock.withLock { recording.statements = []; recording.statementsInWrites = [] }
        let first = try object(shop.engine.stepExport(#"{"actor":"c","account_id":"acme","export_id":"\#(id)"}"#))
        #expect(integer(first, "export", "rows_written") == 10)
        let (all, inWrites) = shop.engine.lock.withLock { () -> (Set<String>, [String]) in
            defer { recording.statements = nil }
            return (recording.statements ?? [], recording.statementsInWrites)
        }
        #expect(all.contains { $0.contains("FROM orders") }, "the rows were read")
        let orderReads = inWrites.filter { $0.contains("FROM orders") || $0.contains("FROM order_lines") }
        #expect(orderReads.isEmpty, "read in the write transaction: \(orderReads)")
        // The scheduler reads an export's rows in its own transaction, after its other jobs.
        _ = try shop.engine.runScheduler(#"{"actor":"cron"}"#)
        #expect(text(try object(shop.engine.stepExport(#"{"actor":"c","account_id":"acme","export_id":"\#(id)"}"#)), "export", "status") == "READY")
        #expect(try shop.csv(id).split(separator: "\r\n").count == 16)
    }

    /// A repeated idempotent `billing_export_step` returns the stored response and reads no
    /// rows ahead: the replay is answered before the read-ahead (`perform`'s `prepare`).
    @Test func aReplayedStepReadsNoRowsAhead() throws {
        var recorder: RecordingConnection?
        let shop = try Shop(wrap: { inner in
            let wrapper = RecordingConnection(inner)
            recorder = wrapper
            return wrapper
        })
        let recording = try #require(recorder)
        _ = try shop.engine.updateConfiguration(#"{"actor":"o","changes":{"export_rows_per_step":10}}"#)
        for _ in 0..<15 { _ = try shop.create(Shop.oneEVS) }
        let id = text(try shop.export(#""kind":"ORDERS""#), "export", "export_id")
        let request = #"{"actor":"c","account_id":"acme","export_id":"\#(id)","idempotency_key":"step-1"}"#
        let first = try shop.engine.stepExport(request)
        #expect(integer(try object(first), "export", "rows_written") == 10)
        let snapshotsBefore = shop.engine.lock.withLock { () -> Int in
            recording.statements = []
            return recording.snapshots
        }
        // Still GENERATING: a read-ahead would find rows to read.
        #expect(try shop.engine.stepExport(request) == first)
        let (statements, snapshots) = shop.engine.lock.withLock { () -> (Set<String>, Int) in
            defer { recording.statements = nil }
            return (recording.statements ?? [], recording.snapshots)
        }
        #expect(snapshots == snapshotsBefore, "a snapshot was taken for the replay")
        let reads = statements.filter { $0.contains("FROM orders") || $0.contains("FROM exports") }
        #expect(reads.isEmpty, "the replay read: \(reads)")
        // The export goes on from where the first call left it.
        let next = try object(shop.engine.stepExport(#"{"actor":"c","account_id":"acme","export_id":"\#(id)"}"#))
        #expect(text(next, "export", "status") == "READY")
        #expect(try shop.csv(id).split(separator: "\r\n").count == 16)
    }

    /// A configuration committed between a step's read-ahead and its write transaction makes
    /// the rows read ahead stale: the step writes them as the new configuration says.
    @Test func aConfigurationChangedAfterTheReadAheadIsNotWritten() throws {
        try checkStaleReadAheadIsNotWritten(path: temporaryDatabasePath())
    }

    @Test func pendingRenewalAndPriceLists() throws {
        let shop = try Shop()
        let a = text(try shop.create(Shop.oneEVS), "order", "order_id")
        let paid = text(try shop.create(Shop.oneEVS), "order", "order_id")
        _ = try shop.pay(paid)
        #expect(expectBillingError { try shop.export(#""kind":"PENDING_ORDERS","order_ids":["\#(paid)"]"#) }?.reason == "order_not_pending")
        let pending = text(try shop.export(#""kind":"PENDING_ORDERS","order_ids":["\#(a)"],"language":"en""#), "export", "export_id")
        _ = try shop.runExportToEnd(pending)
        #expect(try shop.csv(pending).contains("Payment deadline"))
        let ecs = try shop.own("ecs.s6")
        _ = try shop.own()
        _ = try shop.setPolicy([ecs], "AUTO_RENEW", #","auto_renew_times":3"#)
        let renewals = text(try shop.export(#""kind":"RENEWALS","filter":{"tab":"AUTO_RENEW"},"language":"en""#), "export", "export_id")
        _ = try shop.runExportToEnd(renewals)
        let renewalCSV = try shop.csv(renewals)
        #expect(renewalCSV.contains("\(ecs),ecs.s6,ECS,cn-north-4,IN_USE,AUTO_RENEW,2024-02-01 23:59:59,1 MONTH,3"))
        let prices = text(try shop.export(#""kind":"RENEWAL_PRICES","filter":{"tab":"AUTO_RENEW"},"language":"en""#), "export", "export_id")
        _ = try shop.runExportToEnd(prices)
        // The ECS with its bound disk renews for a year (both offer it): 1,000.00 + 100.00.
        #expect(try shop.csv(prices).contains("\(ecs),ecs.s6,2024-02-01 23:59:59,1 YEAR,1100.00,0.00,1100.00"))
        _ = try shop.own()
        _ = try shop.engine.updateConfiguration(#"{"actor":"o","changes":{"max_renewal_price_export_rows":1}}"#)
        #expect(expectBillingError { try shop.export(#""kind":"RENEWAL_PRICES","filter":{"tab":"MANUAL"}"#) }?.reason == "too_many_rows")
    }

    @Test func purgedAfterThreeDaysAndPrivateToItsOwner() throws {
        let shop = try Shop()
        try putAccount(shop.engine, "other")
        let id = text(try shop.export(#""kind":"ORDERS""#), "export", "export_id")
        let done = try shop.runExportToEnd(id)
        #expect(integer(done, "export", "purge_at") == january1st2024 + 72 * 3600)
        let path = text(try object(shop.engine.downloadExport(#"{"account_id":"acme","export_id":"\#(id)"}"#)), "path")
        #expect(path.hasSuffix("-exports/\(id).csv"))
        #expect(expectBillingError { try shop.engine.downloadExport(#"{"account_id":"other","export_id":"\#(id)"}"#) }?.status == .notFound)
        #expect(try object(shop.engine.listExports(#"{"account_id":"other"}"#))["exports"] == .array([]))
        #expect(expectBillingError { try shop.engine.stepExport(#"{"actor":"x","account_id":"other","export_id":"\#(id)"}"#) }?.status == .notFound)
        #expect(expectBillingError { try shop.engine.downloadExport(#"{"account_id":"acme","export_id":"../../etc/passwd"}"#) }?.status == .notFound)
        try shop.engine.setClock(to: january1st2024 + 72 * 3600 - 1)
        _ = try shop.runScheduler()
        #expect(try object(shop.engine.listExports(#"{"account_id":"acme"}"#))["exports"]?.arrayValue?.count == 1)
        try shop.engine.setClock(to: january1st2024 + 72 * 3600)
        let run = try shop.runScheduler()
        #expect(integer(run, "exports_purged") == 1)
        #expect(try object(shop.engine.listExports(#"{"account_id":"acme"}"#))["exports"] == .array([]))
        #expect((try? ExportFile.read(path)) == nil)
    }

    @Test func inMemoryDatabasesNeedADirectory() throws {
        var options = EngineOptions()
        options.clock = .manual(january1st2024)
        let engine = try Engine(path: ":memory:", options: options)
        try putAccount(engine, "acme")
        #expect(expectBillingError { try engine.requestExport(#"{"actor":"c","account_id":"acme","kind":"ORDERS"}"#) }?.reason == "export_directory_required")
        #expect(expectBillingError { try engine.updateConfiguration(#"{"actor":"o","changes":{"export_directory":"relative/dir"}}"#) }?.reason == "invalid_path")
        #expect(expectBillingError { try engine.updateConfiguration(#"{"actor":"o","changes":{"export_directory":"/tmp/../etc"}}"#) }?.reason == "invalid_path")
        let directory = temporaryDatabasePath("exports")
        _ = try engine.updateConfiguration(#"{"actor":"o","changes":{"export_directory":"\#(directory)"}}"#)
        let record = try object(engine.requestExport(#"{"actor":"c","account_id":"acme","kind":"ORDERS"}"#))
        #expect(text(record, "export", "status") == "GENERATING")
    }
}

@Suite("CSV writer")
struct CSVWriterTests {
    func text(_ cells: [CSVCell]) -> String { String(decoding: CSVWriter.row(cells), as: UTF8.self) }

    @Test func quotesAndDefuses() {
        #expect(text([.text("plain"), .number("-12.50"), .empty, .text("a,b")]) == "plain,-12.50,,\"a,b\"\r\n")
        #expect(text([.text("say \"hi\"")]) == "\"say \"\"hi\"\"\"\r\n")
        #expect(text([.text("two\nlines")]) == "\"two\nlines\"\r\n")
        #expect(text([.text("cr\rhere")]) == "\"cr\rhere\"\r\n")
        for formula in ["=1+1", "+1", "-1", "@A1", "\tx"] {
            #expect(text([.text(formula)]).hasPrefix("'"), "\(formula)")
        }
        #expect(text([.text("=a,b")]) == "\"'=a,b\"\r\n")
        #expect(text([.number("-5")]) == "-5\r\n")
        #expect(text([.text("中文")]) == "中文\r\n")
    }

    /// The direct row writer of an export step writes the bytes `CSVWriter.row` writes for
    /// the same cells: texts, amounts as `Money.description`, times as `BusinessCalendar.display`.
    @Test func directRowsEqualCells() {
        let texts = ["plain", "a,b", "say \"hi\"", "two\nlines", "cr\rhere", "=1+1", "+1", "-1", "@A1", "\tx", "\rx", "=a,b", "中文", "", "'"]
        var writer = CSVRowWriter(capacity: 16)
        var expected: [UInt8] = []
        for value in texts {
            writer.textCell(value)
            writer.textCell(nil)
            writer.endRow()
            expected += CSVWriter.row([.text(value), .empty])
        }
        let amounts: [Int64] = [0, 1, 9, 10, 99, 100, 105, 123_456, -1, -5, -100, -12_345, Int64.max, Int64.min]
        for fen in amounts {
            writer.moneyCell(Money(fen: fen))
        }
        writer.endRow()
        expected += CSVWriter.row(amounts.map { .number(Money(fen: $0).description) })
        let calendars = [BusinessCalendar.chinaStandard, BusinessCalendar(utcOffsetSeconds: -5 * 3600), BusinessCalendar(utcOffsetSeconds: 0)]
        let instants: [Int64] = [0, 1, 59, 3599, 86_399, 86_400, 951_782_400, 1_709_251_199, 1_735_660_800, 253_402_300_799, -86_400]
        for calendar in calendars {
            for instant in instants {
                writer.timeCell(instant, calendar)
                writer.timeCell(nil, calendar)
                writer.endRow()
                expected += CSVWriter.row([.text(calendar.display(instant)), .empty])
            }
        }
        writer.rowCells([.text("x"), .number("1.00"), .empty])
        expected += CSVWriter.row([.text("x"), .number("1.00"), .empty])
        #expect(String(decoding: writer.bytes, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
    }
}

/// Steps an export whose rows another handle makes stale right after the step's read-ahead:
/// it changes the business time zone the rows' times are written in (+08:00 to +00:00). The
/// step must write the times in the new zone (the configuration's revision moved: it reads
/// the rows again in its write transaction), never the ones read ahead. On `path`: a file, or
/// a PostgreSQL schema (`PostgresReadsTests`).
func checkStaleReadAheadIsNotWritten(path: String) throws {
    var recorder: RecordingConnection?
    let shop = try Shop(path: path, wrap: { inner in
        let wrapper = RecordingConnection(inner)
        recorder = wrapper
        return wrapper
    })
    let recording = try #require(recorder)
    let directory = temporaryDatabasePath("exports")
    _ = try shop.engine.updateConfiguration(#"{"actor":"o","changes":{"export_directory":"\#(directory)"}}"#)
    for _ in 0..<3 { _ = try shop.create(Shop.oneEVS) }
    let id = text(try shop.export(#""kind":"ORDERS","language":"en""#), "export", "export_id")
    let other = try manualEngine(at: shop.engine.now, path: path)
    var changes: [String] = []
    recording.afterSnapshot = {
        guard changes.isEmpty else { return }
        do {
            changes.append(try other.updateConfiguration(#"{"actor":"o","changes":{"business_utc_offset":"+00:00"}}"#))
        } catch {
            changes.append("failed: \(error)")
        }
    }
    let done = try object(shop.engine.stepExport(#"{"actor":"c","account_id":"acme","export_id":"\#(id)"}"#))
    recording.afterSnapshot = nil
    #expect(changes.count == 1 && !changes[0].hasPrefix("failed"), "\(changes)")
    #expect(text(done, "export", "status") == "READY")
    let lines = try shop.csv(id).split(separator: "\r\n").dropFirst()
    #expect(lines.count == 3)
    let created = BusinessCalendar(utcOffsetSeconds: 0).display(january1st2024)
    let stale = BusinessCalendar.chinaStandard.display(january1st2024)
    #expect(lines.allSatisfy { $0.contains(created) && !$0.contains(stale) }, "\(lines)")
}
