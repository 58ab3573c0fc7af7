import BillingEngine
import CBilling
import BillingDomain
import BillingDocuments

// Renewals, expiry policies, release and the renewal view: each a JSON call (see billing.h).

@c @implementation
public func billing_resources_renew(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                    _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.renewResources(text) }
}

@c @implementation
public func billing_resources_policy_set(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                         _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.setExpiryPolicy(text) }
}

@c @implementation
public func billing_resources_release(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                      _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.releaseResources(text) }
}

@c @implementation
public func billing_renewals_list(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                  _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.listRenewals(text) }
}

@c @implementation
public func billing_renewal_quote(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                  _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.quoteRenewal(text) }
}
