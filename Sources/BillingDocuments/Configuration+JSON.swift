import BillingDomain

extension Configuration {
    /// The text of `json`, written field by field in the tree writer's key order without
    /// building the tree (a configuration change stores this text and answers with it; writing
    /// the tree's 80 keys sorted was 12 % of the change's instructions). Each key is one
    /// literal with its punctuation (`raw`), and each map is sorted once with its values: a
    /// key written piece by piece, and each sorted key looked up again, were a third of this.
    /// `JSONTests` checks the bytes equal `json.text`.
    public var documentText: String {
        var fresh = DocumentTextCache()
        return documentText(reusing: &fresh)
    }

    /// The last document `documentText(reusing:)` wrote: its configuration, its text, and
    /// where each field's text ends in it (`fieldsInDocumentOrder`).
    public struct DocumentTextCache: Sendable {
        var configuration: Configuration?
        var text = ""
        var ends: [Int] = []

        public init() {}
    }

    /// `documentText`, copying the text of each field whose value equals the cached
    /// configuration's from the cached text (a change alters a field or two: writing the
    /// other 30, maps and all, was about 15 K instructions of a configuration change), and
    /// keeping this document in `cache` for the next. Values equal as stored write equal
    /// text, so the bytes are the ones writing every field gives (`JSONTests`).
    public func documentText(reusing cache: inout DocumentTextCache) -> String {
        let fields = Configuration.fieldsInDocumentOrder
        var writer = JSONWriter(capacity: Swift.max(2048, cache.text.utf8.count + 256))
        var ends: [Int] = []
        ends.reserveCapacity(fields.count)
        writer.writeMark("{")
        // The fields that can be copied, as bits by position: only from a whole cached text
        // (an end for each field, all within it).
        let oldEnds = cache.ends
        var same: UInt64 = 0
        if oldEnds.count == fields.count, (oldEnds.last ?? Int.max) < cache.text.utf8.count, let old = cache.configuration {
            for index in 0..<fields.count where sameValue(fields[index], as: old) { same |= 1 << UInt64(index) }
        }
        var previous = cache.text
        previous.withUTF8 { old in
            var index = 0
            while index < fields.count {
                guard same & (1 << UInt64(index)) != 0 else {
                    writeField(fields[index], first: index == 0, into: &writer)
                    ends.append(writer.writtenCount)
                    index += 1
                    continue
                }
                // A run of fields to copy, at once.
                var last = index
                while last + 1 < fields.count && same & (1 << UInt64(last + 1)) != 0 { last += 1 }
                let start = index == 0 ? 1 : oldEnds[index - 1]
                let shift = writer.writtenCount - start
                if start <= oldEnds[last] { writer.put(UnsafeBufferPointer(rebasing: old[start..<oldEnds[last]])) }
                for copied in index...last { ends.append(oldEnds[copied] + shift) }
                index = last + 1
            }
        }
        writer.writeMark("}")
        let text = writer.text
        cache.configuration = self
        cache.text = text
        cache.ends = ends
        return text
    }

    /// The fields in the document's key order (`String`'s order, the tree writer's).
    static let fieldsInDocumentOrder: [Field] = Field.allCases.sorted { $0.name < $1.name }

    /// Whether a field holds the same value as in `other`, as stored: then its text is the
    /// same. (Stricter than `changedKeys`, which also counts values that write alike.) Texts,
    /// and maps' keys, are compared byte for byte: `String`'s `==` holds canonically
    /// equivalent texts equal ("é" and "e\u{301}"), whose bytes, written, differ.
    private func sameValue(_ field: Field, as other: Configuration) -> Bool {
        func same(_ a: String?, _ b: String?) -> Bool { TextBytes.same(a, b) }
        func same<Value: Equatable>(_ a: [String: Value], _ b: [String: Value]) -> Bool {
            // The same storage (an unchanged map shares it with the last one): the same map.
            if withUnsafeBytes(of: a, { x in withUnsafeBytes(of: b) { y in x.elementsEqual(y) } }) { return true }
            guard a.count == b.count else { return false }
            for (key, value) in a {
                guard let index = b.index(forKey: key), b[index].value == value, TextBytes.same(b[index].key, key) else { return false }
            }
            return true
        }
        return switch field {
        case .autoRenewHour: autoRenewHour == other.autoRenewHour
        case .businessUTCOffset: businessUTCOffsetSeconds == other.businessUTCOffsetSeconds
        case .currency: same(currency, other.currency)
        case .defaultDeductionDays: defaultDeductionDays == other.defaultDeductionDays
        case .defaultUnifiedExpiryDay: defaultUnifiedExpiryDay == other.defaultUnifiedExpiryDay
        case .expiryReminderDays: same(expiryReminderDays, other.expiryReminderDays)
        case .exportDirectory: same(exportDirectory, other.exportDirectory)
        case .exportRetentionHours: exportRetentionHours == other.exportRetentionHours
        case .exportRowsPerStep: exportRowsPerStep == other.exportRowsPerStep
        case .fiveDayQuotaPerYear: fiveDayQuotaPerYear == other.fiveDayQuotaPerYear
        case .fiveDayRefundHours: fiveDayRefundHours == other.fiveDayRefundHours
        case .graceAndRetention: graceAndRetention == other.graceAndRetention
        case .handlingFeeBeyondTableBP: handlingFeeBeyondTableBP == other.handlingFeeBeyondTableBP
        case .handlingFeeRatesBP: same(handlingFeeRatesBP, other.handlingFeeRatesBP)
        case .largeRefundThresholdFen: largeRefundThreshold.fen == other.largeRefundThreshold.fen
        case .loginThrottleAfterFailures: loginThrottleAfterFailures == other.loginThrottleAfterFailures
        case .loginThrottleBaseSeconds: loginThrottleBaseSeconds == other.loginThrottleBaseSeconds
        case .loginThrottleForgetSeconds: loginThrottleForgetSeconds == other.loginThrottleForgetSeconds
        case .loginThrottleMaxSeconds: loginThrottleMaxSeconds == other.loginThrottleMaxSeconds
        case .maxBatchCancel: maxBatchCancel == other.maxBatchCancel
        case .maxBatchRenew: maxBatchRenew == other.maxBatchRenew
        case .maxCouponsPerPayment: maxCouponsPerPayment == other.maxCouponsPerPayment
        case .maxRenewalPriceExportRows: maxRenewalPriceExportRows == other.maxRenewalPriceExportRows
        case .passwordHashMemoryBytes: passwordHashMemoryBytes == other.passwordHashMemoryBytes
        case .passwordHashOpsLimit: passwordHashOpsLimit == other.passwordHashOpsLimit
        case .passwordMaxLength: passwordMaximumLength == other.passwordMaximumLength
        case .passwordMinClasses: passwordMinimumClasses == other.passwordMinimumClasses
        case .passwordMinLength: passwordMinimumLength == other.passwordMinimumLength
        case .payDeadlineSeconds: same(payDeadlineSeconds, other.payDeadlineSeconds)
        case .refundDurationGranularity: same(refundDurationGranularity, other.refundDurationGranularity)
        case .tokenTTLSeconds: tokenTTLSeconds == other.tokenTTLSeconds
        }
    }

    /// Writes one field as `"name":value`, after a comma unless it is the first.
    private func writeField(_ field: Field, first: Bool, into writer: inout JSONWriter) {
        if !first { writer.writeMark(",") }
        switch field {
        case .autoRenewHour:
            writer.raw("\"auto_renew_hour\":")
            writer.writeInteger(autoRenewHour)
        case .businessUTCOffset:
            writer.raw("\"business_utc_offset\":")
            writer.writeString(BusinessCalendar.formatOffset(businessUTCOffsetSeconds))
        case .currency:
            writer.raw("\"currency\":")
            writer.writeString(currency)
        case .defaultDeductionDays:
            writer.raw("\"default_deduction_days\":")
            writer.writeInteger(defaultDeductionDays)
        case .defaultUnifiedExpiryDay:
            writer.raw("\"default_unified_expiry_day\":")
            writer.writeInteger(defaultUnifiedExpiryDay)
        case .expiryReminderDays:
            writer.raw("\"expiry_reminder_days\":")
            Configuration.writeLists(expiryReminderDays, into: &writer)
        case .exportDirectory:
            writer.raw("\"export_directory\":")
            writer.writeOptional(exportDirectory)
        case .exportRetentionHours:
            writer.raw("\"export_retention_hours\":")
            writer.writeInteger(exportRetentionHours)
        case .exportRowsPerStep:
            writer.raw("\"export_rows_per_step\":")
            writer.writeInteger(exportRowsPerStep)
        case .fiveDayQuotaPerYear:
            writer.raw("\"five_day_quota_per_year\":")
            writer.writeInteger(fiveDayQuotaPerYear)
        case .fiveDayRefundHours:
            writer.raw("\"five_day_refund_hours\":")
            writer.writeInteger(fiveDayRefundHours)
        case .graceAndRetention:
            writer.raw("\"grace_and_retention\":")
            writeGraceAndRetention(into: &writer)
        case .handlingFeeBeyondTableBP:
            writer.raw("\"handling_fee_beyond_table_bp\":")
            writer.writeInteger(handlingFeeBeyondTableBP)
        case .handlingFeeRatesBP:
            writer.raw("\"handling_fee_rates_bp\":")
            Configuration.writeLists(handlingFeeRatesBP, into: &writer)
        case .largeRefundThresholdFen:
            writer.raw("\"large_refund_threshold_fen\":")
            writer.writeInteger(largeRefundThreshold.fen)
        case .loginThrottleAfterFailures:
            writer.raw("\"login_throttle_after_failures\":")
            writer.writeInteger(loginThrottleAfterFailures)
        case .loginThrottleBaseSeconds:
            writer.raw("\"login_throttle_base_seconds\":")
            writer.writeInteger(loginThrottleBaseSeconds)
        case .loginThrottleForgetSeconds:
            writer.raw("\"login_throttle_forget_seconds\":")
            writer.writeInteger(loginThrottleForgetSeconds)
        case .loginThrottleMaxSeconds:
            writer.raw("\"login_throttle_max_seconds\":")
            writer.writeInteger(loginThrottleMaxSeconds)
        case .maxBatchCancel:
            writer.raw("\"max_batch_cancel\":")
            writer.writeInteger(maxBatchCancel)
        case .maxBatchRenew:
            writer.raw("\"max_batch_renew\":")
            writer.writeInteger(maxBatchRenew)
        case .maxCouponsPerPayment:
            writer.raw("\"max_coupons_per_payment\":")
            writer.writeInteger(maxCouponsPerPayment)
        case .maxRenewalPriceExportRows:
            writer.raw("\"max_renewal_price_export_rows\":")
            writer.writeInteger(maxRenewalPriceExportRows)
        case .passwordHashMemoryBytes:
            writer.raw("\"password_hash_memory_bytes\":")
            writer.writeInteger(passwordHashMemoryBytes)
        case .passwordHashOpsLimit:
            writer.raw("\"password_hash_ops_limit\":")
            writer.writeInteger(passwordHashOpsLimit)
        case .passwordMaxLength:
            writer.raw("\"password_max_length\":")
            writer.writeInteger(passwordMaximumLength)
        case .passwordMinClasses:
            writer.raw("\"password_min_classes\":")
            writer.writeInteger(passwordMinimumClasses)
        case .passwordMinLength:
            writer.raw("\"password_min_length\":")
            writer.writeInteger(passwordMinimumLength)
        case .payDeadlineSeconds:
            writer.raw("\"pay_deadline_seconds\":")
            writer.beginObject()
            for (name, seconds) in payDeadlineSeconds.sorted(by: { $0.key < $1.key }) {
                writer.key(text: name)
                writer.writeInteger(seconds)
            }
            writer.endObject()
        case .refundDurationGranularity:
            writer.raw("\"refund_duration_granularity\":")
            writer.writeString(refundDurationGranularity)
        case .tokenTTLSeconds:
            writer.raw("\"token_ttl_seconds\":")
            writer.writeInteger(tokenTTLSeconds)
        }
    }

    /// `grace_and_retention`'s object: every level, in key order.
    private func writeGraceAndRetention(into writer: inout JSONWriter) {
        writer.beginObject()
        // Each level's days from one pass over the map: a lookup per level hashed the level's
        // name (its raw value) each time. A level without days of its own gets the fallback,
        // as `graceRetention(for:)` gives it.
        var ownDays = [GraceRetention?](repeating: nil, count: Configuration.levelsInKeyOrder.count)
        for (level, days) in graceAndRetention {
            if let index = Configuration.levelsInKeyOrder.firstIndex(of: level) { ownDays[index] = days }
        }
        for (index, level) in Configuration.levelsInKeyOrder.enumerated() {
            let days = ownDays[index] ?? graceRetention(for: level)
            writer.key(text: level.rawValue)
            writer.raw("{\"on_demand_grace_days\":")
            writer.writeInteger(days.onDemandGraceDays)
            writer.raw(",\"on_demand_retention_days\":")
            writer.writeInteger(days.onDemandRetentionDays)
            writer.raw(",\"prepaid_grace_days\":")
            writer.writeInteger(days.prepaidGraceDays)
            writer.raw(",\"prepaid_retention_days\":")
            writer.writeInteger(days.prepaidRetentionDays)
            writer.endObject()
        }
        writer.endObject()
    }

    /// The customer levels in the order of their keys (`String`'s, the tree writer's).
    private static let levelsInKeyOrder = CustomerLevel.allCases.sorted { $0.rawValue < $1.rawValue }

    /// A map of integer lists, keys in `String`'s order (the tree writer's).
    private static func writeLists(_ lists: [String: [Int64]], into writer: inout JSONWriter) {
        writer.beginObject()
        for (name, numbers) in lists.sorted(by: { $0.key < $1.key }) {
            writer.key(text: name)
            writer.beginArray()
            for number in numbers {
                writer.element()
                writer.writeInteger(number)
            }
            writer.endArray()
        }
        writer.endObject()
    }

    /// The keys of `json` whose values differ from `old`'s, in `String`'s order: the names a
    /// change reports, found field by field. Building both trees to compare them (and hashing
    /// their 80 keys into dictionaries and looking each up again) was about a seventh of a
    /// configuration change's instructions. A value differs here exactly when its part of the
    /// tree does (`JSONTests` compares the two ways); a new field must be added here too.
    public func changedKeys(since old: Configuration) -> [String] {
        var keys: [String] = []
        func note(_ key: String, _ differs: Bool) {
            if differs { keys.append(key) }
        }
        note("auto_renew_hour", autoRenewHour != old.autoRenewHour)
        // The document holds the offset in minutes: seconds that format alike are alike.
        note("business_utc_offset", businessUTCOffsetSeconds != old.businessUTCOffsetSeconds
            && BusinessCalendar.formatOffset(businessUTCOffsetSeconds) != BusinessCalendar.formatOffset(old.businessUTCOffsetSeconds))
        note("currency", currency != old.currency)
        note("default_deduction_days", defaultDeductionDays != old.defaultDeductionDays)
        note("default_unified_expiry_day", defaultUnifiedExpiryDay != old.defaultUnifiedExpiryDay)
        note("expiry_reminder_days", expiryReminderDays != old.expiryReminderDays)
        // Bytes, not `!=`: Swift compares strings canonically, and a path whose "é" is spelt
        // e + U+0301 is another path (and another stored document).
        note("export_directory", !TextBytes.same(exportDirectory, old.exportDirectory))
        note("export_retention_hours", exportRetentionHours != old.exportRetentionHours)
        note("export_rows_per_step", exportRowsPerStep != old.exportRowsPerStep)
        note("five_day_quota_per_year", fiveDayQuotaPerYear != old.fiveDayQuotaPerYear)
        note("five_day_refund_hours", fiveDayRefundHours != old.fiveDayRefundHours)
        // Every level is in the document, with the fallback days when it has none of its own.
        // Equal maps (an unchanged one shares the old one's storage: one comparison) have
        // equal days; otherwise each level is compared as the document shows it.
        note("grace_and_retention", graceAndRetention != old.graceAndRetention
            && CustomerLevel.allCases.contains { graceRetention(for: $0) != old.graceRetention(for: $0) })
        note("handling_fee_beyond_table_bp", handlingFeeBeyondTableBP != old.handlingFeeBeyondTableBP)
        note("handling_fee_rates_bp", handlingFeeRatesBP != old.handlingFeeRatesBP)
        note("large_refund_threshold_fen", largeRefundThreshold.fen != old.largeRefundThreshold.fen)
        note("login_throttle_after_failures", loginThrottleAfterFailures != old.loginThrottleAfterFailures)
        note("login_throttle_base_seconds", loginThrottleBaseSeconds != old.loginThrottleBaseSeconds)
        note("login_throttle_forget_seconds", loginThrottleForgetSeconds != old.loginThrottleForgetSeconds)
        note("login_throttle_max_seconds", loginThrottleMaxSeconds != old.loginThrottleMaxSeconds)
        note("max_batch_cancel", maxBatchCancel != old.maxBatchCancel)
        note("max_batch_renew", maxBatchRenew != old.maxBatchRenew)
        note("max_coupons_per_payment", maxCouponsPerPayment != old.maxCouponsPerPayment)
        note("max_renewal_price_export_rows", maxRenewalPriceExportRows != old.maxRenewalPriceExportRows)
        note("password_hash_memory_bytes", passwordHashMemoryBytes != old.passwordHashMemoryBytes)
        note("password_hash_ops_limit", passwordHashOpsLimit != old.passwordHashOpsLimit)
        note("password_max_length", passwordMaximumLength != old.passwordMaximumLength)
        note("password_min_classes", passwordMinimumClasses != old.passwordMinimumClasses)
        note("password_min_length", passwordMinimumLength != old.passwordMinimumLength)
        note("pay_deadline_seconds", payDeadlineSeconds != old.payDeadlineSeconds)
        note("refund_duration_granularity", refundDurationGranularity != old.refundDurationGranularity)
        note("token_ttl_seconds", tokenTTLSeconds != old.tokenTTLSeconds)
        return keys
    }

    /// The configuration as the JSON document hosts read and store.
    public var json: JSONValue {
        var levels: [String: JSONValue] = [:]
        for level in CustomerLevel.allCases {
            let days = graceRetention(for: level)
            levels[level.rawValue] = [
                "prepaid_grace_days": .integer(days.prepaidGraceDays),
                "prepaid_retention_days": .integer(days.prepaidRetentionDays),
                "on_demand_grace_days": .integer(days.onDemandGraceDays),
                "on_demand_retention_days": .integer(days.onDemandRetentionDays),
            ]
        }
        return [
            "business_utc_offset": .string(BusinessCalendar.formatOffset(businessUTCOffsetSeconds)),
            "currency": .string(currency),
            "pay_deadline_seconds": .object(payDeadlineSeconds.mapValues { .integer($0) }),
            "grace_and_retention": .object(levels),
            "handling_fee_rates_bp": .object(handlingFeeRatesBP.mapValues { .array($0.map { .integer($0) }) }),
            "handling_fee_beyond_table_bp": .integer(handlingFeeBeyondTableBP),
            "five_day_refund_hours": .integer(fiveDayRefundHours),
            "five_day_quota_per_year": .integer(fiveDayQuotaPerYear),
            "default_deduction_days": .integer(defaultDeductionDays),
            "default_unified_expiry_day": .integer(defaultUnifiedExpiryDay),
            "large_refund_threshold_fen": .integer(largeRefundThreshold.fen),
            "auto_renew_hour": .integer(autoRenewHour),
            "expiry_reminder_days": .object(expiryReminderDays.mapValues { .array($0.map { .integer($0) }) }),
            "max_coupons_per_payment": .integer(maxCouponsPerPayment),
            "max_batch_cancel": .integer(maxBatchCancel),
            "max_batch_renew": .integer(maxBatchRenew),
            "export_retention_hours": .integer(exportRetentionHours),
            "export_directory": JSONValue(exportDirectory),
            "export_rows_per_step": .integer(exportRowsPerStep),
            "max_renewal_price_export_rows": .integer(maxRenewalPriceExportRows),
            "token_ttl_seconds": .integer(tokenTTLSeconds),
            "refund_duration_granularity": .string(refundDurationGranularity),
            "password_hash_ops_limit": .integer(passwordHashOpsLimit),
            "password_hash_memory_bytes": .integer(passwordHashMemoryBytes),
            "password_min_length": .integer(passwordMinimumLength),
            "password_max_length": .integer(passwordMaximumLength),
            "password_min_classes": .integer(passwordMinimumClasses),
            "login_throttle_after_failures": .integer(loginThrottleAfterFailures),
            "login_throttle_base_seconds": .integer(loginThrottleBaseSeconds),
            "login_throttle_max_seconds": .integer(loginThrottleMaxSeconds),
            "login_throttle_forget_seconds": .integer(loginThrottleForgetSeconds),
        ]
    }

    /// The fields a patch may hold, in the order `applying` reads them. A patch names a few of
    /// them: `applying` looks up each key the patch holds here (one hash a key) and reads only
    /// the fields present, instead of asking the patch for every field by name (31 probes,
    /// each comparing the name with every key the patch holds, twice a change: about 12 K
    /// instructions of a configuration change). A field the patch does not hold was never
    /// read anyway (a probe of an absent key reads nothing and marks nothing), so what is
    /// read, refused, and in what order, is what the probes did; keys that are no field are
    /// still refused by `finish()`.
    enum Field: Int, CaseIterable {
        case businessUTCOffset
        case currency
        case payDeadlineSeconds
        case graceAndRetention
        case handlingFeeRatesBP
        case handlingFeeBeyondTableBP
        case fiveDayRefundHours
        case fiveDayQuotaPerYear
        case defaultDeductionDays
        case defaultUnifiedExpiryDay
        case largeRefundThresholdFen
        case autoRenewHour
        case expiryReminderDays
        case maxCouponsPerPayment
        case maxBatchCancel
        case maxBatchRenew
        case exportRetentionHours
        case exportDirectory
        case exportRowsPerStep
        case maxRenewalPriceExportRows
        case tokenTTLSeconds
        case refundDurationGranularity
        case passwordHashOpsLimit
        case passwordHashMemoryBytes
        case passwordMinLength
        case passwordMaxLength
        case passwordMinClasses
        case loginThrottleAfterFailures
        case loginThrottleBaseSeconds
        case loginThrottleMaxSeconds
        case loginThrottleForgetSeconds

        var name: String {
            switch self {
            case .businessUTCOffset: "business_utc_offset"
            case .currency: "currency"
            case .payDeadlineSeconds: "pay_deadline_seconds"
            case .graceAndRetention: "grace_and_retention"
            case .handlingFeeRatesBP: "handling_fee_rates_bp"
            case .handlingFeeBeyondTableBP: "handling_fee_beyond_table_bp"
            case .fiveDayRefundHours: "five_day_refund_hours"
            case .fiveDayQuotaPerYear: "five_day_quota_per_year"
            case .defaultDeductionDays: "default_deduction_days"
            case .defaultUnifiedExpiryDay: "default_unified_expiry_day"
            case .largeRefundThresholdFen: "large_refund_threshold_fen"
            case .autoRenewHour: "auto_renew_hour"
            case .expiryReminderDays: "expiry_reminder_days"
            case .maxCouponsPerPayment: "max_coupons_per_payment"
            case .maxBatchCancel: "max_batch_cancel"
            case .maxBatchRenew: "max_batch_renew"
            case .exportRetentionHours: "export_retention_hours"
            case .exportDirectory: "export_directory"
            case .exportRowsPerStep: "export_rows_per_step"
            case .maxRenewalPriceExportRows: "max_renewal_price_export_rows"
            case .tokenTTLSeconds: "token_ttl_seconds"
            case .refundDurationGranularity: "refund_duration_granularity"
            case .passwordHashOpsLimit: "password_hash_ops_limit"
            case .passwordHashMemoryBytes: "password_hash_memory_bytes"
            case .passwordMinLength: "password_min_length"
            case .passwordMaxLength: "password_max_length"
            case .passwordMinClasses: "password_min_classes"
            case .loginThrottleAfterFailures: "login_throttle_after_failures"
            case .loginThrottleBaseSeconds: "login_throttle_base_seconds"
            case .loginThrottleMaxSeconds: "login_throttle_max_seconds"
            case .loginThrottleForgetSeconds: "login_throttle_forget_seconds"
            }
        }

        var bit: UInt64 { 1 << UInt64(rawValue) }
    }

    private static let fieldsByName: [String: Field] = Dictionary(uniqueKeysWithValues: Field.allCases.map { ($0.name, $0) })

    /// The fields of `Field` that `patch` holds, as bits.
    static func presentFields(_ patch: ObjectReader) -> UInt64 {
        var present: UInt64 = 0
        patch.forEachKey { key in
            if let field = fieldsByName[key] { present |= field.bit }
        }
        return present
    }

    /// Applies the fields present in `patch` on top of `self`, checking each; fields not
    /// present keep their value, unknown fields are refused.
    public func applying(_ patch: ObjectReader) throws -> Configuration {
        var next = self
        let present = Configuration.presentFields(patch)
        func has(_ field: Field) -> Bool { present & field.bit != 0 }
        if has(.businessUTCOffset), let text = try patch.optionalString(Field.businessUTCOffset.name) {
            guard let seconds = BusinessCalendar.parseOffset(text) else {
                throw BillingError.invalid(.invalidOffset, "\(patch.path).business_utc_offset must look like +08:00 (within ±14:00), got \(BillingError.quote(text))")
            }
            next.businessUTCOffsetSeconds = seconds
        }
        if has(.currency), let code = try patch.optionalString(Field.currency.name, maxLength: 3) {
            guard code.count == 3, code.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) }) else {
                throw BillingError.invalid(.invalidCurrency, "\(patch.path).currency must be a three-letter ISO 4217 code")
            }
            next.currency = code
        }
        if has(.payDeadlineSeconds), let deadlines = try patch.optionalObject(Field.payDeadlineSeconds.name) {
            next.payDeadlineSeconds = try Configuration.intMap(deadlines, in: 60...(365 * 86_400))
            guard next.payDeadlineSeconds["default"] != nil else {
                throw BillingError.invalid(.missingField, "\(deadlines.path).default is required")
            }
        }
        if has(.graceAndRetention), let levels = try patch.optionalObject(Field.graceAndRetention.name) {
            for level in CustomerLevel.allCases {
                guard let entry = try levels.optionalObject(level.rawValue) else { continue }
                next.graceAndRetention[level] = GraceRetention(
                    try entry.int("prepaid_grace_days", in: 0...365),
                    try entry.int("prepaid_retention_days", in: 0...365),
                    try entry.int("on_demand_grace_days", in: 0...365),
                    try entry.int("on_demand_retention_days", in: 0...365))
                try entry.finish()
            }
            try levels.finish()
        }
        if has(.handlingFeeRatesBP), let rates = try patch.optionalObject(Field.handlingFeeRatesBP.name) {
            var table: [String: [Int64]] = [:]
            for key in rates.keys {
                guard key == "MONTHLY" || key.hasPrefix("YEAR_") && Int64(key.dropFirst(5)).map({ (1...100).contains($0) }) == true else {
                    throw BillingError.invalid(.unknownField, "\(rates.path).\(key) must be MONTHLY or YEAR_<n>")
                }
                guard let row = try rates.optionalIntArray(key, in: 0...10_000, maxCount: 100), !row.isEmpty else {
                    throw BillingError.invalid(.missingField, "\(rates.path).\(key) must list at least one rate")
                }
                table[key] = row
            }
            try rates.finish()
            next.handlingFeeRatesBP = table
        }
        if has(.handlingFeeBeyondTableBP), let value = try patch.optionalInt(Field.handlingFeeBeyondTableBP.name, in: 0...10_000) { next.handlingFeeBeyondTableBP = value }
        if has(.fiveDayRefundHours), let value = try patch.optionalInt(Field.fiveDayRefundHours.name, in: 0...8760) { next.fiveDayRefundHours = value }
        if has(.fiveDayQuotaPerYear), let value = try patch.optionalInt(Field.fiveDayQuotaPerYear.name, in: 0...1_000_000) { next.fiveDayQuotaPerYear = value }
        if has(.defaultDeductionDays), let value = try patch.optionalInt(Field.defaultDeductionDays.name, in: 2...7) { next.defaultDeductionDays = value }
        if has(.defaultUnifiedExpiryDay), let day = try patch.optionalInt(Field.defaultUnifiedExpiryDay.name, in: -1...28) {
            guard day != 0 else {
                throw BillingError.invalid(.outOfRange, "\(patch.path).default_unified_expiry_day must be 1–28 or -1 (month end)")
            }
            next.defaultUnifiedExpiryDay = day
        }
        if has(.largeRefundThresholdFen), let value = try patch.optionalMoney(Field.largeRefundThresholdFen.name) { next.largeRefundThreshold = value }
        if has(.autoRenewHour), let value = try patch.optionalInt(Field.autoRenewHour.name, in: 0...23) { next.autoRenewHour = value }
        if has(.expiryReminderDays), let reminders = try patch.optionalObject(Field.expiryReminderDays.name) {
            var table: [String: [Int64]] = [:]
            for policy in ["MANUAL", "NO_RENEW", "TO_ON_DEMAND", "AUTO_RENEW"] {
                if let days = try reminders.optionalIntArray(policy, in: 0...365, maxCount: 30) {
                    table[policy] = Array(Set(days)).sorted(by: >)
                }
            }
            try reminders.finish()
            next.expiryReminderDays = table
        }
        if has(.maxCouponsPerPayment), let value = try patch.optionalInt(Field.maxCouponsPerPayment.name, in: 0...100) { next.maxCouponsPerPayment = value }
        if has(.maxBatchCancel), let value = try patch.optionalInt(Field.maxBatchCancel.name, in: 1...1000) { next.maxBatchCancel = value }
        if has(.maxBatchRenew), let value = try patch.optionalInt(Field.maxBatchRenew.name, in: 1...Configuration.maxBatchRenewLimit) { next.maxBatchRenew = value }
        if has(.exportRetentionHours), let value = try patch.optionalInt(Field.exportRetentionHours.name, in: 1...8760) { next.exportRetentionHours = value }
        if has(.exportDirectory), let directory = try patch.optionalString(Field.exportDirectory.name, maxLength: 1024) {
            guard directory.hasPrefix("/"), !directory.split(separator: "/").contains("..") else {
                throw BillingError.invalid(.invalidPath, "\(patch.path).export_directory must be an absolute path without '..'")
            }
            next.exportDirectory = directory
        }
        if has(.exportRowsPerStep), let value = try patch.optionalInt(Field.exportRowsPerStep.name, in: 10...100_000) { next.exportRowsPerStep = value }
        if has(.maxRenewalPriceExportRows), let value = try patch.optionalInt(Field.maxRenewalPriceExportRows.name, in: 1...10_000_000) { next.maxRenewalPriceExportRows = value }
        if has(.tokenTTLSeconds), let value = try patch.optionalInt(Field.tokenTTLSeconds.name, in: 60...(30 * 86_400)) { next.tokenTTLSeconds = value }
        if has(.refundDurationGranularity), let value = try patch.optionalChoice(Field.refundDurationGranularity.name, ["HOUR", "DAY"]) { next.refundDurationGranularity = value }
        if has(.passwordHashOpsLimit), let value = try patch.optionalInt(Field.passwordHashOpsLimit.name, in: 1...20) { next.passwordHashOpsLimit = value }
        if has(.passwordHashMemoryBytes), let value = try patch.optionalInt(Field.passwordHashMemoryBytes.name, in: PasswordHashCost.minimumMemoryBytes...(1 << 30)) { next.passwordHashMemoryBytes = value }
        try PasswordHashCost.check(opsLimit: next.passwordHashOpsLimit, memoryBytes: next.passwordHashMemoryBytes, path: patch.path)
        if has(.passwordMinLength), let value = try patch.optionalInt(Field.passwordMinLength.name, in: 6...128) { next.passwordMinimumLength = value }
        if has(.passwordMaxLength), let value = try patch.optionalInt(Field.passwordMaxLength.name, in: 8...1024) { next.passwordMaximumLength = value }
        if has(.passwordMinClasses), let value = try patch.optionalInt(Field.passwordMinClasses.name, in: 1...4) { next.passwordMinimumClasses = value }
        guard next.passwordMinimumLength <= next.passwordMaximumLength else {
            throw BillingError.invalid(.outOfRange, "\(patch.path).password_min_length must not exceed password_max_length")
        }
        if has(.loginThrottleAfterFailures), let value = try patch.optionalInt(Field.loginThrottleAfterFailures.name, in: 1...1000) { next.loginThrottleAfterFailures = value }
        if has(.loginThrottleBaseSeconds), let value = try patch.optionalInt(Field.loginThrottleBaseSeconds.name, in: 1...86_400) { next.loginThrottleBaseSeconds = value }
        if has(.loginThrottleMaxSeconds), let value = try patch.optionalInt(Field.loginThrottleMaxSeconds.name, in: 1...(30 * 86_400)) { next.loginThrottleMaxSeconds = value }
        if has(.loginThrottleForgetSeconds), let value = try patch.optionalInt(Field.loginThrottleForgetSeconds.name, in: 60...(365 * 86_400)) { next.loginThrottleForgetSeconds = value }
        try patch.finish()
        return next
    }

    private static func intMap(_ reader: ObjectReader, in range: ClosedRange<Int64>) throws -> [String: Int64] {
        var map: [String: Int64] = [:]
        for key in reader.keys {
            guard key.count <= 64, !key.isEmpty else {
                throw BillingError.invalid(.invalidKey, "\(reader.path) keys must be 1–64 characters")
            }
            map[key] = try reader.int(key, in: range)
        }
        try reader.finish()
        return map
    }
}
