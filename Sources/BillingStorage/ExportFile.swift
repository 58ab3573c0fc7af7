#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BillingDomain
import BillingDocuments

/// The file of an export, written in steps. Each step first cuts the file back to the length
/// the database recorded, so a step whose transaction did not commit leaves no trace.
package enum ExportFile {
    /// Creates the directory (and its parents) when missing.
    package static func ensureDirectory(_ path: String) throws {
        var current = ""
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            current += "/" + part
            if mkdir(current, 0o750) != 0 && errno != EEXIST {
                throw BillingError(.storage, "export_directory", "cannot create the export directory \(current) (errno \(errno))")
            }
        }
    }

    /// Appends bytes at `offset` (the committed length), cutting anything after it first.
    package static func append(_ bytes: [UInt8], to path: String, at offset: Int64, sync: Bool) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT, 0o640)
        guard descriptor >= 0 else { throw BillingError(.storage, "export_write", "cannot open \(path) (errno \(errno))") }
        defer { close(descriptor) }
        guard ftruncate(descriptor, off_t(offset)) == 0, lseek(descriptor, off_t(offset), SEEK_SET) == off_t(offset) else {
            throw BillingError(.storage, "export_write", "cannot position in \(path) (errno \(errno))")
        }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress?.advanced(by: written), bytes.count - written)
            }
            guard result > 0 else { throw BillingError(.storage, "export_write", "cannot write \(path) (errno \(errno))") }
            written += result
        }
        if sync && fsync(descriptor) != 0 { throw BillingError(.storage, "export_write", "cannot sync \(path) (errno \(errno))") }
    }

    /// The whole file.
    package static func read(_ path: String) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw BillingError(.storage, "export_missing", "the export file \(path) is missing") }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, 65_536) }
            if count < 0 { throw BillingError(.storage, "export_read", "cannot read \(path) (errno \(errno))") }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        return bytes
    }

    package static func remove(_ path: String) { unlink(path) }
}
