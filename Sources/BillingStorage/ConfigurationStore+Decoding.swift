import BillingDomain
import BillingDocuments

/// Reading the stored configuration document (written from `Configuration.json`) with its own
/// decoder, not the request reader: the limits a change must meet were checked when it was
/// written, and tightening them later must never make an old row unreadable. Fields are read by
/// type; a missing one keeps its default (a document from an older library gains the fields
/// added since); a field of the wrong type is a storage error naming the document.
extension ConfigurationStore {
    package static let record = "configuration document"

    package static func decode(_ text: String) throws -> Configuration {
        let document = try StoredDocument(renamingLegacyKeys(try StoredValue.document(text, record)), record: record)
        var value = Configuration()
        if let text = try document.optionalString("business_utc_offset") {
            guard let seconds = BusinessCalendar.parseOffset(text) else {
                throw StoredValue.unreadable(record, "business_utc_offset \(BillingError.quote(text)) is not an offset")
            }
            value.businessUTCOffsetSeconds = seconds
        }
        value.currency = try document.optionalString("currency") ?? value.currency
        if let deadlines = try document.optionalObject("pay_deadline_seconds") { value.payDeadlineSeconds = try deadlines.intMap() }
        if let levels = try document.optionalObject("grace_and_retention") {
            for level in CustomerLevel.allCases {
                guard let entry = try levels.optionalObject(level.rawValue) else { continue }
                value.graceAndRetention[level] = GraceRetention(
                    try entry.int("prepaid_grace_days"), try entry.int("prepaid_retention_days"),
                    try entry.int("on_demand_grace_days"), try entry.int("on_demand_retention_days"))
            }
        }
        if let rates = try document.optionalObject("handling_fee_rates_bp") { value.handlingFeeRatesBP = try rates.intArrayMap() }
        value.handlingFeeBeyondTableBP = try document.optionalInt("handling_fee_beyond_table_bp") ?? value.handlingFeeBeyondTableBP
        value.fiveDayRefundHours = try document.optionalInt("five_day_refund_hours") ?? value.fiveDayRefundHours
        value.fiveDayQuotaPerYear = try document.optionalInt("five_day_quota_per_year") ?? value.fiveDayQuotaPerYear
        value.defaultDeductionDays = try document.optionalInt("default_deduction_days") ?? value.defaultDeductionDays
        value.defaultUnifiedExpiryDay = try document.optionalInt("default_unified_expiry_day") ?? value.defaultUnifiedExpiryDay
        if let fen = try document.optionalInt("large_refund_threshold_fen") { value.largeRefundThreshold = Money(fen: fen) }
        value.autoRenewHour = try document.optionalInt("auto_renew_hour") ?? value.autoRenewHour
        if let reminders = try document.optionalObject("expiry_reminder_days") { value.expiryReminderDays = try reminders.intArrayMap() }
        value.maxCouponsPerPayment = try document.optionalInt("max_coupons_per_payment") ?? value.maxCouponsPerPayment
        value.maxBatchCancel = try document.optionalInt("max_batch_cancel") ?? value.maxBatchCancel
        value.maxBatchRenew = try document.optionalInt("max_batch_renew") ?? value.maxBatchRenew
        value.exportRetentionHours = try document.optionalInt("export_retention_hours") ?? value.exportRetentionHours
        value.exportDirectory = try document.optionalString("export_directory") ?? value.exportDirectory
        value.exportRowsPerStep = try document.optionalInt("export_rows_per_step") ?? value.exportRowsPerStep
        value.maxRenewalPriceExportRows = try document.optionalInt("max_renewal_price_export_rows") ?? value.maxRenewalPriceExportRows
        value.tokenTTLSeconds = try document.optionalInt("token_ttl_seconds") ?? value.tokenTTLSeconds
        value.refundDurationGranularity = try document.optionalString("refund_duration_granularity") ?? value.refundDurationGranularity
        value.passwordHashOpsLimit = try document.optionalInt("password_hash_ops_limit") ?? value.passwordHashOpsLimit
        value.passwordHashMemoryBytes = try document.optionalInt("password_hash_memory_bytes") ?? value.passwordHashMemoryBytes
        value.passwordMinimumLength = try document.optionalInt("password_min_length") ?? value.passwordMinimumLength
        value.passwordMaximumLength = try document.optionalInt("password_max_length") ?? value.passwordMaximumLength
        value.passwordMinimumClasses = try document.optionalInt("password_min_classes") ?? value.passwordMinimumClasses
        value.loginThrottleAfterFailures = try document.optionalInt("login_throttle_after_failures") ?? value.loginThrottleAfterFailures
        value.loginThrottleBaseSeconds = try document.optionalInt("login_throttle_base_seconds") ?? value.loginThrottleBaseSeconds
        value.loginThrottleMaxSeconds = try document.optionalInt("login_throttle_max_seconds") ?? value.loginThrottleMaxSeconds
        value.loginThrottleForgetSeconds = try document.optionalInt("login_throttle_forget_seconds") ?? value.loginThrottleForgetSeconds
        return value
    }

    /// Keys a stored document of an older library may hold, with the key that replaced each.
    /// 0.1.0 locked an account after `login_max_failures` failures for `login_lockout_seconds`;
    /// the throttle that replaced the lock keeps both numbers as its threshold and its longest
    /// wait. The stored row is left as it is (it is rewritten with the new keys at the next
    /// configuration change), so opening a file never writes to it.
    private static let legacyKeys = [
        "login_max_failures": "login_throttle_after_failures",
        "login_lockout_seconds": "login_throttle_max_seconds",
    ]

    private static func renamingLegacyKeys(_ document: JSONValue) -> JSONValue {
        guard case .object(var fields) = document else { return document }
        for (old, new) in legacyKeys {
            guard let value = fields.removeValue(forKey: old) else { continue }
            if fields[new] == nil { fields[new] = value }
        }
        return .object(fields)
    }
}
