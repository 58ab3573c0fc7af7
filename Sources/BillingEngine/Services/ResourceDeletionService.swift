import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// The host deleted pay-per-use resources in its cloud (§2.3: billing ends at the deletion
    /// instant): `{"actor", "account_id", "resource_ids": [...]}`. Each resource (with its bound
    /// resources) becomes DELETED with `ended_at` = now: usage that ends by then is still rated
    /// when it is reported later, usage after it is refused ("resource_deleted"), and it leaves
    /// every list of live resources, arrears grace, freezing and release. Allowed in use, in
    /// arrears grace and frozen for arrears or a violation; refused under a police freeze
    /// (§4.7, §4.8). All or nothing. Emits `resource.deleted`.
    ///
    /// A call of its own rather than `billing_resources_release`: release is the customer's
    /// request on an expired or frozen prepaid resource (real-name verification, processing
    /// orders), while a deletion reports what the host already did to a pay-per-use resource in
    /// any live state, and keeps the resource rateable for the time before it.
    public func deleteResources(_ requestJSON: String?) throws -> String {
        try perform("resource.delete", requestJSON, parse: ResourceBatchRequest.init, apply: { context, input in
            let account = try AccountStore.require(context.db, input.accountID)
            guard account.freeze != .police else {
                throw BillingError.refused(.policeFrozen, "the account is frozen by public security; resources cannot be deleted")
            }
            var deleted: [Resource] = []
            for id in input.resourceIDs {
                let resource = try ResourceStore.require(context.db, id, account: input.accountID)
                guard resource.billingMode == .onDemand else {
                    throw BillingError.refused(.notPayPerUse, "resource \(id) is \(resource.billingMode.rawValue); only pay-per-use resources are deleted (release or unsubscribe the others)")
                }
                guard resource.relation != .bound else {
                    throw BillingError.refused(.notPrimary, "resource \(id) is deleted with its primary \(resource.primaryID ?? "")")
                }
                guard [.inUse, .expired, .frozen].contains(resource.status) else {
                    throw BillingError.refused(.notDeletable, "resource \(id) is \(resource.status.rawValue); only live pay-per-use resources can be deleted")
                }
                let group = [resource] + (try ResourceStore.liveBound(context.db, to: id))
                if let police = group.first(where: { $0.freezeReason == .police }) {
                    throw BillingError.refused(.policeFrozen, "resource \(police.id) is frozen by public security and cannot be deleted")
                }
                try OrderTransitions.cancelOpenOrders(of: group.map(\.id), reason: .resourceDeleted, context: context)
                for var member in group {
                    try member.transition(to: .deleted)
                    member.endedAt = context.now
                    member.graceEnd = nil
                    member.retentionEnd = nil
                    member.freezeReason = nil
                    member.nextAttemptAt = nil
                    member.dueAt = nil
                    try ResourceStore.update(context.db, member)
                    deleted.append(member)
                }
                try context.emit("resource.deleted", account: input.accountID, subject: id,
                                 data: ["deleted_at": .integer(context.now), "resource_ids": .array(group.map { .string($0.id) })])
            }
            context.audit(account: input.accountID, detail: ["resource_ids": .array(input.resourceIDs.map { .string($0) })])
            return ResourcesResponse(resources: deleted, calendar: context.calendar)
        })
    }
}
