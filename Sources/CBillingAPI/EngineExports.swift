import BillingEngine
import CBilling
import BillingDomain
import BillingDocuments

@c @implementation
public func billing_engine_open(_ path: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?,
                                _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    out?.pointee = nil
    return boundary {
        guard let out else { throw BillingError.invalid(.nullArgument, "out_engine must not be NULL") }
        let path = try inputString(path, "path") ?? ""
        let options = try inputString(options, "options_json", optional: true)
        let engine = try Engine(path: path, optionsJSON: options)
        out.pointee = OpaquePointer(Unmanaged.passRetained(engine).toOpaque())
    }
}

@c @implementation
public func billing_engine_close(_ handle: OpaquePointer?) {
    LastError.clear()
    guard let handle else { return }
    Unmanaged<Engine>.fromOpaque(UnsafeRawPointer(handle)).release()
}

@c @implementation
public func billing_clock_now(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<Int64>?) -> Int32 {
    boundary {
        guard let out else { throw BillingError.invalid(.nullArgument, "out_now must not be NULL") }
        out.pointee = try engine(handle).now
    }
}

@c @implementation
public func billing_clock_set(_ handle: OpaquePointer?, _ now: Int64) -> Int32 {
    boundary { try engine(handle).setClock(to: now) }
}

@c @implementation
public func billing_clock_advance(_ handle: OpaquePointer?, _ seconds: Int64, _ out: UnsafeMutablePointer<Int64>?) -> Int32 {
    boundary {
        let now = try engine(handle).advanceClock(by: seconds)
        out?.pointee = now
    }
}

@c @implementation
public func billing_config_get(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, nil, out, requestOptional: true) { engine, _ in try engine.configurationJSON() }
}

@c @implementation
public func billing_config_update(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                  _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.updateConfiguration(text) }
}

@c @implementation
public func billing_events_list(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out, requestOptional: true) { engine, text in try engine.listEvents(text) }
}

@c @implementation
public func billing_audit_list(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                               _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out, requestOptional: true) { engine, text in try engine.listAudit(text) }
}

@c @implementation
public func billing_audit_head(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                               _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out, requestOptional: true) { engine, text in try engine.auditHead(text) }
}

@c @implementation
public func billing_engine_backup(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                  _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.backup(text) }
}

@c @implementation
public func billing_engine_copy(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                                _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    jsonCall(handle, request, out) { engine, text in try engine.copy(text) }
}
