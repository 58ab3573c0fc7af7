import FoundationEssentials
import BillingDomain
import BillingDocuments
import BillingStorage

extension Engine {
    /// Requests an export (§3.9, §4.9): `{"actor", "account_id", "kind": "ORDERS" |
    /// "PENDING_ORDERS" | "RENEWALS" | "RENEWAL_PRICES", "filter"? (the order-list or
    /// renewal-view filters), "order_ids"? (PENDING_ORDERS), "language"?: "zh" | "en"}`. The
    /// record starts GENERATING; the scheduler or `billing_export_step` writes it in bounded
    /// steps to READY (or FAILED with the reason). Records and files are purged
    /// `export_retention_hours` (72) after the request.
    public func requestExport(_ requestJSON: String?) throws -> String {
        try perform("export.request", requestJSON, parse: ExportRequest.init) { context, input -> ExportResponse in
            let (account, kind, selection, language) = (input.accountID, input.kind, input.selection, input.language)
            _ = try AccountStore.require(context.db, account)
            let expected: Int64
            switch selection {
            case .orders(let filter):
                expected = try filter.count(context.db)
            case .renewals(let filter):
                expected = try filter.count(context.db)
                if kind == .renewalPrices && expected > context.configuration.maxRenewalPriceExportRows {
                    throw BillingError.refused(.tooManyRows, "a renewal price list holds at most \(context.configuration.maxRenewalPriceExportRows) rows; this filter matches \(expected); narrow it")
                }
            case .pendingOrders(let ids):
                for id in ids {
                    let order = try OrderStore.require(context.db, id, account: account)
                    guard order.status == .pendingPayment else {
                        throw BillingError.refused(.orderNotPending, "order \(id) is \(order.status.rawValue); only pending orders are batch-exported")
                    }
                }
                expected = Int64(ids.count)
            }
            let directory = try exportDirectory(context.configuration)
            try ExportFile.ensureDirectory(directory)
            let sequence = try IdentifierSequence.next(context.db, "export")
            let id = IdentifierSequence.format("EX", sequence)
            let record = ExportRecord(id: id, account: account, kind: kind, status: "GENERATING", request: selection.stored, language: language,
                                      directory: directory, fileName: "\(id).csv", rowsExpected: expected, rowsWritten: 0, bytes: 0,
                                      cursor: nil, createdAt: context.now,
                                      purgeAt: context.now + context.configuration.exportRetentionHours * 3600, completedAt: nil, failureReason: nil)
            try ExportStore.insert(context.db, record, sequence: sequence)
            try context.emit("export.requested", account: account, subject: id, data: ["kind": .string(kind.rawValue), "rows_expected": .integer(expected)])
            context.audit(account: account, subject: id, detail: ["kind": .string(kind.rawValue)])
            return ExportResponse(export: record)
        }
    }

    /// Where export files go: the configured directory, or beside the database file.
    func exportDirectory(_ configuration: Configuration) throws -> String {
        if let directory = configuration.exportDirectory { return directory }
        guard path != ":memory:", !path.hasPrefix("file:"), !Database.namesServer(path) else {
            throw BillingError.refused(.exportDirectoryRequired, "an in-memory or server database needs the export_directory configuration")
        }
        let absolute = path.hasPrefix("/") ? path : (currentDirectory() + "/" + path)
        return absolute + "-exports"
    }

    /// Writes the next rows of an export now: `{"actor", "account_id", "export_id", "max_rows"?}`
    /// → `{"export"}` with its progress.
    public func stepExport(_ requestJSON: String?) throws -> String {
        // The rows are read first, in a read-only snapshot (`ExportReadAhead`), once the request
        // has parsed and is not a replay (`perform`'s `prepare`): a request that does not parse
        // reads nothing, and a repeated idempotent call returns its stored response unread.
        try perform("export.step", requestJSON, parse: ExportStepRequest.init, prepare: { request in
            readExportsAhead(select: { context in
                [try ExportStore.require(context.db, request.exportID, account: request.accountID)]
            }, limit: { request.maxRows ?? $0.exportRowsPerStep })
        }) { context, input, ahead -> ExportResponse in
            context.exportReadAhead = ahead
            let record = try ExportStore.require(context.db, input.exportID, account: input.accountID)
            let advanced = try Engine.advanceExport(record, rows: input.maxRows ?? context.configuration.exportRowsPerStep, context: context)
            context.audit(account: input.accountID, subject: input.exportID, detail: ["rows_written": .integer(advanced.rowsWritten)])
            return ExportResponse(export: advanced)
        }
    }

    /// Reads ahead, in one read-only snapshot taken at once (not deferrable: the step's write
    /// transaction checks the record and the configuration revision they were read for), the
    /// next rows of the exports `select` names (each at the step size `limit` gives for the
    /// configuration: `ExportReadAhead`). Anything that goes wrong here (a record gone, a stored value unreadable, a busy database) leaves
    /// that export without rows read ahead: the step then reads them itself and meets the error
    /// there, where it is handled as before.
    func readExportsAhead(select: (OperationContext) throws -> [ExportRecord], limit: (Configuration) -> Int64) -> ExportReadAhead {
        var ahead = ExportReadAhead()
        _ = try? lock.withLock {
            try db.readOnlySnapshot(deferrable: false) {
                // The revision the rows' formatting (calendar, step size, prices) was read at.
                let revision = try ConfigurationStore.revision(db)
                let context = OperationContext(db: db, now: instantLocked(), actor: "", configuration: try loadConfiguration())
                let rows = limit(context.configuration)
                for record in try select(context) where record.status == "GENERATING" {
                    guard let written = try? Engine.exportRows(record, limit: rows, context: context) else { continue }
                    ahead.keep(ExportReadAhead.Rows(record: record, limit: rows, now: context.now, configurationRevision: revision,
                                                    written: written))
                }
            }
        }
        return ahead
    }

    /// Writes up to `rows` more rows: reads them by keyset after the stored cursor, appends them
    /// at the committed length of the file, and records the new length and cursor in the same
    /// transaction. The last step syncs the file and marks the record READY.
    static func advanceExport(_ record: ExportRecord, rows limit: Int64, context: OperationContext) throws -> ExportRecord {
        var record = record
        guard record.status == "GENERATING" else { return record }
        do {
            let written = try context.exportReadAhead.rows(for: record, limit: limit, now: context.now, db: context.db)
                ?? exportRows(record, limit: limit, context: context)
            var output = written.bytes
            if record.bytes == 0 {
                var header = CSVRowWriter(capacity: 512 + output.count)
                header.appendWritten(CSVWriter.byteOrderMark)
                header.rowCells(record.kind.headers(record.language).map { .text($0) })
                header.appendWritten(output)
                output = header.bytes
            }
            try ExportFile.append(output, to: record.path, at: record.bytes, sync: written.done)
            record.bytes += Int64(output.count)
            record.rowsWritten += written.count
            record.cursor = written.cursor ?? record.cursor
            if written.done {
                record.status = "READY"
                record.completedAt = context.now
                try context.emit("export.ready", account: record.account, subject: record.id,
                                 data: ["rows": .integer(record.rowsWritten), "bytes": .integer(record.bytes)])
            }
        } catch let error as BillingError where error.status == .storage
                    && (error.reason.hasPrefix("export_") || error.reason == "stored_value_unreadable") {
            // The export cannot go on (its file, or a record it lists, cannot be written or
            // read): it fails, and says why. The database's own failures (a full disk, a corrupt
            // page, a rollback that failed) are the call's error instead: after them nothing
            // may be written in this transaction.
            record.status = "FAILED"
            record.failureReason = error.message
            record.completedAt = context.now
            try context.emit("export.failed", account: record.account, subject: record.id, data: ["reason": .string(error.message)])
        }
        try ExportStore.saveProgress(context.db, record)
        return record
    }

    /// The next rows of an export as CSV text (no header), written straight into one buffer as
    /// they are read, with how many they are, the cursor after them and whether they were the last.
    static func exportRows(_ record: ExportRecord, limit: Int64, context: OperationContext) throws -> ExportRowsWritten {
        var output = CSVRowWriter(capacity: Int(min(limit, 100_000)) * 160 + 1024)
        let (count, cursor, done) = try writeExportRows(record, limit: limit, into: &output, context: context)
        return ExportRowsWritten(bytes: output.bytes, count: count, cursor: cursor, done: done)
    }

    /// Writes the next rows of an export into `output`; returns how many, the cursor after
    /// them, and whether they were the last.
    static func writeExportRows(_ record: ExportRecord, limit: Int64, into output: inout CSVRowWriter,
                                context: OperationContext) throws -> (Int64, String?, Bool) {
        func time(_ instant: Int64?) -> CSVCell { instant.map { .text(context.calendar.display($0)) } ?? .empty }
        func money(_ amount: Money) -> CSVCell { .number(amount.description) }
        let labels = ExportLabels(language: record.language)
        let calendar = context.calendar
        /// An order's cells, written directly (the cells `CSVWriter.row` would write).
        func writeOrderCells(_ order: Order) throws {
            output.textCell(order.id)
            output.textCell(order.combinedID)
            output.textCell(labels.orderType(order.type.rawValue))
            output.textCell(labels.orderStatus(order.status.rawValue))
            if order.isCombined {
                // A combined order stands for all its sub-orders: every product type and mode they hold.
                let parts = try OrderStore.subOrders(context.db, of: order.id)
                output.textCell(labels.list(parts.map { labels.productType($0.productType) }))
                output.textCell(labels.list(parts.map { labels.billingMode($0.billingMode) }))
            } else {
                output.textCell(labels.productType(order.productType))
                output.textCell(labels.billingMode(order.billingMode))
            }
            output.timeCell(order.createdAt, calendar)
            output.timeCell(order.paidAt, calendar)
            let amounts = order.amounts
            let discounts = try amounts.discounts, due = try amounts.amountDue, paid = try amounts.paidAmount
            output.moneyCell(amounts.listPrice)
            output.moneyCell(discounts)
            output.moneyCell(due)
            output.moneyCell(amounts.voucher)
            output.moneyCell(paid)
            output.moneyCell(amounts.cash)
            output.moneyCell(amounts.credit)
        }
        let cursor = record.cursor.flatMap { text -> (Int64, Int64)? in
            let parts = text.split(separator: ":")
            guard parts.count == 2, let first = Int64(parts[0]), let second = Int64(parts[1]) else { return nil }
            return (first, second)
        }
        switch record.kind {
        case .orders:
            // One statement reads the step's whole rows (and one more, to know whether they are
            // the last); each row is written as it is read.
            let filter = try OrderFilter(ObjectReader(record.request, path: "filter"), account: record.account)
            var read: Int64 = 0
            var last: (Int64, Int64)?
            try OrderStore.pageRows(context.db, filter, after: cursor, limit: limit + 1) { row in
                read += 1
                guard read <= limit else { return }
                let order = try OrderStore.decode(row)
                try writeOrderCells(order)
                output.endRow()
                last = (order.createdAt, row.int(OrderStore.sequenceColumn))
            }
            return (min(read, limit), last.map { "\($0.0):\($0.1)" }, read <= limit)
        case .pendingOrders:
            guard case .array(let ids) = record.request else { return (0, nil, true) }
            let start = Int(record.cursor ?? "0") ?? 0
            let slice = ids.dropFirst(start).prefix(Int(limit))
            var written: Int64 = 0
            for value in slice {
                guard case .string(let id) = value else { continue }
                let order = try OrderStore.require(context.db, id, account: record.account)
                try writeOrderCells(order)
                output.timeCell(order.payDeadline, calendar)
                output.endRow()
                written += 1
            }
            let next = start + slice.count
            return (written, String(next), next >= ids.count)
        case .renewals, .renewalPrices:
            let filter = try RenewalFilter(ObjectReader(record.request, path: "filter"), account: record.account)
            let keys = try filter.page(context.db, after: cursor, limit: limit + 1)
            let page = keys.prefix(Int(limit))
            let account = try AccountStore.require(context.db, record.account)
            /// A resource's cells.
            func renewalRow(_ id: String) throws -> [CSVCell] {
                let resource = try ResourceStore.require(context.db, id, account: record.account)
                if record.kind == .renewals {
                    return [.text(resource.id), .text(resource.productID), .text(labels.productType(resource.productType)),
                            resource.region.map { .text($0) } ?? .empty, .text(labels.resourceStatus(resource.status.rawValue)),
                            .text(labels.expiryPolicy(resource.expiryPolicy)), time(resource.expireAt),
                            resource.autoRenewPeriod.map { .text(labels.period($0)) } ?? .empty,
                            resource.autoRenewRemaining.map { .number(String($0)) } ?? .empty]
                }
                guard let price = try renewalPrice(resource, account: account, context: context) else {
                    // No renewal length, or a bound resource that cannot be renewed for it: no price to show.
                    return [.text(resource.id), .text(resource.productID), time(resource.expireAt), .empty, .empty, .empty, .empty]
                }
                return [.text(resource.id), .text(resource.productID), time(resource.expireAt), .text(labels.period(price.period)),
                        money(price.amounts.listPrice), money(try price.amounts.discounts), money(try price.amounts.amountDue)]
            }
            for key in page {
                output.rowCells(try renewalRow(key.id))
            }
            return (Int64(page.count), page.last.map { "\($0.expiry):\($0.sequence)" }, keys.count <= page.count)
        }
    }

    /// What renewing a resource (with its bound resources) for its default length costs now:
    /// the lines `billing_renewal_quote` and `billing_resources_renew` make for it alone
    /// (`renewalLines`, the one pricing of a renewal), so the list's price is what renewing it
    /// charges. Nil when it cannot be renewed for that length (no length offered, a bound
    /// resource without it, an expiry past the calendar's range): renewing would be refused.
    static func renewalPrice(_ resource: Resource, account: Account, context: OperationContext) throws -> (period: Period, amounts: OrderAmounts)? {
        guard let product = try ProductStore.load(context.db, resource.productID), let expiry = resource.expireAt,
              let period = Renewals.defaultRenewalPeriod([product]) else { return nil }
        do {
            let lines = try Renewals.renewalLines(resource, product: product, from: expiry, period: period, unifiedDay: nil,
                                         account: account, context: context)
            return (period, try OrderAmounts.total(lines.map(\.amounts)))
        } catch let error as BillingError where error.status == .refused || error.status == .invalidArgument || error.status == .notFound {
            return nil
        }
    }

    /// An export's file for its owner: `{"account_id", "export_id", "mode"?: "PATH" | "BYTES"}` →
    /// `{"export", "path"}` or `{"export", "content_base64"}`. Only READY exports.
    public func downloadExport(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: ExportDownloadRequest.init) { context, input -> ExportDownloadResponse in
            let record = try ExportStore.require(context.db, input.exportID, account: input.accountID)
            guard record.status == "READY" else {
                throw BillingError.refused(.exportNotReady, "export \(record.id) is \(record.status)")
            }
            guard input.inline else { return ExportDownloadResponse(export: record, file: .path(record.path)) }
            let bytes = try ExportFile.read(record.path)
            return ExportDownloadResponse(export: record, file: .contentBase64(Data(bytes).base64EncodedString()))
        }
    }

    /// An account's export records, newest first: `{"account_id", "after"?, "limit"?}`.
    public func listExports(_ requestJSON: String?) throws -> String {
        try query(requestJSON, parse: ExportListRequest.init) { context, input -> ExportPageResponse in
            _ = try AccountStore.require(context.db, input.accountID)
            let rows = try ExportStore.page(context.db, account: input.accountID, before: input.before ?? Int64.max, limit: input.limit + 1)
            let page = rows.prefix(Int(input.limit))
            return ExportPageResponse(exports: Array(page), hasMore: rows.count > page.count)
        }
    }

    /// Scheduler jobs: a step of each export being generated, and the purge of records (and
    /// files) past their time.
    static func runExportJobs(limit: Int64, context: OperationContext) throws -> (stepped: Int64, purged: Int64, more: Bool) {
        let generating = try ExportStore.generating(context.db, limit: limit)
        for record in generating.rows {
            _ = try advanceExport(record, rows: context.configuration.exportRowsPerStep, context: context)
        }
        let expired = try ExportStore.expired(context.db, at: context.now, limit: limit)
        for record in expired.rows {
            try ExportStore.delete(context.db, record.id)
            // A purge that rolled back must keep its file.
            context.afterCommit.append { ExportFile.remove(record.path) }
            try context.emit("export.purged", account: record.account, subject: record.id)
        }
        return (Int64(generating.rows.count), Int64(expired.rows.count), generating.more || expired.more)
    }
}
