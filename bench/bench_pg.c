/*
 * bench_pg.c — libbilling on PostgreSQL against hand-written libpq doing the same statements,
 * measured in one run on the same server, so only the ratios mean anything (issue 18).
 *
 * Each scenario runs the library on one schema of the database and the baseline on another:
 * the baseline's schema is made by opening and closing an engine on it, so both sides write
 * into the library's tables, indexes and (coverage) triggers. The baseline prepares each
 * statement once (PQprepare, placeholders in PostgreSQL's $n form), runs it with
 * PQexecPrepared (integers as binary int8, text as text, results in binary, every column of
 * every row fetched, as the library does), and wraps each operation in
 * BEGIN ISOLATION LEVEL SERIALIZABLE … COMMIT, the library's transactions.
 *
 * Every baseline that writes covers its writes and chains its audit row as the library does
 * on PostgreSQL (bench_pg_coverage.h: the session's TEMP table the triggers fill, each touched
 * row read back and digested, the audit row in its scope's chain with its link, the digests
 * upserted, the check before COMMIT), and billing_verify must pass on every schema at the end:
 * a baseline cannot skip that work unnoticed. (Until 2026-12-07 the baselines kept no row
 * coverage and wrote audit rows without a link, so the write, buy, usage and scheduler ratios
 * compared the library with less work than it does.)
 *
 * (1) write: one idempotent configuration change with event and audit row
 *     (billing_config_update with a new key each time; baseline: bench_write.c's statements, with the key's scope
 *     the library's idempotency table now has).
 * (2) open:  open + close of an existing database (billing_engine_open/close; baseline:
 *     connect with the library's connection keywords, the session settings the library sets
 *     (lock_timeout, client_min_messages), the billing_schema stamp read, PQfinish).
 * (3) buy:   billing_order_create + billing_order_pay of a one-item order (baseline:
 *     bench_orders.c's statement list, with ids drawn from the PostgreSQL sequences as the
 *     library draws them there).
 * (3b) buy, combined: the same with bench_orders.c's three products (ecs.c1, evs.ssd, vpc.bw),
 *     a combined order of three sub-orders (bench_orders.c's (b)). Baseline: (3)'s statements
 *     and code, with bench_orders.c's combined path (the root and one sub-order a product, their
 *     lines, the sub-orders read by combined_id, a ledger row, resource and funding row per
 *     sub-order); BUYS of them a side, each side on its own schema. At the end the library
 *     reads each side's last order back (PROCESSING, three resources pending provisioning)
 *     and its balance (BUYS × 6,700 fen paid): a side that did not do the work dies.
 * (4) order list: billing_orders_list of an account holding LIST_ORDERS orders (made through
 *     billing_order_create on one schema), the first page (limit 20) and page 101 (the
 *     next_cursor after 100 pages). Baseline, on the same schema: in one
 *     BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY … COMMIT (the library's read
 *     transaction), the configuration revision and OrderStore.pageRows' one keyset SELECT of
 *     the page's whole rows (… LIMIT 21), bench_orders.c's (c). (Until 2026-12-07 the baseline
 *     read the keys, then each of the 20 rows by id: 22 statements against the library's 2,
 *     so its ratio said nothing.)
 * (5) usage rating: billing_usage_report of 1,000 records a call (bench_usage.c's records: one
 *     unit for one whole business hour each, over 100 pay-per-use resources of one account,
 *     every record a new hourly line of 12 fen paid from cash; only the calls are timed).
 *     Baseline: bench_usage.c's statements in their PostgreSQL texts, 1,000 records in one
 *     SERIALIZABLE transaction, then the covered audit row; the library reads the baseline's
 *     balance back at the end.
 * (6) throughput: 1, 2, 4 and 8 forked client processes, each with its own engine and its own
 *     account, buying (create + pay, one item) for a fixed time on one PostgreSQL schema; then
 *     the same on one SQLite file (WAL, synchronous=NORMAL) for contrast. Operations per
 *     second over all processes; BILLING_E_BUSY outcomes (serialization failures left after
 *     the library's retries, a busy SQLite file) are counted apart and not in the operations.
 *
 * (7) first open: (2) in a new process each time (this program run again with --first-open),
 *     so that nothing the library keeps per process helps (a CLI call, a short-lived worker);
 *     OPENS / 10 of them a side (at least 4).
 * (8) login: billing_platform_login of one active platform account, its password hashed at the
 *     cheapest costs the configuration allows (ops 2, 19 MiB). Baseline: Engine.login's
 *     statements (a READ ONLY transaction reading the configuration revision, the throttle and
 *     the platform account's id, status and hash; crypto_pwhash_str_verify against the hash the
 *     library stored; then a SERIALIZABLE transaction reading them again (the whole platform
 *     account), clearing the throttle if it read one and appending the audit row to the
 *     account's chain).
 * (9) scheduler: billing_scheduler_run when nothing is due, on a schema holding 20 provisioned
 *     one-month resources. Baseline: SchedulerService.run's statements of such a pass (overdue
 *     orders, due resources, export jobs to step and to purge, each claimed FOR UPDATE SKIP
 *     LOCKED as SQLDialect.claimDueRows does on PostgreSQL; ended login waits) and its
 *     audit row, in one SERIALIZABLE transaction.
 * (10) export: an ORDERS export of (4)'s account (LIST_ORDERS orders) with
 *     export_rows_per_step 1000, from billing_export_request to READY, in a new process (this
 *     program run again with --export). Baseline, in a new process too (--copy): libpq's
 *     COPY (SELECT … the export's fifteen cells in SQL …) TO STDOUT WITH (FORMAT csv, HEADER)
 *     in one READ ONLY transaction, written to a file. Both must write LIST_ORDERS rows; each
 *     side's VmRSS before the request or COPY and its peak (VmHWM) are printed.
 *
 * (11) scheduler, due: bench_scheduler.c's due pass, small. One schema: SCHEDULER_DUE × 10
 *     prepaid MANUAL resources of one V3 account, 100 bought and provisioned through the
 *     library at 2024-01-01 10:00 (manual clock; 10 for one month, expiring 2024-02-01
 *     23:59:59 and due since their first reminder, 90 for three years), the rest copies of them
 *     made with SQL (new ids and sequence numbers). A pass at 2024-02-02 03:00 expires the
 *     SCHEDULER_DUE one-month ones into grace: billing_scheduler_run (its default limit, 1,000)
 *     until has_more is false, the library's clock set to that instant. Baseline: (9)'s
 *     statements at that instant, and per due resource ResourceLifecycle.advance's reads and
 *     writes of an expiry into grace (its row, its bound resources, its account, the
 *     resource.expired event, the row written back once, due at the end of grace), the audit
 *     row's detail the library's. Not in the baseline, so in the ratio: the savepoint around
 *     the library's batch (one a pass; a refused resource would have it run the batch again, a
 *     savepoint per resource). (Until 2026-12-07 the library also took a savepoint per
 *     resource and wrote each row twice, each write after a read of its stored status.) Both
 *     sides run on the same schema, put back (the due rows' status, grace, retention and
 *     due_at, covered by an audit row of its own; then VACUUM ANALYZE) before each pass,
 *     untimed.
 *     After each pass every due resource must be EXPIRED with grace and retention ends of 7
 *     days each and due at the end of grace, none still due, and one resource.expired event
 *     written each; the library reads a resource the raw side expired back, and the two sides'
 *     audit details and event data are compared (a difference is a note). Per resource,
 *     SCHEDULER_PASSES passes a side (default 8), in the four rounds below of one pass each,
 *     repeated (a pass is under a second: a burst of load would otherwise land on one side);
 *     each side's fastest pass is printed after the tables.
 * (12) mixed: bench_orders.c's (d) on (4)'s schema (after (10), whose export counts its
 *     orders): PROCESSES forked processes, each with its own engine or connection (opened, its
 *     statements prepared, before a common start, as a pre-fork web worker does), running
 *     MIXED_OPS / 2 requests a round of a fixed mix on the one account: in every 20, 10 first
 *     pages of the order list, 6 order details (of the LIST_ORDERS unpaid orders, picked by a
 *     per-worker generator), 3 quotes of one item and 1 buy (create + pay, one item).
 *     Throughput is all requests over the wall time from the start to the last process's end.
 *     Baseline: (4)'s page statements, (3)'s detail reads, OrderService.quote's reads (the
 *     revision, the account, the product twice, the discount), each in one
 *     SERIALIZABLE, READ ONLY transaction, and (3)'s raw_create and raw_pay. The buys of
 *     several processes on one account collide: PostgreSQL fails one with 40001 (or 40P01);
 *     the library reruns its transaction after a random pause of up to 2^attempt ms
 *     (PostgresConnection.retrying), and so does the baseline (never giving up); a library
 *     call still BILLING_E_BUSY is made again. Both counts are printed after the tables (the
 *     library's own reruns are not visible from here). Every page must hold rows, every
 *     detail its order, every quote its amounts, and after each round the account must have
 *     PROCESSES × the round's buys more paid orders, else the run dies.
 *
 * Scenarios (1)–(5), (3b) and (7)–(9) run in four rounds of half the count each: library, raw, raw,
 * library, so that the load of a shared machine changing during the run weighs on both sides
 * alike; (11) runs those four rounds SCHEDULER_PASSES / 2 times; (10) runs four processes in
 * that order; (12) four rounds of PROCESSES processes.
 *
 * A library call that fails on PostgreSQL skips its scenario with a printed note (the engine
 * is work in progress); the rest goes on.
 *
 *   usage: bench_pg [URL] [WRITES [OPENS [BUYS [SECONDS [LIST_ORDERS [LIST_READS [USAGE_RECORDS
 *                  [LOGINS [SCHEDULER_RUNS [SCHEDULER_DUE [SCHEDULER_PASSES [MIXED_OPS [PROCESSES]]]]]]]]]]]]]
 *          (defaults 500 100 200 5 2200 1000 8000 40 4000 300 8 1000 4; LIST_ORDERS at least 2100,
 *          USAGE_RECORDS a multiple of 2000, SCHEDULER_DUE a multiple of 10, PROCESSES at most 64;
 *          BUYS also counts (3b)'s combined buys)
 *   URL: the database's base connection string (postgresql://…), else BILLING_BENCH_POSTGRES_URL.
 *   The schemas bench_pg_* are dropped and made afresh, and dropped at the end.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, clock_gettime, fork, pipe, waitpid */
#define BENCH_NAME "bench_pg"

#include "bench_common.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <setjmp.h>
#include <sys/wait.h>

#include "bench_pg_statements.h"
#include "bench_pg_coverage.h"
#include "bench_write_texts.h"

/* ---- The library: opening on a schema, or a note when it fails ------------------------- */

/* Opens an engine; on failure prints the note and returns NULL (the scenario is skipped). */
static billing_engine *try_open(const char *url, const char *options, const char *scenario) {
    billing_engine *engine = NULL;
    if (billing_engine_open(url, options, &engine) != BILLING_OK) {
        printf("  (%s skipped: billing_engine_open failed: %d %s: %s)\n", scenario, billing_last_error_code(),
               billing_last_error_reason(), billing_last_error_message());
        return NULL;
    }
    return engine;
}

static void skipped(const char *scenario, const char *call) {
    printf("  (%s skipped: %s failed on PostgreSQL: %d %s: %s)\n", scenario, call, billing_last_error_code(),
           billing_last_error_reason(), billing_last_error_message());
}

/* ---- (1) write ---------------------------------------------------------------------------- */

enum { W_LOOKUP, W_REVISION, W_UPSERT, W_EVENT, W_RECORD, W_STATEMENTS };

/* bench_write.c's statements (IdempotencyStore, Engine.loadConfiguration, ConfigurationService,
   EventLog) as the library writes them for PostgreSQL; the audit row and row coverage are
   bench_pg_coverage.h's. */
static const char *write_sql[W_STATEMENTS] = {
    [W_LOOKUP] = "SELECT operation, request, response FROM idempotency WHERE scope = ? AND key = ?",
    [W_REVISION] = "SELECT revision FROM config WHERE id = 1",
    [W_UPSERT] = "INSERT INTO config (id, document, revision) VALUES (1, ?, 1)"
                 " ON CONFLICT (id) DO UPDATE SET document = excluded.document, revision = config.revision + 1",
    [W_EVENT] = "INSERT INTO events (type, account_id, subject_id, occurred_at, data) VALUES (?, ?, ?, ?, ?)",
    [W_RECORD] = "INSERT INTO idempotency (scope, key, operation, request, response, created_at) VALUES (?, ?, ?, ?, ?, ?)",
};


/* Library writes with keys from..from+n-1 on an open engine; a negative time when the library
   failed (noted). */
static double library_writes(billing_engine *engine, int from, int n) {
    char request[160];
    double start = support_seconds();
    for (int i = from; i < from + n; i++) {
        char *response = NULL;
        snprintf(request, sizeof request,
                 "{\"actor\":\"bench\",\"idempotency_key\":\"bench-%d\",\"changes\":{\"auto_renew_hour\":%d}}", i, i % 24);
        if (billing_config_update(engine, request, &response) != BILLING_OK) {
            skipped("write", "billing_config_update");
            return -1;
        }
        billing_string_free(response);
    }
    return support_seconds() - start;
}

static struct statement write_statements[W_STATEMENTS];
static struct pg_cover *write_cover;

static PGconn *raw_write_connect(const char *url) {
    PGconn *conn = pg_connect(url);
    pg_session(conn);
    for (int i = 0; i < W_STATEMENTS; i++) prepare(conn, &write_statements[i], i, write_sql[i]);
    write_cover = pg_cover_install(conn);
    return conn;
}

/* Raw writes with keys from..from+n-1 on a prepared connection. */
static double raw_writes(PGconn *conn, int from, int n) {
    struct statement *statements = write_statements;
    static struct write_texts t;

    double start = support_seconds();
    for (int i = from; i < from + n; i++) {
        int64_t now = (int64_t)time(NULL);
        write_texts(&t, i);

        pg_exec(conn, "BEGIN ISOLATION LEVEL SERIALIZABLE");
        bind_text(&statements[W_LOOKUP], 1, "actor:bench"); /* IdempotencyStore.scope: the actor's */
        bind_text(&statements[W_LOOKUP], 2, t.key);
        run(conn, &statements[W_LOOKUP]);
        /* The library reads the revision twice a write (the operation's configuration, its
           cache after the save), as bench_write.c's baseline does. */
        run(conn, &statements[W_REVISION]);
        bind_text(&statements[W_UPSERT], 1, t.document);
        run(conn, &statements[W_UPSERT]);
        run(conn, &statements[W_REVISION]);
        struct statement *event = &statements[W_EVENT];
        bind_text(event, 1, "config.changed");
        bind_null(event, 2);
        bind_null(event, 3);
        bind_int(event, 4, now);
        bind_text(event, 5, write_changed);
        run(conn, event);
        struct statement *record = &statements[W_RECORD];
        bind_text(record, 1, "actor:bench");
        bind_text(record, 2, t.key);
        bind_text(record, 3, "config.update");
        bind_text(record, 4, t.request);
        bind_text(record, 5, t.response);
        bind_int(record, 6, now);
        run(conn, record);
        pg_cover_audit_append(write_cover, now, "bench", "config.update", NULL, "configuration", t.detail);
        pg_cover_check(write_cover);
        pg_exec(conn, "COMMIT");
    }
    return support_seconds() - start;
}

/* ---- (2) open + close ------------------------------------------------------------------- */

static double library_opens(const char *url, int m) {
    double start = support_seconds();
    for (int i = 0; i < m; i++) {
        billing_engine *engine = try_open(url, NULL, "open");
        if (!engine) return -1;
        billing_engine_close(engine);
    }
    return support_seconds() - start;
}

/* Connect, the session settings, the stamp (PostgresConnection.schemaStamp: the table's
   existence, then its row), close. */
static double raw_opens(const char *url, int m) {
    double start = support_seconds();
    for (int i = 0; i < m; i++) {
        PGconn *conn = pg_connect(url);
        pg_session(conn);
        PGresult *result = PQexecParams(conn,
                                        "SELECT 1 FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace"
                                        " AND c.relname = $1 AND c.relkind IN ('r', 'p')",
                                        1, NULL, (const char *[]){"billing_schema"}, NULL, NULL, 1);
        if (PQresultStatus(result) != PGRES_TUPLES_OK || PQntuples(result) != 1) die("no billing_schema: %s", PQerrorMessage(conn));
        PQclear(result);
        result = PQexecParams(conn, "SELECT application, version FROM billing_schema", 0, NULL, NULL, NULL, NULL, 1);
        if (PQresultStatus(result) != PGRES_TUPLES_OK || PQntuples(result) != 1) die("no stamp: %s", PQerrorMessage(conn));
        if (binary_int(result, 0, 0) != 0x42494C4C) die("not a libbilling schema");
        PQclear(result);
        PQfinish(conn);
    }
    return support_seconds() - start;
}

/* ---- (3) create + pay, one item; (3b) the same, a combined order of three ------------------ */

#define ACCOUNT "bench-account"
static const char *product_id = "ecs.c1", *product_type = "ECS";
static const int64_t monthly_price = 5000;
static const int64_t initial_cash = INT64_C(1000000000000);
/* bench_orders.c's catalog: (3) buys the first product, (3b) one of each. */
enum { ITEMS_MAX = 3 };
static const char *product_ids[ITEMS_MAX] = {"ecs.c1", "evs.ssd", "vpc.bw"};
static const char *product_types[ITEMS_MAX] = {"ECS", "EVS", "VPC"};
static const int64_t monthly_prices[ITEMS_MAX] = {5000, 1000, 700};

static void put_product(char *request, size_t size, int i) {
    snprintf(request, size,
             "{\"actor\": \"bench\", \"product\": {\"product_id\": \"%s\", \"product_type\": \"%s\", \"billing_mode\": \"PREPAID\","
             " \"name\": \"%s standard\", \"region\": \"cn-north-1\", \"specs\": {\"flavor\": \"s%d.large\"},"
             " \"monthly_price_fen\": %" PRId64 ", \"yearly_price_fen\": %" PRId64 "}}",
             product_ids[i], product_types[i], product_types[i], i + 1, monthly_prices[i], 10 * monthly_prices[i]);
}

/* The catalog (bench_orders.c's first product) and `accounts` accounts: ACCOUNT when one,
   "bench-tp-<i>" otherwise. 0 when the library failed (noted). */
static int make_data(billing_engine *engine, int accounts, const char *scenario) {
    char request[512], account[32];
    for (int i = 0; i < accounts; i++) {
        if (accounts == 1) snprintf(account, sizeof account, ACCOUNT);
        else snprintf(account, sizeof account, "bench-tp-%d", i);
        char *response = NULL;
        snprintf(request, sizeof request,
                 "{\"actor\": \"kyc\", \"account_id\": \"%s\", \"type\": \"ENTERPRISE\", \"realname_verified\": true, \"level\": \"V3\"}",
                 account);
        if (billing_account_put(engine, request, &response) != BILLING_OK) return skipped(scenario, "billing_account_put"), 0;
        billing_string_free(response);
        snprintf(request, sizeof request,
                 "{\"actor\": \"payments\", \"account_id\": \"%s\", \"amount_fen\": %" PRId64 ", \"external_reference\": \"seed\"}",
                 account, initial_cash);
        if (billing_account_topup(engine, request, &response) != BILLING_OK) return skipped(scenario, "billing_account_topup"), 0;
        billing_string_free(response);
    }
    put_product(request, sizeof request, 0);
    char *response = NULL;
    if (billing_product_put(engine, request, &response) != BILLING_OK) return skipped(scenario, "billing_product_put"), 0;
    billing_string_free(response);
    return 1;
}

/* The rest of bench_orders.c's catalog, for (3b)'s combined order. 0 when the library failed (noted). */
static int make_more_products(billing_engine *engine, const char *scenario) {
    char request[512], *response = NULL;
    for (int i = 1; i < ITEMS_MAX; i++) {
        put_product(request, sizeof request, i);
        if (billing_product_put(engine, request, &response) != BILLING_OK) return skipped(scenario, "billing_product_put"), 0;
        billing_string_free(response);
    }
    return 1;
}

/* The create request for the first `items` products (one month each). */
static void create_request_items(char *request, size_t size, const char *account, int items) {
    int used = snprintf(request, size, "{\"actor\": \"bench\", \"account_id\": \"%s\", \"items\": [", account);
    for (int i = 0; i < items; i++) {
        used += snprintf(request + used, size - (size_t)used, "%s{\"product_id\": \"%s\", \"period\": {\"unit\": \"MONTH\", \"count\": 1}}",
                         i ? ", " : "", product_ids[i]);
    }
    snprintf(request + used, size - (size_t)used, "]}");
}

static void create_request(char *request, size_t size, const char *account) { create_request_items(request, size, account, 1); }

static char last_library_order[32];

/* One create + pay; the status of the first call that failed (BILLING_OK when both held). The
   root order's id (the "order_id" right after the "lines" array; keys come sorted) is kept in
   last_library_order. */
static int library_buy(billing_engine *engine, const char *create, const char *account, const char **failed) {
    char *response = NULL, pay[256], id[32];
    int status = billing_order_create(engine, create, &response);
    if (status != BILLING_OK) return *failed = "billing_order_create", status;
    bench_copy_after(response, "],\"order_id\":\"", id, sizeof id);
    billing_string_free(response);
    snprintf(pay, sizeof pay, "{\"actor\": \"bench\", \"account_id\": \"%s\", \"order_id\": \"%s\"}", account, id);
    status = billing_order_pay(engine, pay, &response);
    if (status != BILLING_OK) return *failed = "billing_order_pay", status;
    billing_string_free(response);
    snprintf(last_library_order, sizeof last_library_order, "%s", id);
    return BILLING_OK;
}

/* N library buys of `items` items on an engine holding the catalog and ACCOUNT. */
static double library_buys(billing_engine *engine, int n, int items) {
    char create[512];
    const char *failed = NULL;
    create_request_items(create, sizeof create, ACCOUNT, items);
    double start = support_seconds();
    for (int i = 0; i < n; i++) {
        if (library_buy(engine, create, ACCOUNT, &failed) != BILLING_OK) {
            skipped(items == 1 ? "buy" : "buy combined", failed);
            return -1;
        }
    }
    return support_seconds() - start;
}

/* bench_orders.c's statements; ids come from nextval as IdentifierSequence draws them on
   PostgreSQL (no id_sequences row). Row statements take their column lists from the schema. */
enum {
    REVISION, ACCOUNT_SELECT, PRODUCT, DISCOUNT, SEQUENCE_NEXT, EVENT, LINE_UPDATE, ORDER_UPDATE, CASH_SELECT,
    CASH_UPDATE, LEDGER, FUNDING, FUNDING_SELECT, /* fixed text */
    ORDER_INSERT, LINE_INSERT, RESOURCE_INSERT, ORDER_SELECT, SUB_ORDERS, LINES, RESOURCES, /* from the schema */
    STATEMENTS
};

#define AMOUNTS "list_price = :list_price, commercial_discount = :commercial_discount," \
                " promotion_discount = :promotion_discount, discount_coupon = :discount_coupon, voucher = :voucher," \
                " cash_coupon = :cash_coupon, stored_value_card = :stored_value_card, cash = :cash, credit = :credit"

static const char *fixed_sql[ORDER_INSERT] = {
    [REVISION] = "SELECT revision FROM config WHERE id = 1",
    [ACCOUNT_SELECT] = "SELECT id, type, realname_verified, restricted, \"freeze\", level, cash_balance, credit_limit, credit_used,"
                       " deduction_days, unified_expiry_day, created_at, updated_at FROM accounts WHERE id = ?",
    [PRODUCT] = "SELECT document, updated_at FROM products WHERE id = ?",
    [DISCOUNT] = "SELECT rate_bp FROM commercial_discounts WHERE account_id = ? AND product_type IN (?, '*')"
                 " ORDER BY product_type = '*' LIMIT 1",
    [SEQUENCE_NEXT] = "SELECT nextval(CAST(? AS regclass))",
    [EVENT] = "INSERT INTO events (type, account_id, subject_id, occurred_at, data) VALUES (?, ?, ?, ?, ?)",
    [LINE_UPDATE] = "UPDATE order_lines SET " AMOUNTS " WHERE order_id = :order_id AND line_no = :line_no",
    [ORDER_UPDATE] = "UPDATE orders SET status = :status, pay_deadline = :pay_deadline, paid_at = :paid_at,"
                     " completed_at = :completed_at, cancelled_at = :cancelled_at, cancel_reason = :cancel_reason, " AMOUNTS
                     " WHERE id = :id",
    [CASH_SELECT] = "SELECT cash_balance FROM accounts WHERE id = ?",
    [CASH_UPDATE] = "UPDATE accounts SET cash_balance = ?, updated_at = ? WHERE id = ?",
    [LEDGER] = "INSERT INTO ledger (account_id, fund, kind, amount, balance_after, reference, order_id, recorded_at)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [FUNDING] = "INSERT INTO resource_funding (resource_id, order_id, source, coupon_id, amount) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (resource_id, order_id, source, coupon_id) DO UPDATE SET amount = resource_funding.amount + excluded.amount",
    [FUNDING_SELECT] = "SELECT source, coupon_id, amount FROM resource_funding WHERE resource_id = ? AND order_id = ?"
                       " ORDER BY source, coupon_id",
};

static PGconn *raw;
static struct pg_cover *raw_cover; /* raw's, when it writes */

/* Closes raw (and frees its coverage). */
static void raw_finish(void) {
    PQfinish(raw);
    raw = NULL;
    pg_cover_free(raw_cover);
    raw_cover = NULL;
}
static struct statement orders_statements[STATEMENTS];

static struct statement *prepared(int which) { return &orders_statements[which]; }

/* A table's columns in order, quoted, without "seq" unless asked for, as "a, b" (prefix "")
   or ":a, :b" (":"; parameter names unquoted). */
static void columns_of(const char *table, int with_sequence, const char *prefix, char *out, size_t size) {
    PGresult *result = PQexecParams(raw,
                                    "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
                                    " AND table_name = $1 ORDER BY ordinal_position",
                                    1, NULL, (const char *[]){table}, NULL, NULL, 0);
    if (PQresultStatus(result) != PGRES_TUPLES_OK || PQntuples(result) == 0) die("columns of %s: %s", table, PQerrorMessage(raw));
    size_t used = 0;
    out[0] = '\0';
    for (int r = 0; r < PQntuples(result); r++) {
        const char *name = PQgetvalue(result, r, 0);
        if (!with_sequence && strcmp(name, "seq") == 0) continue;
        if (*prefix) used += (size_t)snprintf(out + used, size - used, "%s:%s", used ? ", " : "", name);
        else used += (size_t)snprintf(out + used, size - used, "%s\"%s\"", used ? ", " : "", name);
        if (used >= size) die("too many columns in %s", table);
    }
    PQclear(result);
}

static void prepare_orders(void) {
    static char text_of[STATEMENTS][8192];
    char names[2048], parameters[2048];
    static const struct {
        int insert;
        const char *table;
    } tables[] = {{ORDER_INSERT, "orders"}, {LINE_INSERT, "order_lines"}, {RESOURCE_INSERT, "resources"}};
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++) {
        columns_of(tables[t].table, 1, "", names, sizeof names);
        columns_of(tables[t].table, 1, ":", parameters, sizeof parameters);
        snprintf(text_of[tables[t].insert], sizeof text_of[0], "INSERT INTO %s (%s) VALUES (%s)", tables[t].table, names, parameters);
    }
    columns_of("orders", 0, "", names, sizeof names);
    snprintf(text_of[ORDER_SELECT], sizeof text_of[0], "SELECT %s FROM orders WHERE id = ? AND account_id = ?", names);
    snprintf(text_of[SUB_ORDERS], sizeof text_of[0], "SELECT %s FROM orders WHERE combined_id = ? ORDER BY seq", names);
    columns_of("order_lines", 0, "", names, sizeof names);
    snprintf(text_of[LINES], sizeof text_of[0], "SELECT %s FROM order_lines WHERE order_id = ? ORDER BY line_no", names);
    columns_of("resources", 0, "", names, sizeof names);
    snprintf(text_of[RESOURCES], sizeof text_of[0], "SELECT %s FROM resources WHERE order_id = ? ORDER BY seq", names);
    for (int i = 0; i < STATEMENTS; i++) prepare(raw, &orders_statements[i], 100 + i, i < ORDER_INSERT ? fixed_sql[i] : text_of[i]);
}

static void select_by_id(int which, const char *id) {
    bind_text(prepared(which), 1, id);
    run(raw, prepared(which));
}

/* The rows the last select_order found (the mixed load's order details check it). */
static int order_rows;

static void select_order(const char *id) {
    bind_text(prepared(ORDER_SELECT), 1, id);
    bind_text(prepared(ORDER_SELECT), 2, ACCOUNT);
    run(raw, prepared(ORDER_SELECT));
    order_rows = last_rows;
}

static int64_t next_sequence(const char *name) {
    bind_text(prepared(SEQUENCE_NEXT), 1, name);
    return run(raw, prepared(SEQUENCE_NEXT));
}

static void amounts(struct statement *s, int64_t list_price, int64_t cash) {
    static const char *unpaid[] = {"commercial_discount", "promotion_discount", "discount_coupon", "voucher",
                                   "cash_coupon", "stored_value_card", "credit"};
    integer_as(s, "list_price", list_price);
    for (size_t i = 0; i < sizeof unpaid / sizeof *unpaid; i++) integer_as(s, unpaid[i], 0);
    integer_as(s, "cash", cash);
}

static void event(const char *type, const char *subject, int64_t now, const char *data) {
    struct statement *s = prepared(EVENT);
    bind_text(s, 1, type);
    bind_text(s, 2, ACCOUNT);
    bind_text(s, 3, subject);
    bind_int(s, 4, now);
    bind_text(s, 5, data);
    run(raw, s);
}

/* The operation's audit row with row coverage, then the check made before COMMIT. */
static void audit(const char *operation, const char *subject, int64_t now, const char *detail) {
    pg_cover_audit_append(raw_cover, now, "bench", operation, ACCOUNT, subject, detail);
    pg_cover_check(raw_cover);
}

typedef char order_id[32];

/* The ids an order is made of (bench_orders.c's): the root and, for a combined order, one
   sub-order per item; `member` is the order holding item i's line (the root itself for a
   plain order). */
struct order {
    order_id root;
    int items;
    order_id subs[ITEMS_MAX];
    order_id resources[ITEMS_MAX];
};

static const char *member(const struct order *order, int i) { return order->items == 1 ? order->root : order->subs[i]; }

/* Engine.orderDetail's reads: the root, its sub-orders, each member's lines and resources
   and, once paid, what paid for each resource. */
static void read_detail(const struct order *order, int paid) {
    select_order(order->root);
    if (order->items > 1) select_by_id(SUB_ORDERS, order->root);
    for (int i = 0; i < order->items; i++) select_by_id(LINES, member(order, i));
    for (int i = 0; i < order->items; i++) {
        select_by_id(RESOURCES, member(order, i));
        if (paid) {
            bind_text(prepared(FUNDING_SELECT), 1, order->resources[i]);
            bind_text(prepared(FUNDING_SELECT), 2, member(order, i));
            run(raw, prepared(FUNDING_SELECT));
        }
    }
}

static int64_t total_price(int items) {
    int64_t total = 0;
    for (int i = 0; i < items; i++) total += monthly_prices[i];
    return total;
}

/* What OrderStore.insert writes for a new order (the columns not named stay NULL). */
static void insert_order(const char *id, int64_t sequence, const char *combined, int is_combined, int product, int64_t now,
                         int64_t list_price) {
    struct statement *s = prepared(ORDER_INSERT);
    text_as(s, "id", id);
    integer_as(s, "seq", sequence);
    text_as(s, "account_id", ACCOUNT);
    text_as(s, "combined_id", combined);
    integer_as(s, "is_combined", is_combined);
    text_as(s, "type", "NEW");
    text_as(s, "status", "PENDING_PAYMENT");
    text_as(s, "product_type", product_types[product]);
    text_as(s, "billing_mode", "PREPAID");
    text_as(s, "product_kind", "default");
    integer_as(s, "created_at", now);
    integer_as(s, "pay_deadline", now + 7 * 86400);
    integer_as(s, "review_required", 0);
    integer_as(s, "placed_by_manager", 0);
    amounts(s, list_price, 0);
    run(raw, s);
}

/* What OrderStore.insertLine writes for a one-month line. */
static void insert_line(const char *order, int product, const char *snapshot) {
    struct statement *s = prepared(LINE_INSERT);
    text_as(s, "order_id", order);
    integer_as(s, "line_no", 1);
    text_as(s, "product_id", product_ids[product]);
    text_as(s, "product_type", product_types[product]);
    text_as(s, "billing_mode", "PREPAID");
    text_as(s, "region", "cn-north-1");
    text_as(s, "period_unit", "MONTH");
    integer_as(s, "period_count", 1);
    integer_as(s, "quantity", 1);
    text_as(s, "product", snapshot);
    amounts(s, monthly_prices[product], 0);
    run(raw, s);
}

/* billing_order_create of `items` items, as SQL (bench_orders.c's raw_create). */
static void raw_create(struct order *order, int items) {
    static char snapshots[ITEMS_MAX][4096];
    char data[160];
    int64_t now = (int64_t)time(NULL), due = total_price(items);
    order->items = items;

    pg_exec(raw, "BEGIN ISOLATION LEVEL SERIALIZABLE");
    run(raw, prepared(REVISION));
    select_by_id(ACCOUNT_SELECT, ACCOUNT);
    for (int i = 0; i < items; i++) select_by_id(PRODUCT, product_ids[i]); /* the billing modes agree */
    for (int i = 0; i < items; i++) {
        bind_text(prepared(PRODUCT), 1, product_ids[i]);
        execute(raw, prepared(PRODUCT), snapshots[i], sizeof snapshots[i]);
        bind_text(prepared(DISCOUNT), 1, ACCOUNT);
        bind_text(prepared(DISCOUNT), 2, product_types[i]);
        run(raw, prepared(DISCOUNT));
    }
    int64_t sequence = next_sequence("billing_ids_order");
    snprintf(order->root, sizeof order->root, "CS%012" PRId64, sequence);
    if (items == 1) {
        insert_order(order->root, sequence, NULL, 0, 0, now, due);
        insert_line(order->root, 0, snapshots[0]);
    } else {
        insert_order(order->root, sequence, NULL, 1, 0, now, due);
        for (int i = 0; i < items; i++) {
            int64_t sub = next_sequence("billing_ids_order");
            snprintf(order->subs[i], sizeof order->subs[i], "CS%012" PRId64, sub);
            insert_order(order->subs[i], sub, order->root, 0, i, now, monthly_prices[i]);
            insert_line(order->subs[i], i, snapshots[i]);
        }
    }

    snprintf(data, sizeof data, "{\"amount_due_fen\":%" PRId64 ",\"status\":\"PENDING_PAYMENT\"}", due);
    event("order.created", order->root, now, data);
    read_detail(order, 0);
    snprintf(data, sizeof data, "{\"amount_due_fen\":%" PRId64 ",\"items\":%d,\"status\":\"PENDING_PAYMENT\"}", due, items);
    audit("order.create", order->root, now, data);
    pg_exec(raw, "COMMIT");
}

static void update_order(const char *id, int64_t now, int64_t price) {
    struct statement *s = prepared(ORDER_UPDATE);
    text_as(s, "status", "PROCESSING");
    integer_as(s, "pay_deadline", now + 7 * 86400);
    integer_as(s, "paid_at", now);
    bind_null(s, named(s, "completed_at"));
    bind_null(s, named(s, "cancelled_at"));
    bind_null(s, named(s, "cancel_reason"));
    amounts(s, price, price);
    text_as(s, "id", id);
    run(raw, s);
}

/* billing_order_pay of it, as SQL (bench_orders.c's raw_pay). */
static void raw_pay(struct order *order) {
    char data[512];
    int64_t now = (int64_t)time(NULL), due = total_price(order->items);

    pg_exec(raw, "BEGIN ISOLATION LEVEL SERIALIZABLE");
    run(raw, prepared(REVISION));
    select_order(order->root);
    /* planPayment: the account, the members, their lines. */
    select_by_id(ACCOUNT_SELECT, ACCOUNT);
    if (order->items > 1) select_by_id(SUB_ORDERS, order->root);
    for (int i = 0; i < order->items; i++) select_by_id(LINES, member(order, i));
    /* applyPayment: line and order amounts, cash out of the balance with its ledger row. */
    for (int i = 0; i < order->items; i++) {
        struct statement *s = prepared(LINE_UPDATE);
        amounts(s, monthly_prices[i], monthly_prices[i]);
        text_as(s, "order_id", member(order, i));
        integer_as(s, "line_no", 1);
        run(raw, s);
    }
    for (int i = 0; i < order->items; i++) {
        int64_t price = order->items == 1 ? due : monthly_prices[i];
        update_order(member(order, i), now, price);
        bind_text(prepared(CASH_SELECT), 1, ACCOUNT);
        int64_t balance = run(raw, prepared(CASH_SELECT)) - price;
        struct statement *s = prepared(CASH_UPDATE);
        bind_int(s, 1, balance);
        bind_int(s, 2, now);
        bind_text(s, 3, ACCOUNT);
        run(raw, s);
        s = prepared(LEDGER);
        bind_text(s, 1, ACCOUNT);
        bind_text(s, 2, "CASH");
        bind_text(s, 3, "PAYMENT");
        bind_int(s, 4, -price);
        bind_int(s, 5, balance);
        bind_null(s, 6);
        bind_text(s, 7, member(order, i));
        bind_int(s, 8, now);
        run(raw, s);
    }
    if (order->items > 1) update_order(order->root, now, due);

    snprintf(data, sizeof data,
             "{\"amounts\":{\"amount_due_fen\":%" PRId64 ",\"cash_coupon_fen\":0,\"cash_fen\":%" PRId64 ",\"commercial_discount_fen\":0,"
             "\"credit_fen\":0,\"discount_coupon_fen\":0,\"discount_fen\":0,\"list_price_fen\":%" PRId64 ","
             "\"paid_amount_fen\":%" PRId64 ",\"promotion_discount_fen\":0,\"stored_value_card_fen\":0,\"voucher_fen\":0}}",
             due, due, due, due);
    event("order.paid", order->root, now, data);

    /* createResources: one resource per line, its event and what paid for it. */
    if (order->items > 1) select_by_id(SUB_ORDERS, order->root);
    for (int i = 0; i < order->items; i++) {
        const char *owner = member(order, i);
        select_by_id(LINES, owner);
        int64_t sequence = next_sequence("billing_ids_resource");
        snprintf(order->resources[i], sizeof order->resources[i], "RS%012" PRId64, sequence);
        struct statement *s = prepared(RESOURCE_INSERT); /* what ResourceStore.insert writes for it */
        integer_as(s, "seq", sequence);
        text_as(s, "id", order->resources[i]);
        text_as(s, "account_id", ACCOUNT);
        text_as(s, "order_id", owner);
        integer_as(s, "line_no", 1);
        text_as(s, "product_id", product_ids[i]);
        text_as(s, "product_type", product_types[i]);
        text_as(s, "billing_mode", "PREPAID");
        text_as(s, "region", "cn-north-1");
        text_as(s, "status", "PENDING_PROVISION");
        text_as(s, "period_unit", "MONTH");
        integer_as(s, "period_count", 1);
        integer_as(s, "created_at", now);
        text_as(s, "expiry_policy", "MANUAL");
        run(raw, s);
        snprintf(data, sizeof data, "{\"order_id\":\"%s\",\"primary_resource_id\":null,\"product_id\":\"%s\"}", owner, product_ids[i]);
        event("resource.created", order->resources[i], now, data);
        s = prepared(FUNDING);
        bind_text(s, 1, order->resources[i]);
        bind_text(s, 2, owner);
        bind_text(s, 3, "CASH");
        bind_text(s, 4, "");
        bind_int(s, 5, monthly_prices[i]);
        run(raw, s);
        /* completeIfSettled: the order and its resources, still pending provisioning. */
        select_order(owner);
        select_by_id(RESOURCES, owner);
    }
    read_detail(order, 1);
    audit("order.pay", order->root, now, "{\"coupon_ids\":[]}");
    pg_exec(raw, "COMMIT");
}

/* The baseline's schema for buys: the library makes the catalog (all three products for a
   combined order) and the account, then the raw connection prepares its statements. 0 when
   the library failed (noted). */
static int raw_buy_connect(const char *url, int items) {
    const char *scenario = items == 1 ? "buy (baseline schema)" : "buy combined (baseline schema)";
    billing_engine *engine = try_open(url, NULL, scenario);
    if (!engine) return 0;
    int made = make_data(engine, 1, scenario) && (items == 1 || make_more_products(engine, scenario));
    billing_engine_close(engine);
    if (!made) return 0;
    raw = pg_connect(url);
    pg_session(raw);
    prepare_orders();
    raw_cover = pg_cover_install(raw);
    return 1;
}

static struct order last_raw;

static double raw_buys(int n, int items) {
    double start = support_seconds();
    for (int i = 0; i < n; i++) {
        raw_create(&last_raw, items);
        raw_pay(&last_raw);
    }
    return support_seconds() - start;
}

/* The library reads the raw side's last order and the balance after n buys back (a note, not
   a death, when they disagree). */
static void raw_buys_check(const char *url, int n) {
    const char *order = last_raw.root;
    char request[256], expected[64], *response = NULL;
    billing_engine *engine = try_open(url, NULL, "buy read-back");
    if (!engine) return;
    snprintf(request, sizeof request, "{\"account_id\": \"" ACCOUNT "\", \"order_id\": \"%s\"}", order);
    if (billing_order_get(engine, request, &response) != BILLING_OK) skipped("buy read-back", "billing_order_get");
    else {
        if (!strstr(response, "\"status\":\"PROCESSING\"") || !strstr(response, "\"PENDING_PROVISION\"")) {
            printf("  (note: the baseline's last order reads back unlike the library's: %.300s)\n", response);
        }
        billing_string_free(response);
    }
    if (billing_account_get(engine, "{\"account_id\": \"" ACCOUNT "\"}", &response) != BILLING_OK) skipped("buy read-back", "billing_account_get");
    else {
        snprintf(expected, sizeof expected, "\"cash_balance_fen\":%" PRId64 ",", initial_cash - (int64_t)n * monthly_price);
        if (!strstr(response, expected)) printf("  (note: the baseline's balance reads back wrong: %.300s)\n", response);
        billing_string_free(response);
    }
    billing_engine_close(engine);
}

/* (3b)'s check of one side's schema, read through the library: its last order paid (PROCESSING,
   a resource pending provisioning per item) and the balance after n buys of `items` items.
   Dies when either is not so: a side that did not do the work has no time worth printing. */
static void combined_check(const char *url, const char *side, const char *order, int n, int items) {
    char request[256], expected[64], *response = NULL;
    billing_engine *engine = NULL;
    if (billing_engine_open(url, NULL, &engine) != BILLING_OK) die_billing("billing_engine_open (buy combined check)");
    snprintf(request, sizeof request, "{\"account_id\": \"" ACCOUNT "\", \"order_id\": \"%s\"}", order);
    if (billing_order_get(engine, request, &response) != BILLING_OK) die_billing("billing_order_get (buy combined check)");
    int resources = 0;
    for (const char *at = strstr(response, "\"PENDING_PROVISION\""); at; at = strstr(at + 1, "\"PENDING_PROVISION\"")) resources++;
    if (!strstr(response, "\"status\":\"PROCESSING\"") || resources != items) die("%s: the last combined order reads back wrong: %.400s", side, response);
    billing_string_free(response);
    if (billing_account_get(engine, "{\"account_id\": \"" ACCOUNT "\"}", &response) != BILLING_OK) die_billing("billing_account_get");
    snprintf(expected, sizeof expected, "\"cash_balance_fen\":%" PRId64 ",", initial_cash - (int64_t)n * total_price(items));
    if (!strstr(response, expected)) die("%s: the balance after %d combined buys reads back wrong: %.300s", side, n, response);
    billing_string_free(response);
    billing_engine_close(engine);
}

/* ---- (4) the order list ------------------------------------------------------------------ */

/* N orders of ACCOUNT made through billing_order_create on an engine holding the catalog and
   the account; a negative time when the library failed (noted). */
static double build_list(billing_engine *engine, int n) {
    char create[512], *response = NULL;
    create_request(create, sizeof create, ACCOUNT);
    double start = support_seconds();
    for (int i = 0; i < n; i++) {
        if (billing_order_create(engine, create, &response) != BILLING_OK) return skipped("order list", "billing_order_create"), -1;
        billing_string_free(response);
    }
    return support_seconds() - start;
}

static void list_request(char *request, size_t size, const char *cursor) {
    if (cursor) snprintf(request, size, "{\"account_id\": \"" ACCOUNT "\", \"limit\": 20, \"after\": \"%s\"}", cursor);
    else snprintf(request, size, "{\"account_id\": \"" ACCOUNT "\", \"limit\": 20}");
}

/* The next_cursor after `pages` library pages of 20; 0 when the library failed (noted). */
static int deep_cursor(billing_engine *engine, int pages, char *cursor, size_t size) {
    char request[160], *response = NULL;
    cursor[0] = '\0';
    for (int i = 0; i < pages; i++) {
        list_request(request, sizeof request, cursor[0] ? cursor : NULL);
        if (billing_orders_list(engine, request, &response) != BILLING_OK) return skipped("order list", "billing_orders_list"), 0;
        bench_json_string(response, "next_cursor", cursor, size);
        billing_string_free(response);
    }
    return 1;
}

/* `reads` library pages of 20 (first page, or after `cursor`); the first order id of the
   page in `first`; a negative time when the library failed (noted). */
static double library_list(billing_engine *engine, const char *cursor, int reads, char *first, size_t size) {
    char request[160], *response = NULL;
    list_request(request, sizeof request, cursor);
    double start = support_seconds();
    for (int i = 0; i < reads; i++) {
        if (billing_orders_list(engine, request, &response) != BILLING_OK) return skipped("order list", "billing_orders_list"), -1;
        if (i == 0) bench_json_string(response, "order_id", first, size);
        billing_string_free(response);
    }
    return support_seconds() - start;
}

/* OrderStore.pageRows for an unfiltered list: the listed orders' whole rows (OrderStore.columns,
   every column but seq) and their seq in one statement, the keyset after a cursor, one row
   more than the page to know has_more; bench_orders.c's (c) baseline in PostgreSQL's text. */
enum { L_REVISION, L_FIRST, L_AFTER, L_STATEMENTS };
static struct statement list_statements[L_STATEMENTS];

static void prepare_list(void) {
    static char first_sql[2600], after_sql[2700];
    char names[2048];
    columns_of("orders", 0, "", names, sizeof names);
    snprintf(first_sql, sizeof first_sql,
             "SELECT %s, seq FROM orders WHERE account_id = ? AND is_combined = 0 ORDER BY created_at DESC, seq DESC LIMIT ?", names);
    snprintf(after_sql, sizeof after_sql,
             "SELECT %s, seq FROM orders WHERE account_id = ? AND is_combined = 0 AND (created_at, seq) < (?, ?)"
             " ORDER BY created_at DESC, seq DESC LIMIT ?", names);
    const char *sql[L_STATEMENTS] = {
        [L_REVISION] = "SELECT revision FROM config WHERE id = 1",
        [L_FIRST] = first_sql,
        [L_AFTER] = after_sql,
    };
    for (int i = 0; i < L_STATEMENTS; i++) prepare(raw, &list_statements[i], 200 + i, sql[i]);
}

/* `reads` raw pages on the prepared connection `raw`, each in one SERIALIZABLE READ ONLY
   transaction as the library's reads: the configuration revision, then the page's 21 rows
   (every column fetched, as the library's decode reads them). */
static double raw_list(const char *cursor, int reads, char *first, size_t size) {
    int64_t created = 0, sequence = 0;
    if (cursor && sscanf(cursor, "%" SCNd64 ":%" SCNd64, &created, &sequence) != 2) die("bad cursor %s", cursor);
    struct statement *page = &list_statements[cursor ? L_AFTER : L_FIRST];
    double start = support_seconds();
    for (int i = 0; i < reads; i++) {
        pg_exec(raw, "BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY");
        run(raw, &list_statements[L_REVISION]);
        bind_text(page, 1, ACCOUNT);
        if (cursor) {
            bind_int(page, 2, created);
            bind_int(page, 3, sequence);
            bind_int(page, 4, 21);
        } else {
            bind_int(page, 2, 21);
        }
        PGresult *result = PQexecPrepared(raw, page->name, page->n, page->values, page->lengths, page->formats, 1);
        if (PQresultStatus(result) != PGRES_TUPLES_OK) die("%.300s: %s", page->sql, PQerrorMessage(raw));
        int found = PQntuples(result), columns = PQnfields(result);
        for (int r = 0; r < found; r++) {
            for (int c = 0; c < columns; c++) (void)PQgetvalue(result, r, c);
        }
        if (i == 0) {
            if (found != 21) die("raw page holds %d rows", found);
            snprintf(first, size, "%s", PQgetvalue(result, 0, 0)); /* id: text, terminated by libpq */
        }
        PQclear(result);
        for (int p = 0; p < page->n; p++) page->values[p] = NULL;
        pg_exec(raw, "COMMIT");
    }
    return support_seconds() - start;
}

/* One page both ways in four rounds (library, raw, raw, library; `half` reads each); the
   library's time in *library_seconds (negative when it failed), the raw one returned. A note
   when the two pages start with different orders. */
static double list_rounds(billing_engine *engine, const char *cursor, int half, double *library_seconds) {
    char library_first[32] = "", raw_first[32] = "";
    double a = library_list(engine, cursor, half, library_first, sizeof library_first);
    double b = raw_list(cursor, half, raw_first, sizeof raw_first), c = raw_list(cursor, half, raw_first, sizeof raw_first);
    double d = a < 0 ? -1 : library_list(engine, cursor, half, library_first, sizeof library_first);
    *library_seconds = a < 0 || d < 0 ? -1 : a + d;
    if (*library_seconds >= 0 && strcmp(library_first, raw_first) != 0) {
        printf("  (note: the pages differ: the library's starts with %s, the baseline's with %s)\n", library_first, raw_first);
    }
    return b + c;
}

/* ---- (5) usage rating -------------------------------------------------------------------- */

/* bench_usage.c's set-up and statements: one account, USAGE_RESOURCES pay-per-use resources of
   a timed product; record k is one unit for the whole business hour k / USAGE_RESOURCES from
   USAGE_START on resource k % USAGE_RESOURCES, so every record makes one new hourly line of
   12 fen paid from cash. */
#define USAGE_PRODUCT "eip.bw"
#define USAGE_PRICE INT64_C(12345678)      /* microfen an hour */
#define USAGE_START INT64_C(1704038400)    /* 2024-01-01T00:00:00+08:00 */
enum { USAGE_BATCH = 1000, USAGE_RESOURCES = 100 };

/* One hour of one unit: 3,600 unit-seconds × 12,345,678 / 3,600,000,000 = 12.35 → 12 fen. */
static const int64_t usage_charge = 12;

static int64_t usage_hour(int64_t k) { return USAGE_START + (k / USAGE_RESOURCES) * 3600; }

/* The product and USAGE_RESOURCES provisioned on-demand resources of ACCOUNT (make_data made
   the account), their ids in `ids`; the clock set after the last record's hour. 0 when the
   library failed (noted). */
static int make_usage(billing_engine *engine, int64_t records, char ids[][32]) {
    char request[16384], *response = NULL;
    snprintf(request, sizeof request,
             "{\"actor\": \"bench\", \"product\": {\"product_id\": \"" USAGE_PRODUCT "\", \"product_type\": \"EIP\","
             " \"billing_mode\": \"ON_DEMAND\", \"name\": \"EIP bandwidth\", \"region\": \"cn-north-1\","
             " \"hourly_price_microfen\": %" PRId64 "}}", USAGE_PRICE);
    if (billing_product_put(engine, request, &response) != BILLING_OK) return skipped("usage", "billing_product_put"), 0;
    billing_string_free(response);
    if (billing_order_create(engine, "{\"actor\": \"bench\", \"account_id\": \"" ACCOUNT "\", \"items\":"
                                     " [{\"product_id\": \"" USAGE_PRODUCT "\", \"quantity\": 100}]}", &response) != BILLING_OK) {
        return skipped("usage", "billing_order_create"), 0;
    }
    const char *at = strstr(response, "\"resources\":[");
    if (!at) die("no resources in %.300s", response);
    int used = snprintf(request, sizeof request, "{\"actor\": \"bench\", \"account_id\": \"" ACCOUNT "\", \"results\": [");
    for (int i = 0; i < USAGE_RESOURCES; i++) {
        at = strstr(at, "\"resource_id\":\"");
        if (!at) die("only %d resources in an order", i);
        bench_copy_after(at, "\"resource_id\":\"", ids[i], 32);
        at++;
        used += snprintf(request + used, sizeof request - (size_t)used, "%s{\"resource_id\": \"%s\", \"outcome\": \"SUCCEEDED\"}",
                         i ? ", " : "", ids[i]);
    }
    snprintf(request + used, sizeof request - (size_t)used, "]}");
    billing_string_free(response);
    if (billing_resource_report(engine, request, &response) != BILLING_OK) return skipped("usage", "billing_resource_report"), 0;
    billing_string_free(response);
    if (billing_clock_set(engine, usage_hour(records) + 3600) != BILLING_OK) return skipped("usage", "billing_clock_set"), 0;
    return 1;
}

static char library_resources[USAGE_RESOURCES][32], raw_resources[USAGE_RESOURCES][32];

/* billing_usage_report of records first..first+n-1, USAGE_BATCH a call (only the calls are
   timed); a negative time when the library failed (noted). */
static double library_usage(billing_engine *engine, int64_t first, int64_t n) {
    static char request[USAGE_BATCH * 160 + 256];
    char expected[64];
    snprintf(expected, sizeof expected, "\"charged_fen\":%" PRId64 ",", usage_charge * USAGE_BATCH);
    double elapsed = 0;
    for (int64_t from = first; from < first + n; from += USAGE_BATCH) {
        int used = snprintf(request, sizeof request, "{\"actor\": \"bench\", \"account_id\": \"" ACCOUNT "\", \"records\": [");
        for (int64_t k = from; k < from + USAGE_BATCH; k++) {
            int64_t hour = usage_hour(k);
            used += snprintf(request + used, sizeof request - (size_t)used,
                             "%s{\"usage_id\": \"u%" PRId64 "\", \"resource_id\": \"%s\", \"quantity\": 1, \"start\": %" PRId64
                             ", \"end\": %" PRId64 "}", k > from ? ", " : "", k, library_resources[k % USAGE_RESOURCES], hour, hour + 3600);
        }
        snprintf(request + used, sizeof request - (size_t)used, "]}");
        char *response = NULL;
        double start = support_seconds();
        if (billing_usage_report(engine, request, &response) != BILLING_OK) return skipped("usage", "billing_usage_report"), -1;
        elapsed += support_seconds() - start;
        /* The first "charged_fen" is the call's total. */
        if (!strstr(response, expected) || strstr(response, expected) != strstr(response, "\"charged_fen\":")) {
            printf("  (note: unexpected charge: %.300s)\n", response);
        }
        billing_string_free(response);
    }
    return elapsed;
}

/* bench_usage.c's raw statements (Services/UsageService.swift and the stores) in their
   library texts for PostgreSQL; the covered audit row as in (1)–(3). */
enum {
    U_REVISION, U_ACCOUNT, U_DUPLICATE, U_RESOURCE, U_PRODUCT, U_PACKAGES, U_LINE_SELECT, U_LINE_INSERT, U_LINE_UPDATE, U_COUPONS,
    U_CASH_SELECT, U_CASH_UPDATE, U_LEDGER, U_FUNDING, U_RECORD, U_STATEMENTS
};

static const char *usage_sql[U_STATEMENTS] = {
    [U_REVISION] = "SELECT revision FROM config WHERE id = 1",
    [U_ACCOUNT] = "SELECT id, type, realname_verified, restricted, \"freeze\", level, cash_balance, credit_limit, credit_used,"
                  " deduction_days, unified_expiry_day, created_at, updated_at FROM accounts WHERE id = ?",
    [U_DUPLICATE] = "SELECT resource_id, quantity, start_at, end_at FROM usage_records WHERE account_id = ? AND usage_id = ?",
    [U_RESOURCE] = "SELECT id, account_id, order_id, line_no, product_id, product_type, billing_mode, region, status, primary_id,"
                   " relation, period_unit, period_count, anchor_day, created_at, provisioned_at, effective_at, expire_at, ended_at,"
                   " expiry_policy, grace_end, retention_end, freeze_reason, auto_renew_unit, auto_renew_count, auto_renew_remaining,"
                   " next_attempt_at, reminded_days, due_at, refund_blocks FROM resources WHERE id = ? AND account_id = ?",
    [U_PRODUCT] = "SELECT document, updated_at FROM products WHERE id = ?",
    [U_PACKAGES] = "SELECT id FROM resources WHERE account_id = ? AND billing_mode = 'PACKAGE'"
                   " AND status IN ('IN_USE', 'PENDING_EFFECTIVE', 'EXPIRED') AND effective_at <= ? AND expire_at >= ?"
                   " ORDER BY expire_at, effective_at, seq",
    [U_LINE_SELECT] = "SELECT units, covered, overage, price_microfen, charged FROM usage_lines WHERE resource_id = ? AND hour_start = ?",
    [U_LINE_INSERT] = "INSERT INTO usage_lines (resource_id, hour_start, account_id, units, covered, overage, price_microfen, per_hour,"
                      " charged) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [U_LINE_UPDATE] = "UPDATE usage_lines SET units = units + ?, covered = covered + ?, overage = ?, charged = ? WHERE resource_id = ?"
                      " AND hour_start = ?",
    [U_COUPONS] = "SELECT id, account_id, kind, face_value, balance, discount_bp, max_discount, valid_from, valid_to, scope, min_spend,"
                  " exclusive_with_discounts, reference, issued_at, used_at FROM coupons WHERE account_id = ?"
                  " AND (kind = 'DISCOUNT_COUPON' AND used_at IS NULL OR kind != 'DISCOUNT_COUPON' AND balance > 0)"
                  " AND valid_from <= ? AND valid_to > ? ORDER BY seq",
    [U_CASH_SELECT] = "SELECT cash_balance FROM accounts WHERE id = ?",
    [U_CASH_UPDATE] = "UPDATE accounts SET cash_balance = ?, updated_at = ? WHERE id = ?",
    [U_LEDGER] = "INSERT INTO ledger (account_id, fund, kind, amount, balance_after, reference, order_id, recorded_at)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [U_FUNDING] = "INSERT INTO usage_funding (resource_id, hour_start, source, coupon_id, amount) VALUES (?, ?, ?, ?, ?)"
                  " ON CONFLICT (resource_id, hour_start, source, coupon_id) DO UPDATE SET amount = usage_funding.amount + excluded.amount",
    [U_RECORD] = "INSERT INTO usage_records (account_id, usage_id, resource_id, quantity, start_at, end_at, recorded_at)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?)",
};

static struct statement usage_statements[U_STATEMENTS];

static void prepare_usage(void) {
    for (int i = 0; i < U_STATEMENTS; i++) prepare(raw, &usage_statements[i], 300 + i, usage_sql[i]);
    raw_cover = pg_cover_install(raw);
}

/* What the running call has read (UsageService's lookups). */
static unsigned char usage_resource_read[USAGE_RESOURCES];
static int usage_product_read;

/* One rated record on `raw`: Engine.rate, payUsage and reportUsage's reads and writes. */
static void raw_record(int64_t k, int64_t now) {
    struct statement *u = usage_statements;
    char usage_id[32], reference[64];
    const char *resource = raw_resources[k % USAGE_RESOURCES];
    int64_t hour = usage_hour(k), units = 3600, amount = usage_charge;
    snprintf(usage_id, sizeof usage_id, "u%" PRId64, k);

    bind_text(&u[U_DUPLICATE], 1, ACCOUNT);
    bind_text(&u[U_DUPLICATE], 2, usage_id);
    run(raw, &u[U_DUPLICATE]);
    /* Each resource and the product are read once per call (UsageService's lookups), as
       bench_usage.c's baseline does. (Until 2026-12-07 17:00 UTC this baseline read them for
       every record, the library once a call: ratios above 1.) */
    if (!usage_resource_read[k % USAGE_RESOURCES]) {
        usage_resource_read[k % USAGE_RESOURCES] = 1;
        bind_text(&u[U_RESOURCE], 1, resource);
        bind_text(&u[U_RESOURCE], 2, ACCOUNT);
        run(raw, &u[U_RESOURCE]);
        if (!usage_product_read) {
            usage_product_read = 1;
            bind_text(&u[U_PRODUCT], 1, USAGE_PRODUCT);
            run(raw, &u[U_PRODUCT]);
        }
    }
    bind_text(&u[U_PACKAGES], 1, ACCOUNT);
    bind_int(&u[U_PACKAGES], 2, hour);
    bind_int(&u[U_PACKAGES], 3, hour);
    run(raw, &u[U_PACKAGES]);
    bind_text(&u[U_LINE_SELECT], 1, resource);
    bind_int(&u[U_LINE_SELECT], 2, hour);
    run(raw, &u[U_LINE_SELECT]); /* a new hour every record: no line yet */
    struct statement *s = &u[U_LINE_INSERT];
    bind_text(s, 1, resource);
    bind_int(s, 2, hour);
    bind_text(s, 3, ACCOUNT);
    bind_int(s, 4, units);
    bind_int(s, 5, 0);
    bind_int(s, 6, units);
    bind_int(s, 7, USAGE_PRICE);
    bind_int(s, 8, 1);
    bind_int(s, 9, amount);
    run(raw, s);
    /* payUsage: no coupon, so the account's cash. */
    bind_text(&u[U_COUPONS], 1, ACCOUNT);
    bind_int(&u[U_COUPONS], 2, hour);
    bind_int(&u[U_COUPONS], 3, hour);
    run(raw, &u[U_COUPONS]);
    bind_text(&u[U_ACCOUNT], 1, ACCOUNT);
    run(raw, &u[U_ACCOUNT]);
    bind_text(&u[U_CASH_SELECT], 1, ACCOUNT);
    int64_t balance = run(raw, &u[U_CASH_SELECT]) - amount;
    s = &u[U_CASH_UPDATE];
    bind_int(s, 1, balance);
    bind_int(s, 2, now);
    bind_text(s, 3, ACCOUNT);
    run(raw, s);
    snprintf(reference, sizeof reference, "%s@%" PRId64, resource, hour);
    s = &u[U_LEDGER];
    bind_text(s, 1, ACCOUNT);
    bind_text(s, 2, "CASH");
    bind_text(s, 3, "USAGE");
    bind_int(s, 4, -amount);
    bind_int(s, 5, balance);
    bind_text(s, 6, reference);
    bind_null(s, 7);
    bind_int(s, 8, now);
    run(raw, s);
    s = &u[U_FUNDING];
    bind_text(s, 1, resource);
    bind_int(s, 2, hour);
    bind_text(s, 3, "CASH");
    bind_text(s, 4, "");
    bind_int(s, 5, amount);
    run(raw, s);
    s = &u[U_RECORD];
    bind_text(s, 1, ACCOUNT);
    bind_text(s, 2, usage_id);
    bind_text(s, 3, resource);
    bind_int(s, 4, 1);
    bind_int(s, 5, hour);
    bind_int(s, 6, hour + 3600);
    bind_int(s, 7, now);
    run(raw, s);
}

/* Records first..first+n-1 on `raw`, USAGE_BATCH in one SERIALIZABLE transaction each. */
static double raw_usage(int64_t first, int64_t n, int64_t now) {
    struct statement *u = usage_statements;
    char detail[96];
    snprintf(detail, sizeof detail, "{\"charged_fen\":%" PRId64 ",\"records\":%d}", usage_charge * USAGE_BATCH, USAGE_BATCH);
    double start = support_seconds();
    for (int64_t from = first; from < first + n; from += USAGE_BATCH) {
        pg_exec(raw, "BEGIN ISOLATION LEVEL SERIALIZABLE");
        memset(usage_resource_read, 0, sizeof usage_resource_read);
        usage_product_read = 0;
        run(raw, &u[U_REVISION]);
        bind_text(&u[U_ACCOUNT], 1, ACCOUNT);
        run(raw, &u[U_ACCOUNT]);
        for (int64_t k = from; k < from + USAGE_BATCH; k++) raw_record(k, now);
        bind_text(&u[U_ACCOUNT], 1, ACCOUNT);
        run(raw, &u[U_ACCOUNT]);
        pg_cover_audit_append(raw_cover, now, "bench", "usage.report", ACCOUNT, NULL, detail);
        pg_cover_check(raw_cover);
        pg_exec(raw, "COMMIT");
    }
    return support_seconds() - start;
}

/* The library reads the baseline's balance back after n records (a note when it is wrong). */
static void raw_usage_check(const char *url, int64_t n) {
    char expected[64], *response = NULL;
    billing_engine *engine = try_open(url, NULL, "usage read-back");
    if (!engine) return;
    if (billing_account_get(engine, "{\"account_id\": \"" ACCOUNT "\"}", &response) != BILLING_OK) skipped("usage read-back", "billing_account_get");
    else {
        snprintf(expected, sizeof expected, "\"cash_balance_fen\":%" PRId64 ",", initial_cash - n * usage_charge);
        if (!strstr(response, expected)) printf("  (note: the baseline's balance reads back wrong: %.300s)\n", response);
        billing_string_free(response);
    }
    billing_engine_close(engine);
}

/* ---- (6) throughput from several processes --------------------------------------------- */

struct outcome {
    int64_t operations, busy;
    int failed;
};

/* One client process: its own engine, its own account; buys until `seconds` have passed since
   the common start, then writes its counts to `out`. Exits 3 on a failure other than busy
   (its message on stderr). */
static void client(const char *path, const char *options, int index, double seconds, int ready, int go, int out) {
    char account[32], create[512];
    snprintf(account, sizeof account, "bench-tp-%d", index);
    create_request(create, sizeof create, account);
    billing_engine *engine = NULL;
    struct outcome outcome = {0, 0, 0};
    char byte = 1;
    if (billing_engine_open(path, options, &engine) != BILLING_OK) {
        fprintf(stderr, "bench_pg: client %d: billing_engine_open: %d %s: %s\n", index, billing_last_error_code(),
                billing_last_error_reason(), billing_last_error_message());
        _exit(3);
    }
    if (write(ready, &byte, 1) != 1 || read(go, &byte, 1) != 0) _exit(2);
    double start = support_seconds();
    while (support_seconds() - start < seconds) {
        const char *failed = NULL;
        int status = library_buy(engine, create, account, &failed);
        if (status == BILLING_OK) outcome.operations++;
        else if (status == BILLING_E_BUSY) outcome.busy++;
        else {
            fprintf(stderr, "bench_pg: client %d: %s: %d %s: %s\n", index, failed, status, billing_last_error_reason(),
                    billing_last_error_message());
            outcome.failed = 1;
            break;
        }
    }
    billing_engine_close(engine);
    if (write(out, &outcome, sizeof outcome) != (ssize_t)sizeof outcome) _exit(2);
    _exit(outcome.failed ? 3 : 0);
}

/* Forks `processes` clients, starts them together, and sums their outcomes; returns the wall
   time from the start to the last exit (negative when a client failed: noted). */
static double throughput(const char *path, const char *options, int processes, double seconds, struct outcome *total) {
    int ready[2], go[2], out[2];
    if (pipe(ready) != 0 || pipe(go) != 0 || pipe(out) != 0) die("pipe failed");
    fflush(stdout);
    pid_t children[8];
    for (int p = 0; p < processes; p++) {
        children[p] = fork();
        if (children[p] < 0) die("fork failed");
        if (children[p] == 0) {
            close(ready[0]);
            close(go[1]);
            close(out[0]);
            client(path, options, p, seconds, ready[1], go[0], out[1]);
        }
    }
    close(ready[1]);
    close(go[0]);
    close(out[1]);
    int started = 0;
    for (int p = 0; p < processes; p++) {
        char byte;
        if (read(ready[0], &byte, 1) == 1) started++;
    }
    double start = support_seconds();
    close(go[1]);
    *total = (struct outcome){0, 0, 0};
    struct outcome one;
    while (read(out[0], &one, sizeof one) == (ssize_t)sizeof one) {
        total->operations += one.operations;
        total->busy += one.busy;
        total->failed += one.failed;
    }
    int failed = 0;
    for (int p = 0; p < processes; p++) {
        int status = 0;
        if (waitpid(children[p], &status, 0) != children[p] || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed++;
    }
    double elapsed = support_seconds() - start;
    close(ready[0]);
    close(out[0]);
    if (started < processes || failed) {
        printf("  (throughput, %d processes: %d of %d clients failed; see their messages above)\n", processes,
               failed ? failed : processes - started, processes);
        return -1;
    }
    return elapsed;
}

/* ---- (7) the first open of a process ------------------------------------------------------ */

/* One open + close in a new process: this program run again with --first-open (so no cache
   of an earlier open in this process helps, as for a CLI call or a short-lived worker);
   the seconds it took there, negative when it failed. */
static double first_open(const char *url, int library) {
    int channel[2];
    if (pipe(channel) != 0) die("pipe failed");
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) die("fork failed");
    if (child == 0) {
        close(channel[0]);
        if (dup2(channel[1], STDOUT_FILENO) < 0) _exit(2);
        execl("/proc/self/exe", BENCH_NAME, "--first-open", library ? "library" : "raw", url, (char *)NULL);
        _exit(127);
    }
    close(channel[1]);
    char text[256] = "";
    size_t used = 0;
    ssize_t got;
    while (used + 1 < sizeof text && (got = read(channel[0], text + used, sizeof text - 1 - used)) > 0) used += (size_t)got;
    text[used] = '\0';
    close(channel[0]);
    int status = 0;
    waitpid(child, &status, 0);
    double seconds = -1;
    const char *line = strrchr(text, '=');
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !line || sscanf(line + 1, "%lf", &seconds) != 1) {
        printf("  (first open failed: %s)\n", text);
        return -1;
    }
    return seconds;
}

static double first_opens(const char *url, int m, int library) {
    double total = 0;
    for (int i = 0; i < m; i++) {
        double seconds = first_open(url, library);
        if (seconds < 0) return -1;
        total += seconds;
    }
    return total;
}

/* ---- (8) login ------------------------------------------------------------------------------ */

#define LOGIN_USER "bench_user"
#define LOGIN_PASSWORD "Bench-Pass-2024"
#define FAST_MEMORY 19922944 /* the least password_hash_memory_bytes the configuration allows */

/* An active platform account LOGIN_USER of ACCOUNT, its password hashed at the fastest costs
   the configuration allows (ops 2, 19 MiB: the hash is the baseline's too, the rest is the
   comparison). 0 when the library failed (noted). */
static int make_login(billing_engine *engine) {
    char request[400], token[160], id[64], *response = NULL;
    snprintf(request, sizeof request,
             "{\"actor\": \"bench\", \"changes\": {\"password_hash_ops_limit\": 2, \"password_hash_memory_bytes\": %d}}", FAST_MEMORY);
    if (billing_config_update(engine, request, &response) != BILLING_OK) return skipped("login", "billing_config_update"), 0;
    billing_string_free(response);
    if (billing_platform_apply(engine, "{\"actor\": \"bench\", \"account_id\": \"" ACCOUNT "\", \"user_name\": \"" LOGIN_USER "\","
                               " \"email\": \"bench@example.com\", \"phone\": \"13800138000\"}", &response) != BILLING_OK) {
        return skipped("login", "billing_platform_apply"), 0;
    }
    bench_json_string(response, "platform_account_id", id, sizeof id);
    billing_string_free(response);
    snprintf(request, sizeof request, "{\"actor\": \"bench\", \"platform_account_id\": \"%s\"}", id);
    if (billing_platform_approve(engine, request, &response) != BILLING_OK) return skipped("login", "billing_platform_approve"), 0;
    bench_json_string(response, "password_set_token", token, sizeof token);
    billing_string_free(response);
    snprintf(request, sizeof request, "{\"actor\": \"bench\", \"token\": \"%s\", \"password\": \"" LOGIN_PASSWORD "\"}", token);
    if (billing_platform_activate(engine, request, &response) != BILLING_OK) return skipped("login", "billing_platform_activate"), 0;
    billing_string_free(response);
    return 1;
}

static double library_logins(billing_engine *engine, int n) {
    static const char *login = "{\"identifier\": \"" LOGIN_USER "\", \"password\": \"" LOGIN_PASSWORD "\"}";
    double start = support_seconds();
    for (int i = 0; i < n; i++) {
        char *response = NULL;
        if (billing_platform_login(engine, login, &response) != BILLING_OK) return skipped("login", "billing_platform_login"), -1;
        billing_string_free(response);
    }
    return support_seconds() - start;
}

/* Engine.login's statements on PostgreSQL (LoginService.swift, LoginThrottleStore,
   PlatformAccountStore, AuditLog): a read transaction, the argon2id verify outside it, then
   the write transaction with the audit row of the account's chain (bench_pg_coverage.h). */
enum { LG_REVISION, LG_THROTTLE, LG_BY_NAME, LG_BY_ID, LG_CLEAR, LG_STATEMENTS };
#define PLATFORM_COLUMNS "id, account_id, status, user_name, email, phone, contact_name, password_hash, reject_reason," \
                         " submitted_at, decided_at, activated_at, password_changed_at"
static const char *login_sql[LG_STATEMENTS] = {
    [LG_REVISION] = "SELECT revision FROM config WHERE id = 1",
    [LG_THROTTLE] = "SELECT failures, retry_after FROM login_throttles WHERE key = ?",
    [LG_BY_NAME] = "SELECT id, status, password_hash FROM platform_accounts WHERE user_name = ? AND status != 'REJECTED'",
    [LG_BY_ID] = "SELECT " PLATFORM_COLUMNS " FROM platform_accounts WHERE id = ?",
    [LG_CLEAR] = "DELETE FROM login_throttles WHERE key = ?",
};
static struct statement login_statements[LG_STATEMENTS];
static struct pg_cover *login_cover;

static double raw_logins(PGconn *conn, int n) {
    struct statement *s = login_statements;
    /* Engine.throttleKey is a 64-hex digest of the identifier: one of that size. */
    static const char *key = "cee4214aa44906ef2f2cdfbb7d0c27b37a9d3e886546f4e34b1e58fe7af5bf48";
    char hash[crypto_pwhash_STRBYTES + 1], id[32], account[64];
    double start = support_seconds();
    for (int i = 0; i < n; i++) {
        int64_t now = (int64_t)time(NULL);
        pg_exec(conn, "BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY");
        run(conn, &s[LG_REVISION]);
        bind_text(&s[LG_THROTTLE], 1, key);
        run(conn, &s[LG_THROTTLE]);
        bind_text(&s[LG_BY_NAME], 1, LOGIN_USER);
        PGresult *result = PQexecPrepared(conn, s[LG_BY_NAME].name, 1, s[LG_BY_NAME].values, s[LG_BY_NAME].lengths,
                                          s[LG_BY_NAME].formats, 1);
        if (PQresultStatus(result) != PGRES_TUPLES_OK || PQntuples(result) != 1) die("no platform account: %s", PQerrorMessage(conn));
        snprintf(id, sizeof id, "%s", PQgetvalue(result, 0, 0));
        snprintf(hash, sizeof hash, "%.*s", PQgetlength(result, 0, 2), PQgetvalue(result, 0, 2));
        PQclear(result);
        s[LG_BY_NAME].values[0] = NULL;
        pg_exec(conn, "COMMIT");

        if (crypto_pwhash_str_verify(hash, LOGIN_PASSWORD, strlen(LOGIN_PASSWORD)) != 0) die("raw login: verify failed");

        pg_exec(conn, "BEGIN ISOLATION LEVEL SERIALIZABLE");
        run(conn, &s[LG_REVISION]);
        bind_text(&s[LG_THROTTLE], 1, key);
        run(conn, &s[LG_THROTTLE]);
        int throttled = last_rows > 0;
        /* The account as the answer gives it: its customer account for the audit row. */
        bind_text(&s[LG_BY_ID], 1, id);
        result = PQexecPrepared(conn, s[LG_BY_ID].name, 1, s[LG_BY_ID].values, s[LG_BY_ID].lengths, s[LG_BY_ID].formats, 1);
        if (PQresultStatus(result) != PGRES_TUPLES_OK || PQntuples(result) != 1) die("no platform account %s: %s", id, PQerrorMessage(conn));
        snprintf(account, sizeof account, "%s", PQgetvalue(result, 0, 1));
        PQclear(result);
        s[LG_BY_ID].values[0] = NULL;
        if (throttled) { /* as the library: no row read, none to delete */
            bind_text(&s[LG_CLEAR], 1, key);
            run(conn, &s[LG_CLEAR]);
        }
        pg_cover_audit_append(login_cover, now, id, "platform.login", account, id, "{\"outcome\":\"success\"}");
        pg_cover_check(login_cover);
        pg_exec(conn, "COMMIT");
    }
    return support_seconds() - start;
}

/* ---- (9) an idle scheduler pass ----------------------------------------------------------- */

static double library_scheduler_runs(billing_engine *engine, int n) {
    double start = support_seconds();
    for (int i = 0; i < n; i++) {
        char *response = NULL;
        if (billing_scheduler_run(engine, "{\"actor\": \"cron\"}", &response) != BILLING_OK) {
            return skipped("scheduler", "billing_scheduler_run"), -1;
        }
        if (!strstr(response, "\"has_more\":false")) die("scheduler pass not idle: %.300s", response);
        billing_string_free(response);
    }
    return support_seconds() - start;
}

/* SchedulerService.run's statements on PostgreSQL (Services/SchedulerService.swift,
   OrderTransitions.cancelOverdueOrders, Orchestration/ResourceLifecycle.swift, ExportService's
   jobs, LoginThrottles and the stores they call), in one SERIALIZABLE transaction with the
   pass's audit row in the actor's chain: the claims of due rows take the batch's limit and end
   with FOR UPDATE SKIP LOCKED as DueClaim writes them there; only a claim that got the whole
   limit is followed by an unlocked read of the row after them (has_more), which (9) and (11)
   never reach but the resources' claim has here. The per-resource statements are those of a
   prepaid MANUAL resource expiring into grace ((11)): its row (ResourceStore.require), its bound
   resources, its account (the level's grace and retention), the resource.expired event and the
   row written back. */
enum {
    SC_REVISION, SC_ORDERS, SC_RESOURCES, SC_RESOURCES_PEEK, SC_GENERATING, SC_PURGE, SC_THROTTLES, SC_MORE,
    SC_RESOURCE, SC_BOUND, SC_ACCOUNT, SC_EVENT, SC_UPDATE, SC_STATEMENTS
};
#define EXPORT_COLUMNS "id, account_id, kind, status, request, language, directory, file_name, rows_expected, rows_written," \
                       " bytes, cursor, created_at, purge_at, completed_at, failure_reason"
#define RESOURCE_COLUMNS                                                                                                   \
    "id, account_id, order_id, line_no, product_id, product_type, billing_mode, region, status, primary_id, relation,"    \
    " period_unit, period_count, anchor_day, created_at, provisioned_at, effective_at, expire_at, ended_at, expiry_policy," \
    " grace_end, retention_end, freeze_reason, auto_renew_unit, auto_renew_count, auto_renew_remaining, next_attempt_at,"  \
    " reminded_days, due_at, refund_blocks"
static const char *scheduler_sql[SC_STATEMENTS] = {
    [SC_REVISION] = "SELECT revision FROM config WHERE id = 1",
    [SC_ORDERS] = "SELECT id, account_id FROM orders WHERE combined_id IS NULL AND status IN ('PENDING_PAYMENT', 'PENDING_CONFIRMATION')"
                  " AND pay_deadline <= ? ORDER BY pay_deadline LIMIT ? FOR UPDATE SKIP LOCKED",
    [SC_RESOURCES] = "SELECT id, account_id FROM resources WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?"
                     " FOR UPDATE SKIP LOCKED",
    [SC_RESOURCES_PEEK] = "SELECT id, account_id FROM resources WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT 1 OFFSET ?",
    [SC_GENERATING] = "SELECT " EXPORT_COLUMNS " FROM exports WHERE status = 'GENERATING' ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED",
    [SC_PURGE] = "SELECT " EXPORT_COLUMNS " FROM exports WHERE purge_at <= ? ORDER BY purge_at LIMIT ? FOR UPDATE SKIP LOCKED",
    [SC_THROTTLES] = "DELETE FROM login_throttles WHERE key IN"
                     " (SELECT key FROM login_throttles WHERE retry_after <= ? ORDER BY retry_after LIMIT ? FOR UPDATE SKIP LOCKED)",
    [SC_MORE] = "SELECT 1 FROM login_throttles WHERE retry_after <= ? LIMIT 1 FOR UPDATE SKIP LOCKED",
    [SC_RESOURCE] = "SELECT " RESOURCE_COLUMNS " FROM resources WHERE id = ? AND account_id = ?",
    [SC_BOUND] = "SELECT " RESOURCE_COLUMNS " FROM resources WHERE primary_id = ? AND relation = 'BOUND' ORDER BY seq",
    [SC_ACCOUNT] = "SELECT id, type, realname_verified, restricted, \"freeze\", level, cash_balance, credit_limit, credit_used,"
                   " deduction_days, unified_expiry_day, created_at, updated_at FROM accounts WHERE id = ?",
    [SC_EVENT] = "INSERT INTO events (type, account_id, subject_id, occurred_at, data) VALUES (?, ?, ?, ?, ?)",
    [SC_UPDATE] = "UPDATE resources SET status = ?, billing_mode = ?, anchor_day = ?, provisioned_at = ?, effective_at = ?,"
                  " expire_at = ?, ended_at = ?, expiry_policy = ?, grace_end = ?, retention_end = ?, freeze_reason = ?,"
                  " auto_renew_unit = ?, auto_renew_count = ?, auto_renew_remaining = ?, next_attempt_at = ?, reminded_days = ?,"
                  " due_at = ?, refund_blocks = ? WHERE id = ?",
};
static struct statement scheduler_statements[SC_STATEMENTS];
static struct pg_cover *scheduler_cover; /* the connection prepare_scheduler made last */

enum { SCHEDULER_LIMIT = 1000 };        /* billing_scheduler_run's default limit per job */
#define GRACE_SECONDS (INT64_C(7) * 86400)     /* V3 prepaid grace (Configuration.graceRetention) */
#define RETENTION_SECONDS (INT64_C(7) * 86400) /* V3 prepaid retention */

static PGconn *prepare_scheduler(const char *url) {
    PGconn *conn = pg_connect(url);
    pg_session(conn);
    for (int i = 0; i < SC_STATEMENTS; i++) prepare(conn, &scheduler_statements[i], i, scheduler_sql[i]);
    pg_cover_free(scheduler_cover);
    scheduler_cover = pg_cover_install(conn);
    return conn;
}

/* Passes column `column` of a binary result row on as a binary parameter of the same type
   (the UPDATE's parameters are the columns it was read from). */
static void bind_column(struct statement *s, int index, const PGresult *row, int column) {
    if (PQgetisnull(row, 0, column)) {
        s->values[index - 1] = NULL;
        return;
    }
    s->values[index - 1] = PQgetvalue(row, 0, column);
    s->lengths[index - 1] = PQgetlength(row, 0, column);
    s->formats[index - 1] = 1;
}

/* One prepaid MANUAL resource whose expiry has passed, as ResourceLifecycle.advance moves it:
   read, bound resources, account, into grace with its event, written back once (due at the end
   of grace, as ResourceSchedule.reschedule sets it). */
static void raw_expire(PGconn *conn, const char *id, const char *account, int64_t now) {
    struct statement *s = scheduler_statements, *read = &s[SC_RESOURCE];
    bind_text(read, 1, id);
    bind_text(read, 2, account);
    PGresult *row = PQexecPrepared(conn, read->name, read->n, read->values, read->lengths, read->formats, 1);
    if (PQresultStatus(row) != PGRES_TUPLES_OK || PQntuples(row) != 1) die("no resource %s: %s", id, PQerrorMessage(conn));
    read->values[0] = read->values[1] = NULL;
    for (int c = 0; c < PQnfields(row); c++) (void)PQgetvalue(row, 0, c); /* every column, as the library's decode */
    int64_t expire_at = PQgetisnull(row, 0, 17) ? now : binary_int(row, 0, 17);
    if (strcmp(PQgetvalue(row, 0, 8), "IN_USE") != 0 || expire_at >= now) die("raw pass: %s is not due", id);
    bind_text(&s[SC_BOUND], 1, id);
    run(conn, &s[SC_BOUND]);
    bind_text(&s[SC_ACCOUNT], 1, account);
    run(conn, &s[SC_ACCOUNT]);
    int64_t grace_end = expire_at + GRACE_SECONDS, retention_end = grace_end + RETENTION_SECONDS;
    char data[128];
    snprintf(data, sizeof data, "{\"expire_at\":%" PRId64 ",\"grace_end\":%" PRId64 ",\"retention_end\":%" PRId64 "}", expire_at,
             grace_end, retention_end);
    struct statement *event = &s[SC_EVENT];
    bind_text(event, 1, "resource.expired");
    bind_text(event, 2, account);
    bind_text(event, 3, id);
    bind_int(event, 4, now);
    bind_text(event, 5, data);
    run(conn, event);
    /* ResourceStore.update: every field that changes over a life, from the row read above. */
    static const int kept[] = {6, 13, 15, 16, 17, 18, 19}; /* billing_mode, anchor_day, provisioned_at … expiry_policy */
    struct statement *update = &s[SC_UPDATE];
    bind_text(update, 1, "EXPIRED");
    for (int i = 0; i < (int)(sizeof kept / sizeof *kept); i++) bind_column(update, 2 + i, row, kept[i]);
    bind_int(update, 9, grace_end);
    bind_int(update, 10, retention_end);
    for (int c = 22; c <= 27; c++) bind_column(update, 11 + c - 22, row, c); /* freeze_reason … reminded_days */
    bind_int(update, 17, grace_end + 1);
    bind_column(update, 18, row, 29);
    bind_text(update, 19, id);
    run(conn, update);
    PQclear(row);
}

/* The audit detail of a pass (SchedulerRunResponse.json as the library writes it: keys in
   order, every resource outcome listed). */
static void scheduler_detail(char *detail, size_t size, int64_t now, int64_t expired, int more) {
    snprintf(detail, size,
             "{\"cancelled_orders\":0,\"exports_purged\":0,\"exports_stepped\":0,\"has_more\":%s,\"login_throttles_purged\":0,"
             "\"now\":%" PRId64 ",\"resources\":{\"auto_renew_failed\":0,\"auto_renewed\":0,\"converted\":0,\"effective\":0,"
             "\"expired\":%" PRId64 ",\"failed\":0,\"frozen\":0,\"processed\":%" PRId64 ",\"released\":0,\"reminders\":0}}",
             more ? "true" : "false", now, expired, expired);
}

/* One raw scheduler run at `now` on a connection holding scheduler_statements: SchedulerService.run's
   jobs, at most SCHEDULER_LIMIT resources (all due ones are prepaid MANUAL resources whose
   expiry has passed). Returns how many it expired; *more as has_more. */
static int64_t raw_scheduler_pass(PGconn *conn, int64_t now, int *more) {
    struct statement *s = scheduler_statements;
    static char ids[SCHEDULER_LIMIT + 1][32], accounts[SCHEDULER_LIMIT + 1][64];
    char detail[512];
    pg_exec(conn, "BEGIN ISOLATION LEVEL SERIALIZABLE");
    run(conn, &s[SC_REVISION]);
    bind_int(&s[SC_ORDERS], 1, now);
    bind_int(&s[SC_ORDERS], 2, SCHEDULER_LIMIT);
    run(conn, &s[SC_ORDERS]);
    struct statement *due = &s[SC_RESOURCES];
    bind_int(due, 1, now);
    bind_int(due, 2, SCHEDULER_LIMIT);
    PGresult *result = PQexecPrepared(conn, due->name, due->n, due->values, due->lengths, due->formats, 1);
    if (PQresultStatus(result) != PGRES_TUPLES_OK) die("%.300s: %s", due->sql, PQerrorMessage(conn));
    int found = PQntuples(result);
    for (int r = 0; r < found; r++) {
        snprintf(ids[r], sizeof ids[0], "%s", PQgetvalue(result, r, 0));
        snprintf(accounts[r], sizeof accounts[0], "%s", PQgetvalue(result, r, 1));
    }
    PQclear(result);
    due->values[0] = due->values[1] = NULL;
    int more_due = 0;
    if (found == SCHEDULER_LIMIT) {
        struct statement *peek = &s[SC_RESOURCES_PEEK];
        bind_int(peek, 1, now);
        bind_int(peek, 2, SCHEDULER_LIMIT);
        PGresult *next = PQexecPrepared(conn, peek->name, peek->n, peek->values, peek->lengths, peek->formats, 1);
        if (PQresultStatus(next) != PGRES_TUPLES_OK) die("%.300s: %s", peek->sql, PQerrorMessage(conn));
        more_due = PQntuples(next) > 0;
        PQclear(next);
        peek->values[0] = peek->values[1] = NULL;
    }
    int64_t expired = 0;
    for (int r = 0; r < found; r++, expired++) raw_expire(conn, ids[r], accounts[r], now);
    bind_int(&s[SC_GENERATING], 1, SCHEDULER_LIMIT);
    run(conn, &s[SC_GENERATING]);
    bind_int(&s[SC_PURGE], 1, now);
    bind_int(&s[SC_PURGE], 2, SCHEDULER_LIMIT);
    run(conn, &s[SC_PURGE]);
    bind_int(&s[SC_THROTTLES], 1, now - 86400);
    bind_int(&s[SC_THROTTLES], 2, SCHEDULER_LIMIT);
    run(conn, &s[SC_THROTTLES]);
    bind_int(&s[SC_MORE], 1, now - 86400);
    run(conn, &s[SC_MORE]);
    *more = more_due;
    scheduler_detail(detail, sizeof detail, now, expired, *more);
    pg_cover_audit_append(scheduler_cover, now, "cron", "scheduler.run", NULL, NULL, detail);
    pg_cover_check(scheduler_cover);
    pg_exec(conn, "COMMIT");
    return expired;
}

static double raw_scheduler_runs(PGconn *conn, int n) {
    double start = support_seconds();
    for (int i = 0; i < n; i++) {
        int more = 0;
        if (raw_scheduler_pass(conn, (int64_t)time(NULL), &more) != 0 || more) die("raw scheduler pass not idle");
    }
    return support_seconds() - start;
}

/* ---- (11) a scheduler pass that expires resources ------------------------------------------ */

/* The schema: DUE_ORIGINALS prepaid MANUAL resources of ACCOUNT (V3) bought and provisioned
   through the library at due_bought_at, DUE_PER_HUNDRED in each hundred for one month (expiring
   at the end of 2024-02-01, due since their first reminder) and the others for three years
   (next due at their first reminder in December 2026); then copied with SQL (INSERT … SELECT:
   new ids and sequence numbers, every other column as it is, bench_scheduler.c's way) to ten
   times the due count. A pass at due_pass_at expires exactly the one-month ones into grace. */
enum { DUE_ORIGINALS = 100, DUE_PER_HUNDRED = 10 };
static int64_t due_bought_at, due_pass_at;

/* The originals, through the library (make_data made the account and the product). 0 when the
   library failed (noted). */
static int make_due(billing_engine *engine) {
    static char request[16384];
    static const struct {
        const char *unit;
        int count, quantity;
    } orders[] = {{"YEAR", 3, DUE_ORIGINALS - DUE_PER_HUNDRED}, {"MONTH", 1, DUE_PER_HUNDRED}};
    for (size_t o = 0; o < sizeof orders / sizeof *orders; o++) {
        char *response = NULL;
        snprintf(request, sizeof request,
                 "{\"actor\": \"bench\", \"account_id\": \"" ACCOUNT "\", \"auto_pay\": true, \"items\": [{\"product_id\": \"%s\","
                 " \"period\": {\"unit\": \"%s\", \"count\": %d}, \"quantity\": %d}]}",
                 product_id, orders[o].unit, orders[o].count, orders[o].quantity);
        if (billing_order_create(engine, request, &response) != BILLING_OK) return skipped("scheduler, due", "billing_order_create"), 0;
        const char *at = strstr(response, "\"resources\":[");
        if (!at || !strstr(response, "\"succeeded\":true")) die("order not paid: %.300s", response);
        int used = snprintf(request, sizeof request, "{\"actor\": \"bench\", \"account_id\": \"" ACCOUNT "\", \"results\": [");
        for (int i = 0; i < orders[o].quantity; i++) {
            char id[32];
            at = strstr(at, "\"resource_id\":\"");
            if (!at) die("only %d resources in an order", i);
            bench_copy_after(at, "\"resource_id\":\"", id, sizeof id);
            at++;
            used += snprintf(request + used, sizeof request - (size_t)used, "%s{\"resource_id\": \"%s\", \"outcome\": \"SUCCEEDED\"}",
                             i ? ", " : "", id);
        }
        snprintf(request + used, sizeof request - (size_t)used, "]}");
        billing_string_free(response);
        if (billing_resource_report(engine, request, &response) != BILLING_OK) return skipped("scheduler, due", "billing_resource_report"), 0;
        billing_string_free(response);
    }
    return 1;
}

/* The first column of the first row of a query (text protocol) as an integer; dies without. */
static int64_t query_int(PGconn *conn, const char *sql) {
    PGresult *result = PQexec(conn, sql);
    if (PQresultStatus(result) != PGRES_TUPLES_OK || PQntuples(result) < 1) die("%.300s: %s", sql, PQerrorMessage(conn));
    int64_t value = PQgetisnull(result, 0, 0) ? 0 : strtoll(PQgetvalue(result, 0, 0), NULL, 10);
    PQclear(result);
    return value;
}

/* Copies 1..copies-1 of the originals (copy n of the resource with sequence number s gets s +
   n × stride, stride the originals' greatest sequence number, and the id made from it); the
   resource sequence moved past them; statistics taken, as a database that grew would have them.
   The copies are covered as the library covers its writes (one "bench.copy" audit row listing
   them with their digests), so that billing_verify accepts the schema. */
static void multiply_due(PGconn *conn, int copies) {
    int64_t stride = query_int(conn, "SELECT max(seq) FROM resources");
    PGresult *result = PQexec(conn, "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
                                    " AND table_name = 'resources' ORDER BY ordinal_position");
    if (PQresultStatus(result) != PGRES_TUPLES_OK || PQntuples(result) == 0) die("columns of resources: %s", PQerrorMessage(conn));
    static char names[4096], selected[8192], sql[16384];
    size_t used = 0, chosen = 0;
    for (int r = 0; r < PQntuples(result); r++) {
        const char *name = PQgetvalue(result, r, 0);
        used += (size_t)snprintf(names + used, sizeof names - used, "%s\"%s\"", r ? ", " : "", name);
        if (strcmp(name, "id") == 0) {
            chosen += (size_t)snprintf(selected + chosen, sizeof selected - chosen,
                                       "%s'RS' || lpad((r.seq + k.n * %" PRId64 ")::text, 12, '0')", r ? ", " : "", stride);
        } else if (strcmp(name, "seq") == 0) {
            chosen += (size_t)snprintf(selected + chosen, sizeof selected - chosen, "%sr.seq + k.n * %" PRId64, r ? ", " : "", stride);
        } else {
            chosen += (size_t)snprintf(selected + chosen, sizeof selected - chosen, "%sr.\"%s\"", r ? ", " : "", name);
        }
        if (used >= sizeof names || chosen >= sizeof selected) die("too many columns in resources");
    }
    PQclear(result);
    snprintf(sql, sizeof sql,
             "INSERT INTO resources (%s) SELECT %s FROM generate_series(1, %d) AS k(n), resources r WHERE r.seq <= %" PRId64
             " ORDER BY k.n, r.seq", names, selected, copies - 1, stride);
    pg_exec(conn, "BEGIN");
    pg_exec(conn, sql);
    pg_exec(conn, "SELECT setval('billing_ids_resource', (SELECT max(seq) FROM resources))");
    char detail[64];
    snprintf(detail, sizeof detail, "{\"copies\":%d}", copies - 1);
    pg_cover_audit_append(scheduler_cover, (int64_t)time(NULL), "bench", "bench.copy", NULL, "resources", detail);
    pg_cover_check(scheduler_cover);
    pg_exec(conn, "COMMIT");
    pg_exec(conn, "VACUUM ANALYZE resources");
}

/* The due resources as they were before any pass (a TEMP table of the raw connection), put back
   before each pass so that every pass does the same work; then a vacuum, so that each pass
   starts from the same table (the passes' events and audit rows stay). The reset is covered
   (a "bench.reset" audit row), as the copies are. */
static void snapshot_due(PGconn *conn) {
    char sql[256];
    snprintf(sql, sizeof sql,
             "CREATE TEMP TABLE bench_due AS SELECT id, status, grace_end, retention_end, due_at FROM resources"
             " WHERE due_at IS NOT NULL AND due_at <= %" PRId64, due_pass_at);
    pg_exec(conn, sql);
}

static void reset_due(PGconn *conn) {
    pg_exec(conn, "BEGIN");
    pg_exec(conn, "UPDATE resources r SET status = d.status, grace_end = d.grace_end, retention_end = d.retention_end, due_at = d.due_at"
                  " FROM bench_due d WHERE r.id = d.id AND r.status <> d.status");
    pg_cover_audit_append(scheduler_cover, (int64_t)time(NULL), "bench", "bench.reset", NULL, "resources", "{}");
    pg_cover_check(scheduler_cover);
    pg_exec(conn, "COMMIT");
    pg_exec(conn, "VACUUM ANALYZE resources");
}

/* Dies unless the pass just made moved every due resource into grace (status, grace and
   retention ends from its expiry, due again at the end of grace), left none due, and wrote one
   resource.expired event each after event `events_before`. */
static void check_due_pass(PGconn *conn, const char *side, int64_t due, int64_t events_before) {
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM resources r JOIN bench_due d ON d.id = r.id WHERE r.status = 'EXPIRED'"
             " AND r.grace_end = r.expire_at + %" PRId64 " AND r.retention_end = r.grace_end + %" PRId64 " AND r.due_at = r.grace_end + 1"
             " AND r.expire_at < %" PRId64, GRACE_SECONDS, RETENTION_SECONDS, due_pass_at);
    int64_t moved = query_int(conn, sql);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM resources WHERE due_at IS NOT NULL AND due_at <= %" PRId64, due_pass_at);
    int64_t left = query_int(conn, sql);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM events WHERE seq > %" PRId64 " AND type = 'resource.expired'", events_before);
    int64_t events = query_int(conn, sql);
    if (moved != due || left != 0 || events != due) {
        die("%s pass: %" PRId64 " of %" PRId64 " due resources in grace, %" PRId64 " still due, %" PRId64 " resource.expired events", side,
            moved, due, left, events);
    }
}

/* The audit detail of the last scheduler pass on `conn` (the raw side's, kept after its passes). */
static char raw_due_detail[512];

static void last_pass_detail(PGconn *conn, char *detail, size_t size) {
    PGresult *result = PQexec(conn, "SELECT detail FROM audit_log WHERE operation = 'scheduler.run' ORDER BY id DESC LIMIT 1");
    if (PQresultStatus(result) != PGRES_TUPLES_OK || PQntuples(result) != 1) die("no scheduler audit row: %s", PQerrorMessage(conn));
    snprintf(detail, size, "%s", PQgetvalue(result, 0, 0));
    PQclear(result);
}

/* `passes` library passes at due_pass_at, each on the reset schema (billing_scheduler_run until
   has_more is false; only the runs are timed), each checked; a negative time when the library
   failed (noted). */
static double library_due_passes(billing_engine *engine, PGconn *conn, int passes, int64_t due) {
    double elapsed = 0;
    for (int p = 0; p < passes; p++) {
        reset_due(conn);
        int64_t events_before = query_int(conn, "SELECT coalesce(max(seq), 0) FROM events"), expired = 0, processed = 0;
        double start = support_seconds();
        for (int more = 1; more;) {
            char *response = NULL;
            if (billing_scheduler_run(engine, "{\"actor\": \"cron\"}", &response) != BILLING_OK) {
                return skipped("scheduler, due", "billing_scheduler_run"), -1;
            }
            processed += bench_json_int(response, "processed");
            expired += bench_json_int(response, "expired");
            more = strstr(response, "\"has_more\":true") != NULL;
            billing_string_free(response);
        }
        elapsed += support_seconds() - start;
        if (expired != due || processed != due) die("library pass: %" PRId64 " expired, %" PRId64 " processed, %" PRId64 " due", expired, processed, due);
        check_due_pass(conn, "library", due, events_before);
    }
    return elapsed;
}

/* The same passes through raw_scheduler_pass on `conn`. */
static double raw_due_passes(PGconn *conn, int passes, int64_t due) {
    double elapsed = 0;
    for (int p = 0; p < passes; p++) {
        reset_due(conn);
        int64_t events_before = query_int(conn, "SELECT coalesce(max(seq), 0) FROM events"), expired = 0;
        double start = support_seconds();
        for (int more = 1; more;) expired += raw_scheduler_pass(conn, due_pass_at, &more);
        elapsed += support_seconds() - start;
        if (expired != due) die("raw pass: %" PRId64 " expired, %" PRId64 " due", expired, due);
        check_due_pass(conn, "raw", due, events_before);
        last_pass_detail(conn, raw_due_detail, sizeof raw_due_detail);
    }
    return elapsed;
}

/* Notes where the raw passes' writes differ from the library's: the audit detail of each
   side's last pass (the library's is the last one: its rounds end the run), and the
   resource.expired data of each resource over all passes. */
static void compare_due_writes(PGconn *conn) {
    char library[512];
    last_pass_detail(conn, library, sizeof library);
    if (strcmp(library, raw_due_detail) != 0) printf("  (note: the audit details differ: library %s, raw %s)\n", library, raw_due_detail);
    if (query_int(conn, "SELECT count(*) FROM (SELECT subject_id FROM events WHERE type = 'resource.expired' GROUP BY subject_id"
                        " HAVING count(DISTINCT data) > 1) AS differing") != 0) {
        printf("  (note: the resource.expired events' data differ between the sides)\n");
    }
}

/* ---- (10) export ------------------------------------------------------------------------------ */

/* A field of /proc/self/status in KiB ("VmRSS", "VmHWM"); -1 when there is none. */
static long status_kib(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t length = strlen(field);
    long value = -1;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, field, length) == 0 && line[length] == ':') value = strtol(line + length + 1, NULL, 10);
    }
    if (f) fclose(f);
    return value;
}

/* The export's fifteen cells in SQL (bench_export.c's baseline query in PostgreSQL's words):
   business time (+08:00, the default business_utc_offset), amounts in yuan with two decimals. */
#define PG_TIME(column) "to_char(to_timestamp(" column " + 28800) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
#define PG_YUAN(amount) \
    "CASE WHEN (" amount ") < 0 THEN '-' ELSE '' END || abs(" amount ") / 100 || '.' || lpad((abs(" amount ") % 100)::text, 2, '0')"
#define PG_DISCOUNTS "commercial_discount + promotion_discount + discount_coupon"
static const char *copy_sql =
    "COPY (SELECT id AS order_id, combined_id, type, status, product_type, billing_mode, " PG_TIME("created_at") " AS created, "
    PG_TIME("paid_at") " AS paid, " PG_YUAN("list_price") " AS list_price, " PG_YUAN(PG_DISCOUNTS) " AS discount, "
    PG_YUAN("list_price - (" PG_DISCOUNTS ")") " AS amount_due, " PG_YUAN("voucher") " AS voucher, "
    PG_YUAN("cash_coupon + stored_value_card + cash + credit") " AS paid_amount, " PG_YUAN("cash") " AS cash, "
    PG_YUAN("credit") " AS credit FROM orders WHERE account_id = '" ACCOUNT "' AND is_combined = 0"
    " ORDER BY created_at DESC, seq DESC) TO STDOUT WITH (FORMAT csv, HEADER)";

/* Sets export_directory (the scratch directory) and export_rows_per_step 1000 on a schema; 0
   when the library failed (noted). */
static int configure_export(const char *url) {
    billing_engine *engine = try_open(url, NULL, "export");
    if (!engine) return 0;
    char request[PATH_MAX + 160], *response = NULL;
    snprintf(request, sizeof request,
             "{\"actor\": \"bench\", \"changes\": {\"export_directory\": \"%s\", \"export_rows_per_step\": 1000}}", bench_directory);
    int configured = billing_config_update(engine, request, &response) == BILLING_OK;
    if (configured) billing_string_free(response);
    else skipped("export", "billing_config_update");
    billing_engine_close(engine);
    return configured;
}

/* In a new process (--export URL): the library's ORDERS export of ACCOUNT from the request to
   READY. Prints "seconds rows bytes rss_before_kib hwm_kib". */
static int export_child(const char *url) {
    billing_engine *engine = NULL;
    if (billing_engine_open(url, NULL, &engine) != BILLING_OK) die_billing("billing_engine_open");
    char request[256], id[64], *response = NULL;
    long before = status_kib("VmRSS");
    double start = support_seconds();
    if (billing_export_request(engine, "{\"actor\": \"bench\", \"account_id\": \"" ACCOUNT "\", \"kind\": \"ORDERS\", \"language\": \"en\"}",
                               &response) != BILLING_OK) {
        die_billing("billing_export_request");
    }
    bench_json_string(response, "export_id", id, sizeof id);
    billing_string_free(response);
    snprintf(request, sizeof request, "{\"actor\": \"bench\", \"account_id\": \"" ACCOUNT "\", \"export_id\": \"%s\"}", id);
    int64_t rows = 0, bytes = 0;
    for (;;) {
        if (billing_export_step(engine, request, &response) != BILLING_OK) die_billing("billing_export_step");
        int ready = strstr(response, "\"status\":\"READY\"") != NULL;
        if (ready) {
            rows = bench_json_int(response, "rows_written");
            bytes = bench_json_int(response, "bytes");
        } else if (!strstr(response, "\"status\":\"GENERATING\"")) {
            die("export failed: %.300s", response);
        }
        billing_string_free(response);
        if (ready) break;
    }
    double seconds = support_seconds() - start;
    printf("export=%.6f %" PRId64 " %" PRId64 " %ld %ld\n", seconds, rows, bytes, before, status_kib("VmHWM"));
    billing_engine_close(engine);
    return 0;
}

/* In a new process (--copy URL FILE): COPY … TO STDOUT through libpq into FILE, in the
   library's read transaction. Prints "seconds rows bytes rss_before_kib hwm_kib". */
static int copy_child(const char *url, const char *file) {
    PGconn *conn = pg_connect(url);
    pg_session(conn);
    long before = status_kib("VmRSS");
    double start = support_seconds();
    FILE *out = fopen(file, "w");
    if (!out) die("cannot write %s", file);
    pg_exec(conn, "BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY");
    PGresult *result = PQexec(conn, copy_sql);
    if (PQresultStatus(result) != PGRES_COPY_OUT) die("COPY: %s", PQerrorMessage(conn));
    PQclear(result);
    char *buffer = NULL;
    int length;
    int64_t rows = -1, bytes = 0; /* the header is no row */
    while ((length = PQgetCopyData(conn, &buffer, 0)) > 0) {
        if (fwrite(buffer, 1, (size_t)length, out) != (size_t)length) die("cannot write %s", file);
        bytes += length;
        rows++;
        PQfreemem(buffer);
    }
    if (length == -2) die("COPY: %s", PQerrorMessage(conn));
    result = PQgetResult(conn);
    if (PQresultStatus(result) != PGRES_COMMAND_OK) die("COPY: %s", PQerrorMessage(conn));
    PQclear(result);
    pg_exec(conn, "COMMIT");
    if (fclose(out) != 0) die("cannot write %s", file);
    double seconds = support_seconds() - start;
    printf("export=%.6f %" PRId64 " %" PRId64 " %ld %ld\n", seconds, rows, bytes, before, status_kib("VmHWM"));
    PQfinish(conn);
    return 0;
}

struct export_result {
    double seconds;
    int64_t rows, bytes;
    long before, peak; /* KiB */
};

/* Runs this program again with `mode` (--export or --copy) and reads its line. */
static int export_process(const char *mode, const char *url, const char *file, struct export_result *r) {
    int channel[2];
    if (pipe(channel) != 0) die("pipe failed");
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) die("fork failed");
    if (child == 0) {
        close(channel[0]);
        if (dup2(channel[1], STDOUT_FILENO) < 0) _exit(2);
        execl("/proc/self/exe", BENCH_NAME, mode, url, file, (char *)NULL);
        _exit(127);
    }
    close(channel[1]);
    char text[512] = "";
    size_t used = 0;
    ssize_t got;
    while (used + 1 < sizeof text && (got = read(channel[0], text + used, sizeof text - 1 - used)) > 0) used += (size_t)got;
    text[used] = '\0';
    close(channel[0]);
    int status = 0;
    waitpid(child, &status, 0);
    const char *line = strstr(text, "export=");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !line ||
        sscanf(line, "export=%lf %" SCNd64 " %" SCNd64 " %ld %ld", &r->seconds, &r->rows, &r->bytes, &r->before, &r->peak) != 5) {
        printf("  (export %s failed: %s)\n", mode, text);
        return 0;
    }
    return 1;
}

/* ---- (12) a mixed read-heavy load from several processes ------------------------------------ */

enum { MIX_LIST, MIX_DETAIL, MIX_QUOTE, MIX_BUY, MIX_PAY /* the baseline's buy: MIX_BUY creates, MIX_PAY pays */ };

/* bench_orders.c's (d): the kind of a worker's i-th request; in every 20, 10 first pages of the
   order list, 6 order details, 3 quotes of one item, 1 buy (create + pay). */
static int mix_kind(int i) {
    int slot = i % 20;
    return slot < 10 ? MIX_LIST : slot < 16 ? MIX_DETAIL : slot < 19 ? MIX_QUOTE : MIX_BUY;
}

static int mix_buys(int ops) {
    int buys = 0;
    for (int i = 0; i < ops; i++) buys += mix_kind(i) == MIX_BUY;
    return buys;
}

/* A small per-worker generator for the order an order detail reads (no shared state). */
static uint64_t mix_next(uint64_t *state) {
    *state = *state * 6364136223846793005u + 1442695040888963407u;
    return *state >> 33;
}

/* What a worker reports: conflicts its side started over (the library: BILLING_E_BUSY
   outcomes after its own retries, each request then made again; the baseline: transactions
   PostgreSQL failed with 40001/40P01, each run again). */
struct mix_outcome {
    int64_t conflicts;
};

/* Exits the worker with its message: a request the scenario cannot count as done. */
static void mix_fail(int worker, const char *what, const char *detail) {
    fprintf(stderr, "bench_pg: mixed worker %d: %s: %.300s\n", worker, what, detail);
    _exit(3);
}

/* A library worker: its own engine (opened before the start, as a web worker opens once);
   `ops` requests of the mix on ACCOUNT, the details of orders CS…1 to CS…orders. */
static void library_mix_worker(billing_engine *engine, int worker, int ops, int orders, uint64_t seed, struct mix_outcome *outcome) {
    char request[256], create[512], id[32];
    const char *list = "{\"account_id\": \"" ACCOUNT "\", \"limit\": 20}";
    const char *quote = "{\"account_id\": \"" ACCOUNT "\", \"items\": [{\"product_id\": \"ecs.c1\","
                        " \"period\": {\"unit\": \"MONTH\", \"count\": 1}}]}";
    create_request(create, sizeof create, ACCOUNT);
    uint64_t state = seed;
    for (int i = 0; i < ops; i++) {
        char *response = NULL;
        const char *call = NULL;
        int status;
        switch (mix_kind(i)) {
        case MIX_LIST:
            call = "billing_orders_list";
            status = billing_orders_list(engine, list, &response);
            if (status == BILLING_OK && !strstr(response, "\"order_id\":\"CS")) mix_fail(worker, "an empty page", response);
            break;
        case MIX_DETAIL:
            call = "billing_order_get";
            snprintf(id, sizeof id, "CS%012" PRIu64, 1 + mix_next(&state) % (uint64_t)orders);
            snprintf(request, sizeof request, "{\"account_id\": \"" ACCOUNT "\", \"order_id\": \"%s\"}", id);
            status = billing_order_get(engine, request, &response);
            if (status == BILLING_OK && !strstr(response, id)) mix_fail(worker, "a detail without its order", response);
            break;
        case MIX_QUOTE:
            call = "billing_order_quote";
            status = billing_order_quote(engine, quote, &response);
            if (status == BILLING_OK && !strstr(response, "\"amounts\"")) mix_fail(worker, "a quote without amounts", response);
            break;
        default:
            status = library_buy(engine, create, ACCOUNT, &call);
        }
        if (response) billing_string_free(response);
        if (status == BILLING_E_BUSY) {
            outcome->conflicts++;
            i--; /* the same request again */
        } else if (status != BILLING_OK) {
            char detail[256];
            snprintf(detail, sizeof detail, "%d %s: %s", status, billing_last_error_reason(), billing_last_error_message());
            mix_fail(worker, call, detail);
        }
    }
}

static int mix_orders; /* the orders a detail picks from */

/* The baseline's requests, each one transaction as the library's: a first page (the
   configuration revision and OrderStore.pageRows' SELECT, (4)'s baseline); an order detail
   (the revision and Engine.orderDetail's reads of an unpaid one-item order); a quote
   (OrderService.quote: the revision, the account, the product twice (modes, then pricing),
   the discount); a buy ((3)'s raw_create, then raw_pay, two transactions as the library's).
   Reads in SERIALIZABLE, READ ONLY. */
static struct order mix_order; /* the buy's, from its create to its pay */

static void raw_mix_request(int kind, uint64_t pick, int worker) {
    struct statement *page = &list_statements[L_FIRST];
    struct order order;
    switch (kind) {
    case MIX_LIST:
        pg_exec(raw, "BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY");
        run(raw, &list_statements[L_REVISION]);
        bind_text(page, 1, ACCOUNT);
        bind_int(page, 2, 21);
        run(raw, page);
        if (last_rows < 1) mix_fail(worker, "an empty page", "the baseline's first page holds no row");
        pg_exec(raw, "COMMIT");
        break;
    case MIX_DETAIL:
        order.items = 1;
        snprintf(order.root, sizeof order.root, "CS%012" PRIu64, 1 + pick % (uint64_t)mix_orders);
        pg_exec(raw, "BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY");
        run(raw, prepared(REVISION));
        read_detail(&order, 0);
        if (order_rows != 1) mix_fail(worker, "a detail without its order", order.root);
        pg_exec(raw, "COMMIT");
        break;
    case MIX_QUOTE:
        pg_exec(raw, "BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY");
        run(raw, prepared(REVISION));
        select_by_id(ACCOUNT_SELECT, ACCOUNT);
        if (last_rows != 1) mix_fail(worker, "a quote without its account", ACCOUNT);
        select_by_id(PRODUCT, product_id);
        select_by_id(PRODUCT, product_id);
        bind_text(prepared(DISCOUNT), 1, ACCOUNT);
        bind_text(prepared(DISCOUNT), 2, product_type);
        run(raw, prepared(DISCOUNT));
        pg_exec(raw, "COMMIT");
        break;
    case MIX_BUY:
        raw_create(&mix_order, 1);
        break;
    default:
        raw_pay(&mix_order);
    }
}

static int64_t raw_conflicts;
static int raw_attempt; /* static: set after the setjmp below */

/* One transaction, run again from its start after a serialization failure or deadlock
   (ROLLBACK first), after the pause PostgresConnection.retrying makes: random, up to
   2^attempt ms (at most 256). Unlike the library's, never given up. */
static void raw_mix_retrying(int kind, uint64_t pick, int worker) {
    jmp_buf point;
    raw_attempt = 1;
    if (setjmp(point)) {
        retry_point = NULL;
        if (PQtransactionStatus(raw) != PQTRANS_IDLE) pg_exec(raw, "ROLLBACK"); /* a failed COMMIT has ended it */
        raw_conflicts++;
        long ceiling = 1L << (raw_attempt < 8 ? raw_attempt : 8);
        long pause = (long)((uint64_t)rand() % (uint64_t)(ceiling + 1));
        struct timespec wait = {pause / 1000, (pause % 1000) * 1000000L};
        nanosleep(&wait, NULL);
        raw_attempt++;
    }
    retry_point = &point;
    raw_mix_request(kind, pick, worker);
    retry_point = NULL;
}

static void raw_mix_worker(int worker, int ops, uint64_t seed, struct mix_outcome *outcome) {
    uint64_t state = seed;
    raw_conflicts = 0;
    srand((unsigned)getpid());
    for (int i = 0; i < ops; i++) {
        int kind = mix_kind(i);
        raw_mix_retrying(kind, kind == MIX_DETAIL ? mix_next(&state) : 0, worker);
        if (kind == MIX_BUY) raw_mix_retrying(MIX_PAY, 0, worker);
    }
    outcome->conflicts = raw_conflicts;
}

/* Forks `processes` workers on the schema at `url`, each opening its engine (library) or its
   connection with its statements prepared (baseline) before a common start, running `ops`
   requests and reporting its conflicts; returns the wall time from the start to the last
   exit, and adds the conflicts to *conflicts. Dies when a worker failed. */
static double mixed_round(const char *url, int library, int processes, int ops, int round, int64_t *conflicts) {
    int ready[2], go[2], out[2];
    if (pipe(ready) != 0 || pipe(go) != 0 || pipe(out) != 0) die("pipe failed");
    fflush(stdout);
    fflush(stderr);
    pid_t children[64];
    for (int p = 0; p < processes; p++) {
        children[p] = fork();
        if (children[p] < 0) die("fork failed");
        if (children[p] == 0) {
            close(ready[0]);
            close(go[1]);
            close(out[0]);
            char byte = 1;
            billing_engine *engine = NULL;
            struct mix_outcome outcome = {0};
            uint64_t seed = (uint64_t)round * 1000 + (uint64_t)p + 1; /* library round k and raw round k read alike */
            if (library) {
                if (billing_engine_open(url, NULL, &engine) != BILLING_OK) mix_fail(p, "billing_engine_open", billing_last_error_message());
            } else {
                raw = pg_connect(url);
                pg_session(raw);
                prepare_orders();
                prepare_list();
                raw_cover = pg_cover_install(raw);
            }
            if (write(ready[1], &byte, 1) != 1 || read(go[0], &byte, 1) != 0) _exit(2);
            if (library) {
                library_mix_worker(engine, p, ops, mix_orders, seed, &outcome);
                billing_engine_close(engine);
            } else {
                raw_mix_worker(p, ops, seed, &outcome);
                raw_finish();
            }
            if (write(out[1], &outcome, sizeof outcome) != (ssize_t)sizeof outcome) _exit(2);
            _exit(0);
        }
    }
    close(ready[1]);
    close(go[0]);
    close(out[1]);
    for (int p = 0; p < processes; p++) {
        char byte;
        if (read(ready[0], &byte, 1) != 1) die("a mixed %s worker died before the start", library ? "library" : "raw");
    }
    double start = support_seconds();
    close(go[1]); /* end of file: every worker starts */
    struct mix_outcome one;
    while (read(out[0], &one, sizeof one) == (ssize_t)sizeof one) *conflicts += one.conflicts;
    int failed = 0;
    for (int p = 0; p < processes; p++) {
        int status = 0;
        if (waitpid(children[p], &status, 0) != children[p] || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed++;
    }
    double elapsed = support_seconds() - start;
    close(ready[0]);
    close(out[0]);
    if (failed) die("mixed load: %d of %d %s workers failed (see their messages above)", failed, processes, library ? "library" : "raw");
    return elapsed;
}

/* The account's paid one-item orders (a round's buys leave theirs PROCESSING). */
static int64_t paid_orders(PGconn *conn) {
    return query_int(conn, "SELECT count(*) FROM orders WHERE account_id = '" ACCOUNT "' AND is_combined = 0 AND status = 'PROCESSING'");
}

/* A round, then the check that its buys were all paid. */
static double mixed_checked(const char *url, PGconn *conn, int library, int processes, int ops, int round, int64_t *conflicts) {
    int64_t before = paid_orders(conn);
    double elapsed = mixed_round(url, library, processes, ops, round, conflicts);
    int64_t paid = paid_orders(conn) - before, expected = (int64_t)processes * mix_buys(ops);
    if (paid != expected) die("mixed load: the %s round paid %" PRId64 " orders, not %" PRId64, library ? "library" : "raw", paid, expected);
    return elapsed;
}

/* ---- Verify ------------------------------------------------------------------------------ */

/* billing_verify of a schema, which must pass: a baseline that skipped a statement of row
   coverage or of the audit chain (bench_pg_coverage.h) would leave rows it does not cover. */
static double verify_schema(const char *url, const char *schema) {
    char *response = NULL;
    double start = support_seconds();
    billing_engine *engine = try_open(url, NULL, "verify");
    if (!engine) die("cannot open %s to verify it", schema);
    if (billing_verify(engine, NULL, &response) != BILLING_OK) die_billing("billing_verify");
    if (!strstr(response, "\"ok\":true")) die("billing_verify refuses schema %s: %.800s", schema, response);
    billing_string_free(response);
    billing_engine_close(engine);
    return support_seconds() - start;
}

/* ---- Report ------------------------------------------------------------------------------ */

static const struct bench_column columns[] = {
    {"scenario", 30, BENCH_TEXT, 0},  {"N", 6, BENCH_COUNT, 0},         {"library ops/s", 13, BENCH_REAL, 0},
    {"library us/op", 13, BENCH_REAL, 1}, {"raw ops/s", 9, BENCH_REAL, 0}, {"raw us/op", 9, BENCH_REAL, 1},
    {"library/raw", 21, BENCH_RATIO, 0},
};

static void compare(const char *label, const char *summary, int n, double library_seconds, double raw_seconds) {
    if (library_seconds < 0 || raw_seconds < 0) {
        printf("| %-30s | skipped (see the note above)\n", label);
        return;
    }
    bench_compare_row(columns, label, n, library_seconds, raw_seconds, 1e6);
    bench_summary_times(summary, n, library_seconds, raw_seconds);
}

static const struct bench_column throughput_columns[] = {
    {"processes", 9, BENCH_COUNT, 0},          {"PostgreSQL buys/s", 17, BENCH_REAL, 0}, {"PG busy", 7, BENCH_COUNT, 0},
    {"SQLite buys/s", 13, BENCH_REAL, 0}, {"SQLite busy", 11, BENCH_COUNT, 0},
};

static int all_digits(const char *text) {
    if (!*text) return 0;
    for (; *text; text++) {
        if (!isdigit((unsigned char)*text)) return 0;
    }
    return 1;
}

int main(int argc, char **argv) {
    /* The fresh processes of (7) and (10). */
    if (argc == 4 && strcmp(argv[1], "--first-open") == 0) {
        base_url = argv[3];
        double seconds = strcmp(argv[2], "library") == 0 ? library_opens(argv[3], 1) : raw_opens(argv[3], 1);
        printf("seconds=%.9f\n", seconds);
        return seconds < 0;
    }
    if (argc == 4 && strcmp(argv[1], "--export") == 0) return export_child(argv[2]);
    if (argc == 4 && strcmp(argv[1], "--copy") == 0) return copy_child(argv[2], argv[3]);

    int first = 1;
    base_url = getenv("BILLING_BENCH_POSTGRES_URL");
    if (argc > 1 && !all_digits(argv[1])) {
        base_url = argv[1];
        first = 2;
    }
    if (!base_url || !*base_url) die("give the PostgreSQL URL as the first argument or in BILLING_BENCH_POSTGRES_URL");
    argv += first - 1;
    argc -= first - 1;
    int writes = bench_count(argc, argv, 1, 500), opens = bench_count(argc, argv, 2, 100);
    int buys = bench_count(argc, argv, 3, 200), seconds = bench_count(argc, argv, 4, 5);
    int list_orders = bench_count(argc, argv, 5, 2200), list_reads = bench_count(argc, argv, 6, 1000);
    /* Four rounds of whole calls: a multiple of 2 × USAGE_BATCH. */
    int64_t usage_records = bench_multiple(argc, argv, 7, 8000, 2 * USAGE_BATCH, 1000000);
    int logins = bench_count(argc, argv, 8, 40), scheduler_runs = bench_count(argc, argv, 9, 4000);
    long due_count = bench_multiple(argc, argv, 10, 300, DUE_PER_HUNDRED, 100000);
    int due_passes = bench_count(argc, argv, 11, 8);
    int mixed_ops = bench_count(argc, argv, 12, 1000), processes = bench_count(argc, argv, 13, 4);
    char due_note[256] = "";
    if (list_orders < 2100) die("LIST_ORDERS must be at least 2100 (a deep page after 100 pages of 20)");
    if (processes > 64) die("PROCESSES must be at most 64");
    if (sodium_init() < 0) die("sodium_init failed");

    static const char *schemas[] = {"bench_pg_lib_write", "bench_pg_raw_write", "bench_pg_lib_buy", "bench_pg_raw_buy", "bench_pg_list",
                                   "bench_pg_lib_usage", "bench_pg_raw_usage", "bench_pg_tp", "bench_pg_login", "bench_pg_scheduler",
                                   "bench_pg_due", "bench_pg_lib_combined", "bench_pg_raw_combined"};
    enum { LIB_WRITE, RAW_WRITE, LIB_BUY, RAW_BUY, LIST, LIB_USAGE, RAW_USAGE, THROUGHPUT, LOGIN, SCHEDULER, DUE, LIB_COMBINED,
           RAW_COMBINED, SCHEMAS };
    due_bought_at = support_at(2024, 1, 1, 10, 0, 0);
    due_pass_at = support_at(2024, 2, 2, 3, 0, 0);
    char urls[SCHEMAS][1024];
    for (int i = 0; i < SCHEMAS; i++) {
        drop_schema(schemas[i]);
        schema_url(schemas[i], urls[i], sizeof urls[i]);
    }
    bench_make_directory();
    load_document();

    PGconn *probe = pg_connect(base_url);
    printf("libbilling %s, PostgreSQL server %d, libpq %d, SQLite %s\n", billing_version(), PQserverVersion(probe), PQlibVersion(),
           sqlite3_libversion());
    PQfinish(probe);
    printf("buy = billing_order_create + billing_order_pay (one item, one month, paid from cash); schemas bench_pg_*\n\n");
    bench_table_header(columns, sizeof columns / sizeof *columns);

    /* Each comparison runs in four rounds, library, raw, raw, library (half the count each),
       so that a change of the machine's load during the run weighs on both sides alike. */
    int half_writes = (writes + 1) / 2, half_opens = (opens + 1) / 2, half_buys = (buys + 1) / 2;

    /* (1) The baseline's schema is the library's: open and close an engine on it first. */
    double library_seconds = -1, raw_seconds = -1;
    billing_engine *engine = try_open(urls[LIB_WRITE], NULL, "write"), *baseline = try_open(urls[RAW_WRITE], NULL, "write (baseline schema)");
    if (baseline) billing_engine_close(baseline);
    if (engine && baseline) {
        PGconn *conn = raw_write_connect(urls[RAW_WRITE]);
        double a = library_writes(engine, 0, half_writes), b = raw_writes(conn, 0, half_writes);
        double c = raw_writes(conn, half_writes, half_writes), d = a < 0 ? -1 : library_writes(engine, half_writes, half_writes);
        PQfinish(conn);
        if (a >= 0 && d >= 0) library_seconds = a + d;
        raw_seconds = b + c;
    }
    if (engine) billing_engine_close(engine);
    compare("write (config update)", "postgresql: one idempotent write with event and audit", 2 * half_writes, library_seconds,
            raw_seconds);

    /* (2) Both sides open the library's write schema, an existing migrated database by now. */
    if (library_seconds >= 0) {
        double a = library_opens(urls[LIB_WRITE], half_opens), b = raw_opens(urls[LIB_WRITE], half_opens);
        double c = raw_opens(urls[LIB_WRITE], half_opens), d = a < 0 ? -1 : library_opens(urls[LIB_WRITE], half_opens);
        library_seconds = a < 0 || d < 0 ? -1 : a + d;
        raw_seconds = b + c;
    }
    compare("open+close, existing schema", "postgresql: open + close of an existing database", 2 * half_opens, library_seconds,
            raw_seconds);

    /* (7) The same, each the first of a new process (no per-process cache helps). */
    int half_firsts = (opens / 10 + 1) / 2 > 1 ? (opens / 10 + 1) / 2 : 2;
    if (library_seconds >= 0) {
        double a = first_opens(urls[LIB_WRITE], half_firsts, 1), b = first_opens(urls[LIB_WRITE], half_firsts, 0);
        double c = first_opens(urls[LIB_WRITE], half_firsts, 0), d = a < 0 ? -1 : first_opens(urls[LIB_WRITE], half_firsts, 1);
        library_seconds = a < 0 || d < 0 ? -1 : a + d;
        raw_seconds = b < 0 || c < 0 ? -1 : b + c;
    }
    compare("open+close, first in a process", "postgresql: open + close, the first of a new process", 2 * half_firsts,
            library_seconds, raw_seconds);

    /* (3) */
    library_seconds = raw_seconds = -1;
    engine = try_open(urls[LIB_BUY], NULL, "buy");
    if (engine && make_data(engine, 1, "buy") && raw_buy_connect(urls[RAW_BUY], 1)) {
        double a = library_buys(engine, half_buys, 1), b = raw_buys(half_buys, 1);
        double c = raw_buys(half_buys, 1), d = a < 0 ? -1 : library_buys(engine, half_buys, 1);
        raw_finish();
        raw_buys_check(urls[RAW_BUY], 2 * half_buys);
        if (a >= 0 && d >= 0) library_seconds = a + d;
        raw_seconds = b + c;
    }
    if (engine) billing_engine_close(engine);
    compare("buy 1 item (create + pay)", "postgresql: create + pay, one item", 2 * half_buys, library_seconds, raw_seconds);

    /* (3b) The same with bench_orders.c's three products: a combined order of three sub-orders.
       Each side's last order and balance are read back through the library (a death if wrong). */
    library_seconds = raw_seconds = -1;
    engine = try_open(urls[LIB_COMBINED], NULL, "buy combined");
    if (engine && make_data(engine, 1, "buy combined") && make_more_products(engine, "buy combined") &&
        raw_buy_connect(urls[RAW_COMBINED], ITEMS_MAX)) {
        double a = library_buys(engine, half_buys, ITEMS_MAX), b = raw_buys(half_buys, ITEMS_MAX);
        double c = raw_buys(half_buys, ITEMS_MAX), d = a < 0 ? -1 : library_buys(engine, half_buys, ITEMS_MAX);
        raw_finish();
        combined_check(urls[RAW_COMBINED], "baseline", last_raw.root, 2 * half_buys, ITEMS_MAX);
        if (a >= 0 && d >= 0) {
            combined_check(urls[LIB_COMBINED], "library", last_library_order, 2 * half_buys, ITEMS_MAX);
            library_seconds = a + d;
        }
        raw_seconds = b + c;
    }
    if (engine) billing_engine_close(engine);
    compare("buy 3 items combined", "postgresql: create + pay, combined 3 items", 2 * half_buys, library_seconds, raw_seconds);

    /* (4) N orders through the library on one schema; both sides read that schema. */
    double build = -1;
    char cursor[64] = "", count[32];
    bench_thousands(list_orders, count, sizeof count);
    engine = try_open(urls[LIST], NULL, "order list");
    if (engine && make_data(engine, 1, "order list") && (build = build_list(engine, list_orders)) >= 0 &&
        deep_cursor(engine, 100, cursor, sizeof cursor)) {
        int half_reads = (list_reads + 1) / 2;
        char label[64], summary[96];
        raw = pg_connect(urls[LIST]);
        pg_session(raw);
        prepare_list();
        raw_seconds = list_rounds(engine, NULL, half_reads, &library_seconds);
        snprintf(label, sizeof label, "order list, first page, N=%d", list_orders);
        snprintf(summary, sizeof summary, "postgresql: order list, first page (%s orders)", count);
        compare(label, summary, 2 * half_reads, library_seconds, raw_seconds);
        raw_seconds = list_rounds(engine, cursor, half_reads, &library_seconds);
        snprintf(label, sizeof label, "order list, page 101, N=%d", list_orders);
        snprintf(summary, sizeof summary, "postgresql: order list, page 101 (%s orders)", count);
        compare(label, summary, 2 * half_reads, library_seconds, raw_seconds);
        raw_finish();
    } else {
        build = -1;
        compare("order list", "postgresql: order list", 0, -1, -1);
    }
    if (engine) billing_engine_close(engine);

    /* (10) An ORDERS export of the order list's account, each side in a new process. */
    struct export_result exported[4], small = {0, 0, 0, 0, 0};
    int export_ok = 0, small_ok = 0;
    library_seconds = raw_seconds = -1;
    if (build >= 0) {
        char csv[PATH_MAX];
        int configured = configure_export(urls[LIST]);
        snprintf(csv, sizeof csv, "%s/copy.csv", bench_directory);
        export_ok = configured && export_process("--export", urls[LIST], "-", &exported[0]) &&
                    export_process("--copy", urls[LIST], csv, &exported[1]) && export_process("--copy", urls[LIST], csv, &exported[2]) &&
                    export_process("--export", urls[LIST], "-", &exported[3]);
        if (export_ok && (exported[0].rows != exported[1].rows || exported[0].rows != list_orders)) {
            printf("  (export: the library wrote %" PRId64 " rows, COPY %" PRId64 ", the account has %d orders)\n", exported[0].rows,
                   exported[1].rows, list_orders);
            export_ok = 0;
        }
        /* The same export of (3)'s account (2 × half BUYS orders): its peak beside the big one's
           shows what grows with the rows. */
        small_ok = export_ok && configure_export(urls[LIB_BUY]) && export_process("--export", urls[LIB_BUY], "-", &small);
        if (export_ok) {
            library_seconds = exported[0].seconds + exported[3].seconds;
            raw_seconds = exported[1].seconds + exported[2].seconds;
        }
    }
    {
        char label[64], summary[128];
        snprintf(label, sizeof label, "export ORDERS, per row, N=%d", list_orders);
        snprintf(summary, sizeof summary, "postgresql: ORDERS export, per row (%s orders; baseline libpq COPY)", count);
        compare(label, summary, 2 * list_orders, library_seconds, raw_seconds);
    }

    /* (12) bench_orders.c's mixed load on the order list's schema (after (10): its buys add
       orders the export would count), PROCESSES processes a side in four rounds (library,
       raw, raw, library) of half MIXED_OPS requests each. */
    library_seconds = raw_seconds = -1;
    int half_mixed = (mixed_ops + 1) / 2;
    int64_t mixed_conflicts[2] = {0, 0}; /* library, raw */
    if (build >= 0) {
        PGconn *conn = pg_connect(urls[LIST]);
        char last[32];
        mix_orders = list_orders;
        snprintf(last, sizeof last, "CS%012d", list_orders);
        PGresult *found = PQexecParams(conn, "SELECT count(*) FROM orders WHERE id IN ('CS000000000001', $1) AND account_id = $2", 2, NULL,
                                       (const char *[]){last, ACCOUNT}, NULL, NULL, 0);
        if (PQresultStatus(found) != PGRES_TUPLES_OK || strcmp(PQgetvalue(found, 0, 0), "2") != 0) {
            die("mixed load: the list schema lacks orders CS000000000001 to %s", last);
        }
        PQclear(found);
        double a = mixed_checked(urls[LIST], conn, 1, processes, half_mixed, 0, &mixed_conflicts[0]);
        double b = mixed_checked(urls[LIST], conn, 0, processes, half_mixed, 0, &mixed_conflicts[1]);
        double c = mixed_checked(urls[LIST], conn, 0, processes, half_mixed, 1, &mixed_conflicts[1]);
        double d = mixed_checked(urls[LIST], conn, 1, processes, half_mixed, 1, &mixed_conflicts[0]);
        PQfinish(conn);
        library_seconds = a + d;
        raw_seconds = b + c;
    }
    {
        char label[64], summary[96];
        snprintf(label, sizeof label, "mixed, %d processes", processes);
        snprintf(summary, sizeof summary, "postgresql: mixed read-heavy load, %d processes", processes);
        compare(label, summary, 2 * processes * half_mixed, library_seconds, raw_seconds);
    }

    /* (5) Each side on its own schema, its account and resources made by the library with a
       manual clock (the records' hours are in 2024). */
    library_seconds = raw_seconds = -1;
    {
        char usage_options[96], label[64], summary[96], per_call[32];
        int64_t half_usage = usage_records / 2, now = usage_hour(usage_records) + 3600;
        snprintf(usage_options, sizeof usage_options, "{\"clock\": \"manual\", \"now\": %" PRId64 "}", USAGE_START);
        engine = try_open(urls[LIB_USAGE], usage_options, "usage");
        billing_engine *maker = try_open(urls[RAW_USAGE], usage_options, "usage (baseline schema)");
        int ready = engine && maker && make_data(engine, 1, "usage") && make_usage(engine, usage_records, library_resources) &&
                    make_data(maker, 1, "usage (baseline schema)") && make_usage(maker, usage_records, raw_resources);
        if (maker) billing_engine_close(maker);
        if (ready) {
            raw = pg_connect(urls[RAW_USAGE]);
            pg_session(raw);
            prepare_usage();
            double a = library_usage(engine, 0, half_usage), b = raw_usage(0, half_usage, now);
            double c = raw_usage(half_usage, half_usage, now), d = a < 0 ? -1 : library_usage(engine, half_usage, half_usage);
            raw_finish();
            raw_usage_check(urls[RAW_USAGE], usage_records);
            if (a >= 0 && d >= 0) library_seconds = a + d;
            raw_seconds = b + c;
        }
        if (engine) billing_engine_close(engine);
        snprintf(label, sizeof label, "usage rating, 1,000 a call");
        snprintf(summary, sizeof summary, "postgresql: usage rating, %s records a call",
                 bench_thousands(USAGE_BATCH, per_call, sizeof per_call));
        compare(label, summary, (int)usage_records, library_seconds, raw_seconds);
    }

    /* (8) Logins of one platform account, both sides on one schema, the cheapest hash costs. */
    library_seconds = raw_seconds = -1;
    int half_logins = (logins + 1) / 2;
    engine = try_open(urls[LOGIN], NULL, "login");
    if (engine && make_data(engine, 1, "login") && make_login(engine) && library_logins(engine, 1) >= 0) {
        PGconn *conn = pg_connect(urls[LOGIN]);
        pg_session(conn);
        for (int i = 0; i < LG_STATEMENTS; i++) prepare(conn, &login_statements[i], i, login_sql[i]);
        login_cover = pg_cover_install(conn);
        double a = library_logins(engine, half_logins), b = raw_logins(conn, half_logins);
        double c = raw_logins(conn, half_logins), d = a < 0 ? -1 : library_logins(engine, half_logins);
        PQfinish(conn);
        if (a >= 0 && d >= 0) library_seconds = a + d;
        raw_seconds = b + c;
    }
    if (engine) billing_engine_close(engine);
    compare("login (ops 2, 19 MiB)", "postgresql: login, cheap hash parameters", 2 * half_logins, library_seconds, raw_seconds);

    /* (9) Scheduler passes when nothing is due, on a schema holding 20 provisioned orders. */
    library_seconds = raw_seconds = -1;
    int half_runs = (scheduler_runs + 1) / 2;
    engine = try_open(urls[SCHEDULER], NULL, "scheduler");
    if (engine && make_data(engine, 1, "scheduler") && library_buys(engine, 20, 1) >= 0 && library_scheduler_runs(engine, 2) >= 0) {
        PGconn *conn = prepare_scheduler(urls[SCHEDULER]);
        double a = library_scheduler_runs(engine, half_runs), b = raw_scheduler_runs(conn, half_runs);
        double c = raw_scheduler_runs(conn, half_runs), d = a < 0 ? -1 : library_scheduler_runs(engine, half_runs);
        PQfinish(conn);
        if (a >= 0 && d >= 0) library_seconds = a + d;
        raw_seconds = b + c;
    }
    if (engine) billing_engine_close(engine);
    compare("scheduler pass, nothing due", "postgresql: scheduler pass, nothing due", 2 * half_runs, library_seconds, raw_seconds);

    /* (11) Scheduler passes that expire due_count resources of ten times as many, both sides on
       one schema put back before each pass, the library's clock set to the pass's instant. */
    library_seconds = raw_seconds = -1;
    {
        char options[96], label[96], summary[192], of[32], count_text[32];
        int blocks = (due_passes + 1) / 2;
        double fastest[2] = {-1, -1}; /* a pass, library and raw */
        snprintf(options, sizeof options, "{\"clock\": \"manual\", \"now\": %" PRId64 "}", due_bought_at);
        engine = try_open(urls[DUE], options, "scheduler, due");
        if (engine && make_data(engine, 1, "scheduler, due") && make_due(engine)) {
            PGconn *conn = prepare_scheduler(urls[DUE]);
            multiply_due(conn, (int)(due_count / DUE_PER_HUNDRED));
            snapshot_due(conn);
            int64_t total = query_int(conn, "SELECT count(*) FROM resources"), due = query_int(conn, "SELECT count(*) FROM bench_due");
            if (total != 10 * due_count || due != due_count) die("the due schema holds %" PRId64 " resources, %" PRId64 " due", total, due);
            if (billing_clock_set(engine, due_pass_at) != BILLING_OK) skipped("scheduler, due", "billing_clock_set");
            else {
                /* The four rounds, one pass each, repeated: a pass is short (under a second), so
                   a burst of load on a shared machine would otherwise land on one side. */
                library_seconds = raw_seconds = 0;
                for (int block = 0; block < blocks && library_seconds >= 0; block++) {
                    double round[4];
                    round[0] = library_due_passes(engine, conn, 1, due);
                    if (round[0] < 0) {
                        library_seconds = -1;
                        break;
                    }
                    round[1] = raw_due_passes(conn, 1, due);
                    round[2] = raw_due_passes(conn, 1, due);
                    if (block == 0) {
                        /* The library reads back a resource the raw side expired. */
                        char request[160], id[32], grace[64], *response = NULL;
                        PGresult *last = PQexec(conn, "SELECT max(id) FROM bench_due");
                        if (PQresultStatus(last) != PGRES_TUPLES_OK || PQntuples(last) != 1) die("no due resource: %s", PQerrorMessage(conn));
                        snprintf(id, sizeof id, "%s", PQgetvalue(last, 0, 0));
                        PQclear(last);
                        snprintf(request, sizeof request, "{\"account_id\": \"" ACCOUNT "\", \"resource_id\": \"%s\"}", id);
                        if (billing_resource_get(engine, request, &response) != BILLING_OK) die_billing("billing_resource_get");
                        snprintf(grace, sizeof grace, "\"grace_end\":%" PRId64 ",", support_at(2024, 2, 1, 23, 59, 59) + GRACE_SECONDS);
                        if (!strstr(response, "\"status\":\"EXPIRED\"") || !strstr(response, grace)) {
                            die("raw expiry reads back wrong: %.400s", response);
                        }
                        billing_string_free(response);
                    }
                    round[3] = library_due_passes(engine, conn, 1, due);
                    if (round[3] < 0) {
                        library_seconds = -1;
                        break;
                    }
                    library_seconds += round[0] + round[3];
                    raw_seconds += round[1] + round[2];
                    for (int r = 0; r < 4; r++) {
                        int side = r == 1 || r == 2;
                        if (fastest[side] < 0 || round[r] < fastest[side]) fastest[side] = round[r];
                    }
                }
                if (library_seconds >= 0) compare_due_writes(conn);
                else raw_seconds = -1;
            }
            PQfinish(conn);
        }
        if (engine) billing_engine_close(engine);
        bench_thousands(10 * due_count, of, sizeof of);
        bench_thousands(due_count, count_text, sizeof count_text);
        snprintf(label, sizeof label, "scheduler pass, %s/%s due", count_text, of);
        snprintf(summary, sizeof summary, "postgresql: scheduler pass, %s of %s resources due (expiry into grace), per resource",
                 count_text, of);
        compare(label, summary, (int)(2 * blocks * due_count), library_seconds, raw_seconds);
        if (library_seconds > 0 && raw_seconds > 0) {
            snprintf(due_note, sizeof due_note,
                     "scheduler, due: %d passes a side of %ld resources each (library, raw, raw, library, %d times);"
                     " fastest pass: library %.0f ms, raw %.0f ms (%.2f)\n", 2 * blocks, due_count, blocks, fastest[0] * 1e3,
                     fastest[1] * 1e3, fastest[1] / fastest[0]);
        }
    }

    if (export_ok) {
        printf("\nexport memory (KiB, each run a new process; before = VmRSS before the request or COPY, peak = VmHWM):");
        static const char *sides[] = {"library", "COPY", "COPY", "library"};
        for (int i = 0; i < 4; i++) printf("%s %s %ld -> %ld", i ? "," : "", sides[i], exported[i].before, exported[i].peak);
        printf("; files: library %" PRId64 " bytes, COPY %" PRId64 " bytes, %" PRId64 " rows each\n", exported[0].bytes,
               exported[1].bytes, exported[0].rows);
        if (small_ok) {
            printf("the library's export of %" PRId64 " rows (%" PRId64 " bytes): %ld -> %ld\n", small.rows, small.bytes, small.before,
                   small.peak);
        }
    }

    /* (6) Eight accounts on one PostgreSQL schema and on one SQLite file. */
    char sqlite_path[PATH_MAX];
    bench_file(sqlite_path, sizeof sqlite_path, "throughput");
    const char *sqlite_options = "{\"synchronous\": \"NORMAL\"}";
    int pg_ready = 0, sqlite_ready = 0;
    if ((engine = try_open(urls[THROUGHPUT], NULL, "throughput (PostgreSQL)"))) {
        pg_ready = make_data(engine, 8, "throughput (PostgreSQL)");
        billing_engine_close(engine);
    }
    engine = bench_engine_open(sqlite_path, sqlite_options);
    sqlite_ready = make_data(engine, 8, "throughput (SQLite)");
    billing_engine_close(engine);

    printf("\nthroughput: buys (create + pay) per second over all processes, each with its own engine and account, %d s per run;"
           " busy = BILLING_E_BUSY outcomes (not counted as buys)\n\n", seconds);
    bench_table_header(throughput_columns, sizeof throughput_columns / sizeof *throughput_columns);
    static const int counts[] = {1, 2, 4, 8};
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
        struct outcome pg = {0, 0, 0}, lite = {0, 0, 0};
        double pg_seconds = pg_ready ? throughput(urls[THROUGHPUT], NULL, counts[i], seconds, &pg) : -1;
        double lite_seconds = sqlite_ready ? throughput(sqlite_path, sqlite_options, counts[i], seconds, &lite) : -1;
        double pg_rate = pg_seconds > 0 ? (double)pg.operations / pg_seconds : 0;
        double lite_rate = lite_seconds > 0 ? (double)lite.operations / lite_seconds : 0;
        bench_table_row(throughput_columns, 5, (int64_t)counts[i], pg_rate, pg.busy, lite_rate, lite.busy);
        char scenario[96];
        snprintf(scenario, sizeof scenario, "postgresql: throughput, create + pay, %d process%s (baseline: SQLite file)", counts[i],
                 counts[i] == 1 ? "" : "es");
        if (pg_seconds > 0 && lite_seconds > 0) bench_summary(scenario, pg_rate, lite_rate);
    }

    if (due_note[0]) printf("\n%s", due_note);
    if (build >= 0) {
        printf("\nmixed: %d processes a side, %d requests each a round (in every 20: 10 first pages, 6 details, 3 quotes, 1 buy),"
               " four rounds; conflicts started over: library %" PRId64 " (BILLING_E_BUSY), raw %" PRId64 " (40001/40P01)\n",
               processes, half_mixed, mixed_conflicts[0], mixed_conflicts[1]);
    }
    if (build > 0) {
        printf("\norder list setup: %d orders created through billing_order_create in %.1f s, %.0f orders/s;"
               " page 101 = after cursor %s (100 pages of 20)\n", list_orders, build, list_orders / build, cursor);
    }
    double verify_seconds = 0;
    for (int i = 0; i < SCHEMAS; i++) verify_seconds += verify_schema(urls[i], schemas[i]);
    printf("\nbilling_verify passed on every schema, the baselines' included (%.1f s)\n", verify_seconds);
    pg_cover_free(scheduler_cover);
    pg_cover_free(write_cover);
    pg_cover_free(login_cover);
    for (int i = 0; i < SCHEMAS; i++) drop_schema(schemas[i]);
    bench_cleanup();
    return 0;
}
