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
    /// Writes `amounts.json`; throws, like it, when a sum overflows. Keys and punctuation are
    /// one literal each (`raw`).
    package mutating func writeAmounts(_ amounts: OrderAmounts) throws {
        let discounts = try amounts.discounts.fen, due = try amounts.amountDue.fen, paid = try amounts.paidAmount.fen
        raw("{\"amount_due_fen\":")
        writeInteger(due)
        raw(",\"cash_coupon_fen\":")
        writeInteger(amounts.cashCoupon.fen)
        raw(",\"cash_fen\":")
        writeInteger(amounts.cash.fen)
        raw(",\"commercial_discount_fen\":")
        writeInteger(amounts.commercialDiscount.fen)
        raw(",\"credit_fen\":")
        writeInteger(amounts.credit.fen)
        raw(",\"discount_coupon_fen\":")
        writeInteger(amounts.discountCoupon.fen)
        raw(",\"discount_fen\":")
        writeInteger(discounts)
        raw(",\"list_price_fen\":")
        writeInteger(amounts.listPrice.fen)
        raw(",\"paid_amount_fen\":")
        writeInteger(paid)
        raw(",\"promotion_discount_fen\":")
        writeInteger(amounts.promotionDiscount.fen)
        raw(",\"stored_value_card_fen\":")
        writeInteger(amounts.storedValueCard.fen)
        raw(",\"voucher_fen\":")
        writeInteger(amounts.voucher.fen)
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

    /// Writes one run of `order.json`'s fields (see `OrderFields`): the run's first key after a
    /// comma when a field came before, the others as one literal each.
    package mutating func writeOrderFields(_ order: Order, _ run: OrderFields) throws {
        switch run {
        case .beforeLines:
            field("account_id", order.accountID)
            raw(",\"amounts\":")
            try writeAmounts(order.amounts)
            raw(",\"billing_mode\":")
            writeString(order.billingMode)
            raw(",\"cancel_reason\":")
            writeOptional(order.cancelReason)
            raw(",\"cancelled_at\":")
            writeOptional(order.cancelledAt)
            raw(",\"combined_order_id\":")
            writeOptional(order.combinedID)
            raw(",\"completed_at\":")
            writeOptional(order.completedAt)
            raw(",\"contract\":")
            writeOptional(order.contract)
            raw(",\"created_at\":")
            writeInteger(order.createdAt)
            raw(",\"is_combined\":")
            writeBool(order.isCombined)
        case .beforePayments:
            field("order_id", order.id)
            raw(",\"paid_at\":")
            writeOptional(order.paidAt)
            raw(",\"pay_deadline\":")
            writeOptional(order.payDeadline)
        case .beforeRefunds:
            field("placed_by_manager", order.placedByManager)
            raw(",\"product_type\":")
            writeString(order.productType)
        case .beforeSubOrders:
            field("review_required", order.reviewRequired)
            raw(",\"source_order_id\":")
            writeOptional(order.sourceOrderID)
            raw(",\"status\":")
            writeString(order.status.rawValue)
            raw(",\"status_code\":")
            writeInteger(order.status.code)
        case .afterSubOrders:
            field("type", order.type.rawValue)
            raw(",\"type_code\":")
            writeInteger(order.type.code)
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

    /// Writes a combined order's `"sub_orders"` key and array (between its `.beforeSubOrders`
    /// and `.afterSubOrders` fields).
    package mutating func writeSubOrders(_ subOrders: [Order]) throws {
        key("sub_orders")
        beginArray()
        for subOrder in subOrders {
            element()
            try writeOrder(subOrder)
        }
        endArray()
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
        raw("{\"amounts\":")
        try writeAmounts(line.amounts)
        raw(",\"billing_mode\":")
        writeString(line.billingMode.rawValue)
        raw(",\"effective_at\":")
        writeOptional(line.effectiveAt)
        raw(",\"line_no\":")
        writeInteger(line.lineNo)
        if withOrderID {
            raw(",\"order_id\":")
            writeString(line.orderID)
        }
        raw(",\"parent_line\":")
        writeOptional(line.parentLine)
        raw(",\"period\":")
        writePeriod(line.period)
        raw(",\"product\":")
        if let shownProduct { writeWritten(shownProduct) } else { write(line.product, omitting: JSONWriter.hiddenSnapshotFields) }
        raw(",\"product_id\":")
        writeString(line.productID)
        raw(",\"product_type\":")
        writeString(line.productType)
        raw(",\"quantity\":")
        writeInteger(line.quantity)
        raw(",\"region\":")
        writeOptional(line.region)
        raw(",\"relation\":")
        writeOptional(line.relation?.rawValue)
        raw(",\"renew_from\":")
        writeOptional(line.renewFrom)
        raw(",\"renew_to\":")
        writeOptional(line.renewTo)
        raw(",\"resource_id\":")
        writeOptional(line.resourceID)
        endObject()
    }

    /// `{"count", "unit"}` or null.
    private mutating func writePeriod(_ period: Period?) {
        guard let period else { return append("null") }
        raw("{\"count\":")
        writeInteger(period.count)
        raw(",\"unit\":")
        writeString(period.unit.rawValue)
        endObject()
    }

    /// Writes `resource.json(calendar)`.
    package mutating func writeResource(_ resource: Resource, calendar: BusinessCalendar) {
        raw("{\"account_id\":")
        writeString(resource.accountID)
        raw(",\"auto_renew\":")
        if let period = resource.autoRenewPeriod {
            raw("{\"next_attempt_at\":")
            writeOptional(resource.nextAttemptAt)
            raw(",\"period\":")
            writePeriod(period)
            raw(",\"remaining\":")
            writeOptional(resource.autoRenewRemaining)
            endObject()
        } else {
            append("null")
        }
        raw(",\"billing_mode\":")
        writeString(resource.billingMode.rawValue)
        raw(",\"created_at\":")
        writeInteger(resource.createdAt)
        raw(",\"effective_at\":")
        writeOptional(resource.effectiveAt)
        raw(",\"ended_at\":")
        writeOptional(resource.endedAt)
        raw(",\"expire_at\":")
        writeOptional(resource.expireAt)
        raw(",\"expire_at_local\":")
        writeOptional(resource.expireAt.map { calendar.iso8601($0) })
        raw(",\"expiry_policy\":")
        writeString(resource.expiryPolicy)
        raw(",\"freeze_reason\":")
        writeOptional(resource.freezeReason?.rawValue)
        raw(",\"grace_end\":")
        writeOptional(resource.graceEnd)
        raw(",\"order_id\":")
        writeString(resource.orderID)
        raw(",\"period\":")
        writePeriod(resource.period)
        raw(",\"primary_resource_id\":")
        writeOptional(resource.primaryID)
        raw(",\"product_id\":")
        writeString(resource.productID)
        raw(",\"product_type\":")
        writeString(resource.productType)
        raw(",\"provisioned_at\":")
        writeOptional(resource.provisionedAt)
        raw(",\"region\":")
        writeOptional(resource.region)
        raw(",\"relation\":")
        writeOptional(resource.relation?.rawValue)
        raw(",\"resource_id\":")
        writeString(resource.id)
        raw(",\"retention_end\":")
        writeOptional(resource.retentionEnd)
        raw(",\"status\":")
        writeString(resource.status.rawValue)
        raw(",\"status_code\":")
        writeOptional(resource.status.code)
        endObject()
    }
}
