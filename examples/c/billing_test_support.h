/*
 * billing_test_support.h — what the C tests (examples/c), the benchmarks (bench/) and the fuzz
 * harnesses (fuzz/) share, so that none of them keeps a copy of its own: business time,
 * where a database lives (a file, or a PostgreSQL schema), printf-style requests, reading the engine's compact JSON, paging through a
 * list, finding events, and the set-up every scenario repeats (an account with cash, a
 * product, a purchase provisioned, billing_verify).
 *
 * It lives beside the C tests, its main user, because the top-level Makefile rebuilds them
 * when it changes; bench/Makefile and fuzz/Makefile add examples/c to their include path and
 * list it as a prerequisite. Header-only C99 (also clean as C11 under clang's -Wall -Wextra),
 * static inline functions only: each program compiles what it uses and links only libbilling
 * and libc. Nothing here exits, aborts or counts: every function returns what happened.
 *
 * Checks made inside the set-up helpers go through SUPPORT_CHECK(ok, what, detail, file, line),
 * which the including program may define before including this header: the C tests count a
 * check (check.h), the benchmarks die on a failure, the fuzz harness aborts. Undefined, it
 * does nothing and the caller reads the returned status.
 *
 * Names: support_* for functions, json_* for the JSON readers (the tests' vocabulary).
 */
#ifndef BILLING_TEST_SUPPORT_H
#define BILLING_TEST_SUPPORT_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "billing.h"

#ifndef SUPPORT_CHECK
#define SUPPORT_CHECK(ok, what, detail, file, line) ((void)(ok), (void)(what), (void)(detail), (void)(file), (void)(line))
#endif

/* A function of the header that takes a JSON request and answers JSON. */
typedef int (*support_json_function)(billing_engine *, const char *, char **);

/* ---- Business time (+08:00) ------------------------------------------------------------ */

/* Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil); a day
   past the month's end runs on into the next month. */
static inline int64_t support_days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The instant of a business-time (+08:00) wall clock reading. */
static inline int64_t support_at(int y, int m, int d, int hour, int minute, int second) {
    return support_days_from_civil(y, m, d) * 86400 + (int64_t)hour * 3600 + minute * 60 + second - 8 * 3600;
}

/* ---- Databases ------------------------------------------------------------------------------
 * One suite, two backends. Without BILLING_TEST_DATABASE_URL a test's database is an SQLite
 * file in its scratch directory. With it (`make test-pg` sets it to the throwaway cluster's
 * base URL, scripts/pg-cluster.sh url) every database is a fresh schema of that PostgreSQL
 * database: the URL names it as its search_path and billing_engine_open creates it (create is
 * true by default). Schemas are left behind: the cluster is thrown away after the run. A check
 * about SQLite files by nature runs only under support_sqlite_only("why"). */

/* The base URL of the PostgreSQL database the tests run on, or NULL for SQLite files. */
static inline const char *support_database_url(void) {
    const char *url = getenv("BILLING_TEST_DATABASE_URL");
    return url && *url ? url : NULL;
}

static inline int support_is_url(const char *path) {
    return path && (strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0);
}

/* Writes where a new database named `name` lives into buffer: `directory`/`name`.sqlite, or
   the URL of a schema no other database of this run uses (the name, the process id, the
   time and a counter; letters, digits and _ only). Returns buffer, or NULL when it does not
   fit (buffer then holds ""). */
static inline const char *support_database(char *buffer, size_t size, const char *directory, const char *name) {
    static unsigned counter;
    const char *url = support_database_url();
    int written;
    if (!url) {
        written = snprintf(buffer, size, "%s/%s.sqlite", directory, name);
    } else {
        char word[25];
        size_t n = 0;
        for (const char *c = name; *c && n < sizeof word - 1; c++) {
            char ch = *c;
            if (ch >= 'A' && ch <= 'Z') ch = (char)(ch - 'A' + 'a');
            word[n++] = ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) ? ch : '_';
        }
        word[n] = '\0';
        written = snprintf(buffer, size, "%s%coptions=-csearch_path%%3Dc%ld_%ld_%u_%s", url,
                           strchr(url, '?') ? '&' : '?', (long)getpid(), (long)(time(NULL) % 100000), ++counter, word);
    }
    if (written < 0 || (size_t)written >= size) {
        if (size) buffer[0] = '\0';
        return NULL;
    }
    return buffer;
}

/* Whether a check that is about SQLite files by nature (backups by VACUUM INTO, file bytes,
   foreign files) runs: 1 on SQLite; on PostgreSQL 0, after printing that it is skipped and why. */
static inline int support_sqlite_only(const char *why) {
    if (!support_database_url()) return 1;
    printf("skipped on PostgreSQL (SQLite only): %s\n", why);
    fflush(stdout);
    return 0;
}

/* ---- Files -------------------------------------------------------------------------------- */

/* Removes a database file and the files SQLite keeps beside it (nothing for a PostgreSQL URL:
   its schema goes with the throwaway cluster). */
static inline void support_remove_database(const char *path) {
    if (support_is_url(path)) return;
    static const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
    char name[4200];
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        if (snprintf(name, sizeof name, "%s%s", path, suffixes[i]) < (int)sizeof name) unlink(name);
    }
}

/* What needs POSIX 2008 beyond C99 (the programs that define _POSIX_C_SOURCE or _GNU_SOURCE). */
#if defined(_POSIX_C_SOURCE) && _POSIX_C_SOURCE >= 200809L
#include <dirent.h>
#include <sys/stat.h>

/* Monotonic seconds. */
static inline double support_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* Removes `path` and, for a directory, everything under it (symbolic links are not followed). */
static inline void support_remove_tree(const char *path) {
    struct stat status;
    if (lstat(path, &status) != 0) return;
    if (S_ISDIR(status.st_mode)) {
        DIR *directory = opendir(path);
        if (directory) {
            struct dirent *entry;
            char child[4200];
            while ((entry = readdir(directory)) != NULL) {
                if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
                if (snprintf(child, sizeof child, "%s/%s", path, entry->d_name) < (int)sizeof child) support_remove_tree(child);
            }
            closedir(directory);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}
#endif

/* ---- Requests ------------------------------------------------------------------------------ */

/* A printf-formatted string of any length (malloc'ed: the caller frees it); NULL when out of
   memory. */
static inline char *support_vformat(const char *format, va_list arguments) {
    va_list copy;
    va_copy(copy, arguments);
    int length = vsnprintf(NULL, 0, format, copy);
    va_end(copy);
    char *text = length < 0 ? NULL : malloc((size_t)length + 1);
    if (text) vsnprintf(text, (size_t)length + 1, format, arguments);
    return text;
}

static inline char *support_format(const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    char *text = support_vformat(format, arguments);
    va_end(arguments);
    return text;
}

/* Calls f on `engine` with a printf-formatted request; returns the response (the caller frees
   it with billing_string_free) or NULL, and the status through *status when given. */
static inline char *support_vcall(billing_engine *engine, support_json_function f, int *status, const char *format,
                                  va_list arguments) {
    char *request = support_vformat(format, arguments), *out = NULL;
    int got = request ? f(engine, request, &out) : BILLING_E_INTERNAL;
    free(request);
    if (status) *status = got;
    return out;
}

static inline char *support_call(billing_engine *engine, support_json_function f, int *status, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    char *out = support_vcall(engine, f, status, format, arguments);
    va_end(arguments);
    return out;
}

/* ---- Reading one field ----------------------------------------------------------------------
 * json_at(json, path) finds a value by a dotted path of member names and array indexes,
 * e.g. "order.resources.0.expire_at", looking only at each object's own members (nested
 * values and strings are skipped, so a key deeper down never matches). It returns a pointer
 * to the value's first character, or NULL. Keys are compared as written (no escapes). The
 * tests read the engine's compact JSON this way rather than pull in a parser; a host would
 * use a real one. */

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

/* A malloc'ed copy of the value at `path` (the caller frees it), NULL when there is none. */
static inline char *json_copy(const char *json, const char *path) {
    const char *start = json_at(json, path);
    if (!start) return NULL;
    size_t length = (size_t)(json_skip(start) - start);
    char *copy = malloc(length + 1);
    if (copy) {
        memcpy(copy, start, length);
        copy[length] = '\0';
    }
    return copy;
}

/* Searching rather than walking, for a benchmark's or a harness's quick look where a path
   would be longer than the question (the engine writes compact JSON with sorted keys):
   json_find_after copies what follows the first `pattern` in `json` up to the next unescaped
   '"' (escapes left as written) and returns a pointer just past it in `json`; NULL, with
   buffer untouched, when the pattern is absent or the value does not fit. */
static inline const char *json_find_after(const char *json, const char *pattern, char *buffer, size_t size) {
    const char *at = json ? strstr(json, pattern) : NULL;
    if (!at) return NULL;
    at += strlen(pattern);
    size_t length = 0;
    while (at[length] && at[length] != '"') length += at[length] == '\\' && at[length + 1] ? 2 : 1;
    if (length >= size) return NULL;
    memcpy(buffer, at, length);
    buffer[length] = '\0';
    return at + length;
}

/* The first string member `"key":"…"` anywhere in `json`, at any depth (json_find_after). */
static inline const char *json_find_string(const char *json, const char *key, char *buffer, size_t size) {
    char pattern[96];
    if (snprintf(pattern, sizeof pattern, "\"%s\":\"", key) >= (int)sizeof pattern) return NULL;
    return json_find_after(json, pattern, buffer, size);
}

/* The first integer member `"key":123` anywhere in `json`; JSON_MISSING when there is none. */
static inline int64_t json_find_int(const char *json, const char *key) {
    char pattern[96];
    if (!json || snprintf(pattern, sizeof pattern, "\"%s\":", key) >= (int)sizeof pattern) return JSON_MISSING;
    const char *at = strstr(json, pattern);
    if (!at) return JSON_MISSING;
    at += strlen(pattern);
    if (!(*at == '-' || (*at >= '0' && *at <= '9'))) return JSON_MISSING;
    return strtoll(at, NULL, 10);
}

/* ---- Paging through a list ---------------------------------------------------------------------
 * Every *_list function pages the same way: "limit" and "after" in, "next_cursor" and
 * "has_more" out. A support_pages walks one from the beginning:
 *
 *     support_pages pages;
 *     support_pages_begin(&pages, engine, billing_events_list, "\"account_id\": \"acc-1\"", 100);
 *     for (const char *page; (page = support_pages_next(&pages));) { … }
 *     if (pages.status != BILLING_OK) … the call that failed …
 *     support_pages_end(&pages);
 */
typedef struct {
    billing_engine *engine;
    support_json_function list;
    const char *filter; /* request members before "limit", without braces; "" for none */
    int limit;
    int started, more;
    int status; /* of the last call */
    char cursor[96];
    char *page; /* the current page, freed by the next call */
} support_pages;

static inline void support_pages_begin(support_pages *pages, billing_engine *engine, support_json_function list,
                                       const char *filter, int limit) {
    memset(pages, 0, sizeof *pages);
    pages->engine = engine;
    pages->list = list;
    pages->filter = filter ? filter : "";
    pages->limit = limit;
    pages->more = 1;
    pages->status = BILLING_OK;
}

/* The next page (valid until the next call), or NULL after the last one or when a call
   failed (status is then its status). */
static inline const char *support_pages_next(support_pages *pages) {
    billing_string_free(pages->page);
    pages->page = NULL;
    if (!pages->more || pages->status != BILLING_OK) return NULL;
    const char *comma = pages->filter[0] ? ", " : "";
    if (pages->started) {
        pages->page = support_call(pages->engine, pages->list, &pages->status, "{%s%s\"limit\": %d, \"after\": \"%s\"}",
                                   pages->filter, comma, pages->limit, pages->cursor);
    } else {
        pages->page = support_call(pages->engine, pages->list, &pages->status, "{%s%s\"limit\": %d}", pages->filter, comma,
                                   pages->limit);
    }
    pages->started = 1;
    if (!pages->page) {
        if (pages->status == BILLING_OK) pages->status = BILLING_E_INTERNAL;
        return NULL;
    }
    pages->more = json_is(pages->page, "has_more", "true") &&
                  json_string(pages->page, "next_cursor", pages->cursor, sizeof pages->cursor) != NULL;
    return pages->page;
}

static inline void support_pages_end(support_pages *pages) {
    billing_string_free(pages->page);
    pages->page = NULL;
}

/* ---- Events ------------------------------------------------------------------------------------ */

/* The `index`-th (0-based) event of `type` about `subject` (NULL: any) in the account's
   outbox (NULL account: the whole outbox), as a malloc'ed copy of its JSON object (the caller
   frees it with free()), or NULL; *count (may be NULL) receives how many there are, -1 when a
   page could not be read. Each page read is one SUPPORT_CHECK. */
static inline char *support_find_event(billing_engine *engine, const char *account, const char *type, const char *subject,
                                       int index, int *count) {
    char filter[160] = "", *found = NULL;
    int matches = 0;
    if (account) snprintf(filter, sizeof filter, "\"account_id\": \"%s\"", account);
    support_pages pages;
    support_pages_begin(&pages, engine, billing_events_list, filter, 1000);
    for (const char *page; (page = support_pages_next(&pages));) {
        SUPPORT_CHECK(1, "billing_events_list", NULL, __FILE__, __LINE__);
        for (int i = 0, n = json_count(page, "events"); i < n; i++) {
            char field[48], event_type[64] = "", event_subject[64] = "";
            snprintf(field, sizeof field, "events.%d.type", i);
            json_string(page, field, event_type, sizeof event_type);
            snprintf(field, sizeof field, "events.%d.subject_id", i);
            json_string(page, field, event_subject, sizeof event_subject);
            if (strcmp(event_type, type) != 0 || (subject && strcmp(event_subject, subject) != 0)) continue;
            if (matches++ == index && !found) {
                snprintf(field, sizeof field, "events.%d", i);
                found = json_copy(page, field);
            }
        }
    }
    if (pages.status != BILLING_OK) {
        SUPPORT_CHECK(0, "billing_events_list", NULL, __FILE__, __LINE__);
        matches = -1;
    }
    support_pages_end(&pages);
    if (count) *count = matches;
    return found;
}

/* How many events of `type` about `subject` (NULL: any) the account's outbox holds; -1 when
   it could not be read. */
static inline int support_count_events(billing_engine *engine, const char *account, const char *type, const char *subject) {
    int count = 0;
    free(support_find_event(engine, account, type, subject, 0, &count));
    return count;
}

/* ---- Set-up ------------------------------------------------------------------------------------ */

/* A verified V3 enterprise account, with `cash` fen topped up under `reference` (no top-up when
   cash is 0). One SUPPORT_CHECK per call; returns the status of the first call that failed. */
static inline int support_put_account(billing_engine *engine, const char *account, int64_t cash, const char *reference) {
    int status;
    billing_string_free(support_call(engine, billing_account_put, &status,
                                     "{\"actor\": \"kyc\", \"account_id\": \"%s\", \"type\": \"ENTERPRISE\","
                                     " \"realname_verified\": true, \"level\": \"V3\"}", account));
    SUPPORT_CHECK(status == BILLING_OK, "billing_account_put", account, __FILE__, __LINE__);
    if (status != BILLING_OK || cash <= 0) return status;
    billing_string_free(support_call(engine, billing_account_topup, &status,
                                     "{\"actor\": \"payments\", \"account_id\": \"%s\", \"amount_fen\": %lld,"
                                     " \"external_reference\": \"%s\"}", account, (long long)cash, reference));
    SUPPORT_CHECK(status == BILLING_OK, "billing_account_topup", account, __FILE__, __LINE__);
    return status;
}

/* Puts one product (`definition`: its JSON object). One SUPPORT_CHECK; returns the status. */
static inline int support_put_product(billing_engine *engine, const char *definition) {
    int status;
    billing_string_free(support_call(engine, billing_product_put, &status, "{\"actor\": \"catalog\", \"product\": %s}",
                                     definition));
    SUPPORT_CHECK(status == BILLING_OK, "billing_product_put", definition, __FILE__, __LINE__);
    return status;
}

/* Buys one resource of `product` (one month when `monthly`, else pay-per-use) with auto_pay,
   from the account's funds, and reports it provisioned; stores its id in resource[size] ("" on
   failure). Four SUPPORT_CHECKs: both calls, the order PROCESSING, the resource IN_USE.
   Returns 1 when all held. */
static inline int support_buy(billing_engine *engine, const char *account, const char *product, int monthly, char *resource,
                              size_t size) {
    char status_text[32] = "";
    int status, ok;
    resource[0] = '\0';
    char *json = support_call(engine, billing_order_create, &status,
                              "{\"actor\": \"portal\", \"account_id\": \"%s\", \"auto_pay\": true, \"items\":"
                              " [{\"product_id\": \"%s\"%s}]}", account, product,
                              monthly ? ", \"period\": {\"unit\": \"MONTH\", \"count\": 1}" : "");
    SUPPORT_CHECK(status == BILLING_OK && json != NULL, "billing_order_create", product, __FILE__, __LINE__);
    ok = status == BILLING_OK && json_string(json, "order.status", status_text, sizeof status_text) &&
         strcmp(status_text, "PROCESSING") == 0;
    SUPPORT_CHECK(ok, "the paid order is PROCESSING", status_text, __FILE__, __LINE__);
    json_string(json, "order.resources.0.resource_id", resource, size);
    billing_string_free(json);
    json = support_call(engine, billing_resource_report, &status,
                        "{\"actor\": \"provisioner\", \"account_id\": \"%s\", \"results\":"
                        " [{\"resource_id\": \"%s\", \"outcome\": \"SUCCEEDED\"}]}", account, resource);
    SUPPORT_CHECK(status == BILLING_OK && json != NULL, "billing_resource_report", resource, __FILE__, __LINE__);
    status_text[0] = '\0';
    int provisioned = status == BILLING_OK && json_string(json, "resources.0.status", status_text, sizeof status_text) &&
                      strcmp(status_text, "IN_USE") == 0;
    SUPPORT_CHECK(provisioned, "the provisioned resource is IN_USE", status_text, __FILE__, __LINE__);
    billing_string_free(json);
    return ok && provisioned;
}

/* The account's cash balance, JSON_MISSING when it cannot be read. */
static inline int64_t support_cash(billing_engine *engine, const char *account) {
    int status;
    char *json = support_call(engine, billing_account_get, &status, "{\"account_id\": \"%s\"}", account);
    int64_t cash = json_int(json, "account.cash_balance_fen");
    billing_string_free(json);
    return cash;
}

/* Whether billing_verify answers "ok": true with no breach; detail (may be NULL) receives the
   status and the start of the report, for a failure message. */
static inline int support_verify_ok(billing_engine *engine, char *detail, size_t size) {
    char *json = NULL;
    int got = billing_verify(engine, NULL, &json);
    if (detail && size) snprintf(detail, size, "status %d: %.600s", got, json ? json : "(no response)");
    int ok = got == BILLING_OK && json_is(json, "ok", "true") && json_count(json, "breaches") == 0;
    billing_string_free(json);
    return ok;
}

#endif /* BILLING_TEST_SUPPORT_H */
