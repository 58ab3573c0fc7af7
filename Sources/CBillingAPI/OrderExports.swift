import BillingEngine
import CBilling
import BillingDomain
import BillingDocuments

// Catalog, orders, payment, provisioning and the scheduler: each a JSON call (see billing.h).

@c @implementation
public func billing_product_put(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.putProduct(text) }
}

@c @implementation
public func billing_product_get(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.getProduct(text) }
}

@c @implementation
public func billing_products_list(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                  _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.listProducts(text) }
}

@c @implementation
public func billing_discount_set(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                 _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.setCommercialDiscount(text) }
}

@c @implementation
public func billing_order_quote(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.quote(text) }
}

@c @implementation
public func billing_order_create(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                 _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.createOrder(text) }
}

@c @implementation
public func billing_order_pay(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                              _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.payOrder(text) }
}

@c @implementation
public func billing_order_pay_quote(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                    _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.quoteOrderPayment(text) }
}

@c @implementation
public func billing_orders_cancel(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                  _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.cancelOrders(text) }
}

@c @implementation
public func billing_order_review(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                 _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.reviewOrder(text) }
}

@c @implementation
public func billing_order_confirm(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                  _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.confirmOrder(text) }
}

@c @implementation
public func billing_order_get(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                              _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.orderDetails(text) }
}

@c @implementation
public func billing_orders_list(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.listOrders(text) }
}

@c @implementation
public func billing_resource_report(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                    _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.reportProvisioning(text) }
}

@c @implementation
public func billing_resource_get(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                 _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.getResource(text) }
}

@c @implementation
public func billing_resources_list(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                   _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.listResources(text) }
}

@c @implementation
public func billing_scheduler_run(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                  _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.runScheduler(text) }
}

@c @implementation
public func billing_verify(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                           _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out, requestOptional: true) { engine, text in try engine.verify(text) }
}
