import BillingDomain
import BillingDocuments
import BillingStorage

/// The order transitions that several services take (§3.2): moving to a waiting status,
/// cancelling (T11–T13), completing once provisioned (T14). Below the services that
/// decide them, so that none of them calls back into another.
enum OrderTransitions {
    /// The sub-order error of §3.4 (CBC.99000089): it names the combined order to use.
    static func useCombined(_ order: Order) -> BillingError {
        BillingError.refused(.useCombinedOrder, "order \(order.id) is part of combined order \(order.combinedID ?? ""); pay or cancel that one")
    }

    /// Moves an order (and a combined order's sub-orders) to a waiting status; entering
    /// PENDING_PAYMENT starts the payment deadline. Returns the orders as written: the order,
    /// then its sub-orders in their stored order.
    @discardableResult
    static func move(_ order: Order, to status: OrderStatus, context: OperationContext) throws -> [Order] {
        let members = order.isCombined ? try OrderStore.subOrders(context.db, of: order.id) : []
        let deadline = status == .pendingPayment
            ? context.now + (([order] + members).map { context.configuration.payDeadline(forKind: $0.productKind) }.min() ?? 0)
            : nil
        var written: [Order] = []
        for var member in [order] + members {
            try member.transition(to: status)
            member.payDeadline = deadline
            try OrderStore.update(context.db, member)
            written.append(member)
        }
        try context.emit("order.status_changed", account: order.accountID, subject: order.id,
                         data: ["from": .string(order.status.rawValue), "to": .string(status.rawValue), "pay_deadline": JSONValue(deadline)])
        return written
    }

    /// Cancels an order and, for a combined order, all its sub-orders. Nothing was paid, so
    /// nothing is refunded. Returns the orders as written, as `move` does.
    @discardableResult
    static func cancel(_ order: Order, reason: CancelReason, note: String?, context: OperationContext) throws -> [Order] {
        let members = order.isCombined ? try OrderStore.subOrders(context.db, of: order.id) : []
        var written: [Order] = []
        for var member in [order] + members {
            try member.transition(to: .cancelled)
            member.cancelledAt = context.now
            member.cancelReason = reason.rawValue
            try OrderStore.update(context.db, member)
            try ResourceStore.close(context.db, order: member.id)
            written.append(member)
        }
        try context.emit("order.cancelled", account: order.accountID, subject: order.id,
                         data: ["reason": .string(reason.rawValue), "note": JSONValue(note),
                                "from": .string(order.status.rawValue)])
        return written
    }

    /// Cancels the orders waiting on resources (T13): conversion, release, deletion.
    static func cancelOpenOrders(of resources: [String], reason: CancelReason, context: OperationContext) throws {
        for id in resources {
            guard let orderID = try ResourceStore.openOrder(context.db, of: id) else { continue }
            guard let account = try OrderStore.owner(context.db, orderID) else { continue }
            let order = try OrderStore.require(context.db, account.1 ?? orderID, account: account.0)
            if [.pendingPayment, .pendingReview, .pendingConfirmation].contains(order.status) {
                try cancel(order, reason: reason, note: nil, context: context)
            }
        }
    }

    /// Moves a processing order to COMPLETED once none of its resources waits for provisioning
    /// (T14), and a combined order once all its sub-orders are completed.
    static func completeIfSettled(_ orderID: String, account: String, context: OperationContext) throws {
        var order = try OrderStore.require(context.db, orderID, account: account)
        guard order.status == .processing else { return }
        let pending = try ResourceStore.ofOrder(context.db, order.id).contains { $0.status == .pendingProvision }
        guard !pending else { return }
        try order.transition(to: .completed)
        order.completedAt = context.now
        try OrderStore.update(context.db, order)
        try context.emit("order.completed", account: account, subject: order.id)
        guard let combinedID = order.combinedID, var combined = try OrderStore.load(context.db, combinedID, account: account),
              combined.status == .processing else { return }
        if try OrderStore.subOrders(context.db, of: combinedID).allSatisfy({ $0.status == .completed }) {
            try combined.transition(to: .completed)
            combined.completedAt = context.now
            try OrderStore.update(context.db, combined)
            try context.emit("order.completed", account: account, subject: combinedID)
        }
    }

    /// `completeIfSettled` for an order at hand whose resources are all at hand (a NEW order
    /// just provisioned: `resources` are the ones it created): the order is not read again.
    /// Returns the orders it moved to COMPLETED, as written.
    static func completeIfSettled(_ order: Order, resources: [Resource], context: OperationContext) throws -> [Order] {
        var order = order
        guard order.status == .processing, !resources.contains(where: { $0.status == .pendingProvision }) else { return [] }
        try order.transition(to: .completed)
        order.completedAt = context.now
        try OrderStore.update(context.db, order)
        try context.emit("order.completed", account: order.accountID, subject: order.id)
        guard let combinedID = order.combinedID, var combined = try OrderStore.load(context.db, combinedID, account: order.accountID),
              combined.status == .processing else { return [order] }
        guard try OrderStore.subOrders(context.db, of: combinedID).allSatisfy({ $0.status == .completed }) else { return [order] }
        try combined.transition(to: .completed)
        combined.completedAt = context.now
        try OrderStore.update(context.db, combined)
        try context.emit("order.completed", account: order.accountID, subject: combinedID)
        return [order, combined]
    }

    /// Scheduler job: cancels orders whose payment deadline (T12) or confirmation validity (T9)
    /// has passed, oldest deadline first, at most `limit`. Returns how many it cancelled and
    /// whether more are due.
    static func cancelOverdueOrders(limit: Int64, context: OperationContext) throws -> (cancelled: Int64, more: Bool) {
        let due = try OrderStore.overdue(context.db, at: context.now, limit: limit)
        for (id, account) in due.rows {
            let order = try OrderStore.require(context.db, id, account: account)
            try cancel(order, reason: order.status == .pendingPayment ? .paymentExpired : .confirmationExpired, note: nil, context: context)
        }
        return (Int64(due.rows.count), due.more)
    }
}
