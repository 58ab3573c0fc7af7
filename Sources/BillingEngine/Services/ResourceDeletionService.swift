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
        try perform("resource.delete", requestJSON, parse: { reader in
            (try reader.string("account_id", maxLength: 64), try Engine.resourceIDs(reader, maximum: 200))
        }, apply: { context, input in
            let account = try AccountStore.require(context.db, input.0)
            guard account.freeze != .police else {
                throw BillingError.refused("police_frozen", "the account is frozen by public security; resources cannot be deleted")
            }
            var deleted: [JSONValue] = []
            for id in input.1 {
                let resource = try ResourceStore.require(context.db, id, account: input.0)
                guard resource.billingMode == .onDemand else {
                    throw BillingError.refused("not_pay_per_use", "resource \(id) is \(resource.billingMode.rawValue); only pay-per-use resources are deleted (release or unsubscribe the others)")
                }
                guard resource.relation != .bound else {
                    throw BillingError.refused("not_primary", "resource \(id) is deleted with its primary \(resource.primaryID ?? "")")
                }
                guard [.inUse, .expired, .frozen].contains(resource.status) else {
                    throw BillingError.refused("not_deletable", "resource \(id) is \(resource.status.rawValue); only live pay-per-use resources can be deleted")
                }
                let group = [resource] + (try ResourceStore.liveBound(context.db, to: id))
                if let police = group.first(where: { $0.freezeReason == .police }) {
                    throw BillingError.refused("police_frozen", "resource \(police.id) is frozen by public security and cannot be deleted")
                }
                try Engine.cancelOpenOrders(of: group.map(\.id), reason: .resourceDeleted, context: context)
                for var member in group {
                    try member.transition(to: .deleted)
                    member.endedAt = context.now
                    member.graceEnd = nil
                    member.retentionEnd = nil
                    member.freezeReason = nil
                    member.nextAttemptAt = nil
                    member.dueAt = nil
                    try ResourceStore.update(context.db, member)
                    deleted.append(member.json(context.calendar))
                }
                try context.emit("resource.deleted", account: input.0, subject: id,
                                 data: ["deleted_at": .integer(context.now), "resource_ids": .array(group.map { .string($0.id) })])
            }
            context.audit(account: input.0, detail: ["resource_ids": .array(input.1.map { .string($0) })])
            return ["resources": .array(deleted)]
        })
    }
}
