/*
 * bench_export.c — what an ORDERS export through libbilling costs over the sqlite3 command-line
 * tool writing the same rows as CSV, and whether the export runs in bounded memory, measured
 * in one run on the same machine and disk, so only the ratios mean anything.
 *
 * The file: one account (V3, 10 % commercial discount on ECS) whose orders are made through
 * the library on a manual clock 30 s apart: 950 billing_order_create calls, every 19th a
 * combined order of two items (a container and two sub-orders), every other one paid at once
 * (auto_pay), the rest left pending; products and periods vary. That is 1,050 order rows, of
 * which 1,000 are listed (plain orders and sub-orders; containers are not). The orders rows
 * are then multiplied with SQL through the sqlite3 C API (INSERT … SELECT, every column
 * copied but: copy k of the order with sequence number s gets s + 1,050 k and the id made of
 * it, its combined_id moved the same way, and its times 28,500 s × k earlier, so the copies
 * extend the history backwards without overlap) until N orders are listed. The export reads
 * only the orders table (OrderFilter.page, then OrderStore.require per order), so order_lines
 * are not multiplied (billing_verify would report the copies as orders without lines).
 *
 * (a) library: billing_export_request {"kind": "ORDERS", "language": "en"} and
 *     billing_export_step until the export is READY (timed from the request, which counts
 *     the rows, to READY), with export_rows_per_step = ROWS_PER_STEP (billing_config_update),
 *     in a fresh process (this program run again with --export) so that its peak resident
 *     memory is its own: getrusage ru_maxrss, VmHWM, and VmRSS before the request, after the
 *     first step and at the end. Done at N_SMALL and at N orders: the peak must not grow with
 *     N. (The file is built by this program run with --build, for the same reason.)
 * (b) baseline: the sqlite3 command-line tool writing the same query as CSV,
 *         sqlite3 -csv -header FILE "SELECT … FROM orders WHERE account_id = … AND
 *             is_combined = 0 ORDER BY created_at DESC, seq DESC" > FILE.csv
 *     with the export's fifteen cells computed in SQL (business times, amounts in yuan), timed
 *     with clock_gettime around system(). Its rows must equal the export's field for field
 *     (the header rows left out; sqlite3 ends rows with LF and quotes cells holding a space,
 *     the export writes CRLF and quotes only where RFC 4180 needs it).
 * (c) list: billing_orders_list {"account_id", "limit": 20} on the same file, in a fresh process
 *     (this program run again with --list): the first page, and a deep page (the next_cursor
 *     after DEEP_PAGES pages, fewer on a small file), each fetched LIST_READS times with the
 *     same request. Baseline: the library's statements (bench_orders.c's (c)): in one read
 *     transaction the configuration revision and one keyset SELECT of the page's whole rows
 *     (… LIMIT 21) through prepared statements.
 *     The time per page must not grow from N_SMALL to N.
 *
 *   usage: bench_export [N [N_SMALL [ROWS_PER_STEP]]]   (defaults 1000000 100000 5000;
 *          N and N_SMALL multiples of 1000, N_SMALL <= N; ROWS_PER_STEP 10–1000000)
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, clock_gettime, fork, pipe, waitpid, getline */
#define BENCH_NAME "bench_export"

#include <sys/resource.h>
#include <sys/wait.h>

#include "bench_common.h"

#define ACCOUNT "bench-account"
#define CREATES 950           /* billing_order_create calls */
#define COMBINED_EVERY 19     /* every 19th creates a combined order of two items: 50 of them */
#define ROWS 1050             /* order rows they make: 900 plain + 50 × (container + 2 sub-orders) */
#define LISTED 1000           /* of which listed (and exported) */
#define STEP_SECONDS 30       /* between two creates */
#define SPAN (CREATES * STEP_SECONDS)

static const char *product_ids[] = {"ecs.c1", "evs.ssd", "vpc.bw"};
static const char *product_types[] = {"ECS", "EVS", "VPC"};
static const int64_t monthly_prices[] = {5000, 1000, 700};

/* ---- Memory of this process --------------------------------------------------------------- */

/* A field of /proc/self/status in KiB ("VmRSS", "VmHWM"); -1 when there is none. */
static long status_kib(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t length = strlen(field);
    long value = -1;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, field, length) == 0 && line[length] == ':') {
            value = strtol(line + length + 1, NULL, 10);
            break;
        }
    }
    if (f) fclose(f);
    return value;
}

static long max_rss_kib(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

static double mib(long kib) { return (double)kib / 1024; }

/* ---- Child processes ------------------------------------------------------------------------ */

/* Runs this program again with `arguments` (a fresh process: its memory counters start from
   its own exec) and returns the line it printed. */
static void run_self(char *const arguments[], char *out, size_t size) {
    int channel[2];
    if (pipe(channel) != 0) die("pipe failed");
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) die("fork failed");
    if (child == 0) {
        dup2(channel[1], STDOUT_FILENO);
        close(channel[0]);
        close(channel[1]);
        execv("/proc/self/exe", arguments);
        _exit(127);
    }
    close(channel[1]);
    size_t used = 0;
    ssize_t got;
    while ((got = read(channel[0], out + used, size - 1 - used)) > 0) used += (size_t)got;
    out[used] = '\0';
    close(channel[0]);
    int status = 0;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        die("%s %s failed (status %d)", arguments[0], arguments[1], status);
    }
}

/* ---- Building the file (child "--build FILE FIRST LAST") -------------------------------------- */

/* The library makes the schema, the account, the catalog and the CREATES orders. */
static void make_originals(const char *file, int64_t start) {
    char request[1024], options[128];
    snprintf(options, sizeof options, "{\"synchronous\": \"NORMAL\", \"clock\": \"manual\", \"now\": %" PRId64 "}", start);
    billing_engine *engine = bench_engine_open(file, options);
    bench_put_account(engine, ACCOUNT, INT64_C(100000000000));
    for (int i = 0; i < 3; i++) {
        snprintf(request, sizeof request,
                 "{\"actor\": \"bench\", \"product\": {\"product_id\": \"%s\", \"product_type\": \"%s\", \"billing_mode\": \"PREPAID\","
                 " \"name\": \"%s standard\", \"region\": \"cn-north-1\", \"monthly_price_fen\": %" PRId64 ", \"yearly_price_fen\": %" PRId64 "}}",
                 product_ids[i], product_types[i], product_types[i], monthly_prices[i], 10 * monthly_prices[i]);
        bench_call_free(engine, billing_product_put, request, "billing_product_put");
    }
    bench_call_free(engine, billing_discount_set,
                    "{\"actor\": \"bench\", \"account_id\": \"" ACCOUNT "\", \"product_type\": \"ECS\", \"rate_bp\": 1000}",
                    "billing_discount_set");
    for (int i = 0; i < CREATES; i++) {
        const char *pay = i % 2 == 0 ? "\"auto_pay\": true, " : "";
        if (i % COMBINED_EVERY == COMBINED_EVERY - 1) {
            snprintf(request, sizeof request,
                     "{\"actor\": \"bench\", \"account_id\": \"" ACCOUNT "\", %s\"items\": [{\"product_id\": \"ecs.c1\","
                     " \"period\": {\"unit\": \"MONTH\", \"count\": 1}}, {\"product_id\": \"evs.ssd\", \"period\": {\"unit\": \"MONTH\","
                     " \"count\": 1}, \"quantity\": 2}]}", pay);
        } else {
            snprintf(request, sizeof request,
                     "{\"actor\": \"bench\", \"account_id\": \"" ACCOUNT "\", %s\"items\": [{\"product_id\": \"%s\", \"period\":"
                     " {\"unit\": \"%s\", \"count\": %d}, \"quantity\": %d}]}",
                     pay, product_ids[i % 3], i % 4 == 0 ? "YEAR" : "MONTH", i % 4 == 0 ? 1 : 1 + i % 3, 1 + i % 5 / 4);
        }
        bench_call_free(engine, billing_order_create, request, "billing_order_create");
        if (billing_clock_advance(engine, STEP_SECONDS, NULL) != BILLING_OK) die_billing("billing_clock_advance");
    }
    billing_engine_close(engine);
}

/* The expression that makes a column of copy k.n from the original o (see the top of the file). */
static void copied(const char *column, char *out, size_t size) {
    size_t length = strlen(column);
    if (strcmp(column, "id") == 0) {
        snprintf(out, size, "printf('CS%%012d', o.seq + k.n * %d)", ROWS);
    } else if (strcmp(column, "seq") == 0) {
        snprintf(out, size, "o.seq + k.n * %d", ROWS);
    } else if (strcmp(column, "combined_id") == 0) {
        snprintf(out, size, "CASE WHEN o.combined_id IS NULL THEN NULL ELSE printf('CS%%012d', CAST(substr(o.combined_id, 3) AS INTEGER)"
                 " + k.n * %d) END", ROWS);
    } else if ((length > 3 && strcmp(column + length - 3, "_at") == 0) || strcmp(column, "pay_deadline") == 0) {
        snprintf(out, size, "o.%s - k.n * %d", column, SPAN); /* NULL stays NULL */
    } else {
        snprintf(out, size, "o.%s", column);
    }
}

/* Copies first..last-1 of the originals; an empty range copies nothing (the recursive CTE
   always yields its first row: multiply(1, 1), N_SMALL = 1,000, copied once too many). */
static void multiply(sqlite3 *db, int64_t first, int64_t last) {
    if (first >= last) return;
    char columns[4096], selected[8192], sql[16384];
    bench_copy_columns(db, "orders", copied, columns, sizeof columns, selected, sizeof selected);
    bench_exec(db, "BEGIN IMMEDIATE");
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE k(n) AS (SELECT %" PRId64 " UNION ALL SELECT n + 1 FROM k WHERE n + 1 < %" PRId64 ")"
             " INSERT INTO orders (%s) SELECT %s FROM k, orders o WHERE o.seq <= %d ORDER BY k.n, o.seq",
             first, last, columns, selected, ROWS);
    bench_exec(db, sql);
    bench_exec(db, "UPDATE id_sequences SET next = (SELECT max(seq) + 1 FROM orders) WHERE name = 'order'");
    bench_exec(db, "COMMIT");
}

/* Child: makes the originals when FIRST is 0, then copies up to LAST listed orders. Prints
   "<library seconds> <multiply seconds> <order rows> <listed rows>". */
static int build_child(char **argv) {
    const char *file = argv[2];
    int64_t first = strtoll(argv[3], NULL, 10), last = strtoll(argv[4], NULL, 10), start = strtoll(argv[5], NULL, 10);
    double made = 0, began = support_seconds();
    if (first == 0) {
        make_originals(file, start);
        made = support_seconds() - began;
    }
    sqlite3 *db = bench_sqlite_open(file, "NORMAL");
    if (first == 0) {
        /* What the multiplication relies on: the originals alone, ids made of sequence numbers. */
        if (bench_query_int(db, "SELECT count(*) FROM orders") != ROWS ||
            bench_query_int(db, "SELECT max(seq) FROM orders") != ROWS ||
            bench_query_int(db, "SELECT count(*) FROM orders WHERE is_combined = 0") != LISTED ||
            bench_query_int(db, "SELECT count(*) FROM orders WHERE id != printf('CS%012d', seq)") != 0) {
            die("the library made unexpected orders");
        }
    }
    bench_exec(db, "PRAGMA cache_size = -262144");
    began = support_seconds();
    multiply(db, first / LISTED > 0 ? first / LISTED : 1, last / LISTED);
    bench_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    double copied = support_seconds() - began;
    int64_t rows = bench_query_int(db, "SELECT count(*) FROM orders");
    int64_t listed = bench_query_int(db, "SELECT count(*) FROM orders WHERE account_id = '" ACCOUNT "' AND is_combined = 0");
    sqlite3_close(db);
    printf("%.6f %.6f %" PRId64 " %" PRId64 "\n", made, copied, rows, listed);
    return 0;
}

/* ---- (a) the export (child "--export FILE ROWS_PER_STEP") ------------------------------------ */

struct export_result {
    double seconds;
    int64_t steps, rows, bytes;
    long rss_open, rss_first_step, rss_end, hwm, max_rss; /* KiB */
    char path[PATH_MAX];
};

/* Child: the export from request to READY. Prints the fields of struct export_result. */
static int export_child(char **argv) {
    const char *file = argv[2];
    long rows_per_step = strtol(argv[3], NULL, 10);
    char request[256], id[64], status[32], *response;
    struct export_result r = {0};
    billing_engine *engine = bench_engine_open(file, NULL);
    snprintf(request, sizeof request, "{\"actor\": \"bench\", \"changes\": {\"export_rows_per_step\": %ld}}", rows_per_step);
    bench_call_free(engine, billing_config_update, request, "billing_config_update");
    r.rss_open = status_kib("VmRSS");

    double start = support_seconds();
    response = bench_call(engine, billing_export_request,
                          "{\"actor\": \"bench\", \"account_id\": \"" ACCOUNT "\", \"kind\": \"ORDERS\", \"language\": \"en\"}",
                          "billing_export_request");
    bench_json_string(response, "export_id", id, sizeof id);
    int64_t expected = bench_json_int(response, "rows_expected");
    billing_string_free(response);
    snprintf(request, sizeof request, "{\"actor\": \"bench\", \"account_id\": \"" ACCOUNT "\", \"export_id\": \"%s\"}", id);
    do {
        response = bench_call(engine, billing_export_step, request, "billing_export_step");
        bench_json_string(response, "status", status, sizeof status);
        r.rows = bench_json_int(response, "rows_written");
        r.bytes = bench_json_int(response, "bytes");
        if (strcmp(status, "FAILED") == 0) die("the export failed: %.300s", response);
        billing_string_free(response);
        if (++r.steps == 1) r.rss_first_step = status_kib("VmRSS");
    } while (strcmp(status, "READY") != 0);
    r.seconds = support_seconds() - start;

    snprintf(request, sizeof request, "{\"account_id\": \"" ACCOUNT "\", \"export_id\": \"%s\"}", id);
    response = bench_call(engine, billing_export_download, request, "billing_export_download");
    bench_json_string(response, "path", r.path, sizeof r.path);
    billing_string_free(response);
    r.rss_end = status_kib("VmRSS");
    r.hwm = status_kib("VmHWM");
    r.max_rss = max_rss_kib();
    billing_engine_close(engine);
    if (r.rows != expected) die("%" PRId64 " rows written, %" PRId64 " expected", r.rows, expected);
    printf("%.6f %" PRId64 " %" PRId64 " %" PRId64 " %ld %ld %ld %ld %ld %s\n", r.seconds, r.steps, r.rows, r.bytes, r.rss_open,
           r.rss_first_step, r.rss_end, r.hwm, r.max_rss, r.path);
    return 0;
}

static struct export_result library_export(char *self, const char *file, long rows_per_step) {
    char step[32], line[PATH_MAX + 512];
    snprintf(step, sizeof step, "%ld", rows_per_step);
    char *arguments[] = {self, "--export", (char *)file, step, NULL};
    run_self(arguments, line, sizeof line);
    struct export_result r;
    if (sscanf(line, "%lf %" SCNd64 " %" SCNd64 " %" SCNd64 " %ld %ld %ld %ld %ld %4095s", &r.seconds, &r.steps, &r.rows, &r.bytes,
               &r.rss_open, &r.rss_first_step, &r.rss_end, &r.hwm, &r.max_rss, r.path) != 10) {
        die("unexpected export result: %s", line);
    }
    return r;
}

/* ---- (c) paging the order list (child "--list FILE") ------------------------------------- */

#define DEEP_PAGES 500 /* pages of 20 followed before the deep page */
#define LIST_READS 200 /* fetches of the same page */

struct list_result {
    double first_library, first_raw, deep_library, deep_raw; /* seconds per page */
    int deep_pages;
};

static void list_request(char *request, size_t size, const char *cursor) {
    if (cursor && cursor[0]) snprintf(request, size, "{\"account_id\": \"" ACCOUNT "\", \"limit\": 20, \"after\": \"%s\"}", cursor);
    else snprintf(request, size, "{\"account_id\": \"" ACCOUNT "\", \"limit\": 20}");
}

/* Seconds per billing_orders_list of the page after `cursor` (NULL: the first page); `first`
   receives its first order id. */
static double library_page(billing_engine *engine, const char *cursor, char *first, size_t size) {
    char request[256], *response = NULL;
    list_request(request, sizeof request, cursor);
    double start = support_seconds();
    for (int i = 0; i < LIST_READS; i++) {
        if (billing_orders_list(engine, request, &response) != BILLING_OK) die_billing("billing_orders_list");
        if (i == 0) bench_json_string(response, "order_id", first, size);
        billing_string_free(response);
    }
    return (support_seconds() - start) / LIST_READS;
}

static void step_ok(sqlite3 *db, sqlite3_stmt *statement, const char *what) {
    int code;
    while ((code = sqlite3_step(statement)) == SQLITE_ROW) {}
    bench_must(db, code == SQLITE_DONE ? SQLITE_OK : code, what);
    sqlite3_reset(statement);
}

/* The same as the library reads it (OrderStore.pageRows, as bench_orders.c's (c)): in one read
   transaction the configuration revision, then the page's whole rows and their seq in one
   keyset SELECT (21 rows for 20 and the next cursor). Before, the baseline selected the ids
   and then loaded each of the 20 rows by id: 21 statements where the library runs one. */
static double raw_page(sqlite3 *db, const char *cursor, char *first, size_t size) {
    char columns[2048] = "", first_sql[2600], after_sql[2700];
    {
        sqlite3_stmt *info;
        size_t used = 0;
        bench_must(db, sqlite3_prepare_v2(db, "PRAGMA table_info(orders)", -1, &info, NULL), "PRAGMA table_info(orders)");
        while (sqlite3_step(info) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(info, 1);
            if (strcmp(name, "seq") == 0) continue;
            used += (size_t)snprintf(columns + used, sizeof columns - used, "%s%s", used ? ", " : "", name);
            if (used >= sizeof columns) die("too many columns in orders");
        }
        sqlite3_finalize(info);
    }
    snprintf(first_sql, sizeof first_sql,
             "SELECT %s, seq FROM orders WHERE account_id = ? AND is_combined = 0 ORDER BY created_at DESC, seq DESC LIMIT ?", columns);
    snprintf(after_sql, sizeof after_sql,
             "SELECT %s, seq FROM orders WHERE account_id = ? AND is_combined = 0 AND (created_at, seq) < (?, ?)"
             " ORDER BY created_at DESC, seq DESC LIMIT ?", columns);
    sqlite3_stmt *begin, *commit, *revision, *page;
    const char *page_sql = cursor ? after_sql : first_sql;
    int64_t created = 0, sequence = 0;
    if (cursor && sscanf(cursor, "%" SCNd64 ":%" SCNd64, &created, &sequence) != 2) die("bad cursor %s", cursor);
    bench_must(db, sqlite3_prepare_v3(db, "BEGIN", -1, SQLITE_PREPARE_PERSISTENT, &begin, NULL), "BEGIN");
    bench_must(db, sqlite3_prepare_v3(db, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &commit, NULL), "COMMIT");
    bench_must(db, sqlite3_prepare_v3(db, "SELECT revision FROM config WHERE id = 1", -1, SQLITE_PREPARE_PERSISTENT, &revision, NULL),
               "revision");
    bench_must(db, sqlite3_prepare_v3(db, page_sql, -1, SQLITE_PREPARE_PERSISTENT, &page, NULL), page_sql);
    double start = support_seconds();
    for (int i = 0; i < LIST_READS; i++) {
        int found = 0, code;
        step_ok(db, begin, "BEGIN");
        if (sqlite3_step(revision) != SQLITE_ROW) die("no configuration revision");
        (void)sqlite3_column_int64(revision, 0);
        sqlite3_reset(revision);
        sqlite3_bind_text(page, 1, ACCOUNT, -1, SQLITE_STATIC);
        if (cursor) {
            sqlite3_bind_int64(page, 2, created);
            sqlite3_bind_int64(page, 3, sequence);
            sqlite3_bind_int64(page, 4, 21);
        } else {
            sqlite3_bind_int64(page, 2, 21);
        }
        while ((code = sqlite3_step(page)) == SQLITE_ROW) {
            if (i == 0 && found == 0) snprintf(first, size, "%s", (const char *)sqlite3_column_text(page, 0));
            for (int c = 0, n = sqlite3_column_count(page); c < n; c++) { /* every column as its stored type */
                if (sqlite3_column_type(page, c) == SQLITE_INTEGER) (void)sqlite3_column_int64(page, c);
                else (void)sqlite3_column_text(page, c);
            }
            found++;
        }
        bench_must(db, code == SQLITE_DONE ? SQLITE_OK : code, page_sql);
        sqlite3_reset(page);
        step_ok(db, commit, "COMMIT");
        if (i == 0 && found != 21) die("raw page holds %d rows", found);
    }
    double elapsed = support_seconds() - start;
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_finalize(revision);
    sqlite3_finalize(page);
    return elapsed / LIST_READS;
}

/* Child: prints the fields of struct list_result. */
static int list_child(char **argv) {
    const char *file = argv[2];
    struct list_result r;
    char cursor[128] = "", request[256], library_first[64], raw_first[64], *response = NULL;
    billing_engine *engine = bench_engine_open(file, NULL);
    int64_t listed = strtoll(argv[3], NULL, 10);
    r.deep_pages = listed / 20 - 2 < DEEP_PAGES ? (int)(listed / 20 - 2) : DEEP_PAGES;
    for (int i = 0; i < r.deep_pages; i++) {
        list_request(request, sizeof request, cursor);
        if (billing_orders_list(engine, request, &response) != BILLING_OK) die_billing("billing_orders_list");
        bench_json_string(response, "next_cursor", cursor, sizeof cursor);
        billing_string_free(response);
    }
    sqlite3 *db = bench_sqlite_open(file, "NORMAL");
    r.first_library = library_page(engine, NULL, library_first, sizeof library_first);
    r.first_raw = raw_page(db, NULL, raw_first, sizeof raw_first);
    if (strcmp(library_first, raw_first) != 0) die("first page: library starts at %s, raw at %s", library_first, raw_first);
    r.deep_library = library_page(engine, cursor, library_first, sizeof library_first);
    r.deep_raw = raw_page(db, cursor, raw_first, sizeof raw_first);
    if (strcmp(library_first, raw_first) != 0) die("deep page: library starts at %s, raw at %s", library_first, raw_first);
    sqlite3_close(db);
    billing_engine_close(engine);
    printf("%.9f %.9f %.9f %.9f %d\n", r.first_library, r.first_raw, r.deep_library, r.deep_raw, r.deep_pages);
    return 0;
}

static struct list_result library_list(char *self, const char *file, int64_t n) {
    char listed[32], line[256];
    snprintf(listed, sizeof listed, "%" PRId64, n);
    char *arguments[] = {self, "--list", (char *)file, listed, NULL};
    run_self(arguments, line, sizeof line);
    struct list_result r;
    if (sscanf(line, "%lf %lf %lf %lf %d", &r.first_library, &r.first_raw, &r.deep_library, &r.deep_raw, &r.deep_pages) != 5) {
        die("unexpected list result: %s", line);
    }
    return r;
}

/* ---- (b) the sqlite3 command-line tool ------------------------------------------------------ */

/* The export's cells: business time (+08:00, the default business_utc_offset) and yuan with
   two decimals. */
#define TIME(column) "strftime('%Y-%m-%d %H:%M:%S', " column " + 28800, 'unixepoch')"
#define YUAN(amount) \
    "printf('%s%d.%02d', CASE WHEN (" amount ") < 0 THEN '-' ELSE '' END, abs(" amount ") / 100, abs(" amount ") % 100)"
#define DISCOUNTS "commercial_discount + promotion_discount + discount_coupon"

static const char *baseline_query =
    "SELECT id AS order_id, combined_id, type, status, product_type, billing_mode, " TIME("created_at") " AS created, "
    TIME("paid_at") " AS paid, " YUAN("list_price") " AS list_price, " YUAN(DISCOUNTS) " AS discount, "
    YUAN("list_price - (" DISCOUNTS ")") " AS amount_due, " YUAN("voucher") " AS voucher, "
    YUAN("cash_coupon + stored_value_card + cash + credit") " AS paid_amount, " YUAN("cash") " AS cash, "
    YUAN("credit") " AS credit FROM orders WHERE account_id = '" ACCOUNT "' AND is_combined = 0"
    " ORDER BY created_at DESC, seq DESC";

struct baseline_result {
    double seconds;
    long max_rss; /* KiB: the largest of the shell and sqlite3 */
    int64_t bytes;
};

static int64_t file_size(const char *path) {
    struct stat status;
    return stat(path, &status) == 0 ? (int64_t)status.st_size : -1;
}

/* system() in a forked helper, timed there, so that RUSAGE_CHILDREN names only its shell and
   sqlite3. */
static struct baseline_result sqlite3_export(const char *file, const char *csv) {
    static char command[3 * PATH_MAX + 2048];
    snprintf(command, sizeof command, "sqlite3 -csv -header %s \"%s\" > %s", file, baseline_query, csv);
    int channel[2];
    if (pipe(channel) != 0) die("pipe failed");
    fflush(stdout);
    pid_t helper = fork();
    if (helper < 0) die("fork failed");
    if (helper == 0) {
        close(channel[0]);
        double start = support_seconds();
        int status = system(command);
        double elapsed = support_seconds() - start;
        struct rusage usage;
        getrusage(RUSAGE_CHILDREN, &usage);
        char line[128];
        int length = snprintf(line, sizeof line, "%d %.6f %ld\n", status, elapsed, usage.ru_maxrss);
        if (write(channel[1], line, (size_t)length) != length) _exit(1);
        _exit(0);
    }
    close(channel[1]);
    char line[128] = "";
    ssize_t got = read(channel[0], line, sizeof line - 1);
    line[got > 0 ? got : 0] = '\0';
    close(channel[0]);
    waitpid(helper, NULL, 0);
    struct baseline_result r;
    int status = -1;
    if (sscanf(line, "%d %lf %ld", &status, &r.seconds, &r.max_rss) != 3 || status != 0) die("%s failed: '%s'", command, line);
    r.bytes = file_size(csv);
    return r;
}

/* A CSV row in a form that leaves out how it was written: each field unquoted (RFC 4180) and
   followed by a unit separator, the line end dropped. `out` holds at least strlen(line) + 2. */
static void canonical_row(const char *line, char *out) {
    const char *c = line;
    for (;;) {
        if (*c == '"') {
            for (c++; *c && !(*c == '"' && c[1] != '"'); c++) {
                if (*c == '"') c++; /* a doubled quote */
                *out++ = *c;
            }
            if (*c == '"') c++;
        }
        while (*c && *c != ',' && *c != '\r' && *c != '\n') *out++ = *c++;
        *out++ = '\x1f';
        if (*c != ',') break;
        c++;
    }
    *out = '\0';
}

/* Whether the export's rows (after its byte-order mark and header) equal the baseline's (after
   its header) field for field: sqlite3 ends rows with LF and quotes every cell holding a space,
   the export ends them with CRLF and quotes only where RFC 4180 needs it. *rows receives the
   number of rows compared; on a difference, `difference` names the first one. */
static int same_rows(const char *exported, const char *baseline, int64_t *rows, char *difference, size_t size) {
    FILE *a = fopen(exported, "rb"), *b = fopen(baseline, "rb");
    char *x = NULL, *y = NULL;
    size_t x_size = 0, y_size = 0;
    ssize_t x_length, y_length;
    int same = a && b;
    *rows = 0;
    difference[0] = '\0';
    if (same) {
        unsigned char bom[3];
        same = fread(bom, 1, 3, a) == 3 && bom[0] == 0xEF && bom[1] == 0xBB && bom[2] == 0xBF;
        if (!same) snprintf(difference, size, "no byte-order mark");
    }
    if (same) { /* the headers */
        same = getline(&x, &x_size, a) > 0 && getline(&y, &y_size, b) > 0;
    }
    while (same) {
        x_length = getline(&x, &x_size, a);
        y_length = getline(&y, &y_size, b);
        if (x_length < 0 || y_length < 0) {
            same = x_length < 0 && y_length < 0;
            if (!same) snprintf(difference, size, "one file ends after %" PRId64 " rows", *rows);
            break;
        }
        char *x_fields = malloc((size_t)x_length + 2), *y_fields = malloc((size_t)y_length + 2);
        if (!x_fields || !y_fields) die("out of memory");
        canonical_row(x, x_fields);
        canonical_row(y, y_fields);
        int equal = strcmp(x_fields, y_fields) == 0;
        free(x_fields);
        free(y_fields);
        if (!equal) {
            same = 0;
            snprintf(difference, size, "row %" PRId64 ": export [%.*s] sqlite3 [%.*s]", *rows + 1, (int)strcspn(x, "\r\n"), x,
                     (int)strcspn(y, "\r\n"), y);
            break;
        }
        (*rows)++;
    }
    free(x);
    free(y);
    if (a) fclose(a);
    if (b) fclose(b);
    return same;
}

/* ---- One size ------------------------------------------------------------------------------ */

struct measurement {
    int64_t n;
    double database_mb;
    struct export_result library;
    struct baseline_result raw;
    struct list_result list;
    int64_t compared;
    int same;
    char difference[512];
};

static void measure(char *self, const char *file, int64_t n, long rows_per_step, struct measurement *m) {
    char csv[PATH_MAX];
    m->n = n;
    m->database_mb = (double)file_size(file) / 1e6;
    m->library = library_export(self, file, rows_per_step);
    if (m->library.rows != n) die("the export holds %" PRId64 " rows, not %" PRId64, m->library.rows, n);
    if (file_size(m->library.path) != m->library.bytes) die("%s is not %" PRId64 " bytes long", m->library.path, m->library.bytes);
    snprintf(csv, sizeof csv, "%s/sqlite3-%" PRId64 ".csv", bench_directory, n);
    m->raw = sqlite3_export(file, csv);
    m->same = same_rows(m->library.path, csv, &m->compared, m->difference, sizeof m->difference);
    unlink(csv); /* the export's own file goes with the directory */
    m->list = library_list(self, file, n);
}

int main(int argc, char **argv) {
    if (argc == 6 && strcmp(argv[1], "--build") == 0) return build_child(argv);
    if (argc == 4 && strcmp(argv[1], "--export") == 0) return export_child(argv);
    if (argc == 4 && strcmp(argv[1], "--list") == 0) return list_child(argv);
    long n = bench_multiple(argc, argv, 1, 1000000, LISTED, 50000000), small = bench_multiple(argc, argv, 2, 100000, LISTED, 50000000);
    long rows_per_step = bench_multiple(argc, argv, 3, 5000, 1, 1000000);
    if (small > n) die("N_SMALL may not exceed N");
    if (rows_per_step < 10) die("ROWS_PER_STEP must be at least 10 (export_rows_per_step)");
    if (system("sqlite3 -version > /dev/null") != 0) die("the sqlite3 command-line tool is needed (apt-get install sqlite3)");

    bench_make_directory();
    char file[PATH_MAX], first[32], last[32], start[32], line[256];
    bench_file(file, sizeof file, "export");
    /* The originals are made in the 7.9 hours before 2025-06-30 23:45:00 +08:00. */
    snprintf(start, sizeof start, "%" PRId64, support_at(2025, 6, 30, 23, 45, 0) - SPAN);
    printf("libbilling %s, SQLite %s, file in %s\n", billing_version(), sqlite3_libversion(), bench_directory);
    printf("ORDERS export of one account; export_rows_per_step %ld; this process's VmRSS %.1f MiB (a floor of the children's"
           " ru_maxrss: a child's count starts from its parent's)\n", rows_per_step, mib(status_kib("VmRSS")));
    fflush(stdout);

    struct measurement sizes[2];
    long targets[2] = {small, n};
    int count = n == small ? 1 : 2;
    double made = 0, copying = 0;
    for (int s = 0; s < count; s++) {
        double library_seconds, multiply_seconds;
        int64_t rows, listed;
        snprintf(first, sizeof first, "%ld", s == 0 ? 0 : targets[s - 1]);
        snprintf(last, sizeof last, "%ld", targets[s]);
        char *arguments[] = {argv[0], "--build", file, first, last, start, NULL};
        run_self(arguments, line, sizeof line);
        if (sscanf(line, "%lf %lf %" SCNd64 " %" SCNd64, &library_seconds, &multiply_seconds, &rows, &listed) != 4) {
            die("unexpected build result: %s", line);
        }
        if (listed != targets[s] || rows != targets[s] / LISTED * ROWS) die("the file lists %" PRId64 " of %" PRId64 " orders", listed, rows);
        made += library_seconds;
        copying += multiply_seconds;
        measure(argv[0], file, targets[s], rows_per_step, &sizes[s]);
    }
    printf("file: %ld orders listed (%d rows made by %d billing_order_create calls in %.1f s, the rest by INSERT … SELECT in %.1f s)\n\n",
           n, ROWS, CREATES, made, copying);

    static const struct bench_column speed[] = {
        {"scenario", 33, BENCH_TEXT, 0},     {"rows", 8, BENCH_COUNT, 0},      {"library s", 9, BENCH_REAL, 2},
        {"library rows/s", 14, BENCH_REAL, 0}, {"sqlite3 s", 9, BENCH_REAL, 2}, {"sqlite3 rows/s", 14, BENCH_REAL, 0},
        {"library/sqlite3", 21, BENCH_RATIO, 0},
    };
    static const struct bench_column memory[] = {
        {"N", 8, BENCH_COUNT, 0},           {"db MB", 6, BENCH_REAL, 0},        {"CSV MB", 6, BENCH_REAL, 1},
        {"steps", 5, BENCH_COUNT, 0},       {"ru_maxrss MiB", 13, BENCH_REAL, 1}, {"VmHWM MiB", 9, BENCH_REAL, 1},
        {"RSS open MiB", 12, BENCH_REAL, 1}, {"RSS step 1 MiB", 14, BENCH_REAL, 1}, {"RSS end MiB", 11, BENCH_REAL, 1},
        {"growth MiB", 10, BENCH_REAL, 1},  {"sqlite3 maxrss MiB", 18, BENCH_REAL, 1},
    };
    bench_table_header(speed, sizeof speed / sizeof *speed);
    for (int s = 0; s < count; s++) {
        const struct measurement *m = &sizes[s];
        char scenario[64];
        snprintf(scenario, sizeof scenario, "(a)/(b) ORDERS to CSV, N=%" PRId64, m->n);
        bench_table_row(speed, sizeof speed / sizeof *speed, scenario, m->library.rows, m->library.seconds,
                        (double)m->library.rows / m->library.seconds, m->raw.seconds, (double)m->n / m->raw.seconds,
                        m->raw.seconds / m->library.seconds);
        char summary[96], orders[32];
        snprintf(summary, sizeof summary, "export of %s orders vs the sqlite3 tool", bench_thousands(m->n, orders, sizeof orders));
        bench_summary(summary, (double)m->n / m->library.seconds, (double)m->n / m->raw.seconds);
    }
    printf("\n");
    bench_table_header(memory, sizeof memory / sizeof *memory);
    for (int s = 0; s < count; s++) {
        const struct measurement *m = &sizes[s];
        bench_table_row(memory, sizeof memory / sizeof *memory, m->n, m->database_mb, (double)m->library.bytes / 1e6, m->library.steps,
                        mib(m->library.max_rss), mib(m->library.hwm), mib(m->library.rss_open), mib(m->library.rss_first_step),
                        mib(m->library.rss_end), mib(m->library.rss_end - m->library.rss_open), mib(m->raw.max_rss));
    }
    printf("\nRSS open = after billing_engine_open and billing_config_update, before the request; growth = RSS end − RSS open;"
           " VmHWM = the export process's own peak (since its exec)\n");
    int same = 1;
    for (int s = 0; s < count; s++) {
        const struct measurement *m = &sizes[s];
        if (m->same) {
            printf("N=%" PRId64 ": the export's %" PRId64 " rows equal sqlite3's field for field (export %.1f MB with BOM and header,"
                   " sqlite3 %.1f MB)\n", m->n, m->compared, (double)m->library.bytes / 1e6, (double)m->raw.bytes / 1e6);
        } else {
            printf("N=%" PRId64 ": the export's rows DIFFER from sqlite3's after %" PRId64 " equal rows: %s\n", m->n, m->compared,
                   m->difference);
        }
        same = same && m->same;
    }
    static const struct bench_column paging[] = {
        {"N", 8, BENCH_COUNT, 0},           {"deep after", 10, BENCH_COUNT, 0},   {"first library us", 16, BENCH_REAL, 1},
        {"first raw us", 12, BENCH_REAL, 1}, {"first library/raw", 21, BENCH_RATIO, 0}, {"deep library us", 15, BENCH_REAL, 1},
        {"deep raw us", 11, BENCH_REAL, 1},  {"deep library/raw", 21, BENCH_RATIO, 0},
    };
    printf("\n(c) billing_orders_list, limit 20, %d fetches of each page; raw = revision + one keyset SELECT of whole rows … LIMIT 21"
           " (deep after = pages followed first)\n", LIST_READS);
    bench_table_header(paging, sizeof paging / sizeof *paging);
    for (int s = 0; s < count; s++) {
        const struct list_result *l = &sizes[s].list;
        bench_table_row(paging, sizeof paging / sizeof *paging, sizes[s].n, (int64_t)l->deep_pages, 1e6 * l->first_library,
                        1e6 * l->first_raw, l->first_raw / l->first_library, 1e6 * l->deep_library, 1e6 * l->deep_raw,
                        l->deep_raw / l->deep_library);
    }
    if (count == 2) {
        printf("per page at N=%ld / N=%ld: first page library %.2f raw %.2f, deep page library %.2f raw %.2f\n", n, small,
               sizes[1].list.first_library / sizes[0].list.first_library, sizes[1].list.first_raw / sizes[0].list.first_raw,
               sizes[1].list.deep_library / sizes[0].list.deep_library, sizes[1].list.deep_raw / sizes[0].list.deep_raw);
    }
    printf("\n");
    if (count == 2) {
        printf("peak (VmHWM) at N=%ld / N=%ld: %.2f\n", n, small, (double)sizes[1].library.hwm / (double)sizes[0].library.hwm);
    }
    bench_cleanup();
    return same ? 0 : 1;
}
