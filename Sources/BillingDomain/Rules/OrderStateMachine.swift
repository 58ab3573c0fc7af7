/// The order state machine (domain-rules §3.3): every status an order may be created in and
/// every move between statuses, in one table. Nothing else decides whether an order may change
/// status: services move orders with `Order.transition(to:)` and the store refuses to write a
/// status the table does not allow from the stored one.
public enum OrderStateMachine {
    /// Which half of §3.3 an order follows.
    public enum Flow: String, Sendable {
        /// Purchase-type orders (NEW, RENEW, CHANGE, conversions, trials, adjustments): T1–T15.
        case purchase = "PURCHASE"
        /// UNSUBSCRIBE orders: U1–U5.
        case unsubscription = "UNSUBSCRIPTION"

        public init(_ type: OrderType) { self = type == .unsubscribe ? .unsubscription : .purchase }
    }

    /// One allowed move: `from` nil is the creation of the order.
    public struct Transition: Equatable, Sendable {
        public let flow: Flow
        public let from: OrderStatus?
        public let to: OrderStatus
        /// The rows of §3.3 this move carries out (several events may share one move).
        public let rules: [String]
        /// What happens, in the words of §3.3.
        public let event: String
    }

    /// Every allowed move. Rows marked "engine" are how the engine reads a §3.3 row: T8 goes on
    /// to review when the confirmed order needs one; T13 cancels an order waiting in any of the
    /// three waiting statuses; T4's instant completion is also the PREPAID_TO_ONDEMAND order
    /// recorded at a conversion (nothing to pay or provision); a pay-per-use order is processing
    /// at creation (nothing to pay, T4 without a payment).
    public static let table: [Transition] = [
        Transition(flow: .purchase, from: nil, to: .pendingPayment, rules: ["T1", "T5"],
                   event: "created without review and without auto-pay, or auto-pay failed"),
        Transition(flow: .purchase, from: nil, to: .pendingReview, rules: ["T2"], event: "created, review required"),
        Transition(flow: .purchase, from: nil, to: .pendingConfirmation, rules: ["T3"], event: "placed by the account manager"),
        Transition(flow: .purchase, from: nil, to: .processing, rules: ["T4"],
                   event: "created paid, or with nothing to pay (pay-per-use)"),
        Transition(flow: .purchase, from: nil, to: .completed, rules: ["T4"],
                   event: "created paid and instant (a conversion to pay-per-use recorded at expiry)"),
        Transition(flow: .purchase, from: .pendingReview, to: .pendingPayment, rules: ["T6"], event: "review approved"),
        Transition(flow: .purchase, from: .pendingReview, to: .cancelled, rules: ["T7", "T13"],
                   event: "review rejected, or the resource was converted, released or deleted"),
        Transition(flow: .purchase, from: .pendingConfirmation, to: .pendingPayment, rules: ["T8"], event: "the customer confirms"),
        Transition(flow: .purchase, from: .pendingConfirmation, to: .pendingReview, rules: ["T8"],
                   event: "the customer confirms an order that needs review (engine)"),
        Transition(flow: .purchase, from: .pendingConfirmation, to: .cancelled, rules: ["T9", "T13"],
                   event: "declined, the validity lapsed, or the resource was converted, released or deleted"),
        Transition(flow: .purchase, from: .pendingPayment, to: .processing, rules: ["T10"], event: "paid"),
        Transition(flow: .purchase, from: .pendingPayment, to: .cancelled, rules: ["T11", "T12", "T13"],
                   event: "cancelled by the customer, the payment deadline passed, or the resource was converted, released or deleted"),
        Transition(flow: .purchase, from: .processing, to: .completed, rules: ["T14", "T15"],
                   event: "every resource provisioned or failed (failed ones refunded by an automatic unsubscription order)"),
        Transition(flow: .unsubscription, from: nil, to: .refunding, rules: ["U1"], event: "submitted, refund within the review threshold"),
        Transition(flow: .unsubscription, from: nil, to: .pendingReview, rules: ["U2"], event: "submitted, refund above the review threshold"),
        Transition(flow: .unsubscription, from: .pendingReview, to: .refunding, rules: ["U3"], event: "review approved"),
        Transition(flow: .unsubscription, from: .pendingReview, to: .cancelled, rules: ["U4"], event: "review rejected"),
        Transition(flow: .unsubscription, from: .refunding, to: .completed, rules: ["U5"], event: "refund credited"),
    ]

    /// The allowed move of an order of `type` from `from` (nil: creation) to `to`.
    ///
    /// - Throws: `illegal_transition` (refused), naming both statuses, when the table has no
    ///   such move. Staying in the same status is not a move and is not asked here.
    ///   `subject` is built only for that error: callers name the order or resource by
    ///   interpolation, which cost more than the lookup on every allowed move.
    @discardableResult
    public static func transition(from: OrderStatus?, to: OrderStatus, type: OrderType, subject: @autoclosure () -> String = "the order") throws -> Transition {
        let flow = Flow(type)
        if let found = table.first(where: { $0.flow == flow && $0.from == from && $0.to == to }) { return found }
        let start = from.map { "from \($0.rawValue)" } ?? "at creation"
        throw BillingError.refused(.illegalTransition, "\(subject()) (\(type.rawValue)) cannot move \(start) to \(to.rawValue)")
    }

    /// The statuses an order of `type` may move to from `from` (nil: the creation statuses).
    public static func successors(of from: OrderStatus?, type: OrderType) -> [OrderStatus] {
        let flow = Flow(type)
        return table.filter { $0.flow == flow && $0.from == from }.map(\.to)
    }
}

extension Order {
    /// Moves the order to `status` through `OrderStateMachine` (unchanged when already there).
    public mutating func transition(to status: OrderStatus) throws {
        guard status != self.status else { return }
        try OrderStateMachine.transition(from: self.status, to: status, type: type, subject: "order \(id)")
        self.status = status
    }
}
