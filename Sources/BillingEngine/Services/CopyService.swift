import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// Copies this engine's database, one read snapshot of it, into another, empty database —
    /// of either backend, typically a PostgreSQL one when a portal outgrows one host:
    /// `{"destination": path or connection string}` →
    /// `{"copy": {"destination", "taken_at", "rows", "tables": {table: rows}}}`.
    ///
    /// The destination is opened (created and migrated when new) and must hold no row. The
    /// rows go in as stored, in one transaction: it holds all of them or none (a failed copy
    /// leaves the destination empty, ready for another try). Other handles and processes keep
    /// working on the source; only this handle waits. Open the copy with the same audit key
    /// and run `billing_verify` on it: it checks the same chain over the same rows. A read of
    /// the source: no actor, no audit row, no event on either side.
    public func copy(_ requestJSON: String?) throws -> String {
        let reader = try ObjectReader(text: requestJSON)
        let destinationPath = try CopyRequest(reader).destination
        try reader.finish()
        guard !destinationPath.utf8.contains(0) else {
            throw BillingError.invalid(.invalidPath, "request.destination must not hold a NUL character")
        }
        // A relative path would depend on the host's working directory.
        guard destinationPath.hasPrefix("/") || Database.namesServer(destinationPath) else {
            throw BillingError.invalid(.destinationNotAbsolute,
                                       "request.destination must be an absolute path or a PostgreSQL connection string, not \"\(destinationPath)\"")
        }
        try DatabaseTransfer.checkSource(db)
        let destination = try Database.openCopyDestination(path: destinationPath)
        let (tables, takenAt) = try lock.withLock { () -> ([(table: String, rows: Int64)], Int64) in
            let takenAt = instantLocked()
            return (try DatabaseTransfer.copy(from: db, to: destination), takenAt)
        }
        return Engine.document(CopyResponse(destination: destinationPath, takenAt: takenAt, tables: tables).json)
    }
}
