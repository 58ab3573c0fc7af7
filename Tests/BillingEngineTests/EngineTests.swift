import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

@Suite("Engine handle, clock, idempotency, events")
struct EngineTests {
    @Test func manualClockSetsAndAdvancesPerHandle() throws {
        let path = temporaryDatabasePath()
        let engine = try manualEngine(path: path)
        #expect(engine.now == january1st2024)
        #expect(try engine.advanceClock(by: 3600) == january1st2024 + 3600)
        try engine.setClock(to: january1st2024 + 7200)
        #expect(engine.now == january1st2024 + 7200)
        #expect(expectBillingError { try engine.setClock(to: january1st2024) }?.reason == "clock_backwards")
        #expect(expectBillingError { try engine.advanceClock(by: -1) }?.reason == "clock_backwards")
        #expect(expectBillingError { try engine.advanceClock(by: Int64.max) }?.reason == "instant_out_of_range")
        // Another handle on the same file keeps its own clock.
        let other = try manualEngine(at: 1_000_000, path: path)
        #expect(other.now == 1_000_000)
        #expect(engine.now == january1st2024 + 7200)
        // The system clock cannot be set.
        let system = try Engine(path: path, options: EngineOptions())
        #expect(system.now > 1_700_000_000)
        #expect(expectBillingError { try system.setClock(to: 0) }?.reason == "clock_not_manual")
    }

    @Test func operationsHappenAtTheHandlesInstant() throws {
        let engine = try manualEngine()
        try engine.advanceClock(by: 90)
        _ = try engine.updateConfiguration(#"{"actor":"ops","changes":{"default_deduction_days":3}}"#)
        let page = try object(engine.listEvents(nil))
        let event = try firstObject(page["events"])
        #expect(event["occurred_at"] == .integer(january1st2024 + 90))
        #expect(event["type"] == "config.changed")
        let audit = try object(engine.listAudit(nil))
        let entry = try firstObject(audit["entries"])
        #expect(entry["actor"] == "ops")
        #expect(entry["operation"] == "config.update")
    }

    @Test func optionsAreReadStrictly() {
        #expect(expectBillingError { try EngineOptions(json: #"{"clock":"manual"}"#) }?.reason == "missing_field")
        #expect(expectBillingError { try EngineOptions(json: #"{"now":5}"#) }?.reason == "invalid_option")
        #expect(expectBillingError { try EngineOptions(json: #"{"colck":"manual"}"#) }?.reason == "unknown_field")
        #expect(expectBillingError { try EngineOptions(json: #"{"synchronous":"OFF"}"#) }?.reason == "unknown_value")
        #expect(expectBillingError { try EngineOptions(json: #"{"busy_timeout_ms":1.5}"#) }?.reason == "not_an_integer")
        #expect(expectBillingError { try EngineOptions(json: #"[]"#) }?.reason == "wrong_type")
        #expect(expectBillingError { try EngineOptions(json: #"{"create":"yes"}"#) }?.reason == "wrong_type")
        #expect((try? EngineOptions(json: "")) == EngineOptions())
        #expect((try? EngineOptions(json: nil)) == EngineOptions())
    }

    @Test func idempotentReplayReturnsTheFirstResponse() throws {
        let engine = try manualEngine()
        let request = #"{"actor":"ops","idempotency_key":"key-1","changes":{"five_day_quota_per_year":12}}"#
        let first = try engine.updateConfiguration(request)
        try engine.advanceClock(by: 60)
        // Key order and whitespace do not make a different request.
        let replay = try engine.updateConfiguration(#"{ "changes": {"five_day_quota_per_year": 12}, "idempotency_key": "key-1", "actor": "ops" }"#)
        #expect(replay == first)
        #expect(try eventCount(engine) == 1)
        #expect(try auditCount(engine) == 1)

        let conflict = expectBillingError {
            try engine.updateConfiguration(#"{"actor":"ops","idempotency_key":"key-1","changes":{"five_day_quota_per_year":13}}"#)
        }
        #expect(conflict?.status == .conflict)
        #expect(conflict?.reason == "idempotency_key_reused")
        #expect(try engine.configuration().fiveDayQuotaPerYear == 12)
        // Keys of account-less operations are scoped to their actor: another actor's key-1
        // is another key, neither blocked by nor answered with the first actor's operation.
        let other = try object(engine.updateConfiguration(#"{"actor":"someone-else","idempotency_key":"key-1","changes":{"five_day_quota_per_year":14}}"#))
        #expect(other["changed"] == ["five_day_quota_per_year"])
        #expect(try engine.configuration().fiveDayQuotaPerYear == 14)
        #expect(try eventCount(engine) == 2)
    }

    /// Texts are told apart by their bytes, not by Swift's canonical equality: "é" and
    /// "e\u{301}" are two export directories, and two requests under one key.
    @Test func canonicallyEqualTextsAreDifferentValues() throws {
        let engine = try manualEngine()
        let composed = #"{"actor":"ops","idempotency_key":"dir","changes":{"export_directory":"/tmp/caf\#u{E9}"}}"#
        let decomposed = #"{"actor":"ops","idempotency_key":"dir","changes":{"export_directory":"/tmp/cafe\#u{301}"}}"#
        #expect(Array(composed.utf8) != Array(decomposed.utf8)) // different bytes…
        #expect(composed == decomposed) // …that Swift's == holds equal
        _ = try engine.updateConfiguration(composed)
        let conflict = expectBillingError { try engine.updateConfiguration(decomposed) }
        #expect(conflict?.reason == "idempotency_key_reused")
        let changed = try object(engine.updateConfiguration(#"{"actor":"ops","changes":{"export_directory":"/tmp/cafe\#u{301}"}}"#))
        #expect(changed["changed"] == ["export_directory"])
        #expect(try eventCount(engine) == 2)
    }

    @Test func idempotencyHoldsAcrossHandles() throws {
        let path = temporaryDatabasePath()
        let first = try manualEngine(path: path)
        let second = try manualEngine(path: path)
        let request = #"{"actor":"ops","idempotency_key":"shared","changes":{"auto_renew_hour":4}}"#
        let one = try first.updateConfiguration(request)
        let two = try second.updateConfiguration(request)
        #expect(one == two)
        #expect(try eventCount(first) == 1)
    }

    @Test func eventsArePagedByCursor() throws {
        let engine = try manualEngine()
        for index in 0..<25 {
            _ = try engine.updateConfiguration(#"{"actor":"t","changes":{"five_day_quota_per_year":\#(index)}}"#)
        }
        var cursor: String? = nil
        var sequences: [Int64] = []
        var pages = 0
        repeat {
            let request = cursor.map { #"{"limit":10,"after":"\#($0)"}"# } ?? #"{"limit":10}"#
            let page = try object(engine.listEvents(request))
            let next = try #require(page["next_cursor"]?.stringValue)
            let more = try #require(page["has_more"]?.boolValue)
            for event in try objects(page["events"]) { sequences.append(try #require(event["seq"]?.integerValue)) }
            #expect(page["schema_version"] == .integer(1))
            pages += 1
            cursor = next
            if !more { break }
        } while pages < 10
        #expect(pages == 3)
        #expect(sequences == Array(1...25))
        // Polling at the end returns nothing and keeps the cursor.
        let empty = try object(engine.listEvents(#"{"after":"25"}"#))
        #expect(empty["events"] == .array([]))
        #expect(empty["next_cursor"] == "25")
        #expect(expectBillingError { try engine.listEvents(#"{"after":"abc"}"#) }?.reason == "invalid_cursor")
        #expect(expectBillingError { try engine.listEvents(#"{"limit":0}"#) }?.reason == "out_of_range")
        #expect(expectBillingError { try engine.listEvents(#"{"limit":10,"sort":"desc"}"#) }?.reason == "unknown_field")
    }

    @Test func badRequestsChangeNothing() throws {
        let engine = try manualEngine()
        let before = try engine.configurationJSON()
        let bad: [(String, String)] = [
            ("{", "malformed_json"),
            ("[1,2]", "wrong_type"),
            (#""text""#, "wrong_type"),
            (#"{"changes":{"five_day_quota_per_year":3}}"#, "missing_field"),
            (#"{"actor":"","changes":{}}"#, "empty_string"),
            (#"{"actor":7,"changes":{}}"#, "wrong_type"),
            (#"{"actor":"a\u0000b","changes":{}}"#, "control_character"),
            (#"{"actor":"t"}"#, "missing_field"),
            (#"{"actor":"t","changes":{"five_day_quota_per_year":1.5}}"#, "not_an_integer"),
            (#"{"actor":"t","changes":{"five_day_quota_per_year":1e300}}"#, "not_an_integer"),
            (#"{"actor":"t","changes":{"five_day_quota_per_year":99999999999999999999}}"#, "not_an_integer"),
            (#"{"actor":"t","changes":{"five_day_quota_per_year":-1}}"#, "out_of_range"),
            (#"{"actor":"t","changes":{"five_day_quota_per_year":"10"}}"#, "wrong_type"),
            (#"{"actor":"t","changes":{"large_refund_threshold_fen":-100}}"#, "negative_amount"),
            (#"{"actor":"t","changes":{"business_utc_offset":"+8"}}"#, "invalid_offset"),
            (#"{"actor":"t","changes":{"default_unified_expiry_day":0}}"#, "out_of_range"),
            (#"{"actor":"t","changes":{"default_deduction_days":8}}"#, "out_of_range"),
            (#"{"actor":"t","changes":{"grace_and_retention":{"V9":{}}}}"#, "unknown_field"),
            (#"{"actor":"t","changes":{"handling_fee_rates_bp":{"YEAR_X":[1]}}}"#, "unknown_field"),
            (#"{"actor":"t","changes":{"five_day_quota":3}}"#, "unknown_field"),
            (#"{"actor":"t","changes":{},"extra":true}"#, "unknown_field"),
            (#"{"actor":"t","idempotency_key":"","changes":{}}"#, "empty_string"),
            (String(repeating: "[", count: 100_000), "too_deep"),
            // 513 levels ending the text made the decoder trap (SIGILL) before the depth check.
            (String(repeating: "[", count: 513), "too_deep"),
            (String(repeating: #"{"a":"#, count: 64) + "1" + String(repeating: "}", count: 64), "missing_field"),
            (#"{"actor":"t","changes":{"five_day_quota_per_year":1234567.9999999999}}"#, "not_an_integer"),
            (#"{"actor":"t","changes":{"five_day_quota_per_year":1.0000000000000001}}"#, "not_an_integer"),
        ]
        for (request, reason) in bad {
            let error = expectBillingError { try engine.updateConfiguration(request) }
            #expect(error?.status == .invalidArgument, "\(request.prefix(80))")
            #expect(error?.reason == reason, "\(request.prefix(80)) gave \(String(describing: error))")
            #expect(!(error?.message.isEmpty ?? true))
        }
        #expect(try engine.configurationJSON() == before)
        #expect(try eventCount(engine) == 0)
        #expect(try auditCount(engine) == 0)
    }

    @Test func configurationChangesAreValidatedAndApplied() throws {
        let engine = try manualEngine()
        let response = try object(engine.updateConfiguration(#"""
            {"actor":"ops","changes":{"business_utc_offset":"-05:30","grace_and_retention":{"V3":{"prepaid_grace_days":15,"prepaid_retention_days":15,"on_demand_grace_days":1,"on_demand_retention_days":7}},"pay_deadline_seconds":{"default":3600}}}
            """#))
        #expect(response["changed"] == ["business_utc_offset", "grace_and_retention", "pay_deadline_seconds"])
        let configuration = try engine.configuration()
        #expect(configuration.businessUTCOffsetSeconds == -19_800)
        #expect(configuration.graceRetention(for: .v3).prepaidGraceDays == 15)
        #expect(configuration.graceRetention(for: .v5).prepaidRetentionDays == 15)
        #expect(configuration.payDeadline(forKind: "hardware") == 3600)
        #expect(configuration.fiveDayQuotaPerYear == 10)
        // A partial level entry is refused: each level is given whole.
        #expect(expectBillingError {
            try engine.updateConfiguration(#"{"actor":"ops","changes":{"grace_and_retention":{"V1":{"prepaid_grace_days":3}}}}"#)
        }?.reason == "missing_field")
    }

    @Test func defaultsMatchTheDomainRules() throws {
        let configuration = try manualEngine().configuration()
        #expect(configuration.businessUTCOffsetSeconds == 8 * 3600)
        #expect(configuration.payDeadline(forKind: "ECS") == 7 * 86_400)
        #expect(configuration.payDeadline(forKind: "hardware") == 3600)
        #expect(configuration.graceRetention(for: .v3) == GraceRetention(7, 7, 1, 7))
        #expect(configuration.graceRetention(for: .v0) == GraceRetention(1, 1, 0, 1))
        #expect(configuration.handlingFeeRatesBP["YEAR_3"] == [1500, 1000, 500])
        #expect(configuration.fiveDayRefundHours == 120)
        #expect(configuration.fiveDayQuotaPerYear == 10)
        #expect(configuration.defaultDeductionDays == 7)
        #expect(configuration.defaultUnifiedExpiryDay == 1)
        #expect(configuration.largeRefundThreshold == Money(fen: 5_000_000))
        #expect(configuration.expiryReminderDays["MANUAL"] == [15, 7, 3, 1])
        #expect(configuration.exportRetentionHours == 72)
        #expect(configuration.tokenTTLSeconds == 86_400)
    }
}
