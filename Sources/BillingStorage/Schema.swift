import BillingDomain
import BillingDocuments

/// The forward-only schema history. Each entry moves the file from version `index` to
/// `index + 1`; entries are never edited once released, only appended.
package enum Schema {
    /// `PRAGMA application_id` of a libbilling file ("BILL").
    package static let applicationID: Int64 = 0x4249_4C4C

    /// The PostgreSQL twin of migration 16 (events in commit order), written by the rules of
    /// docs/postgresql.md ("Schema translation rules"): the same columns, indexes and head row
    /// with PostgreSQL types. Kept here, beside its SQLite original below; the PostgreSQL
    /// migration list (`PostgresSchema.later`) takes it in. It must stay above `migrations`: scripts/schema_fingerprint.py reads every string literal after it.
    package static let postgresEventPositionMigration = "ALTER TABLE events ADD COLUMN position bigint;\n"
        + "UPDATE events SET position = seq;\n"
        + "CREATE UNIQUE INDEX events_by_position ON events (position);\n"
        + "CREATE INDEX events_unsealed ON events (seq) WHERE position IS NULL;\n"
        + "DROP INDEX events_by_account;\n"
        + "CREATE INDEX events_by_account ON events (account_id, position) WHERE account_id IS NOT NULL;\n"
        + "CREATE TABLE outbox_head (\n"
        + "    id bigint PRIMARY KEY CHECK (id = 1),\n"
        + "    seals bigint NOT NULL CHECK (seals >= 0)\n"
        + ");\n"
        + "INSERT INTO outbox_head (id, seals) VALUES (1, 0);\n"

    /// The PostgreSQL twin of migration 17 (the audit chain per scope, and its seals), by the
    /// same rules; it follows `postgresEventPositionMigration` in `PostgresSchema.later`.
    package static let postgresAuditScopeMigration = "ALTER TABLE audit_log ADD COLUMN scope text COLLATE \"C\";\n"
        + "ALTER TABLE audit_log ADD COLUMN seal bigint;\n"
        + "UPDATE audit_log SET seal = 0 WHERE id < (SELECT max(id) FROM audit_log);\n"
        + "CREATE INDEX audit_by_scope ON audit_log (scope, id);\n"
        + "CREATE INDEX audit_unsealed ON audit_log (id) WHERE seal IS NULL;\n"
        + "CREATE TABLE audit_seals (\n"
        + "    position bigint PRIMARY KEY,\n"
        + "    heads text COLLATE \"C\" NOT NULL,\n"
        + "    hash text COLLATE \"C\" NOT NULL\n"
        + ");\n"

    /// The PostgreSQL twin of migration 18 (the records of event positions), by the same
    /// rules; it follows `postgresAuditScopeMigration` in `PostgresSchema.later`.
    package static let postgresOutboxSealMigration = "CREATE TABLE outbox_seals (\n"
        + "    seal bigint PRIMARY KEY,\n"
        + "    first_position bigint NOT NULL,\n"
        + "    seqs text COLLATE \"C\" NOT NULL,\n"
        + "    hash text COLLATE \"C\" NOT NULL\n"
        + ");\n"

    package static let migrations: [String] = [
        // 1: the cross-cutting tables every operation uses.
        """
        CREATE TABLE config (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            document TEXT NOT NULL,
            revision INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            type TEXT NOT NULL,
            account_id TEXT,
            subject_id TEXT,
            occurred_at INTEGER NOT NULL,
            data TEXT NOT NULL
        ) STRICT;
        CREATE INDEX events_by_account ON events (account_id, seq) WHERE account_id IS NOT NULL;
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            recorded_at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            operation TEXT NOT NULL,
            account_id TEXT,
            subject_id TEXT,
            detail TEXT NOT NULL
        ) STRICT;
        CREATE INDEX audit_by_account ON audit_log (account_id, id) WHERE account_id IS NOT NULL;
        CREATE TABLE idempotency (
            key TEXT PRIMARY KEY,
            operation TEXT NOT NULL,
            request TEXT NOT NULL,
            response TEXT NOT NULL,
            created_at INTEGER NOT NULL
        ) STRICT;
        """,
        // 2: customer accounts, money positions, coupons, platform accounts and their tokens.
        """
        CREATE TABLE accounts (
            id TEXT PRIMARY KEY,
            type TEXT NOT NULL CHECK (type IN ('ENTERPRISE', 'PERSONAL')),
            realname_verified INTEGER NOT NULL CHECK (realname_verified IN (0, 1)),
            restricted INTEGER NOT NULL CHECK (restricted IN (0, 1)),
            freeze TEXT NOT NULL CHECK (freeze IN ('NONE', 'ARREARS', 'VIOLATION', 'POLICE')),
            level TEXT NOT NULL CHECK (level IN ('V0', 'V1', 'V2', 'V3', 'V4', 'V5')),
            cash_balance INTEGER NOT NULL DEFAULT 0,
            credit_limit INTEGER NOT NULL DEFAULT 0 CHECK (credit_limit >= 0),
            credit_used INTEGER NOT NULL DEFAULT 0 CHECK (credit_used >= 0 AND credit_used <= credit_limit),
            deduction_days INTEGER CHECK (deduction_days BETWEEN 2 AND 7),
            unified_expiry_day INTEGER CHECK (unified_expiry_day = -1 OR unified_expiry_day BETWEEN 1 AND 28),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE ledger (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            account_id TEXT NOT NULL REFERENCES accounts (id),
            fund TEXT NOT NULL CHECK (fund IN ('CASH', 'CREDIT')),
            kind TEXT NOT NULL,
            amount INTEGER NOT NULL,
            balance_after INTEGER NOT NULL,
            reference TEXT,
            order_id TEXT,
            recorded_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX ledger_by_account ON ledger (account_id, id);
        CREATE UNIQUE INDEX topup_reference ON ledger (account_id, reference) WHERE kind = 'TOPUP';
        CREATE TABLE coupons (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE,
            account_id TEXT NOT NULL REFERENCES accounts (id),
            kind TEXT NOT NULL CHECK (kind IN ('VOUCHER', 'CASH_COUPON', 'DISCOUNT_COUPON', 'STORED_VALUE_CARD')),
            face_value INTEGER NOT NULL CHECK (face_value >= 0),
            balance INTEGER NOT NULL CHECK (balance >= 0 AND balance <= face_value),
            discount_bp INTEGER CHECK (discount_bp BETWEEN 1 AND 9999),
            max_discount INTEGER CHECK (max_discount > 0),
            valid_from INTEGER NOT NULL,
            valid_to INTEGER NOT NULL CHECK (valid_to > valid_from),
            scope TEXT NOT NULL,
            min_spend INTEGER NOT NULL CHECK (min_spend >= 0),
            exclusive_with_discounts INTEGER NOT NULL CHECK (exclusive_with_discounts IN (0, 1)),
            reference TEXT,
            issued_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX coupons_by_account ON coupons (account_id, seq);
        CREATE UNIQUE INDEX coupon_reference ON coupons (account_id, reference) WHERE reference IS NOT NULL;
        CREATE TABLE coupon_ledger (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            coupon_id TEXT NOT NULL REFERENCES coupons (id),
            kind TEXT NOT NULL CHECK (kind IN ('ISSUE', 'USE', 'RETURN', 'VOID')),
            amount INTEGER NOT NULL,
            order_id TEXT,
            recorded_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX coupon_ledger_by_coupon ON coupon_ledger (coupon_id, id);
        CREATE TABLE platform_accounts (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE,
            account_id TEXT NOT NULL REFERENCES accounts (id),
            status TEXT NOT NULL CHECK (status IN ('SUBMITTED', 'APPROVED_PENDING_PASSWORD', 'ACTIVE', 'REJECTED')),
            user_name TEXT NOT NULL,
            email TEXT NOT NULL,
            phone TEXT NOT NULL,
            contact_name TEXT,
            password_hash TEXT,
            failed_logins INTEGER NOT NULL DEFAULT 0,
            locked_until INTEGER,
            reject_reason TEXT,
            submitted_at INTEGER NOT NULL,
            decided_at INTEGER,
            activated_at INTEGER,
            password_changed_at INTEGER
        ) STRICT;
        -- A rejected application frees its identifiers and lets the account apply again.
        CREATE UNIQUE INDEX platform_by_account ON platform_accounts (account_id) WHERE status != 'REJECTED';
        CREATE UNIQUE INDEX platform_by_user_name ON platform_accounts (user_name) WHERE status != 'REJECTED';
        CREATE UNIQUE INDEX platform_by_email ON platform_accounts (email) WHERE status != 'REJECTED';
        CREATE UNIQUE INDEX platform_by_phone ON platform_accounts (phone) WHERE status != 'REJECTED';
        CREATE TABLE platform_tokens (
            token_hash TEXT PRIMARY KEY,
            platform_account_id TEXT NOT NULL REFERENCES platform_accounts (id),
            purpose TEXT NOT NULL CHECK (purpose IN ('SET_PASSWORD', 'RESET_PASSWORD')),
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            used_at INTEGER
        ) STRICT;
        CREATE INDEX platform_tokens_by_account ON platform_tokens (platform_account_id, purpose);
        CREATE TABLE id_sequences (
            name TEXT PRIMARY KEY,
            next INTEGER NOT NULL
        ) STRICT;
        """,
        // 3: catalog, orders, order lines, payments per resource, resources and their periods.
        """
        ALTER TABLE coupons ADD COLUMN used_at INTEGER;
        CREATE TABLE products (
            id TEXT PRIMARY KEY,
            product_type TEXT NOT NULL,
            kind TEXT NOT NULL,
            billing_mode TEXT NOT NULL CHECK (billing_mode IN ('PREPAID', 'ON_DEMAND', 'PACKAGE', 'ONE_OFF')),
            document TEXT NOT NULL,
            on_sale INTEGER NOT NULL CHECK (on_sale IN (0, 1)),
            updated_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX products_by_type ON products (product_type, id);
        CREATE TABLE commercial_discounts (
            account_id TEXT NOT NULL REFERENCES accounts (id),
            product_type TEXT NOT NULL,
            rate_bp INTEGER NOT NULL CHECK (rate_bp BETWEEN 0 AND 9999),
            PRIMARY KEY (account_id, product_type)
        ) STRICT;
        CREATE TABLE orders (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE,
            account_id TEXT NOT NULL REFERENCES accounts (id),
            combined_id TEXT REFERENCES orders (id),
            is_combined INTEGER NOT NULL CHECK (is_combined IN (0, 1)),
            type TEXT NOT NULL,
            status TEXT NOT NULL,
            product_type TEXT NOT NULL,
            billing_mode TEXT NOT NULL,
            product_kind TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            pay_deadline INTEGER,
            paid_at INTEGER,
            completed_at INTEGER,
            cancelled_at INTEGER,
            cancel_reason TEXT,
            review_required INTEGER NOT NULL,
            placed_by_manager INTEGER NOT NULL,
            contract TEXT,
            source_order_id TEXT,
            list_price INTEGER NOT NULL,
            commercial_discount INTEGER NOT NULL,
            promotion_discount INTEGER NOT NULL,
            discount_coupon INTEGER NOT NULL,
            voucher INTEGER NOT NULL,
            cash_coupon INTEGER NOT NULL,
            stored_value_card INTEGER NOT NULL,
            cash INTEGER NOT NULL,
            credit INTEGER NOT NULL
        ) STRICT;
        -- The list shows plain orders and sub-orders (combined orders are their containers);
        -- one index per filter, each ending in the newest-first keyset (created_at, seq).
        CREATE INDEX orders_list ON orders (account_id, created_at, seq) WHERE is_combined = 0;
        CREATE INDEX orders_by_status ON orders (account_id, status, created_at, seq) WHERE is_combined = 0;
        CREATE INDEX orders_by_type ON orders (account_id, type, created_at, seq) WHERE is_combined = 0;
        CREATE INDEX orders_by_product_type ON orders (account_id, product_type, created_at, seq) WHERE is_combined = 0;
        CREATE INDEX orders_by_mode ON orders (account_id, billing_mode, created_at, seq) WHERE is_combined = 0;
        CREATE INDEX orders_by_combined ON orders (combined_id) WHERE combined_id IS NOT NULL;
        -- Orders the scheduler cancels when their deadline passes (sub-orders go with their container).
        CREATE INDEX orders_due ON orders (pay_deadline)
            WHERE combined_id IS NULL AND status IN ('PENDING_PAYMENT', 'PENDING_CONFIRMATION');
        CREATE TABLE order_lines (
            order_id TEXT NOT NULL REFERENCES orders (id),
            line_no INTEGER NOT NULL,
            product_id TEXT NOT NULL,
            product_type TEXT NOT NULL,
            billing_mode TEXT NOT NULL,
            region TEXT,
            period_unit TEXT,
            period_count INTEGER,
            quantity INTEGER NOT NULL CHECK (quantity > 0),
            parent_line INTEGER,
            relation TEXT,
            effective_at INTEGER,
            product TEXT NOT NULL,
            list_price INTEGER NOT NULL,
            commercial_discount INTEGER NOT NULL,
            promotion_discount INTEGER NOT NULL,
            discount_coupon INTEGER NOT NULL,
            voucher INTEGER NOT NULL,
            cash_coupon INTEGER NOT NULL,
            stored_value_card INTEGER NOT NULL,
            cash INTEGER NOT NULL,
            credit INTEGER NOT NULL,
            PRIMARY KEY (order_id, line_no)
        ) STRICT;
        CREATE TABLE resources (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE,
            account_id TEXT NOT NULL REFERENCES accounts (id),
            order_id TEXT NOT NULL REFERENCES orders (id),
            line_no INTEGER NOT NULL,
            product_id TEXT NOT NULL,
            product_type TEXT NOT NULL,
            billing_mode TEXT NOT NULL,
            region TEXT,
            status TEXT NOT NULL,
            primary_id TEXT REFERENCES resources (id),
            relation TEXT,
            period_unit TEXT,
            period_count INTEGER,
            anchor_day INTEGER,
            created_at INTEGER NOT NULL,
            provisioned_at INTEGER,
            effective_at INTEGER,
            expire_at INTEGER,
            ended_at INTEGER,
            expiry_policy TEXT NOT NULL DEFAULT 'MANUAL'
        ) STRICT;
        CREATE INDEX resources_by_account ON resources (account_id, seq);
        CREATE INDEX resources_by_order ON resources (order_id);
        CREATE INDEX resources_by_primary ON resources (primary_id) WHERE primary_id IS NOT NULL;
        -- What each source paid for each resource under each order: refunds go back along it.
        CREATE TABLE resource_funding (
            resource_id TEXT NOT NULL REFERENCES resources (id),
            order_id TEXT NOT NULL REFERENCES orders (id),
            source TEXT NOT NULL,
            coupon_id TEXT NOT NULL DEFAULT '',
            amount INTEGER NOT NULL,
            PRIMARY KEY (resource_id, order_id, source, coupon_id)
        ) STRICT;
        CREATE INDEX funding_by_order ON resource_funding (order_id);
        -- What went back, per source, of what a paying order paid for a resource; each paid
        -- share is refunded at most once.
        CREATE TABLE resource_refunds (
            resource_id TEXT NOT NULL REFERENCES resources (id),
            order_id TEXT NOT NULL REFERENCES orders (id),
            source TEXT NOT NULL,
            coupon_id TEXT NOT NULL DEFAULT '',
            refund_order_id TEXT NOT NULL REFERENCES orders (id),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            UNIQUE (resource_id, order_id, source, coupon_id)
        ) STRICT;
        CREATE INDEX refunds_by_refund_order ON resource_refunds (refund_order_id);
        CREATE TABLE resource_periods (
            resource_id TEXT NOT NULL REFERENCES resources (id),
            order_id TEXT NOT NULL REFERENCES orders (id),
            start_at INTEGER NOT NULL,
            end_at INTEGER NOT NULL CHECK (end_at > start_at),
            status TEXT NOT NULL DEFAULT 'PAID',
            PRIMARY KEY (resource_id, start_at)
        ) STRICT;
        """,
        // 4: renewals: the resource timeline (grace, retention, auto-renew, reminders, the next
        // instant something is due), renewal order lines, and one open order per resource.
        """
        ALTER TABLE resources ADD COLUMN grace_end INTEGER;
        ALTER TABLE resources ADD COLUMN retention_end INTEGER;
        ALTER TABLE resources ADD COLUMN freeze_reason TEXT;
        ALTER TABLE resources ADD COLUMN auto_renew_unit TEXT;
        ALTER TABLE resources ADD COLUMN auto_renew_count INTEGER;
        ALTER TABLE resources ADD COLUMN auto_renew_remaining INTEGER;
        ALTER TABLE resources ADD COLUMN next_attempt_at INTEGER;
        ALTER TABLE resources ADD COLUMN reminded_days INTEGER;
        ALTER TABLE resources ADD COLUMN due_at INTEGER;
        CREATE INDEX resources_due ON resources (due_at) WHERE due_at IS NOT NULL;
        CREATE INDEX renewals_view ON resources (account_id, expiry_policy, expire_at, seq)
            WHERE billing_mode = 'PREPAID' AND primary_id IS NULL;
        ALTER TABLE order_lines ADD COLUMN resource_id TEXT REFERENCES resources (id);
        ALTER TABLE order_lines ADD COLUMN renew_from INTEGER;
        ALTER TABLE order_lines ADD COLUMN renew_to INTEGER;
        ALTER TABLE order_lines ADD COLUMN anchor_after INTEGER;
        CREATE INDEX order_lines_by_resource ON order_lines (resource_id) WHERE resource_id IS NOT NULL;
        -- At most one order waiting for payment or processing per resource (§4.3 #3).
        CREATE TABLE resource_open_orders (
            resource_id TEXT PRIMARY KEY REFERENCES resources (id),
            order_id TEXT NOT NULL REFERENCES orders (id)
        ) STRICT;
        CREATE INDEX open_orders_by_order ON resource_open_orders (order_id);
        """,
        // 5: unsubscription: the five-day quota units used per natural year, what each refund
        // order refunded and why, and the host's refund blocks on a resource.
        """
        CREATE TABLE five_day_units (
            account_id TEXT NOT NULL REFERENCES accounts (id),
            year INTEGER NOT NULL,
            unit_key TEXT NOT NULL,
            order_id TEXT NOT NULL REFERENCES orders (id),
            PRIMARY KEY (account_id, year, unit_key)
        ) STRICT;
        CREATE TABLE refund_details (
            order_id TEXT NOT NULL REFERENCES orders (id),
            resource_id TEXT NOT NULL REFERENCES resources (id),
            detail TEXT NOT NULL,
            PRIMARY KEY (order_id, resource_id)
        ) STRICT;
        ALTER TABLE resources ADD COLUMN refund_blocks TEXT;
        """,
        // 6: pay-per-use usage: the host's records (each usage id counts once), hourly settled
        // lines, what paid them, and package consumption per reset period or hour.
        """
        CREATE TABLE usage_records (
            account_id TEXT NOT NULL REFERENCES accounts (id),
            usage_id TEXT NOT NULL,
            resource_id TEXT NOT NULL REFERENCES resources (id),
            quantity INTEGER NOT NULL,
            start_at INTEGER NOT NULL,
            end_at INTEGER NOT NULL,
            recorded_at INTEGER NOT NULL,
            PRIMARY KEY (account_id, usage_id)
        ) STRICT;
        CREATE TABLE usage_lines (
            resource_id TEXT NOT NULL REFERENCES resources (id),
            hour_start INTEGER NOT NULL,
            account_id TEXT NOT NULL,
            units INTEGER NOT NULL,
            covered INTEGER NOT NULL,
            overage INTEGER NOT NULL,
            price_microfen INTEGER NOT NULL,
            per_hour INTEGER NOT NULL CHECK (per_hour IN (0, 1)),
            charged INTEGER NOT NULL,
            PRIMARY KEY (resource_id, hour_start)
        ) STRICT;
        CREATE INDEX usage_lines_by_account ON usage_lines (account_id, hour_start);
        CREATE TABLE usage_funding (
            resource_id TEXT NOT NULL,
            hour_start INTEGER NOT NULL,
            source TEXT NOT NULL,
            coupon_id TEXT NOT NULL DEFAULT '',
            amount INTEGER NOT NULL,
            PRIMARY KEY (resource_id, hour_start, source, coupon_id)
        ) STRICT;
        CREATE TABLE package_usage (
            package_id TEXT NOT NULL REFERENCES resources (id),
            window_start INTEGER NOT NULL,
            used INTEGER NOT NULL,
            PRIMARY KEY (package_id, window_start)
        ) STRICT;
        CREATE TABLE package_deductions (
            package_id TEXT NOT NULL REFERENCES resources (id),
            resource_id TEXT NOT NULL,
            hour_start INTEGER NOT NULL,
            units INTEGER NOT NULL,
            PRIMARY KEY (package_id, resource_id, hour_start)
        ) STRICT;
        CREATE INDEX packages_by_account ON resources (account_id, billing_mode, status) WHERE billing_mode = 'PACKAGE';
        """,
        // 7: export records; their files live in the export directory, named by the engine.
        """
        CREATE TABLE exports (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE,
            account_id TEXT NOT NULL REFERENCES accounts (id),
            kind TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('GENERATING', 'READY', 'FAILED')),
            request TEXT NOT NULL,
            language TEXT NOT NULL,
            directory TEXT NOT NULL,
            file_name TEXT NOT NULL,
            rows_expected INTEGER NOT NULL,
            rows_written INTEGER NOT NULL DEFAULT 0,
            bytes INTEGER NOT NULL DEFAULT 0,
            cursor TEXT,
            created_at INTEGER NOT NULL,
            purge_at INTEGER NOT NULL,
            completed_at INTEGER,
            failure_reason TEXT
        ) STRICT;
        CREATE INDEX exports_by_account ON exports (account_id, seq);
        CREATE INDEX exports_generating ON exports (seq) WHERE status = 'GENERATING';
        CREATE INDEX exports_purge ON exports (purge_at);
        """,
        // 8: a tamper-evident audit log: each row carries the hash of the one before it.
        """
        ALTER TABLE audit_log ADD COLUMN hash TEXT;
        """,
        // 9: a refunded period stays on record, and only paid periods are unique by start (a
        // resource whose renewal periods were refunded can be renewed from the same instant).
        """
        CREATE TABLE resource_periods_new (
            resource_id TEXT NOT NULL REFERENCES resources (id),
            order_id TEXT NOT NULL REFERENCES orders (id),
            start_at INTEGER NOT NULL,
            end_at INTEGER NOT NULL CHECK (end_at > start_at),
            status TEXT NOT NULL DEFAULT 'PAID'
        ) STRICT;
        INSERT INTO resource_periods_new (resource_id, order_id, start_at, end_at, status)
            SELECT resource_id, order_id, start_at, end_at, status FROM resource_periods;
        DROP TABLE resource_periods;
        ALTER TABLE resource_periods_new RENAME TO resource_periods;
        CREATE UNIQUE INDEX periods_paid ON resource_periods (resource_id, start_at) WHERE status = 'PAID';
        CREATE INDEX periods_by_resource ON resource_periods (resource_id, start_at);
        CREATE INDEX periods_by_order ON resource_periods (order_id);
        """,
        // 10: the login throttle replaces the per-account lock (which let anyone lock anyone
        // out and told which identifiers exist): one row per identifier with failures in a row,
        // known or not, keyed by a digest, purged by the scheduler once forgotten. The old
        // columns' counts and locks are dropped with them: after the upgrade every identifier
        // starts with no failures (a running lock lasted at most login_lockout_seconds).
        """
        CREATE TABLE login_throttles (
            key TEXT PRIMARY KEY,
            failures INTEGER NOT NULL CHECK (failures > 0),
            retry_after INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX login_throttles_by_retry ON login_throttles (retry_after);
        ALTER TABLE platform_accounts DROP COLUMN failed_logins;
        ALTER TABLE platform_accounts DROP COLUMN locked_until;
        """,
        // 11: list indexes: the unsubscription page's live resources, the renewal view's ALL tab
        // (every policy, soonest expiry first) and the package list's pages, each per account.
        """
        CREATE INDEX resources_live ON resources (account_id, seq) WHERE status IN ('PENDING_EFFECTIVE', 'IN_USE', 'EXPIRED', 'FROZEN');
        CREATE INDEX renewals_all ON resources (account_id, expire_at, seq) WHERE billing_mode = 'PREPAID' AND primary_id IS NULL;
        CREATE INDEX packages_page ON resources (account_id, seq) WHERE billing_mode = 'PACKAGE';
        """,
        // 12: the approver's queue (billing_platform_accounts_list): platform accounts by status
        // in application order.
        """
        CREATE INDEX platform_by_status ON platform_accounts (status, seq);
        """,
        // 13: the usage page (billing_usage_list) reads an account's lines newest hour first
        // and, within an hour, by resource: with resource_id in the index it reads them in
        // that order instead of sorting each hour's lines.
        """
        DROP INDEX usage_lines_by_account;
        CREATE INDEX usage_lines_by_account ON usage_lines (account_id, hour_start, resource_id);
        """,
        // 14: rows covered by the audit chain, and idempotency keys scoped to their account.
        // Each audit row lists the rows its operation wrote ([table, key, digest or null for a
        // deleted row]) and its hash covers that list; row_digests keeps each covered row's last
        // recorded digest and the audit row that wrote it (RowCoverage). Idempotency keys are
        // scoped by the request's account ("account:<id>"), or by its actor ("actor:<name>") for
        // operations without an account, so one account's keys neither block nor reveal
        // another's; records kept from before take the scope their stored request names.
        // A later migration that adds a column with a non-null default to a covered table changes
        // the digests of its rows: it must re-record them (RowCoverage.baseline).
        """
        ALTER TABLE audit_log ADD COLUMN rows TEXT;
        CREATE TABLE row_digests (
            table_name TEXT NOT NULL,
            row_key TEXT NOT NULL,
            digest TEXT NOT NULL,
            audit_id INTEGER NOT NULL,
            PRIMARY KEY (table_name, row_key)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE idempotency_scoped (
            scope TEXT NOT NULL,
            key TEXT NOT NULL,
            operation TEXT NOT NULL,
            request TEXT NOT NULL,
            response TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (scope, key)
        ) STRICT;
        INSERT INTO idempotency_scoped (scope, key, operation, request, response, created_at)
            SELECT CASE
                    WHEN json_valid(request) AND json_type(request, '$.account_id') = 'text' THEN 'account:' || json_extract(request, '$.account_id')
                    WHEN json_valid(request) AND json_type(request, '$.actor') = 'text' THEN 'actor:' || json_extract(request, '$.actor')
                    ELSE '' END,
                key, operation, request, response, created_at FROM idempotency;
        DROP TABLE idempotency;
        ALTER TABLE idempotency_scoped RENAME TO idempotency;
        """,
        // 15: the account page's resource list (billing_resources_list): a status tab's pages
        // and the per-status counts, grouped on the index without reading the rows.
        """
        CREATE INDEX resources_by_status ON resources (account_id, status, seq);
        """,
        // 16: events in commit order (issue 18). Each event gets a `position`, the number a
        // host pages by (the `seq` and cursors of billing_events_list), given only to an event
        // whose transaction committed: where writers take turns (SQLite) the insert takes the
        // next one, since insert order is commit order there; where they do not (PostgreSQL)
        // the event is inserted without one and a sealer numbers committed events later, in
        // turns on the `outbox_head` row (EventLog). Events already there keep their sequence
        // as position, so a host's cursor goes on working. `position` is not covered by the
        // event's row digest (a sealer sets it after the operation's audit row): verify checks
        // it against the order events were written in instead.
        """
        ALTER TABLE events ADD COLUMN position INTEGER;
        UPDATE events SET position = seq;
        CREATE UNIQUE INDEX events_by_position ON events (position);
        CREATE INDEX events_unsealed ON events (seq) WHERE position IS NULL;
        DROP INDEX events_by_account;
        CREATE INDEX events_by_account ON events (account_id, position) WHERE account_id IS NOT NULL;
        CREATE TABLE outbox_head (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seals INTEGER NOT NULL CHECK (seals >= 0)
        ) STRICT;
        INSERT INTO outbox_head (id, seals) VALUES (1, 0);
        """,
        // 17: the audit chain without one global lock (issue 18). New audit rows are chained
        // per scope (`scope`: "account:<id>", else "actor:<name>", as idempotency keys), each
        // to the previous row of its scope, so a write reads only its own scope's last row
        // (`audit_by_scope`). `billing_audit_head` seals: one row of `audit_seals` (a chain of
        // its own) lists the head of every scope that moved since the previous seal, and the
        // rows it covered take its position in `seal` (`audit_unsealed` finds those not yet
        // sealed). Rows already there keep their one chain (no scope); all but its last count
        // as sealed, so that the first seal lists that last row (AuditLog).
        """
        ALTER TABLE audit_log ADD COLUMN scope TEXT;
        ALTER TABLE audit_log ADD COLUMN seal INTEGER;
        UPDATE audit_log SET seal = 0 WHERE id < (SELECT max(id) FROM audit_log);
        CREATE INDEX audit_by_scope ON audit_log (scope, id);
        CREATE INDEX audit_unsealed ON audit_log (id) WHERE seal IS NULL;
        CREATE TABLE audit_seals (
            position INTEGER PRIMARY KEY,
            heads TEXT NOT NULL,
            hash TEXT NOT NULL
        ) STRICT;
        """,
        // 18: event positions made tamper-evident where a sealer gives them after commit (issue
        // 18, PostgreSQL): the sealer records each batch it numbers — the first position and
        // the `seq` of each event in position order — in `outbox_seals`, chained like the audit
        // seals (keyed with the audit key when the handle has it), in its own transaction, and
        // verify checks every position against the records (OutboxSeals). Where writers take
        // turns (SQLite) positions are given at insert and follow `seq`, which verify checks
        // directly: the table stays empty there (it exists so both backends have the same
        // tables, and a copy carries it).
        """
        CREATE TABLE outbox_seals (
            seal INTEGER PRIMARY KEY,
            first_position INTEGER NOT NULL,
            seqs TEXT NOT NULL,
            hash TEXT NOT NULL
        ) STRICT;
        """,
    ]

    package static var latestVersion: Int64 { Int64(migrations.count) }
}
