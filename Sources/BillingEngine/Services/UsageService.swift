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
        try perform("usage.report", requestJSON, parse: UsageReportRequest.init) { context, input -> UsageReportResponse in
            let account = try AccountStore.require(context.db, input.accountID)
            let wasInArrears = account.arrears.fen > 0
            var results: [UsageResult] = []
            var charged = Money.zero
            var lookups = UsageLookups()
            for record in input.records {
                if let stored = try UsageStore.record(context.db, account: input.accountID, usageID: record.usageID) {
                    guard stored == record else {
                        throw BillingError(.usageIdReused, "usage id \(record.usageID) was already reported with other values")
                    }
                    results.append(.duplicate(usageID: record.usageID))
                    continue
                }
                let lines = try Engine.rate(record, account: input.accountID, context: context, lookups: &lookups)
                try UsageStore.insertRecord(context.db, record, account: input.accountID, at: context.now)
                charged = try charged.adding(Money.sum(lines.map(\.charge)))
                results.append(.rated(usageID: record.usageID, lines: lines))
            }
            let after = try AccountStore.require(context.db, input.accountID)
            if !wasInArrears && after.arrears.fen > 0 { try Engine.enterArrears(after, context: context) }
            context.audit(account: input.accountID, detail: ["records": .integer(Int64(input.records.count)), "charged_fen": .integer(charged.fen)])
            return UsageReportResponse(results: results, charged: charged, account: after, configuration: context.configuration)
        }
    }

    struct RatedSlot { var hour: Int64; var units: Int64; var covered: Int64; var overage: Int64; var charge: Money }

    /// The resources and products one usage call rates against, each read once per call: a
    /// call of 1,000 records over a few resources read and decoded the same rows for every
    /// record. Rating writes neither (lines, funding, packages' usage, the account and coupons
    /// are other tables), so within the call's transaction a row read once stays what it was.
    struct UsageLookups {
        private var resources: [String: Resource] = [:]
        private var products: [String: Product] = [:]

        mutating func ratedResource(_ id: String, account: String, db: Connection) throws -> Resource {
            if let resource = resources[id] { return resource }
            let resource = try ResourceStore.require(db, id, account: account)
            resources[id] = resource
            return resource
        }

        mutating func ratedProduct(_ id: String, db: Connection) throws -> Product {
            if let product = products[id] { return product }
            let product = try ProductStore.require(db, id)
            products[id] = product
            return product
        }
    }

    /// Rates one record into its hourly lines and pays the change of each line's charge.
    static func rate(_ record: UsageRecord, account: String, context: OperationContext, lookups: inout UsageLookups) throws -> [RatedSlot] {
        let resource = try lookups.ratedResource(record.resourceID, account: account, db: context.db)
        guard resource.billingMode == .onDemand else {
            throw BillingError.refused(.notPayPerUse, "resource \(resource.id) is \(resource.billingMode.rawValue); usage is rated for pay-per-use resources")
        }
        if resource.status == .deleted, let deletedAt = resource.endedAt {
            // Usage is settled late (§2.3): what ran before the deletion is still charged, nothing after it.
            guard record.end <= deletedAt else {
                throw BillingError.refused(.resourceDeleted, "resource \(resource.id) was deleted at \(deletedAt); usage \(record.usageID) ends at \(record.end), after the deletion, and is not rated")
            }
        } else if ![.inUse, .expired, .frozen].contains(resource.status) {
            throw BillingError.refused(.resourceNotInUse, "resource \(resource.id) is \(resource.status.rawValue)")
        }
        if let effective = resource.effectiveAt, record.start < effective {
            throw BillingError.invalid(.invalidWindow, "usage \(record.usageID) starts before resource \(resource.id) took effect")
        }
        let product = try lookups.ratedProduct(resource.productID, db: context.db)
        let perHour = product.unitPriceMicrofen == nil
        guard let price = product.unitPriceMicrofen ?? product.hourlyPriceMicrofen else {
            throw BillingError.refused(.noUsagePrice, "product \(product.id) has no pay-per-use price")
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
            ResourceSchedule.reschedule(&resource, context: context)
            try ResourceStore.update(context.db, resource)
        }
        try context.emit("account.arrears_started", account: account.id, subject: account.id,
                         data: ["arrears_fen": .integer(account.arrears.fen), "grace_end": .integer(graceEnd)])
    }

    /// Hourly usage lines, newest first: `{"account_id", "resource_id"?, "from"?, "to"?,
    /// "after"?, "limit"?}` → `{"lines": [{"resource_id", "hour_start", "units", "covered",
    /// "overage", "price_microfen", "charged_fen", "paid_by"}], "next_cursor", "has_more"}`.
    public func listUsage(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: UsageListRequest.init) { context, input -> UsagePageResponse in
            _ = try AccountStore.require(context.db, input.accountID)
            let rows = try UsageStore.lines(context.db, account: input.accountID, resource: input.resourceID, from: input.from, to: input.to,
                                            after: input.after.map { ($0.hour, $0.resource) }, limit: input.limit + 1)
            let page = rows.prefix(Int(input.limit))
            let lines = try page.map { line in
                ListedUsageLine(line: line, paidBy: try UsageStore.funding(context.db, resource: line.resource, hour: line.hour))
            }
            return UsagePageResponse(lines: lines, hasMore: rows.count > page.count)
        }
    }

    /// The account's packages with their quota now, in purchase order, a page at a time:
    /// `{"account_id", "after"?, "limit"?: 1–1000 (default 100)}` → `{"packages": [{"resource_id",
    /// "product_id", "status", "effective_at", "expire_at", "kind", "quota", "window_start", "used",
    /// "applies_to"}], "next_cursor", "has_more"}` (timed quotas in unit-seconds).
    public func listPackages(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: PackageListRequest.init) { context, input -> PackagePageResponse in
            let (page, account) = (input.page, input.accountID)
            _ = try AccountStore.require(context.db, account)
            let ids = try ResourceStore.packagePage(context.db, account: account, after: page.after, limit: page.limit + 1)
            let window = ids.prefix(Int(page.limit))
            let packages = try window.map { id, _ -> (resource: Resource, quota: PackageQuota?) in
                let package = try ResourceStore.require(context.db, id, account: account)
                guard let terms = try ProductStore.load(context.db, package.productID)?.package, let effective = package.effectiveAt else {
                    return (package, nil)
                }
                let quotaWindow = UsageRating.quotaWindow(effectiveAt: effective, instant: max(context.now, effective), terms: terms, calendar: context.calendar)
                let used = try PackageStore.used(context.db, package: id, window: quotaWindow)
                return (package, PackageQuota(terms: terms, windowStart: quotaWindow, used: used))
            }
            return PackagePageResponse(packages: packages, calendar: context.calendar, lastSequence: window.last?.1 ?? page.after,
                                       hasMore: ids.count > window.count)
        }
    }
}
