import BillingEngine
import CBilling
import BillingDomain
import BillingDocuments

// Unsubscription and refunds: each a JSON call (see billing.h).

@c @implementation
public func billing_refund_quote(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                 _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.quoteRefund(text) }
}

@c @implementation
public func billing_resources_unsubscribe(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                          _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.unsubscribe(text) }
}

@c @implementation
public func billing_resource_refund_blocks_set(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                               _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.setRefundBlocks(text) }
}

@c @implementation
public func billing_unsubscriptions_list(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                         _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.listUnsubscriptions(text) }
}
