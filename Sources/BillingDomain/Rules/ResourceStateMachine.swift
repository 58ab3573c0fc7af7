/// The resource lifecycle (domain-rules §4.1, with the statuses around provisioning of §2.4,
/// §5.4 and §5.6): every status a resource may be created in and every move between statuses,
/// in one table. Services move resources with `Resource.transition(to:)` and the store refuses
/// to write a status the table does not allow from the stored one.
public enum ResourceStateMachine {
    /// One allowed move: `from` nil is the creation of the resource.
    public struct Transition: Equatable, Sendable {
        public let from: ResourceStatus?
        public let to: ResourceStatus
        /// What happens.
        public let event: String
    }

    /// Every allowed move. §4.1's "Released" after an unsubscription is UNSUBSCRIBED here, and a
    /// pay-per-use resource the host deleted is DELETED (§2.3); both end the resource like
    /// RELEASED. A conversion to pay-per-use at expiry keeps the resource IN_USE (no move).
    public static let table: [Transition] = [
        Transition(from: nil, to: .pendingProvision, event: "paid; the host provisions it"),
        Transition(from: nil, to: .inUse, event: "a package taking effect at payment"),
        Transition(from: nil, to: .pendingEffective, event: "a package bought to take effect later"),
        Transition(from: .pendingProvision, to: .inUse, event: "the host reports it provisioned"),
        Transition(from: .pendingProvision, to: .provisionFailed, event: "the host reports its creation failed (refunded in full, §5.6)"),
        Transition(from: .pendingEffective, to: .inUse, event: "its effective time comes"),
        Transition(from: .pendingEffective, to: .unsubscribed, event: "unsubscribed before it took effect (§5.4)"),
        Transition(from: .inUse, to: .expired, event: "the expiry instant passes unrenewed (grace starts; a package ends)"),
        Transition(from: .inUse, to: .frozen, event: "arrears grace ends (pay-per-use), or frozen with its group"),
        Transition(from: .inUse, to: .unsubscribed, event: "unsubscription completed"),
        Transition(from: .inUse, to: .deleted, event: "the host deleted the pay-per-use resource"),
        Transition(from: .expired, to: .inUse, event: "renewal paid (or arrears settled)"),
        Transition(from: .expired, to: .frozen, event: "the grace period elapses (retention starts)"),
        Transition(from: .expired, to: .released, event: "the customer releases it (§4.7)"),
        Transition(from: .expired, to: .deleted, event: "the host deleted the pay-per-use resource"),
        Transition(from: .frozen, to: .inUse, event: "renewal paid, or arrears settled"),
        Transition(from: .frozen, to: .released, event: "the retention period elapses, or the customer releases it"),
        Transition(from: .frozen, to: .unsubscribed, event: "unsubscription completed (a freeze other than expiry or police)"),
        Transition(from: .frozen, to: .deleted, event: "the host deleted the pay-per-use resource"),
    ]

    /// The allowed move from `from` (nil: creation) to `to`.
    ///
    /// - Throws: `illegal_transition` (refused), naming both statuses, when the table has no
    ///   such move. Staying in the same status is not a move and is not asked here.
    ///   `subject` is built only for that error: callers name the order or resource by
    ///   interpolation, which cost more than the lookup on every allowed move.
    @discardableResult
    public static func transition(from: ResourceStatus?, to: ResourceStatus, subject: @autoclosure () -> String = "the resource") throws -> Transition {
        if let found = table.first(where: { $0.from == from && $0.to == to }) { return found }
        let start = from.map { "from \($0.rawValue)" } ?? "at creation"
        throw BillingError.refused(.illegalTransition, "\(subject()) cannot move \(start) to \(to.rawValue)")
    }

    /// The statuses a resource may move to from `from` (nil: the creation statuses).
    public static func successors(of from: ResourceStatus?) -> [ResourceStatus] {
        table.filter { $0.from == from }.map(\.to)
    }

    /// The statuses a resource never leaves.
    public static var terminal: [ResourceStatus] {
        ResourceStatus.allCases.filter { successors(of: $0).isEmpty }
    }
}

extension Resource {
    /// Moves the resource to `status` through `ResourceStateMachine` (unchanged when already there).
    public mutating func transition(to status: ResourceStatus) throws {
        guard status != self.status else { return }
        try ResourceStateMachine.transition(from: self.status, to: status, subject: "resource \(id)")
        self.status = status
    }
}
