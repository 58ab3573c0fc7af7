import BillingEngine
import CBilling
import BillingDomain
import BillingDocuments

// Accounts, money, coupons, platform accounts and login: each a JSON call (see billing.h).

@c @implementation
public func billing_account_put(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.putAccount(text) }
}

@c @implementation
public func billing_account_get(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.getAccount(text) }
}

@c @implementation
public func billing_account_settings_update(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                            _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.updateAccountSettings(text) }
}

@c @implementation
public func billing_account_topup(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                  _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.topUp(text) }
}

@c @implementation
public func billing_ledger_list(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.listLedger(text) }
}

@c @implementation
public func billing_coupon_issue(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                 _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.issueCoupon(text) }
}

@c @implementation
public func billing_coupons_list(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                 _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.listCoupons(text) }
}

@c @implementation
public func billing_platform_eligibility(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                         _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.platformEligibility(text) }
}

@c @implementation
public func billing_platform_apply(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                   _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.applyForPlatformAccount(text) }
}

@c @implementation
public func billing_platform_approve(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                     _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.approvePlatformAccount(text) }
}

@c @implementation
public func billing_platform_reject(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                    _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.rejectPlatformAccount(text) }
}

@c @implementation
public func billing_platform_resend_link(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                         _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.resendPasswordLink(text) }
}

@c @implementation
public func billing_platform_activate(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                      _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.activatePlatformAccount(text) }
}

@c @implementation
public func billing_platform_get(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                 _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.getPlatformAccount(text) }
}

@c @implementation
public func billing_platform_accounts_list(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                           _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.listPlatformAccounts(text) }
}

@c @implementation
public func billing_platform_login(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                   _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.login(text) }
}

@c @implementation
public func billing_platform_reset_request(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                           _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.requestPasswordReset(text) }
}

@c @implementation
public func billing_platform_reset_complete(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                            _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.completePasswordReset(text) }
}
