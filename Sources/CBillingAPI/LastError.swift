#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BillingEngine
import BillingDomain
import BillingDocuments

/// The calling thread's last error, kept in a pthread key whose destructor frees it when the
/// thread ends (the library is linked with -z nodelete so that destructor stays loaded).
final class ErrorSlot {
    var code: Int32 = 0
    private(set) var reason: UnsafeMutablePointer<CChar>?
    private(set) var message: UnsafeMutablePointer<CChar>?
    /// The end of a login wait, for billing_call's error document.
    var retryAfter: Int64?

    func set(code: Int32, reason: String, message: String, retryAfter: Int64? = nil) {
        clear()
        self.code = code
        self.reason = strdup(reason)
        self.message = strdup(message)
        self.retryAfter = retryAfter
    }

    func clear() {
        code = 0
        retryAfter = nil
        free(reason)
        free(message)
        reason = nil
        message = nil
    }

    deinit { clear() }
}

enum LastError {
    private static let key: pthread_key_t? = {
        var key = pthread_key_t()
        let created = pthread_key_create(&key) { pointer in
            guard let pointer else { return }
            Unmanaged<ErrorSlot>.fromOpaque(pointer).release()
        }
        return created == 0 ? key : nil
    }()

    /// This thread's slot, created on first use; nil only if the system ran out of keys.
    static func slot(create: Bool) -> ErrorSlot? {
        guard let key else { return nil }
        if let pointer = pthread_getspecific(key) {
            return Unmanaged<ErrorSlot>.fromOpaque(pointer).takeUnretainedValue()
        }
        guard create else { return nil }
        let slot = ErrorSlot()
        pthread_setspecific(key, Unmanaged.passRetained(slot).toOpaque())
        return slot
    }

    /// Cleared on every entry; cheap when there is nothing to clear.
    static func clear() {
        if let slot = slot(create: false), slot.code != 0 { slot.clear() }
    }

    static func set(_ error: BillingError) {
        slot(create: true)?.set(code: error.status.rawValue, reason: error.reason, message: error.message,
                               retryAfter: error.retryAfter)
    }
}

/// A pointer to static text, for strings with the lifetime of the program.
func staticCString(_ text: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}
