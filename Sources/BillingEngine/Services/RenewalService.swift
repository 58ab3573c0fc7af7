import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// Refuses renewal of a resource for the first reason of §4.3 / §9.2 that applies.
    /// An auto-renewal already enabled keeps working when the product goes off sale (§4.5).
    static func checkRenewable(_ resource: Resource, account: Account, product: Product?, automatic: Bool = false,
                               context: OperationContext) throws {
        guard resource.relation != .bound else {
            throw BillingError.refused("not_primary", "resource \(resource.id) is bound to \(resource.primaryID ?? ""); renew that one and it comes along")
        }
        guard resource.billingMode == .prepaid else {
            throw BillingError.refused("not_prepaid", "resource \(resource.id) is \(resource.billingMode.rawValue); only yearly/monthly resources are renewed")
        }
        guard [.inUse, .expired, .frozen].contains(resource.status), resource.expireAt != nil else {
            throw BillingError.refused("not_renewable_status", "resource \(resource.id) is \(resource.status.rawValue) and cannot be renewed")
        }
        guard account.realnameVerified else {
            throw BillingError.refused("not_realname_verified", "only real-name verified customers can renew")
        }
        if let order = try ResourceStore.openOrder(context.db, of: resource.id) {
            throw BillingError.refused("pending_order_exists", "resource \(resource.id) has order \(order) waiting; pay or cancel it first")
        }
        guard resource.policy != .toOnDemand else {
            throw BillingError.refused("converting_to_on_demand", "resource \(resource.id) converts to pay-per-use at expiry and cannot be renewed")
        }
        guard product != nil && (automatic || product?.onSale == true) else {
            throw BillingError.refused("product_off_sale", "product \(resource.productID) is no longer sold and cannot be renewed")
        }
        if try ResourceStore.bound(context.db, to: resource.id).contains(where: { $0.status == .pendingProvision }) {
            throw BillingError.refused("supplements_provisioning", "resources bound to \(resource.id) are still being provisioned")
        }
    }

    /// The default renewal length for products renewed together (§2.2): 1 year when every one
    /// offers it, else the shortest length they all offer.
    static func defaultRenewalPeriod(_ products: [Product]) -> Period? {
        guard var common = products.first.map({ Set($0.allowedPeriods) }) else { return nil }
        for product in products.dropFirst() { common.formIntersection(product.allowedPeriods) }
        if let year = try? Period(1, .year), common.contains(year) { return year }
        return common.min { $0.months < $1.months }
    }

    /// The lines renewing a primary resource for `period` from `oldExpiry` make: one for the
    /// primary and one per live bound resource, each priced by its product's price for the
    /// period (stretched pro rata to a unified day), less the account's commercial discount or
    /// the product's promotion (§2.2, §4.3, §4.4). The one pricing of a renewal line: the
    /// renewal order, hence `billing_renewal_quote` and renew + pay, and the renewal-price
    /// export all use it, so the price a list shows is what renewing charges.
    static func renewalLines(_ primary: Resource, product: Product, from oldExpiry: Int64, period: Period, unifiedDay: Int64?,
                             account: Account, context: OperationContext) throws -> [OrderLine] {
        var lines: [OrderLine] = []
        for member in [primary] + (try ResourceStore.liveBound(context.db, to: primary.id)) {
            let memberProduct = member.id == primary.id ? product : try ProductStore.require(context.db, member.productID)
            guard memberProduct.allowedPeriods.contains(period), var price = try memberProduct.price(for: period) else {
                throw BillingError.refused("period_not_allowed", "product \(memberProduct.id) cannot be renewed for \(period)")
            }
            let anchor = member.anchorDay ?? .day(context.calendar.date(of: oldExpiry).day)
            var renewTo = try context.calendar.expiry(startingAt: oldExpiry, period: period, anchor: anchor)
            var anchorAfter = anchor
            if let unifiedDay {
                guard let monthly = memberProduct.monthlyPrice else {
                    throw BillingError.refused("no_monthly_price", "product \(memberProduct.id) has no monthly price to price the extra days")
                }
                let unified = RenewalRules.unifiedExpiry(normalEnd: renewTo, unifiedDay: unifiedDay, calendar: context.calendar)
                price = try RenewalRules.unifiedPrice(periodPrice: price, monthlyPrice: monthly, extraDays: unified.extraDays,
                                                      monthLength: unified.monthLength)
                renewTo = unified.expiry
                anchorAfter = AnchorDay(code: unifiedDay) ?? anchor
            }
            let commercial = try ProductStore.commercialDiscount(context.db, account: account.id, productType: memberProduct.productType)
            var line = OrderLine(orderID: "", lineNo: Int64(lines.count + 1), productID: memberProduct.id,
                                 productType: memberProduct.productType, billingMode: .prepaid, region: member.region,
                                 period: period, quantity: 1, parentLine: member.id == primary.id ? nil : 1,
                                 relation: member.id == primary.id ? nil : .bound, effectiveAt: nil, product: memberProduct.json,
                                 amounts: try Pricing.line(listPrice: price, commercialBP: commercial,
                                                           promotionBP: memberProduct.promotionDiscountBP))
            line.resourceID = member.id
            line.renewFrom = oldExpiry
            line.renewTo = renewTo
            line.anchorAfter = anchorAfter.code
            lines.append(line)
        }
        return lines
    }

    /// Creates a renewal order for primary resources: one sub-order per primary (a combined
    /// order for several), each with a line for the primary and one per bound resource, all
    /// for the same period, starting at the current expiry whatever the status (§4.2). With a
    /// unified day the period is stretched to it and the extra days priced pro rata (§4.4).
    /// The order is marked open on every resource it renews.
    static func createRenewalOrder(_ primaries: [Resource], period: Period, unifiedDay: Int64?, account: Account,
                                   automatic: Bool = false, context: OperationContext) throws -> Order {
        var items: [(Resource, [OrderLine], Product)] = []
        for primary in primaries {
            let product = try ProductStore.load(context.db, primary.productID)
            try checkRenewable(primary, account: account, product: product, automatic: automatic, context: context)
            guard let product, let oldExpiry = primary.expireAt else { continue }
            if unifiedDay != nil && primary.status != .inUse {
                throw BillingError.refused("unified_requires_in_use", "a unified expiry day applies to unexpired resources only")
            }
            // §4.4: the unified expiry day serves the manual and auto-renew tabs only.
            if unifiedDay != nil && primary.policy != .manual && primary.policy != .autoRenew {
                throw BillingError.refused("unified_requires_renewal_policy",
                                           "resource \(primary.id) is \(primary.expiryPolicy); a unified expiry day applies to MANUAL and AUTO_RENEW resources only")
            }
            let lines = try renewalLines(primary, product: product, from: oldExpiry, period: period, unifiedDay: unifiedDay,
                                         account: account, context: context)
            items.append((primary, lines, product))
        }
        let deadline = context.now + context.configuration.payDeadline(forKind: items.first?.2.kind ?? "default")
        func makeOrder(_ sequence: Int64, combined: String?, isCombined: Bool, product: Product, amounts: OrderAmounts) -> Order {
            Order(id: IdentifierSequence.format("CS", sequence), accountID: account.id, combinedID: combined, isCombined: isCombined,
                  type: .renew, status: .pendingPayment, productType: product.productType, billingMode: BillingMode.prepaid.rawValue,
                  productKind: product.kind, createdAt: context.now, payDeadline: deadline, paidAt: nil, completedAt: nil,
                  cancelledAt: nil, cancelReason: nil, reviewRequired: false, placedByManager: false, contract: nil,
                  sourceOrderID: nil, amounts: amounts)
        }
        guard let first = items.first else { throw BillingError.invalid("missing_field", "no resource to renew") }
        let total = try OrderAmounts.total(items.flatMap { $0.1.map(\.amounts) })
        let rootSequence = try IdentifierSequence.next(context.db, "order")
        let root = makeOrder(rootSequence, combined: nil, isCombined: items.count > 1, product: first.2, amounts: total)
        try OrderStore.insert(context.db, root, sequence: rootSequence)
        for (_, lines, product) in items {
            var order = root
            if items.count > 1 {
                let sequence = try IdentifierSequence.next(context.db, "order")
                order = makeOrder(sequence, combined: root.id, isCombined: false, product: product,
                                  amounts: try OrderAmounts.total(lines.map(\.amounts)))
                try OrderStore.insert(context.db, order, sequence: sequence)
            }
            for var line in lines {
                line.orderID = order.id
                try OrderStore.insertLine(context.db, line)
                if let resource = line.resourceID { try ResourceStore.open(context.db, order: order.id, on: resource) }
            }
        }
        try context.emit("order.created", account: account.id, subject: root.id,
                         data: ["type": "RENEW", "amount_due_fen": .integer(try total.amountDue.fen)])
        return root
    }

    /// Applies a paid renewal order: each resource gets its new period from the old expiry,
    /// comes back into use if it was expired or frozen, and its reminders and auto-renew
    /// schedule restart from the new expiry. Renewals need no provisioning: the order completes.
    static func applyRenewal(_ root: Order, parts: [String: [PaymentPart]], context: OperationContext) throws {
        let orders = root.isCombined ? try OrderStore.subOrders(context.db, of: root.id) : [root]
        for var order in orders {
            for line in try OrderStore.lines(context.db, of: order.id) {
                guard let id = line.resourceID, let from = line.renewFrom, let to = line.renewTo else { continue }
                var resource = try ResourceStore.require(context.db, id, account: order.accountID)
                guard resource.expireAt == from, [.inUse, .expired, .frozen].contains(resource.status) else {
                    throw BillingError.refused("stale_renewal", "resource \(id) changed since order \(order.id) was made; cancel it and renew again")
                }
                for part in parts["\(order.id)#\(line.lineNo)"] ?? [] {
                    guard let source = part.source else { continue }
                    try ResourceStore.fund(context.db, resource: id, order: order.id, source: source, coupon: part.couponID, amount: part.amount)
                }
                try ResourceStore.addPeriod(context.db, resource: id, order: order.id, start: from, end: to)
                resource.expireAt = to
                resource.anchorDay = line.anchorAfter.flatMap(AnchorDay.init(code:)) ?? resource.anchorDay
                if resource.status != .inUse {
                    try resource.transition(to: .inUse)
                    resource.graceEnd = nil
                    resource.retentionEnd = nil
                    resource.freezeReason = nil
                }
                try restartSchedule(&resource, context: context)
                try ResourceStore.update(context.db, resource)
                try context.emit("resource.renewed", account: order.accountID, subject: id,
                                 data: ["order_id": .string(order.id), "from": .integer(from), "expire_at": .integer(to)])
            }
            try order.transition(to: .completed)
            order.completedAt = context.now
            try OrderStore.update(context.db, order)
            try ResourceStore.close(context.db, order: order.id)
            try context.emit("order.completed", account: order.accountID, subject: order.id)
        }
        if root.isCombined, var combined = try OrderStore.load(context.db, root.id, account: root.accountID) {
            try combined.transition(to: .completed)
            combined.completedAt = context.now
            try OrderStore.update(context.db, combined)
            try ResourceStore.close(context.db, order: combined.id)
            try context.emit("order.completed", account: root.accountID, subject: root.id)
        }
    }

    /// Renews primary resources by hand (§4.3): `{"actor", "account_id", "resource_ids": [1–max_batch_renew
    /// primary ids], "period"?: {"unit", "count"} (default per §2.2), "unified_expiry"?: bool
    /// (stretch to the account's unified expiry day), "auto_pay"?, "coupon_ids"?}`. Creates a
    /// RENEW order (a combined order for several resources) pending payment, or pays it at once
    /// with auto_pay. Bound resources are renewed with their primary. The auto-renew setting is
    /// left as it is.
    public func renewResources(_ requestJSON: String?) throws -> String {
        struct Input { var account: String; var ids: [String]; var period: Period?; var unified: Bool; var autoPay: Bool; var coupons: [String] }
        return try perform("resource.renew", requestJSON, parse: { reader in
            Input(account: try reader.string("account_id", maxLength: 64), ids: try Engine.resourceIDs(reader, maximum: Int(Configuration.maxBatchRenewLimit)),
                  period: try Engine.period(reader, "period"), unified: try reader.optionalBool("unified_expiry") ?? false,
                  autoPay: try reader.optionalBool("auto_pay") ?? false, coupons: try Engine.couponIDs(reader))
        }, apply: { context, input in
            let (order, period) = try Engine.createManualRenewal(account: input.account, ids: input.ids, period: input.period,
                                                                 unified: input.unified, context: context)
            var payment: JSONValue = .null
            if input.autoPay {
                do {
                    try context.db.savepoint {
                        try Engine.applyPayment(try Engine.planPayment(order, coupons: input.coupons, context: context), context: context)
                    }
                    payment = ["succeeded": true]
                } catch let error as BillingError where error.status == .refused || error.status == .notFound {
                    payment = ["succeeded": false, "reason": .string(error.reason), "message": .string(error.message)]
                }
            }
            context.audit(account: input.account, subject: order.id,
                          detail: ["resource_ids": .array(input.ids.map { .string($0) }), "period": .string(period.description),
                                   "unified_expiry": .bool(input.unified)])
            guard case .object(var fields) = try Engine.orderDetail(order.id, account: input.account, context: context) else { return .null }
            fields["payment"] = payment
            return .object(fields)
        })
    }

    /// The RENEW order a customer's renewal request makes (§4.3, §4.4): the checks of each
    /// resource, the default length when none is given, the unified day when asked. Shared by
    /// `billing_resources_renew` and `billing_renewal_quote`, so a quote prices what a renewal makes.
    static func createManualRenewal(account id: String, ids: [String], period requested: Period?, unified: Bool,
                                    context: OperationContext) throws -> (order: Order, period: Period) {
        guard ids.count <= Int(context.configuration.maxBatchRenew) else {
            throw BillingError.invalid("too_many_items", "at most \(context.configuration.maxBatchRenew) resources can be renewed in one call")
        }
        let account = try AccountStore.require(context.db, id)
        let resources = try ids.map { try ResourceStore.require(context.db, $0, account: id) }
        let products = try resources.map { try ProductStore.require(context.db, $0.productID) }
        for (resource, product) in zip(resources, products) {
            try Engine.checkRenewable(resource, account: account, product: product, context: context)
        }
        guard let period = requested ?? Engine.defaultRenewalPeriod(products) else {
            throw BillingError.refused("period_not_allowed", "these resources have no renewal length in common")
        }
        let unifiedDay = unified ? (account.unifiedExpiryDay ?? context.configuration.defaultUnifiedExpiryDay) : nil
        let order = try Engine.createRenewalOrder(resources, period: period, unifiedDay: unifiedDay, account: account, context: context)
        return (order, period)
    }

    /// Reads a list of resource ids.
    static func resourceIDs(_ reader: ObjectReader, maximum: Int) throws -> [String] {
        guard let ids = try reader.optionalIdentifiers("resource_ids", maxCount: maximum), !ids.isEmpty else {
            throw BillingError.invalid("missing_field", "request.resource_ids must list 1–\(maximum) resources")
        }
        guard Set(ids).count == ids.count else { throw BillingError.invalid("duplicate_resource", "a resource is listed twice") }
        return ids
    }

    /// Reads an optional `{"unit", "count"}` period.
    static func period(_ reader: ObjectReader, _ key: String) throws -> Period? {
        guard let given = try reader.optionalObject(key) else { return nil }
        guard let unit = try given.optionalChoice("unit", PeriodUnit.allCases.map(\.rawValue)).flatMap(PeriodUnit.init) else {
            throw BillingError.invalid("missing_field", "\(given.path).unit is required")
        }
        let period = try Period(try given.int("count", in: 1...Period.maximumCount), unit)
        try given.finish()
        return period
    }
}
