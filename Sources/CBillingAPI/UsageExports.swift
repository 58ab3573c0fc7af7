import BillingEngine
import CBilling
import BillingDomain
import BillingDocuments

// Pay-per-use usage and packages: each a JSON call (see billing.h).

@c @implementation
public func billing_usage_report(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                 _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.reportUsage(text) }
}

@c @implementation
public func billing_usage_list(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                               _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.listUsage(text) }
}

@c @implementation
public func billing_packages_list(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                  _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.listPackages(text) }
}

@c @implementation
public func billing_resources_delete(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                     _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.deleteResources(text) }
}
