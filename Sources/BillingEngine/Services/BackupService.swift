#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// Writes a consistent copy of the database to a new file while other handles and processes
    /// keep working: `{"destination": absolute path}` →
    /// `{"backup": {"destination", "bytes", "taken_at"}}`.
    ///
    /// `VACUUM INTO` copies one read snapshot (WAL readers and writers go on; only this handle
    /// waits). The name is reserved first with `O_CREAT | O_EXCL`, so an existing file is never
    /// overwritten, even one created a moment later by someone else, and a failed copy removes
    /// only the file this call created. SQLite does not sync the copy, so this call does (file,
    /// then directory) before it reports success. A read: no actor, no audit row, no event.
    public func backup(_ requestJSON: String?) throws -> String {
        let reader = try ObjectReader(text: requestJSON)
        let destination = try reader.string("destination", maxLength: 4096)
        try reader.finish()
        guard destination.hasPrefix("/"), !destination.hasSuffix("/"), !destination.utf8.contains(0) else {
            throw BillingError.invalid("destination_not_absolute",
                                       "request.destination must be an absolute path naming a file, not \"\(destination)\"")
        }
        let descriptor = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let code = errno
            if code == EEXIST {
                throw BillingError(.conflict, "destination_exists", "\(destination) already exists; a backup never overwrites a file")
            }
            throw BillingError(.storage, "backup_failed", "cannot create \(destination) (errno \(code))")
        }
        close(descriptor)
        var finished = false
        defer { if !finished { unlink(destination) } }

        let takenAt = try lock.withLock { () -> Int64 in
            try DatabaseCopy.write(db, to: destination)
            return instantLocked()
        }
        let bytes = try Engine.syncFile(destination)
        let slash = destination.utf8.lastIndex(of: UInt8(ascii: "/")) ?? destination.utf8.startIndex
        let directory = String(destination[..<slash])
        _ = try Engine.syncFile(directory.isEmpty ? "/" : directory)
        finished = true
        return Engine.document(["backup": ["destination": .string(destination), "bytes": .integer(bytes),
                                           "taken_at": .integer(takenAt)]])
    }

    /// fsync()s a file or directory and returns its size.
    private static func syncFile(_ path: String) throws -> Int64 {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw BillingError(.storage, "backup_failed", "cannot open \(path) to sync it (errno \(errno))") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw BillingError(.storage, "backup_failed", "cannot sync \(path) (errno \(errno))") }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw BillingError(.storage, "backup_failed", "cannot stat \(path) (errno \(errno))") }
        return Int64(info.st_size)
    }
}
