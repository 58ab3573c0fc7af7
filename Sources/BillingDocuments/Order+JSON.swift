import BillingDomain

extension OrderAmounts {
    /// The amounts with both identities spelled out (§0); throws if a sum overflows.
    package var json: JSONValue {
        get throws {
            [
                "list_price_fen": .integer(listPrice.fen),
                "commercial_discount_fen": .integer(commercialDiscount.fen),
                "promotion_discount_fen": .integer(promotionDiscount.fen),
                "discount_coupon_fen": .integer(discountCoupon.fen),
                "discount_fen": .integer(try discounts.fen),
                "amount_due_fen": .integer(try amountDue.fen),
                "voucher_fen": .integer(voucher.fen),
                "cash_coupon_fen": .integer(cashCoupon.fen),
                "stored_value_card_fen": .integer(storedValueCard.fen),
                "cash_fen": .integer(cash.fen),
                "credit_fen": .integer(credit.fen),
                "paid_amount_fen": .integer(try paidAmount.fen),
            ]
        }
    }
}

extension Order {
    package var json: JSONValue {
        get throws {
            [
                "order_id": .string(id),
                "account_id": .string(accountID),
                "combined_order_id": JSONValue(combinedID),
                "is_combined": .bool(isCombined),
                "type": .string(type.rawValue),
                "type_code": .integer(type.code),
                "status": .string(status.rawValue),
                "status_code": .integer(status.code),
                "product_type": .string(productType),
                "billing_mode": .string(billingMode),
                "created_at": .integer(createdAt),
                "pay_deadline": JSONValue(payDeadline),
                "paid_at": JSONValue(paidAt),
                "completed_at": JSONValue(completedAt),
                "cancelled_at": JSONValue(cancelledAt),
                "cancel_reason": JSONValue(cancelReason),
                "review_required": .bool(reviewRequired),
                "placed_by_manager": .bool(placedByManager),
                "contract": JSONValue(contract),
                "source_order_id": JSONValue(sourceOrderID),
                "amounts": try amounts.json,
            ]
        }
    }
}

extension OrderLine {
    package var json: JSONValue {
        get throws {
            var product = self.product
            if case .object(var fields) = product {
                // The snapshot's prices are what the line was priced with; show the descriptive part.
                for key in ["allowed_periods", "refundable", "per_resource_refund", "five_day_eligible", "auto_renew_supported",
                            "to_on_demand_supported", "on_sale", "review_required", "bound_products", "kind"] { fields[key] = nil }
                product = .object(fields)
        }
        return [
            "line_no": .integer(lineNo),
            "product_id": .string(productID),
            "product_type": .string(productType),
            "billing_mode": .string(billingMode.rawValue),
            "region": JSONValue(region),
            "period": period.map { ["unit": .string($0.unit.rawValue), "count": .integer($0.count)] } ?? .null,
            "quantity": .integer(quantity),
            "parent_line": JSONValue(parentLine),
            "relation": JSONValue(relation?.rawValue),
            "effective_at": JSONValue(effectiveAt),
            "product": product,
            "amounts": try amounts.json,
            // A renewal or conversion line names its resource; a renewal line also the period
            // it adds, from the old expiry to the new one.
            "resource_id": JSONValue(resourceID),
            "renew_from": JSONValue(renewFrom),
            "renew_to": JSONValue(renewTo),
        ]
        }
    }
}

extension Resource {
    package func json(_ calendar: BusinessCalendar) -> JSONValue {
        [
            "resource_id": .string(id),
            "account_id": .string(accountID),
            "order_id": .string(orderID),
            "product_id": .string(productID),
            "product_type": .string(productType),
            "billing_mode": .string(billingMode.rawValue),
            "region": JSONValue(region),
            "status": .string(status.rawValue),
            "status_code": JSONValue(status.code),
            "primary_resource_id": JSONValue(primaryID),
            "relation": JSONValue(relation?.rawValue),
            "period": period.map { ["unit": .string($0.unit.rawValue), "count": .integer($0.count)] } ?? .null,
            "created_at": .integer(createdAt),
            "provisioned_at": JSONValue(provisionedAt),
            "effective_at": JSONValue(effectiveAt),
            "expire_at": JSONValue(expireAt),
            "expire_at_local": expireAt.map { .string(calendar.iso8601($0)) } ?? .null,
            "ended_at": JSONValue(endedAt),
            "expiry_policy": .string(expiryPolicy),
            "grace_end": JSONValue(graceEnd),
            "retention_end": JSONValue(retentionEnd),
            "freeze_reason": JSONValue(freezeReason?.rawValue),
            "auto_renew": autoRenewPeriod.map { ["period": ["unit": .string($0.unit.rawValue), "count": .integer($0.count)],
                                                 "remaining": JSONValue(autoRenewRemaining), "next_attempt_at": JSONValue(nextAttemptAt)] } ?? .null,
        ]
    }
}

/// The same documents written directly (`JSONWriter+Fields.swift`), keys in the writer's
/// order; `OrderDocumentWritingTests` checks the bytes equal writing the trees above.
extension JSONWriter {
    /// Writes `amounts.json`; throws, like it, when a sum overflows.
    package mutating func writeAmounts(_ amounts: OrderAmounts) throws {
        let discounts = try amounts.discounts.fen, due = try amounts.amountDue.fen, paid = try amounts.paidAmount.fen
        beginObject()
        field("amount_due_fen", due)
        field("cash_coupon_fen", amounts.cashCoupon.fen)
        field("cash_fen", amounts.cash.fen)
        field("commercial_discount_fen", amounts.commercialDiscount.fen)
        field("credit_fen", amounts.credit.fen)
        field("discount_coupon_fen", amounts.discountCoupon.fen)
        field("discount_fen", discounts)
        field("list_price_fen", amounts.listPrice.fen)
        field("paid_amount_fen", paid)
        field("promotion_discount_fen", amounts.promotionDiscount.fen)
        field("stored_value_card_fen", amounts.storedValueCard.fen)
        field("voucher_fen", amounts.voucher.fen)
        endObject()
    }

    /// The runs of an order's fields between the keys a document around it adds to the same
    /// object (an order's details add "lines", "payments", "refunds", "resources" and
    /// "sub_orders"): writing `.beforeLines` through `.afterSubOrders` in turn writes `order.json`.
    package enum OrderFields {
        /// account_id … is_combined
        case beforeLines
        /// order_id, paid_at, pay_deadline
        case beforePayments
        /// placed_by_manager, product_type
        case beforeRefunds
        /// review_required … status_code
        case beforeSubOrders
        /// type, type_code
        case afterSubOrders
    }

    /// Writes one run of `order.json`'s fields (see `OrderFields`).
    package mutating func writeOrderFields(_ order: Order, _ run: OrderFields) throws {
        switch run {
        case .beforeLines:
            field("account_id", order.accountID)
            key("amounts")
            try writeAmounts(order.amounts)
            field("billing_mode", order.billingMode)
            field("cancel_reason", order.cancelReason)
            field("cancelled_at", order.cancelledAt)
            field("combined_order_id", order.combinedID)
            field("completed_at", order.completedAt)
            field("contract", order.contract)
            field("created_at", order.createdAt)
            field("is_combined", order.isCombined)
        case .beforePayments:
            field("order_id", order.id)
            field("paid_at", order.paidAt)
            field("pay_deadline", order.payDeadline)
        case .beforeRefunds:
            field("placed_by_manager", order.placedByManager)
            field("product_type", order.productType)
        case .beforeSubOrders:
            field("review_required", order.reviewRequired)
            field("source_order_id", order.sourceOrderID)
            field("status", order.status.rawValue)
            field("status_code", order.status.code)
        case .afterSubOrders:
            field("type", order.type.rawValue)
            field("type_code", order.type.code)
        }
    }

    /// Writes `order.json`.
    package mutating func writeOrder(_ order: Order) throws {
        beginObject()
        try writeOrderFields(order, .beforeLines)
        try writeOrderFields(order, .beforePayments)
        try writeOrderFields(order, .beforeRefunds)
        try writeOrderFields(order, .beforeSubOrders)
        try writeOrderFields(order, .afterSubOrders)
        endObject()
    }

    /// The product snapshot's fields a line does not show (see `OrderLine.json`).
    private static let hiddenSnapshotFields = ["allowed_periods", "refundable", "per_resource_refund", "five_day_eligible",
                                               "auto_renew_supported", "to_on_demand_supported", "on_sale", "review_required",
                                               "bound_products", "kind"]

    /// What `line.json` shows of a product snapshot, as text.
    package static func shownSnapshot(_ product: JSONValue) -> String {
        var writer = JSONWriter()
        writer.write(product, omitting: hiddenSnapshotFields)
        return writer.text
    }

    /// Writes `line.json`, with `"order_id"` added when `withOrderID` (an order's details);
    /// `shownProduct`, when given, is `shownSnapshot(line.product)` written before.
    package mutating func writeLine(_ line: OrderLine, withOrderID: Bool, shownProduct: String? = nil) throws {
        beginObject()
        key("amounts")
        try writeAmounts(line.amounts)
        field("billing_mode", line.billingMode.rawValue)
        field("effective_at", line.effectiveAt)
        field("line_no", line.lineNo)
        if withOrderID { field("order_id", line.orderID) }
        field("parent_line", line.parentLine)
        key("period")
        writePeriod(line.period)
        key("product")
        if let shownProduct { writeWritten(shownProduct) } else { write(line.product, omitting: JSONWriter.hiddenSnapshotFields) }
        field("product_id", line.productID)
        field("product_type", line.productType)
        field("quantity", line.quantity)
        field("region", line.region)
        field("relation", line.relation?.rawValue)
        field("renew_from", line.renewFrom)
        field("renew_to", line.renewTo)
        field("resource_id", line.resourceID)
        endObject()
    }

    /// `{"count", "unit"}` or null.
    private mutating func writePeriod(_ period: Period?) {
        guard let period else { return append("null") }
        beginObject()
        field("count", period.count)
        field("unit", period.unit.rawValue)
        endObject()
    }

    /// Writes `resource.json(calendar)`.
    package mutating func writeResource(_ resource: Resource, calendar: BusinessCalendar) {
        beginObject()
        field("account_id", resource.accountID)
        key("auto_renew")
        if let period = resource.autoRenewPeriod {
            beginObject()
            field("next_attempt_at", resource.nextAttemptAt)
            key("period")
            writePeriod(period)
            field("remaining", resource.autoRenewRemaining)
            endObject()
        } else {
            append("null")
        }
        field("billing_mode", resource.billingMode.rawValue)
        field("created_at", resource.createdAt)
        field("effective_at", resource.effectiveAt)
        field("ended_at", resource.endedAt)
        field("expire_at", resource.expireAt)
        field("expire_at_local", resource.expireAt.map { calendar.iso8601($0) })
        field("expiry_policy", resource.expiryPolicy)
        field("freeze_reason", resource.freezeReason?.rawValue)
        field("grace_end", resource.graceEnd)
        field("order_id", resource.orderID)
        key("period")
        writePeriod(resource.period)
        field("primary_resource_id", resource.primaryID)
        field("product_id", resource.productID)
        field("product_type", resource.productType)
        field("provisioned_at", resource.provisionedAt)
        field("region", resource.region)
        field("relation", resource.relation?.rawValue)
        field("resource_id", resource.id)
        field("retention_end", resource.retentionEnd)
        field("status", resource.status.rawValue)
        field("status_code", resource.status.code)
        endObject()
    }
}
