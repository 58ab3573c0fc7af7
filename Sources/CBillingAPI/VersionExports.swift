#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BillingEngine
import CBilling
import BillingDomain
import BillingDocuments

@c @implementation
public func billing_version() -> UnsafePointer<CChar>? {
    staticCString("0.2.0")
}

@c @implementation
public func billing_version_number() -> Int32 {
    Int32(BILLING_VERSION_NUMBER)
}

@c @implementation
public func billing_status_string(_ status: Int32) -> UnsafePointer<CChar>? {
    switch status {
    case 0: return staticCString("ok")
    case 1: return staticCString("invalid argument")
    case 2: return staticCString("not found")
    case 3: return staticCString("conflict")
    case 4: return staticCString("refused by a business rule")
    case 5: return staticCString("storage error")
    case 6: return staticCString("database busy")
    case 7: return staticCString("incompatible database file")
    case 8: return staticCString("internal error")
    case 9: return staticCString("authentication failed")
    default: return staticCString("unknown status")
    }
}

@c @implementation
public func billing_last_error_code() -> Int32 {
    LastError.slot(create: false)?.code ?? 0
}

@c @implementation
public func billing_last_error_reason() -> UnsafePointer<CChar>? {
    LastError.slot(create: false)?.reason.map { UnsafePointer($0) } ?? staticCString("")
}

@c @implementation
public func billing_last_error_message() -> UnsafePointer<CChar>? {
    LastError.slot(create: false)?.message.map { UnsafePointer($0) } ?? staticCString("")
}

@c @implementation
public func billing_string_free(_ string: UnsafeMutablePointer<CChar>?) {
    free(string)
}
