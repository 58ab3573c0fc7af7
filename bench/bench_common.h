/*
 * bench_common.h — what the benchmarks share (header-only, C99; static functions, so that a
 * program pays only for what it calls and links only what that needs).
 *
 *   arguments      bench_count(), bench_multiple()
 *   dying          die(), die_billing(): print "BENCH_NAME: …", remove the scratch directory, exit 1
 *   scratch files  bench_make_directory(), bench_file(), bench_cleanup()
 *   results table  bench_table_header(), bench_table_row(), bench_compare_row()
 *   summary file   bench_summary(): one TSV line per scenario for scripts (BENCH_SUMMARY)
 *   rounds         bench_alternate(), bench_round(): library, raw, raw, library, repeated
 *   the library    bench_engine_open(), bench_call(), bench_call_free(), bench_put_account()
 *   its JSON       bench_json_string(), bench_copy_after(), bench_json_int(): die when absent
 *   raw SQLite     bench_sqlite_connect(), bench_sqlite_pragmas(), bench_sqlite_open(), bench_must(),
 *                  bench_exec(), bench_query_int(), bench_copy_columns()
 *   (row coverage and the audit chain: bench_chain.h, with bench_coverage.h on SQLite or
 *   bench_pg_coverage.h on PostgreSQL; they need -lsodium)
 *
 * Timing (support_seconds), business time (support_at), database files
 * (support_remove_database, support_remove_tree), JSON searching and the account set-up come
 * from examples/c/billing_test_support.h, shared with the C tests and the fuzz harnesses (the
 * Makefile adds examples/c to the include path); a check it makes that fails dies here.
 *
 * Define _POSIX_C_SOURCE 200809L before any #include, and BENCH_NAME ("bench_write") before
 * including this header.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#ifndef BENCH_NAME
#error "define BENCH_NAME before including bench_common.h"
#endif

#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "billing.h"

/* A check of the shared helpers that fails dies (defined below, with die()). */
static void bench_check_failed(const char *what, const char *detail);
#define SUPPORT_CHECK(ok, what, detail, file, line) \
    ((void)(file), (void)(line), (ok) ? (void)0 : bench_check_failed((what), (detail)))
#include "billing_test_support.h"

/* ---- The scratch directory -------------------------------------------------------------- */

/* "/tmp/BENCH_NAME.XXXXXX" once made; "" before, and after bench_cleanup(). */
static char bench_directory[64];

/* Removes the scratch directory with everything in it; a no-op when there is none. */
static inline void bench_cleanup(void) {
    if (!bench_directory[0]) return;
    support_remove_tree(bench_directory);
    bench_directory[0] = '\0';
}

/* Prints "BENCH_NAME: <message>" on stderr, removes the scratch directory and exits with 1. */
static inline void die(const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    fprintf(stderr, BENCH_NAME ": ");
    vfprintf(stderr, format, arguments);
    fprintf(stderr, "\n");
    va_end(arguments);
    bench_cleanup();
    exit(1);
}

/* die() with this thread's last libbilling error. */
static inline void die_billing(const char *call) {
    die("%s: %d %s: %s", call, billing_last_error_code(), billing_last_error_reason(), billing_last_error_message());
}

static void bench_check_failed(const char *what, const char *detail) {
    die("%s (%.200s): %d %s: %s", what, detail ? detail : "", billing_last_error_code(), billing_last_error_reason(),
        billing_last_error_message());
}

/* Makes the scratch directory "/tmp/BENCH_NAME.XXXXXX". */
static inline void bench_make_directory(void) {
    snprintf(bench_directory, sizeof bench_directory, "/tmp/" BENCH_NAME ".XXXXXX");
    if (!mkdtemp(bench_directory)) {
        bench_directory[0] = '\0';
        die("mkdtemp failed");
    }
}

/* "<scratch directory>/<name>.sqlite". */
static inline void bench_file(char *path, size_t size, const char *name) {
    snprintf(path, size, "%s/%s.sqlite", bench_directory, name);
}

/* ---- Arguments ---------------------------------------------------------------------------- */

/* argv[index] as a count of 1–10,000,000, or `fallback` when it is not given. */
static inline int bench_count(int argc, char **argv, int index, int fallback) {
    if (argc <= index) return fallback;
    long value = strtol(argv[index], NULL, 10);
    if (value < 1 || value > 10000000) die("counts must be 1–10000000, got '%s'", argv[index]);
    return (int)value;
}

/* argv[index] as a positive multiple of `multiple` up to `most`, or `fallback` when it is not
   given. */
static inline long bench_multiple(int argc, char **argv, int index, long fallback, long multiple, long most) {
    if (argc <= index) return fallback;
    char *end;
    long value = strtol(argv[index], &end, 10);
    if (*end || value < multiple || value > most || value % multiple) {
        die("argument %d must be a positive multiple of %ld (at most %ld), got '%s'", index, multiple, most, argv[index]);
    }
    return value;
}

/* ---- The results table (Markdown) ------------------------------------------------------- */

/* What a column holds; bench_table_row takes one argument per column of this type. */
enum bench_cell {
    BENCH_TEXT,  /* const char *, left-aligned */
    BENCH_COUNT, /* int64_t */
    BENCH_REAL,  /* double, with `precision` decimals */
    BENCH_RATIO  /* double, library rate / raw rate: "45.6% (2.19x slower)" */
};

struct bench_column {
    const char *title;
    int width;
    enum bench_cell cell;
    int precision;
};

/* The title row and the rule under it. */
static inline void bench_table_header(const struct bench_column *columns, size_t count) {
    for (size_t i = 0; i < count; i++) {
        int left = columns[i].cell == BENCH_TEXT || columns[i].cell == BENCH_RATIO;
        printf(left ? "| %-*s " : "| %*s ", columns[i].width, columns[i].title);
    }
    printf("|\n");
    for (size_t i = 0; i < count; i++) {
        printf("|");
        for (int d = 0; d < columns[i].width + 2; d++) putchar('-');
    }
    printf("|\n");
    fflush(stdout);
}

/* One row: one argument per column, of the type its bench_cell names. */
static inline void bench_table_row(const struct bench_column *columns, size_t count, ...) {
    va_list arguments;
    va_start(arguments, count);
    for (size_t i = 0; i < count; i++) {
        const struct bench_column *column = &columns[i];
        if (column->cell == BENCH_TEXT) {
            printf("| %-*s ", column->width, va_arg(arguments, const char *));
        } else if (column->cell == BENCH_COUNT) {
            printf("| %*" PRId64 " ", column->width, va_arg(arguments, int64_t));
        } else if (column->cell == BENCH_REAL) {
            printf("| %*.*f ", column->width, column->precision, va_arg(arguments, double));
        } else {
            double ratio = va_arg(arguments, double);
            printf("| %5.1f%% (%.2fx %s) ", 100 * ratio, ratio < 1 ? 1 / ratio : ratio, ratio < 1 ? "slower" : "faster");
        }
    }
    va_end(arguments);
    printf("|\n");
    fflush(stdout);
}

/* The row of a library-against-raw comparison in a table of seven columns: scenario, N,
   library rate, library time per op, raw rate, raw time per op, library/raw. `per_op` is
   the unit of the time per op (1e6 for microseconds, 1e3 for milliseconds). */
static inline void bench_compare_row(const struct bench_column *columns, const char *scenario, int64_t n,
                                     double library_seconds, double raw_seconds, double per_op) {
    double library_rate = (double)n / library_seconds, raw_rate = (double)n / raw_seconds;
    bench_table_row(columns, 7, scenario, n, library_rate, per_op / library_rate, raw_rate, per_op / raw_rate,
                    library_rate / raw_rate);
}

/* ---- The summary file (TSV) ------------------------------------------------------------ */

/* Appends "scenario<TAB>library_rate<TAB>baseline_rate<TAB>ratio" to the file named by the
   BENCH_SUMMARY environment variable (the top-level `make bench` sets it to
   build/bench/summary.tsv), so that a run can be compared with targets by a script. Rates
   are operations per second of the scenario's own unit; ratio = library / baseline. Does
   nothing without BENCH_SUMMARY, so a bench program run by hand prints only its table. */
static inline void bench_summary(const char *scenario, double library_rate, double baseline_rate) {
    const char *path = getenv("BENCH_SUMMARY");
    if (!path || !*path) return;
    FILE *file = fopen(path, "a");
    if (!file) die("cannot append to BENCH_SUMMARY %s", path);
    fprintf(file, "%s\t%.3f\t%.3f\t%.4f\n", scenario, library_rate, baseline_rate,
            baseline_rate > 0 ? library_rate / baseline_rate : 0.0);
    if (fclose(file) != 0) die("cannot write BENCH_SUMMARY %s", path);
}

/* "1,000,000": counts in scenario names written as the README's tables write them. */
static inline const char *bench_thousands(int64_t n, char *out, size_t size) {
    char digits[32];
    int length = snprintf(digits, sizeof digits, "%" PRId64, n < 0 ? -n : n);
    size_t used = 0;
    if (n < 0 && used + 1 < size) out[used++] = '-';
    for (int i = 0; i < length && used + 2 < size; i++) {
        if (i > 0 && (length - i) % 3 == 0) out[used++] = ',';
        out[used++] = digits[i];
    }
    out[used < size ? used : size - 1] = '\0';
    return out;
}

/* The same from a comparison's counts and times (n operations each way). */
static inline void bench_summary_times(const char *scenario, int64_t n, double library_seconds, double raw_seconds) {
    bench_summary(scenario, (double)n / library_seconds, (double)n / raw_seconds);
}

/* ---- Calling the library ------------------------------------------------------------------ */

typedef int (*bench_function)(billing_engine *, const char *, char **);

static inline billing_engine *bench_engine_open(const char *path, const char *options) {
    billing_engine *engine = NULL;
    if (billing_engine_open(path, options, &engine) != BILLING_OK) die_billing("billing_engine_open");
    return engine;
}

/* Calls a JSON function and returns its response (caller frees); dies on failure. Never
   inlined: GCC 12 takes a response found by strstr after an inlined call for a pointer to the
   call's local out-variable (-Wdangling-pointer). */
#if defined(__GNUC__)
__attribute__((noinline, unused))
#endif
static char *bench_call(billing_engine *engine, bench_function f, const char *request, const char *name) {
    char *response = NULL;
    if (f(engine, request, &response) != BILLING_OK) die_billing(name);
    return response;
}

/* The same, for a call whose response is not needed. */
static inline void bench_call_free(billing_engine *engine, bench_function f, const char *request, const char *name) {
    billing_string_free(bench_call(engine, f, request, name));
}

/* The benchmarks' customer: a verified V3 enterprise account with `cash` fen topped up (dies
   on failure). */
static inline void bench_put_account(billing_engine *engine, const char *account, int64_t cash) {
    support_put_account(engine, account, cash, "seed");
}

/* ---- Reading the library's compact JSON (strstr: no parser) -------------------------------- */

/* Copies what follows the first `pattern` in `from` up to the next '"'; dies without one. */
static inline void bench_copy_after(const char *from, const char *pattern, char *out, size_t size) {
    if (!json_find_after(from, pattern, out, size)) die("no %s in %.200s", pattern, from);
}

/* The first string member `key` ("key":"…") of `json`; dies without one. */
static inline void bench_json_string(const char *json, const char *key, char *out, size_t size) {
    if (!json_find_string(json, key, out, size)) die("no %s in %.200s", key, json);
}

/* The first integer member `key` ("key":123) of `json`; dies without one. */
static inline int64_t bench_json_int(const char *json, const char *key) {
    int64_t value = json_find_int(json, key);
    if (value == JSON_MISSING) die("no %s in %.200s", key, json);
    return value;
}

/* ---- Raw SQLite ------------------------------------------------------------------------------ */

static inline void bench_must(sqlite3 *db, int code, const char *what) {
    if (code != SQLITE_OK && code != SQLITE_ROW && code != SQLITE_DONE) die("%.300s: %s", what, sqlite3_errmsg(db));
}

static inline void bench_exec(sqlite3 *db, const char *sql) { bench_must(db, sqlite3_exec(db, sql, NULL, NULL, NULL), sql); }

/* The first column of the first row of `sql` (0 without a row). */
static inline int64_t bench_query_int(sqlite3 *db, const char *sql) {
    sqlite3_stmt *statement;
    bench_must(db, sqlite3_prepare_v2(db, sql, -1, &statement, NULL), sql);
    int code = sqlite3_step(statement);
    bench_must(db, code, sql);
    int64_t value = code == SQLITE_ROW ? sqlite3_column_int64(statement, 0) : 0;
    sqlite3_finalize(statement);
    return value;
}

/* sqlite3_open_v2 with `flags` (SQLITE_OPEN_NOMUTEX added) and the library's connection
   settings: extended result codes, a 5 s busy timeout. */
static inline sqlite3 *bench_sqlite_connect(const char *path, int flags) {
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        die("sqlite3_open_v2 %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

/* The pragmas the library runs on every open: WAL, the synchronous setting, foreign keys. */
static inline void bench_sqlite_pragmas(sqlite3 *db, const char *synchronous) {
    char pragmas[128];
    snprintf(pragmas, sizeof pragmas, "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s; PRAGMA foreign_keys = ON;",
             synchronous);
    bench_exec(db, pragmas);
}

/* An existing file opened the way the library opens it. */
static inline sqlite3 *bench_sqlite_open(const char *path, const char *synchronous) {
    sqlite3 *db = bench_sqlite_connect(path, SQLITE_OPEN_READWRITE);
    bench_sqlite_pragmas(db, synchronous);
    return db;
}

/* The two halves of an INSERT … SELECT that copies rows of `table`: its column list ("id, seq,
   …", from PRAGMA table_info, so also the columns a newer schema adds) and, in the same order,
   the expression `expression` writes for each column, given its name. */
static inline void bench_copy_columns(sqlite3 *db, const char *table, void (*expression)(const char *column, char *out, size_t size),
                                      char *columns, size_t columns_size, char *selected, size_t selected_size) {
    char pragma[96], value[512];
    size_t used_columns = 0, used_selected = 0;
    sqlite3_stmt *info;
    snprintf(pragma, sizeof pragma, "PRAGMA table_info(%s)", table);
    bench_must(db, sqlite3_prepare_v2(db, pragma, -1, &info, NULL), pragma);
    columns[0] = selected[0] = '\0';
    while (sqlite3_step(info) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(info, 1);
        expression(name, value, sizeof value);
        used_columns += (size_t)snprintf(columns + used_columns, columns_size - used_columns, "%s%s", used_columns ? ", " : "", name);
        used_selected += (size_t)snprintf(selected + used_selected, selected_size - used_selected, "%s%s", used_selected ? ", " : "", value);
        if (used_columns >= columns_size || used_selected >= selected_size) die("too many columns in %s", table);
    }
    sqlite3_finalize(info);
}

/* ---- Alternating rounds ---------------------------------------------------------------- */

/* One side of a comparison: operations from..from+count-1, returning the seconds they took. */
typedef double (*bench_side)(void *state, int64_t from, int64_t count);

/* Runs operations 0..n-1 on each side, in rounds of `round` operations (a multiple of `unit`;
   the last two rounds split what is left), library, raw, raw, library, repeated over the
   operations in order, and returns each side's seconds: a change of the machine's speed
   during the run weighs on both sides alike. (Each side running its whole count in one or two
   blocks let a drift of a few seconds move a ratio by 0.1 between two runs.) */
static inline void bench_alternate(int64_t n, int64_t round, int64_t unit, bench_side library, void *library_state, bench_side raw,
                                   void *raw_state, double *library_seconds, double *raw_seconds) {
    if (round < unit) round = unit;
    *library_seconds = *raw_seconds = 0;
    for (int64_t at = 0; at < n;) {
        int64_t left = n - at;
        int64_t first = left >= 2 * round ? round : left / unit / 2 * unit, second = left >= 2 * round ? round : left - first;
        *library_seconds += library(library_state, at, first);
        *raw_seconds += raw(raw_state, at, first);
        *raw_seconds += raw(raw_state, at + first, second);
        *library_seconds += library(library_state, at + first, second);
        at += first + second;
    }
}

/* The round bench_alternate is given by default: a twentieth of the count (ten cycles). */
static inline int64_t bench_round(int64_t n) { return n / 20 > 0 ? n / 20 : 1; }

#endif /* BENCH_COMMON_H */
