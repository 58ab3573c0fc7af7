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
