#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BillingEngine
import BillingDomain
import BillingDocuments

/// The one way into the engine from C: clears the thread's last error, runs `body`, and turns
/// any error into a status code plus last error. Nothing thrown escapes to C.
func boundary(_ body: () throws -> Void) -> Int32 {
    LastError.clear()
    do {
        try body()
        return 0
    } catch let error as BillingError {
        LastError.set(error)
        return error.status.rawValue
    } catch {
        let wrapped = BillingError(.internal, "unexpected_error", "unexpected error: \(error)")
        LastError.set(wrapped)
        return wrapped.status.rawValue
    }
}

/// A borrowed C string as Swift text; NULL is allowed only when `optional`.
func inputString(_ pointer: UnsafePointer<CChar>?, _ name: String, optional: Bool = false) throws -> String? {
    guard let pointer else {
        if optional { return nil }
        throw BillingError.invalid("null_argument", "\(name) must not be NULL")
    }
    guard let text = String(validatingCString: pointer) else {
        throw BillingError.invalid("invalid_utf8", "\(name) is not valid UTF-8")
    }
    return text
}

/// The engine behind a handle.
func engine(_ handle: OpaquePointer?) throws -> Engine {
    guard let handle else { throw BillingError.invalid("null_argument", "engine must not be NULL") }
    return Unmanaged<Engine>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

/// Stores a caller-owned copy of `text` in `*out` (released with billing_string_free).
func output(_ text: String, to out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) throws {
    guard let copy = text.withCString({ strdup($0) }) else {
        throw BillingError(.internal, "out_of_memory", "could not allocate the response")
    }
    out.pointee = copy
}

/// The shape of every JSON operation: engine, request text, response text.
func jsonCall(_ handle: OpaquePointer?, _ request: UnsafePointer<CChar>?,
              _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, requestOptional: Bool = false,
              _ operation: (Engine, String?) throws -> String) -> Int32 {
    out?.pointee = nil
    return boundary {
        guard let out else { throw BillingError.invalid("null_argument", "out_json must not be NULL") }
        let engine = try engine(handle)
        let text = try inputString(request, "request_json", optional: requestOptional)
        try output(try operation(engine, text), to: out)
    }
}
