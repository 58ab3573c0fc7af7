import BillingEngine
import CBilling
import BillingDomain
import BillingDocuments

// Export records and their files: each a JSON call (see billing.h).

@c @implementation
public func billing_export_request(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                   _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.requestExport(text) }
}

@c @implementation
public func billing_export_step(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.stepExport(text) }
}

@c @implementation
public func billing_export_download(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                    _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.downloadExport(text) }
}

@c @implementation
public func billing_exports_list(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                 _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.listExports(text) }
}
