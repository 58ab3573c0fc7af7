import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// The version stamped on every response document.
    public static let schemaVersion: Int64 = 1

    /// Runs a mutating business operation as exactly one transaction holding its effect, its
    /// audit row, its events and its idempotency record.
    ///
    /// Every request carries `actor` (who asks, recorded in the audit log) and may carry
    /// `idempotency_key`: the same key with the same request returns the first response; with
    /// another request it is refused as a conflict. The request is read completely (`parse`)
    /// before the lock is taken, so bad input never reaches the database.
    ///
    /// `secrets` names fields that must never be stored: request fields with these names are
    /// left out of the stored request (so they are not compared on replay), and response
    /// fields with these names are left out of the stored response (a replay returns null
    /// for them).
    func perform<Input, Output: ResponseDocument>(_ operation: String, _ requestText: String?, secrets: Set<String> = [],
                        parse: (ObjectReader) throws -> Input,
                        apply: (OperationContext, Input) throws -> Output) throws -> String {
        try perform(operation, requestText, secrets: secrets, preparesWork: false, parse: parse, prepare: { _ in () }, apply: { context, input, _ in
            try apply(context, input)
        })
    }

    /// The request as an idempotency record keeps it: without its key, secrets masked, nulls
    /// left out.
    static func canonicalRequest(_ request: JSONValue, fields: [String: JSONValue], secrets: Set<String>) -> String {
        guard secrets.isEmpty else {
            var fields = fields
            fields["idempotency_key"] = nil
            for secret in secrets where fields[secret] != nil { fields[secret] = "[secret]" }
            return JSONValue.object(fields).textWithoutNulls
        }
        // The request as read, written without its key: no copy of its fields to remove the
        // key from (the copy rehashed every key). The same text as above.
        var writer = JSONWriter(skippingNullFields: true)
        writer.write(request, omitting: Engine.keyField)
        return writer.text
    }

    /// The field a stored request leaves out (made once, not an array per call).
    private static let keyField = ["idempotency_key"]

    /// `perform` with work done before the write transaction, outside it: `prepare` gets the
    /// parsed request once a replay has been ruled out (a repeated idempotent call returns the
    /// stored response without it) and before the lock is taken for the write; what it gives
    /// is handed to `apply` with the request (`stepExport`'s rows read ahead). It runs once per
    /// call, not once per run of the body: `apply` must check that it still holds.
    /// `preparesWork: false` (a `prepare` that does nothing) skips that early replay check: the
    /// write transaction looks the key up anyway.
    func perform<Input, Prepared, Output: ResponseDocument>(_ operation: String, _ requestText: String?, secrets: Set<String> = [],
                        preparesWork: Bool = true,
                        parse: (ObjectReader) throws -> Input,
                        prepare: (Input) -> Prepared,
                        apply: (OperationContext, Input, Prepared) throws -> Output) throws -> String {
        let reader = try ObjectReader(text: requestText)
        let actor = try reader.string("actor", maxLength: 128)
        let key = try reader.optionalString("idempotency_key", maxLength: 128)
        guard case .object(let fields) = reader.value else { throw BillingError(.notAnObject, "request") }
        // Only an idempotent call stores its request or compares it with a stored one: a call
        // without a key writes none (a usage report's thousand records cost a seventh of the
        // call's own work to write out again).
        let canonical = key == nil ? "" : Engine.canonicalRequest(reader.value, fields: fields, secrets: secrets)
        var account: String?
        if case .string(let id)? = fields["account_id"] { account = id }
        let scope = IdempotencyStore.scope(account: account, actor: actor)
        // A replay is answered whatever `parse` says now: its checks (a token already used, a
        // state already changed) describe the world after the first call, not the request. A
        // request `parse` accepts is looked up in the write transaction below; only one it
        // refuses is looked up here first (a read transaction of its own), so that a first
        // call does not pay for a second transaction.
        let replay = { () throws -> String? in
            guard let key else { return nil }
            return try self.lock.withLock {
                try self.db.transaction(write: false) { try IdempotencyStore.lookup(self.db, scope: scope, key: key, operation: operation, request: canonical) }
            }
        }
        let input: Input
        do {
            input = try parse(reader)
            try reader.finish()
        } catch {
            if let replayed = try replay() { return replayed }
            throw error
        }
        // A `prepare` that does work (`stepExport`'s read-ahead) must not do it for a replay.
        if preparesWork, let replayed = try replay() { return replayed }
        let prepared = prepare(input)

        let (response, committed) = try lock.withLock {
            try RowCoverage.install(db)
            // The body may run more than once (PostgreSQL reruns a transaction that failed to
            // serialize): each run starts from the handle's state before the call, and what it
            // would keep with the handle is kept only after the commit.
            let keyChecked = db.session.auditKeyChecked
            defer { pendingConfiguration = nil }
            let outcome: (String, [() -> Void])
            do {
                outcome = try db.transaction(write: true) { () -> (String, [() -> Void]) in
                    pendingConfiguration = nil
                    db.session.auditKeyChecked = keyChecked
                    if let key, let replay = try IdempotencyStore.lookup(db, scope: scope, key: key, operation: operation, request: canonical) {
                        return (replay, [])
                    }
                    let context = OperationContext(db: db, now: instantLocked(), actor: actor, configuration: try loadConfiguration())
                    let output = try apply(context, input, prepared)
                    // Without secrets the stored response is the response, so the text is written once.
                    // (`JSONValue` is nil-literal expressible: `.none` is spelled out, not `nil`.)
                    let result: JSONValue? = secrets.isEmpty ? Optional.none : Optional.some(output.json)
                    let response: String
                    if let result { response = Engine.document(result) } else { response = output.documentText }
                    if let key {
                        var stored = response
                        if case .object(var fields)? = result {
                            for secret in secrets where fields[secret] != nil { fields[secret] = .null }
                            stored = Engine.document(.object(fields))
                        }
                        try IdempotencyStore.record(db, scope: scope, key: key, operation: operation, request: canonical, response: stored, at: context.now)
                    }
                    // Last: the audit row lists (and its hash covers) every row written above,
                    // the idempotency record included.
                    try AuditLog.append(db, at: context.now, actor: actor, operation: operation,
                                        account: context.auditAccount, subject: context.auditSubject,
                                        detailText: context.auditDetailText ?? context.auditDetail.text)
                    return (response, context.afterCommit)
                }
            } catch {
                db.session.auditKeyChecked = keyChecked
                throw error
            }
            commitPendingState()
            return outcome
        }
        // Only now is the operation durable; its outside effects follow it.
        for action in committed { action() }
        return response
    }

    /// Runs a read in one consistent snapshot. `long`: a read of every row (verify) runs as
    /// `Connection.readOnlySnapshot(deferrable: true)` — on PostgreSQL a deferrable read that
    /// never fails serialization and never makes a writer fail; the default, for reads of an
    /// object or a page (at most a few hundred rows by an index), starts at once
    /// (`SERIALIZABLE, READ ONLY` there: a portal's pages do not wait for other writers).
    func query<Input, Output: ResponseDocument>(_ requestText: String?, long: Bool = false,
                      parse: (ObjectReader) throws -> Input,
                      run: (OperationContext, Input) throws -> Output) throws -> String {
        let reader = try ObjectReader(text: requestText)
        let input = try parse(reader)
        try reader.finish()
        return try lock.withLock {
            let read = { () throws -> String in
                let context = OperationContext(db: self.db, now: self.instantLocked(), actor: "", configuration: try self.loadConfiguration())
                return try run(context, input).documentText
            }
            return try long ? db.readOnlySnapshot(deferrable: true, read) : db.transaction(write: false, read)
        }
    }

    /// Runs a read whose answer only the write path can give (a quote must equal what the
    /// operation would do): `run` performs that path in a write transaction (so that nothing
    /// changes between reading and rehearsing) that is then rolled back whole, never
    /// committed. Nothing it wrote is kept — no effect, event, audit row or idempotency
    /// record, no identifier used up (on SQLite; PostgreSQL's sequences leave a gap) — and the
    /// work it queued for after a commit (`afterCommit`) is dropped. A rollback that fails is an error (`rollback_failed`).
    func rehearse<Input, Output: ResponseDocument>(_ requestText: String?,
                         parse: (ObjectReader) throws -> Input,
                         run: (OperationContext, Input) throws -> Output) throws -> String {
        let reader = try ObjectReader(text: requestText)
        let input = try parse(reader)
        try reader.finish()
        return try lock.withLock {
            try db.rehearsal {
                let context = OperationContext(db: db, now: instantLocked(), actor: "", configuration: try loadConfiguration())
                return try run(context, input).documentText
            }
        }
    }

    /// A document with `schema_version` on it, for documents embedded in a response.
    static func stamped(_ value: JSONValue) -> JSONValue {
        guard case .object(var fields) = value else { return value }
        fields["schema_version"] = .integer(schemaVersion)
        return .object(fields)
    }

    /// Stamps `schema_version` on a response object and renders it.
    static func document(_ value: JSONValue) -> String {
        guard case .object(var fields) = value else { return value.text }
        fields["schema_version"] = .integer(schemaVersion)
        return JSONValue.object(fields).text
    }
}
