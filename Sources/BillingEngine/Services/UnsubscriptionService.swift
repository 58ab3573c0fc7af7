import BillingDomain
import BillingDocuments
import BillingStorage
import BillingSecurity

/// What an unsubscription does to one group (a primary and what goes with it).
struct RefundGroup {
    var primary: Resource
    var members: [Resource]
    var refundClass: RefundClass
    var reason: NotRefundableReason?
    var message: String?
    /// The five-day quota unit it uses (a bound group, or a whole order for products not
    /// refundable per resource), when it is a five-day refund that needs a new unit.
    var quotaUnit: String?
    var entries: [RefundEntry] = []
    var detail: [String: JSONValue] = [:]
    var fallbackExpiry: Int64?

    var refund: Money {
        get throws { try Money.sum(entries.map(\.amount)) }
    }
}

/// A whole unsubscription request, computed and not yet applied.
struct RefundPlan {
    var type: String
    var groups: [RefundGroup]
    var year: Int64
    var quotaUsedBefore: Int64
    var quotaLimit: Int64

    var total: Money {
        get throws { try groups.reduce(Money.zero) { try $0.adding($1.refund) } }
    }
}

extension Engine {
    /// Works out the refund of each requested resource (§5, decision table §9.1) without
    /// writing anything.
    static func planRefund(account accountID: String, resourceIDs: [String], type: String, fallback: Int64?,
                           context: OperationContext) throws -> RefundPlan {
        let account = try AccountStore.require(context.db, accountID)
        let year = context.calendar.date(of: context.now).year
        let used = try FiveDayUnitStore.used(context.db, account: accountID, year: year)
        var plan = RefundPlan(type: type, groups: [], year: year, quotaUsedBefore: used, quotaLimit: context.configuration.fiveDayQuotaPerYear)
        var quotaLeft = max(0, plan.quotaLimit - used)
        var planned: Set<String> = []
        for id in resourceIDs {
            let resource = try ResourceStore.require(context.db, id, account: accountID)
            guard !planned.contains(id) else { continue }
            let product = try ProductStore.require(context.db, resource.productID)
            var members = [resource]
            if resource.relation != .bound {
                members += try ResourceStore.liveBound(context.db, to: id)
                if !product.perResourceRefund {
                    // Not refundable per resource: the order's resources of this product go together.
                    members += try ResourceStore.ofOrder(context.db, resource.orderID)
                        .filter { $0.id != id && $0.productID == resource.productID && $0.relation != .bound && !planned.contains($0.id) }
                }
            }
            planned.formUnion(members.map(\.id))
            var group = RefundGroup(primary: resource, members: members, refundClass: .notAllowed, reason: nil, message: nil)
            let facts = try refundFacts(resource, product: product, account: account, requested: resourceIDs, type: type,
                                        quotaLeft: quotaLeft, year: year, context: context)
            let decision = RefundClassification.classify(facts)
            group.refundClass = decision.refundClass
            group.reason = decision.reason
            group.message = decision.message
            if decision.usesNewQuotaUnit {
                quotaLeft -= 1
                group.quotaUnit = fiveDayUnit(resource, product: product)
            }
            if decision.fiveDayQuotaExhausted { group.detail["five_day_quota_exhausted"] = true }
            try computeEntries(&group, fallback: fallback, context: context)
            plan.groups.append(group)
        }
        return plan
    }

    /// The five-day quota unit of a resource (§5.3): the resource (its bound group counts once),
    /// or the whole order for products not refundable per resource.
    static func fiveDayUnit(_ resource: Resource, product: Product) -> String {
        product.perResourceRefund ? resource.id : "order:\(resource.orderID)"
    }

    /// Reads what the §9.1 classification of one requested resource depends on.
    static func refundFacts(_ resource: Resource, product: Product, account: Account, requested: [String], type: String,
                            quotaLeft: Int64, year: Int64, context: OperationContext) throws -> RefundFacts {
        let line = try OrderStore.lines(context.db, of: resource.orderID).first { $0.lineNo == resource.lineNo }
        let orderType = try OrderStore.type(context.db, resource.orderID)
        let unit = fiveDayUnit(resource, product: product)
        let counted = try FiveDayUnitStore.contains(context.db, account: resource.accountID, year: year, unit: unit)
        let boundTo = resource.relation == .bound ? resource.primaryID.flatMap { requested.contains($0) ? nil : $0 } : nil
        return RefundFacts(
            resourceID: resource.id, productID: product.id, requestType: UnsubscriptionType(rawValue: type) ?? .resource,
            status: resource.status, billingMode: resource.billingMode, boundToUnrequestedPrimary: boundTo, trial: product.trial,
            free: line.map { $0.amounts.listPrice.fen == 0 } ?? false,
            openOrder: try ResourceStore.openOrder(context.db, of: resource.id),
            frozenForExpiry: resource.freezeReason == .expiry,
            policeFrozen: account.freeze == .police || resource.freezeReason == .police,
            promotionForbidsRefund: product.promotionForbidsRefund && (line?.amounts.promotionDiscount.fen ?? 0) > 0,
            hostBlocks: resource.refundBlocks.compactMap(NotRefundableReason.init(rawValue:)),
            productRefundable: product.refundable,
            hasInactivePeriod: try ResourceStore.periods(context.db, of: resource.id).contains { $0.start > context.now },
            purchaseOrderType: orderType, provisionedAt: resource.provisionedAt, now: context.now,
            fiveDayWindowHours: context.configuration.fiveDayRefundHours, productFiveDayEligible: product.fiveDayEligible,
            quotaUnitCounted: counted, quotaLeft: quotaLeft)
    }

    /// What a classified group gives back (§5.3–§5.7): nothing for a refusal or a failed
    /// creation (refunded when it failed), everything for INACTIVE and FIVE_DAY, the removed
    /// periods for RENEWAL_ONLY, and the formula for the current period of NON_FIVE_DAY.
    static func computeEntries(_ group: inout RefundGroup, fallback: Int64?, context: OperationContext) throws {
        let resource = group.primary
        switch group.refundClass {
        case .notAllowed:
            return
        case .failedCreation:
            group.detail["note"] = "refunded in full when the creation failed"
        case .inactive, .fiveDay:
            for member in group.members { try refundInFull(member, periods: nil, into: &group, context: context) }
        case .renewalOnly:
            let periods = try ResourceStore.periods(context.db, of: resource.id)
            let kept = periods.filter { $0.start <= context.now }
            let allowed = kept.map(\.end) + periods.filter { $0.start > context.now }.map(\.end)
            let target = fallback ?? kept.last?.end ?? resource.expireAt ?? 0
            guard allowed.contains(target), target < (resource.expireAt ?? 0) else {
                throw BillingError.invalid("invalid_fallback_expiry",
                                           "fallback_expiry must be the end of a period that stays: one of \(allowed.dropLast().map(String.init).joined(separator: ", "))")
            }
            group.fallbackExpiry = target
            for member in group.members {
                let removed = try ResourceStore.periods(context.db, of: member.id).filter { $0.start >= target }
                try refundInFull(member, periods: removed, into: &group, context: context)
            }
        case .nonFiveDay:
            for member in group.members {
                let periods = try ResourceStore.periods(context.db, of: member.id)
                try refundInFull(member, periods: periods.filter { $0.start > context.now }, into: &group, context: context)
                if let current = periods.last(where: { $0.start <= context.now }), current.end >= context.now {
                    try refundByFormula(member, period: current, into: &group, context: context)
                }
            }
        }
    }

    /// Everything paid for the given periods (all when nil) goes back, vouchers included
    /// (§5.3–§5.6: no consumption, no fee).
    static func refundInFull(_ resource: Resource, periods: [(order: String, start: Int64, end: Int64)]?, into group: inout RefundGroup,
                             context: OperationContext) throws {
        let covered = try periods ?? ResourceStore.periods(context.db, of: resource.id)
        let orders = covered.map(\.order)
        let paying = orders.isEmpty && periods == nil ? [resource.orderID] : orders
        var lines: [JSONValue] = []
        for order in paying {
            let funding = try ResourceStore.funding(context.db, resource: resource.id, order: order)
            for part in funding {
                group.entries.append(RefundEntry(resource: resource.id, paidBy: order, source: part.source, coupon: part.coupon, amount: part.amount))
            }
            let period = covered.first { $0.order == order }
            let paid = try Money.sum(funding.filter { $0.source.isPaidMoney }.map(\.amount))
            let returned = try Money.sum(funding.map(\.amount))
            // The fields of a FORMULA period, so that every period has the same shape: nothing is
            // consumed and no fee is kept; units are null because no duration is counted (a
            // resource that never started has no period, so start and end are null too). The
            // refund is everything paid, vouchers included, as the resource's refund_fen counts it.
            lines.append(["resource_id": .string(resource.id), "paid_by_order_id": .string(order), "method": "FULL",
                          "start": JSONValue(period?.start), "end": JSONValue(period?.end),
                          "paid": fundingJSON(funding), "paid_amount_fen": .integer(paid.fen),
                          "total_units": .null, "used_units": .null, "consumed_fen": .integer(0),
                          "fee_rate_bp": .integer(0), "fee_bracket": .null, "fee_fen": .integer(0),
                          "refund_fen": .integer(returned.fen), "refund": fundingJSON(funding), "forfeited": .array([])])
        }
        appendPeriods(lines, to: &group)
    }

    /// The current period by the formula of §5.7: paid money less consumption and fee, split
    /// over the paid sources by largest remainder; vouchers are forfeited.
    static func refundByFormula(_ resource: Resource, period: (order: String, start: Int64, end: Int64), into group: inout RefundGroup,
                                context: OperationContext) throws {
        let funding = try ResourceStore.funding(context.db, resource: resource.id, order: period.order)
        let paidParts = funding.filter { $0.source.isPaidMoney }
        let paid = try Money.sum(paidParts.map(\.amount))
        let calendar = context.calendar
        let startHour = calendar.floorToHour(period.start)
        let units = context.configuration.refundDurationGranularity == "DAY"
            ? RefundRules.days(start: period.start, expiry: period.end, at: context.now, calendar: calendar)
            : RefundRules.hours(start: period.start, expiry: period.end, at: context.now, calendar: calendar)
        // The term of the line that paid the period: the purchase line, or the renewal line naming the resource.
        let line = try OrderStore.lineTerm(context.db, order: period.order, lineNo: period.order == resource.orderID ? resource.lineNo : nil,
                                           resource: resource.id)
        let term = try Period(max(1, line?.1 ?? 1), line?.0 ?? .month)
        let fee = try RefundRules.feeRate(term: term, start: startHour, usedEnd: calendar.floorToHour(context.now),
                                          configuration: context.configuration, calendar: calendar)
        let computation = try RefundRules.compute(paid: paid, totalUnits: units.total, usedUnits: units.used, feeRateBP: fee.rate, bracket: fee.bracket)
        let refunds = try RefundRules.split(computation.refund, over: paidParts.map(\.amount))
        var refundJSON: [JSONValue] = []
        for (part, amount) in zip(paidParts, refunds) {
            group.entries.append(RefundEntry(resource: resource.id, paidBy: period.order, source: part.source, coupon: part.coupon, amount: amount))
            refundJSON.append(["source": .string(part.source.rawValue), "coupon_id": JSONValue(part.coupon), "amount_fen": .integer(amount.fen)])
        }
        let forfeited = funding.filter { !$0.source.isPaidMoney }
        // The fee kept is what is left after consumption; it equals the computed fee unless the
        // refund was floored at zero, so refund + consumed + fee = paid always holds, in total
        // and per source: consumption is spread over what each source has left after its refund.
        let keptFee = try paid.subtracting(computation.consumed).subtracting(computation.refund)
        let left = try zip(paidParts, refunds).map { try $0.0.amount.subtracting($0.1) }
        let consumedParts = try computation.consumed.allocated(byWeights: left.map(\.fen))
        var bySource: [JSONValue] = []
        for index in paidParts.indices {
            bySource.append(["source": .string(paidParts[index].source.rawValue), "coupon_id": JSONValue(paidParts[index].coupon),
                             "paid_fen": .integer(paidParts[index].amount.fen), "refund_fen": .integer(refunds[index].fen),
                             "consumed_fen": .integer(consumedParts[index].fen),
                             "fee_fen": .integer(try left[index].subtracting(consumedParts[index]).fen)])
        }
        appendPeriods([[
            "resource_id": .string(resource.id), "paid_by_order_id": .string(period.order), "method": "FORMULA",
            "start": .integer(period.start), "end": .integer(period.end), "paid": fundingJSON(funding),
            "paid_amount_fen": .integer(paid.fen), "duration_unit": .string(context.configuration.refundDurationGranularity),
            "total_units": .integer(units.total), "used_units": .integer(units.used), "consumed_fen": .integer(computation.consumed.fen),
            "fee_rate_bp": .integer(fee.rate), "fee_bracket": .integer(fee.bracket), "fee_fen": .integer(keptFee.fen),
            "refund_fen": .integer(computation.refund.fen), "refund": .array(refundJSON), "forfeited": fundingJSON(forfeited),
            "by_source": .array(bySource),
        ]], to: &group)
    }

    private static func fundingJSON(_ funding: [(source: FundingSource, coupon: String?, amount: Money)]) -> JSONValue {
        .array(funding.map { ["source": .string($0.source.rawValue), "coupon_id": JSONValue($0.coupon), "amount_fen": .integer($0.amount.fen)] })
    }

    private static func appendPeriods(_ lines: [JSONValue], to group: inout RefundGroup) {
        if case .array(let existing)? = group.detail["periods"] {
            group.detail["periods"] = .array(existing + lines)
        } else {
            group.detail["periods"] = .array(lines)
        }
    }

    /// The plan as the quote shows it; its digest identifies the state it was computed on.
    static func planDocument(_ plan: RefundPlan, context: OperationContext) throws -> JSONValue {
        let groups: [JSONValue] = try plan.groups.map { group in
            var fields = group.detail
            fields["resource_id"] = .string(group.primary.id)
            fields["resource_ids"] = .array(group.members.map { .string($0.id) })
            fields["class"] = .string(group.refundClass.rawValue)
            fields["reason"] = JSONValue(group.reason?.rawValue)
            fields["message"] = JSONValue(group.message)
            fields["five_day_quota_unit"] = JSONValue(group.quotaUnit)
            fields["fallback_expiry"] = JSONValue(group.fallbackExpiry)
            var bySource: [String: Money] = [:]
            var returned = Money.zero
            var voided = Money.zero
            for entry in group.entries {
                bySource[entry.source.rawValue] = try (bySource[entry.source.rawValue] ?? .zero).adding(entry.amount)
                if let coupon = entry.coupon {
                    let validTo = try CouponStore.validTo(context.db, coupon) ?? 0
                    if context.now < validTo { returned = try returned.adding(entry.amount) } else { voided = try voided.adding(entry.amount) }
                }
            }
            fields["refund_by_source"] = .object(bySource.mapValues { .integer($0.fen) })
            fields["refund_fen"] = .integer(try group.refund.fen)
            // Coupon money that does not come back: vouchers of a period refunded by the
            // formula, and coupons that expired before the refund (returned void).
            var formulaForfeits = Money.zero
            if case .array(let periods)? = group.detail["periods"] {
                for case .object(let period) in periods {
                    guard case .array(let lost)? = period["forfeited"] else { continue }
                    for case .object(let part) in lost {
                        if case .integer(let amount)? = part["amount_fen"] { formulaForfeits = try formulaForfeits.adding(Money(fen: amount)) }
                    }
                }
            }
            fields["coupons_returned_fen"] = .integer(returned.fen)
            fields["coupons_forfeited_fen"] = .integer(try voided.adding(formulaForfeits).fen)
            return .object(fields)
        }
        let newUnits = Int64(plan.groups.filter { $0.quotaUnit != nil }.count)
        var document: [String: JSONValue] = [
            "type": .string(plan.type), "resources": .array(groups),
            "total_refund_fen": .integer(try plan.total.fen),
            "review_required": .bool(try plan.total > context.configuration.largeRefundThreshold),
            "five_day_quota": ["year": .integer(plan.year), "limit": .integer(plan.quotaLimit),
                               "used_before": .integer(plan.quotaUsedBefore), "used_after": .integer(plan.quotaUsedBefore + newUnits)],
            "refundable": .bool(plan.groups.allSatisfy { $0.refundClass != .notAllowed && $0.refundClass != .failedCreation }),
        ]
        // The digest covers the figures, not the moment: a quote stays good while they do (the
        // formula moves by whole hours).
        document["quote_id"] = .string(Secrets.tokenDigest(JSONValue.object(document).text))
        document["computed_at"] = .integer(context.now)
        return .object(document)
    }

    /// Reads the request shared by quote and execution.
    static func refundRequest(_ reader: ObjectReader) throws -> (account: String, ids: [String], type: String, fallback: Int64?) {
        let account = try reader.string("account_id", maxLength: 64)
        let ids = try resourceIDs(reader, maximum: 100)
        let type = try reader.optionalChoice("type", ["RESOURCE", "RENEWAL_ONLY"]) ?? "RESOURCE"
        let fallback = try reader.optionalInstant("fallback_expiry")
        if fallback != nil && type != "RENEWAL_ONLY" {
            throw BillingError.invalid("invalid_field", "fallback_expiry goes with type RENEWAL_ONLY")
        }
        return (account, ids, type, fallback)
    }

    /// Quotes an unsubscription: `{"account_id", "resource_ids", "type"?: "RESOURCE" |
    /// "RENEWAL_ONLY", "fallback_expiry"?}` → the class of each resource and its full breakdown,
    /// with a `quote_id` naming the state it was computed on.
    public func quoteRefund(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: Engine.refundRequest) { context, input in
            let plan = try Engine.planRefund(account: input.account, resourceIDs: input.ids, type: input.type, fallback: input.fallback, context: context)
            return try Engine.planDocument(plan, context: context)
        }
    }

    /// Unsubscribes: the quote request plus `"actor"`, `"quote_id"`? (refused as `quote_stale`
    /// unless the execution reproduces that quote exactly), `"reason_type"`? 1–5, `"reason"`?.
    /// All or nothing: any resource that cannot be refunded refuses the request. One UNSUBSCRIBE
    /// order per group (a combined order for several): above the large-refund threshold it waits
    /// for review (U2), else it is refunded and completed at once (U1, U5).
    public func unsubscribe(_ requestJSON: String?) throws -> String {
        try perform("resource.unsubscribe", requestJSON, parse: { reader in
            (try Engine.refundRequest(reader), try reader.optionalString("quote_id", maxLength: 64),
             try reader.optionalInt("reason_type", in: 1...5), try reader.optionalString("reason", maxLength: 500))
        }, apply: { context, input in
            let (request, quoteID, reasonType, reason) = input
            let plan = try Engine.planRefund(account: request.account, resourceIDs: request.ids, type: request.type,
                                             fallback: request.fallback, context: context)
            let document = try Engine.planDocument(plan, context: context)
            if let quoteID, case .object(let fields) = document, fields["quote_id"] != .string(quoteID) {
                throw BillingError.refused("quote_stale", "the refund changed since the quote (time passed or the resource changed); quote again")
            }
            for group in plan.groups where group.refundClass == .notAllowed || group.refundClass == .failedCreation {
                let why = group.refundClass == .failedCreation ? "already_refunded" : (group.reason?.rawValue ?? "")
                throw BillingError.refused(group.refundClass == .failedCreation ? "already_refunded" : "not_refundable",
                                           "resource \(group.primary.id) cannot be unsubscribed: \(why) \(group.message ?? "")")
            }
            let review = try plan.total > context.configuration.largeRefundThreshold
            let status: OrderStatus = review ? .pendingReview : .refunding
            var root: Order?
            if plan.groups.count > 1 {
                root = try Engine.createRefundOrder(plan.groups.flatMap(\.entries), account: request.account, sourceOrder: nil, combined: nil,
                                                    isCombined: true, productType: plan.groups[0].primary.productType,
                                                    billingMode: BillingMode.prepaid.rawValue, status: status, context: context)
            }
            var orders: [Order] = []
            for group in plan.groups {
                let order = try Engine.createRefundOrder(group.entries, account: request.account, sourceOrder: group.primary.orderID,
                                                         combined: root?.id, productType: group.primary.productType,
                                                         billingMode: BillingMode.prepaid.rawValue, status: status, context: context)
                try Engine.reserveRefund(group.entries, order: order.id, context: context)
                var detail = group.detail
                detail["class"] = .string(group.refundClass.rawValue)
                detail["type"] = .string(request.type)
                detail["resource_ids"] = .array(group.members.map { .string($0.id) })
                detail["fallback_expiry"] = JSONValue(group.fallbackExpiry)
                detail["five_day_quota_unit"] = JSONValue(group.quotaUnit)
                detail["reason_type"] = JSONValue(reasonType)
                detail["reason"] = JSONValue(reason)
                try RefundStore.saveDetail(context.db, order: order.id, primary: group.primary.id, .object(detail))
                if review {
                    for member in group.members { try ResourceStore.open(context.db, order: order.id, on: member.id) }
                } else {
                    try Engine.completeUnsubscription(order, context: context)
                }
                orders.append(order)
            }
            if var completed = root, !review {
                // The combined order follows its sub-orders, each refunded and completed above (U5).
                try completed.transition(to: .completed)
                completed.completedAt = context.now
                try OrderStore.update(context.db, completed)
            }
            let top = root ?? orders[0]
            let total = try plan.total
            try context.emit(review ? "order.refund_review_required" : "order.refunded", account: request.account, subject: top.id,
                             data: ["total_refund_fen": .integer(total.fen), "type": .string(request.type)])
            context.audit(account: request.account, subject: top.id,
                          detail: ["resource_ids": .array(request.ids.map { .string($0) }), "type": .string(request.type),
                                   "total_refund_fen": .integer(total.fen), "review": .bool(review)])
            guard case .object(var fields) = try Engine.orderDetail(top.id, account: request.account, context: context) else { return .null }
            fields["quote"] = Engine.stamped(document)
            return .object(fields)
        })
    }

    /// Applies an unsubscription order (at once, or on approval): money back, the five-day unit,
    /// and the resources ended (or their later periods removed).
    static func completeUnsubscription(_ order: Order, context: OperationContext) throws {
        // Every unsubscription order is written with its detail: one missing is a damaged file.
        guard let detail = try refundDetail(of: order.id, context: context) else {
            throw StoredValue.unreadable("refund detail of order \(order.id)", "it is missing")
        }
        let entries = try RefundStore.entries(context.db, refundOrder: order.id)
        let voided = try creditRefund(entries, account: order.accountID, order: order.id, context: context)
        if case .string(let unit)? = detail["five_day_quota_unit"] {
            try FiveDayUnitStore.use(context.db, account: order.accountID, year: context.calendar.date(of: context.now).year, unit: unit, order: order.id)
        }
        for id in try resourceIDs(inRefundDetail: detail, order: order.id) {
            var resource = try ResourceStore.require(context.db, id, account: order.accountID)
            if case .integer(let fallback)? = detail["fallback_expiry"] {
                try ResourceStore.refundPeriods(context.db, of: id, startingFrom: fallback)
                resource.expireAt = fallback
                try restartSchedule(&resource, context: context)
                try ResourceStore.update(context.db, resource)
                try context.emit("resource.renewal_unsubscribed", account: order.accountID, subject: id,
                                 data: ["order_id": .string(order.id), "expire_at": .integer(fallback)])
            } else {
                try ResourceStore.refundPeriods(context.db, of: id, endingAfter: context.now)
                try resource.transition(to: .unsubscribed)
                resource.endedAt = context.now
                resource.nextAttemptAt = nil
                resource.dueAt = nil
                try ResourceStore.update(context.db, resource)
                try context.emit("resource.unsubscribed", account: order.accountID, subject: id, data: ["order_id": .string(order.id)])
            }
        }
        var done = order
        try done.transition(to: .completed)
        done.completedAt = context.now
        try OrderStore.update(context.db, done)
        try ResourceStore.close(context.db, order: order.id)
        try context.emit("order.status_changed", account: order.accountID, subject: order.id,
                         data: ["from": "REFUNDING", "to": "COMPLETED", "coupons_voided_fen": .integer(voided.fen)])
    }

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

    /// Decides an unsubscription waiting for review (U3, U4): approval refunds and completes it,
    /// rejection cancels it and the resources stay in use.
    static func decideUnsubscription(_ order: Order, approve: Bool, context: OperationContext) throws {
        let members = order.isCombined ? try OrderStore.subOrders(context.db, of: order.id) : [order]
        for member in members {
            if approve {
                // U3 then U5 in this transaction: REFUNDING is never a resting status.
                var refunding = member
                try refunding.transition(to: .refunding)
                try OrderStore.update(context.db, refunding)
                try context.emit("order.status_changed", account: order.accountID, subject: member.id,
                                 data: ["from": "PENDING_REVIEW", "to": "REFUNDING"])
                try completeUnsubscription(refunding, context: context)
            } else {
                try RefundStore.release(context.db, refundOrder: member.id)
                try ResourceStore.close(context.db, order: member.id)
            }
        }
        if approve {
            if order.isCombined {
                var done = order
                try done.transition(to: .refunding)
                try OrderStore.update(context.db, done)
                try done.transition(to: .completed)
                done.completedAt = context.now
                try OrderStore.update(context.db, done)
            }
        } else {
            try cancel(order, reason: .reviewRejected, note: nil, context: context)
        }
    }
}

extension Engine {
    /// The host's refund blocks on a resource (§5.8 reasons the engine cannot see itself):
    /// `{"actor", "account_id", "resource_id", "blocks": [] or any of "INVOICED_MARKETPLACE",
    /// "ARCHIVED", "SUPPORT_BENEFIT_USED"}` replaces them.
    public func setRefundBlocks(_ requestJSON: String?) throws -> String {
        let allowed = [NotRefundableReason.invoicedMarketplace, .archived, .supportBenefitUsed].map(\.rawValue)
        return try perform("resource.refund_blocks", requestJSON, parse: { reader -> (String, String, [String]) in
            let account = try reader.string("account_id", maxLength: 64)
            let id = try reader.string("resource_id", maxLength: 64)
            guard let values = try reader.optionalArray("blocks", maxCount: 3) else {
                throw BillingError.invalid("missing_field", "request.blocks is required (an empty list clears them)")
            }
            let blocks = try values.enumerated().map { index, value -> String in
                guard case .string(let block) = value, allowed.contains(block) else {
                    throw BillingError.invalid("unknown_value", "request.blocks[\(index)] must be one of \(allowed.joined(separator: ", "))")
                }
                return block
            }
            return (account, id, Array(Set(blocks)).sorted())
        }, apply: { context, input in
            var resource = try ResourceStore.require(context.db, input.1, account: input.0)
            resource.refundBlocks = input.2
            try ResourceStore.update(context.db, resource)
            let blocks = JSONValue.array(input.2.map { .string($0) })
            try context.emit("resource.refund_blocks_set", account: input.0, subject: input.1, data: ["blocks": blocks])
            context.audit(account: input.0, subject: input.1, detail: ["blocks": blocks])
            return ["resource_id": .string(input.1), "blocks": blocks]
        })
    }
}
