/*
 * bench_scheduler.c — what a billing_scheduler_run pass costs over hand-written SQLite doing
 * the same work, on a file with many resources of which few are due, measured in one run on
 * the same machine and disk, so only the ratios mean anything.
 *
 * The file: 1,000 prepaid MANUAL resources bought and provisioned through the library on
 * 2024-01-01 (one account, V3): in each hundred, 99 for three years (expiring 2027-01-01,
 * next due at their first reminder, 2026-12-17) and the hundredth (seq % 100 = 0) for one
 * month (expired 2024-02-01 23:59:59, due since its first reminder). The library sets every
 * row's due_at itself. The resources rows are then multiplied with SQL through the sqlite3
 * C API (INSERT … SELECT with new, unique ids and sequence numbers, every other column
 * copied; copy n of original s is seq s + 1000 n, so the hundredths stay the one-month ones)
 * to N rows, each copy of the 1,000 covered by an audit row listing its rows' digests. Every row has a due_at and sits in the due index; exactly 1 % are due at the
 * pass (the copies have no periods or payments of their own, which the pass does not read).
 *
 * (a) due pass at 2024-02-02 03:00: billing_scheduler_run (limit 1000) called until has_more
 *     is false, which expires the N / 100 due resources into grace. Baseline: the statements
 *     of the same pass (Services/SchedulerService.swift, Orchestration/ResourceLifecycle.swift,
 *     OrderTransitions.swift, ExportService.swift and the stores), prepared once, one
 *     BEGIN IMMEDIATE … COMMIT per batch of 1,000: the configuration revision, the overdue
 *     orders (orders_due), the due resources (resources_due, LIMIT 1001), then inside one
 *     savepoint per resource its row, its bound resources, its account, the
 *     resource.expired event (with its outbox position) and the row update, then the export
 *     jobs' two queries, the login-throttle purge and its check, and the audit row with row
 *     coverage as the library writes it (bench_coverage.h: the touched rows' digests, the
 *     scope's link, row_digests); its detail must equal the library's run for run. The
 *     passes run in four rounds, library, raw, raw, library, the file put back as it was after
 *     each (the due rows reset, the pass's events, their digests and its audit rows deleted
 *     from the end), so that a change of the machine's load weighs on both sides alike; then
 *     one more raw pass, untimed, whose work the library reads back. Every pass must expire
 *     exactly N / 100 resources, and billing_verify must pass on the final file. (Until
 *     2026-12-07 one pass a side, library first: two runs' ratios differed by 0.12.)
 * (b) idle run: billing_scheduler_run at 2024-01-10 12:00, when nothing is due, on the same
 *     file at N_SMALL and at N rows: its cost must not grow with N (median of IDLE_RUNS).
 *
 *   usage: bench_scheduler [N [N_SMALL [IDLE_RUNS]]]   (defaults 1000000 100000 300;
 *          N and N_SMALL multiples of 1000, N_SMALL <= N)
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, clock_gettime, unlink, rmdir */
#define BENCH_NAME "bench_scheduler"

#include "bench_common.h"
#include "bench_coverage.h"

static char file[PATH_MAX];

#define ACCOUNT "bench-account"
#define ORIGINALS 1000
#define GRACE_DAYS 7     /* V3 prepaid grace */
#define RETENTION_DAYS 7 /* V3 prepaid retention */

static int64_t bought_at, due_expiry, pass_at, idle_at;

/* ---- Building the file --------------------------------------------------------------- */

/* The library makes the schema, the account, the product and ORIGINALS provisioned resources:
   in each hundred, 99 for three years, then one for one month. */
static void make_originals(void) {
    char request[16384], *response;
    snprintf(request, sizeof request, "{\"synchronous\": \"NORMAL\", \"clock\": \"manual\", \"now\": %" PRId64 "}", bought_at);
    billing_engine *engine = bench_engine_open(file, request);
    bench_put_account(engine, ACCOUNT, 100000000);
    bench_call_free(engine, billing_product_put,
                    "{\"actor\": \"bench\", \"product\": {\"product_id\": \"evs.ssd\", \"product_type\": \"EVS\","
                    " \"billing_mode\": \"PREPAID\", \"region\": \"cn-north-1\", \"monthly_price_fen\": 1000,"
                    " \"yearly_price_fen\": 10000}}", "billing_product_put");
    for (int order = 0; order < 2 * ORIGINALS / 100; order++) {
        int quantity = order % 2 ? 1 : 99;
        char create[512];
        snprintf(create, sizeof create,
                 "{\"actor\": \"bench\", \"account_id\": \"" ACCOUNT "\", \"auto_pay\": true, \"items\": [{\"product_id\": \"evs.ssd\","
                 " \"period\": {\"unit\": \"%s\", \"count\": %d}, \"quantity\": %d}]}",
                 order % 2 ? "MONTH" : "YEAR", order % 2 ? 1 : 3, quantity);
        response = NULL;
        if (billing_order_create(engine, create, &response) != BILLING_OK) die_billing("billing_order_create");
        const char *cursor = strstr(response, "\"resources\":[");
        if (!cursor || !strstr(response, "\"succeeded\":true")) die("order not paid: %.300s", response);
        int used = snprintf(request, sizeof request, "{\"actor\": \"bench\", \"account_id\": \"" ACCOUNT "\", \"results\": [");
        for (int i = 0; i < quantity; i++) {
            cursor = strstr(cursor, "\"resource_id\":\"");
            if (!cursor) die("only %d resources in an order", i);
            cursor += strlen("\"resource_id\":\"");
            used += snprintf(request + used, sizeof request - (size_t)used, "%s{\"resource_id\": \"%.*s\", \"outcome\": \"SUCCEEDED\"}",
                             i ? ", " : "", (int)strcspn(cursor, "\""), cursor);
        }
        snprintf(request + used, sizeof request - (size_t)used, "]}");
        billing_string_free(response);
        bench_call_free(engine, billing_resource_report, request, "billing_resource_report");
    }
    billing_engine_close(engine);
}

static sqlite3 *db;

static void open_raw(void) { db = bench_sqlite_open(file, "NORMAL"); }

static void close_raw(void) {
    sqlite3_close(db);
    db = NULL;
}

/* The expression that makes a column of copy k.n from the original r. */
static void copied(const char *column, char *out, size_t size) {
    if (strcmp(column, "id") == 0) snprintf(out, size, "printf('RS%%012d', r.seq + k.n * %d)", ORIGINALS);
    else if (strcmp(column, "seq") == 0) snprintf(out, size, "r.seq + k.n * %d", ORIGINALS);
    else snprintf(out, size, "r.%s", column);
}

/* Multiplies the originals: copies first..last-1 of each (copy n of original s gets sequence
   number s + n × ORIGINALS and the id made from it; every other column is copied). Returns the
   seconds it took.
   The copies are written outside the library, so that billing_verify accepts them they are
   covered as the library covers its writes (bench_coverage.h): each copy of the originals is
   one INSERT … SELECT followed by an audit row ("bench.copy", actor bench) listing its 1,000
   rows with their digests, kept in row_digests; then the resource counter and its audit row.
   (Before, the copies had no recorded digest and billing_verify refused the file.) An empty
   range copies nothing: the one statement for the whole range this replaced used a recursive
   CTE that always yields its first row, so multiply(1, 1) (N_SMALL = 1,000) or multiply(k, k)
   (N_SMALL = N) made copy k twice and failed on a duplicate seq. */
static double multiply(int first, int last) {
    if (first >= last) return 0;
    char columns[4096], selected[8192], sql[16384], detail[96];
    bench_copy_columns(db, "resources", copied, columns, sizeof columns, selected, sizeof selected);
    sqlite3_stmt *insert;
    snprintf(sql, sizeof sql, "INSERT INTO resources (%s) SELECT %s FROM (SELECT ? AS n) k, resources r WHERE r.seq <= %d ORDER BY r.seq",
             columns, selected, ORIGINALS);
    double start = support_seconds();
    cover_install(db);
    bench_must(db, sqlite3_prepare_v2(db, sql, -1, &insert, NULL), sql);
    bench_exec(db, "BEGIN IMMEDIATE");
    for (int n = first; n < last; n++) {
        sqlite3_bind_int(insert, 1, n);
        int code = sqlite3_step(insert);
        if (code != SQLITE_DONE) bench_must(db, code, sql);
        sqlite3_reset(insert);
        snprintf(detail, sizeof detail, "{\"copy\":%d,\"rows\":%d,\"table\":\"resources\"}", n, ORIGINALS);
        cover_audit_append(bought_at, "bench", "bench.copy", NULL, "resources", detail);
    }
    sqlite3_finalize(insert);
    bench_exec(db, "UPDATE id_sequences SET next = (SELECT max(seq) + 1 FROM resources) WHERE name = 'resource'");
    cover_audit_append(bought_at, "bench", "bench.copy", NULL, "id_sequences", "{\"table\":\"id_sequences\"}");
    cover_check_taken();
    bench_exec(db, "COMMIT");
    cover_close();
    bench_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    return support_seconds() - start;
}

/* ---- (b) idle runs -------------------------------------------------------------------------- */

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median and mean microseconds of `runs` scheduler runs at idle_at, each finding nothing due. */
static void idle_runs(int runs, double *median, double *mean) {
    char options[128];
    snprintf(options, sizeof options, "{\"synchronous\": \"NORMAL\", \"clock\": \"manual\", \"now\": %" PRId64 "}", idle_at);
    billing_engine *engine = bench_engine_open(file, options);
    double *times = malloc(sizeof *times * (size_t)runs), total = 0;
    if (!times) die("out of memory");
    for (int i = -10; i < runs; i++) { /* ten warm-up runs first */
        char *response = NULL;
        double start = support_seconds();
        if (billing_scheduler_run(engine, "{\"actor\": \"cron\"}", &response) != BILLING_OK) die_billing("billing_scheduler_run");
        double elapsed = support_seconds() - start;
        if (!strstr(response, "\"processed\":0,") || !strstr(response, "\"has_more\":false")) die("not idle: %.300s", response);
        billing_string_free(response);
        if (i >= 0) times[i] = elapsed * 1e6, total += elapsed * 1e6;
    }
    billing_engine_close(engine);
    qsort(times, (size_t)runs, sizeof *times, compare_doubles);
    *median = times[runs / 2];
    *mean = total / runs;
    free(times);
}

/* ---- (a) the due pass through the library --------------------------------------------------- */

static int64_t library_pass(int64_t *runs) {
    char options[128];
    snprintf(options, sizeof options, "{\"synchronous\": \"NORMAL\", \"clock\": \"manual\", \"now\": %" PRId64 "}", pass_at);
    billing_engine *engine = bench_engine_open(file, options);
    int64_t processed = 0, expired = 0;
    *runs = 0;
    for (int more = 1; more; (*runs)++) {
        char *response = NULL;
        if (billing_scheduler_run(engine, "{\"actor\": \"cron\"}", &response) != BILLING_OK) die_billing("billing_scheduler_run");
        processed += bench_json_int(response, "processed");
        expired += bench_json_int(response, "expired");
        more = strstr(response, "\"has_more\":true") != NULL;
        billing_string_free(response);
    }
    billing_engine_close(engine);
    if (processed != expired) die("library: %" PRId64 " processed but %" PRId64 " expired", processed, expired);
    return expired;
}

/* ---- (a) the due pass on raw SQLite ------------------------------------------------------------ */

enum {
    BEGIN, COMMIT, SAVEPOINT, RELEASE, REVISION, ORDERS_DUE, RESOURCES_DUE, RESOURCE, BOUND, ACCOUNT_SELECT, EVENT, UPDATE,
    EXPORTS_GENERATING, EXPORTS_PURGE, THROTTLES_PURGE, THROTTLES_LEFT, STATEMENTS
};

#define RESOURCE_COLUMNS                                                                                                   \
    "id, account_id, order_id, line_no, product_id, product_type, billing_mode, region, status, primary_id, relation,"    \
    " period_unit, period_count, anchor_day, created_at, provisioned_at, effective_at, expire_at, ended_at, expiry_policy," \
    " grace_end, retention_end, freeze_reason, auto_renew_unit, auto_renew_count, auto_renew_remaining, next_attempt_at,"  \
    " reminded_days, due_at, refund_blocks"
#define EXPORT_COLUMNS                                                                                                    \
    "id, account_id, kind, status, request, language, directory, file_name, rows_expected, rows_written, bytes,"   \
    " cursor, created_at, purge_at, completed_at, failure_reason"

static const char *sql[STATEMENTS] = {
    [BEGIN] = "BEGIN IMMEDIATE",
    [COMMIT] = "COMMIT",
    [SAVEPOINT] = "SAVEPOINT attempt",
    [RELEASE] = "RELEASE attempt",
    [REVISION] = "SELECT revision FROM config WHERE id = 1",
    [ORDERS_DUE] = "SELECT id, account_id FROM orders WHERE combined_id IS NULL AND status IN ('PENDING_PAYMENT', 'PENDING_CONFIRMATION')"
                   " AND pay_deadline <= ? ORDER BY pay_deadline LIMIT ?",
    [RESOURCES_DUE] = "SELECT id, account_id FROM resources WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?",
    [RESOURCE] = "SELECT " RESOURCE_COLUMNS " FROM resources WHERE id = ? AND account_id = ?",
    [BOUND] = "SELECT " RESOURCE_COLUMNS " FROM resources WHERE primary_id = ? AND relation = 'BOUND' ORDER BY seq",
    [ACCOUNT_SELECT] = "SELECT id, type, realname_verified, restricted, \"freeze\", level, cash_balance, credit_limit, credit_used,"
                       " deduction_days, unified_expiry_day, created_at, updated_at FROM accounts WHERE id = ?",
    /* EventLog on SQLite: the next outbox position in the same statement. */
    [EVENT] = "INSERT INTO events (type, account_id, subject_id, occurred_at, data, position)"
              " VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM events))",
    [UPDATE] = "UPDATE resources SET status = ?, billing_mode = ?, anchor_day = ?, provisioned_at = ?, effective_at = ?, expire_at = ?,"
               " ended_at = ?, expiry_policy = ?, grace_end = ?, retention_end = ?, freeze_reason = ?, auto_renew_unit = ?,"
               " auto_renew_count = ?, auto_renew_remaining = ?, next_attempt_at = ?, reminded_days = ?, due_at = ?, refund_blocks = ?"
               " WHERE id = ?",
    [EXPORTS_GENERATING] = "SELECT " EXPORT_COLUMNS " FROM exports WHERE status = 'GENERATING' ORDER BY seq LIMIT ?",
    [EXPORTS_PURGE] = "SELECT " EXPORT_COLUMNS " FROM exports WHERE purge_at <= ? ORDER BY purge_at LIMIT ?",
    /* LoginThrottleStore.purge: the throttles whose wait ended, and whether more remain. */
    [THROTTLES_PURGE] = "DELETE FROM login_throttles WHERE key IN"
                        " (SELECT key FROM login_throttles WHERE retry_after <= ? ORDER BY retry_after LIMIT ?)",
    [THROTTLES_LEFT] = "SELECT 1 FROM login_throttles WHERE retry_after <= ? LIMIT 1",
};

static sqlite3_stmt *statements[STATEMENTS];

static void bind_value(sqlite3_stmt *statement, int index, sqlite3_value *value) { sqlite3_bind_value(statement, index, value); }

static void run(int which) {
    sqlite3_stmt *statement = statements[which];
    int code;
    while ((code = sqlite3_step(statement)) == SQLITE_ROW) {
        for (int c = 0, n = sqlite3_column_count(statement); c < n; c++) {
            if (sqlite3_column_type(statement, c) == SQLITE_TEXT) (void)sqlite3_column_text(statement, c);
            else (void)sqlite3_column_int64(statement, c);
        }
    }
    bench_must(db, code, sql[which]);
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
}

/* A read of one row by its key, as the library's `first`: one step, the row's columns read, reset. */
static void first(int which, const char *key) {
    sqlite3_stmt *statement = statements[which];
    sqlite3_bind_text(statement, 1, key, -1, SQLITE_TRANSIENT);
    int code = sqlite3_step(statement);
    if (code == SQLITE_ROW) {
        for (int c = 0, n = sqlite3_column_count(statement); c < n; c++) {
            if (sqlite3_column_type(statement, c) == SQLITE_TEXT) (void)sqlite3_column_text(statement, c);
            else (void)sqlite3_column_int64(statement, c);
        }
    } else {
        bench_must(db, code, sql[which]);
    }
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
}

/* One resource whose expiry has passed, as Engine.advance handles it: read, bound resources,
   account, into grace with its event, written back. */
static void raw_expire(const char *id, const char *account) {
    sqlite3_stmt *resource = statements[RESOURCE];
    sqlite3_bind_text(resource, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(resource, 2, account, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(resource) != SQLITE_ROW) die("no resource %s", id);
    for (int c = 0, n = sqlite3_column_count(resource); c < n; c++) (void)sqlite3_column_value(resource, c);
    int64_t expire_at = sqlite3_column_int64(resource, 17);
    if (strcmp((const char *)sqlite3_column_text(resource, 8), "IN_USE") != 0 || expire_at >= pass_at) die("%s is not due", id);
    sqlite3_bind_text(statements[BOUND], 1, id, -1, SQLITE_TRANSIENT);
    run(BOUND);
    first(ACCOUNT_SELECT, account);
    int64_t grace_end = expire_at + GRACE_DAYS * 86400, retention_end = grace_end + RETENTION_DAYS * 86400;
    char data[128];
    snprintf(data, sizeof data, "{\"expire_at\":%" PRId64 ",\"grace_end\":%" PRId64 ",\"retention_end\":%" PRId64 "}", expire_at,
             grace_end, retention_end);
    sqlite3_stmt *event = statements[EVENT];
    sqlite3_bind_text(event, 1, "resource.expired", -1, SQLITE_STATIC);
    sqlite3_bind_text(event, 2, account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(event, 3, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(event, 4, pass_at);
    sqlite3_bind_text(event, 5, data, -1, SQLITE_TRANSIENT);
    run(EVENT);
    /* ResourceStore.update: every field that changes over a life, from the row read above. */
    static const int kept[] = {6, 13, 15, 16, 17, 18, 19}; /* billing_mode, anchor_day, provisioned_at … expiry_policy */
    sqlite3_stmt *update = statements[UPDATE];
    sqlite3_bind_text(update, 1, "EXPIRED", -1, SQLITE_STATIC);
    for (int i = 0; i < (int)(sizeof kept / sizeof *kept); i++) bind_value(update, 2 + i, sqlite3_column_value(resource, kept[i]));
    sqlite3_bind_int64(update, 9, grace_end);
    sqlite3_bind_int64(update, 10, retention_end);
    for (int i = 22; i <= 27; i++) bind_value(update, 11 + i - 22, sqlite3_column_value(resource, i)); /* freeze_reason … reminded_days */
    sqlite3_bind_int64(update, 17, grace_end + 1);                                                   /* due at the end of grace */
    bind_value(update, 18, sqlite3_column_value(resource, 29));
    sqlite3_bind_text(update, 19, id, -1, SQLITE_TRANSIENT);
    run(UPDATE);
    sqlite3_reset(resource);
    sqlite3_clear_bindings(resource);
}

/* The library's audit details of the pass, one per run, that the raw pass's must equal. */
static char *library_details[64];
static int library_detail_count;

static int64_t raw_pass(int64_t *runs) {
    open_raw();
    cover_install(db);
    for (int i = 0; i < STATEMENTS; i++) bench_must(db, sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &statements[i], NULL), sql[i]);
    int64_t expired = 0;
    static char ids[1001][32], accounts[1001][64];
    *runs = 0;
    for (int more = 1; more; (*runs)++) {
        int batch = 0, code;
        run(BEGIN);
        run(REVISION);
        sqlite3_bind_int64(statements[ORDERS_DUE], 1, pass_at);
        sqlite3_bind_int64(statements[ORDERS_DUE], 2, 1001);
        run(ORDERS_DUE);
        sqlite3_stmt *due = statements[RESOURCES_DUE];
        sqlite3_bind_int64(due, 1, pass_at);
        sqlite3_bind_int64(due, 2, 1001);
        while ((code = sqlite3_step(due)) == SQLITE_ROW) {
            snprintf(ids[batch], sizeof ids[0], "%s", (const char *)sqlite3_column_text(due, 0));
            snprintf(accounts[batch], sizeof accounts[0], "%s", (const char *)sqlite3_column_text(due, 1));
            batch++;
        }
        bench_must(db, code, sql[RESOURCES_DUE]);
        sqlite3_reset(due);
        /* ResourceLifecycle.advanceDueResources: the batch inside one savepoint. */
        run(SAVEPOINT);
        for (int i = 0; i < batch && i < 1000; i++, expired++) raw_expire(ids[i], accounts[i]);
        run(RELEASE);
        more = batch > 1000;
        sqlite3_bind_int64(statements[EXPORTS_GENERATING], 1, 1001);
        run(EXPORTS_GENERATING);
        sqlite3_bind_int64(statements[EXPORTS_PURGE], 1, pass_at);
        sqlite3_bind_int64(statements[EXPORTS_PURGE], 2, 1001);
        run(EXPORTS_PURGE);
        sqlite3_bind_int64(statements[THROTTLES_PURGE], 1, pass_at);
        sqlite3_bind_int64(statements[THROTTLES_PURGE], 2, 1000);
        run(THROTTLES_PURGE);
        sqlite3_bind_int64(statements[THROTTLES_LEFT], 1, pass_at);
        run(THROTTLES_LEFT);
        char detail[512];
        int n = batch < 1000 ? batch : 1000;
        snprintf(detail, sizeof detail,
                 "{\"cancelled_orders\":0,\"exports_purged\":0,\"exports_stepped\":0,\"has_more\":%s,\"login_throttles_purged\":0,"
                 "\"now\":%" PRId64 ",\"resources\":{\"auto_renew_failed\":0,\"auto_renewed\":0,\"converted\":0,\"effective\":0,"
                 "\"expired\":%d,\"failed\":0,\"frozen\":0,\"processed\":%d,\"released\":0,\"reminders\":0}}",
                 more ? "true" : "false", pass_at, n, n);
        if (*runs >= library_detail_count || strcmp(detail, library_details[*runs]) != 0) {
            die("raw run %" PRId64 "'s audit detail %s is not the library's %s", *runs, detail,
                *runs < library_detail_count ? library_details[*runs] : "(none)");
        }
        cover_audit_append(pass_at, "cron", "scheduler.run", NULL, NULL, detail);
        cover_check_taken();
        run(COMMIT);
    }
    for (int i = 0; i < STATEMENTS; i++) sqlite3_finalize(statements[i]);
    cover_close();
    close_raw();
    return expired;
}

/* ---- Report ------------------------------------------------------------------------------------ */

int main(int argc, char **argv) {
    if (sodium_init() < 0) die("sodium_init failed");
    long n = bench_multiple(argc, argv, 1, 1000000, ORIGINALS, 50000000), small = bench_multiple(argc, argv, 2, 100000, ORIGINALS, 50000000);
    int idle = (int)bench_multiple(argc, argv, 3, 300, 1, 50000000);
    if (small > n) die("N_SMALL may not exceed N");
    bought_at = support_at(2024, 1, 1, 10, 0, 0);
    due_expiry = support_at(2024, 2, 1, 23, 59, 59);
    pass_at = support_at(2024, 2, 2, 3, 0, 0);
    idle_at = support_at(2024, 1, 10, 12, 0, 0);
    bench_make_directory();
    bench_file(file, sizeof file, "scheduler");
    printf("libbilling %s, SQLite %s, file in %s\n", billing_version(), sqlite3_libversion(), bench_directory);

    double start = support_seconds();
    make_originals();
    double made = support_seconds() - start;
    open_raw();
    bench_exec(db, "PRAGMA cache_size = -262144");
    double grown = multiply(1, (int)(small / ORIGINALS));
    close_raw();
    double idle_small_median, idle_small_mean, idle_large_median, idle_large_mean;
    idle_runs(idle, &idle_small_median, &idle_small_mean);
    open_raw();
    bench_exec(db, "PRAGMA cache_size = -262144");
    grown += multiply((int)(small / ORIGINALS), (int)(n / ORIGINALS));
    int64_t rows = bench_query_int(db, "SELECT count(*) FROM resources");
    char count_due[160];
    snprintf(count_due, sizeof count_due, "SELECT count(*) FROM resources WHERE due_at IS NOT NULL AND due_at <= %" PRId64, pass_at);
    int64_t due = bench_query_int(db, count_due);
    int64_t indexed = bench_query_int(db, "SELECT count(*) FROM resources WHERE due_at IS NOT NULL");
    close_raw();
    if (rows != n || due != n / 100 || indexed != n) die("the file holds %" PRId64 " rows, %" PRId64 " due, %" PRId64 " with due_at", rows, due, indexed);
    double megabytes = 0;
    FILE *f = fopen(file, "rb");
    if (f) {
        fseek(f, 0, SEEK_END);
        megabytes = (double)ftell(f) / 1e6;
        fclose(f);
    }
    idle_runs(idle, &idle_large_median, &idle_large_mean);
    printf("file: %ld resources (%d through the library in %.1f s, the rest by INSERT … SELECT in %.1f s), %.0f MB,"
           " %" PRId64 " due (1 %%), every row in the due index\n\n", n, ORIGINALS, made, grown, megabytes, due);

    /* (a): the library's pass, the file put back, the raw pass. */
    open_raw();
    int64_t due_at = bench_query_int(db, "SELECT min(due_at) FROM resources WHERE seq % 100 = 0");
    if (due_at != bench_query_int(db, "SELECT max(due_at) FROM resources WHERE seq % 100 = 0") || due_at > pass_at) die("unexpected due_at");
    int64_t events_before = bench_query_int(db, "SELECT coalesce(max(seq), 0) FROM events");
    int64_t audit_before = bench_query_int(db, "SELECT coalesce(max(id), 0) FROM audit_log");
    close_raw();
    /* Four rounds, library, raw, raw, library, the file put back after each (the due rows
       reset; the pass's events, their digests and its audit rows deleted from the end), so
       that a change of the machine's load during the run weighs on both sides alike; then
       one more raw pass, untimed, whose work the library reads back and verifies. */
    char reset[768];
    snprintf(reset, sizeof reset,
             "BEGIN IMMEDIATE; UPDATE resources SET status = 'IN_USE', grace_end = NULL, retention_end = NULL, due_at = %" PRId64
             " WHERE status = 'EXPIRED'; DELETE FROM events WHERE seq > %" PRId64 ";"
             " DELETE FROM row_digests WHERE table_name = 'events' AND audit_id > %" PRId64 "; DELETE FROM audit_log WHERE id > %" PRId64 ";"
             " COMMIT;",
             due_at, events_before, audit_before, audit_before);
    int64_t library_runs = 0, raw_runs = 0;
    double library_seconds = 0, raw_seconds = 0;
    for (int round = 0; round < 5; round++) {
        int library = round == 0 || round == 3;
        int64_t runs = 0;
        start = support_seconds();
        int64_t expired = library ? library_pass(&runs) : raw_pass(&runs);
        double elapsed = support_seconds() - start;
        if (round < 4) *(library ? &library_seconds : &raw_seconds) += elapsed;
        *(library ? &library_runs : &raw_runs) = runs;
        open_raw();
        int64_t expired_rows = bench_query_int(db, "SELECT count(*) FROM resources WHERE status = 'EXPIRED'");
        int64_t expired_events = bench_query_int(db, "SELECT count(*) FROM events WHERE type = 'resource.expired'");
        if (round == 0) { /* the library's audit details, one per run, that each raw run's must equal */
            char select[160];
            snprintf(select, sizeof select, "SELECT detail, COALESCE(subject_id, '') FROM audit_log WHERE id > %" PRId64 " ORDER BY id", audit_before);
            sqlite3_stmt *details;
            bench_must(db, sqlite3_prepare_v2(db, select, -1, &details, NULL), select);
            while (sqlite3_step(details) == SQLITE_ROW && library_detail_count < 64) {
                if (*sqlite3_column_text(details, 1)) die("the library's scheduler.run audit row has a subject");
                library_details[library_detail_count++] = strdup((const char *)sqlite3_column_text(details, 0));
            }
            sqlite3_finalize(details);
        }
        if (expired != due || expired_rows != due || expired_events != due) {
            die("%s expired %" PRId64 " (%" PRId64 " rows, %" PRId64 " events), %" PRId64 " were due", library ? "the library" : "raw", expired,
                expired_rows, expired_events, due);
        }
        if (round < 4) {
            bench_exec(db, reset);
            bench_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
        }
        close_raw();
    }

    /* The library reads the raw pass's work back and finds the file consistent. */
    billing_engine *engine = bench_engine_open(file, NULL);
    char *response = NULL, request[160];
    snprintf(request, sizeof request, "{\"account_id\": \"" ACCOUNT "\", \"resource_id\": \"RS%012ld\"}", n);
    if (billing_resource_get(engine, request, &response) != BILLING_OK) die_billing("billing_resource_get");
    char grace[64];
    snprintf(grace, sizeof grace, "\"grace_end\":%" PRId64 ",", due_expiry + GRACE_DAYS * 86400);
    if (!strstr(response, "\"status\":\"EXPIRED\"") || !strstr(response, grace)) die("raw expiry reads back wrong: %.400s", response);
    billing_string_free(response);
    start = support_seconds();
    if (billing_verify(engine, NULL, &response) != BILLING_OK) die_billing("billing_verify");
    double verify_seconds = support_seconds() - start;
    if (!strstr(response, "\"ok\":true")) die("billing_verify: %.500s", response);
    billing_string_free(response);
    billing_engine_close(engine);

    static const struct bench_column pass[] = {
        {"scenario", 36, BENCH_TEXT, 0}, {"due", 7, BENCH_COUNT, 0},   {"library s/pass", 14, BENCH_REAL, 2},
        {"library res/s", 15, BENCH_REAL, 0}, {"raw s/pass", 12, BENCH_REAL, 2}, {"raw res/s", 13, BENCH_REAL, 0},
        {"library/raw", 21, BENCH_RATIO, 0},
    };
    static const struct bench_column idles[] = {
        {"(b) idle run, nothing due", 36, BENCH_TEXT, 0}, {"median us/run", 14, BENCH_REAL, 1}, {"mean us/run", 14, BENCH_REAL, 1},
    };
    /* Two passes a side: seconds per pass, resources per second over both. */
    double library_rate = 2.0 * (double)due / library_seconds, raw_rate = 2.0 * (double)due / raw_seconds;
    char label[96];
    snprintf(label, sizeof label, "(a) due pass, N=%ld (2x, %" PRId64 "+%" PRId64 " runs)", n, library_runs, raw_runs);
    bench_table_header(pass, sizeof pass / sizeof *pass);
    bench_table_row(pass, sizeof pass / sizeof *pass, label, due, library_seconds / 2, library_rate, raw_seconds / 2, raw_rate,
                    library_rate / raw_rate);
    char summary[96], count[32];
    snprintf(summary, sizeof summary, "scheduler pass, 1 %% of %s due", bench_thousands(n, count, sizeof count));
    bench_summary(summary, library_rate, raw_rate);
    printf("\n");

    bench_table_header(idles, sizeof idles / sizeof *idles);
    snprintf(label, sizeof label, "N=%ld", small);
    bench_table_row(idles, sizeof idles / sizeof *idles, label, idle_small_median, idle_small_mean);
    snprintf(label, sizeof label, "N=%ld", n);
    bench_table_row(idles, sizeof idles / sizeof *idles, label, idle_large_median, idle_large_mean);
    printf("\nidle runs: %d each (after 10 warm-up runs), N=%ld / N=%ld median ratio %.2f; billing_verify on the final file %.1f s\n",
           idle, n, small, idle_large_median / idle_small_median, verify_seconds);
    bench_cleanup();
    return 0;
}
