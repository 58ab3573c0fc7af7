#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BillingEngine
import CBilling
import BillingDomain
import BillingDocuments

/// The shape of every JSON export: engine, request text, response text.
typealias JSONExport = @Sendable (OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32

/// What billing_call reaches, by C name. Each entry is the export itself, so a call through
/// billing_call behaves exactly as the direct call (same checks, same last error); only the
/// packaging of the outcome differs. examples/c/test_abi.c checks that every JSON function of
/// the header is here: a new one is added with its export.
private let callable: [String: JSONExport] = [
    "billing_engine_backup": billing_engine_backup,
    "billing_engine_copy": billing_engine_copy,
    "billing_config_get": callConfigGet,
    "billing_config_update": billing_config_update,
    "billing_clock_now": callClockNow,
    "billing_clock_set": callClockSet,
    "billing_clock_advance": callClockAdvance,
    "billing_events_list": billing_events_list,
    "billing_audit_list": billing_audit_list,
    "billing_audit_head": billing_audit_head,
    "billing_account_put": billing_account_put,
    "billing_account_get": billing_account_get,
    "billing_account_settings_update": billing_account_settings_update,
    "billing_account_topup": billing_account_topup,
    "billing_ledger_list": billing_ledger_list,
    "billing_coupon_issue": billing_coupon_issue,
    "billing_coupons_list": billing_coupons_list,
    "billing_platform_eligibility": billing_platform_eligibility,
    "billing_platform_apply": billing_platform_apply,
    "billing_platform_approve": billing_platform_approve,
    "billing_platform_reject": billing_platform_reject,
    "billing_platform_resend_link": billing_platform_resend_link,
    "billing_platform_activate": billing_platform_activate,
    "billing_platform_get": billing_platform_get,
    "billing_platform_accounts_list": billing_platform_accounts_list,
    "billing_platform_login": billing_platform_login,
    "billing_platform_reset_request": billing_platform_reset_request,
    "billing_platform_reset_complete": billing_platform_reset_complete,
    "billing_product_put": billing_product_put,
    "billing_product_get": billing_product_get,
    "billing_products_list": billing_products_list,
    "billing_discount_set": billing_discount_set,
    "billing_order_quote": billing_order_quote,
    "billing_order_create": billing_order_create,
    "billing_order_pay": billing_order_pay,
    "billing_order_pay_quote": billing_order_pay_quote,
    "billing_orders_cancel": billing_orders_cancel,
    "billing_order_review": billing_order_review,
    "billing_order_confirm": billing_order_confirm,
    "billing_order_get": billing_order_get,
    "billing_orders_list": billing_orders_list,
    "billing_resource_report": billing_resource_report,
    "billing_resource_get": billing_resource_get,
    "billing_resources_list": billing_resources_list,
    "billing_scheduler_run": billing_scheduler_run,
    "billing_resources_renew": billing_resources_renew,
    "billing_renewal_quote": billing_renewal_quote,
    "billing_resources_policy_set": billing_resources_policy_set,
    "billing_resources_release": billing_resources_release,
    "billing_renewals_list": billing_renewals_list,
    "billing_refund_quote": billing_refund_quote,
    "billing_resources_unsubscribe": billing_resources_unsubscribe,
    "billing_resource_refund_blocks_set": billing_resource_refund_blocks_set,
    "billing_unsubscriptions_list": billing_unsubscriptions_list,
    "billing_usage_report": billing_usage_report,
    "billing_usage_list": billing_usage_list,
    "billing_packages_list": billing_packages_list,
    "billing_resources_delete": billing_resources_delete,
    "billing_export_request": billing_export_request,
    "billing_export_step": billing_export_step,
    "billing_export_download": billing_export_download,
    "billing_exports_list": billing_exports_list,
    "billing_verify": billing_verify,
]

@c @implementation
public func billing_call(_ handle: OpaquePointer?, _ function: UnsafePointer<CChar>?, _ request: UnsafePointer<CChar>?,
                         _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    out?.pointee = nil
    var target: JSONExport?
    var status = boundary {
        guard out != nil else { throw BillingError.invalid(.nullArgument, "out_json must not be NULL") }
        let name = try inputString(function, "function", optional: true)
        guard let name, let found = callable[name] else {
            throw BillingError.invalid(.unknownFunction,
                                       "function must name a JSON function of billing.h, e.g. \"billing_account_get\"; got \(name.map { "\"\($0)\"" } ?? "NULL")")
        }
        target = found
    }
    guard let out else { return status }
    var response: UnsafeMutablePointer<CChar>?
    if let target { status = target(handle, request, &response) }
    // Read in this same call, on this same thread: the host never needs the thread-local copy.
    let document = status == 0 ? successDocument(response) : errorDocument(status)
    free(response)
    guard let document else {
        LastError.set(BillingError(.outOfMemory, "could not allocate the response"))
        return BillingError.Status.internal.rawValue
    }
    out.pointee = document
    return status
}

/// `{"ok":true,"result":<response>}` without parsing the response again (keys stay sorted).
private func successDocument(_ response: UnsafeMutablePointer<CChar>?) -> UnsafeMutablePointer<CChar>? {
    guard let response else { return nil }
    let prefix = "{\"ok\":true,\"result\":", suffix = "}"
    let length = strlen(response)
    let (total, overflow) = length.addingReportingOverflow(prefix.utf8.count + suffix.utf8.count + 1)
    guard !overflow, let buffer = malloc(total)?.assumingMemoryBound(to: CChar.self) else { return nil }
    var at = 0
    for byte in prefix.utf8 { buffer[at] = CChar(bitPattern: byte); at += 1 }
    memcpy(buffer + at, response, length)
    at += length
    for byte in suffix.utf8 { buffer[at] = CChar(bitPattern: byte); at += 1 }
    buffer[at] = 0
    return buffer
}

/// The failure document, from the error the call just left in this thread's slot.
private func errorDocument(_ status: Int32) -> UnsafeMutablePointer<CChar>? {
    let slot = LastError.slot(create: false)
    let reason = slot?.reason.map { String(cString: $0) } ?? "unexpected_error"
    let message = slot?.message.map { String(cString: $0) } ?? "the call failed without an error description"
    let statusName = billing_status_string(status).map { String(cString: $0) } ?? "unknown status"
    var error: [String: JSONValue] = ["status": .integer(Int64(status)), "status_name": .string(statusName),
                                      "reason": .string(reason), "message": .string(message)]
    // A refused login names the end of its wait as a number (also at the end of the message).
    if let retryAfter = slot?.retryAfter { error["retry_after"] = .integer(retryAfter) }
    let document: JSONValue = ["ok": false, "error": .object(error)]
    return document.text.withCString { strdup($0) }
}

// MARK: The functions of another shape, as JSON functions

private func callConfigGet(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                           _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out, requestOptional: true) { engine, text in
        try ObjectReader(text: text).finish()
        return try engine.configurationJSON()
    }
}

private func callClockNow(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                          _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out, requestOptional: true) { engine, text in
        try ObjectReader(text: text).finish()
        return clockDocument(engine.now)
    }
}

private func callClockSet(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                          _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in
        let reader = try ObjectReader(text: text)
        let now = try reader.int("now")
        try reader.finish()
        try engine.setClock(to: now)
        return clockDocument(engine.now)
    }
}

private func callClockAdvance(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                              _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in
        let reader = try ObjectReader(text: text)
        let seconds = try reader.int("seconds")
        try reader.finish()
        return clockDocument(try engine.advanceClock(by: seconds))
    }
}

private func clockDocument(_ now: Int64) -> String {
    JSONValue.object(["now": .integer(now), "schema_version": .integer(Engine.schemaVersion)]).text
}
