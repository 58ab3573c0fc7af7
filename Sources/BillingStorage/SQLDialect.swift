import BillingDomain
import BillingDocuments

/// The few statements a backend spells its own way (docs/storage-interface.md, "The SQL
/// dialect stores are written in"). Stores are written in the subset SQLite and PostgreSQL
/// share; where none exists, the text comes from here, keyed by `Connection.dialect`, so that
/// no service and no other store branches on the backend.
package enum SQLDialect: Sendable {
    case sqlite
    case postgres

    // MARK: Outbox seals (OutboxSeals)

    /// The first of the events listed (`?`, a JSON array of `seq`s) whose row digest names a
    /// keyed audit row: one statement for a whole batch, the join verify uses.
    package var eventWrittenWithKey: String {
        let list = switch self {
        case .sqlite: "(SELECT value FROM json_each(?)) AS j"
        case .postgres: "jsonb_array_elements_text(CAST(? AS jsonb)) AS j(value)"
        }
        return """
            SELECT CAST(j.value AS BIGINT) FROM \(list)
            JOIN row_digests d ON d.table_name = 'events' AND d.row_key = '[' || j.value || ']'
            JOIN audit_log a ON a.id = d.audit_id
            WHERE a.hash LIKE 'k:%' LIMIT 1
            """
    }

    // MARK: Row coverage (RowCoverage)

    /// A row's key over a row alias (`NEW.`, `OLD.`, `t.`) or a table: byte for byte the
    /// compact JSON array SQLite's `json_array(…)` gives, on both backends (the text is stored
    /// in `row_digests` and in the audit rows' lists).
    package func keyExpression(_ table: RowCoverage.Table, _ prefix: String = "") -> String {
        switch self {
        case .sqlite: "json_array(\(table.key.map { prefix + $0 }.joined(separator: ", ")))"
        case .postgres: PostgresConnection.keyExpression(table, prefix)
        }
    }

    /// `SELECT * FROM table WHERE <its key is the given key>` and the arguments to bind for a
    /// key text. SQLite takes the key apart itself (`json_extract(?1, '$[i]')`); PostgreSQL
    /// gets the key's values bound one per column (parsed here), so that the primary key's
    /// index is used and the predicate lock covers one row, not the table. A key that is not a
    /// JSON array of as many scalars as the table has key columns names no row (nil).
    package func selectByKey(_ table: RowCoverage.Table) -> String {
        switch self {
        case .sqlite:
            let match = table.key.enumerated().map { "\($1) = json_extract(?1, '$[\($0)]')" }.joined(separator: " AND ")
            return "SELECT \(table.selected) FROM main.\(table.name) WHERE \(match)"
        case .postgres:
            return "SELECT \(table.selected) FROM \(table.name) WHERE \(table.key.map { "\($0) = ?" }.joined(separator: " AND "))"
        }
    }

    /// SQLite: the rows of several keys, given as one JSON array of key arrays (`?1`), each
    /// with the position of its key in that array as column 0, then what `selectByKey` reads.
    /// `CROSS JOIN` keeps the keys the outer loop, so that the rows come in the keys' order
    /// and each key is a search of the key's index on every key column, as `selectByKey` is
    /// (an `IN` over a row value used only the index's first column).
    package func selectByKeys(_ table: RowCoverage.Table) -> String {
        let columns = table.columns?.map { "t." + $0 }.joined(separator: ", ") ?? "t.*"
        let match = table.key.enumerated().map { "t.\($1) = json_extract(k.value, '$[\($0)]')" }.joined(separator: " AND ")
        return "SELECT k.key, \(columns) FROM json_each(?1) k CROSS JOIN main.\(table.name) t WHERE \(match)"
    }

    /// The arguments of `selectByKey` for a key, nil when the key names no row.
    package func selectByKeyArguments(_ table: RowCoverage.Table, key: String) -> [DatabaseBindable]? {
        switch self {
        case .sqlite:
            return [key]
        case .postgres:
            guard case .array(let values)? = try? JSONValue.parse(key), values.count == table.key.count else { return nil }
            var arguments: [DatabaseBindable] = []
            for value in values {
                switch value {
                case .integer(let number): arguments.append(number)
                case .string(let text): arguments.append(text)
                // A NULL key column matches no row with `=`, as json_extract's NULL does.
                default: return nil
                }
            }
            return arguments
        }
    }

    /// `FROM table t` rows whose key equals `d.row_key` (verify's missing rows). PostgreSQL
    /// compares the key text itself (a hash anti-join over the table, read once).
    package func keyMatch(_ table: RowCoverage.Table, row alias: String, key: String) -> String {
        switch self {
        case .sqlite:
            return table.key.enumerated().map { "\(alias).\($1) = json_extract(\(key), '$[\($0)]')" }.joined(separator: " AND ")
        case .postgres:
            return "\(keyExpression(table, alias + ".")) = \(key)"
        }
    }

    /// The qualified name of a covered table (SQLite: `main.`, past any TEMP table of the name;
    /// PostgreSQL: the connection's schema, TEMP tables being `pg_temp`'s).
    package func table(_ name: String) -> String {
        switch self {
        case .sqlite: "main.\(name)"
        case .postgres: name
        }
    }

    /// Every write the audit rows list, one row each: `audit_id`, `t` (table), `k` (key) and
    /// `d` (digest, NULL for a deleted row), from the JSON lists in `audit_log.rows` (rows whose
    /// list is not valid JSON list nothing; verify reports them through the chain).
    package var auditWrites: String {
        switch self {
        case .sqlite:
            return """
                SELECT a.id AS audit_id, json_extract(j.value, '$[0]') AS t, json_extract(j.value, '$[1]') AS k,
                    json_extract(j.value, '$[2]') AS d
                FROM audit_log a, json_each(a.rows) j WHERE a.rows IS NOT NULL AND json_valid(a.rows)
                """
        case .postgres:
            // `billing_json_valid` (the PostgreSQL schema's) first, so that a damaged list is
            // skipped instead of failing the cast; `->>` gives a JSON string's exact text.
            return """
                SELECT a.id AS audit_id, j.value ->> 0 AS t, j.value ->> 1 AS k, j.value ->> 2 AS d
                FROM (SELECT id, CASE WHEN billing_json_valid(rows) THEN
                        CASE WHEN jsonb_typeof(rows::jsonb) = 'array' THEN rows::jsonb ELSE '[]'::jsonb END
                        ELSE '[]'::jsonb END AS list
                      FROM audit_log WHERE rows IS NOT NULL) a,
                    jsonb_array_elements(a.list) j
                """
        }
    }

    /// The last write of each listed key (`t`, `k`, `d`, `audit_id`) from `writes`.
    package var lastAuditWrites: String {
        switch self {
        // SQLite takes the bare columns from the row holding max(audit_id).
        case .sqlite: "SELECT t, k, d, max(audit_id) AS audit_id FROM writes GROUP BY t, k"
        case .postgres: "SELECT DISTINCT ON (t, k) t, k, d, audit_id FROM writes ORDER BY t, k, audit_id DESC"
        }
    }

    // MARK: Scheduler claims

    /// Ends a scheduler's SELECT of due rows (one table, `ORDER BY … LIMIT ?`): on PostgreSQL
    /// `FOR UPDATE SKIP LOCKED`, so that two runners at once take disjoint rows — each locks the
    /// rows it returns and passes over those another runner holds, instead of both taking the
    /// same ones and one of them failing serialization and running again. Correctness does not
    /// rest on it: each action moves its row in the same SERIALIZABLE transaction, so a row
    /// done by another runner after this one's snapshot fails this one (rerun, it then finds
    /// the row done). SQLite runs one writer at a time: nothing to add (docs/postgresql.md,
    /// "Scheduler claims").
    package var claimDueRows: String {
        switch self {
        case .sqlite: ""
        case .postgres: " FOR UPDATE SKIP LOCKED"
        }
    }

    // MARK: Other statements

    /// Whether a text column holds valid JSON (1) or not (0).
    package func jsonValid(_ column: String) -> String {
        switch self {
        case .sqlite: "json_valid(\(column))"
        case .postgres: "CASE WHEN billing_json_valid(\(column)) THEN 1 ELSE 0 END"
        }
    }

    /// The distinct values of a text column joined by commas (an aggregate).
    package func distinctList(_ column: String) -> String {
        switch self {
        case .sqlite: "group_concat(DISTINCT \(column))"
        case .postgres: "string_agg(DISTINCT \(column), ',')"
        }
    }
}
