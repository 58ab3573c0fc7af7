/// Every reason an engine error can carry, declared once: its status, the snake_case word hosts
/// branch on, and what it means for a caller.
///
/// This file is the one source of the published list: scripts/catalogue.py reads it to write
/// docs/catalogue.*, the reason list of include/billing.h and the Python binding's
/// `billing.reasons` module. A throw site names a declared reason (`BillingError(.orderNotPayable,
/// "…")`, `BillingError.invalid(.missingField, "…")`); a raw string does not compile, and
/// `Reason`'s initializer is private to this file, so a reason cannot be invented elsewhere.
/// The message stays at the throw site: it says what to fix in that particular case (which field,
/// which id, which limit), which one template per reason could not.
///
/// Reasons and their statuses are append-only and never renamed (the C and Python suites are the
/// contract). A reason no longer thrown stays here with `retired:` saying why, so that its word is
/// never reused for something else.
public struct Reason: Hashable, Sendable, CustomStringConvertible {
    /// The status every error with this reason has.
    public let status: BillingError.Status
    /// The machine-readable word, e.g. "order_not_payable".
    public let name: String
    /// One line for a caller: what happened and what to do (published in docs/catalogue.md).
    public let meaning: String
    /// Why a declared reason is no longer (or not yet) thrown; nil for a reason in use.
    public let retired: String?

    private init(_ status: BillingError.Status, _ name: String, _ meaning: String, retired: String? = nil) {
        self.status = status
        self.name = name
        self.meaning = meaning
        self.retired = retired
    }

    public var description: String { name }
}

extension Reason {
    // MARK: Requests: the JSON reader and field checks (any function)

    public static let malformedJson = Reason(.invalidArgument, "malformed_json",
        "The request is not valid JSON (or is not a JSON object where one is required); the message gives the byte offset.")
    public static let tooDeep = Reason(.invalidArgument, "too_deep",
        "The request nests arrays/objects deeper than 64 levels.")
    public static let stringTooLong = Reason(.invalidArgument, "string_too_long",
        "A string field is longer than its maximum length; the message gives it.")
    public static let controlCharacter = Reason(.invalidArgument, "control_character",
        "A string field contains a control character (U+0000–U+001F, U+007F); remove it.")
    public static let emptyString = Reason(.invalidArgument, "empty_string",
        "A string field that must hold text is empty.")
    public static let emptyList = Reason(.invalidArgument, "empty_list",
        "A list-valued filter was given as an empty list; leave the key out for no filter.")
    public static let notAnInteger = Reason(.invalidArgument, "not_an_integer",
        "A number is written with a fraction or exponent, or does not fit in 64 bits; send whole numbers.")
    public static let wrongType = Reason(.invalidArgument, "wrong_type",
        "A field has the wrong JSON type (e.g. a string where an integer is expected).")
    public static let missingField = Reason(.invalidArgument, "missing_field",
        "A required field is absent or null; the message names its path.")
    public static let unknownField = Reason(.invalidArgument, "unknown_field",
        "The request has a key the engine does not know (requests are strict; responses may grow).")
    public static let unknownValue = Reason(.invalidArgument, "unknown_value",
        "An enumerated field holds a value outside its allowed set; the message lists the allowed values.")
    public static let outOfRange = Reason(.invalidArgument, "out_of_range",
        "A number is outside its allowed range; the message gives the range.")
    public static let valueTooBig = Reason(.invalidArgument, "value_too_big",
        "A value is too large for SQLite to store.")
    public static let tooManyItems = Reason(.invalidArgument, "too_many_items",
        "An array field holds more elements than allowed.")
    public static let negativeAmount = Reason(.invalidArgument, "negative_amount",
        "An amount field that must be zero or more is negative.")
    public static let nonPositiveAmount = Reason(.invalidArgument, "non_positive_amount",
        "An amount that must be greater than zero (a top-up, a coupon value) is zero or negative.")
    public static let amountOutOfRange = Reason(.invalidArgument, "amount_out_of_range",
        "An amount (or a sum, difference or product of amounts) does not fit in a signed 64-bit count of fen; use smaller amounts.")
    public static let invalidField = Reason(.invalidArgument, "invalid_field",
        "A field that does not belong in this request as given (a discount field on a non-discount coupon, a period for a pay-per-use product, coupon_ids without auto_pay, fallback_expiry without RENEWAL_ONLY, …); the message names it.")
    public static let conflictingFields = Reason(.invalidArgument, "conflicting_fields",
        "Two request fields that exclude each other were both given (e.g. \"from\": \"end\" with \"after\").")
    public static let invalidCursor = Reason(.invalidArgument, "invalid_cursor",
        "The `after` cursor of a list request was not produced by the engine as a `next_cursor`; start again without it.")
    public static let invalidWindow = Reason(.invalidArgument, "invalid_window",
        "A time window is reversed or too long (order lists: at most one year; a usage record: at most 31 days), or usage starts before its resource took effect.")
    public static let invalidPeriod = Reason(.invalidArgument, "invalid_period",
        "A period count is outside 1 to the allowed maximum, or a period is malformed.")
    public static let instantOutOfRange = Reason(.invalidArgument, "instant_out_of_range",
        "A time (or a date computed from it) falls outside the years 1970–9999.")
    public static let duplicateResource = Reason(.invalidArgument, "duplicate_resource",
        "The same resource id is listed twice in one request; list each resource once.")
    public static let duplicateCoupon = Reason(.invalidArgument, "duplicate_coupon",
        "The same coupon id is listed twice in one request; list each coupon once.")
    public static let duplicateUsage = Reason(.invalidArgument, "duplicate_usage",
        "The same usage id appears twice in one usage report; each usage record needs its own id.")

    // MARK: The C boundary

    public static let invalidUtf8 = Reason(.invalidArgument, "invalid_utf8",
        "A string argument passed through the C ABI is not valid UTF-8.")
    public static let nullArgument = Reason(.invalidArgument, "null_argument",
        "A required pointer argument of the C function is NULL.")
    public static let unknownFunction = Reason(.invalidArgument, "unknown_function",
        "billing_call: the function name is not a JSON function of this library (check the spelling and the version).")
    public static let outOfMemory = Reason(.`internal`, "out_of_memory",
        "The response could not be allocated.")
    public static let unexpectedError = Reason(.`internal`, "unexpected_error",
        "An error the engine did not classify (a defect; please report it with the message).")
    public static let badRequest = Reason(.`internal`, "bad_request",
        "A stored batch-export request is unreadable (a defect; please report it).",
        retired: "0.2.0: export requests are read into a typed request once, so their order ids can no longer be malformed")
    public static let notAnObject = Reason(.`internal`, "not_an_object",
        "A request passed the checks but is not an object (a defect; please report it).")

    // MARK: Engine handle, clock, configuration and backup

    public static let invalidPath = Reason(.invalidArgument, "invalid_path",
        "The database path is empty or otherwise unusable; give a file name or \":memory:\".")
    public static let invalidOption = Reason(.invalidArgument, "invalid_option",
        "An engine-open option is inconsistent (e.g. `now` without `\"clock\": \"manual\"`).")
    public static let clockBackwards = Reason(.invalidArgument, "clock_backwards",
        "A manual clock may only move forward; the requested instant is before the handle's current time.")
    public static let clockNotManual = Reason(.refused, "clock_not_manual",
        "The handle uses the system clock; only a handle opened with a manual clock can set or advance time.")
    public static let invalidCurrency = Reason(.invalidArgument, "invalid_currency",
        "The configured currency is not a three-letter ISO 4217 code.")
    public static let invalidOffset = Reason(.invalidArgument, "invalid_offset",
        "The business UTC offset is not of the form ±HH:MM within ±14:00.")
    public static let invalidKey = Reason(.invalidArgument, "invalid_key",
        "A key of a configuration map is empty or longer than 64 characters.")
    public static let destinationNotAbsolute = Reason(.invalidArgument, "destination_not_absolute",
        "billing_engine_backup, billing_engine_copy: the destination must be an absolute path (or, for a copy, a PostgreSQL connection string).")
    public static let destinationExists = Reason(.conflict, "destination_exists",
        "billing_engine_backup: a file already exists at the destination; a backup never overwrites.")
    public static let backupFailed = Reason(.storage, "backup_failed",
        "billing_engine_backup: SQLite could not write the copy (disk full, permissions); nothing is left at the destination.")
    public static let destinationNotEmpty = Reason(.conflict, "destination_not_empty",
        "billing_engine_copy: the destination database already holds rows; a copy goes only into an empty database, and nothing was written.")
    public static let copyVersionMismatch = Reason(.refused, "copy_version_mismatch",
        "billing_engine_copy: the destination's schema version differs from the source's; nothing was written.")
    public static let copySourceNotSQLite = Reason(.refused, "copy_source_not_sqlite",
        "billing_engine_copy: the engine's own database is a PostgreSQL one; the copy moves an SQLite database (into a file or PostgreSQL), and PostgreSQL's is pg_dump.")
    public static let copyForeignValue = Reason(.refused, "copy_foreign_value",
        "billing_engine_copy: the source holds a value the library never writes (a real number or a blob, written by someone else); nothing was written. billing_verify names the row.")

    // MARK: Platform accounts, registration and login

    public static let invalidEmail = Reason(.invalidArgument, "invalid_email",
        "The e-mail address is not well formed.")
    public static let invalidPhone = Reason(.invalidArgument, "invalid_phone",
        "The phone number is neither +<country code><number> nor an 11-digit mainland mobile number.")
    public static let invalidUserName = Reason(.invalidArgument, "invalid_user_name",
        "The user name is not 3–32 letters, digits, '_', '-' or '.', starting with a letter.")
    public static let passwordControlCharacter = Reason(.invalidArgument, "password_control_character",
        "The password contains a control character.")
    public static let passwordEqualsIdentifier = Reason(.invalidArgument, "password_equals_identifier",
        "The password equals the user name, e-mail address or phone number of the account.")
    public static let passwordTooLong = Reason(.invalidArgument, "password_too_long",
        "The password is longer than the configured maximum.")
    public static let passwordTooShort = Reason(.invalidArgument, "password_too_short",
        "The password is shorter than the configured minimum.")
    public static let passwordTooSimple = Reason(.invalidArgument, "password_too_simple",
        "The password mixes fewer character classes (lower, upper, digits, other) than required.")
    public static let userNameTaken = Reason(.conflict, "user_name_taken",
        "Another platform account already uses this user name.")
    public static let emailTaken = Reason(.conflict, "email_taken",
        "Another platform account already uses this e-mail address.")
    public static let phoneTaken = Reason(.conflict, "phone_taken",
        "Another platform account already uses this phone number.")
    public static let notSubmitted = Reason(.refused, "not_submitted",
        "Only a SUBMITTED application can be approved or rejected.")
    public static let notAwaitingPassword = Reason(.refused, "not_awaiting_password",
        "The platform account is not an approved application waiting for its first password.")
    public static let notEligible = Reason(.refused, "not_eligible",
        "The customer account fails an eligibility check (E1–E4) for a platform account; the message lists which.")
    public static let invalidToken = Reason(.refused, "invalid_token",
        "The password-link token is unknown or does not match; request a new link.")
    public static let tokenExpired = Reason(.refused, "token_expired",
        "The password-link token expired; request a new link.")
    public static let tokenUsed = Reason(.refused, "token_used",
        "The password-link token was already used or replaced by a newer one; request a new link.")
    public static let invalidCredentials = Reason(.unauthenticated, "invalid_credentials",
        "Unknown identifier or wrong password (one answer for both, on purpose).")
    public static let loginThrottled = Reason(.unauthenticated, "login_throttled",
        "Too many failed logins for this identifier (known or not): wait until retry_after in the message; every attempt before then fails the same way.")
    public static let cryptoUnavailable = Reason(.`internal`, "crypto_unavailable",
        "libsodium failed to initialise, so passwords and tokens cannot be handled.")
    public static let passwordHashFailed = Reason(.`internal`, "password_hash_failed",
        "Hashing the password failed (out of memory?); nothing was stored.")
    public static let platformAccountNotFound = Reason(.notFound, "platform_account_not_found",
        "No platform (login) account with this id or identifier.")

    // MARK: Accounts and balance

    public static let accountNotFound = Reason(.notFound, "account_not_found",
        "No customer account with this id (ids of other tenants are reported the same way).")
    public static let accountFrozen = Reason(.refused, "account_frozen",
        "The account is frozen (arrears or police freeze) and cannot pay or renew.")
    public static let accountInArrears = Reason(.refused, "account_in_arrears",
        "The account owes pay-per-use arrears; top up to settle them before paying for anything.")
    public static let policeFrozen = Reason(.refused, "police_frozen",
        "The account is frozen by public security; its resources cannot be released.")
    public static let notRealnameVerified = Reason(.refused, "not_realname_verified",
        "Only real-name verified customers may release resources themselves.")
    public static let creditLimitBelowUsed = Reason(.refused, "credit_limit_below_used",
        "The new credit limit is below the credit the account already uses.")
    public static let topupReferenceReused = Reason(.conflict, "topup_reference_reused",
        "The external top-up reference was already recorded with another amount; a repeat with the same amount is answered as the first.")
    public static let insufficientFunds = Reason(.refused, "insufficient_funds",
        "Cash plus available credit (after coupons) does not cover the amount due; top up or use coupons.")

    // MARK: Products and prices

    public static let productNotFound = Reason(.notFound, "product_not_found",
        "No product with this id.")
    public static let missingPrice = Reason(.invalidArgument, "missing_price",
        "A product allows a period unit but has no price for that unit (monthly or yearly price missing).")
    public static let productOffSale = Reason(.refused, "product_off_sale",
        "The product is off sale, so it cannot be bought or renewed (or its auto-renewal changed).")
    public static let priceChanged = Reason(.refused, "price_changed",
        "The amount due differs from the quoted amount the caller passed; quote again.")
    public static let periodNotAllowed = Reason(.refused, "period_not_allowed",
        "The product cannot be bought or renewed for this period.")
    public static let noMonthlyPrice = Reason(.refused, "no_monthly_price",
        "The renewal needs a monthly price to price extra days (unified expiry day) but the product has none.")
    public static let noUsagePrice = Reason(.refused, "no_usage_price",
        "The product has no pay-per-use price, so usage cannot be rated.")
    public static let noPeriod = Reason(.refused, "no_period",
        "Auto-renewal has no period to renew for.")

    // MARK: Orders and payment

    public static let orderNotFound = Reason(.notFound, "order_not_found",
        "No order with this id on this account.")
    public static let orderAlreadyPaid = Reason(.refused, "order_already_paid",
        "The order is already paid.")
    public static let orderNotCancellable = Reason(.refused, "order_not_cancellable",
        "Only PENDING_PAYMENT orders can be cancelled.")
    public static let orderNotPayable = Reason(.refused, "order_not_payable",
        "The order is not PENDING_PAYMENT, so it cannot be paid.")
    public static let orderNotPending = Reason(.refused, "order_not_pending",
        "Only pending orders can be exported as a batch for offline payment.")
    public static let orderPaymentExpired = Reason(.refused, "order_payment_expired",
        "The order passed its payment deadline (it will be, or was, cancelled).")
    public static let orderProcessing = Reason(.refused, "order_processing",
        "The resource has an order in progress; wait for it or cancel it.")
    public static let pendingOrderExists = Reason(.refused, "pending_order_exists",
        "The resource already has an unpaid order (e.g. a renewal); pay or cancel it first.")
    public static let reviewRequired = Reason(.refused, "review_required",
        "The order needs a review before it can be paid, so it cannot be created with auto_pay.")
    public static let confirmationExpired = Reason(.refused, "confirmation_expired",
        "The order waited for confirmation past its deadline and can no longer be confirmed.")
    public static let quoteStale = Reason(.refused, "quote_stale",
        "The refund differs from the quote the caller passed (time passed or the resource changed); quote again.")
    public static let mixedBillingModes = Reason(.refused, "mixed_billing_modes",
        "Pay-per-use products cannot be bought in the same order as prepaid (yearly/monthly) ones.")
    public static let useCombinedOrder = Reason(.refused, "use_combined_order",
        "The order is part of a combined order; pay or cancel the combined order instead.")
    public static let illegalTransition = Reason(.refused, "illegal_transition",
        "The order or resource is not in a status this operation can move it from: the move is not in the order state machine (T1–T15, U1–U5) or the resource lifecycle (e.g. reviewing an order that is not awaiting review). The message names both statuses; nothing is written.")
    public static let discountNoLongerValid = Reason(.refused, "discount_no_longer_valid",
        "A promotion price the order was created with has ended; create the order again.")

    // MARK: Coupons

    public static let couponNotFound = Reason(.notFound, "coupon_not_found",
        "No coupon with this id on this account.")
    public static let couponExcludesDiscounts = Reason(.refused, "coupon_excludes_discounts",
        "The coupon cannot be combined with commercial or promotion discounts or with a discount coupon.")
    public static let couponMinSpendNotMet = Reason(.refused, "coupon_min_spend_not_met",
        "The order's eligible amount is not above the coupon's minimum spend.")
    public static let couponNotApplicable = Reason(.refused, "coupon_not_applicable",
        "The coupon's scope matches no product of the order.")
    public static let couponNotUsable = Reason(.refused, "coupon_not_usable",
        "The coupon is not usable now (not yet valid, expired, used or voided).")
    public static let tooManyCoupons = Reason(.refused, "too_many_coupons",
        "More coupons than allowed in one payment.")
    public static let tooManyDiscountCoupons = Reason(.refused, "too_many_discount_coupons",
        "Only one discount coupon can be used in one payment.")

    // MARK: Resources, renewals and expiry policies

    public static let resourceNotFound = Reason(.notFound, "resource_not_found",
        "No resource with this id on this account.")
    public static let resourceDeleted = Reason(.refused, "resource_deleted",
        "Usage was reported for a time after the pay-per-use resource was deleted; usage up to the deletion is still accepted.")
    public static let resourceNotInUse = Reason(.refused, "resource_not_in_use",
        "The resource is not IN_USE, so usage cannot be rated for it.")
    public static let notActive = Reason(.refused, "not_active",
        "The platform account is not ACTIVE, so this operation (login, password reset) is not possible.")
    public static let notDeletable = Reason(.refused, "not_deletable",
        "billing_resources_delete: the resource is not in a state the host can delete from (already deleted, released or not yet provisioned).")
    public static let notPrimary = Reason(.refused, "not_primary",
        "The resource is bound to a primary resource; act on the primary (bound resources follow it).")
    public static let notReleasable = Reason(.refused, "not_releasable",
        "Only expired or frozen resources can be released.")
    public static let notRenewableStatus = Reason(.refused, "not_renewable_status",
        "The resource's status does not allow renewal (e.g. released or not yet provisioned).")
    public static let notPendingProvision = Reason(.refused, "not_pending_provision",
        "The resource is not waiting for provisioning, so a provisioning result cannot be reported for it.")
    public static let notPrepaid = Reason(.refused, "not_prepaid",
        "Only yearly/monthly (prepaid) resources can be renewed or given an expiry policy.")
    public static let notPayPerUse = Reason(.refused, "not_pay_per_use",
        "Usage can only be reported for pay-per-use resources.")
    public static let supplementsProvisioning = Reason(.refused, "supplements_provisioning",
        "Resources bound to this one are still being provisioned; try again when they are done.")
    public static let staleRenewal = Reason(.refused, "stale_renewal",
        "The resource changed after the renewal order was created; cancel that order and renew again.")
    public static let autoRenewNotSupported = Reason(.refused, "auto_renew_not_supported",
        "The product does not allow auto-renewal.")
    public static let boundModeMismatch = Reason(.refused, "bound_mode_mismatch",
        "A bound (supplementary) product is billed differently from its primary product.")
    public static let policyNotApplicable = Reason(.refused, "policy_not_applicable",
        "Expiry policies apply to paid yearly/monthly resources only.")
    public static let toOnDemandNotSupported = Reason(.refused, "to_on_demand_not_supported",
        "The product cannot convert to pay-per-use (it has no pay-per-use price).")
    public static let convertingToOnDemand = Reason(.refused, "converting_to_on_demand",
        "The resource is set to convert to pay-per-use at expiry, so it cannot be renewed; change its policy first.")
    public static let unifiedRequiresInUse = Reason(.refused, "unified_requires_in_use",
        "A unified expiry day can only be applied to resources that have not expired.")
    public static let unifiedRequiresRenewalPolicy = Reason(.refused, "unified_requires_renewal_policy",
        "A unified-expiry renewal was asked for a resource whose policy is not manual or auto-renew (only those tabs offer it).")

    // MARK: Unsubscription and refunds

    public static let notRefundable = Reason(.refused, "not_refundable",
        "The resource cannot be unsubscribed for a refund; the message gives the not-refundable reason.")
    public static let alreadyRefunded = Reason(.refused, "already_refunded",
        "What was paid for this resource (or this failed creation) has already been refunded.")
    public static let invalidFallbackExpiry = Reason(.invalidArgument, "invalid_fallback_expiry",
        "The `fallback_expiry` of a renewal unsubscription is not the end of a period that remains after the unsubscribed renewals.")

    // MARK: Usage

    public static let usageIdReused = Reason(.conflict, "usage_id_reused",
        "A usage id was already reported with other values; a repeat with the same values is ignored.")

    // MARK: Exports

    public static let exportNotFound = Reason(.notFound, "export_not_found",
        "No export with this id on this account (or it was purged).")
    public static let exportDirectoryRequired = Reason(.refused, "export_directory_required",
        "Exports need an `export_directory` configuration when the database is in memory.")
    public static let exportNotReady = Reason(.refused, "export_not_ready",
        "The export is not READY (still running, failed or purged), so it cannot be downloaded.")
    public static let tooManyRows = Reason(.refused, "too_many_rows",
        "The renewal price list for this filter would exceed the configured maximum rows; narrow the filter.")
    public static let exportDirectory = Reason(.storage, "export_directory",
        "The export directory cannot be created.")
    public static let exportMissing = Reason(.storage, "export_missing",
        "The export's file is missing from the export directory.")
    public static let exportRead = Reason(.storage, "export_read",
        "The export's file cannot be read.")
    public static let exportWrite = Reason(.storage, "export_write",
        "The export's file cannot be created or written.")

    // MARK: Storage, schema and audit

    public static let idempotencyKeyReused = Reason(.conflict, "idempotency_key_reused",
        "The idempotency key was already used for a different request; use a new key for a new request.")
    public static let constraintViolation = Reason(.conflict, "constraint_violation",
        "A stored-data uniqueness or integrity constraint refused the change (usually a concurrent duplicate); nothing was written.")
    public static let cannotOpen = Reason(.storage, "cannot_open",
        "SQLite cannot open the database file (missing directory, permissions).")
    public static let databaseCorrupt = Reason(.storage, "database_corrupt",
        "SQLite reports the database file as corrupt; restore a backup.")
    public static let diskFull = Reason(.storage, "disk_full",
        "The disk is full; nothing was written.")
    public static let readOnly = Reason(.storage, "read_only",
        "The database file or its directory is read-only.")
    public static let rollbackFailed = Reason(.storage, "rollback_failed",
        "SQLite could not undo part of the operation (a step of it, a quote's rehearsal, or the transaction after an error), so the whole call was abandoned rather than go on from an unknown state; the message carries SQLite's text. Nothing was changed; retry, and check the disk if it repeats.")
    public static let sqliteError = Reason(.storage, "sqlite_error",
        "Another SQLite error; the message carries SQLite's code and text.")
    public static let storedValueUnreadable = Reason(.storage, "stored_value_unreadable",
        "A value stored in the database cannot be read back (damaged or edited outside the library); the message names the record. Nothing was changed; restore from a backup.")
    public static let databaseBusy = Reason(.busy, "database_busy",
        "Another writer held the database lock longer than busy_timeout_ms; retry later.")
    public static let invalidSchemaVersion = Reason(.schema, "invalid_schema_version",
        "The file holds a schema version no libbilling writes (e.g. negative); it is refused untouched.")
    public static let notABillingDatabase = Reason(.schema, "not_a_billing_database",
        "The file holds tables libbilling did not create; it is left untouched.")
    public static let notADatabase = Reason(.schema, "not_a_database",
        "The file is not an SQLite database.")
    public static let schemaDamaged = Reason(.schema, "schema_damaged",
        "The file's tables, columns or indexes are not the ones its schema version promises (something was dropped or added outside the library); the message names the differences; refused untouched.")
    public static let schemaTooNew = Reason(.schema, "schema_too_new",
        "A newer libbilling migrated this file; this library will not change it (upgrade the library).")
    public static let auditKeyMismatch = Reason(.refused, "audit_key_mismatch",
        "The handle's audit_key does not link the audit chain's last row: another key was used on this file, or that row was changed. Nothing was written.")
    public static let auditKeyRequired = Reason(.refused, "audit_key_required",
        "The file's audit chain is keyed: a handle opened without the host's audit_key may read and verify but not write, seal, or (PostgreSQL) number new events for the outbox.")
    public static let nestedTransaction = Reason(.`internal`, "nested_transaction",
        "A transaction was opened inside another (a defect; please report it).")
    public static let unauditedWrite = Reason(.`internal`, "unaudited_write",
        "A write touched rows the audit chain covers without appending an audit row in the same transaction; it was rolled back (a defect; please report it).")
    public static let uncoveredTable = Reason(.`internal`, "uncovered_table",
        "A write touched a table the row coverage does not know (a defect; please report it).")

    // MARK: PostgreSQL backend (in progress: docs/postgresql.md)

    public static let serializationFailure = Reason(.busy, "serialization_failure",
        "PostgreSQL backend: a concurrent transaction changed what this one read (SQLSTATE 40001) and the engine's bounded retries of the whole transaction ran out; nothing was committed, retry later.")
    public static let deadlockDetected = Reason(.busy, "deadlock_detected",
        "PostgreSQL backend: two transactions waited for each other (SQLSTATE 40P01) and the engine's bounded retries ran out; nothing was committed, retry later.")
    public static let connectionLost = Reason(.storage, "connection_lost",
        "PostgreSQL backend: the connection to the server was lost (server restarted, session terminated, network gone) before the transaction committed; nothing of it was committed, and the next call reconnects by itself.")
    public static let commitOutcomeUnknown = Reason(.storage, "commit_outcome_unknown",
        "PostgreSQL backend: the connection was lost while committing, so whether the operation committed is unknown; retry with the same idempotency key, which answers it once either way.")
    public static let transactionAborted = Reason(.`internal`, "transaction_aborted",
        "PostgreSQL backend: a statement failed inside a transaction and the failure was not passed on (a defect); the transaction was rolled back and nothing was committed.")
    public static let valueNotStorable = Reason(.invalidArgument, "value_not_storable",
        "PostgreSQL backend: a text value holds a NUL character, which PostgreSQL text cannot store; nothing was changed.")
    public static let backupNeedsPgDump = Reason(.refused, "backup_needs_pg_dump",
        "PostgreSQL backend: the database is not one file the library can copy; back it up with pg_dump (or the server's own base backups and WAL archiving). Nothing was written.")
    public static let postgresError = Reason(.storage, "postgres_error",
        "PostgreSQL backend: the server reported an error the engine has no more specific reason for; the message names the SQLSTATE.")

    // MARK: Money arithmetic (defects if they reach a caller)

    public static let emptyAllocation = Reason(.`internal`, "empty_allocation",
        "An amount was split across no parts (a defect; please report it).")
    public static let negativeWeight = Reason(.`internal`, "negative_weight",
        "An amount was split with a negative weight (a defect; please report it).")
    public static let zeroDenominator = Reason(.`internal`, "zero_denominator",
        "A ratio with a non-positive denominator was computed (a defect; please report it).")
}
