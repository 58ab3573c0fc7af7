/// One failed eligibility check of a platform account application (domain-rules §1.1).
public struct EligibilityFailure: Equatable, Sendable {
    /// "E1"…"E4".
    public let check: String
    /// Machine-readable reason.
    public let code: String
    /// What the applicant must fix.
    public let message: String
}

/// Evaluates E1–E4 together, so the page can show every failing check at once.
public enum Eligibility {
    /// - Parameters:
    ///   - account: the owning cloud account as the host reported it.
    ///   - hasPlatformAccount: whether a platform account exists (active, approved or under
    ///     review) for it; rejected applications do not count.
    public static func failures(of account: Account, hasPlatformAccount: Bool) -> [EligibilityFailure] {
        var failures: [EligibilityFailure] = []
        if account.type != .enterprise {
            failures.append(EligibilityFailure(check: "E1", code: "not_enterprise",
                                               message: "the account must be an enterprise account; switch it to an enterprise account"))
        }
        if !account.realnameVerified {
            failures.append(EligibilityFailure(check: "E2", code: "not_realname_verified",
                                               message: "the account must complete real-name verification"))
        }
        if account.restricted || account.freeze != .none {
            let why = account.freeze != .none ? "frozen (\(account.freeze.rawValue))" : "restricted"
            failures.append(EligibilityFailure(check: "E3", code: "restricted_or_frozen",
                                               message: "the account is \(why); it must be neither restricted nor frozen"))
        }
        if hasPlatformAccount {
            failures.append(EligibilityFailure(check: "E4", code: "not_first_activation",
                                               message: "the account already has a platform account or an application in progress"))
        }
        return failures
    }
}
