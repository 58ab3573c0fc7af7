import BillingDomain
import BillingDocuments
import BillingStorage

/// The document of one order (§3.7) that every operation returning an order answers with:
/// the order details query, creation, payment, renewal, review and unsubscription.
extension Engine {
    static func orderDetail(_ id: String, account: String, context: OperationContext) throws -> JSONValue {
        let order = try OrderStore.require(context.db, id, account: account)
        guard case .object(var fields) = try order.json else { return try order.json }
        let subOrders = order.isCombined ? try OrderStore.subOrders(context.db, of: order.id) : []
        let members = order.isCombined ? subOrders : [order]
        fields["sub_orders"] = .array(try subOrders.map { try $0.json })
        var lineDocuments: [JSONValue] = []
        var resources: [JSONValue] = []
        var payments: [String: Money] = [:]
        for member in members {
            let lines = try OrderStore.lines(context.db, of: member.id)
            for line in lines {
                guard case .object(var lineFields) = try line.json else { continue }
                lineFields["order_id"] = .string(member.id)
                lineDocuments.append(.object(lineFields))
            }
            // A NEW order's resources were created by it; a RENEW (or PREPAID_TO_ONDEMAND)
            // order's are the existing ones its lines name; an UNSUBSCRIBE order's are the
            // ones it gives money back for.
            var owned = try ResourceStore.ofOrder(context.db, member.id)
            let named = member.type == .unsubscribe ? try UnsubscriptionRecords.unsubscribedResourceIDs(of: member.id, context: context)
                                                    : lines.compactMap(\.resourceID)
            for id in named where !owned.contains(where: { $0.id == id }) {
                owned.append(try ResourceStore.require(context.db, id, account: account))
            }
            for resource in owned {
                resources.append(resource.json(context.calendar))
                for funding in try ResourceStore.funding(context.db, resource: resource.id, order: member.id) {
                    let key = "\(funding.source.rawValue)|\(funding.coupon ?? "")"
                    payments[key] = try (payments[key] ?? .zero).adding(funding.amount)
                }
            }
        }
        fields["lines"] = .array(lineDocuments)
        fields["resources"] = .array(resources)
        fields["payments"] = .array(payments.keys.sorted().map { key in
            let parts = key.split(separator: "|", omittingEmptySubsequences: false)
            return ["source": .string(String(parts[0])), "coupon_id": parts.count > 1 && !parts[1].isEmpty ? .string(String(parts[1])) : .null,
                    "amount_fen": .integer(payments[key]?.fen ?? 0)]
        })
        if order.type == .unsubscribe {
            // A combined unsubscription's shares are recorded on its sub-orders.
            var refunds: [JSONValue] = []
            for member in members {
                refunds += try RefundStore.sortedEntries(context.db, refundOrder: member.id).map { share -> JSONValue in
                    ["resource_id": .string(share.resource), "paid_by_order_id": .string(share.paidBy), "source": .string(share.source.rawValue),
                     "coupon_id": JSONValue(share.coupon), "amount_fen": .integer(share.amount.fen)]
                }
            }
            fields["refunds"] = .array(refunds)
        }
        return ["order": .object(fields)]
    }
}
