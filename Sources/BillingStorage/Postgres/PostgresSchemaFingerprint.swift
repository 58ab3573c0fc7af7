import BillingDomain

/// The PostgreSQL backend's released schema fingerprint: what `PostgresConnection.checkSchema`
/// compares an opened schema with before it would build the expected schema in a scratch
/// schema (every migration run on a second connection, about 0.3 s once per process, and the
/// right to `CREATE SCHEMA` in the database).
///
/// The fingerprint is the md5 of the schema's description (`descriptionQuery`: one line per
/// column, constraint, index, trigger, view, sequence and function, the schema's name taken
/// out), its lines sorted by bytes and joined by newlines, computed by the server in one
/// catalogue query. How PostgreSQL prints a definition may change between major versions, so
/// the released digests are kept per server major version (`releasedDigests`, written by
/// `scripts/pg_schema_fingerprint.py` from a real cluster; `PostgresSchemaFingerprintTests`
/// under `make test-pg` fails while the one of the test cluster's version is out of date).
/// A server of another major version, or a schema that differs, takes the scratch comparison,
/// which names the differences: the constant only ever saves work.
package enum PostgresSchemaFingerprint {
    /// One row per object of the schema named by `$1`, its name taken out of definitions so
    /// that two schemas holding the same objects describe alike. The stamp table and row
    /// coverage's `billing_cover_*` triggers and functions are the backend's, not the
    /// migrations', and are left out. `scripts/pg_schema_fingerprint.py` reads this text (a
    /// raw string: it is the SQL byte for byte).
    package static let descriptionQuery = #"""
        SELECT replace(replace(line, '"' || $1 || '".', ''), $1 || '.', '') AS line FROM (
            SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                || coalesce(' collate ' || (SELECT l.collname FROM pg_collation l WHERE l.oid = a.attcollation), '')
                || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
                || CASE a.attidentity WHEN 'a' THEN ' identity ALWAYS' WHEN 'd' THEN ' identity BY DEFAULT' ELSE '' END AS line
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE c.relnamespace = $1::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relname <> 'billing_schema'
                AND a.attnum > 0 AND NOT a.attisdropped
            UNION ALL
            SELECT 'constraint ' || c.relname || '.' || k.conname || ' ' || pg_get_constraintdef(k.oid)
            FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
            WHERE c.relnamespace = $1::regnamespace AND c.relname <> 'billing_schema'
            UNION ALL
            SELECT 'index ' || i.relname || ' ' || pg_get_indexdef(i.oid)
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
            WHERE c.relnamespace = $1::regnamespace AND c.relname <> 'billing_schema'
            UNION ALL
            SELECT 'trigger ' || t.tgname || ' ' || pg_get_triggerdef(t.oid)
            FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            WHERE c.relnamespace = $1::regnamespace AND NOT t.tgisinternal AND t.tgname NOT LIKE 'billing\_cover\_%'
            UNION ALL
            SELECT 'view ' || c.relname || ' ' || pg_get_viewdef(c.oid) FROM pg_class c
            WHERE c.relnamespace = $1::regnamespace AND c.relkind IN ('v', 'm')
            UNION ALL
            SELECT 'sequence ' || c.relname FROM pg_class c WHERE c.relnamespace = $1::regnamespace AND c.relkind = 'S'
            UNION ALL
            SELECT 'function ' || p.proname || ' ' || md5(p.prosrc) FROM pg_proc p
            WHERE p.pronamespace = $1::regnamespace AND p.proname NOT LIKE 'billing\_cover\_%'
        ) AS objects
        """#

    /// The schema's digest and the server's major version, in one query.
    package static let digestQuery = """
        SELECT md5(coalesce(string_agg(line, E'\\n' ORDER BY line COLLATE "C"), '')),
            current_setting('server_version_num')::bigint / 10000
        FROM (\(descriptionQuery)) AS description
        """

    /// The digest of `schema` as described by `descriptionQuery`, and the server's major version.
    package static func digest(_ db: PostgresConnection, schema: String) throws -> (digest: String, major: Int64) {
        try db.first(digestQuery, schema) { ($0.text(0), $0.int(1)) } ?? ("", 0)
    }

    /// The released digest for a server's major version, when `version` is the latest and
    /// `migrations` the library's own scripts up to it (the only schema it was made from).
    package static func released(version: Int64, migrations: [String], major: Int64) -> String? {
        guard version == releasedVersion, version == PostgresSchema.latestVersion,
              migrations == libraryMigrations else { return nil }
        return releasedDigests[major]
    }

    /// The library's scripts, built once (`PostgresSchema.migrations` is computed).
    private static let libraryMigrations = PostgresSchema.migrations
}
