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
 * to N rows. Every row has a due_at and sits in the due index; exactly 1 % are due at the
 * pass (the copies have no periods or payments of their own, which the pass does not read).
 *
 * (a) due pass at 2024-02-02 03:00: billing_scheduler_run (limit 1000) called until has_more
 *     is false, which expires the N / 100 due resources into grace. Baseline: the statements
 *     of the same pass (Services/SchedulerService.swift, ResourceLifecycle.swift,
 *     OrderLifecycleService.swift, ExportService.swift and the stores), prepared once, one
 *     BEGIN IMMEDIATE … COMMIT per batch of 1,000: the configuration revision, the overdue
 *     orders (orders_due), the due resources (resources_due, LIMIT 1001), then per resource
 *     its row, its bound resources, its account, the resource.expired event and the row
 *     update, then the export jobs' two queries and the chained audit row (BLAKE2b-256 as
 *     the library does). After the library's pass the file is put back as it was (the due
 *     rows reset, the pass's events and audit rows deleted from the end) and the raw pass
 *     runs on it; both must expire exactly N / 100 resources, and billing_verify must pass.
 * (b) idle run: billing_scheduler_run at 2024-01-10 12:00, when nothing is due, on the same
 *     file at N_SMALL and at N rows: its cost must not grow with N (median of IDLE_RUNS).
 *
 *   usage: bench_scheduler [N [N_SMALL [IDLE_RUNS]]]   (defaults 1000000 100000 300;
 *          N and N_SMALL multiples of 1000, N_SMALL <= N)
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, clock_gettime, unlink, rmdir */

#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "billing.h"

static char directory[64], file[PATH_MAX];

static void cleanup(void);

static void die(const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    fprintf(stderr, "bench_scheduler: ");
    vfprintf(stderr, format, arguments);
    fprintf(stderr, "\n");
    va_end(arguments);
    cleanup();
    exit(1);
}

static void die_billing(const char *call) {
    die("%s: %d %s: %s", call, billing_last_error_code(), billing_last_error_reason(), billing_last_error_message());
}

static double seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static void cleanup(void) {
    static const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
    char name[PATH_MAX + 16];
    if (!directory[0]) return;
    for (size_t s = 0; s < sizeof suffixes / sizeof *suffixes; s++) {
        snprintf(name, sizeof name, "%s%s", file, suffixes[s]);
        unlink(name);
    }
    rmdir(directory);
    directory[0] = '\0';
}

/* ---- Time: civil dates at +08:00 ----------------------------------------------------- */

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t at(int y, int m, int d, int hour, int minute, int second) {
    return days_from_civil(y, m, d) * 86400 + hour * 3600 + minute * 60 + second - 8 * 3600;
}

#define ACCOUNT "bench-account"
#define ORIGINALS 1000
#define GRACE_DAYS 7     /* V3 prepaid grace */
#define RETENTION_DAYS 7 /* V3 prepaid retention */

static int64_t bought_at, due_expiry, pass_at, idle_at;

/* ---- Building the file --------------------------------------------------------------- */

static char *library_call(billing_engine *engine, int (*f)(billing_engine *, const char *, char **), const char *request,
                          const char *name) {
    char *response = NULL;
    if (f(engine, request, &response) != BILLING_OK) die_billing(name);
    return response;
}

/* The library makes the schema, the account, the product and ORIGINALS provisioned resources:
   in each hundred, 99 for three years, then one for one month. */
static void make_originals(void) {
    billing_engine *engine = NULL;
    char request[16384], *response;
    snprintf(request, sizeof request, "{\"synchronous\": \"NORMAL\", \"clock\": \"manual\", \"now\": %" PRId64 "}", bought_at);
    if (billing_engine_open(file, request, &engine) != BILLING_OK) die_billing("billing_engine_open");
    billing_string_free(library_call(engine, billing_account_put,
                                     "{\"actor\": \"bench\", \"account_id\": \"" ACCOUNT "\", \"type\": \"ENTERPRISE\","
                                     " \"realname_verified\": true, \"level\": \"V3\"}", "billing_account_put"));
    billing_string_free(library_call(engine, billing_account_topup,
                                     "{\"actor\": \"bench\", \"account_id\": \"" ACCOUNT "\", \"amount_fen\": 100000000,"
                                     " \"external_reference\": \"seed\"}", "billing_account_topup"));
    billing_string_free(library_call(engine, billing_product_put,
                                     "{\"actor\": \"bench\", \"product\": {\"product_id\": \"evs.ssd\", \"product_type\": \"EVS\","
                                     " \"billing_mode\": \"PREPAID\", \"region\": \"cn-north-1\", \"monthly_price_fen\": 1000,"
                                     " \"yearly_price_fen\": 10000}}", "billing_product_put"));
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
        billing_string_free(library_call(engine, billing_resource_report, request, "billing_resource_report"));
    }
    billing_engine_close(engine);
}

static sqlite3 *db;

static void must(int code, const char *what) {
    if (code != SQLITE_OK && code != SQLITE_ROW && code != SQLITE_DONE) die("%.300s: %s", what, sqlite3_errmsg(db));
}

static void exec(const char *sql) { must(sqlite3_exec(db, sql, NULL, NULL, NULL), sql); }

static int64_t query_int(const char *sql) {
    sqlite3_stmt *statement;
    must(sqlite3_prepare_v2(db, sql, -1, &statement, NULL), sql);
    int code = sqlite3_step(statement);
    must(code, sql);
    int64_t value = code == SQLITE_ROW ? sqlite3_column_int64(statement, 0) : 0;
    sqlite3_finalize(statement);
    return value;
}

static void open_raw(void) {
    if (sqlite3_open_v2(file, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        die("sqlite3_open_v2 %s: %s", file, db ? sqlite3_errmsg(db) : "out of memory");
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 5000);
    exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
}

static void close_raw(void) {
    sqlite3_close(db);
    db = NULL;
}

/* Multiplies the originals: copies first..last-1 of each (copy n of original s gets sequence
   number s + n × ORIGINALS and the id made from it; every other column is copied). Returns the
   seconds it took. */
static double multiply(int first, int last) {
    char columns[4096], selected[8192], sql[16384];
    size_t used_columns = 0, used_selected = 0;
    sqlite3_stmt *info;
    must(sqlite3_prepare_v2(db, "PRAGMA table_info(resources)", -1, &info, NULL), "table_info");
    while (sqlite3_step(info) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(info, 1);
        char expression[128];
        if (strcmp(name, "id") == 0) snprintf(expression, sizeof expression, "printf('RS%%012d', r.seq + k.n * %d)", ORIGINALS);
        else if (strcmp(name, "seq") == 0) snprintf(expression, sizeof expression, "r.seq + k.n * %d", ORIGINALS);
        else snprintf(expression, sizeof expression, "r.%s", name);
        used_columns += (size_t)snprintf(columns + used_columns, sizeof columns - used_columns, "%s%s", used_columns ? ", " : "", name);
        used_selected += (size_t)snprintf(selected + used_selected, sizeof selected - used_selected, "%s%s", used_selected ? ", " : "",
                                          expression);
        if (used_columns >= sizeof columns || used_selected >= sizeof selected) die("too many columns");
    }
    sqlite3_finalize(info);
    double start = seconds();
    exec("BEGIN IMMEDIATE");
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE k(n) AS (SELECT %d UNION ALL SELECT n + 1 FROM k WHERE n + 1 < %d)"
             " INSERT INTO resources (%s) SELECT %s FROM k, resources r WHERE r.seq <= %d ORDER BY k.n, r.seq",
             first, last, columns, selected, ORIGINALS);
    exec(sql);
    exec("UPDATE id_sequences SET next = (SELECT max(seq) + 1 FROM resources) WHERE name = 'resource'");
    exec("COMMIT");
    exec("PRAGMA wal_checkpoint(TRUNCATE)");
    return seconds() - start;
}

/* ---- (b) idle runs -------------------------------------------------------------------------- */

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median and mean microseconds of `runs` scheduler runs at idle_at, each finding nothing due. */
static void idle_runs(int runs, double *median, double *mean) {
    char options[128];
    billing_engine *engine = NULL;
    snprintf(options, sizeof options, "{\"synchronous\": \"NORMAL\", \"clock\": \"manual\", \"now\": %" PRId64 "}", idle_at);
    if (billing_engine_open(file, options, &engine) != BILLING_OK) die_billing("billing_engine_open");
    double *times = malloc(sizeof *times * (size_t)runs), total = 0;
    if (!times) die("out of memory");
    for (int i = -10; i < runs; i++) { /* ten warm-up runs first */
        char *response = NULL;
        double start = seconds();
        if (billing_scheduler_run(engine, "{\"actor\": \"cron\"}", &response) != BILLING_OK) die_billing("billing_scheduler_run");
        double elapsed = seconds() - start;
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
    billing_engine *engine = NULL;
    snprintf(options, sizeof options, "{\"synchronous\": \"NORMAL\", \"clock\": \"manual\", \"now\": %" PRId64 "}", pass_at);
    if (billing_engine_open(file, options, &engine) != BILLING_OK) die_billing("billing_engine_open");
    int64_t processed = 0, expired = 0;
    *runs = 0;
    for (int more = 1; more; (*runs)++) {
        char *response = NULL;
        if (billing_scheduler_run(engine, "{\"actor\": \"cron\"}", &response) != BILLING_OK) die_billing("billing_scheduler_run");
        const char *p = strstr(response, "\"processed\":"), *e = strstr(response, "\"expired\":");
        if (!p || !e) die("unexpected response %.300s", response);
        processed += strtoll(p + strlen("\"processed\":"), NULL, 10);
        expired += strtoll(e + strlen("\"expired\":"), NULL, 10);
        more = strstr(response, "\"has_more\":true") != NULL;
        billing_string_free(response);
    }
    billing_engine_close(engine);
    if (processed != expired) die("library: %" PRId64 " processed but %" PRId64 " expired", processed, expired);
    return expired;
}

/* ---- (a) the due pass on raw SQLite ------------------------------------------------------------ */

enum {
    BEGIN, COMMIT, REVISION, ORDERS_DUE, RESOURCES_DUE, RESOURCE, BOUND, ACCOUNT_SELECT, EVENT, UPDATE, EXPORTS_GENERATING,
    EXPORTS_PURGE, AUDIT_LAST, AUDIT, STATEMENTS
};

#define RESOURCE_COLUMNS                                                                                                   \
    "id, account_id, order_id, line_no, product_id, product_type, billing_mode, region, status, primary_id, relation,"    \
    " period_unit, period_count, anchor_day, created_at, provisioned_at, effective_at, expire_at, ended_at, expiry_policy," \
    " grace_end, retention_end, freeze_reason, auto_renew_unit, auto_renew_count, auto_renew_remaining, next_attempt_at,"  \
    " reminded_days, due_at, refund_blocks"
#define EXPORT_COLUMNS                                                                                                    \
    "id, seq, account_id, kind, status, request, language, directory, file_name, rows_expected, rows_written, bytes,"   \
    " cursor, created_at, purge_at, completed_at, failure_reason"

static const char *sql[STATEMENTS] = {
    [BEGIN] = "BEGIN IMMEDIATE",
    [COMMIT] = "COMMIT",
    [REVISION] = "SELECT revision FROM config WHERE id = 1",
    [ORDERS_DUE] = "SELECT id, account_id FROM orders WHERE combined_id IS NULL AND status IN ('PENDING_PAYMENT', 'PENDING_CONFIRMATION')"
                   " AND pay_deadline <= ? ORDER BY pay_deadline LIMIT ?",
    [RESOURCES_DUE] = "SELECT id, account_id FROM resources WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?",
    [RESOURCE] = "SELECT " RESOURCE_COLUMNS " FROM resources WHERE id = ? AND account_id = ?",
    [BOUND] = "SELECT " RESOURCE_COLUMNS " FROM resources WHERE primary_id = ? AND relation = 'BOUND' ORDER BY seq",
    [ACCOUNT_SELECT] = "SELECT id, type, realname_verified, restricted, freeze, level, cash_balance, credit_limit, credit_used,"
                       " deduction_days, unified_expiry_day, created_at, updated_at FROM accounts WHERE id = ?",
    [EVENT] = "INSERT INTO events (type, account_id, subject_id, occurred_at, data) VALUES (?, ?, ?, ?, ?)",
    [UPDATE] = "UPDATE resources SET status = ?, billing_mode = ?, anchor_day = ?, provisioned_at = ?, effective_at = ?, expire_at = ?,"
               " ended_at = ?, expiry_policy = ?, grace_end = ?, retention_end = ?, freeze_reason = ?, auto_renew_unit = ?,"
               " auto_renew_count = ?, auto_renew_remaining = ?, next_attempt_at = ?, reminded_days = ?, due_at = ?, refund_blocks = ?"
               " WHERE id = ?",
    [EXPORTS_GENERATING] = "SELECT " EXPORT_COLUMNS " FROM exports WHERE status = 'GENERATING' ORDER BY seq LIMIT ?",
    [EXPORTS_PURGE] = "SELECT " EXPORT_COLUMNS " FROM exports WHERE purge_at <= ? ORDER BY purge_at LIMIT ?",
    [AUDIT_LAST] = "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1",
    [AUDIT] = "INSERT INTO audit_log (recorded_at, actor, operation, account_id, subject_id, detail, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
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
    must(code, sql[which]);
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
}

static size_t json_string(char *out, size_t used, size_t size, const char *text) {
    used += (size_t)snprintf(out + used, size - used, "\"");
    for (const unsigned char *c = (const unsigned char *)text; *c && used + 8 < size; c++) {
        if (*c == '"' || *c == '\\') out[used++] = '\\', out[used++] = (char)*c;
        else if (*c == '\n') out[used++] = '\\', out[used++] = 'n';
        else if (*c == '\r') out[used++] = '\\', out[used++] = 'r';
        else if (*c == '\t') out[used++] = '\\', out[used++] = 't';
        else if (*c < 0x20 || *c == 0x7f) used += (size_t)snprintf(out + used, size - used, "\\u%04x", *c);
        else out[used++] = (char)*c;
    }
    used += (size_t)snprintf(out + used, size - used, "\"");
    return used;
}

/* AuditLog.link for a row with no account and no subject (the scheduler's). */
static void audit_hash(const char *previous, int64_t now, const char *actor, const char *operation, const char *detail, char hex[65]) {
    char fields[4096];
    size_t used = (size_t)snprintf(fields, sizeof fields, "{\"account\":null,\"actor\":");
    used = json_string(fields, used, sizeof fields, actor);
    used += (size_t)snprintf(fields + used, sizeof fields - used, ",\"at\":%" PRId64 ",\"detail\":", now);
    used = json_string(fields, used, sizeof fields, detail);
    used += (size_t)snprintf(fields + used, sizeof fields - used, ",\"operation\":");
    used = json_string(fields, used, sizeof fields, operation);
    used += (size_t)snprintf(fields + used, sizeof fields - used, ",\"previous\":");
    used = json_string(fields, used, sizeof fields, previous);
    used += (size_t)snprintf(fields + used, sizeof fields - used, ",\"subject\":null}");
    if (used >= sizeof fields) die("audit fields too long");
    unsigned char digest[32];
    crypto_generichash(digest, sizeof digest, (const unsigned char *)fields, used, NULL, 0);
    sodium_bin2hex(hex, 65, digest, sizeof digest);
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
    sqlite3_bind_text(statements[ACCOUNT_SELECT], 1, account, -1, SQLITE_TRANSIENT);
    run(ACCOUNT_SELECT);
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

static int64_t raw_pass(int64_t *runs) {
    open_raw();
    for (int i = 0; i < STATEMENTS; i++) must(sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &statements[i], NULL), sql[i]);
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
        must(code, sql[RESOURCES_DUE]);
        sqlite3_reset(due);
        for (int i = 0; i < batch && i < 1000; i++, expired++) raw_expire(ids[i], accounts[i]);
        more = batch > 1000;
        sqlite3_bind_int64(statements[EXPORTS_GENERATING], 1, 1001);
        run(EXPORTS_GENERATING);
        sqlite3_bind_int64(statements[EXPORTS_PURGE], 1, pass_at);
        sqlite3_bind_int64(statements[EXPORTS_PURGE], 2, 1001);
        run(EXPORTS_PURGE);
        char detail[400], previous[65] = "", hash[65];
        int n = batch < 1000 ? batch : 1000;
        snprintf(detail, sizeof detail,
                 "{\"cancelled_orders\":0,\"exports_purged\":0,\"exports_stepped\":0,\"has_more\":%s,\"now\":%" PRId64 ",\"resources\":"
                 "{\"auto_renew_failed\":0,\"auto_renewed\":0,\"converted\":0,\"effective\":0,\"expired\":%d,\"frozen\":0,"
                 "\"processed\":%d,\"released\":0,\"reminders\":0}}", more ? "true" : "false", pass_at, n, n);
        sqlite3_stmt *last = statements[AUDIT_LAST];
        if ((code = sqlite3_step(last)) == SQLITE_ROW && sqlite3_column_type(last, 0) == SQLITE_TEXT) {
            snprintf(previous, sizeof previous, "%s", (const char *)sqlite3_column_text(last, 0));
        }
        sqlite3_reset(last);
        audit_hash(previous, pass_at, "cron", "scheduler.run", detail, hash);
        sqlite3_stmt *audit = statements[AUDIT];
        sqlite3_bind_int64(audit, 1, pass_at);
        sqlite3_bind_text(audit, 2, "cron", -1, SQLITE_STATIC);
        sqlite3_bind_text(audit, 3, "scheduler.run", -1, SQLITE_STATIC);
        sqlite3_bind_null(audit, 4);
        sqlite3_bind_null(audit, 5);
        sqlite3_bind_text(audit, 6, detail, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(audit, 7, hash, -1, SQLITE_TRANSIENT);
        run(AUDIT);
        run(COMMIT);
    }
    for (int i = 0; i < STATEMENTS; i++) sqlite3_finalize(statements[i]);
    close_raw();
    return expired;
}

/* ---- Report ------------------------------------------------------------------------------------ */

static long argument(int argc, char **argv, int index, long fallback, long multiple) {
    if (argc <= index) return fallback;
    char *end;
    long value = strtol(argv[index], &end, 10);
    if (*end || value < multiple || value > 50000000 || value % multiple) {
        die("argument %d must be a positive multiple of %ld (at most 50000000), got '%s'", index, multiple, argv[index]);
    }
    return value;
}

int main(int argc, char **argv) {
    if (sodium_init() < 0) die("sodium_init failed");
    long n = argument(argc, argv, 1, 1000000, ORIGINALS), small = argument(argc, argv, 2, 100000, ORIGINALS);
    int idle = (int)argument(argc, argv, 3, 300, 1);
    if (small > n) die("N_SMALL may not exceed N");
    bought_at = at(2024, 1, 1, 10, 0, 0);
    due_expiry = at(2024, 2, 1, 23, 59, 59);
    pass_at = at(2024, 2, 2, 3, 0, 0);
    idle_at = at(2024, 1, 10, 12, 0, 0);
    snprintf(directory, sizeof directory, "/tmp/bench_scheduler.XXXXXX");
    if (!mkdtemp(directory)) {
        directory[0] = '\0';
        die("mkdtemp failed");
    }
    snprintf(file, sizeof file, "%s/scheduler.sqlite", directory);
    printf("libbilling %s, SQLite %s, file in %s\n", billing_version(), sqlite3_libversion(), directory);

    double start = seconds();
    make_originals();
    double made = seconds() - start;
    open_raw();
    exec("PRAGMA cache_size = -262144");
    double grown = multiply(1, (int)(small / ORIGINALS));
    close_raw();
    double idle_small_median, idle_small_mean, idle_large_median, idle_large_mean;
    idle_runs(idle, &idle_small_median, &idle_small_mean);
    open_raw();
    exec("PRAGMA cache_size = -262144");
    grown += multiply((int)(small / ORIGINALS), (int)(n / ORIGINALS));
    int64_t rows = query_int("SELECT count(*) FROM resources");
    char count_due[160];
    snprintf(count_due, sizeof count_due, "SELECT count(*) FROM resources WHERE due_at IS NOT NULL AND due_at <= %" PRId64, pass_at);
    int64_t due = query_int(count_due);
    int64_t indexed = query_int("SELECT count(*) FROM resources WHERE due_at IS NOT NULL");
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
    int64_t due_at = query_int("SELECT min(due_at) FROM resources WHERE seq % 100 = 0");
    if (due_at != query_int("SELECT max(due_at) FROM resources WHERE seq % 100 = 0") || due_at > pass_at) die("unexpected due_at");
    int64_t events_before = query_int("SELECT coalesce(max(seq), 0) FROM events");
    int64_t audit_before = query_int("SELECT coalesce(max(id), 0) FROM audit_log");
    close_raw();
    int64_t library_runs = 0, raw_runs = 0;
    start = seconds();
    int64_t library_expired = library_pass(&library_runs);
    double library_seconds = seconds() - start;
    open_raw();
    int64_t expired_rows = query_int("SELECT count(*) FROM resources WHERE status = 'EXPIRED'");
    char reset[512];
    snprintf(reset, sizeof reset,
             "BEGIN IMMEDIATE; UPDATE resources SET status = 'IN_USE', grace_end = NULL, retention_end = NULL, due_at = %" PRId64
             " WHERE status = 'EXPIRED'; DELETE FROM events WHERE seq > %" PRId64 "; DELETE FROM audit_log WHERE id > %" PRId64 "; COMMIT;",
             due_at, events_before, audit_before);
    exec(reset);
    exec("PRAGMA wal_checkpoint(TRUNCATE)");
    close_raw();
    if (library_expired != due || expired_rows != due) die("the library expired %" PRId64 " (%" PRId64 " rows), %" PRId64 " were due", library_expired, expired_rows, due);
    start = seconds();
    int64_t raw_expired = raw_pass(&raw_runs);
    double raw_seconds = seconds() - start;
    open_raw();
    expired_rows = query_int("SELECT count(*) FROM resources WHERE status = 'EXPIRED'");
    int64_t expired_events = query_int("SELECT count(*) FROM events WHERE type = 'resource.expired'");
    close_raw();
    if (raw_expired != due || expired_rows != due || expired_events != due) die("raw expired %" PRId64 " (%" PRId64 " rows, %" PRId64 " events), %" PRId64 " were due", raw_expired, expired_rows, expired_events, due);

    /* The library reads the raw pass's work back and finds the file consistent. */
    billing_engine *engine = NULL;
    char *response = NULL, request[160];
    if (billing_engine_open(file, NULL, &engine) != BILLING_OK) die_billing("billing_engine_open");
    snprintf(request, sizeof request, "{\"account_id\": \"" ACCOUNT "\", \"resource_id\": \"RS%012ld\"}", n);
    if (billing_resource_get(engine, request, &response) != BILLING_OK) die_billing("billing_resource_get");
    char grace[64];
    snprintf(grace, sizeof grace, "\"grace_end\":%" PRId64 ",", due_expiry + GRACE_DAYS * 86400);
    if (!strstr(response, "\"status\":\"EXPIRED\"") || !strstr(response, grace)) die("raw expiry reads back wrong: %.400s", response);
    billing_string_free(response);
    start = seconds();
    if (billing_verify(engine, NULL, &response) != BILLING_OK) die_billing("billing_verify");
    double verify_seconds = seconds() - start;
    if (!strstr(response, "\"ok\":true")) die("billing_verify: %.500s", response);
    billing_string_free(response);
    billing_engine_close(engine);

    double library_rate = (double)due / library_seconds, raw_rate = (double)due / raw_seconds, ratio = library_rate / raw_rate;
    char comparison[32];
    if (ratio < 1) snprintf(comparison, sizeof comparison, "%.2fx slower", 1 / ratio);
    else snprintf(comparison, sizeof comparison, "%.2fx faster", ratio);
    printf("| %-36s | %7s | %9s | %15s | %12s | %13s | %-21s |\n", "scenario", "due", "library s", "library res/s", "raw s", "raw res/s",
           "library/raw");
    printf("|--------------------------------------|---------|-----------|-----------------|--------------|---------------|"
           "-----------------------|\n");
    char label[96];
    snprintf(label, sizeof label, "(a) due pass, N=%ld (%" PRId64 "+%" PRId64 " runs)", n, library_runs, raw_runs);
    printf("| %-36s | %7" PRId64 " | %9.2f | %15.0f | %12.2f | %13.0f | %5.1f%% (%s) |\n\n", label, due, library_seconds, library_rate,
           raw_seconds, raw_rate, 100 * ratio, comparison);

    printf("| %-36s | %14s | %14s |\n", "(b) idle run, nothing due", "median us/run", "mean us/run");
    printf("|--------------------------------------|----------------|----------------|\n");
    snprintf(label, sizeof label, "N=%ld", small);
    printf("| %-36s | %14.1f | %14.1f |\n", label, idle_small_median, idle_small_mean);
    snprintf(label, sizeof label, "N=%ld", n);
    printf("| %-36s | %14.1f | %14.1f |\n", label, idle_large_median, idle_large_mean);
    printf("\nidle runs: %d each (after 10 warm-up runs), N=%ld / N=%ld median ratio %.2f; billing_verify on the final file %.1f s\n",
           idle, n, small, idle_large_median / idle_small_median, verify_seconds);
    cleanup();
    return 0;
}
