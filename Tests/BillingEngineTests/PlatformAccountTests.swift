import FoundationEssentials
import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage
import BillingSecurity

@Suite("Platform accounts: eligibility, approval, activation, login, reset")
struct PlatformAccountTests {
    func engineWithAccount(_ id: String = "hw-1") throws -> Engine {
        let engine = try manualEngine()
        try useFastPasswordHashing(engine)
        try putAccount(engine, id)
        return engine
    }

    func apply(_ engine: Engine, account: String = "hw-1", user: String = "alice", email: String = "Alice@Example.COM",
               phone: String = "138 0013 8000") throws -> String {
        let response = try object(engine.applyForPlatformAccount(
            #"{"actor":"applicant","account_id":"\#(account)","user_name":"\#(user)","email":"\#(email)","phone":"\#(phone)","contact_name":"Alice"}"#))
        return text(response, "platform_account", "platform_account_id")
    }

    /// Applies, approves and activates; returns the platform account id.
    func activeAccount(_ engine: Engine, password: String = "Correct-Horse-9") throws -> String {
        let id = try apply(engine)
        let approval = try object(engine.approvePlatformAccount(#"{"actor":"approver","platform_account_id":"\#(id)"}"#))
        let token = text(approval, "password_set_token")
        _ = try engine.activatePlatformAccount(#"{"actor":"applicant","token":"\#(token)","password":"\#(password)"}"#)
        return id
    }

    @Test func reportsAllFourEligibilityFailuresAtOnce() throws {
        let engine = try manualEngine()
        try putAccount(engine, "p1", type: "PERSONAL", realname: false, extra: #","restricted":true"#)
        // E4 needs a live application: make p1 eligible, apply, then degrade it on every count.
        _ = try engine.putAccount(#"{"actor":"h","account_id":"p1","type":"ENTERPRISE","realname_verified":true,"restricted":false}"#)
        _ = try apply(engine, account: "p1", user: "bob", email: "bob@example.com", phone: "+8613900139000")
        _ = try engine.putAccount(#"{"actor":"h","account_id":"p1","type":"PERSONAL","realname_verified":false,"freeze":"ARREARS"}"#)
        let report = try object(engine.platformEligibility(#"{"account_id":"p1"}"#))
        #expect(report["eligible"] == false)
        let failed = try objects(report["checks"]).filter { $0["passed"] == false }.map { try #require($0["code"]?.stringValue) }
        #expect(failed == ["not_enterprise", "not_realname_verified", "restricted_or_frozen", "not_first_activation"])
        let before = try eventCount(engine)
        let error = expectBillingError {
            try engine.applyForPlatformAccount(#"{"actor":"a","account_id":"p1","user_name":"carol","email":"c@example.com","phone":"+8613700137000"}"#)
        }
        #expect(error?.status == .refused)
        #expect(error?.reason == "not_eligible")
        for code in failed { #expect(error?.message.contains(code) == true, "\(code)") }
        #expect(try eventCount(engine) == before)
    }

    @Test func identifiersAreNormalisedAndUnique() throws {
        let engine = try engineWithAccount()
        try putAccount(engine, "hw-2")
        let id = try apply(engine)
        let platform = try object(engine.getPlatformAccount(#"{"platform_account_id":"\#(id)"}"#))
        #expect(text(platform, "platform_account", "email") == "alice@example.com")
        #expect(text(platform, "platform_account", "phone") == "+8613800138000")
        #expect(text(platform, "platform_account", "status") == "SUBMITTED")
        let duplicates: [(String, String, String, String)] = [
            ("alice", "other@example.com", "+8613911112222", "user_name_taken"),
            ("alice2", "ALICE@example.com", "+8613911112222", "email_taken"),
            ("alice3", "x@example.com", "+86 138-0013-8000", "phone_taken"),
        ]
        for (user, email, phone, reason) in duplicates {
            let error = expectBillingError { try apply(engine, account: "hw-2", user: user, email: email, phone: phone) }
            #expect(error?.status == .conflict)
            #expect(error?.reason == reason)
        }
        for (user, email, phone, reason) in [
            ("1abc", "a@b.co", "+8613911112222", "invalid_user_name"),
            ("ab", "a@b.co", "+8613911112222", "invalid_user_name"),
            ("bob", "not-an-email", "+8613911112222", "invalid_email"),
            ("bob", "a@@b.co", "+8613911112222", "invalid_email"),
            ("bob", "a@b.co", "12345", "invalid_phone"),
            ("bob", "a@b.co", "+86abc", "invalid_phone"),
        ] {
            #expect(expectBillingError { try apply(engine, account: "hw-2", user: user, email: email, phone: phone) }?.reason == reason, "\(user) \(email) \(phone)")
        }
        // A rejected application frees its identifiers and lets the account apply again.
        _ = try engine.rejectPlatformAccount(#"{"actor":"approver","platform_account_id":"\#(id)","reason":"incomplete form"}"#)
        let again = try apply(engine)
        #expect(again != id)
    }

    @Test func approvalActivationAndLogin() throws {
        let engine = try engineWithAccount()
        let id = try apply(engine)
        let approval = try object(engine.approvePlatformAccount(#"{"actor":"approver","platform_account_id":"\#(id)","idempotency_key":"approve-1"}"#))
        let token = text(approval, "password_set_token")
        #expect(token.count == 64)
        #expect(integer(approval, "token_expires_at") == january1st2024 + 86_400)
        #expect(text(approval, "platform_account", "status") == "APPROVED_PENDING_PASSWORD")
        // A replay returns the result without the token.
        let replay = try object(engine.approvePlatformAccount(#"{"actor":"approver","platform_account_id":"\#(id)","idempotency_key":"approve-1"}"#))
        #expect(replay["password_set_token"] == .null)
        #expect(expectBillingError { try engine.approvePlatformAccount(#"{"actor":"approver","platform_account_id":"\#(id)"}"#) }?.reason == "not_submitted")
        // Weak passwords are refused with the rule they break.
        for (password, reason) in [("short1A", "password_too_short"), ("alllowercase", "password_too_simple"),
                                   ("ALICE@example.com", "password_equals_identifier"), ("+8613800138000", "password_equals_identifier"),
                                   ("", "empty_string"), (String(repeating: "aB3", count: 50), "password_too_long")] {
            let error = expectBillingError { try engine.activatePlatformAccount(#"{"actor":"a","token":"\#(token)","password":"\#(password)"}"#) }
            #expect(error?.reason == reason, "\(password)")
        }
        let activated = try object(engine.activatePlatformAccount(#"{"actor":"a","token":"\#(token)","password":"Correct-Horse-9"}"#))
        #expect(text(activated, "platform_account", "status") == "ACTIVE")
        #expect(field(activated, "platform_account", "password_hash") == nil)
        // The token is single-use.
        #expect(expectBillingError { try engine.activatePlatformAccount(#"{"actor":"a","token":"\#(token)","password":"Correct-Horse-9"}"#) }?.reason == "token_used")
        // Login by user name, e-mail (any case) and phone (any format).
        for identifier in ["alice", "ALICE@example.com", "13800138000", "+86 138 0013 8000"] {
            let login = try object(engine.login(#"{"identifier":"\#(identifier)","password":"Correct-Horse-9"}"#))
            #expect(text(login, "platform_account", "platform_account_id") == id, "\(identifier)")
            #expect(text(login, "account_id") == "hw-1")
        }
        // Unknown identifier and wrong password get the same answer.
        let unknown = expectBillingError { try engine.login(#"{"identifier":"nobody","password":"Correct-Horse-9"}"#) }
        let wrong = expectBillingError { try engine.login(#"{"identifier":"alice","password":"Wrong-Horse-9"}"#) }
        #expect(unknown == wrong)
        #expect(wrong?.status == .unauthenticated)
        #expect(wrong?.reason == "invalid_credentials")
        #expect(expectBillingError { try engine.login(#"{"identifier":"alice","password":"x","idempotency_key":"k"}"#) }?.reason == "unknown_field")
    }

    @Test func setPasswordTokensExpireAndCanBeReissued() throws {
        let engine = try engineWithAccount()
        let id = try apply(engine)
        let first = text(try object(engine.approvePlatformAccount(#"{"actor":"approver","platform_account_id":"\#(id)"}"#)), "password_set_token")
        try engine.advanceClock(by: 86_400)
        #expect(expectBillingError { try engine.activatePlatformAccount(#"{"actor":"a","token":"\#(first)","password":"Correct-Horse-9"}"#) }?.reason == "token_expired")
        let second = text(try object(engine.resendPasswordLink(#"{"actor":"ops","platform_account_id":"\#(id)"}"#)), "password_set_token")
        let third = text(try object(engine.resendPasswordLink(#"{"actor":"ops","platform_account_id":"\#(id)"}"#)), "password_set_token")
        // Only the newest link works.
        #expect(expectBillingError { try engine.activatePlatformAccount(#"{"actor":"a","token":"\#(second)","password":"Correct-Horse-9"}"#) }?.reason == "token_used")
        #expect(expectBillingError { try engine.activatePlatformAccount(#"{"actor":"a","token":"nonsense","password":"Correct-Horse-9"}"#) }?.reason == "invalid_token")
        _ = try engine.activatePlatformAccount(#"{"actor":"a","token":"\#(third)","password":"Correct-Horse-9"}"#)
        #expect(expectBillingError { try engine.resendPasswordLink(#"{"actor":"ops","platform_account_id":"\#(id)"}"#) }?.reason == "not_awaiting_password")
    }

    @Test func throttleAfterRepeatedFailuresAndItsEnd() throws {
        let engine = try engineWithAccount()
        _ = try activeAccount(engine)
        _ = try engine.updateConfiguration(#"{"actor":"ops","changes":{"login_throttle_after_failures":3,"login_throttle_base_seconds":600}}"#)
        func attempt(_ password: String) -> String? {
            expectBillingError { try engine.login(#"{"identifier":"alice","password":"\#(password)"}"#) }?.reason
        }
        for _ in 0..<2 { #expect(attempt("bad-Password-1") == "invalid_credentials") }
        // A success in between resets the count: the row is deleted (a success without a row
        // deletes nothing).
        let rows = { try engine.lock.withLock { try engine.db.first("SELECT count(*) FROM login_throttles") { $0.int(0) } } }
        #expect(try rows() == 1)
        #expect(attempt("Correct-Horse-9") == nil)
        #expect(try rows() == 0)
        #expect(attempt("Correct-Horse-9") == nil)
        #expect(try rows() == 0)
        for _ in 0..<3 { #expect(attempt("bad-Password-1") == "invalid_credentials") }
        // Waiting: even the right password is refused until the wait ends, then it works.
        #expect(attempt("Correct-Horse-9") == "login_throttled")
        try engine.advanceClock(by: 599)
        #expect(attempt("Correct-Horse-9") == "login_throttled")
        try engine.advanceClock(by: 1)
        #expect(attempt("Correct-Horse-9") == nil)
        let waits = try engine.lock.withLock { try engine.db.first("SELECT count(*) FROM events WHERE type = 'platform.login_throttled'") { $0.int(0) } }
        #expect(waits == 1)
        let attempts = try engine.lock.withLock { try engine.db.first("SELECT count(*) FROM audit_log WHERE operation = 'platform.login'") { $0.int(0) } }
        #expect(attempts == 10) // 2 wrong, 2 right, 3 wrong, 2 throttled, 1 right
    }

    @Test func throttleWaitsDoubleUpToTheCapAndAreForgotten() {
        let policy = LoginThrottle(afterFailures: 3, baseSeconds: 10, maxSeconds: 100, forgetSeconds: 1000)
        #expect((1...9).map { policy.wait(afterFailure: $0) } == [0, 0, 10, 20, 40, 80, 100, 100, 100])
        #expect(policy.wait(afterFailure: .max) == 100)
        let huge = LoginThrottle(afterFailures: 1, baseSeconds: 86_400, maxSeconds: 2_592_000, forgetSeconds: 60)
        #expect(huge.wait(afterFailure: 61) == 2_592_000)
        var state: LoginThrottle.State?
        for _ in 0..<3 { state = policy.failing(state, at: 500) }
        #expect(state == LoginThrottle.State(failures: 3, retryAfter: 510))
        #expect(policy.waitUntil(state, at: 509) == 510)
        #expect(policy.waitUntil(state, at: 510) == nil)
        #expect(policy.failing(state, at: 510) == LoginThrottle.State(failures: 4, retryAfter: 530))
        // Forgotten forgetSeconds after the wait ended: the count starts again.
        #expect(policy.current(state, at: 1509) == state)
        #expect(policy.current(state, at: 1510) == nil)
        #expect(policy.failing(state, at: 1510) == LoginThrottle.State(failures: 1, retryAfter: 1510))
        #expect(policy.failing(LoginThrottle.State(failures: .max, retryAfter: .max - 5), at: .max - 10).retryAfter == .max)
    }

    @Test func passwordResetByEveryChannel() throws {
        let engine = try engineWithAccount()
        _ = try activeAccount(engine)
        var password = "Correct-Horse-9"
        for (identifier, channel) in [("alice@example.com", "EMAIL"), ("+8613800138000", "PHONE"), ("alice", "USER_NAME")] {
            let request = try object(engine.requestPasswordReset(#"{"actor":"user","identifier":"\#(identifier)"}"#))
            #expect(text(request, "channel") == channel)
            let token = text(request, "reset_token")
            let next = "New-Secret-\(channel)-1"
            _ = try engine.completePasswordReset(#"{"actor":"user","token":"\#(token)","password":"\#(next)"}"#)
            #expect(expectBillingError { try engine.login(#"{"identifier":"alice","password":"\#(password)"}"#) }?.reason == "invalid_credentials")
            _ = try engine.login(#"{"identifier":"alice","password":"\#(next)"}"#)
            #expect(expectBillingError { try engine.completePasswordReset(#"{"actor":"user","token":"\#(token)","password":"Another-One-2"}"#) }?.reason == "token_used")
            password = next
        }
        // An unknown identifier gets the same status and keys, with nothing to deliver.
        let unknown = try object(engine.requestPasswordReset(#"{"actor":"user","identifier":"nobody"}"#))
        #expect(Set(unknown.keys) == ["schema_version", "platform_account", "channel", "reset_token", "token_expires_at"])
        #expect(unknown["reset_token"] == .null && unknown["platform_account"] == .null && text(unknown, "channel") == "USER_NAME")
        let expiring = text(try object(engine.requestPasswordReset(#"{"actor":"user","identifier":"alice"}"#)), "reset_token")
        try engine.advanceClock(by: 86_400)
        #expect(expectBillingError { try engine.completePasswordReset(#"{"actor":"user","token":"\#(expiring)","password":"Another-One-2"}"#) }?.reason == "token_expired")
    }

    @Test func resetEndsAWait() throws {
        let engine = try engineWithAccount()
        _ = try activeAccount(engine)
        for _ in 0..<5 { _ = expectBillingError { try engine.login(#"{"identifier":"alice","password":"bad-Password-1"}"#) } }
        #expect(expectBillingError { try engine.login(#"{"identifier":"alice","password":"Correct-Horse-9"}"#) }?.reason == "login_throttled")
        let token = text(try object(engine.requestPasswordReset(#"{"actor":"user","identifier":"alice"}"#)), "reset_token")
        _ = try engine.completePasswordReset(#"{"actor":"user","token":"\#(token)","password":"Fresh-Start-7"}"#)
        _ = try engine.login(#"{"identifier":"alice","password":"Fresh-Start-7"}"#)
    }

    /// Login text that is ASCII throughout is classified over its bytes (`parseASCII`): the
    /// same identifier, or the same error, as classifying it by characters.
    @Test func asciiIdentifiersParseAsByCharacters() {
        let texts = ["alice", "  alice\t", "Al", "a1", "al", "alice_b-c.d", "1alice", "_alice", "alice!", String(repeating: "a", count: 32),
                     String(repeating: "a", count: 33), "", " ", "\t\t", "a\r\nb", "ali\rce", "alice\r\n", "\r\n",
                     "Alice@Example.COM", " a@b.c ", "@", "a@b", "a@@b.c", "a b@c.d",
                     "13800138000", "+86 138 0013 8000", "(138) 0013-8000", "0086 13800138000", "+", "---", "1", "12 34",
                     "+8613800138000\r\n", "138.0013.8000", "1e5", "+86x138"]
        func outcome(_ text: String, _ parse: (String) throws -> LoginIdentifier?) -> String {
            do { return "\(String(describing: try parse(text)))" } catch { return "error \((error as? BillingError)?.reason ?? "?") \(error)" }
        }
        for text in texts {
            #expect(text.utf8.allSatisfy { $0 < 0x80 })
            let general = outcome(text, LoginIdentifier.parseAnyText)
            #expect(outcome(text, LoginIdentifier.parseASCII) == general, "\(text.debugDescription)")
            #expect(outcome(text, LoginIdentifier.parse) == general)
        }
        // Other text is left to the general path.
        for text in ["ålice", "alice\u{301}", "a@b.ç", "١٢٣٤٥٦٧٨"] {
            #expect((try? LoginIdentifier.parseASCII(text)) == .some(nil))
        }
    }

    /// The throttle key is the digest of the prefixed identifier, whichever way it is built.
    @Test func throttleKeysAreTheDigestOfThePrefixedIdentifier() {
        for identifier in ["alice", "a@example.com", "+8613800138000", "", "ålice 中", String(repeating: "x", count: 300)] {
            #expect(Engine.throttleKey(identifier) == Secrets.tokenDigest("login-identifier:" + identifier))
        }
    }

    /// A login's answer is written directly (`LoginResponse.documentText`): the same bytes as
    /// the tree written with sorted keys, for accounts with every optional field null and
    /// with none null (texts that need escapes and non-ASCII included), and for a real login.
    @Test func loginAnswerIsTheTreesBytes() throws {
        let bare = PlatformAccount(id: "PA1", accountID: "hw-1", status: .active, userName: "alice", email: "a@example.com",
                                   phone: "+8613800138000", submittedAt: 0)
        let full = PlatformAccount(id: "PA-\"2\"", accountID: "hw\\2", status: .rejected, userName: "bob.b", email: "b@exämple.com",
                                   phone: "+8613900139000", contactName: "Bob \"B\"\n\u{7F}\u{1}é中", passwordHash: "$argon2id$x",
                                   rejectReason: "tab\there", submittedAt: -5, decidedAt: 1_700_000_000, activatedAt: 9,
                                   passwordChangedAt: Int64.max)
        for account in [bare, full] {
            let response = LoginResponse(platformAccount: account)
            #expect(response.documentText == Engine.document(response.json))
        }
        let engine = try engineWithAccount()
        let id = try activeAccount(engine)
        let answer = try engine.login(#"{"identifier":"alice","password":"Correct-Horse-9"}"#)
        let stored = try engine.lock.withLock { try PlatformAccountStore.require(engine.db, id) }
        #expect(answer == Engine.document(LoginResponse(platformAccount: stored).json))
        #expect(!answer.contains("password_hash"))
    }

    @Test func changedHashCostsRehashAtLogin() throws {
        let engine = try engineWithAccount()
        let id = try activeAccount(engine)
        let hash = { try engine.lock.withLock { try PlatformAccountStore.require(engine.db, id).passwordHash ?? "" } }
        let before = try hash()
        #expect(before.hasPrefix("$argon2id$"))
        _ = try engine.updateConfiguration(#"{"actor":"ops","changes":{"password_hash_ops_limit":3,"password_hash_memory_bytes":19922944}}"#)
        _ = try engine.login(#"{"identifier":"alice","password":"Correct-Horse-9"}"#)
        let after = try hash()
        #expect(after != before)
        #expect(after.contains("m=19456,t=3"))
        _ = try engine.login(#"{"identifier":"alice","password":"Correct-Horse-9"}"#)
    }

    @Test func neitherPasswordsNorTokensAreStoredInPlainText() throws {
        let path = temporaryDatabasePath()
        var options = EngineOptions()
        options.clock = .manual(january1st2024)
        let engine = try Engine(path: path, options: options)
        try useFastPasswordHashing(engine)
        try putAccount(engine, "hw-1")
        let id = try apply(engine)
        let setToken = text(try object(engine.approvePlatformAccount(#"{"actor":"approver","platform_account_id":"\#(id)","idempotency_key":"k-approve"}"#)), "password_set_token")
        let password = "Plaintext-Canary-4711"
        _ = try engine.activatePlatformAccount(#"{"actor":"a","token":"\#(setToken)","password":"\#(password)","idempotency_key":"k-activate"}"#)
        _ = expectBillingError { try engine.login(#"{"identifier":"alice","password":"Wrong-Canary-0815"}"#) }
        let resetToken = text(try object(engine.requestPasswordReset(#"{"actor":"u","identifier":"alice","idempotency_key":"k-reset"}"#)), "reset_token")
        let newPassword = "Second-Canary-9999"
        _ = try engine.completePasswordReset(#"{"actor":"u","token":"\#(resetToken)","password":"\#(newPassword)","idempotency_key":"k-complete"}"#)
        var bytes: [UInt8] = []
        for suffix in ["", "-wal"] {
            if let data = try? Data(contentsOf: URL(fileURLWithPath: path + suffix)) { bytes += Array(data) }
        }
        #expect(bytes.count > 4096)
        let haystack = String(decoding: bytes, as: UTF8.self)
        for secret in [password, newPassword, "Wrong-Canary-0815", setToken, resetToken] {
            #expect(!haystack.contains(secret), "\(secret.prefix(8))… found in the database file")
        }
    }
}
