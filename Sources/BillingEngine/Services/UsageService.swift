import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// Rates pay-per-use usage (§2.3, §2.4): `{"actor", "account_id", "records": [{"usage_id",
    /// "resource_id", "quantity", "start", "end"}]}` (1–1000). Each usage id counts once per
    /// account: the same record again is skipped as a duplicate, a different record under a used
    /// id is refused. Timed usage is split into business hours and rated per second; counted
    /// usage (products with a unit price) is rated per unit in the hour of its end. Matching
    /// packages cover usage first (earliest expiry, then earliest effective, then earliest
    /// purchase); the rest is charged on the hourly line, rounded once per line, and paid in the
    /// order vouchers, cash coupons, stored-value cards, cash, credit; what no fund covers
    /// becomes arrears, which put the account's pay-per-use resources into grace.
    public func reportUsage(_ requestJSON: String?) throws -> String {
        try perform("usage.report", requestJSON, parse: { reader -> (String, [UsageRecord]) in
            let account = try reader.string("account_id", maxLength: 64)
            guard let values = try reader.optionalArray("records", maxCount: 1000), !values.isEmpty else {
                throw BillingError.invalid("missing_field", "request.records must list 1–1000 usage records")
            }
            let records = try values.enumerated().map { index, value -> UsageRecord in
                let item = try ObjectReader(value, path: "request.records[\(index)]")
                let record = UsageRecord(usageID: try item.string("usage_id", maxLength: 128), resourceID: try item.string("resource_id", maxLength: 64),
                                         quantity: try item.int("quantity", in: 0...100_000), start: try item.instant("start"), end: try item.instant("end"))
                try item.finish()
                guard record.end >= record.start, record.end - record.start <= 31 * 86_400 else {
                    throw BillingError.invalid("invalid_window", "\(item.path): end must not precede start, and a record spans at most 31 days")
                }
                return record
            }
            guard Set(records.map(\.usageID)).count == records.count else {
                throw BillingError.invalid("duplicate_usage", "a usage id is listed twice in one report")
            }
            return (account, records)
        }, apply: { context, input in
            let account = try AccountStore.require(context.db, input.0)
            let wasInArrears = account.arrears.fen > 0
            var results: [JSONValue] = []
            var charged = Money.zero
            for record in input.1 {
                if let stored = try UsageStore.record(context.db, account: input.0, usageID: record.usageID) {
                    guard stored == record else {
                        throw BillingError(.conflict, "usage_id_reused", "usage id \(record.usageID) was already reported with other values")
                    }
                    results.append(["usage_id": .string(record.usageID), "status": "DUPLICATE"])
                    continue
                }
                let lines = try Engine.rate(record, account: input.0, context: context)
                try UsageStore.insertRecord(context.db, record, account: input.0, at: context.now)
                charged = try charged.adding(Money.sum(lines.map(\.charge)))
                results.append(["usage_id": .string(record.usageID), "status": "RATED",
                                "lines": .array(lines.map { ["hour_start": .integer($0.hour), "units": .integer($0.units), "covered": .integer($0.covered),
                                                             "overage": .integer($0.overage), "charged_fen": .integer($0.charge.fen)] })])
            }
            let after = try AccountStore.require(context.db, input.0)
            if !wasInArrears && after.arrears.fen > 0 { try Engine.enterArrears(after, context: context) }
            context.audit(account: input.0, detail: ["records": .integer(Int64(input.1.count)), "charged_fen": .integer(charged.fen)])
            return ["results": .array(results), "charged_fen": .integer(charged.fen), "account": after.json(context.configuration)]
        })
    }

    struct RatedSlot { var hour: Int64; var units: Int64; var covered: Int64; var overage: Int64; var charge: Money }

    /// Rates one record into its hourly lines and pays the change of each line's charge.
    static func rate(_ record: UsageRecord, account: String, context: OperationContext) throws -> [RatedSlot] {
        let resource = try ResourceStore.require(context.db, record.resourceID, account: account)
        guard resource.billingMode == .onDemand else {
            throw BillingError.refused("not_pay_per_use", "resource \(resource.id) is \(resource.billingMode.rawValue); usage is rated for pay-per-use resources")
        }
        if resource.status == .deleted, let deletedAt = resource.endedAt {
            // Usage is settled late (§2.3): what ran before the deletion is still charged, nothing after it.
            guard record.end <= deletedAt else {
                throw BillingError.refused("resource_deleted", "resource \(resource.id) was deleted at \(deletedAt); usage \(record.usageID) ends at \(record.end), after the deletion, and is not rated")
            }
        } else if ![.inUse, .expired, .frozen].contains(resource.status) {
            throw BillingError.refused("resource_not_in_use", "resource \(resource.id) is \(resource.status.rawValue)")
        }
        if let effective = resource.effectiveAt, record.start < effective {
            throw BillingError.invalid("invalid_window", "usage \(record.usageID) starts before resource \(resource.id) took effect")
        }
        let product = try ProductStore.require(context.db, resource.productID)
        let perHour = product.unitPriceMicrofen == nil
        guard let price = product.unitPriceMicrofen ?? product.hourlyPriceMicrofen else {
            throw BillingError.refused("no_usage_price", "product \(product.id) has no pay-per-use price")
        }
        let slots = perHour ? UsageRating.hourSlots(start: record.start, end: record.end, calendar: context.calendar)
                            : [(hour: context.calendar.floorToHour(record.end), seconds: Int64(1))]
        var rated: [RatedSlot] = []
        for slot in slots where slot.seconds > 0 && record.quantity > 0 {
            let units = record.quantity * slot.seconds
            let covered = try coverFromPackages(record: record, resource: resource, product: product, hour: slot.hour, seconds: slot.seconds,
                                                perHour: perHour, context: context)
            let existing = try UsageStore.line(context.db, resource: resource.id, hour: slot.hour)
            let linePrice = existing?.priceMicrofen ?? price
            // The stored overage plus this record's: checked, as a value read from the file
            // must never trap the host.
            let (overage, overflow) = (existing?.overage ?? 0).addingReportingOverflow(units - covered)
            guard !overflow else { throw BillingError.overflow("the usage of resource \(resource.id) in the hour from \(slot.hour)") }
            let amount = try UsageRating.charge(units: overage, priceMicrofen: linePrice, perHour: perHour)
            let delta = try amount.subtracting(existing?.charged ?? .zero)
            if existing == nil {
                try UsageStore.insertLine(context.db, resource: resource.id, hour: slot.hour, account: account, units: units, covered: covered,
                                          overage: overage, priceMicrofen: linePrice, perHour: perHour, charged: amount)
            } else {
                try UsageStore.addToLine(context.db, resource: resource.id, hour: slot.hour, units: units, covered: covered, overage: overage, charged: amount)
            }
            if delta.fen > 0 { try payUsage(delta, resource: resource, hour: slot.hour, context: context) }
            rated.append(RatedSlot(hour: slot.hour, units: units, covered: covered, overage: units - covered, charge: delta))
        }
        return rated
    }

    /// Takes what matching packages cover of one hour of a record, in the order of §2.4.
    /// Coverage follows the usage's own time (§2.4), not the package's status now: a package
    /// the scheduler has since expired still covers usage of its valid hours reported late,
    /// and one whose start has come covers before the scheduler marks it in effect.
    static func coverFromPackages(record: UsageRecord, resource: Resource, product: Product, hour: Int64, seconds: Int64, perHour: Bool,
                                  context: OperationContext) throws -> Int64 {
        let instant = max(record.start, hour)
        var needed = record.quantity * seconds
        var covered: Int64 = 0
        let packages = try ResourceStore.packagesCovering(context.db, account: resource.accountID, at: instant)
        for id in packages where needed > 0 {
            let package = try ResourceStore.require(context.db, id, account: resource.accountID)
            guard let terms = try ProductStore.require(context.db, package.productID).package,
                  terms.appliesTo.contains(product.id) || terms.appliesTo.contains(product.productType),
                  package.region == nil || package.region == resource.region, let effective = package.effectiveAt else { continue }
            var take: Int64
            if terms.kind == "CAPACITY" {
                guard perHour else { continue }
                // Capacity covers up to `quota` units throughout the hour, shared by every
                // record that falls in it.
                let used = try PackageStore.coveredInHour(context.db, package: id, hour: hour)
                let free = max(0, terms.quota * 3600 - used)
                take = min(needed, min(terms.quota, record.quantity) * seconds, free)
            } else {
                let window = UsageRating.quotaWindow(effectiveAt: effective, instant: instant, terms: terms, calendar: context.calendar)
                let quota = perHour ? terms.quota * 3600 : terms.quota
                let used = try PackageStore.used(context.db, package: id, window: window)
                take = min(needed, max(0, quota - used))
                if take > 0 {
                    try PackageStore.addUsed(context.db, package: id, window: window, units: take)
                }
            }
            guard take > 0 else { continue }
            try PackageStore.deduct(context.db, package: id, resource: resource.id, hour: hour, units: take)
            needed -= take
            covered += take
        }
        return covered
    }

    /// Pays a usage charge in the order of §2.3 through `PaymentAllocation` (the allocation that
    /// pays orders): the coupons of `PaymentAllocation.usageCoupons` (vouchers, scoped ones first,
    /// then the soonest to expire; cash coupons; stored-value cards), cash, credit; the rest is
    /// arrears. Vouchers with a minimum spend are not applied to usage.
    static func payUsage(_ amount: Money, resource: Resource, hour: Int64, context: OperationContext) throws {
        var charge = OrderAmounts()
        charge.listPrice = amount
        let line = PayableLine(amounts: charge, productID: resource.productID, productType: resource.productType,
                               orderType: "", billingModeScope: "ON_DEMAND", region: resource.region)
        let coupons = PaymentAllocation.usageCoupons(try CouponStore.usable(context.db, account: resource.accountID, at: hour),
                                                     for: line, at: hour)
        let account = try AccountStore.require(context.db, resource.accountID)
        let result = try PaymentAllocation.allocate(lines: [line], coupons: coupons, availableCash: account.availableCash,
                                                    availableCredit: account.availableCredit, maximumCoupons: Int64.max, at: hour,
                                                    shortfall: .arrears)
        func record(_ source: FundingSource, _ coupon: String?, _ part: Money) throws {
            try UsageStore.fund(context.db, resource: resource.id, hour: hour, source: source, coupon: coupon, amount: part)
        }
        let reference = "\(resource.id)@\(hour)"
        for part in result.parts {
            guard let coupon = part.couponID, let source = part.source else { continue }
            try CouponStore.useForUsage(context.db, coupon: coupon, amount: part.amount, at: context.now)
            try record(source, coupon, part.amount)
        }
        let fromCredit = try Money.sum(result.parts.filter { $0.source == .credit }.map(\.amount))
        if fromCredit.fen > 0 {
            try AccountStore.post(context.db, account: account.id, fund: .credit, kind: "USAGE", amount: Money(fen: -fromCredit.fen),
                                  reference: reference, at: context.now)
            try record(.credit, nil, fromCredit)
        }
        let cash = try Money.sum(result.parts.filter { $0.source == .cash }.map(\.amount))
        if cash.fen > 0 {
            // Cash below zero is arrears, settled first by the next top-up (§6.1).
            try AccountStore.post(context.db, account: account.id, fund: .cash, kind: "USAGE", amount: Money(fen: -cash.fen),
                                  reference: reference, at: context.now)
            try record(.cash, nil, cash)
        }
    }

    /// The account fell into arrears: its pay-per-use resources keep working through their grace
    /// period, then freeze for retention, then are deleted (§4.2, §6.1).
    static func enterArrears(_ account: Account, context: OperationContext) throws {
        let days = context.configuration.graceRetention(for: account.level)
        let graceEnd = context.now + days.onDemandGraceDays * 86_400
        for id in try ResourceStore.onDemandInUse(context.db, account: account.id) {
            var resource = try ResourceStore.require(context.db, id, account: account.id)
            resource.graceEnd = graceEnd
            resource.retentionEnd = graceEnd + days.onDemandRetentionDays * 86_400
            reschedule(&resource, context: context)
            try ResourceStore.update(context.db, resource)
        }
        try context.emit("account.arrears_started", account: account.id, subject: account.id,
                         data: ["arrears_fen": .integer(account.arrears.fen), "grace_end": .integer(graceEnd)])
    }

    /// Arrears settled: pay-per-use resources in grace or frozen for arrears are back in use.
    static func leaveArrears(_ account: String, context: OperationContext) throws {
        for id in try ResourceStore.onDemandInArrears(context.db, account: account) {
            var resource = try ResourceStore.require(context.db, id, account: account)
            let wasFrozen = resource.status == .frozen
            try resource.transition(to: .inUse)
            resource.graceEnd = nil
            resource.retentionEnd = nil
            resource.freezeReason = nil
            reschedule(&resource, context: context)
            try ResourceStore.update(context.db, resource)
            if wasFrozen { try context.emit("resource.unfrozen", account: account, subject: id, data: ["reason": "ARREARS_SETTLED"]) }
        }
    }

    /// Hourly usage lines, newest first: `{"account_id", "resource_id"?, "from"?, "to"?,
    /// "after"?, "limit"?}` → `{"lines": [{"resource_id", "hour_start", "units", "covered",
    /// "overage", "price_microfen", "charged_fen", "paid_by"}], "next_cursor", "has_more"}`.
    public func listUsage(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: { reader -> (String, String?, Int64?, Int64?, (Int64, String)?, Int64) in
            let limit: Int64 = try reader.optionalInt("limit", in: 1...1000) ?? 100
            // The cursor is read with the request, so a bad one is refused as such whatever the account.
            let cursor = try reader.optionalString("after", maxLength: 80).map { text -> (Int64, String) in
                let parts = text.split(separator: "|")
                guard parts.count == 2, let hour = Int64(parts[0]) else {
                    throw BillingError.invalid("invalid_cursor", "request.after must be a cursor returned as next_cursor")
                }
                return (hour, String(parts[1]))
            }
            return (try reader.string("account_id", maxLength: 64), try reader.optionalString("resource_id", maxLength: 64),
                    try reader.optionalInstant("from"), try reader.optionalInstant("to"), cursor, limit)
        }) { context, input in
            _ = try AccountStore.require(context.db, input.0)
            let rows = try UsageStore.lines(context.db, account: input.0, resource: input.1, from: input.2, to: input.3, after: input.4,
                                            limit: input.5 + 1).map { line -> (String, Int64, JSONValue) in
                (line.resource, line.hour, ["resource_id": .string(line.resource), "hour_start": .integer(line.hour), "units": .integer(line.units),
                                            "covered": .integer(line.covered), "overage": .integer(line.overage), "price_microfen": .integer(line.priceMicrofen),
                                            "charged_fen": .integer(line.charged.fen), "unit": .string(line.perHour ? "UNIT_SECONDS" : "UNITS")])
            }
            let page = rows.prefix(Int(input.5))
            let lines: [JSONValue] = try page.map { row in
                guard case .object(var fields) = row.2 else { return row.2 }
                fields["paid_by"] = .array(try UsageStore.funding(context.db, resource: row.0, hour: row.1).map {
                    ["source": .string($0.source), "coupon_id": JSONValue($0.coupon), "amount_fen": .integer($0.amount.fen)]
                })
                return .object(fields)
            }
            return ["lines": .array(lines), "next_cursor": JSONValue(page.last.map { "\($0.1)|\($0.0)" }), "has_more": .bool(rows.count > page.count)]
        }
    }

    /// The account's packages with their quota now, in purchase order, a page at a time:
    /// `{"account_id", "after"?, "limit"?: 1–1000 (default 100)}` → `{"packages": [{"resource_id",
    /// "product_id", "status", "effective_at", "expire_at", "kind", "quota", "window_start", "used",
    /// "applies_to"}], "next_cursor", "has_more"}` (timed quotas in unit-seconds).
    public func listPackages(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: { reader -> PageRequest in
            let page = try PageRequest(reader)
            guard page.account != nil else { throw BillingError.invalid("missing_field", "request.account_id is required") }
            return page
        }) { context, page in
            let account = page.account ?? ""
            _ = try AccountStore.require(context.db, account)
            let ids = try ResourceStore.packagePage(context.db, account: account, after: page.after, limit: page.limit + 1)
            let window = ids.prefix(Int(page.limit))
            let packages: [JSONValue] = try window.map { id, _ in
                let package = try ResourceStore.require(context.db, id, account: account)
                guard case .object(var fields) = package.json(context.calendar) else { return .null }
                if let terms = try ProductStore.load(context.db, package.productID)?.package, let effective = package.effectiveAt {
                    let quotaWindow = UsageRating.quotaWindow(effectiveAt: effective, instant: max(context.now, effective), terms: terms, calendar: context.calendar)
                    let used = try PackageStore.used(context.db, package: id, window: quotaWindow)
                    fields["kind"] = .string(terms.kind)
                    fields["quota"] = .integer(terms.quota)
                    fields["window_start"] = .integer(quotaWindow)
                    fields["used"] = .integer(used)
                    fields["applies_to"] = .array(terms.appliesTo.map { .string($0) })
                }
                return .object(fields)
            }
            return ["packages": .array(packages), "next_cursor": .string(String(window.last?.1 ?? page.after)),
                    "has_more": .bool(ids.count > window.count)]
        }
    }
}
