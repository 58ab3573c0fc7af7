/*
 * check.h — the tiny assertion helper of the C tests (header-only, C99).
 *
 * CHECK(expr) counts a pass or a failure. A failure prints the file, line and expression
 * with this thread's last libbilling error, which usually says why. check_summary() prints
 * the final "N passed, M failed" line and returns the process exit status.
 *
 * The counters sit behind a mutex because test_threads checks from several threads. A
 * forked child has its own copy of them: it reports through its exit status instead.
 *
 * Below them: json_* readers of the engine's compact JSON, and (with CHECK_FIXTURES defined)
 * the fixtures several tests share.
 */
#ifndef BILLING_CHECK_H
#define BILLING_CHECK_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing.h"

static pthread_mutex_t check_mutex = PTHREAD_MUTEX_INITIALIZER;
static int check_passes;
static int check_failures;

/* Records one result; `detail` (may be NULL) is printed on failure. Returns `ok`. */
static inline int check_result(int ok, const char *file, int line, const char *expression,
                               const char *detail) {
    /* Read before anything else runs: the last error belongs to this thread. */
    int code = billing_last_error_code();
    const char *reason = billing_last_error_reason();
    const char *message = billing_last_error_message();
    pthread_mutex_lock(&check_mutex);
    if (ok) {
        check_passes++;
    } else {
        check_failures++;
        printf("FAIL %s:%d: %s\n", file, line, expression);
        if (detail) printf("     %s\n", detail);
        if (code != BILLING_OK) printf("     last error: %d %s: %s\n", code, reason, message);
        fflush(stdout); /* before any fork() or crash, so the line is printed once */
    }
    pthread_mutex_unlock(&check_mutex);
    return ok;
}

/* Compares a status with the expected one and names both on failure. */
static inline int check_status(int got, int want, const char *file, int line, const char *expression) {
    char detail[160];
    snprintf(detail, sizeof detail, "status %d (%s), expected %d (%s)", got, billing_status_string(got),
             want, billing_status_string(want));
    return check_result(got == want, file, line, expression, detail);
}

/* Compares two strings (NULL equals only NULL) and shows their starts on failure. */
static inline int check_string(const char *got, const char *want, const char *file, int line,
                               const char *expression) {
    int ok = (got == NULL || want == NULL) ? got == want : strcmp(got, want) == 0;
    char detail[600];
    snprintf(detail, sizeof detail, "got \"%.250s\", expected \"%.250s\"", got ? got : "(null)",
             want ? want : "(null)");
    return check_result(ok, file, line, expression, detail);
}

#define CHECK(expr) check_result((expr) != 0, __FILE__, __LINE__, #expr, NULL)
#define CHECK_STATUS(call, status) check_status((call), (status), __FILE__, __LINE__, #call)
#define CHECK_OK(call) CHECK_STATUS(call, BILLING_OK)
#define CHECK_STR(got, want) check_string((got), (want), __FILE__, __LINE__, #got " == " #want)

/* Prints the last line every test ends with; returns the exit status for main. */
static inline int check_summary(void) {
    printf("%d passed, %d failed\n", check_passes, check_failures);
    return check_failures > 0 ? 1 : 0;
}

/* ---- Reading the lists ---------------------------------------------------------------
 * The tests scan the engine's compact JSON with strstr rather than pull in a JSON parser;
 * a host would use a real one. */

typedef int (*list_function)(billing_engine *, const char *, char **);

/* Pages through billing_events_list or billing_audit_list from the beginning, `limit`
   items a page so that cursors are exercised, storing each item's `id_key` ("seq" or
   "id") in ids[]. When `needle` is given, *hits receives how often it occurs over all
   pages. Returns the number of items, or -1 on a failed call, an inconsistent page (a
   next_cursor that is not the last item) or more than `capacity` items. */
static inline int list_all(billing_engine *engine, list_function list, const char *id_key, int limit,
                           int64_t *ids, int capacity, const char *needle, int *hits) {
    static const char cursor_key[] = "\"next_cursor\":\"";
    char key[32], cursor[32] = "", request[96];
    int count = 0;
    snprintf(key, sizeof key, "\"%s\":", id_key);
    if (hits) *hits = 0;
    for (;;) {
        char *page = NULL;
        if (cursor[0]) snprintf(request, sizeof request, "{\"limit\": %d, \"after\": \"%s\"}", limit, cursor);
        else snprintf(request, sizeof request, "{\"limit\": %d}", limit);
        if (list(engine, request, &page) != BILLING_OK) return -1;
        for (const char *at = strstr(page, key); at; at = strstr(at + 1, key)) {
            if (count == capacity) { billing_string_free(page); return -1; }
            ids[count++] = strtoll(at + strlen(key), NULL, 10);
        }
        for (const char *at = needle ? strstr(page, needle) : NULL; at; at = strstr(at + 1, needle)) (*hits)++;
        const char *next = strstr(page, cursor_key);
        int more = strstr(page, "\"has_more\":true") != NULL;
        if (next) {
            next += strlen(cursor_key);
            snprintf(cursor, sizeof cursor, "%.*s", (int)strcspn(next, "\""), next);
        }
        int consistent = next != NULL && (count == 0 || strtoll(cursor, NULL, 10) == ids[count - 1]);
        billing_string_free(page);
        if (!consistent) return -1;
        if (!more) return count;
    }
}

/* Whether ids[] is exactly 1, 2, …, count: strictly increasing with no gap. */
static inline int ids_are_dense(const int64_t *ids, int count) {
    for (int i = 0; i < count; i++) {
        if (ids[i] != i + 1) return 0;
    }
    return 1;
}

/* ---- Reading one field ----------------------------------------------------------------
 * json_at(json, path) finds a value by a dotted path of member names and array indexes,
 * e.g. "order.resources.0.expire_at", looking only at each object's own members (nested
 * values and strings are skipped, so a key deeper down never matches). It returns a pointer
 * to the value's first character, or NULL. Keys are compared as written (no escapes). */

static inline const char *json_space(const char *at) {
    while (*at == ' ' || *at == '\n' || *at == '\r' || *at == '\t') at++;
    return at;
}

/* The character after the value starting at `at` (after leading whitespace). */
static inline const char *json_skip(const char *at) {
    int depth = 0;
    at = json_space(at);
    do {
        if (*at == '"') {
            for (at++; *at && *at != '"'; at++) {
                if (*at == '\\' && at[1]) at++;
            }
            if (*at) at++;
        } else if (*at == '{' || *at == '[') {
            depth++, at++;
        } else if (*at == '}' || *at == ']') {
            depth--, at++;
        } else if (depth > 0) {
            at++;
        } else {
            at += strcspn(at, ",}] \n\r\t");
        }
    } while (depth > 0 && *at);
    return at;
}

static inline const char *json_at(const char *json, const char *path) {
    const char *at = json ? json_space(json) : NULL;
    while (at && *path) {
        size_t length = strcspn(path, ".");
        char *end;
        long index = strtol(path, &end, 10);
        if (*at == '[' && end == path + length && length > 0) {
            at = json_space(at + 1);
            for (; index > 0 && *at && *at != ']'; index--) {
                at = json_space(json_skip(at));
                at = *at == ',' ? json_space(at + 1) : at;
            }
            if (*at == ']' || !*at) return NULL;
        } else if (*at == '{') {
            const char *found = NULL;
            at = json_space(at + 1);
            while (*at == '"' && !found) {
                const char *key = at + 1, *colon = json_space(json_skip(at));
                if (*colon != ':') return NULL;
                const char *value = json_space(colon + 1);
                if (strncmp(key, path, length) == 0 && key[length] == '"') found = value;
                at = json_space(json_skip(value));
                at = *at == ',' ? json_space(at + 1) : at;
            }
            if (!found) return NULL;
            at = found;
        } else {
            return NULL;
        }
        path += length + (path[length] == '.');
    }
    return at;
}

#define JSON_MISSING INT64_MIN

/* The integer at `path`, or JSON_MISSING when there is none (absent, null, not a number). */
static inline int64_t json_int(const char *json, const char *path) {
    const char *at = json_at(json, path);
    if (!at || !(*at == '-' || (*at >= '0' && *at <= '9'))) return JSON_MISSING;
    return strtoll(at, NULL, 10);
}

/* Copies the string at `path` (escapes left as written) into buffer; NULL when there is none. */
static inline const char *json_string(const char *json, const char *path, char *buffer, size_t size) {
    const char *at = json_at(json, path);
    if (!at || *at != '"' || size == 0) return NULL;
    size_t length = (size_t)(json_skip(at) - at) - 2;
    snprintf(buffer, size, "%.*s", (int)length, at + 1);
    return buffer;
}

/* Whether the value at `path` is exactly the literal `word` (true, false, null). */
static inline int json_is(const char *json, const char *path, const char *word) {
    const char *at = json_at(json, path);
    return at && strncmp(at, word, strlen(word)) == 0 && json_skip(at) == at + strlen(word);
}

/* The number of elements of the array at `path`, -1 when there is no array. */
static inline int json_count(const char *json, const char *path) {
    const char *at = json_at(json, path);
    if (!at || *at != '[') return -1;
    int count = 0;
    for (at = json_space(at + 1); *at && *at != ']'; count++) {
        at = json_space(json_skip(at));
        at = *at == ',' ? json_space(at + 1) : at;
    }
    return count;
}

/* ---- Fixtures --------------------------------------------------------------------------
 * What test_orders, test_lifecycle and test_accounts share, compiled only where
 * CHECK_FIXTURES is defined before this header is included (test_abi, test_processes and
 * test_threads have helpers of these names of their own): one engine per program or
 * scenario in the global `engine`, requests made with a printf-style format, and the set-up
 * every scenario repeats — a fresh file on a manual clock, products, accounts with a top-up,
 * a purchase paid and provisioned. Checks made inside count like the test's own. They live in
 * this file, not in one of their own, because the top-level Makefile rebuilds the tests when
 * check.h changes. */
#ifdef CHECK_FIXTURES

#include <limits.h>
#include <stdarg.h>
#include <unistd.h>

static billing_engine *engine;
static int status_;    /* the status of the call MUST or REFUSES made last */
static char text[512]; /* STR's buffer, for one check at a time */

typedef char id[32];

/* Calls f on `engine` with a printf-formatted request; returns the response (caller frees) or
   NULL, and the status through *status when given. */
static inline char *call(list_function f, int *status, const char *format, ...) {
    char request[8192], *out = NULL;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(request, sizeof request, format, arguments);
    va_end(arguments);
    int got = f(engine, request, &out);
    if (status) *status = got;
    return out;
}

static inline char *must_succeed(char *out, const char *file, int line, const char *name) {
    char detail[64];
    snprintf(detail, sizeof detail, "status %d", status_);
    check_result(status_ == BILLING_OK && out != NULL, file, line, name, detail);
    return out;
}

/* A call that must succeed; returns its response (caller frees). A failure is counted and
   reported with the status and the last error. */
#define MUST(f, ...) must_succeed(call(f, &status_, __VA_ARGS__), __FILE__, __LINE__, #f)

/* A call that must fail with `want` and `reason`, leaving *out_json NULL. */
#define REFUSES(want, reason, f, ...)                                                        \
    do {                                                                                     \
        char *out_ = call(f, &status_, __VA_ARGS__);                                         \
        check_status(status_, (want), __FILE__, __LINE__, #f " refused");                    \
        check_string(billing_last_error_reason(), (reason), __FILE__, __LINE__, #f " reason"); \
        CHECK(out_ == NULL);                                                                 \
        billing_string_free(out_);                                                           \
    } while (0)

/* A string field, in `text` (NULL when there is none). */
#define STR(json, path) json_string((json), (path), text, sizeof text)
/* Copies a string field into a char array (left as it was when there is none). */
#define COPY(array, json, path) json_string((json), (path), (array), sizeof(array))

/* The engine's clock. */
static inline int64_t now_(void) {
    int64_t now = 0;
    billing_clock_now(engine, &now);
    return now;
}

/* Removes a database file and the files SQLite keeps beside it. */
static inline void remove_database(const char *path) {
    static const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
    char name[PATH_MAX + 16];
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
        unlink(name);
    }
}

/* Opens `engine` on a fresh file at `path` with a manual clock at `start` (one check). */
static inline int open_fixture(const char *path, int64_t start) {
    char options[96];
    remove_database(path);
    snprintf(options, sizeof options, "{\"clock\": \"manual\", \"now\": %lld}", (long long)start);
    engine = NULL;
    return CHECK_OK(billing_engine_open(path, options, &engine));
}

static inline void put_product(const char *definition) {
    billing_string_free(MUST(billing_product_put, "{\"actor\": \"catalog\", \"product\": %s}", definition));
}

/* A verified V3 enterprise account with `topup` fen of cash (none when 0). */
static inline void put_account(const char *account, int64_t topup) {
    billing_string_free(MUST(billing_account_put, "{\"actor\": \"kyc\", \"account_id\": \"%s\", \"type\": \"ENTERPRISE\","
                                                  " \"realname_verified\": true, \"level\": \"V3\"}", account));
    if (topup > 0) {
        billing_string_free(MUST(billing_account_topup, "{\"actor\": \"payments\", \"account_id\": \"%s\", \"amount_fen\": %lld,"
                                                        " \"external_reference\": \"init-%s\"}", account, (long long)topup, account));
    }
}

static inline void topup(const char *account, int64_t amount, const char *reference) {
    billing_string_free(MUST(billing_account_topup, "{\"actor\": \"payments\", \"account_id\": \"%s\", \"amount_fen\": %lld,"
                                                    " \"external_reference\": \"%s\"}", account, (long long)amount, reference));
}

static inline int64_t cash(const char *account) {
    char *json = MUST(billing_account_get, "{\"account_id\": \"%s\"}", account);
    int64_t balance = json_int(json, "account.cash_balance_fen");
    billing_string_free(json);
    return balance;
}

/* The sum of an account's CASH ledger entries, paged 50 at a time (one check a page), and how
   many entries of `kind` it holds (may be NULL), with their sum in *kind_sum. */
static inline int64_t ledger_cash(const char *account, const char *kind, int *kind_count, int64_t *kind_sum) {
    char cursor[32] = "", *page;
    int64_t sum = 0;
    if (kind_count) *kind_count = 0;
    if (kind_sum) *kind_sum = 0;
    for (int more = 1; more;) {
        if (cursor[0]) page = call(billing_ledger_list, NULL, "{\"account_id\": \"%s\", \"limit\": 50, \"after\": \"%s\"}", account, cursor);
        else page = call(billing_ledger_list, NULL, "{\"account_id\": \"%s\", \"limit\": 50}", account);
        if (!CHECK(page != NULL)) return JSON_MISSING;
        for (int i = 0, n = json_count(page, "entries"); i < n; i++) {
            char field[64], fund[16] = "", entry_kind[32] = "";
            snprintf(field, sizeof field, "entries.%d.fund", i);
            json_string(page, field, fund, sizeof fund);
            snprintf(field, sizeof field, "entries.%d.kind", i);
            json_string(page, field, entry_kind, sizeof entry_kind);
            snprintf(field, sizeof field, "entries.%d.amount_fen", i);
            int64_t amount = json_int(page, field);
            if (strcmp(fund, "CASH") == 0) sum += amount;
            if (kind && strcmp(entry_kind, kind) == 0) {
                if (kind_count) (*kind_count)++;
                if (kind_sum) *kind_sum += amount;
            }
        }
        more = json_is(page, "has_more", "true") && COPY(cursor, page, "next_cursor");
        billing_string_free(page);
    }
    return sum;
}

/* Buys one resource of `product` (one month when `monthly`, else pay-per-use) with auto_pay,
   from cash, and reports it provisioned (four checks); stores its id in `resource`. */
static inline void buy(const char *account, const char *product, int monthly, char *resource) {
    resource[0] = '\0';
    char *json = MUST(billing_order_create, "{\"actor\": \"portal\", \"account_id\": \"%s\", \"auto_pay\": true, \"items\":"
                                            " [{\"product_id\": \"%s\"%s}]}", account, product,
                      monthly ? ", \"period\": {\"unit\": \"MONTH\", \"count\": 1}" : "");
    CHECK_STR(STR(json, "order.status"), "PROCESSING");
    json_string(json, "order.resources.0.resource_id", resource, sizeof(id));
    billing_string_free(json);
    json = MUST(billing_resource_report, "{\"actor\": \"provisioner\", \"account_id\": \"%s\", \"results\":"
                                         " [{\"resource_id\": \"%s\", \"outcome\": \"SUCCEEDED\"}]}", account, resource);
    CHECK_STR(STR(json, "resources.0.status"), "IN_USE");
    billing_string_free(json);
}

#endif /* CHECK_FIXTURES */

#endif /* BILLING_CHECK_H */
