/*
 * bench_usage.c — what rating pay-per-use usage through libbilling costs over hand-written
 * SQLite doing the same work, measured in one run on the same machine and disk, so only the
 * ratio means anything.
 *
 * One account with plenty of cash holds RESOURCES pay-per-use resources (bought and
 * provisioned through the library) of a timed product (hourly_price_microfen 12,345,678).
 * RECORDS usage records, each one unit for one whole business hour, are reported 1,000 per
 * call: record k is for resource k % RESOURCES and the k / RESOURCES-th hour from
 * 2024-01-01 00:00, so every record makes one new hourly line of 3,600 unit-seconds charged
 * 12 fen (12.35 rounded), paid from cash. Both files use WAL with synchronous=NORMAL.
 *
 * (a) library: billing_usage_report with 1,000 records (only the calls are timed; the
 *     requests are built outside the clock).
 * The two sides alternate in rounds of 5 calls, library, raw, raw, library, over the records
 * in order (each side on its own file, both open throughout), so that a change of the
 * machine's load during the run weighs on both alike. (Until 2026-12-07 the library rated all
 * its records first, then the raw side all of its: two runs' ratios differed by 0.1.)
 * (b) raw SQLite: the library's statements, in the same texts (an LD_PRELOAD count of
 *     sqlite3_step per statement text gives the same numbers on both sides): per call one
 *     BEGIN IMMEDIATE … COMMIT holding, as Services/UsageService.swift and the Storage stores
 *     do: the configuration revision and the account read; per record the duplicate lookup
 *     (usage_records), the resource row (once per resource a call) and the product row (once a
 *     call), the matching packages query, the existing line lookup, the usage_lines insert (or
 *     update), the usable coupons query, the account and cash balance read, the accounts
 *     update, the ledger insert, the usage_funding upsert and the usage_records insert; then
 *     the account read again and the audit row as AuditLog.swift and RowCoverage.swift write
 *     it (bench_coverage.h, shared with the other baselines): the library's billing_touch
 *     function and TEMP triggers note every touched key, the touched rows are read back (one
 *     statement per table for a table's several keys) and digested (BLAKE2b-256 through
 *     libsodium), the audit row lists them and links to its scope's last row, and row_digests
 *     keeps each digest. Statements are prepared once.
 * Afterwards the library reads both files back (the last line, the balance) and
 * billing_verify must find both files consistent: it checks the raw side's digests and
 * chain as it checks the library's, so the baseline cannot skip any of that work. Above
 * 200,000 records (make bench rates 1,000,000) verifying two files would take minutes more,
 * so a fresh baseline file of 2,000 records is rated and verified instead.
 *
 *   usage: bench_usage [RECORDS [RESOURCES]]   (defaults 200000 1000; RECORDS a multiple of
 *          1000, RESOURCES of 100 and at most RECORDS)
 *
 * The default is 200,000 records, not 1,000,000: through the library a million take well over
 * three minutes on a two-core machine (about 5,000–6,500 records/s), the raw side another
 * minute. `bench_usage 1000000` measures the full million.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, clock_gettime, unlink, rmdir */
#define BENCH_NAME "bench_usage"

#include "bench_common.h"
#include "bench_coverage.h"

/* ---- The account and its resources, made by the library --------------------------------- */

#define ACCOUNT "bench-account"
#define PRODUCT "eip.bw"
#define PRICE_MICROFEN INT64_C(12345678)
#define START INT64_C(1704038400) /* 2024-01-01T00:00:00+08:00: hours are business hours */
#define BATCH 1000
/* Calls a side makes in a row (see main): short enough that the machine's load changes little
   within four of them. */
#define ROUND_CALLS 5
/* Above this many records only a small baseline file is verified (see main). */
#define VERIFY_RECORDS 200000
#define VERIFY_SMALL 2000
static const int64_t initial_cash = INT64_C(1000000000000);

/* One hour of one unit: 3,600 unit-seconds × 12,345,678 / 3,600,000,000 = 12.35 → 12 fen. */
static int64_t charge(int64_t units) { return (units * PRICE_MICROFEN + 1800000000) / 3600000000; }

static char (*resources)[32]; /* the resource ids, in purchase order */

/* Opens `path` through the library (synchronous=NORMAL, manual clock at START) with the
   account, the product and `count` provisioned pay-per-use resources. */
static billing_engine *make_file(const char *path, int count) {
    char request[16384], *response;
    snprintf(request, sizeof request, "{\"synchronous\": \"NORMAL\", \"clock\": \"manual\", \"now\": %" PRId64 "}", START);
    billing_engine *engine = bench_engine_open(path, request);
    bench_put_account(engine, ACCOUNT, initial_cash);
    snprintf(request, sizeof request,
             "{\"actor\": \"bench\", \"product\": {\"product_id\": \"" PRODUCT "\", \"product_type\": \"EIP\", \"billing_mode\": \"ON_DEMAND\","
             " \"name\": \"EIP bandwidth\", \"region\": \"cn-north-1\", \"hourly_price_microfen\": %" PRId64 "}}", PRICE_MICROFEN);
    bench_call_free(engine, billing_product_put, request, "billing_product_put");
    for (int made = 0; made < count; made += 100) {
        response = NULL;
        if (billing_order_create(engine, "{\"actor\": \"bench\", \"account_id\": \"" ACCOUNT "\", \"items\":"
                                         " [{\"product_id\": \"" PRODUCT "\", \"quantity\": 100}]}", &response) != BILLING_OK) {
            die_billing("billing_order_create");
        }
        /* The resources come sorted by id; keys are sorted, so each one's id follows "resource_id". */
        const char *at = strstr(response, "\"resources\":[");
        if (!at) die("no resources in %.300s", response);
        int used = snprintf(request, sizeof request, "{\"actor\": \"bench\", \"account_id\": \"" ACCOUNT "\", \"results\": [");
        for (int i = 0; i < 100; i++) {
            at = strstr(at, "\"resource_id\":\"");
            if (!at) die("only %d resources in an order", i);
            bench_copy_after(at, "\"resource_id\":\"", resources[made + i], sizeof resources[0]);
            at++;
            used += snprintf(request + used, sizeof request - (size_t)used, "%s{\"resource_id\": \"%s\", \"outcome\": \"SUCCEEDED\"}",
                             i ? ", " : "", resources[made + i]);
        }
        snprintf(request + used, sizeof request - (size_t)used, "]}");
        billing_string_free(response);
        bench_call_free(engine, billing_resource_report, request, "billing_resource_report");
    }
    return engine;
}

/* This process's CPU time (user and system): on a shared machine a side that waited for a
   core is not charged for the wait, so the CPU-time ratio moves less with other work than the
   wall-clock one. */
static double cpu_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}
static double library_cpu, raw_cpu;

/* Record k: resource k % count, the business hour k / count from START. */
static int64_t hour_of(int64_t k, int count) { return START + (k / count) * 3600; }

/* ---- (a) through the library -------------------------------------------------------------- */

static char *report_request(int64_t first, int count, char *request, size_t size) {
    int used = snprintf(request, size, "{\"actor\": \"bench\", \"account_id\": \"" ACCOUNT "\", \"records\": [");
    for (int64_t k = first; k < first + BATCH; k++) {
        int64_t hour = hour_of(k, count);
        used += snprintf(request + used, size - (size_t)used,
                         "%s{\"usage_id\": \"u%" PRId64 "\", \"resource_id\": \"%s\", \"quantity\": 1, \"start\": %" PRId64
                         ", \"end\": %" PRId64 "}", k > first ? ", " : "", k, resources[k % count], hour, hour + 3600);
        if ((size_t)used >= size) die("request too long");
    }
    snprintf(request + used, size - (size_t)used, "]}");
    return request;
}

/* Records from..from+n-1 through the library on an open engine (only the calls are timed). */
static double library_usage(billing_engine *engine, int64_t from, int64_t n, int count) {
    static char request[BATCH * 160 + 256];
    double elapsed = 0;
    char expected[64];
    snprintf(expected, sizeof expected, "\"charged_fen\":%" PRId64 ",", charge(3600) * BATCH);
    for (int64_t first = from; first < from + n; first += BATCH) {
        report_request(first, count, request, sizeof request);
        char *response = NULL;
        double start = support_seconds(), cpu = cpu_seconds();
        if (billing_usage_report(engine, request, &response) != BILLING_OK) die_billing("billing_usage_report");
        elapsed += support_seconds() - start;
        library_cpu += cpu_seconds() - cpu;
        /* The first "charged_fen" is the call's total (the account's fields have none). */
        if (!strstr(response, expected) || strstr(response, expected) != strstr(response, "\"charged_fen\":")) {
            die("unexpected charge: %.300s", strstr(response, "\"charged_fen\":") ? strstr(response, "\"charged_fen\":") : response);
        }
        billing_string_free(response);
    }
    return elapsed;
}

/* ---- (b) raw SQLite ------------------------------------------------------------------------- */

static sqlite3 *raw;

enum {
    BEGIN, COMMIT, REVISION, ACCOUNT_SELECT, DUPLICATE, RESOURCE, PRODUCT_SELECT, PACKAGES, LINE_SELECT, LINE_INSERT, LINE_UPDATE,
    COUPONS, CASH_SELECT, CASH_UPDATE, LEDGER, FUNDING, RECORD, STATEMENTS
};

static const char *sql[STATEMENTS] = {
    [BEGIN] = "BEGIN IMMEDIATE",
    [COMMIT] = "COMMIT",
    [REVISION] = "SELECT revision FROM config WHERE id = 1",
    [ACCOUNT_SELECT] = "SELECT id, type, realname_verified, restricted, \"freeze\", level, cash_balance, credit_limit, credit_used,"
                       " deduction_days, unified_expiry_day, created_at, updated_at FROM accounts WHERE id = ?",
    [DUPLICATE] = "SELECT resource_id, quantity, start_at, end_at FROM usage_records WHERE account_id = ? AND usage_id = ?",
    [RESOURCE] = "SELECT id, account_id, order_id, line_no, product_id, product_type, billing_mode, region, status, primary_id,"
                 " relation, period_unit, period_count, anchor_day, created_at, provisioned_at, effective_at, expire_at, ended_at,"
                 " expiry_policy, grace_end, retention_end, freeze_reason, auto_renew_unit, auto_renew_count, auto_renew_remaining,"
                 " next_attempt_at, reminded_days, due_at, refund_blocks FROM resources WHERE id = ? AND account_id = ?",
    [PRODUCT_SELECT] = "SELECT document, updated_at FROM products WHERE id = ?",
    [PACKAGES] = "SELECT id FROM resources WHERE account_id = ? AND billing_mode = 'PACKAGE' AND status IN ('IN_USE', 'PENDING_EFFECTIVE', 'EXPIRED')"
                 "\n    AND effective_at <= ? AND expire_at >= ? ORDER BY expire_at, effective_at, seq",
    [LINE_SELECT] = "SELECT units, covered, overage, price_microfen, charged FROM usage_lines WHERE resource_id = ? AND hour_start = ?",
    [LINE_INSERT] = "INSERT INTO usage_lines (resource_id, hour_start, account_id, units, covered, overage, price_microfen, per_hour,"
                    " charged) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [LINE_UPDATE] = "UPDATE usage_lines SET units = units + ?, covered = covered + ?, overage = ?, charged = ? WHERE resource_id = ?"
                    " AND hour_start = ?",
    [COUPONS] = "SELECT id, account_id, kind, face_value, balance, discount_bp, max_discount, valid_from, valid_to, scope, min_spend,"
                " exclusive_with_discounts, reference, issued_at, used_at FROM coupons WHERE account_id = ?"
                "\n    AND (kind = 'DISCOUNT_COUPON' AND used_at IS NULL OR kind != 'DISCOUNT_COUPON' AND balance > 0)"
                "\n    AND valid_from <= ? AND valid_to > ? ORDER BY seq",
    [CASH_SELECT] = "SELECT cash_balance FROM accounts WHERE id = ?",
    [CASH_UPDATE] = "UPDATE accounts SET cash_balance = ?, updated_at = ? WHERE id = ?",
    [LEDGER] = "INSERT INTO ledger (account_id, fund, kind, amount, balance_after, reference, order_id, recorded_at)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [FUNDING] = "INSERT INTO usage_funding (resource_id, hour_start, source, coupon_id, amount) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (resource_id, hour_start, source, coupon_id) DO UPDATE SET amount = usage_funding.amount + excluded.amount",
    [RECORD] = "INSERT INTO usage_records (account_id, usage_id, resource_id, quantity, start_at, end_at, recorded_at)"
               " VALUES (?, ?, ?, ?, ?, ?, ?)",
};

static sqlite3_stmt *statements[STATEMENTS];

static void text(int which, int index, const char *value) {
    if (value) sqlite3_bind_text(statements[which], index, value, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(statements[which], index);
}

static void integer(int which, int index, int64_t value) { sqlite3_bind_int64(statements[which], index, value); }

/* Runs a statement to its end, reading every column of every row as the library's decoders
   do; returns whether there was a row and the first row's first integer in *first. */
static int run(int which, int64_t *first) {
    sqlite3_stmt *statement = statements[which];
    int code, rows = 0;
    while ((code = sqlite3_step(statement)) == SQLITE_ROW) {
        for (int c = 0, n = sqlite3_column_count(statement); c < n; c++) {
            if (sqlite3_column_type(statement, c) == SQLITE_TEXT) (void)sqlite3_column_text(statement, c);
            else if (rows == 0 && c == 0 && first) *first = sqlite3_column_int64(statement, c);
            else (void)sqlite3_column_int64(statement, c);
        }
        rows++;
    }
    bench_must(raw, code, sql[which]);
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    return rows > 0;
}

/* ---- Row coverage and the audit row: bench_coverage.h, as for the other baselines ----------
   The library's billing_touch function and TEMP triggers note the key of every row a write
   touches; the audit row lists each touched row with the BLAKE2b digest of its content, read
   back after the writes, and row_digests keeps the digests. cover_audit_append runs the same
   statements, so billing_verify checks this file's rows and chain as it checks the library's. */

static void raw_open(const char *path) {
    raw = bench_sqlite_open(path, "NORMAL");
    cover_install(raw);
    for (int i = 0; i < STATEMENTS; i++) {
        bench_must(raw, sqlite3_prepare_v3(raw, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &statements[i], NULL), sql[i]);
    }
}

static void raw_close(void) {
    for (int i = 0; i < STATEMENTS; i++) sqlite3_finalize(statements[i]);
    cover_close();
    sqlite3_close(raw);
    raw = NULL;
}

/* Which resources (and whether the product) the current call has read. */
static unsigned char *resource_read;
static int product_read;

/* One rated record: the same reads and writes as Engine.rate, payUsage and reportUsage. */
static void raw_record(int64_t k, int count, int64_t now) {
    char usage_id[32], reference[64];
    const char *resource = resources[k % count];
    int64_t hour = hour_of(k, count), units = 3600, amount = charge(units);
    snprintf(usage_id, sizeof usage_id, "u%" PRId64, k);

    text(DUPLICATE, 1, ACCOUNT);
    text(DUPLICATE, 2, usage_id);
    if (run(DUPLICATE, NULL)) die("usage %s already rated", usage_id);
    /* Each resource and the product are read once per call (UsageService's lookups). */
    if (!resource_read[k % count]) {
        resource_read[k % count] = 1;
        text(RESOURCE, 1, resource);
        text(RESOURCE, 2, ACCOUNT);
        if (!run(RESOURCE, NULL)) die("no resource %s", resource);
        if (!product_read) {
            product_read = 1;
            text(PRODUCT_SELECT, 1, PRODUCT);
            run(PRODUCT_SELECT, NULL);
        }
    }
    /* One whole business hour: one slot. */
    text(PACKAGES, 1, ACCOUNT);
    integer(PACKAGES, 2, hour);
    integer(PACKAGES, 3, hour);
    run(PACKAGES, NULL);
    text(LINE_SELECT, 1, resource);
    integer(LINE_SELECT, 2, hour);
    if (run(LINE_SELECT, NULL)) {
        integer(LINE_UPDATE, 1, units);
        integer(LINE_UPDATE, 2, 0);
        integer(LINE_UPDATE, 3, units);
        integer(LINE_UPDATE, 4, amount);
        text(LINE_UPDATE, 5, resource);
        integer(LINE_UPDATE, 6, hour);
        run(LINE_UPDATE, NULL);
    } else {
        text(LINE_INSERT, 1, resource);
        integer(LINE_INSERT, 2, hour);
        text(LINE_INSERT, 3, ACCOUNT);
        integer(LINE_INSERT, 4, units);
        integer(LINE_INSERT, 5, 0);
        integer(LINE_INSERT, 6, units);
        integer(LINE_INSERT, 7, PRICE_MICROFEN);
        integer(LINE_INSERT, 8, 1);
        integer(LINE_INSERT, 9, amount);
        run(LINE_INSERT, NULL);
    }
    /* payUsage: no coupon, so the account's cash. */
    text(COUPONS, 1, ACCOUNT);
    integer(COUPONS, 2, hour);
    integer(COUPONS, 3, hour);
    run(COUPONS, NULL);
    text(ACCOUNT_SELECT, 1, ACCOUNT);
    run(ACCOUNT_SELECT, NULL);
    int64_t balance = 0;
    text(CASH_SELECT, 1, ACCOUNT);
    run(CASH_SELECT, &balance);
    balance -= amount;
    integer(CASH_UPDATE, 1, balance);
    integer(CASH_UPDATE, 2, now);
    text(CASH_UPDATE, 3, ACCOUNT);
    run(CASH_UPDATE, NULL);
    snprintf(reference, sizeof reference, "%s@%" PRId64, resource, hour);
    text(LEDGER, 1, ACCOUNT);
    text(LEDGER, 2, "CASH");
    text(LEDGER, 3, "USAGE");
    integer(LEDGER, 4, -amount);
    integer(LEDGER, 5, balance);
    text(LEDGER, 6, reference);
    text(LEDGER, 7, NULL);
    integer(LEDGER, 8, now);
    run(LEDGER, NULL);
    text(FUNDING, 1, resource);
    integer(FUNDING, 2, hour);
    text(FUNDING, 3, "CASH");
    text(FUNDING, 4, "");
    integer(FUNDING, 5, amount);
    run(FUNDING, NULL);
    text(RECORD, 1, ACCOUNT);
    text(RECORD, 2, usage_id);
    text(RECORD, 3, resource);
    integer(RECORD, 4, 1);
    integer(RECORD, 5, hour);
    integer(RECORD, 6, hour + 3600);
    integer(RECORD, 7, now);
    run(RECORD, NULL);
}

/* Records from..from+n-1 on the open raw connection at `now`. */
static double raw_usage(int64_t from, int64_t n, int count, int64_t now) {
    char detail[96];
    snprintf(detail, sizeof detail, "{\"charged_fen\":%" PRId64 ",\"records\":%d}", charge(3600) * BATCH, BATCH);
    double start = support_seconds(), cpu = cpu_seconds();
    for (int64_t first = from; first < from + n; first += BATCH) {
        run(BEGIN, NULL);
        memset(resource_read, 0, (size_t)count);
        product_read = 0;
        run(REVISION, NULL);
        text(ACCOUNT_SELECT, 1, ACCOUNT);
        run(ACCOUNT_SELECT, NULL);
        for (int64_t k = first; k < first + BATCH; k++) raw_record(k, count, now);
        text(ACCOUNT_SELECT, 1, ACCOUNT);
        run(ACCOUNT_SELECT, NULL);
        cover_audit_append(now, "bench", "usage.report", ACCOUNT, NULL, detail);
        cover_check_taken();
        run(COMMIT, NULL);
    }
    double elapsed = support_seconds() - start;
    raw_cpu += cpu_seconds() - cpu;
    return elapsed;
}

/* bench_alternate's sides: records from..from+count-1 through the library or on raw SQLite. */
struct usage_sides { billing_engine *engine; int count; int64_t now; };
static double library_side(void *state, int64_t from, int64_t count) {
    struct usage_sides *sides = state;
    return library_usage(sides->engine, from, count, sides->count);
}
static double raw_side(void *state, int64_t from, int64_t count) {
    struct usage_sides *sides = state;
    return raw_usage(from, count, sides->count, sides->now);
}

/* ---- Checks: what each file holds, read through the library ------------------------------ */

/* Reads a file back (the balance, the last line) and, when `verify`, runs billing_verify on it;
   returns the verify's seconds. */
static double check_file(const char *path, int64_t n, int count, const char *label, int verify) {
    char request[256], expected[96], *response;
    billing_engine *engine = bench_engine_open(path, NULL);
    response = bench_call(engine, billing_account_get, "{\"account_id\": \"" ACCOUNT "\"}", "billing_account_get");
    snprintf(expected, sizeof expected, "\"cash_balance_fen\":%" PRId64 ",", initial_cash - n * charge(3600));
    if (!strstr(response, expected)) die("%s: balance reads back wrong: %.300s", label, response);
    billing_string_free(response);
    int64_t last = n - 1;
    snprintf(request, sizeof request, "{\"account_id\": \"" ACCOUNT "\", \"resource_id\": \"%s\", \"limit\": 1}", resources[last % count]);
    response = bench_call(engine, billing_usage_list, request, "billing_usage_list");
    snprintf(expected, sizeof expected, "\"hour_start\":%" PRId64 ",", hour_of(last, count));
    if (!strstr(response, expected) || !strstr(response, "\"units\":3600") || !strstr(response, "\"charged_fen\":12,")) {
        die("%s: last line reads back wrong: %.300s", label, response);
    }
    billing_string_free(response);
    if (!verify) {
        billing_engine_close(engine);
        return 0;
    }
    double start = support_seconds();
    response = bench_call(engine, billing_verify, "{}", "billing_verify");
    double elapsed = support_seconds() - start;
    if (!strstr(response, "\"ok\":true")) die("%s: billing_verify: %.500s", label, response);
    billing_string_free(response);
    billing_engine_close(engine);
    return elapsed;
}

/* ---- Report ------------------------------------------------------------------------------ */

static const struct bench_column columns[] = {
    {"scenario", 34, BENCH_TEXT, 0},  {"N", 8, BENCH_COUNT, 0},      {"library rec/s", 13, BENCH_REAL, 0},
    {"library us", 11, BENCH_REAL, 1}, {"raw rec/s", 9, BENCH_REAL, 0}, {"raw us", 9, BENCH_REAL, 1},
    {"library/raw", 21, BENCH_RATIO, 0},
};

int main(int argc, char **argv) {
    if (sodium_init() < 0) die("sodium_init failed");
    int64_t n = bench_multiple(argc, argv, 1, 200000, BATCH, 100000000);
    int count = (int)bench_multiple(argc, argv, 2, 1000, 100, 100000000);
    if (count > n) die("RESOURCES may not exceed RECORDS");
    if (n / count > 24 * 366 * 10) die("too many hours per resource");
    resources = calloc((size_t)count, sizeof *resources);
    resource_read = calloc((size_t)count, 1);
    if (!resources || !resource_read) die("out of memory");
    bench_make_directory();
    char library_path[PATH_MAX], raw_path[PATH_MAX], scenario[64];
    bench_file(library_path, sizeof library_path, "lib");
    bench_file(raw_path, sizeof raw_path, "raw");

    printf("libbilling %s, SQLite %s, files in %s\n", billing_version(), sqlite3_libversion(), bench_directory);
    printf("usage rating: %" PRId64 " records (one unit, one business hour each) over %d pay-per-use resources of one account,"
           " %d records per billing_usage_report, paid from cash, synchronous=NORMAL; one op = one record rated\n\n",
           n, count, BATCH);
    bench_table_header(columns, sizeof columns / sizeof *columns);

    /* Rounds of ROUND_CALLS calls, library, raw, raw, library, over the records in order. */
    int64_t now = hour_of(n, count) + 3600;
    billing_engine *engine = make_file(library_path, count);
    if (billing_clock_set(engine, now) != BILLING_OK) die_billing("billing_clock_set");
    billing_engine_close(make_file(raw_path, count));
    raw_open(raw_path);
    struct usage_sides sides = {engine, count, now};
    double library_seconds, raw_seconds;
    bench_alternate(n, (int64_t)ROUND_CALLS * BATCH, BATCH, library_side, &sides, raw_side, &sides, &library_seconds, &raw_seconds);
    raw_close();
    billing_engine_close(engine);
    snprintf(scenario, sizeof scenario, "rate usage, %d resources", count);
    bench_compare_row(columns, scenario, n, library_seconds, raw_seconds, 1e6);
    char summary[64], per_call[32];
    snprintf(summary, sizeof summary, "usage rating, %s records a call", bench_thousands(BATCH, per_call, sizeof per_call));
    bench_summary_times(summary, n, library_seconds, raw_seconds);
    printf("CPU time per record (this process, user + system): library %.1f us, raw %.1f us, library/raw %.2f\n",
           library_cpu / (double)n * 1e6, raw_cpu / (double)n * 1e6, library_cpu > 0 ? raw_cpu / library_cpu : 0.0);
    fflush(stdout);

    if (n <= VERIFY_RECORDS) {
        double library_verify = check_file(library_path, n, count, "library file", 1);
        double raw_verify = check_file(raw_path, n, count, "raw file", 1);
        printf("\nboth files read back through the library (balance, last line) and pass billing_verify (%.1f s and %.1f s);"
               " library total %.1f s, raw total %.1f s\n", library_verify, raw_verify, library_seconds, raw_seconds);
    } else {
        /* billing_verify reads and digests every row of a file: on two files of a million
           records (1.4 GB each) that is minutes more, beyond `make bench`'s budget. The baseline's statements do
           not depend on the count, so a fresh baseline file of VERIFY_SMALL records is verified
           instead (the full-size files are still read back). */
        check_file(library_path, n, count, "library file", 0);
        check_file(raw_path, n, count, "raw file", 0);
        char small_path[PATH_MAX];
        bench_file(small_path, sizeof small_path, "raw-small");
        int small_count = count < VERIFY_SMALL ? count : VERIFY_SMALL;
        billing_engine_close(make_file(small_path, small_count));
        raw_open(small_path);
        raw_usage(0, VERIFY_SMALL, small_count, hour_of(VERIFY_SMALL, small_count) + 3600);
        raw_close();
        double raw_verify = check_file(small_path, VERIFY_SMALL, small_count, "small raw file", 1);
        printf("\nboth files read back through the library (balance, last line); billing_verify, a minute or more a file at this"
               " count, passed on a fresh baseline file of %d records instead (%.1f s); library total %.1f s, raw total %.1f s\n",
               VERIFY_SMALL, raw_verify, library_seconds, raw_seconds);
    }
    free(resources);
    free(resource_read);
    bench_cleanup();
    return 0;
}
