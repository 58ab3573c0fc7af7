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
            throw BillingError.invalid(.missingField, "request.items must list 1–\(maximumItems) items")
        }
        return try items.enumerated().map { index, value in
            let item = try ObjectReader(value, path: "request.items[\(index)]")
            var period: Period?
            if let given = try item.optionalObject("period") {
                guard let unit = try given.optionalChoice("unit", PeriodUnit.allCases.map(\.rawValue)).flatMap(PeriodUnit.init) else {
                    throw BillingError.invalid(.missingField, "\(given.path).unit is required")
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
            throw BillingError.refused(.mixedBillingModes, "pay-per-use products are bought apart from products that are paid for")
        }
        return try items.map { item in
            let product = try ProductStore.require(context.db, item.productID)
            var lines = [try line(for: product, item: item, lineNo: 1, parent: nil, account: account, context: context)]
            var review = product.reviewRequired
            for bound in product.boundProducts {
                let boundProduct = try ProductStore.require(context.db, bound)
                guard boundProduct.billingMode == product.billingMode else {
                    throw BillingError.refused(.boundModeMismatch, "bound product \(bound) is not billed like \(product.id)")
                }
                lines.append(try line(for: boundProduct, item: item, lineNo: Int64(lines.count + 1), parent: 1, account: account, context: context))
                review = review || boundProduct.reviewRequired
            }
            return PricedItem(lines: lines, primary: product, reviewRequired: review)
        }
    }

    private static func line(for product: Product, item: PurchaseItem, lineNo: Int64, parent: Int64?, account: Account,
                             context: OperationContext) throws -> OrderLine {
        guard product.onSale else { throw BillingError.refused(.productOffSale, "product \(product.id) is not on sale") }
        var listPrice: Money
        switch product.billingMode {
        case .prepaid, .package:
            guard let period = item.period else {
                throw BillingError.invalid(.missingField, "product \(product.id) is bought for a period: give items[].period")
            }
            guard product.allowedPeriods.contains(period), let price = try product.price(for: period) else {
                throw BillingError.refused(.periodNotAllowed, "product \(product.id) cannot be bought for \(period)")
            }
            listPrice = price
        case .onDemand:
            guard item.period == nil else { throw BillingError.invalid(.invalidField, "pay-per-use product \(product.id) has no period") }
            listPrice = .zero
        case .oneOff:
            guard item.period == nil else { throw BillingError.invalid(.invalidField, "one-off product \(product.id) has no period") }
            listPrice = product.oneOffPrice ?? .zero
        }
        if let effective = item.effectiveAt {
            guard product.billingMode == .package else {
                throw BillingError.invalid(.invalidField, "only packages take an effective_at")
            }
            guard effective >= context.now else {
                throw BillingError.invalid(.outOfRange, "effective_at must not be in the past")
            }
        }
        listPrice = try listPrice.multiplied(by: item.quantity)
        let commercial = try ProductStore.commercialDiscount(context.db, account: account.id, productType: product.productType)
        // The snapshot and its text are built once per cached product, and the text is the
        // one every later read of the line parses (so that is looked up, not parsed).
        let snapshot = ProductStore.snapshot(of: product)
        var line = OrderLine(orderID: "", lineNo: lineNo, productID: product.id, productType: product.productType,
                         billingMode: product.billingMode, region: product.region,
                         period: product.billingMode == .prepaid || product.billingMode == .package ? item.period : nil,
                         quantity: item.quantity, parentLine: parent, relation: parent == nil ? nil : .bound,
                         effectiveAt: item.effectiveAt, product: snapshot.value,
                         amounts: try Pricing.line(listPrice: listPrice, commercialBP: commercial, promotionBP: product.promotionDiscountBP))
        line.productText = KnownText(snapshot.text)
        return line
    }

    /// Prices a purchase without creating anything: `{"account_id", "items": [{"product_id",
    /// "period"?: {"unit", "count"}, "quantity"?, "effective_at"?}]}` → `{"items": [{"lines"}],
    /// "amounts"}`. An order made from the same items carries exactly these amounts.
    public func quote(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: OrderQuoteRequest.init) { context, input in
            let account = try AccountStore.require(context.db, input.accountID)
            let priced = try Engine.price(input.items, account: account, context: context)
            return try OrderQuoteResponse(accountID: account.id, priced: priced, pricedAt: context.now)
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
        try perform("order.create", requestJSON, parse: OrderCreateRequest.init, apply: { context, input in
            let account = try AccountStore.require(context.db, input.accountID)
            let priced = try Engine.price(input.items, account: account, context: context)
            let total = try OrderAmounts.total(priced.flatMap { $0.lines.map(\.amounts) })
            if let expected = input.expectedAmountDue, try expected != total.amountDue {
                throw BillingError.refused(.priceChanged, "the amount due is now \(try total.amountDue), not the quoted \(expected); quote again")
            }
            let onDemand = priced.first?.primary.billingMode == .onDemand
            let review = priced.contains { $0.reviewRequired }
            if input.autoPay && review {
                throw BillingError.refused(.reviewRequired, "this order needs a review before it can be paid; create it without auto_pay")
            }
            let status: OrderStatus = onDemand ? .processing : input.placedByManager ? .pendingConfirmation
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
                      reviewRequired: review, placedByManager: input.placedByManager, contract: input.contract,
                      sourceOrderID: nil, amounts: amounts)
            }
            // The rows written, kept for the answer (an unpaid order is answered from them).
            let root: Order
            var subOrders: [Order] = []
            var writtenLines: [OrderLine] = []
            if priced.count == 1, let item = priced.first {
                let sequence = try IdentifierSequence.next(context.db, "order")
                root = makeOrder(IdentifierSequence.format("CS", sequence), combined: nil, isCombined: false, item: item, amounts: total)
                try OrderStore.insert(context.db, root, sequence: sequence)
                for var line in item.lines {
                    line.orderID = root.id
                    try OrderStore.insertLine(context.db, line)
                    writtenLines.append(line)
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
                    subOrders.append(sub)
                    for var line in item.lines {
                        line.orderID = sub.id
                        try OrderStore.insertLine(context.db, line)
                        writtenLines.append(line)
                    }
                }
            }
            try context.emit("order.created", account: account.id, subject: root.id,
                             data: ["status": .string(status.rawValue), "amount_due_fen": .integer(try total.amountDue.fen)])
            var payment = PaymentOutcome.notAttempted
            // The order's details when a payment wrote them (built from what it wrote).
            var paid: OrderDetail?
            // Whether rows of the order changed after they were written above.
            var rewritten = false
            if onDemand {
                try Provisioning.createResources(for: root, context: context)
                rewritten = true
            } else if input.autoPay {
                do {
                    let plan = try Payments.planPayment(root, coupons: input.couponIDs, context: context)
                    // Planning writes nothing (T5); from here on the rows change.
                    rewritten = true
                    paid = try PaymentSettlement.applyPayment(plan, context: context)
                    payment = .succeeded
                } catch let error as BillingError where error.status == .refused || error.status == .notFound {
                    // T5: the order stays pending payment; the host shows why.
                    payment = .failed(reason: error.reason, message: error.message)
                    try context.emit("order.payment_failed", account: account.id, subject: root.id,
                                     data: ["reason": .string(error.reason)])
                }
            }
            context.audit(account: account.id, subject: root.id,
                          detail: ["items": .integer(Int64(priced.count)), "amount_due_fen": .integer(try total.amountDue.fen),
                                   "status": .string(status.rawValue)])
            // Nothing changed the rows written above unless resources were created or a
            // payment was written (a refused plan writes nothing): a payment answers from what
            // it wrote, pay-per-use resources are read back.
            if let paid { return try OrderDetailResponse(paid, payment: payment, calendar: context.calendar) }
            guard !rewritten else {
                return try OrderDetailResponse.load(root.id, account: account.id, payment: payment, context: context)
            }
            return try OrderDetailResponse(.unpaid(root, subOrders: subOrders, lines: writtenLines), payment: payment,
                                           calendar: context.calendar)
        })
    }
}
