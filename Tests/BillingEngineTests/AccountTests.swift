import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

@Suite("Accounts, balances and settings")
struct AccountTests {
    @Test func createsAndUpdatesAccountsWithEvents() throws {
        let engine = try manualEngine()
        let created = try putAccount(engine, "hw-001", realname: false, level: "V2")
        #expect(text(created, "account", "type") == "ENTERPRISE")
        #expect(field(created, "account", "realname_verified") == false)
        #expect(text(created, "account", "freeze") == "NONE")
        #expect(integer(created, "account", "deduction_days") == 7)
        #expect(integer(created, "account", "unified_expiry_day") == 1)
        let updated = try object(engine.putAccount(#"{"actor":"kyc","account_id":"hw-001","realname_verified":true,"freeze":"VIOLATION"}"#))
        #expect(field(updated, "account", "realname_verified") == true)
        #expect(text(updated, "account", "freeze") == "VIOLATION")
        #expect(text(updated, "account", "level") == "V2")
        let events = try object(engine.listEvents(#"{"account_id":"hw-001"}"#))
        let list = try objects(events["events"])
        try #require(list.count == 2, "expected two events")
        let second = list[1]
        #expect(second["type"] == "account.updated")
        #expect(field(second, "data", "changed") == ["freeze", "realname_verified"])
        // Nothing changed: audited, but no event.
        _ = try engine.putAccount(#"{"actor":"kyc","account_id":"hw-001","freeze":"VIOLATION"}"#)
        #expect(try eventCount(engine) == 2)
        #expect(try auditCount(engine) == 3)
    }

    @Test func refusesBadAccountInput() throws {
        let engine = try manualEngine()
        let cases: [(String, String)] = [
            (#"{"actor":"h","account_id":"a"}"#, "missing_field"),
            (#"{"actor":"h","account_id":"a","type":"COMPANY"}"#, "unknown_value"),
            (#"{"actor":"h","account_id":"a","type":"ENTERPRISE","level":"V6"}"#, "unknown_value"),
            (#"{"actor":"h","account_id":"a","type":"ENTERPRISE","realname_verified":"yes"}"#, "wrong_type"),
            (#"{"actor":"h","account_id":"a","type":"ENTERPRISE","credit_limit_fen":-1}"#, "negative_amount"),
            (#"{"actor":"h","account_id":"","type":"ENTERPRISE"}"#, "empty_string"),
            (#"{"actor":"h","account_id":"a","type":"ENTERPRISE","nickname":"x"}"#, "unknown_field"),
        ]
        for (request, reason) in cases {
            #expect(expectBillingError { try engine.putAccount(request) }?.reason == reason, "\(request)")
        }
        #expect(try eventCount(engine) == 0)
        #expect(expectBillingError { try engine.getAccount(#"{"account_id":"nobody"}"#) }?.status == .notFound)
    }

    @Test func topUpsAreIdempotentByExternalReference() throws {
        let engine = try manualEngine()
        try putAccount(engine, "a1")
        let first = try object(engine.topUp(#"{"actor":"pay","account_id":"a1","amount_fen":10000,"external_reference":"alipay-1"}"#))
        #expect(integer(first, "account", "cash_balance_fen") == 10_000)
        #expect(field(first, "replayed") == false)
        let again = try object(engine.topUp(#"{"actor":"pay","account_id":"a1","amount_fen":10000,"external_reference":"alipay-1"}"#))
        #expect(field(again, "replayed") == true)
        #expect(integer(again, "account", "cash_balance_fen") == 10_000)
        #expect(field(again, "topup") == field(first, "topup"))
        let conflict = expectBillingError { try engine.topUp(#"{"actor":"pay","account_id":"a1","amount_fen":9000,"external_reference":"alipay-1"}"#) }
        #expect(conflict?.status == .conflict)
        #expect(conflict?.reason == "topup_reference_reused")
        for (request, reason) in [
            (#"{"actor":"pay","account_id":"a1","amount_fen":0,"external_reference":"x"}"#, "non_positive_amount"),
            (#"{"actor":"pay","account_id":"a1","amount_fen":-5,"external_reference":"x"}"#, "negative_amount"),
            (#"{"actor":"pay","account_id":"a1","amount_fen":10.5,"external_reference":"x"}"#, "not_an_integer"),
            (#"{"actor":"pay","account_id":"a1","amount_fen":"100","external_reference":"x"}"#, "wrong_type"),
            (#"{"actor":"pay","account_id":"a1","amount_fen":100}"#, "missing_field"),
        ] {
            #expect(expectBillingError { try engine.topUp(request) }?.reason == reason, "\(request)")
        }
        #expect(expectBillingError { try engine.topUp(#"{"actor":"pay","account_id":"zz","amount_fen":5,"external_reference":"x"}"#) }?.status == .notFound)
        let account = try object(engine.getAccount(#"{"account_id":"a1"}"#))
        #expect(integer(account, "account", "cash_balance_fen") == 10_000)
    }

    @Test func topUpSettlesArrearsFirst() throws {
        let engine = try manualEngine()
        try putAccount(engine, "a1")
        // Arrears arise from pay-per-use charges; here the position is set below zero directly.
        try engine.writeForTest {
            try AccountStore.post(engine.db, account: "a1", fund: .cash, kind: "USAGE", amount: Money(fen: -3000), at: engine.instantLocked())
        }
        let before = try object(engine.getAccount(#"{"account_id":"a1"}"#))
        #expect(integer(before, "account", "arrears_fen") == 3000)
        #expect(integer(before, "account", "cash_balance_fen") == 0)
        let partial = try object(engine.topUp(#"{"actor":"p","account_id":"a1","amount_fen":1000,"external_reference":"r1"}"#))
        #expect(integer(partial, "arrears_settled_fen") == 1000)
        #expect(integer(partial, "account", "arrears_fen") == 2000)
        let rest = try object(engine.topUp(#"{"actor":"p","account_id":"a1","amount_fen":5000,"external_reference":"r2"}"#))
        #expect(integer(rest, "arrears_settled_fen") == 2000)
        #expect(integer(rest, "account", "arrears_fen") == 0)
        #expect(integer(rest, "account", "cash_balance_fen") == 3000)
        let events = try object(engine.listEvents(#"{"account_id":"a1","limit":100}"#))
        #expect(try objects(events["events"]).contains { $0["type"] == "account.arrears_settled" })
    }

    @Test func ledgerSumEqualsBalanceAfterManyRandomTopUps() throws {
        let engine = try manualEngine()
        try putAccount(engine, "a1")
        try putAccount(engine, "a2")
        var random = SplitMix64(seed: 99)
        var expected: [String: Int64] = ["a1": 0, "a2": 0]
        var previous = ""
        for index in 0..<400 {
            let account = Bool.random(using: &random) ? "a1" : "a2"
            let amount = Int64.random(in: 1...10_000_000, using: &random)
            let request = #"{"actor":"p","account_id":"\#(account)","amount_fen":\#(amount),"external_reference":"ref-\#(index)"}"#
            _ = try engine.topUp(request)
            expected[account, default: 0] += amount
            // Every fifth request is a retry of the one before, which must not count twice.
            if index % 5 == 4 { #expect(field(try object(engine.topUp(previous)), "replayed") == true) }
            previous = request
        }
        for account in ["a1", "a2"] {
            let document = try object(engine.getAccount(#"{"account_id":"\#(account)"}"#))
            #expect(integer(document, "account", "cash_balance_fen") == expected[account])
            var sum: Int64 = 0
            var cursor = "0"
            while true {
                let page = try object(engine.listLedger(#"{"account_id":"\#(account)","after":"\#(cursor)","limit":50}"#))
                for entry in try objects(page["entries"]) { sum += try #require(entry["amount_fen"]?.integerValue) }
                cursor = text(page, "next_cursor")
                if page["has_more"] != true { break }
            }
            #expect(sum == expected[account])
        }
    }

    @Test func renewalSettingsAreChecked() throws {
        let engine = try manualEngine()
        try putAccount(engine, "a1")
        let updated = try object(engine.updateAccountSettings(#"{"actor":"c","account_id":"a1","deduction_days":3,"unified_expiry_day":-1}"#))
        #expect(integer(updated, "account", "deduction_days") == 3)
        #expect(integer(updated, "account", "unified_expiry_day") == -1)
        for (request, reason) in [
            (#"{"actor":"c","account_id":"a1","deduction_days":1}"#, "out_of_range"),
            (#"{"actor":"c","account_id":"a1","deduction_days":8}"#, "out_of_range"),
            (#"{"actor":"c","account_id":"a1","unified_expiry_day":0}"#, "out_of_range"),
            (#"{"actor":"c","account_id":"a1","unified_expiry_day":29}"#, "out_of_range"),
            (#"{"actor":"c","account_id":"a1"}"#, "missing_field"),
        ] {
            #expect(expectBillingError { try engine.updateAccountSettings(request) }?.reason == reason, "\(request)")
        }
        #expect(expectBillingError { try engine.updateAccountSettings(#"{"actor":"c","account_id":"b","deduction_days":3}"#) }?.status == .notFound)
    }

    @Test func creditLimitCannotDropBelowUse() throws {
        let engine = try manualEngine()
        try putAccount(engine, "a1", extra: #","credit_limit_fen":100000"#)
        try engine.writeForTest {
            try AccountStore.post(engine.db, account: "a1", fund: .credit, kind: "PAYMENT", amount: Money(fen: -40_000), at: engine.instantLocked())
        }
        let account = try object(engine.getAccount(#"{"account_id":"a1"}"#))
        #expect(integer(account, "account", "credit_used_fen") == 40_000)
        #expect(integer(account, "account", "credit_available_fen") == 60_000)
        #expect(expectBillingError { try engine.putAccount(#"{"actor":"h","account_id":"a1","credit_limit_fen":30000}"#) }?.reason == "credit_limit_below_used")
    }
}
