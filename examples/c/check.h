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
 * What the tests share with the benchmarks and the fuzz harnesses (business time, requests,
 * the json_* readers, paging, events, set-up) is in billing_test_support.h, included below
 * with its checks counted here. This file adds the checks' side: the list readers with their
 * consistency checks, MUST_ON, and (with CHECK_FIXTURES defined) the fixtures of the tests
 * that run on one global engine.
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

/* The shared helpers count their checks here. */
#define SUPPORT_CHECK(ok, what, detail, file, line) check_result((ok) != 0, (file), (line), (what), (detail))
#include "billing_test_support.h"

/* The instant of a business-time (+08:00) wall clock reading, as the tests write it. */
static inline int64_t at(int y, int m, int d, int hour, int minute, int second) {
    return support_at(y, m, d, hour, minute, second);
}

/* ---- Reading the lists --------------------------------------------------------------- */

typedef support_json_function list_function;

/* Pages through billing_events_list or billing_audit_list from the beginning, `limit`
   items a page so that cursors are exercised, storing each item's `id_key` ("seq" or
   "id") in ids[]. When `needle` is given, *hits receives how often it occurs over all
   pages. Returns the number of items, or -1 on a failed call, an inconsistent page (a
   next_cursor that is not the last item) or more than `capacity` items. */
static inline int list_all(billing_engine *engine, list_function list, const char *id_key, int limit,
                           int64_t *ids, int capacity, const char *needle, int *hits) {
    char key[32], cursor[32];
    int count = 0, consistent = 1;
    snprintf(key, sizeof key, "\"%s\":", id_key);
    if (hits) *hits = 0;
    support_pages pages;
    support_pages_begin(&pages, engine, list, "", limit);
    for (const char *page; consistent && (page = support_pages_next(&pages));) {
        for (const char *at = strstr(page, key); at && consistent; at = strstr(at + 1, key)) {
            if (count == capacity) consistent = 0;
            else ids[count++] = strtoll(at + strlen(key), NULL, 10);
        }
        for (const char *at = needle ? strstr(page, needle) : NULL; at; at = strstr(at + 1, needle)) (*hits)++;
        /* Every page names its end, the last item's id (an empty first page: "0"). */
        consistent = consistent && json_string(page, "next_cursor", cursor, sizeof cursor) &&
                     (count == 0 || strtoll(cursor, NULL, 10) == ids[count - 1]);
    }
    int failed = pages.status != BILLING_OK || !consistent;
    support_pages_end(&pages);
    return failed ? -1 : count;
}

/* Whether ids[] is exactly 1, 2, …, count: strictly increasing with no gap. */
static inline int ids_are_dense(const int64_t *ids, int count) {
    for (int i = 0; i < count; i++) {
        if (ids[i] != i + 1) return 0;
    }
    return 1;
}

/* ---- Calls on any engine ---------------------------------------------------------------- */

static int status_; /* the status of the call MUST_ON (or MUST, REFUSES) made last */

static inline char *must_succeed(char *out, const char *file, int line, const char *name) {
    char detail[64];
    snprintf(detail, sizeof detail, "status %d", status_);
    check_result(status_ == BILLING_OK && out != NULL, file, line, name, detail);
    return out;
}

/* A call on `engine` with a printf-formatted request that must succeed; returns its response
   (caller frees). A failure is counted and reported with the status and the last error. */
#define MUST_ON(engine, f, ...) must_succeed(support_call((engine), (f), &status_, __VA_ARGS__), __FILE__, __LINE__, #f)

/* An account's cash balance (one check). */
static inline int64_t cash_on(billing_engine *engine, const char *account) {
    char *json = MUST_ON(engine, billing_account_get, "{\"account_id\": \"%s\"}", account);
    int64_t balance = json_int(json, "account.cash_balance_fen");
    billing_string_free(json);
    return balance;
}

/* billing_verify finds no breach (one check, reported at `line`). */
static inline void check_verify(billing_engine *engine, const char *file, int line) {
    char detail[700];
    int ok = support_verify_ok(engine, detail, sizeof detail);
    check_result(ok, file, line, "billing_verify is ok", detail);
}

/* ---- Fixtures --------------------------------------------------------------------------
 * What test_orders, test_lifecycle and test_accounts share, compiled only where
 * CHECK_FIXTURES is defined before this header is included (test_abi and test_threads have
 * an `engine` of their own): one engine per program or scenario in the global `engine`,
 * requests made with a printf-style format, and the set-up every scenario repeats — a fresh
 * file on a manual clock, products, accounts with a top-up, a purchase paid and provisioned
 * (the shared support_* helpers on `engine`). Checks made inside count like the test's own. */
#ifdef CHECK_FIXTURES

static billing_engine *engine;
static char text[512]; /* STR's buffer, for one check at a time */

typedef char id[32];

/* Calls f on `engine` with a printf-formatted request; returns the response (caller frees) or
   NULL, and the status through *status when given. */
static inline char *call(list_function f, int *status, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    char *out = support_vcall(engine, f, status, format, arguments);
    va_end(arguments);
    return out;
}

/* A call on `engine` that must succeed; returns its response (caller frees). */
#define MUST(f, ...) MUST_ON(engine, f, __VA_ARGS__)

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

/* Opens `engine` on a fresh file at `path` with a manual clock at `start` (one check). */
static inline int open_fixture(const char *path, int64_t start) {
    char options[96];
    support_remove_database(path);
    snprintf(options, sizeof options, "{\"clock\": \"manual\", \"now\": %lld}", (long long)start);
    engine = NULL;
    return CHECK_OK(billing_engine_open(path, options, &engine));
}

static inline void put_product(const char *definition) { support_put_product(engine, definition); }

/* A verified V3 enterprise account with `topup` fen of cash (none when 0), topped up under
   the reference "init-<account>". */
static inline void put_account(const char *account, int64_t topup) {
    char reference[96];
    snprintf(reference, sizeof reference, "init-%s", account);
    support_put_account(engine, account, topup, reference);
}

static inline void topup(const char *account, int64_t amount, const char *reference) {
    billing_string_free(MUST(billing_account_topup, "{\"actor\": \"payments\", \"account_id\": \"%s\", \"amount_fen\": %lld,"
                                                    " \"external_reference\": \"%s\"}", account, (long long)amount, reference));
}

static inline int64_t cash(const char *account) { return cash_on(engine, account); }

/* The sum of an account's CASH ledger entries, paged 50 at a time (one check a page), and how
   many entries of `kind` it holds (may be NULL), with their sum in *kind_sum. */
static inline int64_t ledger_cash(const char *account, const char *kind, int *kind_count, int64_t *kind_sum) {
    char filter[96];
    int64_t sum = 0;
    if (kind_count) *kind_count = 0;
    if (kind_sum) *kind_sum = 0;
    snprintf(filter, sizeof filter, "\"account_id\": \"%s\"", account);
    support_pages pages;
    support_pages_begin(&pages, engine, billing_ledger_list, filter, 50);
    for (const char *page; (page = support_pages_next(&pages));) {
        CHECK(page != NULL);
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
    }
    int failed = pages.status != BILLING_OK;
    support_pages_end(&pages);
    if (failed) {
        check_result(0, __FILE__, __LINE__, "billing_ledger_list", NULL);
        return JSON_MISSING;
    }
    return sum;
}

/* Buys one resource of `product` (one month when `monthly`, else pay-per-use) with auto_pay,
   from cash, and reports it provisioned (four checks); stores its id in `resource`. */
static inline void buy(const char *account, const char *product, int monthly, char *resource) {
    support_buy(engine, account, product, monthly, resource, sizeof(id));
}

#endif /* CHECK_FIXTURES */

#endif /* BILLING_CHECK_H */
