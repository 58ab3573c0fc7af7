/// The lowest argon2id costs the configuration accepts: OWASP's minimums for argon2id
/// (Password Storage Cheat Sheet): 19 MiB of memory with at least 2 passes, or 46 MiB with 1.
/// Below them a stolen file's hashes are cheap to attack, whatever the host asks.
package enum PasswordHashCost {
    /// The memory floor with two passes or more.
    package static let minimumMemoryBytes: Int64 = 19 * 1024 * 1024
    /// The memory floor with a single pass.
    package static let minimumOnePassMemoryBytes: Int64 = 46 * 1024 * 1024

    /// Refuses costs below the floors (`out_of_range`).
    package static func check(opsLimit: Int64, memoryBytes: Int64, path: String) throws {
        if opsLimit < 2 && memoryBytes < minimumOnePassMemoryBytes {
            throw BillingError.invalid(.outOfRange,
                                       "\(path).password_hash_memory_bytes must be at least \(minimumOnePassMemoryBytes) (46 MiB) with password_hash_ops_limit 1, or raise password_hash_ops_limit to 2 or more (then 19 MiB is enough)")
        }
    }

    /// Costs a configuration stored by an older library raised to the floors, so the file
    /// keeps opening; hashes made with lower costs are re-hashed at their next login.
    package static func raisedToFloors(_ stored: Configuration) -> Configuration {
        var raised = stored
        let floor = stored.passwordHashOpsLimit < 2 ? minimumOnePassMemoryBytes : minimumMemoryBytes
        if raised.passwordHashMemoryBytes < floor { raised.passwordHashMemoryBytes = floor }
        return raised
    }
}
