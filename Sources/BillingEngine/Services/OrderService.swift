import BillingDomain
import BillingDocuments
import BillingStorage

/// One purchase item of a quote or order request.
struct PurchaseItem {
    var productID: String
    var period: Period?
    var quantity: Int64
    var effectiveAt: Int64?

    static let maximumItems = 50
    static let maximumQuantity: Int64 = 100

    static func read(_ reader: ObjectReader) throws -> [PurchaseItem] {
        guard let items = try reader.optionalArray("items", maxCount: maximumItems), !items.isEmpty else {
            throw BillingError.invalid("missing_field", "request.items must list 1–\(maximumItems) items")
        }
        return try items.enumerated().map { index, value in
            let item = try ObjectReader(value, path: "request.items[\(index)]")
            var period: Period?
            if let given = try item.optionalObject("period") {
                guard let unit = try given.optionalChoice("unit", PeriodUnit.allCases.map(\.rawValue)).flatMap(PeriodUnit.init) else {
                    throw BillingError.invalid("missing_field", "\(given.path).unit is required")
                }
                period = try Period(try given.int("count", in: 1...Period.maximumCount), unit)
                try given.finish()
            }
            let parsed = PurchaseItem(productID: try item.string("product_id", maxLength: 64), period: period,
                                      quantity: try item.optionalInt("quantity", in: 1...maximumQuantity) ?? 1,
                                      effectiveAt: try item.optionalInstant("effective_at"))
            try item.finish()
            return parsed
        }
    }
}

/// An item priced into its lines: the product's line and one line per bound product.
struct PricedItem {
    var lines: [OrderLine]
    var primary: Product
    var reviewRequired: Bool
}

extension Engine {
    /// Prices items for an account as of now (§3.7): checks each product is on sale and the
    /// period allowed, adds the products bound to it, applies the better of commercial and
    /// promotion discount per line.
    static func price(_ items: [PurchaseItem], account: Account, context: OperationContext) throws -> [PricedItem] {
        let modes = Set(try items.map { try ProductStore.require(context.db, $0.productID).billingMode == .onDemand })
        guard modes.count == 1 else {
            throw BillingError.refused("mixed_billing_modes", "pay-per-use products are bought apart from products that are paid for")
        }
        return try items.map { item in
            let product = try ProductStore.require(context.db, item.productID)
            var lines = [try line(for: product, item: item, lineNo: 1, parent: nil, account: account, context: context)]
            var review = product.reviewRequired
            for bound in product.boundProducts {
                let boundProduct = try ProductStore.require(context.db, bound)
                guard boundProduct.billingMode == product.billingMode else {
                    throw BillingError.refused("bound_mode_mismatch", "bound product \(bound) is not billed like \(product.id)")
                }
                lines.append(try line(for: boundProduct, item: item, lineNo: Int64(lines.count + 1), parent: 1, account: account, context: context))
                review = review || boundProduct.reviewRequired
            }
            return PricedItem(lines: lines, primary: product, reviewRequired: review)
        }
    }

    private static func line(for product: Product, item: PurchaseItem, lineNo: Int64, parent: Int64?, account: Account,
                             context: OperationContext) throws -> OrderLine {
        guard product.onSale else { throw BillingError.refused("product_off_sale", "product \(product.id) is not on sale") }
        var listPrice: Money
        switch product.billingMode {
        case .prepaid, .package:
            guard let period = item.period else {
                throw BillingError.invalid("missing_field", "product \(product.id) is bought for a period: give items[].period")
            }
            guard product.allowedPeriods.contains(period), let price = try product.price(for: period) else {
                throw BillingError.refused("period_not_allowed", "product \(product.id) cannot be bought for \(period)")
            }
            listPrice = price
        case .onDemand:
            guard item.period == nil else { throw BillingError.invalid("invalid_field", "pay-per-use product \(product.id) has no period") }
            listPrice = .zero
        case .oneOff:
            guard item.period == nil else { throw BillingError.invalid("invalid_field", "one-off product \(product.id) has no period") }
            listPrice = product.oneOffPrice ?? .zero
        }
        if let effective = item.effectiveAt {
            guard product.billingMode == .package else {
                throw BillingError.invalid("invalid_field", "only packages take an effective_at")
            }
            guard effective >= context.now else {
                throw BillingError.invalid("out_of_range", "effective_at must not be in the past")
            }
        }
        listPrice = try listPrice.multiplied(by: item.quantity)
        let commercial = try ProductStore.commercialDiscount(context.db, account: account.id, productType: product.productType)
        return OrderLine(orderID: "", lineNo: lineNo, productID: product.id, productType: product.productType,
                         billingMode: product.billingMode, region: product.region,
                         period: product.billingMode == .prepaid || product.billingMode == .package ? item.period : nil,
                         quantity: item.quantity, parentLine: parent, relation: parent == nil ? nil : .bound,
                         effectiveAt: item.effectiveAt, product: product.json,
                         amounts: try Pricing.line(listPrice: listPrice, commercialBP: commercial, promotionBP: product.promotionDiscountBP))
    }

    /// Prices a purchase without creating anything: `{"account_id", "items": [{"product_id",
    /// "period"?: {"unit", "count"}, "quantity"?, "effective_at"?}]}` → `{"items": [{"lines"}],
    /// "amounts"}`. An order made from the same items carries exactly these amounts.
    public func quote(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: { reader in (try reader.string("account_id", maxLength: 64), try PurchaseItem.read(reader)) }) { context, input in
            let account = try AccountStore.require(context.db, input.0)
            let priced = try Engine.price(input.1, account: account, context: context)
            let amounts = try OrderAmounts.total(priced.flatMap { $0.lines.map(\.amounts) })
            return ["account_id": .string(account.id),
                    "items": .array(try priced.map { ["product_id": .string($0.primary.id), "lines": .array(try $0.lines.map { try $0.json }),
                                                      "amounts": try OrderAmounts.total($0.lines.map(\.amounts)).json] }),
                    "amounts": try amounts.json, "priced_at": .integer(context.now)]
        }
    }

    /// Creates an order from items (see `quote`), plus `"actor"`, `"auto_pay"?` with
    /// `"coupon_ids"?`, `"placed_by_manager"?` with `"contract"?`, and
    /// `"expected_amount_due_fen"?` (refused as `price_changed` when the price moved since the
    /// quote). One item makes a plain order, several make a combined order with one sub-order
    /// each. Prepaid products and packages start pending payment (T1), pending review (T2) or
    /// pending confirmation (T3); with `auto_pay` a successful payment moves on to processing
    /// (T4) and a failed one leaves the order pending payment (T5). Pay-per-use products are
    /// provisioned at once: their order starts processing with nothing to pay.
    public func createOrder(_ requestJSON: String?) throws -> String {
        struct Input {
            var account: String
            var items: [PurchaseItem]
            var autoPay: Bool
            var coupons: [String]
            var manager: Bool
            var contract: String?
            var expected: Money?
        }
        return try perform("order.create", requestJSON, parse: { reader in
            let input = Input(account: try reader.string("account_id", maxLength: 64), items: try PurchaseItem.read(reader),
                              autoPay: try reader.optionalBool("auto_pay") ?? false, coupons: try Engine.couponIDs(reader),
                              manager: try reader.optionalBool("placed_by_manager") ?? false,
                              contract: try reader.optionalString("contract", maxLength: 200),
                              expected: try reader.optionalMoney("expected_amount_due_fen"))
            if !input.coupons.isEmpty && !input.autoPay {
                throw BillingError.invalid("invalid_field", "coupon_ids are used when paying; give them with auto_pay or to billing_order_pay")
            }
            if input.autoPay && input.manager {
                throw BillingError.invalid("invalid_field", "an order placed by an account manager waits for the customer; it cannot be paid at once")
            }
            return input
        }, apply: { context, input in
            let account = try AccountStore.require(context.db, input.account)
            let priced = try Engine.price(input.items, account: account, context: context)
            let total = try OrderAmounts.total(priced.flatMap { $0.lines.map(\.amounts) })
            if let expected = input.expected, try expected != total.amountDue {
                throw BillingError.refused("price_changed", "the amount due is now \(try total.amountDue), not the quoted \(expected); quote again")
            }
            let onDemand = priced.first?.primary.billingMode == .onDemand
            let review = priced.contains { $0.reviewRequired }
            if input.autoPay && review {
                throw BillingError.refused("review_required", "this order needs a review before it can be paid; create it without auto_pay")
            }
            let status: OrderStatus = onDemand ? .processing : input.manager ? .pendingConfirmation
                : review ? .pendingReview : .pendingPayment
            let kinds = priced.map { $0.primary.kind }
            let deadline = kinds.map { context.configuration.payDeadline(forKind: $0) }.min() ?? 0
            let payDeadline = status == .pendingPayment || status == .pendingConfirmation ? context.now + deadline : nil

            func makeOrder(_ id: String, combined: String?, isCombined: Bool, item: PricedItem?, amounts: OrderAmounts) -> Order {
                Order(id: id, accountID: account.id, combinedID: combined, isCombined: isCombined, type: .new, status: status,
                      productType: item?.primary.productType ?? (priced.first?.primary.productType ?? ""),
                      billingMode: item?.primary.billingMode.rawValue ?? (priced.first?.primary.billingMode.rawValue ?? ""),
                      productKind: item?.primary.kind ?? (kinds.first ?? "default"), createdAt: context.now,
                      payDeadline: payDeadline, paidAt: nil, completedAt: nil, cancelledAt: nil, cancelReason: nil,
                      reviewRequired: review, placedByManager: input.manager, contract: input.contract,
                      sourceOrderID: nil, amounts: amounts)
            }
            let root: Order
            if priced.count == 1, let item = priced.first {
                let sequence = try IdentifierSequence.next(context.db, "order")
                root = makeOrder(IdentifierSequence.format("CS", sequence), combined: nil, isCombined: false, item: item, amounts: total)
                try OrderStore.insert(context.db, root, sequence: sequence)
                for var line in item.lines {
                    line.orderID = root.id
                    try OrderStore.insertLine(context.db, line)
                }
            } else {
                let sequence = try IdentifierSequence.next(context.db, "order")
                root = makeOrder(IdentifierSequence.format("CS", sequence), combined: nil, isCombined: true, item: nil, amounts: total)
                try OrderStore.insert(context.db, root, sequence: sequence)
                for item in priced {
                    let subSequence = try IdentifierSequence.next(context.db, "order")
                    let sub = makeOrder(IdentifierSequence.format("CS", subSequence), combined: root.id, isCombined: false, item: item,
                                        amounts: try OrderAmounts.total(item.lines.map(\.amounts)))
                    try OrderStore.insert(context.db, sub, sequence: subSequence)
                    for var line in item.lines {
                        line.orderID = sub.id
                        try OrderStore.insertLine(context.db, line)
                    }
                }
            }
            try context.emit("order.created", account: account.id, subject: root.id,
                             data: ["status": .string(status.rawValue), "amount_due_fen": .integer(try total.amountDue.fen)])
            var payment: JSONValue = .null
            if onDemand {
                try Engine.createResources(for: root, context: context)
            } else if input.autoPay {
                do {
                    let plan = try Engine.planPayment(root, coupons: input.coupons, context: context)
                    try Engine.applyPayment(plan, context: context)
                    payment = ["succeeded": true]
                } catch let error as BillingError where error.status == .refused || error.status == .notFound {
                    // T5: the order stays pending payment; the host shows why.
                    payment = ["succeeded": false, "reason": .string(error.reason), "message": .string(error.message)]
                    try context.emit("order.payment_failed", account: account.id, subject: root.id,
                                     data: ["reason": .string(error.reason)])
                }
            }
            context.audit(account: account.id, subject: root.id,
                          detail: ["items": .integer(Int64(priced.count)), "amount_due_fen": .integer(try total.amountDue.fen),
                                   "status": .string(status.rawValue)])
            var response = try Engine.orderDetail(root.id, account: account.id, context: context)
            if case .object(var fields) = response {
                fields["payment"] = payment
                response = .object(fields)
            }
            return response
        })
    }

    /// Reads `coupon_ids` (at most 10 listed; the configured maximum is checked at payment).
    static func couponIDs(_ reader: ObjectReader) throws -> [String] {
        try reader.optionalIdentifiers("coupon_ids", maxCount: 10) ?? []
    }
}
