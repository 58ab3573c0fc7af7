import BillingDomain
import BillingDocuments
import BillingStorage

/// What an unsubscription stored (its decision detail and refund shares), read back by the
/// order query as well as by the unsubscription itself.
enum UnsubscriptionRecords {
    /// The stored detail of an unsubscription order, nil when it has none (a failed creation,
    /// T15). A detail that cannot be read back as a JSON object is a storage error naming the
    /// order, never taken for an empty one.
    static func refundDetail(of order: String, context: OperationContext) throws -> [String: JSONValue]? {
        try RefundStore.detail(context.db, order: order)
    }

    /// The resources an unsubscription's stored detail names (the group's members); a list
    /// that is not one of ids is a storage error naming the order.
    static func resourceIDs(inRefundDetail detail: [String: JSONValue], order: String) throws -> [String] {
        guard case .array(let list)? = detail["resource_ids"] else {
            throw StoredValue.unreadable("resource ids in the refund detail of order \(order)", "not a list")
        }
        return try list.map { value in
            guard case .string(let id) = value else {
                throw StoredValue.unreadable("resource ids in the refund detail of order \(order)", "not a list of ids")
            }
            return id
        }
    }

    /// The resources an UNSUBSCRIBE order gives money back for, each once: those its
    /// unsubscription named (a zero refund included), then any other its refund shares name
    /// (a failed creation, T15, has no stored detail).
    static func unsubscribedResourceIDs(of order: String, context: OperationContext) throws -> [String] {
        var ids: [String] = []
        if let detail = try refundDetail(of: order, context: context) {
            ids = try resourceIDs(inRefundDetail: detail, order: order)
        }
        for id in try RefundStore.resourceIDs(context.db, refundOrder: order) where !ids.contains(id) {
            ids.append(id)
        }
        return ids
    }
}
