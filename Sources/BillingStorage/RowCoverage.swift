#if canImport(Glibc)
import Glibc
#endif
import BillingDomain
import BillingDocuments
import BillingSecurity

/// Every row an operation writes is covered by the audit chain, so that a change made outside
/// the library (a price, a configuration value, a stored response, a password hash, a ledger
/// row) is reported with its table and key.
///
/// How: the connection (`install`; on SQLite, TEMP triggers calling a function of the connection
/// that notes keys in memory; on PostgreSQL, triggers into a TEMP table) notes the key of every
/// row each write touches. When the operation appends its audit row (`collect`,
/// called by `AuditLog.append`), the digest of each touched key's current content is computed
/// (nil for a key whose row is gone), listed in the audit row (which its hash covers), and kept
/// in `row_digests` with the audit row's id. Only touched rows are read: no table is scanned
/// per operation. A write transaction that touched covered rows without appending an audit row
/// is refused at commit (`unaudited_write`, see `Connection.transaction`).
///
/// The tracking itself is the backend's (`Connection.trackChanges`); the digests, the list in
/// the audit row and verify's reads are here.
///
/// `verify` recomputes every covered row's digest and compares it with `row_digests`, and
/// `row_digests` with the last write of each key the chain lists.
package enum RowCoverage {
    /// A covered table and the columns that name a row in reports. A key that is not unique
    /// (a table without a primary key) names the group of rows holding it, hashed together.
    package struct Table {
        package let name: String
        package let key: [String]
        /// The columns a row's digest covers, in table order; nil: every column. A column left
        /// out is one the library sets after the operation's audit row (an event's outbox
        /// position, given by a sealer on PostgreSQL), checked by verify on its own terms.
        package let columns: [String]?

        /// The statements reading a key's rows (`SQLDialect.selectByKey`, per backend) and
        /// several keys' rows (`selectByKeys`, SQLite), built once with the table: an
        /// operation's digests neither rebuild SQL text nor look it up by the table's name.
        private(set) var selectByKeySQLite = ""
        private(set) var selectByKeyPostgres = ""
        private(set) var selectByKeysSQLite = ""

        package init(name: String, key: [String], columns: [String]? = nil) {
            self.name = name
            self.key = key
            self.columns = columns
            selectByKeySQLite = SQLDialect.sqlite.selectByKey(self)
            selectByKeyPostgres = SQLDialect.postgres.selectByKey(self)
            selectByKeysSQLite = SQLDialect.sqlite.selectByKeys(self)
        }

        func selectByKey(_ dialect: SQLDialect) -> String {
            dialect == .sqlite ? selectByKeySQLite : selectByKeyPostgres
        }

        /// What a digest reads of a row: its covered columns.
        var selected: String { columns?.joined(separator: ", ") ?? "*" }
    }

    /// Every table the library writes, except `audit_log` (it is the chain) and `row_digests`
    /// (the digests themselves, checked against the chain). Login throttles are covered: every
    /// login attempt appends an audit row, and so does the scheduler run that purges them.
    package static let tables: [Table] = [
        Table(name: "config", key: ["id"]),
        // Every column but `position` (EventLog): the columns of version 15, so digests
        // recorded before the position existed still hold.
        Table(name: "events", key: ["seq"], columns: ["seq", "type", "account_id", "subject_id", "occurred_at", "data"]),
        Table(name: "idempotency", key: ["scope", "key"]),
        Table(name: "accounts", key: ["id"]),
        Table(name: "ledger", key: ["id"]),
        Table(name: "coupons", key: ["id"]),
        Table(name: "coupon_ledger", key: ["id"]),
        Table(name: "platform_accounts", key: ["id"]),
        Table(name: "platform_tokens", key: ["token_hash"]),
        Table(name: "id_sequences", key: ["name"]),
        Table(name: "products", key: ["id"]),
        Table(name: "commercial_discounts", key: ["account_id", "product_type"]),
        Table(name: "orders", key: ["id"]),
        Table(name: "order_lines", key: ["order_id", "line_no"]),
        Table(name: "resources", key: ["id"]),
        Table(name: "resource_funding", key: ["resource_id", "order_id", "source", "coupon_id"]),
        Table(name: "resource_refunds", key: ["resource_id", "order_id", "source", "coupon_id"]),
        Table(name: "resource_periods", key: ["resource_id", "order_id", "start_at"]),
        Table(name: "resource_open_orders", key: ["resource_id"]),
        Table(name: "five_day_units", key: ["account_id", "year", "unit_key"]),
        Table(name: "refund_details", key: ["order_id", "resource_id"]),
        Table(name: "usage_records", key: ["account_id", "usage_id"]),
        Table(name: "usage_lines", key: ["resource_id", "hour_start"]),
        Table(name: "usage_funding", key: ["resource_id", "hour_start", "source", "coupon_id"]),
        Table(name: "package_usage", key: ["package_id", "window_start"]),
        Table(name: "package_deductions", key: ["package_id", "resource_id", "hour_start"]),
        Table(name: "exports", key: ["id"]),
        Table(name: "login_throttles", key: ["key"]),
    ]

    /// The covered table of a name. A scan comparing lengths first (then bytes only for the
    /// name of the same length, usually the one): cheaper than hashing the name for a
    /// `Dictionary`, once per table an audit row lists.
    static func table(named name: String) -> Table? {
        let count = name.utf8.count
        for index in nameCounts.indices where nameCounts[index] == count && tables[index].name == name {
            return tables[index]
        }
        return nil
    }

    private static let nameCounts: [Int] = tables.map { $0.name.utf8.count }

    /// One row written by an operation: its table, its key (a JSON array of the key columns'
    /// values) and the digest of its content after the operation, nil when it was deleted.
    package struct Write {
        package let table: String
        package let key: String
        package let digest: String?
    }

    /// The SQL expression of a row's key over a row alias (`NEW`, `OLD`) or a table.
    package static func keyExpression(_ table: Table, _ prefix: String = "") -> String {
        "json_array(\(table.key.map { prefix + $0 }.joined(separator: ", ")))"
    }

    /// Turns on the connection's change tracking for every covered table (once per
    /// connection; see `Connection.trackChanges`).
    package static func install(_ db: Connection) throws {
        guard !db.tracksChanges else { return }
        try db.trackChanges(tables)
    }

    /// The rows touched since the last audit row, with their digests now, in (table, key)
    /// order; the touched set is emptied. On SQLite the rows of a table touched more than once
    /// are read in one statement (`digests`); one row, and every row on PostgreSQL (where a
    /// read by the primary key keeps the predicate lock on that row), by its key.
    static func collect(_ db: Connection) throws -> [Write] {
        guard db.tracksChanges else { return [] }
        let touched = try db.takeTouchedRows()
        var writes: [Write] = []
        writes.reserveCapacity(touched.count)
        // One buffer for every key's rows: a buffer per key was two allocations per digest,
        // and a configuration's row grew one again.
        var rows = RowContents()
        var start = 0
        while start < touched.count {
            let name = touched[start].table
            var end = start + 1
            while end < touched.count && touched[end].table == name { end += 1 }
            guard let table = table(named: name) else { throw BillingError(.uncoveredTable, "no coverage for table \(name)") }
            if end - start > 1 && db.dialect == .sqlite {
                let keys = touched[start..<end].map(\.key)
                for (key, digest) in zip(keys, try digests(db, table, keys: keys, rows: &rows)) {
                    writes.append(Write(table: name, key: key, digest: digest))
                }
            } else {
                for index in start..<end {
                    writes.append(Write(table: name, key: touched[index].key,
                                        digest: try digest(db, table, key: touched[index].key, rows: &rows)))
                }
            }
            start = end
        }
        return writes
    }

    /// The digests of the rows holding each of `keys` now (SQLite), in the order of `keys`;
    /// nil for a key whose rows are gone. One statement per table: the keys go in as one JSON
    /// array and each row comes back with its key's position in it.
    static func digests(_ db: Connection, _ table: Table, keys: [String]) throws -> [String?] {
        var rows = RowContents()
        return try digests(db, table, keys: keys, rows: &rows)
    }

    /// `digests`, reading the rows into `rows` (a buffer reused from table to table).
    static func digests(_ db: Connection, _ table: Table, keys: [String], rows: inout RowContents) throws -> [String?] {
        var list: [UInt8] = [UInt8(ascii: "[")]
        list.reserveCapacity(keys.reduce(2) { $0 + $1.utf8.count + 1 })
        for (index, key) in keys.enumerated() {
            if index > 0 { list.append(UInt8(ascii: ",")) }
            list += key.utf8
        }
        list.append(UInt8(ascii: "]"))
        let sql = table.selectByKeysSQLite
        let arguments: [DatabaseBindable] = [String(decoding: list, as: UTF8.self)]
        // The keys are the statement's outer loop, so a key's rows come one after another:
        // each key is digested when the next begins, its rows' contents in one reused buffer
        // (an array per row, and one per key, were a tenth of a usage call's own work).
        var digests = [String?](repeating: nil, count: keys.count)
        var current = -1, scattered = false
        try db.forEach(sql, arguments) { row in
            let index = Int(row.int(0))
            guard digests.indices.contains(index) else { return }
            if index != current {
                if current >= 0 { digests[current] = rows.digest(table: table.name, key: keys[current]) }
                // A key met again after another (a plan that does not keep the keys outer):
                // every key's rows are collected again below instead.
                if digests[index] != nil { scattered = true }
                rows.begin(table: table.name, key: keys[index])
                current = index
            }
            rows.append(row, from: 1)
        }
        if current >= 0 { digests[current] = rows.digest(table: table.name, key: keys[current]) }
        guard scattered else { return digests }
        var contents = [[[UInt8]]](repeating: [], count: keys.count)
        try db.forEach(sql, arguments) { row in
            let index = Int(row.int(0))
            guard contents.indices.contains(index) else { return }
            var content: [UInt8] = []
            canonical(row, from: 1, into: &content)
            contents[index].append(content)
        }
        return keys.indices.map { contents[$0].isEmpty ? nil : digest(table: table.name, key: keys[$0], contents: contents[$0]) }
    }

    /// The digest of the rows holding a key now, nil when there are none.
    package static func digest(_ db: Connection, _ table: Table, key: String) throws -> String? {
        var rows = RowContents()
        return try digest(db, table, key: key, rows: &rows)
    }

    /// `digest`, reading the rows into `rows` (a buffer reused from key to key).
    static func digest(_ db: Connection, _ table: Table, key: String, rows: inout RowContents) throws -> String? {
        let dialect = db.dialect
        rows.begin(table: table.name, key: key)
        if dialect == .sqlite {
            // SQLite takes the key text apart itself: one argument, bound without an array.
            var value = DatabaseValue.text(key)
            try withUnsafePointer(to: &value) { pointer in
                try db.query(table.selectByKeySQLite, values: UnsafeBufferPointer(start: pointer, count: 1)) { row in
                    rows.append(row, from: 0)
                    return true
                }
            }
        } else {
            guard let arguments = dialect.selectByKeyArguments(table, key: key) else { return nil }
            try db.forEach(table.selectByKey(dialect), arguments) { row in rows.append(row, from: 0) }
        }
        return rows.digest(table: table.name, key: key)
    }

    /// The digest of a key's rows: table, key and each row's content (sorted, so that rows
    /// sharing a key hash the same in any order). Several rows are sorted as Swift strings, the
    /// order the first implementation used, so that recorded digests stay valid.
    package static func digest(table: String, key: String, contents: [[UInt8]]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(table.utf8.count + key.utf8.count + 8 + contents.reduce(0) { $0 + $1.count + 1 })
        bytes += table.utf8
        bytes.append(10)
        bytes += key.utf8
        bytes.append(10)
        appendDecimal(contents.count, to: &bytes)
        bytes.append(10)
        let ordered = contents.count < 2 ? contents
            : contents.map { String(decoding: $0, as: UTF8.self) }.sorted().map { Array($0.utf8) }
        for content in ordered {
            bytes += content
            bytes.append(10)
        }
        return Secrets.digest(bytes)
    }

    /// A row's content as unambiguous text, appended to `bytes`: each non-null column as name,
    /// storage class, length in bytes and value. Null columns are left out, so a migration that
    /// adds a nullable column keeps every digest. Written as bytes: building it with string
    /// interpolation was most of the digest's cost.
    package static func canonical(_ row: Row, from first: Int32, into bytes: inout [UInt8]) {
        // Through the row's own type (`Row.appendCanonical`): a backend's row reads its
        // columns with direct calls the compiler inlines, not a protocol call and a closure
        // context per column.
        row.appendCanonical(from: first, into: &bytes)
    }

    /// `canonical` for a row of a known type (`Row.appendCanonical`'s implementations).
    ///
    /// The columns are put together in a buffer on the stack and appended to `bytes` a row
    /// at a time: four appends a column (each checking the array's uniqueness and capacity
    /// and copying through the generic sequence path) were about a sixth of the library's own
    /// work in a create + pay, some 30 K instructions more than staging. A column too long
    /// for the buffer is appended piece by piece; the bytes are the same either way.
    package static func canonicalColumns<R: Row>(_ row: R, from first: Int32, into bytes: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: canonicalBufferSize) { buffer in
            var staged = StagedBytes(base: buffer.baseAddress, capacity: buffer.count)
            for column in first..<row.columnCount {
                let kind = row.columnKind(column)
                if kind == .null { continue }
                switch kind {
                case .integer, .text:
                    let tag = UInt8(ascii: kind == .integer ? "i" : "t")
                    // The backend's bytes as they are when they are valid UTF-8 (all the
                    // library writes); otherwise what `String(decoding:)` makes of them, as
                    // before. The name is read around the value (reading a column's name
                    // leaves its value's bytes in place) so that a column is staged at once.
                    let direct: Bool = row.withColumnNameBytes(column) { name in
                        row.withTextBytes(column) { value in
                            if staged.appendColumn(name: name, tag: tag, value: value, to: &bytes) { return true }
                            staged.flush(into: &bytes)
                            bytes.append(contentsOf: name)
                            return false
                        }
                    }
                    if !direct {
                        bytes.append(UInt8(ascii: "="))
                        bytes.append(tag)
                        appendValue(row.text(column), to: &bytes)
                        bytes.append(UInt8(ascii: ";"))
                    }
                default:
                    staged.flush(into: &bytes)
                    row.withColumnNameBytes(column) { bytes.append(contentsOf: $0) }
                    bytes.append(UInt8(ascii: "="))
                    bytes += kind.digestTag.utf8
                    appendValue(row.text(column), to: &bytes)
                    bytes.append(UInt8(ascii: ";"))
                }
            }
            staged.flush(into: &bytes)
        }
    }

    /// The stack buffer of `canonicalColumns`: most rows the library writes fit in it whole.
    /// No larger: a temporary allocation past 1 KB may come from the heap (2 KB cost more
    /// in malloc than it saved).
    private static let canonicalBufferSize = 1024

    /// Bytes of `canonicalColumns` waiting in its stack buffer, appended to the row's
    /// bytes when the buffer is full, before anything is appended otherwise, and at the end.
    private struct StagedBytes {
        let base: UnsafeMutablePointer<UInt8>?
        let capacity: Int
        var count = 0

        init(base: UnsafeMutablePointer<UInt8>?, capacity: Int) {
            self.base = base
            // Without a buffer every column goes piece by piece.
            self.capacity = base == nil ? 0 : capacity
        }

        mutating func flush(into bytes: inout [UInt8]) {
            guard count > 0, let base else { return }
            // A typed buffer: its append copies with memcpy (a raw buffer's goes byte by byte).
            bytes.append(contentsOf: UnsafeBufferPointer(start: base, count: count))
            count = 0
        }

        /// Name, `=`, tag, decimal length, `:`, value and `;`; false, with nothing appended,
        /// when the value is not valid UTF-8. The value is checked as it is copied: eight
        /// bytes at a time, and only a value with a byte from 0x80 up is checked again in full
        /// (a separate pass over every value was half the cost of a column).
        mutating func appendColumn(name: UnsafeBufferPointer<UInt8>, tag: UInt8,
                                   value: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) -> Bool {
            var digits = 1
            var rest = value.count
            while rest >= 10 { rest /= 10; digits += 1 }
            let total = name.count + 3 + digits + value.count + 1
            if total > capacity - count { flush(into: &bytes) }
            guard total <= capacity - count, let base else {
                guard RowCoverage.isValidUTF8(value) else { return false }
                bytes.append(contentsOf: name)
                RowCoverage.appendHeader(tag, length: value.count, to: &bytes)
                bytes.append(contentsOf: value)
                bytes.append(UInt8(ascii: ";"))
                return true
            }
            var position = count
            if let source = name.baseAddress {
                _ = StagedBytes.copy(source, name.count, to: base + position)
                position += name.count
            }
            base[position] = UInt8(ascii: "=")
            base[position + 1] = tag
            var number = value.count
            var digit = position + 1 + digits
            while digit >= position + 2 {
                base[digit] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: number % 10)
                number /= 10
                digit -= 1
            }
            position += 2 + digits
            base[position] = UInt8(ascii: ":")
            position += 1
            if let source = value.baseAddress {
                let ascii = StagedBytes.copy(source, value.count, to: base + position)
                // Not yet counted: an invalid value leaves the staged bytes as they were.
                if !ascii && !RowCoverage.isValidUTF8(value) { return false }
                position += value.count
            }
            base[position] = UInt8(ascii: ";")
            count = position + 1
            return true
        }

        /// Copies `length` bytes eight at a time; whether all of them were ASCII.
        private static func copy(_ source: UnsafePointer<UInt8>, _ length: Int,
                                 to destination: UnsafeMutablePointer<UInt8>) -> Bool {
            let from = UnsafeRawPointer(source)
            let to = UnsafeMutableRawPointer(destination)
            var seen: UInt64 = 0
            var index = 0
            while index + 8 <= length {
                let word = from.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                seen |= word
                to.storeBytes(of: word, toByteOffset: index, as: UInt64.self)
                index += 8
            }
            while index < length {
                let byte = source[index]
                seen |= UInt64(byte)
                destination[index] = byte
                index += 1
            }
            return seen & 0x8080_8080_8080_8080 == 0
        }
    }

    /// `=`, a one-byte tag, the decimal length and `:` (what precedes a value in `canonical`),
    /// written on the stack and appended at once: appending them byte by byte checked the
    /// array's uniqueness and capacity for each.
    fileprivate static func appendHeader(_ tag: UInt8, length: Int, to bytes: inout [UInt8]) {
        var digits = 1
        var rest = length
        while rest >= 10 { rest /= 10; digits += 1 }
        // "=" + tag + at most 19 digits + ":" fit in 24 bytes.
        var header: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &header) { raw in
            raw[0] = UInt8(ascii: "=")
            raw[1] = tag
            var number = length
            var position = 1 + digits
            while position >= 2 {
                raw[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: number % 10)
                number /= 10
                position -= 1
            }
            raw[2 + digits] = UInt8(ascii: ":")
        }
        withUnsafeBytes(of: &header) { raw in
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0..<(3 + digits)]))
        }
    }

    private static func appendValue(_ value: String, to bytes: inout [UInt8]) {
        appendDecimal(value.utf8.count, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        bytes += value.utf8
    }

    /// Whether bytes are well-formed UTF-8 (Unicode's table 3-7: no overlong forms, no
    /// surrogates, nothing past U+10FFFF), which `String(decoding:)` keeps unchanged.
    static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var index = 0
        let count = bytes.count
        while index < count {
            // Runs of ASCII 32 bytes at a time, then eight (most of what the library stores).
            while index + 32 <= count {
                let block = UnsafeRawPointer(base + index)
                let any = block.loadUnaligned(as: UInt64.self) | block.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                    | block.loadUnaligned(fromByteOffset: 16, as: UInt64.self) | block.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
                if any & 0x8080_8080_8080_8080 != 0 { break }
                index += 32
            }
            while index + 8 <= count,
                  UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                index += 8
            }
            guard index < count else { break }
            let lead = base[index]
            if lead < 0x80 { index += 1; continue }
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return false
            }
            guard index + length <= count else { return false }
            let second = base[index + 1]
            guard second >= low && second <= high else { return false }
            var next = index + 2
            while next < index + length {
                guard base[next] & 0xC0 == 0x80 else { return false }
                next += 1
            }
            index += length
        }
        return true
    }

    /// A non-negative number's decimal digits, the bytes `String(number)` gives (also the
    /// chain link's lengths, `AuditLog.chainLink`).
    static func appendDecimal(_ number: Int, to bytes: inout [UInt8]) {
        if number < 10 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: number))
            return
        }
        var divisor = 10
        while divisor <= number / 10 { divisor *= 10 }
        var rest = number
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// Calls `body` with each key of a table and the digest of its rows, in key order (verify).
    package static func forEachKey(_ db: Connection, _ table: Table, _ body: (String, String) throws -> Void) throws {
        var key: String?
        var contents: [[UInt8]] = []
        func flush() throws {
            if let key { try body(key, digest(table: table.name, key: key, contents: contents)) }
            contents = []
        }
        let dialect = db.dialect
        try db.forEach("SELECT \(dialect.keyExpression(table)), \(table.selected) FROM \(dialect.table(table.name)) ORDER BY \(table.key.joined(separator: ", "))") { row in
            let rowKey = row.text(0)
            if rowKey != key { try flush(); key = rowKey }
            var content: [UInt8] = []
            canonical(row, from: 1, into: &content)
            contents.append(content)
        }
        try flush()
    }

    /// The digest recorded for a row and the audit row that wrote it, nil when none is (verify).
    package static func recorded(_ db: Connection, table: String, key: String) throws -> (digest: String, audit: Int64)? {
        try db.first("SELECT digest, audit_id FROM row_digests WHERE table_name = ? AND row_key = ?",
                     table, key) { ($0.text(0), $0.int(1)) }
    }

    /// Recorded digests of a table whose row is gone: key and the audit row that last wrote it
    /// (verify).
    package static func missingRows(_ db: Connection, _ table: Table) throws -> [(key: String, audit: Int64)] {
        var missing: [(key: String, audit: Int64)] = []
        let dialect = db.dialect
        let match = dialect.keyMatch(table, row: "t", key: "d.row_key")
        try db.forEach("""
            SELECT d.row_key, d.audit_id FROM row_digests d
            WHERE d.table_name = ? AND NOT EXISTS (SELECT 1 FROM \(dialect.table(table.name)) t WHERE \(match))
            """, [table.name]) { row in
            missing.append((row.text(0), row.int(1)))
        }
        return missing
    }

    /// Recorded digests that are not the chain's (verify): for each key an audit row lists, the
    /// last write's digest and audit row must be the recorded ones (`listed: true` when they are
    /// not), and every recorded digest must belong to a key the chain lists (`listed: false`).
    /// That second half is a NOT IN over the listed keys, which SQLite reads once into an
    /// ephemeral index: a correlated NOT EXISTS over the materialized `last` scanned it for
    /// every recorded digest, quadratic (48 s instead of 0.2 s for 36,000 rows).
    package static func digestsOffChain(_ db: Connection) throws -> [(table: String, key: String, audit: Int64, listed: Bool)] {
        var mismatches: [(table: String, key: String, audit: Int64, listed: Bool)] = []
        let dialect = db.dialect
        // A database copied into PostgreSQL keeps the identifier counters in its sequences, not
        // in `id_sequences` rows, nor their digests: the writes of them its copied audit rows
        // list are the SQLite file's history, not rows to find (`IdentifierSequence.keptInRows`).
        let kept = IdentifierSequence.keptInRows(dialect) ? "" : " AND l.t <> 'id_sequences'"
        try db.forEach("""
            WITH writes AS (\(dialect.auditWrites)),
            last AS (\(dialect.lastAuditWrites))
            SELECT l.t, l.k, l.audit_id, 'listed' FROM last l LEFT JOIN row_digests r ON r.table_name = l.t AND r.row_key = l.k
                WHERE ((l.d IS NULL) != (r.digest IS NULL) OR l.d != r.digest OR l.audit_id != r.audit_id)\(kept)
            UNION ALL
            SELECT r.table_name, r.row_key, r.audit_id, 'unlisted' FROM row_digests r
                WHERE (r.table_name, r.row_key) NOT IN (SELECT t, k FROM last WHERE t IS NOT NULL AND k IS NOT NULL)
            """) { row in
            mismatches.append((row.text(0), row.text(1), row.int(2), row.text(3) == "listed"))
        }
        return mismatches
    }

    /// The audit row's list of writes: `[[table, key, digest or null], …]`, written directly
    /// (the same text as the `JSONValue` array of them).
    package static func listText(_ writes: [Write]) -> String {
        var writer = JSONWriter(capacity: writes.reduce(2) { $0 + $1.table.utf8.count + $1.key.utf8.count * 2 + 80 })
        writer.writeMark("[")
        for (index, write) in writes.enumerated() {
            if index > 0 { writer.writeMark(",") }
            writer.writeMark("[")
            writer.writeString(write.table)
            writer.writeMark(",")
            writer.writeString(write.key)
            writer.writeMark(",")
            if let digest = write.digest { writer.writeString(digest) } else { writer.write(.null) }
            writer.writeMark("]")
        }
        writer.writeMark("]")
        return writer.text
    }

    /// Keeps each write's digest and the audit row that made it. PostgreSQL upserts every
    /// digest in one statement from the audit row's list (`list`, the text `listText` wrote for
    /// `writes`): one round trip instead of one per row. SQLite upserts row by row, which costs
    /// it less than taking the list apart.
    package static func store(_ db: Connection, _ writes: [Write], list: String, audit: Int64) throws {
        guard !writes.isEmpty else { return }
        if db.dialect == .postgres {
            if writes.contains(where: { $0.digest != nil }) { try db.run(storeDigestsPostgres, list, audit) }
            for write in writes where write.digest == nil {
                try db.run("DELETE FROM row_digests WHERE table_name = ? AND row_key = ?", write.table, write.key)
            }
            return
        }
        for write in writes {
            if let digest = write.digest {
                try db.run(storeDigest, values: .text(write.table), .text(write.key), .text(digest), .integer(audit))
            } else {
                try db.run("DELETE FROM row_digests WHERE table_name = ? AND row_key = ?", write.table, write.key)
            }
        }
    }

    private static let storeDigest = """
        INSERT INTO row_digests (table_name, row_key, digest, audit_id) VALUES (?, ?, ?, ?)
        ON CONFLICT (table_name, row_key) DO UPDATE SET digest = excluded.digest, audit_id = excluded.audit_id
        """
    private static let storeDigestsPostgres = """
        INSERT INTO row_digests (table_name, row_key, digest, audit_id)
        SELECT e ->> 0, e ->> 1, e ->> 2, ?2 FROM jsonb_array_elements(CAST(?1 AS jsonb)) e
        WHERE e ->> 2 IS NOT NULL
        ON CONFLICT (table_name, row_key) DO UPDATE SET digest = excluded.digest, audit_id = excluded.audit_id
        """

    /// Run by the migration that brings row coverage to a file holding rows already: records
    /// the digest of every existing row, one `schema.upgrade` audit row per table listing them,
    /// and hashes audit rows written before the chain existed (the chain is recomputed from
    /// its start, since a link cannot follow a row without a hash). From then on every audit
    /// row has a hash and every covered row a digest. The rows are taken as they are: tampering
    /// before the upgrade is not detected (verify before upgrading).
    package static func baseline(_ db: Connection) throws {
        let now = Int64(time(nil))
        if try db.first("SELECT 1 FROM audit_log WHERE hash IS NULL LIMIT 1", map: { _ in true }) == true {
            try AuditLog.rehashAll(db)
        }
        for table in tables {
            var writes: [Write] = []
            try forEachKey(db, table) { key, digest in writes.append(Write(table: table.name, key: key, digest: digest)) }
            guard !writes.isEmpty else { continue }
            try AuditLog.appendRow(db, at: now, actor: "libbilling", operation: "schema.upgrade", account: nil,
                                   subject: table.name, detail: ["table": .string(table.name), "rows": .integer(Int64(writes.count))],
                                   writes: writes)
        }
    }
}

/// The canonical contents of the rows under one key, read one after another into one buffer
/// (no array per row), and their digest: `RowCoverage.digest(table:key:contents:)`'s bytes. The
/// buffer begins with what that input begins with for one row (`table \n key \n 1 \n`, every
/// covered table's key but a group's names one row), so that a key with one row is hashed from
/// the buffer itself, without copying its content into another.
struct RowContents {
    /// The digest's input for one row: the prefix, then the rows' contents one after another.
    private var bytes: [UInt8] = []
    /// Where each row's content ends in `bytes`.
    private var ends: [Int] = []
    /// Where the first row's content begins in `bytes` (after the prefix).
    private var start = 0

    init() {
        // Most rows fit; a configuration or a stored response (1.3–1.8 KB) grows it once.
        bytes.reserveCapacity(2048)
    }

    /// Starts the rows of a key (forgets the rows appended before).
    mutating func begin(table: String, key: String) {
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        // table \n key \n 1 \n, as `RowCoverage.digest(table:key:contents:)` writes it for one row.
        bytes += table.utf8
        bytes.append(10)
        bytes += key.utf8
        bytes.append(10)
        bytes.append(UInt8(ascii: "1"))
        bytes.append(10)
        start = bytes.count
    }

    mutating func append(_ row: Row, from first: Int32) {
        RowCoverage.canonical(row, from: first, into: &bytes)
        ends.append(bytes.count)
    }

    /// The digest of the rows appended since `begin(table:key:)` (given the same table and
    /// key), nil when there are none.
    mutating func digest(table: String, key: String) -> String? {
        guard !ends.isEmpty else { return nil }
        guard ends.count == 1 else {
            var contents: [[UInt8]] = []
            var from = start
            for end in ends {
                contents.append(Array(bytes[from..<end]))
                from = end
            }
            return RowCoverage.digest(table: table, key: key, contents: contents)
        }
        bytes.append(10)
        return Secrets.digest(bytes)
    }
}
