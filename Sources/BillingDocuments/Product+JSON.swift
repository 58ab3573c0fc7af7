import BillingDomain

extension Product {
    /// The default allowed periods (§2.2 proposal): 1–9 months if there is a monthly price,
    /// 1–3 years if there is a yearly price.
    package var defaultPeriods: [Period] {
        (monthlyPrice == nil ? [] : (1...9).compactMap { try? Period(Int64($0), .month) })
            + (yearlyPrice == nil ? [] : (1...3).compactMap { try? Period(Int64($0), .year) })
    }

    /// Reads a product definition (requests and stored documents alike), checking that every
    /// allowed period has a price and every mode has the price it bills by.
    package init(_ reader: ObjectReader, updatedAt: Int64) throws {
        self.init()
        id = try reader.string("product_id", maxLength: 64)
        productType = try reader.string("product_type", maxLength: 64)
        kind = try reader.optionalString("kind", maxLength: 64) ?? "default"
        guard let mode = try reader.optionalChoice("billing_mode", BillingMode.allCases.map(\.rawValue)).flatMap(BillingMode.init) else {
            throw BillingError.invalid("missing_field", "\(reader.path).billing_mode is required")
        }
        billingMode = mode
        name = try reader.optionalString("name", maxLength: 200) ?? id
        region = try reader.optionalString("region", maxLength: 64)
        // Specs are free-form and kept as given (numbers exactly, or refused).
        specs = try reader.optionalDocument("specs") ?? .object([:])
        monthlyPrice = try reader.optionalMoney("monthly_price_fen")
        yearlyPrice = try reader.optionalMoney("yearly_price_fen")
        // Bounded so that an hour of usage (quantity ≤ 100,000 for 3,600 s) fits 64 bits.
        hourlyPriceMicrofen = try reader.optionalInt("hourly_price_microfen", in: 0...10_000_000_000)
        unitPriceMicrofen = try reader.optionalInt("unit_price_microfen", in: 0...10_000_000_000)
        if let terms = try reader.optionalObject("package") {
            let kind = try terms.optionalChoice("kind", ["AMOUNT", "CAPACITY"]) ?? "AMOUNT"
            let applies = try terms.optionalIdentifiers("applies_to", maxCount: 50) ?? []
            guard !applies.isEmpty else { throw BillingError.invalid("missing_field", "\(terms.path).applies_to must name what the package pays for") }
            package = PackageTerms(kind: kind, quota: try terms.int("quota", in: 1...1_000_000_000_000), appliesTo: applies,
                                   resettable: try terms.optionalBool("resettable") ?? false,
                                   resetAnchor: try terms.optionalChoice("reset_anchor", ["CALENDAR_MONTH", "PURCHASE_DAY"]) ?? "CALENDAR_MONTH")
            try terms.finish()
        }
        oneOffPrice = try reader.optionalMoney("one_off_price_fen")
        promotionDiscountBP = try reader.optionalInt("promotion_discount_bp", in: 0...9999)
        refundable = try reader.optionalBool("refundable") ?? true
        perResourceRefund = try reader.optionalBool("per_resource_refund") ?? true
        fiveDayEligible = try reader.optionalBool("five_day_eligible") ?? true
        autoRenewSupported = try reader.optionalBool("auto_renew_supported") ?? true
        toOnDemandSupported = try reader.optionalBool("to_on_demand_supported") ?? true
        onSale = try reader.optionalBool("on_sale") ?? true
        reviewRequired = try reader.optionalBool("review_required") ?? false
        trial = try reader.optionalBool("trial") ?? false
        promotionForbidsRefund = try reader.optionalBool("promotion_forbids_refund") ?? false
        boundProducts = try reader.optionalIdentifiers("bound_products", maxCount: 20) ?? []
        self.updatedAt = updatedAt
        if let periods = try reader.optionalArray("allowed_periods", maxCount: 50) {
            allowedPeriods = try periods.enumerated().map { index, value in
                let period = try ObjectReader(value, path: "\(reader.path).allowed_periods[\(index)]")
                let unit = try period.optionalChoice("unit", PeriodUnit.allCases.map(\.rawValue)).flatMap(PeriodUnit.init)
                guard let unit else { throw BillingError.invalid("missing_field", "\(period.path).unit is required") }
                let result = try Period(try period.int("count", in: 1...Period.maximumCount), unit)
                try period.finish()
                return result
            }
        } else {
            allowedPeriods = []
            if billingMode == .prepaid || billingMode == .package { allowedPeriods = defaultPeriods }
        }
        try check(path: reader.path)
    }

    private func check(path: String) throws {
        switch billingMode {
        case .prepaid, .package:
            if billingMode == .package && package == nil {
                throw BillingError.invalid("missing_field", "\(path).package is required for PACKAGE products")
            }
            guard !allowedPeriods.isEmpty else {
                throw BillingError.invalid("missing_field", "\(path).allowed_periods must list at least one period")
            }
            for period in allowedPeriods where try price(for: period) == nil {
                throw BillingError.invalid("missing_price",
                                           "\(path) allows \(period) but has no \(period.unit == .month ? "monthly_price_fen" : "yearly_price_fen")")
            }
        case .onDemand:
            guard hourlyPriceMicrofen != nil || unitPriceMicrofen != nil else {
                throw BillingError.invalid("missing_price", "\(path).hourly_price_microfen or unit_price_microfen is required for ON_DEMAND products")
            }
        case .oneOff:
            guard oneOffPrice != nil else {
                throw BillingError.invalid("missing_price", "\(path).one_off_price_fen is required for ONE_OFF products")
            }
        }
    }

    /// The product document (what `init(_:updatedAt:)` reads back).
    package var json: JSONValue {
        [
            "product_id": .string(id),
            "product_type": .string(productType),
            "kind": .string(kind),
            "billing_mode": .string(billingMode.rawValue),
            "name": .string(name),
            "region": JSONValue(region),
            "specs": specs,
            "allowed_periods": .array(allowedPeriods.map { ["unit": .string($0.unit.rawValue), "count": .integer($0.count)] }),
            "monthly_price_fen": JSONValue(monthlyPrice?.fen),
            "yearly_price_fen": JSONValue(yearlyPrice?.fen),
            "hourly_price_microfen": JSONValue(hourlyPriceMicrofen),
            "unit_price_microfen": JSONValue(unitPriceMicrofen),
            "package": package.map { ["kind": .string($0.kind), "quota": .integer($0.quota), "applies_to": .array($0.appliesTo.map { .string($0) }),
                                      "resettable": .bool($0.resettable), "reset_anchor": .string($0.resetAnchor)] } ?? .null,
            "one_off_price_fen": JSONValue(oneOffPrice?.fen),
            "promotion_discount_bp": JSONValue(promotionDiscountBP),
            "refundable": .bool(refundable),
            "per_resource_refund": .bool(perResourceRefund),
            "five_day_eligible": .bool(fiveDayEligible),
            "auto_renew_supported": .bool(autoRenewSupported),
            "to_on_demand_supported": .bool(toOnDemandSupported),
            "on_sale": .bool(onSale),
            "review_required": .bool(reviewRequired),
            "trial": .bool(trial),
            "promotion_forbids_refund": .bool(promotionForbidsRefund),
            "bound_products": .array(boundProducts.map { .string($0) }),
        ]
    }
}
