/*
 * test_abi.c — the C ABI as a C program links it: versions, status strings, the last error,
 * refusal of bad input (with nothing changed), idempotency, the clock, and refusal of
 * database files that libbilling must not touch.
 *
 *   usage: test_abi SCRATCH_DIRECTORY
 */
#define _GNU_SOURCE /* dladdr (and, through it, POSIX 2008: unlink, access, realpath) */

#include <dlfcn.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static const char *scratch;      /* argv[1] */
static billing_engine *engine;   /* the manual-clock engine most checks run against */
static char *baseline;           /* its state, which every refused call must leave as is */
static char sentinel;            /* out parameters start here so that "set to NULL" shows */
static char *out;

#define START 1767225600 /* 2026-01-01T00:00:00Z, the manual clock's start */

static void scratch_path(char *path, size_t size, const char *name) {
    snprintf(path, size, "%s/%s", scratch, name);
}

static int exists(const char *path) { return access(path, F_OK) == 0; }

/* Everything a call could change, as one string: events, audit log, configuration, clock. */
static char *snapshot(void) {
    char *events = NULL, *audit = NULL, *config = NULL;
    int64_t now = 0;
    billing_events_list(engine, "{\"limit\": 1000}", &events);
    billing_audit_list(engine, "{\"limit\": 1000}", &audit);
    billing_config_get(engine, &config);
    billing_clock_now(engine, &now);
    size_t size = 64 + (events ? strlen(events) : 0) + (audit ? strlen(audit) : 0) + (config ? strlen(config) : 0);
    char *text = malloc(size);
    if (text) {
        snprintf(text, size, "%s\n%s\n%s\n%lld", events ? events : "(events failed)",
                 audit ? audit : "(audit failed)", config ? config : "(config failed)", (long long)now);
    }
    billing_string_free(events);
    billing_string_free(audit);
    billing_string_free(config);
    return text;
}

/* Takes a new baseline after a call that was meant to change state. */
static void rebaseline(void) {
    free(baseline);
    baseline = snapshot();
}

/* The contract of a refused call: the expected status and reason (NULL: any), a complete
   last error, *out_json NULL (when the call has one) and no change to the engine's state.
   A call that wrongly succeeds counts as one failure and becomes the new baseline, so that
   it is not reported again by every later check. */
static void check_refused(int got, int want, const char *reason, int has_out, const char *call, int line) {
    char expression[400];
    snprintf(expression, sizeof expression, "%.300s refused", call);
    if (!check_status(got, want, __FILE__, line, expression) && got == BILLING_OK) {
        if (has_out) billing_string_free(out);
        rebaseline();
        return;
    }
    check_result(billing_last_error_code() == want, __FILE__, line, expression, "last error code");
    check_result(billing_last_error_reason()[0] != '\0', __FILE__, line, expression, "a reason is set");
    check_result(billing_last_error_message()[0] != '\0', __FILE__, line, expression, "a message is set");
    if (reason) check_string(billing_last_error_reason(), reason, __FILE__, line, expression);
    if (has_out) check_result(out == NULL, __FILE__, line, expression, "*out_json set to NULL");
    char *now = snapshot(); /* last: it makes calls of its own, which clear the last error */
    check_result(now && baseline && strcmp(now, baseline) == 0, __FILE__, line, expression, "state unchanged");
    free(now);
}

#define REFUSED(want, call) \
    do { out = &sentinel; check_refused((call), (want), NULL, 0, #call, __LINE__); } while (0)
#define REFUSED_JSON(want, call) \
    do { out = &sentinel; check_refused((call), (want), NULL, 1, #call, __LINE__); } while (0)
#define REFUSED_JSON_BECAUSE(want, reason, call) \
    do { out = &sentinel; check_refused((call), (want), (reason), 1, #call, __LINE__); } while (0)

/* Shows which request a table-driven check was about; `reason` (may be NULL) is the one
   expected. */
static void check_refused_request_because(int got, int want, const char *reason, const char *what,
                                          const char *request, int line) {
    char call[400];
    snprintf(call, sizeof call, "%s(%.300s)", what, request);
    check_refused(got, want, reason, 1, call, line);
}

static void check_refused_request(int got, int want, const char *what, const char *request, int line) {
    check_refused_request_because(got, want, NULL, what, request, line);
}

/* ---- Versions, status strings, no-ops ------------------------------------------------ */

static void test_version(void) {
    char text[32];
    snprintf(text, sizeof text, "%d.%d.%d", BILLING_VERSION_MAJOR, BILLING_VERSION_MINOR, BILLING_VERSION_PATCH);
    CHECK_STR(billing_version(), BILLING_VERSION_STRING);
    CHECK_STR(text, BILLING_VERSION_STRING);
    CHECK(billing_version_number() == BILLING_VERSION_NUMBER);
    CHECK(BILLING_VERSION_NUMBER ==
          BILLING_VERSION_MAJOR * 1000000 + BILLING_VERSION_MINOR * 1000 + BILLING_VERSION_PATCH);
}

/* Every status the header defines; codes are append-only. */
static const int known_statuses[] = {
    BILLING_OK,        BILLING_E_INVALID, BILLING_E_NOT_FOUND, BILLING_E_CONFLICT, BILLING_E_REFUSED,
    BILLING_E_STORAGE, BILLING_E_BUSY,    BILLING_E_SCHEMA,    BILLING_E_INTERNAL, BILLING_E_AUTH,
};
enum { KNOWN_STATUSES = sizeof known_statuses / sizeof *known_statuses };

static void test_status_strings(void) {
    CHECK_STR(billing_status_string(BILLING_OK), "ok");
    CHECK_STR(billing_status_string(BILLING_E_INVALID), "invalid argument");
    /* Every known code has its own text; unknown codes share one. */
    for (int i = 0; i < KNOWN_STATUSES; i++) {
        const char *text = billing_status_string(known_statuses[i]);
        CHECK(known_statuses[i] == i); /* dense: 0, 1, 2, … */
        CHECK(text != NULL && text[0] != '\0');
        CHECK(text != NULL && strcmp(text, "unknown status") != 0);
        for (int other = 0; other < i; other++) {
            CHECK(text != NULL && strcmp(text, billing_status_string(known_statuses[other])) != 0);
        }
    }
    const int unknown[] = {-1, KNOWN_STATUSES, 1000, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
        CHECK_STR(billing_status_string(unknown[i]), "unknown status");
    }
}

static void test_noops(void) {
    billing_string_free(NULL);
    billing_engine_close(NULL);
    CHECK(billing_last_error_code() == BILLING_OK);
    CHECK_STR(billing_last_error_reason(), "");
    CHECK_STR(billing_last_error_message(), "");
}

/* ---- Opening ----------------------------------------------------------------------- */

/* A refused open leaves *out_engine NULL and creates no file. */
static void check_open_refused(const char *path, const char *options, int want, int line) {
    billing_engine *opened = (billing_engine *)&sentinel;
    int got = billing_engine_open(path, options, &opened);
    char expression[400];
    snprintf(expression, sizeof expression, "billing_engine_open(%.100s, %.200s) refused", path ? path : "NULL",
             options ? options : "NULL");
    if (!check_status(got, want, __FILE__, line, expression) && got == BILLING_OK) {
        billing_engine_close(opened);
        support_remove_database(path); /* so that later checks see no file again */
        return;
    }
    check_result(billing_last_error_code() == want, __FILE__, line, expression, "last error code");
    check_result(billing_last_error_reason()[0] != '\0', __FILE__, line, expression, "a reason is set");
    check_result(billing_last_error_message()[0] != '\0', __FILE__, line, expression, "a message is set");
    check_result(opened == NULL, __FILE__, line, expression, "*out_engine set to NULL");
    check_result(path == NULL || !exists(path), __FILE__, line, expression, "no file created");
}

static void test_open_refusals(void) {
    char path[PATH_MAX], bad_path[PATH_MAX];
    scratch_path(path, sizeof path, "test_abi_never_created.sqlite");
    scratch_path(bad_path, sizeof bad_path, "test_abi_\xff.sqlite");
    support_remove_database(path);

    check_open_refused(NULL, NULL, BILLING_E_INVALID, __LINE__);
    check_open_refused("", NULL, BILLING_E_INVALID, __LINE__);
    check_open_refused(bad_path, NULL, BILLING_E_INVALID, __LINE__);

    /* NULL out_engine: refused before the file is touched. */
    CHECK_STATUS(billing_engine_open(path, NULL, NULL), BILLING_E_INVALID);
    CHECK(billing_last_error_reason()[0] != '\0' && billing_last_error_message()[0] != '\0');
    CHECK(!exists(path));

    static const char *options[] = {
        "{", "not json", "{\"create\": true,}", "[]", "\"FULL\"", "42", "null", "{\"bogus\": true}",
        "{\"create\": 1}", "{\"create\": \"yes\"}", "{\"synchronous\": \"OFF\"}", "{\"synchronous\": 1}",
        "{\"busy_timeout_ms\": 1.5}", "{\"busy_timeout_ms\": 1e30}", "{\"busy_timeout_ms\": 99999999999999999999}",
        "{\"busy_timeout_ms\": -1}", "{\"busy_timeout_ms\": 600001}", "{\"busy_timeout_ms\": \"5000\"}",
        "{\"clock\": \"atomic\"}", "{\"clock\": \"manual\"}", "{\"clock\": \"manual\", \"now\": 1.5}",
        "{\"clock\": \"manual\", \"now\": \"0\"}", "{\"clock\": \"manual\", \"now\": 1e30}",
        "{\"clock\": \"manual\", \"now\": -1}", "{\"now\": 0}", "{\"synchronous\": \"\xff\"}",
        "{\"synchronous\": \"FULL\", \"\xc0\xaf\": 1}",
    };
    for (size_t i = 0; i < sizeof options / sizeof *options; i++) {
        check_open_refused(path, options[i], BILLING_E_INVALID, __LINE__);
    }

    /* "create": false refuses a missing file instead of creating it. */
    check_open_refused(path, "{\"create\": false}", BILLING_E_STORAGE, __LINE__);
}

/* ---- Refused calls on a live engine -------------------------------------------------- */

static const char *valid_update = "{\"actor\": \"abi\", \"changes\": {\"auto_renew_hour\": 5}}";

/* Every function of the shape f(engine, request_json, out_json). */
static const struct {
    const char *name;
    list_function call;
    int request_optional;
} json_functions[] = {
    {"billing_config_update", billing_config_update, 0},
    {"billing_events_list", billing_events_list, 1},
    {"billing_audit_list", billing_audit_list, 1},
    {"billing_audit_head", billing_audit_head, 1},
    {"billing_account_put", billing_account_put, 0},
    {"billing_account_get", billing_account_get, 0},
    {"billing_account_settings_update", billing_account_settings_update, 0},
    {"billing_account_topup", billing_account_topup, 0},
    {"billing_ledger_list", billing_ledger_list, 0},
    {"billing_coupon_issue", billing_coupon_issue, 0},
    {"billing_coupons_list", billing_coupons_list, 0},
    {"billing_platform_eligibility", billing_platform_eligibility, 0},
    {"billing_platform_apply", billing_platform_apply, 0},
    {"billing_platform_approve", billing_platform_approve, 0},
    {"billing_platform_reject", billing_platform_reject, 0},
    {"billing_platform_resend_link", billing_platform_resend_link, 0},
    {"billing_platform_activate", billing_platform_activate, 0},
    {"billing_platform_get", billing_platform_get, 0},
    {"billing_platform_accounts_list", billing_platform_accounts_list, 0},
    {"billing_platform_login", billing_platform_login, 0},
    {"billing_platform_reset_request", billing_platform_reset_request, 0},
    {"billing_platform_reset_complete", billing_platform_reset_complete, 0},
    {"billing_product_put", billing_product_put, 0},
    {"billing_product_get", billing_product_get, 0},
    {"billing_products_list", billing_products_list, 0},
    {"billing_discount_set", billing_discount_set, 0},
    {"billing_order_quote", billing_order_quote, 0},
    {"billing_order_create", billing_order_create, 0},
    {"billing_order_pay", billing_order_pay, 0},
    {"billing_order_pay_quote", billing_order_pay_quote, 0},
    {"billing_orders_cancel", billing_orders_cancel, 0},
    {"billing_order_review", billing_order_review, 0},
    {"billing_order_confirm", billing_order_confirm, 0},
    {"billing_order_get", billing_order_get, 0},
    {"billing_orders_list", billing_orders_list, 0},
    {"billing_resource_report", billing_resource_report, 0},
    {"billing_resource_get", billing_resource_get, 0},
    {"billing_resources_list", billing_resources_list, 0},
    {"billing_scheduler_run", billing_scheduler_run, 0},
    {"billing_resources_renew", billing_resources_renew, 0},
    {"billing_resources_policy_set", billing_resources_policy_set, 0},
    {"billing_resources_release", billing_resources_release, 0},
    {"billing_renewals_list", billing_renewals_list, 0},
    {"billing_renewal_quote", billing_renewal_quote, 0},
    {"billing_resources_delete", billing_resources_delete, 0},
    {"billing_refund_quote", billing_refund_quote, 0},
    {"billing_resources_unsubscribe", billing_resources_unsubscribe, 0},
    {"billing_resource_refund_blocks_set", billing_resource_refund_blocks_set, 0},
    {"billing_unsubscriptions_list", billing_unsubscriptions_list, 0},
    {"billing_usage_report", billing_usage_report, 0},
    {"billing_usage_list", billing_usage_list, 0},
    {"billing_packages_list", billing_packages_list, 0},
    {"billing_export_request", billing_export_request, 0},
    {"billing_export_step", billing_export_step, 0},
    {"billing_export_download", billing_export_download, 0},
    {"billing_exports_list", billing_exports_list, 0},
    {"billing_verify", billing_verify, 1},
    {"billing_engine_backup", billing_engine_backup, 0},
    {"billing_engine_copy", billing_engine_copy, 0},
};
enum { JSON_FUNCTIONS = sizeof json_functions / sizeof *json_functions };

/* Each function of the list once (3 foundation; 32 accounts, platform, catalog, orders,
   resources, scheduler; 5 renewals; 4 unsubscription and refunds; 4 usage and packages;
   4 exports; verification; backup); a function added to the header must be added here too, which
   test_json_functions_match_header checks against the header itself. */
static void test_json_functions_listed(void) {
    CHECK(JSON_FUNCTIONS >= 51);
    for (int i = 0; i < JSON_FUNCTIONS; i++) {
        CHECK(json_functions[i].call != NULL);
        for (int other = 0; other < i; other++) {
            CHECK(json_functions[i].call != json_functions[other].call);
            CHECK(strcmp(json_functions[i].name, json_functions[other].name) != 0);
        }
    }
}

/* The header this program was compiled against, found next to the library it runs with
   (dist/lib/libbilling.so -> dist/include/billing.h), else from the source tree (make runs
   the tests from the repository root). NULL when neither is readable. */
static FILE *open_header(char *path, size_t size) {
    Dl_info info;
    if (dladdr((void *)billing_version, &info) && info.dli_fname) {
        char library[PATH_MAX];
        if (realpath(info.dli_fname, library)) {
            char *slash = strrchr(library, '/');
            if (slash) {
                *slash = '\0';
                snprintf(path, size, "%s/../include/billing.h", library);
                FILE *file = fopen(path, "r");
                if (file) return file;
            }
        }
    }
    static const char *fallbacks[] = {"include/billing.h", "dist/include/billing.h", "../../include/billing.h"};
    for (size_t i = 0; i < sizeof fallbacks / sizeof *fallbacks; i++) {
        snprintf(path, size, "%s", fallbacks[i]);
        FILE *file = fopen(path, "r");
        if (file) return file;
    }
    return NULL;
}

/* Every declaration of the shape
       int billing_x(billing_engine *engine, const char *request_json, char **out_json);
   in the header is in json_functions, and every entry of json_functions is declared so. */
static void test_json_functions_match_header(void) {
    char path[PATH_MAX + 32], line[512];
    FILE *header = open_header(path, sizeof path);
    if (!check_result(header != NULL, __FILE__, __LINE__, "billing.h is readable", "neither next to the library nor in the tree")) {
        return;
    }
    static const char shape[] = "(billing_engine *engine, const char *request_json, char **out_json);";
    int declared = 0, seen[JSON_FUNCTIONS] = {0};
    while (fgets(line, sizeof line, header)) {
        char name[128];
        if (sscanf(line, "int %127[a-z0-9_]", name) != 1 || strncmp(name, "billing_", 8) != 0) continue;
        const char *rest = line + 4 + strlen(name);
        if (strncmp(rest, shape, strlen(shape)) != 0) continue; /* another shape (clock, config_get, open, …) */
        declared++;
        int found = -1;
        for (int i = 0; i < JSON_FUNCTIONS; i++) {
            if (strcmp(json_functions[i].name, name) == 0) found = i;
        }
        char detail[400];
        snprintf(detail, sizeof detail, "%s is declared in %.100s but missing from json_functions", name, path);
        if (check_result(found >= 0, __FILE__, __LINE__, "header function listed", detail)) seen[found]++;
    }
    fclose(header);
    for (int i = 0; i < JSON_FUNCTIONS; i++) {
        char detail[400];
        snprintf(detail, sizeof detail, "%s is listed %d times in %.120s", json_functions[i].name, seen[i], path);
        check_result(seen[i] == 1, __FILE__, __LINE__, "listed function declared once in the header", detail);
    }
    char detail[128];
    snprintf(detail, sizeof detail, "%d JSON functions declared, %d listed", declared, (int)JSON_FUNCTIONS);
    check_result(declared == JSON_FUNCTIONS, __FILE__, __LINE__, "the list is the header's", detail);
}

static void test_null_engine(void) {
    int64_t now = 0;
    REFUSED(BILLING_E_INVALID, billing_clock_now(NULL, &now));
    REFUSED(BILLING_E_INVALID, billing_clock_set(NULL, START + 10));
    REFUSED(BILLING_E_INVALID, billing_clock_advance(NULL, 10, &now));
    REFUSED(BILLING_E_INVALID, billing_clock_advance(NULL, 10, NULL));
    REFUSED_JSON(BILLING_E_INVALID, billing_config_get(NULL, &out));
    for (int i = 0; i < JSON_FUNCTIONS; i++) {
        out = &sentinel;
        check_refused_request_because(json_functions[i].call(NULL, valid_update, &out), BILLING_E_INVALID,
                                      "null_argument", json_functions[i].name, "NULL engine", __LINE__);
    }
}

static void test_null_arguments(void) {
    /* A write whose response cannot be delivered must not happen either. */
    REFUSED(BILLING_E_INVALID, billing_config_update(engine, valid_update, NULL));
    REFUSED(BILLING_E_INVALID, billing_config_get(engine, NULL));
    REFUSED(BILLING_E_INVALID, billing_clock_now(engine, NULL));
    for (int i = 0; i < JSON_FUNCTIONS; i++) {
        char call[96];
        snprintf(call, sizeof call, "%s(engine, \"{}\", NULL)", json_functions[i].name);
        out = &sentinel;
        check_refused(json_functions[i].call(engine, "{}", NULL), BILLING_E_INVALID, "null_argument", 0, call,
                      __LINE__);
        if (json_functions[i].request_optional) continue;
        out = &sentinel;
        check_refused_request_because(json_functions[i].call(engine, NULL, &out), BILLING_E_INVALID, "null_argument",
                                      json_functions[i].name, "NULL request_json", __LINE__);
    }
}

/* Input no function accepts: malformed or non-object JSON, invalid UTF-8, unknown keys. */
static void test_bad_requests_everywhere(void) {
    static const char *requests[] = {
        "{", "{\"actor\": ", "[]", "\"text\"", "42", "null", "{\"actor\": \"\xff\"}",
        "{\"bogus_field\": 1}", "{\"actor\": \"abi\", \"bogus_field\": 1}",
    };
    for (int i = 0; i < JSON_FUNCTIONS; i++) {
        for (size_t r = 0; r < sizeof requests / sizeof *requests; r++) {
            out = &sentinel;
            check_refused_request(json_functions[i].call(engine, requests[r], &out), BILLING_E_INVALID,
                                  json_functions[i].name, requests[r], __LINE__);
        }
    }
}

/* Writes {"actor": "abi", "x": [[…]]} nested `depth` levels deep in all (the outer object
   counts as one). */
static void nested_request(char *request, size_t size, int depth) {
    size_t used = (size_t)snprintf(request, size, "{\"actor\": \"abi\", \"x\": ");
    for (int i = 1; i < depth && used + 2 * (size_t)depth < size; i++) request[used++] = '[';
    for (int i = 1; i < depth && used + 2 < size; i++) request[used++] = ']';
    snprintf(request + used, size - used, "}");
}

/* Request syntax every JSON function refuses before reading a field, with the reason it
   names: numbers must be integer literals, RFC 8259 has no trailing commas and no leading
   zeros, nesting stops at 64 levels, and input must be UTF-8. */
static void test_syntax_everywhere(void) {
    static char deepest[300], deep[300];
    nested_request(deepest, sizeof deepest, 65);
    nested_request(deep, sizeof deep, 64);
    static const struct {
        const char *request;
        const char *reason;
    } cases[] = {
        {"{\"actor\": \"abi\", \"x\": 1.0}", "not_an_integer"},
        {"{\"actor\": \"abi\", \"x\": 1e3}", "not_an_integer"},
        {"{\"actor\": \"abi\", \"x\": 1E3}", "not_an_integer"},
        {"{\"actor\": \"abi\", \"x\": 1e+3}", "not_an_integer"},
        {"{\"actor\": \"abi\", \"x\": -2.50}", "not_an_integer"},
        {"{\"actor\": \"abi\", \"x\": 0.0}", "not_an_integer"},
        {"{\"actor\": \"abi\", \"x\": [1, 2.0]}", "not_an_integer"},
        {"{\"actor\": \"abi\", \"x\": {\"y\": 5e0}}", "not_an_integer"},
        {"{\"x\": 1.0, \"actor\": \"abi\"}", "not_an_integer"},
        {"{\"actor\": \"abi\", \"x\": 1,}", "malformed_json"},
        {"{\"actor\": \"abi\",}", "malformed_json"},
        {"{\"actor\": \"abi\", \"x\": [1, 2,]}", "malformed_json"},
        {"{\"actor\": \"abi\", \"x\": [1, 2 ,\n ]}", "malformed_json"},
        {"{\"actor\": \"abi\", \"x\": {\"y\": 1,}}", "malformed_json"},
        {"{\"actor\": \"abi\", \"x\": 01}", "malformed_json"},
        {"{\"actor\": \"abi\", \"x\": 00}", "malformed_json"},
        {"{\"actor\": \"abi\", \"x\": -007}", "malformed_json"},
        {"{\"actor\": \"abi\", \"x\": [0, 012]}", "malformed_json"},
        {"{\"actor\": \"abi\", \"x\": +1}", "malformed_json"},
        {"{\"actor\": \"abi\" \"x\": 1}", "malformed_json"},
        {"{\"actor\": \"abi\"} {}", "malformed_json"},
        {"{", "malformed_json"},
        {"{\"actor\": \"\xff\"}", "invalid_utf8"},
        {"{\"actor\": \"abi\", \"x\": \"\xc0\xaf\"}", "invalid_utf8"},
        {deepest, "too_deep"},
    };
    for (int i = 0; i < JSON_FUNCTIONS; i++) {
        for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
            out = &sentinel;
            check_refused_request_because(json_functions[i].call(engine, cases[c].request, &out), BILLING_E_INVALID,
                                          cases[c].reason, json_functions[i].name, cases[c].request, __LINE__);
        }
        /* 64 levels are allowed: the request is refused for its fields, not its depth. */
        out = &sentinel;
        int got = json_functions[i].call(engine, deep, &out);
        char detail[200];
        snprintf(detail, sizeof detail, "%s at depth 64: status %d, reason %s", json_functions[i].name, got,
                 billing_last_error_reason());
        check_result(got == BILLING_E_INVALID && strcmp(billing_last_error_reason(), "too_deep") != 0 && out == NULL,
                     __FILE__, __LINE__, "64 levels are not too deep", detail);
        /* A number inside a string is text, whatever it looks like. */
        out = &sentinel;
        got = json_functions[i].call(engine, "{\"actor\": \"1.0e3\", \"x\": \"007,]\"}", &out);
        snprintf(detail, sizeof detail, "%s: status %d, reason %s", json_functions[i].name, got,
                 billing_last_error_reason());
        check_result(got == BILLING_E_INVALID && strcmp(billing_last_error_reason(), "not_an_integer") != 0 &&
                         strcmp(billing_last_error_reason(), "malformed_json") != 0,
                     __FILE__, __LINE__, "numbers in strings are not numbers", detail);
    }
    char *now = snapshot();
    CHECK(now && baseline && strcmp(now, baseline) == 0);
    free(now);
}

/* ---- billing_call: the outcome, error included, in one document ------------------------- */

/* `document` is billing_call's failure document for `status` with this thread's last error. */
static int is_error_document(const char *document, int status) {
    char reason[128], message[1024], name[64];
    return document && json_is(document, "ok", "false") && json_int(document, "error.status") == status &&
           json_string(document, "error.status_name", name, sizeof name) &&
           strcmp(name, billing_status_string(status)) == 0 &&
           json_string(document, "error.reason", reason, sizeof reason) &&
           strcmp(reason, billing_last_error_reason()) == 0 && reason[0] != '\0' &&
           json_string(document, "error.message", message, sizeof message) && message[0] != '\0' &&
           json_at(document, "result") == NULL;
}

/* billing_call(name) refuses what the named function refuses, with the same status and
   reason, and always hands back the error document; the state stays as it was. */
static void check_call_like_direct(int index, billing_engine *target, const char *request, const char *label) {
    char *direct = &sentinel, *document = &sentinel, reason[128], call[200];
    int want = json_functions[index].call(target, request, &direct);
    snprintf(reason, sizeof reason, "%s", billing_last_error_reason());
    snprintf(call, sizeof call, "billing_call(%s, %s)", json_functions[index].name, label);
    if (want == BILLING_OK) billing_string_free(direct);
    int got = billing_call(target, json_functions[index].name, request, &document);
    out = NULL;
    check_refused(got, want, reason, 0, call, __LINE__);
    char detail[300];
    snprintf(detail, sizeof detail, "document %.200s", document && document != &sentinel ? document : "(none)");
    /* The last error is still this call's: check_refused's snapshot ran after it, so read the
       reason from the document against the saved one. */
    char seen[128];
    check_result(document != &sentinel && document != NULL && json_is(document, "ok", "false") &&
                     json_int(document, "error.status") == want &&
                     json_string(document, "error.reason", seen, sizeof seen) && strcmp(seen, reason) == 0,
                 __FILE__, __LINE__, call, detail);
    if (document != &sentinel) billing_string_free(document);
}

static void test_call_reaches_every_function(void) {
    for (int i = 0; i < JSON_FUNCTIONS; i++) {
        check_call_like_direct(i, NULL, valid_update, "NULL engine");
        check_call_like_direct(i, engine, "{", "malformed");
        check_call_like_direct(i, engine, "{\"actor\": \"abi\", \"bogus_field\": 1}", "unknown field");
        if (!json_functions[i].request_optional) check_call_like_direct(i, engine, NULL, "NULL request");
    }
}

static void test_call(void) {
    /* Success: the very response of the direct call, wrapped. */
    char *direct = NULL, *document = NULL;
    CHECK_OK(billing_events_list(engine, "{\"limit\": 2}", &direct));
    CHECK_OK(billing_call(engine, "billing_events_list", "{\"limit\": 2}", &document));
    CHECK(billing_last_error_code() == BILLING_OK && billing_last_error_reason()[0] == '\0');
    char expected[8192];
    snprintf(expected, sizeof expected, "{\"ok\":true,\"result\":%s}", direct ? direct : "");
    CHECK_STR(document, expected);
    billing_string_free(direct);
    billing_string_free(document);

    /* The functions of other shapes. */
    int64_t now = 0;
    CHECK_OK(billing_clock_now(engine, &now));
    CHECK_OK(billing_call(engine, "billing_config_get", NULL, &document));
    CHECK(json_at(document, "result.configuration.auto_renew_hour") != NULL);
    billing_string_free(document);
    CHECK_OK(billing_call(engine, "billing_config_get", "{}", &document));
    billing_string_free(document);
    CHECK_OK(billing_call(engine, "billing_clock_now", NULL, &document));
    CHECK(json_int(document, "result.now") == now);
    billing_string_free(document);
    CHECK_OK(billing_call(engine, "billing_clock_advance", "{\"seconds\": 60}", &document));
    CHECK(json_int(document, "result.now") == now + 60);
    billing_string_free(document);
    char set_request[64];
    snprintf(set_request, sizeof set_request, "{\"now\": %lld}", (long long)(now + 120));
    CHECK_OK(billing_call(engine, "billing_clock_set", set_request, &document));
    CHECK(json_int(document, "result.now") == now + 120);
    billing_string_free(document);
    rebaseline();

    /* Refusals: each with its document, nothing changed. */
    static const struct {
        const char *function, *request, *reason;
    } refused[] = {
        {"billing_config_get", "{\"x\": 1}", "unknown_field"},
        {"billing_clock_now", "[]", NULL},
        {"billing_clock_set", "{\"now\": 1}", "clock_backwards"},
        {"billing_clock_set", NULL, "null_argument"},
        {"billing_clock_advance", "{\"seconds\": -1}", "clock_backwards"},
        {"billing_clock_advance", "{\"seconds\": 1.5}", "not_an_integer"},
        {"billing_account_get", "{\"account_id\": \"nobody\"}", NULL},
        {NULL, "{}", "unknown_function"},
        {"", "{}", "unknown_function"},
        {"account_get", "{\"account_id\": \"x\"}", "unknown_function"}, /* the C name, with its prefix */
        {"billing_call", "{}", "unknown_function"},
        {"billing_engine_open", "{}", "unknown_function"},
        {"billing_engine_close", "{}", "unknown_function"},
        {"billing_string_free", "{}", "unknown_function"},
        {"billing_version", "{}", "unknown_function"},
        {"BILLING_ACCOUNT_GET", "{}", "unknown_function"},
        {"billing_account_get ", "{}", "unknown_function"},
        {"billing_\xff", "{}", "invalid_utf8"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        char call[200];
        snprintf(call, sizeof call, "billing_call(%s, %s)", refused[i].function ? refused[i].function : "NULL",
                 refused[i].request ? refused[i].request : "NULL");
        document = NULL;
        int status = billing_call(engine, refused[i].function, refused[i].request, &document);
        check_result(status != BILLING_OK && is_error_document(document, status), __FILE__, __LINE__, call,
                     document ? document : "no document");
        if (refused[i].reason) check_string(billing_last_error_reason(), refused[i].reason, __FILE__, __LINE__, call);
        billing_string_free(document);
        out = NULL;
        check_refused(status, status ? status : BILLING_E_INVALID, NULL, 0, call, __LINE__);
    }

    /* NULL out_json: nothing to deliver the document through, so nothing is done. */
    check_refused(billing_call(engine, "billing_config_update", valid_update, NULL), BILLING_E_INVALID, "null_argument",
                  0, "billing_call(engine, config_update, request, NULL)", __LINE__);
    check_refused(billing_call(engine, "nope", NULL, NULL), BILLING_E_INVALID, "null_argument", 0,
                  "billing_call(engine, nope, NULL, NULL)", __LINE__);
}

/* ---- Backup ------------------------------------------------------------------------------ */

static void test_backup(void) {
    char directory[PATH_MAX], destination[PATH_MAX + 64], request[PATH_MAX + 128], missing[PATH_MAX + 64];
    if (!CHECK(realpath(scratch, directory) != NULL)) return; /* backups name absolute paths */
    snprintf(destination, sizeof destination, "%s/test_abi_backup.sqlite", directory);
    support_remove_database(destination);
    snprintf(request, sizeof request, "{\"destination\": \"%s\"}", destination);
    if (support_database_url()) {
        /* A PostgreSQL database is backed up by pg_dump (or base backups): refused with that
           reason, and no file made. */
        REFUSED_JSON_BECAUSE(BILLING_E_REFUSED, "backup_needs_pg_dump", billing_engine_backup(engine, request, &out));
        CHECK(!exists(destination));
        return;
    }
    char *json = NULL;
    int64_t now = 0;
    CHECK_OK(billing_clock_now(engine, &now));
    CHECK_OK(billing_engine_backup(engine, request, &json));
    CHECK(json_int(json, "backup.taken_at") == now);
    CHECK(json_int(json, "backup.bytes") > 0);
    char named[PATH_MAX];
    CHECK(json_string(json, "backup.destination", named, sizeof named) && strcmp(named, destination) == 0);
    billing_string_free(json);
    /* A read: nothing in the source changed. */
    char *after = snapshot();
    CHECK(after && baseline && strcmp(after, baseline) == 0);
    free(after);

    /* The copy opens as a database with the same events, audit log and configuration. */
    billing_engine *copy = NULL;
    if (CHECK_OK(billing_engine_open(destination, "{\"create\": false}", &copy))) {
        char *mine = NULL, *theirs = NULL;
        CHECK_OK(billing_audit_list(engine, "{\"limit\": 1000}", &mine));
        CHECK_OK(billing_audit_list(copy, "{\"limit\": 1000}", &theirs));
        CHECK(mine && theirs && strcmp(mine, theirs) == 0);
        billing_string_free(mine);
        billing_string_free(theirs);
        CHECK_OK(billing_verify(copy, NULL, &theirs));
        CHECK(json_is(theirs, "ok", "true"));
        billing_string_free(theirs);
        billing_engine_close(copy);
    }

    /* Never over an existing file, not even the database itself; relative paths and paths in
       a missing directory are refused, and a refused backup leaves no file behind. */
    REFUSED_JSON_BECAUSE(BILLING_E_CONFLICT, "destination_exists", billing_engine_backup(engine, request, &out));
    char own[PATH_MAX + 128];
    snprintf(own, sizeof own, "{\"destination\": \"%s/test_abi.sqlite\"}", directory);
    REFUSED_JSON_BECAUSE(BILLING_E_CONFLICT, "destination_exists", billing_engine_backup(engine, own, &out));
    REFUSED_JSON_BECAUSE(BILLING_E_INVALID, "destination_not_absolute",
                         billing_engine_backup(engine, "{\"destination\": \"relative.sqlite\"}", &out));
    REFUSED_JSON_BECAUSE(BILLING_E_INVALID, "destination_not_absolute",
                         billing_engine_backup(engine, "{\"destination\": \"/tmp/\"}", &out));
    REFUSED_JSON_BECAUSE(BILLING_E_INVALID, NULL, billing_engine_backup(engine, "{\"destination\": \"\"}", &out));
    REFUSED_JSON_BECAUSE(BILLING_E_INVALID, NULL, billing_engine_backup(engine, "{\"destination\": 5}", &out));
    REFUSED_JSON_BECAUSE(BILLING_E_INVALID, "unknown_field",
                         billing_engine_backup(engine, "{\"destination\": \"/tmp/x\", \"overwrite\": true}", &out));
    snprintf(missing, sizeof missing, "%s/no-such-directory/backup.sqlite", directory);
    snprintf(request, sizeof request, "{\"destination\": \"%s\"}", missing);
    REFUSED_JSON_BECAUSE(BILLING_E_STORAGE, "backup_failed", billing_engine_backup(engine, request, &out));
    CHECK(!exists(missing));
    support_remove_database(destination);

    /* Through billing_call too. */
    snprintf(request, sizeof request, "{\"destination\": \"%s\"}", destination);
    CHECK_OK(billing_call(engine, "billing_engine_backup", request, &json));
    CHECK(json_is(json, "ok", "true") && json_int(json, "result.backup.bytes") > 0);
    billing_string_free(json);
    support_remove_database(destination);
}

/* ---- Copy into another database ---------------------------------------------------------- */

static void test_copy(void) {
    char directory[PATH_MAX], destination[PATH_MAX + 64], request[PATH_MAX + 128];
    if (!CHECK(realpath(scratch, directory) != NULL)) return; /* copies name absolute paths */
    snprintf(destination, sizeof destination, "%s/test_abi_copy.sqlite", directory);
    support_remove_database(destination);
    snprintf(request, sizeof request, "{\"destination\": \"%s\"}", destination);
    if (support_database_url()) {
        /* The copy moves an SQLite database; PostgreSQL's is pg_dump: refused, no file made. */
        REFUSED_JSON_BECAUSE(BILLING_E_REFUSED, "copy_source_not_sqlite", billing_engine_copy(engine, request, &out));
        CHECK(!exists(destination));
        return;
    }
    char *json = NULL;
    CHECK_OK(billing_engine_copy(engine, request, &json));
    CHECK(json_int(json, "copy.rows") > 0);
    CHECK(json_int(json, "copy.tables.audit_log") > 0);
    billing_string_free(json);
    /* A read: nothing in the source changed. */
    char *after = snapshot();
    CHECK(after && baseline && strcmp(after, baseline) == 0);
    free(after);

    /* The copy holds the same audit log, and verify checks the same chain over the same rows. */
    billing_engine *copy = NULL;
    if (CHECK_OK(billing_engine_open(destination, "{\"create\": false}", &copy))) {
        char *mine = NULL, *theirs = NULL;
        CHECK_OK(billing_audit_list(engine, "{\"limit\": 1000}", &mine));
        CHECK_OK(billing_audit_list(copy, "{\"limit\": 1000}", &theirs));
        CHECK(mine && theirs && strcmp(mine, theirs) == 0);
        billing_string_free(mine);
        billing_string_free(theirs);
        CHECK_OK(billing_verify(copy, NULL, &theirs));
        CHECK(json_is(theirs, "ok", "true"));
        billing_string_free(theirs);
        billing_engine_close(copy);
    }

    /* Never into a database that holds rows (the copy just made, the source itself). */
    REFUSED_JSON_BECAUSE(BILLING_E_CONFLICT, "destination_not_empty", billing_engine_copy(engine, request, &out));
    char own[PATH_MAX + 128];
    snprintf(own, sizeof own, "{\"destination\": \"%s/test_abi.sqlite\"}", directory);
    REFUSED_JSON_BECAUSE(BILLING_E_CONFLICT, "destination_not_empty", billing_engine_copy(engine, own, &out));
    REFUSED_JSON_BECAUSE(BILLING_E_INVALID, NULL, billing_engine_copy(engine, "{\"destination\": \"\"}", &out));
    REFUSED_JSON_BECAUSE(BILLING_E_INVALID, "destination_not_absolute",
                         billing_engine_copy(engine, "{\"destination\": \"relative.sqlite\"}", &out));
    REFUSED_JSON_BECAUSE(BILLING_E_INVALID, NULL, billing_engine_copy(engine, "{\"destination\": 5}", &out));
    REFUSED_JSON_BECAUSE(BILLING_E_INVALID, "unknown_field",
                         billing_engine_copy(engine, "{\"destination\": \"/tmp/x\", \"force\": true}", &out));
    support_remove_database(destination);
}

static void test_bad_updates(void) {
    static const char *requests[] = {
        /* malformed JSON */
        "", "{", "{\"actor\": }", "not json", "{\"actor\": \"abi\", \"changes\": {}} trailing",
        "{'actor': 'abi', 'changes': {}}", "{actor: \"abi\", \"changes\": {}}",
        "{\"actor\": \"abi\", \"changes\": {\"auto_renew_hour\": 07}}",
        "{\"actor\": \"abi\", \"changes\": {\"auto_renew_hour\": NaN}}",
        /* RFC 8259 has no trailing commas */
        "{\"actor\": \"abi\", \"changes\": {\"auto_renew_hour\": 5},}",
        "{\"actor\": \"abi\", \"changes\": {\"handling_fee_rates_bp\": {\"MONTHLY\": [900,]}}}",
        /* not an object */
        "[]", "[{\"actor\": \"abi\", \"changes\": {}}]", "\"abi\"", "42", "true", "null",
        /* missing or wrong-typed fields */
        "{}", "{\"actor\": \"abi\"}", "{\"changes\": {}}", "{\"actor\": 5, \"changes\": {}}",
        "{\"actor\": \"\", \"changes\": {}}", "{\"actor\": \"abi\", \"changes\": []}",
        "{\"actor\": \"abi\", \"changes\": \"auto_renew_hour=5\"}", "{\"actor\": \"abi\", \"changes\": 5}",
        "{\"actor\": \"abi\", \"idempotency_key\": 5, \"changes\": {}}",
        "{\"actor\": \"abi\", \"idempotency_key\": \"\", \"changes\": {}}",
        "{\"actor\": \"abi\", \"changes\": {\"auto_renew_hour\": \"5\"}}",
        "{\"actor\": \"abi\", \"changes\": {\"auto_renew_hour\": true}}",
        "{\"actor\": \"abi\", \"changes\": {\"currency\": 156}}",
        "{\"actor\": \"abi\", \"changes\": {\"grace_and_retention\": {\"V1\": []}}}",
        /* fractions are refused, never rounded */
        "{\"actor\": \"abi\", \"changes\": {\"auto_renew_hour\": 1.5}}",
        "{\"actor\": \"abi\", \"changes\": {\"auto_renew_hour\": 15e-1}}",
        "{\"actor\": \"abi\", \"changes\": {\"large_refund_threshold_fen\": 1.5}}",
        "{\"actor\": \"abi\", \"changes\": {\"large_refund_threshold_fen\": 0.01}}",
        "{\"actor\": \"abi\", \"changes\": {\"auto_renew_hour\": 2.9999999999999999999}}",
        "{\"actor\": \"abi\", \"changes\": {\"large_refund_threshold_fen\": 100.0000000000000001}}",
        "{\"actor\": \"abi\", \"changes\": {\"large_refund_threshold_fen\": 1234567890123456789e-1}}",
        "{\"actor\": \"abi\", \"changes\": {\"large_refund_threshold_fen\": 3.000000000000000000000000000000000000001}}",
        /* beyond 64 bits or out of range */
        "{\"actor\": \"abi\", \"changes\": {\"auto_renew_hour\": 1e30}}",
        "{\"actor\": \"abi\", \"changes\": {\"auto_renew_hour\": 99999999999999999999}}",
        "{\"actor\": \"abi\", \"changes\": {\"auto_renew_hour\": -99999999999999999999}}",
        "{\"actor\": \"abi\", \"changes\": {\"large_refund_threshold_fen\": 9223372036854775808}}",
        "{\"actor\": \"abi\", \"changes\": {\"large_refund_threshold_fen\": 1e19}}",
        "{\"actor\": \"abi\", \"changes\": {\"large_refund_threshold_fen\": -1}}",
        "{\"actor\": \"abi\", \"changes\": {\"auto_renew_hour\": 24}}",
        "{\"actor\": \"abi\", \"changes\": {\"auto_renew_hour\": -1}}",
        "{\"actor\": \"abi\", \"changes\": {\"currency\": \"cny\"}}",
        /* unknown keys, at each level */
        "{\"actor\": \"abi\", \"changes\": {}, \"bogus\": 1}",
        "{\"actor\": \"abi\", \"changes\": {\"bogus_field\": 1}}",
        "{\"actor\": \"abi\", \"changes\": {\"grace_and_retention\": {\"V9\": {}}}}",
        /* one bad field fails the whole request */
        "{\"actor\": \"abi\", \"changes\": {\"auto_renew_hour\": 6, \"max_batch_cancel\": 0}}",
        /* lengths and control characters */
        "{\"actor\": \"abi\\u0001\", \"changes\": {}}",
        "{\"actor\": \"abi\\u0000\", \"changes\": {}}",
        "{\"actor\": \"abi\", \"idempotency_key\": \"k\\n\", \"changes\": {}}",
        /* invalid UTF-8: a stray byte, an overlong '/', a truncated sequence, a surrogate */
        "{\"actor\": \"\xff\", \"changes\": {}}",
        "{\"actor\": \"\xc0\xaf\", \"changes\": {}}",
        "{\"actor\": \"\xe4\xb8\", \"changes\": {}}",
        "{\"actor\": \"\xed\xa0\x80\", \"changes\": {}}",
        "{\"actor\": \"abi\", \"idempotency_key\": \"k\xff\", \"changes\": {}}",
        /* a lone UTF-16 surrogate escape is not a character */
        "{\"actor\": \"\\ud800\", \"changes\": {}}",
    };
    for (size_t i = 0; i < sizeof requests / sizeof *requests; i++) {
        out = &sentinel;
        check_refused_request(billing_config_update(engine, requests[i], &out), BILLING_E_INVALID,
                              "billing_config_update", requests[i], __LINE__);
    }

    /* 128 characters are allowed for actor and idempotency_key; 129 are not. */
    char name[130], request[400];
    memset(name, 'a', sizeof name - 1);
    name[129] = '\0';
    snprintf(request, sizeof request, "{\"actor\": \"%s\", \"changes\": {}}", name);
    out = &sentinel;
    check_refused_request(billing_config_update(engine, request, &out), BILLING_E_INVALID,
                          "billing_config_update", "actor of 129 characters", __LINE__);
    snprintf(request, sizeof request, "{\"actor\": \"abi\", \"idempotency_key\": \"%s\", \"changes\": {}}", name);
    out = &sentinel;
    check_refused_request(billing_config_update(engine, request, &out), BILLING_E_INVALID,
                          "billing_config_update", "idempotency_key of 129 characters", __LINE__);
}

/* Requests the unsubscription, refund-block and usage functions refuse before touching
   anything, with the status and reason each names (NULL: any reason). */
static void test_refund_and_usage_requests(void) {
    static char many_records[128 * 1024], many_ids[4096], many_renewal_ids[8192];
    size_t used = (size_t)snprintf(many_records, sizeof many_records, "{\"actor\": \"abi\", \"account_id\": \"abi\", \"records\": [");
    for (int i = 0; i < 1001; i++) {
        used += (size_t)snprintf(many_records + used, sizeof many_records - used,
                                 "%s{\"usage_id\": \"u%d\", \"resource_id\": \"r\", \"quantity\": 1, \"start\": 0, \"end\": 1}",
                                 i ? ", " : "", i);
    }
    snprintf(many_records + used, sizeof many_records - used, "]}");
    used = (size_t)snprintf(many_ids, sizeof many_ids, "{\"account_id\": \"abi\", \"resource_ids\": [");
    for (int i = 0; i < 101; i++) used += (size_t)snprintf(many_ids + used, sizeof many_ids - used, "%s\"r%d\"", i ? ", " : "", i);
    snprintf(many_ids + used, sizeof many_ids - used, "]}");
    used = (size_t)snprintf(many_renewal_ids, sizeof many_renewal_ids, "{\"account_id\": \"abi\", \"tab\": \"ALL\", \"resource_ids\": [");
    for (int i = 0; i < 201; i++) used += (size_t)snprintf(many_renewal_ids + used, sizeof many_renewal_ids - used, "%s\"r%d\"", i ? ", " : "", i);
    snprintf(many_renewal_ids + used, sizeof many_renewal_ids - used, "]}");
#define RECORD(fields) "{\"actor\": \"abi\", \"account_id\": \"abi\", \"records\": [" fields "]}"
#define ONE "{\"usage_id\": \"u1\", \"resource_id\": \"r\", \"quantity\": 1, \"start\": 100, \"end\": 200}"
    const struct {
        list_function call;
        const char *name;
        const char *request;
        int status;
        const char *reason;
    } cases[] = {
        {billing_usage_report, "billing_usage_report", RECORD(""), BILLING_E_INVALID, "missing_field"},
        {billing_usage_report, "billing_usage_report", "{\"actor\": \"abi\", \"account_id\": \"abi\"}", BILLING_E_INVALID, "missing_field"},
        {billing_usage_report, "billing_usage_report", many_records, BILLING_E_INVALID, "too_many_items"},
        {billing_usage_report, "billing_usage_report",
         RECORD("{\"usage_id\": \"u1\", \"resource_id\": \"r\", \"quantity\": 100001, \"start\": 100, \"end\": 200}"),
         BILLING_E_INVALID, "out_of_range"},
        {billing_usage_report, "billing_usage_report",
         RECORD("{\"usage_id\": \"u1\", \"resource_id\": \"r\", \"quantity\": -1, \"start\": 100, \"end\": 200}"),
         BILLING_E_INVALID, "out_of_range"},
        {billing_usage_report, "billing_usage_report",
         RECORD("{\"usage_id\": \"u1\", \"resource_id\": \"r\", \"quantity\": 1.5, \"start\": 100, \"end\": 200}"),
         BILLING_E_INVALID, "not_an_integer"},
        {billing_usage_report, "billing_usage_report",
         RECORD("{\"usage_id\": \"u1\", \"resource_id\": \"r\", \"quantity\": 1, \"start\": 100}"), BILLING_E_INVALID, "missing_field"},
        {billing_usage_report, "billing_usage_report",
         RECORD("{\"usage_id\": \"u1\", \"resource_id\": \"r\", \"quantity\": 1, \"start\": 100, \"end\": 200, \"bogus\": 1}"),
         BILLING_E_INVALID, "unknown_field"},
        {billing_usage_report, "billing_usage_report", RECORD(ONE), BILLING_E_NOT_FOUND, "account_not_found"},
        {billing_usage_list, "billing_usage_list", "{}", BILLING_E_INVALID, "missing_field"},
        {billing_usage_list, "billing_usage_list", "{\"account_id\": \"abi\", \"limit\": 0}", BILLING_E_INVALID, "out_of_range"},
        {billing_usage_list, "billing_usage_list", "{\"account_id\": \"abi\"}", BILLING_E_NOT_FOUND, "account_not_found"},
        {billing_packages_list, "billing_packages_list", "{}", BILLING_E_INVALID, "missing_field"},
        {billing_packages_list, "billing_packages_list", "{\"account_id\": \"abi\", \"limit\": 0}", BILLING_E_INVALID, "out_of_range"},
        {billing_packages_list, "billing_packages_list", "{\"account_id\": \"abi\", \"bogus\": 5}", BILLING_E_INVALID, "unknown_field"},
        {billing_resources_delete, "billing_resources_delete", "{\"actor\": \"abi\", \"account_id\": \"abi\"}", BILLING_E_INVALID, "missing_field"},
        {billing_resources_delete, "billing_resources_delete", "{\"account_id\": \"abi\", \"resource_ids\": [\"r\"]}", BILLING_E_INVALID, "missing_field"},
        {billing_resources_delete, "billing_resources_delete", "{\"actor\": \"abi\", \"account_id\": \"abi\", \"resource_ids\": [\"r\", \"r\"]}",
         BILLING_E_INVALID, "duplicate_resource"},
        {billing_resources_delete, "billing_resources_delete", "{\"actor\": \"abi\", \"account_id\": \"abi\", \"resource_ids\": [\"r\"]}",
         BILLING_E_NOT_FOUND, "account_not_found"},
        {billing_renewal_quote, "billing_renewal_quote", "{\"account_id\": \"abi\"}", BILLING_E_INVALID, "missing_field"},
        {billing_renewal_quote, "billing_renewal_quote", "{\"account_id\": \"abi\", \"resource_ids\": [\"r\"], \"actor\": \"abi\"}",
         BILLING_E_INVALID, "unknown_field"},
        {billing_renewal_quote, "billing_renewal_quote", "{\"account_id\": \"abi\", \"resource_ids\": [\"r\"], \"period\": {\"unit\": \"WEEK\", \"count\": 1}}",
         BILLING_E_INVALID, "unknown_value"},
        {billing_renewal_quote, "billing_renewal_quote", "{\"account_id\": \"abi\", \"resource_ids\": [\"r\"]}", BILLING_E_NOT_FOUND, "account_not_found"},
        {billing_packages_list, "billing_packages_list", "{\"account_id\": \"abi\"}", BILLING_E_NOT_FOUND, "account_not_found"},
        {billing_refund_quote, "billing_refund_quote", "{\"account_id\": \"abi\"}", BILLING_E_INVALID, "missing_field"},
        {billing_refund_quote, "billing_refund_quote", "{\"account_id\": \"abi\", \"resource_ids\": []}", BILLING_E_INVALID, "missing_field"},
        {billing_refund_quote, "billing_refund_quote", many_ids, BILLING_E_INVALID, "too_many_items"},
        {billing_refund_quote, "billing_refund_quote", "{\"account_id\": \"abi\", \"resource_ids\": [\"r\"], \"type\": \"ALL\"}",
         BILLING_E_INVALID, "unknown_value"},
        {billing_refund_quote, "billing_refund_quote", "{\"account_id\": \"abi\", \"resource_ids\": [\"r\"], \"actor\": \"abi\"}",
         BILLING_E_INVALID, "unknown_field"},
        {billing_refund_quote, "billing_refund_quote", "{\"account_id\": \"abi\", \"resource_ids\": [\"r\"]}", BILLING_E_NOT_FOUND, NULL},
        {billing_resources_unsubscribe, "billing_resources_unsubscribe",
         "{\"actor\": \"abi\", \"account_id\": \"abi\", \"resource_ids\": [\"r\"], \"reason_type\": 6}", BILLING_E_INVALID, "out_of_range"},
        {billing_resources_unsubscribe, "billing_resources_unsubscribe",
         "{\"actor\": \"abi\", \"account_id\": \"abi\", \"resource_ids\": [\"r\"], \"reason_type\": 0}", BILLING_E_INVALID, "out_of_range"},
        {billing_resources_unsubscribe, "billing_resources_unsubscribe", "{\"account_id\": \"abi\", \"resource_ids\": [\"r\"]}",
         BILLING_E_INVALID, "missing_field"},
        {billing_resources_unsubscribe, "billing_resources_unsubscribe",
         "{\"actor\": \"abi\", \"account_id\": \"abi\", \"resource_ids\": [\"r\"]}", BILLING_E_NOT_FOUND, NULL},
        {billing_resource_refund_blocks_set, "billing_resource_refund_blocks_set",
         "{\"actor\": \"abi\", \"account_id\": \"abi\", \"resource_id\": \"r\"}", BILLING_E_INVALID, "missing_field"},
        {billing_resource_refund_blocks_set, "billing_resource_refund_blocks_set",
         "{\"actor\": \"abi\", \"account_id\": \"abi\", \"resource_id\": \"r\", \"blocks\": [\"EXPIRED\"]}", BILLING_E_INVALID, "unknown_value"},
        {billing_resource_refund_blocks_set, "billing_resource_refund_blocks_set",
         "{\"actor\": \"abi\", \"account_id\": \"abi\", \"resource_id\": \"r\", \"blocks\": \"ARCHIVED\"}", BILLING_E_INVALID, "wrong_type"},
        {billing_resource_refund_blocks_set, "billing_resource_refund_blocks_set",
         "{\"actor\": \"abi\", \"account_id\": \"abi\", \"resource_id\": \"r\", \"blocks\": []}", BILLING_E_NOT_FOUND, "resource_not_found"},
        {billing_unsubscriptions_list, "billing_unsubscriptions_list", "{}", BILLING_E_INVALID, "missing_field"},
        {billing_unsubscriptions_list, "billing_unsubscriptions_list", "{\"account_id\": \"abi\", \"class\": \"FREE\"}",
         BILLING_E_INVALID, "unknown_value"},
        {billing_unsubscriptions_list, "billing_unsubscriptions_list", "{\"account_id\": \"abi\", \"class\": []}",
         BILLING_E_INVALID, "empty_list"},
        {billing_unsubscriptions_list, "billing_unsubscriptions_list", "{\"account_id\": \"abi\", \"class\": [\"FIVE_DAY\", 3]}",
         BILLING_E_INVALID, "wrong_type"},
        {billing_unsubscriptions_list, "billing_unsubscriptions_list", "{\"account_id\": \"abi\", \"type\": \"ALL\"}",
         BILLING_E_INVALID, "unknown_value"},
        {billing_unsubscriptions_list, "billing_unsubscriptions_list", "{\"account_id\": \"abi\", \"limit\": 101}",
         BILLING_E_INVALID, "out_of_range"},
        {billing_unsubscriptions_list, "billing_unsubscriptions_list", "{\"account_id\": \"abi\", \"with_counts\": 1}",
         BILLING_E_INVALID, "wrong_type"},
        {billing_unsubscriptions_list, "billing_unsubscriptions_list", "{\"account_id\": \"abi\", \"actor\": \"abi\"}",
         BILLING_E_INVALID, "unknown_field"},
        {billing_unsubscriptions_list, "billing_unsubscriptions_list", "{\"account_id\": \"abi\"}", BILLING_E_NOT_FOUND, "account_not_found"},
        {billing_orders_list, "billing_orders_list", "{\"account_id\": \"abi\", \"status\": []}", BILLING_E_INVALID, "empty_list"},
        {billing_orders_list, "billing_orders_list", "{\"account_id\": \"abi\", \"status\": [\"COMPLETED\", \"LOST\"]}",
         BILLING_E_INVALID, "unknown_value"},
        {billing_orders_list, "billing_orders_list", "{\"account_id\": \"abi\", \"product_type\": [\"ECS\", 5]}",
         BILLING_E_INVALID, "wrong_type"},
        {billing_renewals_list, "billing_renewals_list", "{\"account_id\": \"abi\", \"tab\": \"EVERY\"}", BILLING_E_INVALID, "unknown_value"},
        {billing_resources_list, "billing_resources_list", "{}", BILLING_E_INVALID, "missing_field"},
        {billing_resources_list, "billing_resources_list", "{\"account_id\": \"abi\", \"status\": [\"RELEASED\", \"GONE\"]}",
         BILLING_E_INVALID, "unknown_value"},
        {billing_resources_list, "billing_resources_list", "{\"account_id\": \"abi\", \"billing_mode\": \"FREE\"}",
         BILLING_E_INVALID, "unknown_value"},
        {billing_resources_list, "billing_resources_list", "{\"account_id\": \"abi\", \"status\": []}", BILLING_E_INVALID, "empty_list"},
        {billing_resources_list, "billing_resources_list", "{\"account_id\": \"abi\", \"limit\": 0}", BILLING_E_INVALID, "out_of_range"},
        {billing_resources_list, "billing_resources_list", "{\"account_id\": \"abi\", \"actor\": \"abi\"}",
         BILLING_E_INVALID, "unknown_field"},
        {billing_renewals_list, "billing_renewals_list", many_renewal_ids, BILLING_E_INVALID, "too_many_items"},
    };
#undef RECORD
#undef ONE
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        out = &sentinel;
        check_refused_request_because(cases[i].call(engine, cases[i].request, &out), cases[i].status, cases[i].reason,
                                      cases[i].name, cases[i].request, __LINE__);
    }
}

static void test_bad_pages(void) {
    static const char *requests[] = {
        "{", "[]", "\"after\"", "7", "{\"bogus\": 1}", "{\"limit\": 0}", "{\"limit\": 1001}", "{\"limit\": 1.5}",
        "{\"limit\": 1e30}", "{\"limit\": 99999999999999999999}", "{\"limit\": \"10\"}", "{\"after\": 5}",
        "{\"after\": \"abc\"}", "{\"after\": \"-1\"}", "{\"after\": \"\"}", "{\"account_id\": 5}",
        "{\"account_id\": \"\xff\"}", "{\"limit\": 10,}",
        "{\"from\": \"end\", \"after\": \"1\"}", "{\"from\": \"middle\"}", "{\"from\": 1}",
    };
    for (size_t i = 0; i < sizeof requests / sizeof *requests; i++) {
        out = &sentinel;
        check_refused_request(billing_events_list(engine, requests[i], &out), BILLING_E_INVALID,
                              "billing_events_list", requests[i], __LINE__);
        out = &sentinel;
        check_refused_request(billing_audit_list(engine, requests[i], &out), BILLING_E_INVALID,
                              "billing_audit_list", requests[i], __LINE__);
    }
}

/* Every *_list function is paged with the same convention, and a cursor it did not hand
   out is refused as "invalid_cursor" (issue 12 item 16: billing_packages_list took no cursor,
   billing_products_list took any string). */
static void test_every_list_refuses_a_bad_cursor(void) {
    static const struct {
        list_function call;
        const char *name;
        const char *fields;
    } lists[] = {
        {billing_events_list, "billing_events_list", ""},
        {billing_audit_list, "billing_audit_list", ""},
        {billing_ledger_list, "billing_ledger_list", ", \"account_id\": \"abi\""},
        {billing_coupons_list, "billing_coupons_list", ", \"account_id\": \"abi\""},
        {billing_products_list, "billing_products_list", ""},
        {billing_orders_list, "billing_orders_list", ", \"account_id\": \"abi\""},
        {billing_renewals_list, "billing_renewals_list", ", \"account_id\": \"abi\", \"tab\": \"ALL\""},
        {billing_unsubscriptions_list, "billing_unsubscriptions_list", ", \"account_id\": \"abi\""},
        {billing_resources_list, "billing_resources_list", ", \"account_id\": \"abi\""},
        {billing_usage_list, "billing_usage_list", ", \"account_id\": \"abi\""},
        {billing_packages_list, "billing_packages_list", ", \"account_id\": \"abi\""},
        {billing_exports_list, "billing_exports_list", ", \"account_id\": \"abi\""},
        {billing_platform_accounts_list, "billing_platform_accounts_list", ", \"status\": \"SUBMITTED\""},
    };
    static const char *cursors[] = {"no-such-cursor", "-1"};
    int declared = 0;
    char path[PATH_MAX], line[4096];
    FILE *header = open_header(path, sizeof path);
    if (header) {
        while (fgets(line, sizeof line, header)) {
            if (strncmp(line, "int billing_", 12) == 0 && strstr(line, "_list(")) declared++;
        }
        fclose(header);
        char detail[96];
        snprintf(detail, sizeof detail, "%d *_list functions declared, %d checked", declared, (int)(sizeof lists / sizeof *lists));
        check_result(declared == (int)(sizeof lists / sizeof *lists), __FILE__, __LINE__, "every list has a cursor check", detail);
    }
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
        for (size_t c = 0; c < sizeof cursors / sizeof *cursors; c++) {
            char request[256];
            snprintf(request, sizeof request, "{\"after\": \"%s\", \"limit\": 5%s}", cursors[c], lists[i].fields);
            out = &sentinel;
            check_refused_request_because(lists[i].call(engine, request, &out), BILLING_E_INVALID, "invalid_cursor",
                                          lists[i].name, request, __LINE__);
        }
    }
}

/* ---- Last error, idempotency, clock ------------------------------------------------- */

static void check_cleared(const char *after, int line) {
    check_result(billing_last_error_code() == BILLING_OK, __FILE__, line, after, "code 0 after success");
    check_string(billing_last_error_reason(), "", __FILE__, line, after);
    check_string(billing_last_error_message(), "", __FILE__, line, after);
}

/* Fails a call on purpose, then checks that `call` succeeds and clears the last error. */
#define CLEARED_BY(call)                                                          \
    do {                                                                          \
        char *failed_ = NULL;                                                     \
        billing_config_update(engine, "{", &failed_);                             \
        CHECK(billing_last_error_code() == BILLING_E_INVALID);                    \
        CHECK_OK(call);                                                           \
        check_cleared(#call, __LINE__);                                           \
    } while (0)

static void test_last_error_cleared(void) {
    char *json = NULL;
    int64_t now = 0;
    billing_engine *memory = NULL;
    CLEARED_BY(billing_config_get(engine, &json));
    billing_string_free(json);
    CLEARED_BY(billing_events_list(engine, NULL, &json));
    billing_string_free(json);
    CLEARED_BY(billing_audit_list(engine, "", &json));
    billing_string_free(json);
    CLEARED_BY(billing_clock_now(engine, &now));
    CLEARED_BY(billing_clock_advance(engine, 0, NULL));
    CLEARED_BY(billing_engine_open(":memory:", "", &memory));
    billing_engine_close(memory);
    rebaseline();

    /* Reading the last error does not clear it: each string stays readable after the other
       was fetched, and a second read gives the same text. */
    billing_config_update(engine, "{\"actor\": \"abi\", \"changes\": {\"bogus_marker\": 1}}", &json);
    const char *reason = billing_last_error_reason();
    const char *message = billing_last_error_message();
    CHECK_STR(reason, "unknown_field");
    CHECK(strstr(message, "bogus_marker") != NULL);
    CHECK(billing_last_error_code() == BILLING_E_INVALID);
    CHECK_STR(billing_last_error_reason(), "unknown_field");
}

static int count_events(void) {
    int64_t ids[1000];
    return list_all(engine, billing_events_list, "seq", 1000, ids, 1000, NULL, NULL);
}

static void test_idempotency(void) {
    static const char *request =
        "{\"actor\": \"abi\", \"idempotency_key\": \"abi-key-1\", \"changes\": {\"auto_renew_hour\": 7}}";
    /* The same request: other key order, other spacing. */
    static const char *same =
        "{\"changes\":{\"auto_renew_hour\":7},\"idempotency_key\":\"abi-key-1\",\"actor\":\"abi\"}";
    char *first = NULL, *again = NULL;
    int before = count_events();

    CHECK_OK(billing_config_update(engine, request, &first));
    CHECK(count_events() == before + 1);
    rebaseline();

    CHECK_OK(billing_config_update(engine, request, &again));
    CHECK(first && again && strcmp(first, again) == 0);
    billing_string_free(again);
    again = NULL;
    CHECK_OK(billing_config_update(engine, same, &again));
    CHECK(first && again && strcmp(first, again) == 0);
    billing_string_free(again);
    again = NULL;
    /* Later, and after other writes, a replay still answers with the first response. */
    CHECK_OK(billing_config_update(engine, "{\"actor\": \"abi\", \"changes\": {\"auto_renew_hour\": 9}}", &again));
    billing_string_free(again);
    again = NULL;
    CHECK_OK(billing_clock_advance(engine, 3600, NULL));
    rebaseline();
    CHECK_OK(billing_config_update(engine, request, &again));
    CHECK(first && again && strcmp(first, again) == 0);
    billing_string_free(again);
    char *now = snapshot();
    CHECK(now && baseline && strcmp(now, baseline) == 0); /* replays wrote nothing */
    free(now);

    /* The same key with another request is refused. */
    REFUSED_JSON_BECAUSE(BILLING_E_CONFLICT, "idempotency_key_reused", billing_config_update(engine,
        "{\"actor\": \"abi\", \"idempotency_key\": \"abi-key-1\", \"changes\": {\"auto_renew_hour\": 8}}", &out));
    /* Since 0.2.0 keys are scoped: an operation about no account to its actor, so another
       actor's abi-key-1 is another key, neither refused nor answered with abi's response. */
    CHECK_OK(billing_config_update(engine,
        "{\"actor\": \"someone-else\", \"idempotency_key\": \"abi-key-1\", \"changes\": {\"auto_renew_hour\": 6}}",
        &again));
    CHECK(again && strstr(again, "\"auto_renew_hour\":6"));
    billing_string_free(again);
    again = NULL;

    /* 128 characters make a valid key. */
    char key[129], request_128[400];
    memset(key, 'k', sizeof key - 1);
    key[128] = '\0';
    snprintf(request_128, sizeof request_128,
             "{\"actor\": \"abi\", \"idempotency_key\": \"%s\", \"changes\": {\"auto_renew_hour\": 10}}", key);
    before = count_events();
    CHECK_OK(billing_config_update(engine, request_128, &again));
    billing_string_free(again);
    CHECK(count_events() == before + 1);

    /* Requests without a key are never deduplicated: each one is a write with its audit row
       (whether a write that changes no value emits an event, the header does not say). */
    int64_t ids[1000];
    int audit_before = list_all(engine, billing_audit_list, "id", 1000, ids, 1000, NULL, NULL);
    CHECK_OK(billing_config_update(engine, valid_update, &again));
    billing_string_free(again);
    CHECK_OK(billing_config_update(engine, valid_update, &again));
    billing_string_free(again);
    CHECK(list_all(engine, billing_audit_list, "id", 1000, ids, 1000, NULL, NULL) == audit_before + 2);
    billing_string_free(first);
    rebaseline();
}

static void test_clock(void) {
    int64_t now = 0, advanced = 0;
    CHECK_OK(billing_clock_now(engine, &now));
    REFUSED(BILLING_E_INVALID, billing_clock_set(engine, now - 1));
    REFUSED(BILLING_E_INVALID, billing_clock_advance(engine, -1, &advanced));
    REFUSED(BILLING_E_INVALID, billing_clock_advance(engine, INT64_MAX, &advanced));
    REFUSED(BILLING_E_INVALID, billing_clock_set(engine, INT64_MAX));
    CHECK_OK(billing_clock_advance(engine, 60, &advanced));
    CHECK(advanced == now + 60);
    CHECK_OK(billing_clock_set(engine, now + 120));
    CHECK_OK(billing_clock_now(engine, &advanced));
    CHECK(advanced == now + 120);
    rebaseline();

    /* A handle on the system clock refuses to set or advance it. */
    billing_engine *system_clock = NULL;
    CHECK_OK(billing_engine_open(":memory:", NULL, &system_clock));
    CHECK_STATUS(billing_clock_set(system_clock, START), BILLING_E_REFUSED);
    CHECK_STR(billing_last_error_reason(), "clock_not_manual");
    CHECK_STATUS(billing_clock_advance(system_clock, 1, NULL), BILLING_E_REFUSED);
    CHECK_STR(billing_last_error_reason(), "clock_not_manual");
    billing_engine_close(system_clock);
}

/* ---- Files libbilling must refuse untouched ------------------------------------------ */

static unsigned char *read_file(const char *path, size_t *size) {
    FILE *file = fopen(path, "rb");
    if (!file) return NULL;
    unsigned char *bytes = NULL;
    size_t used = 0, capacity = 0, got;
    do {
        if (used == capacity) {
            capacity = capacity ? capacity * 2 : 65536;
            unsigned char *grown = realloc(bytes, capacity);
            if (!grown) { free(bytes); fclose(file); return NULL; }
            bytes = grown;
        }
        got = fread(bytes + used, 1, capacity - used, file);
        used += got;
    } while (got > 0);
    fclose(file);
    *size = used;
    return bytes;
}

static int write_file(const char *path, const unsigned char *bytes, size_t size) {
    FILE *file = fopen(path, "wb");
    if (!file) return 0;
    int ok = fwrite(bytes, 1, size, file) == size;
    return fclose(file) == 0 && ok;
}

/* SQLite keeps PRAGMA user_version and application_id as big-endian words in the header. */
static void put_be32(unsigned char *bytes, size_t offset, uint32_t value) {
    for (int i = 0; i < 4; i++) bytes[offset + i] = (unsigned char)(value >> (24 - 8 * i));
}
enum { USER_VERSION_OFFSET = 60, APPLICATION_ID_OFFSET = 68, WRITE_VERSION_OFFSET = 18 };

/* Writes `bytes` as a database file, opens it expecting BILLING_E_SCHEMA, and checks that
   not one byte changed and no journal or WAL file was left beside it. */
static void check_file_refused(const char *path, const unsigned char *bytes, size_t size, const char *what) {
    char expression[200], sidecar[PATH_MAX];
    snprintf(expression, sizeof expression, "opening %s is refused untouched", what);
    support_remove_database(path);
    if (!check_result(write_file(path, bytes, size), __FILE__, __LINE__, expression, "could not write the file")) {
        return;
    }
    billing_engine *opened = (billing_engine *)&sentinel;
    int got = billing_engine_open(path, NULL, &opened);
    check_status(got, BILLING_E_SCHEMA, __FILE__, __LINE__, expression);
    check_result(billing_last_error_reason()[0] != '\0' && billing_last_error_message()[0] != '\0', __FILE__,
                 __LINE__, expression, "reason and message are set");
    check_result(opened == NULL, __FILE__, __LINE__, expression, "*out_engine set to NULL");
    if (got == BILLING_OK) billing_engine_close(opened);

    size_t after_size = 0;
    unsigned char *after = read_file(path, &after_size);
    check_result(after && after_size == size && memcmp(after, bytes, size) == 0, __FILE__, __LINE__, expression,
                 "file bytes unchanged");
    free(after);
    static const char *suffixes[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        snprintf(sidecar, sizeof sidecar, "%s%s", path, suffixes[i]);
        check_result(!exists(sidecar), __FILE__, __LINE__, expression, suffixes[i]);
    }
}

static void test_refused_files(void) {
    char path[PATH_MAX], refused[PATH_MAX];
    scratch_path(path, sizeof path, "test_abi_schema.sqlite");
    scratch_path(refused, sizeof refused, "test_abi_refused.sqlite");
    support_remove_database(path);

    /* A real libbilling file (closed, so its WAL is checkpointed away) to derive variants from. */
    billing_engine *made = NULL;
    char *json = NULL;
    CHECK_OK(billing_engine_open(path, NULL, &made));
    CHECK_OK(billing_config_update(made, valid_update, &json));
    billing_string_free(json);
    billing_engine_close(made);
    size_t size = 0;
    unsigned char *original = read_file(path, &size);
    if (!CHECK(original != NULL && size >= 100 && memcmp(original, "SQLite format 3", 16) == 0)) {
        free(original);
        return;
    }
    unsigned char *bytes = malloc(size);
    if (!bytes) { free(original); return; }

    /* Written by a newer libbilling: same application id, schema version 999. */
    memcpy(bytes, original, size);
    put_be32(bytes, USER_VERSION_OFFSET, 999);
    check_file_refused(refused, bytes, size, "a libbilling file with user_version 999");

    /* What `sqlite3 F 'PRAGMA user_version=999; CREATE TABLE t(x);'` makes: tables, version 999,
       no application id, rollback journal (file format bytes 1, not WAL's 2). */
    put_be32(bytes, APPLICATION_ID_OFFSET, 0);
    bytes[WRITE_VERSION_OFFSET] = bytes[WRITE_VERSION_OFFSET + 1] = 1;
    check_file_refused(refused, bytes, size, "a foreign file with user_version 999");

    /* Another application's file, and a file of tables nobody claims. */
    memcpy(bytes, original, size);
    put_be32(bytes, APPLICATION_ID_OFFSET, 0x12345678);
    check_file_refused(refused, bytes, size, "a file with another application_id");
    memcpy(bytes, original, size);
    put_be32(bytes, USER_VERSION_OFFSET, 0);
    put_be32(bytes, APPLICATION_ID_OFFSET, 0);
    bytes[WRITE_VERSION_OFFSET] = bytes[WRITE_VERSION_OFFSET + 1] = 1;
    check_file_refused(refused, bytes, size, "an unclaimed file with tables");

    /* Not an SQLite file at all. */
    memset(bytes, 'x', size);
    check_file_refused(refused, bytes, size, "a text file");

    /* The untouched original still opens, with its event. */
    billing_engine *reopened = NULL;
    if (CHECK_OK(billing_engine_open(path, NULL, &reopened))) {
        int64_t ids[10];
        CHECK(list_all(reopened, billing_events_list, "seq", 10, ids, 10, NULL, NULL) == 1);
        billing_engine_close(reopened);
    }
    free(bytes);
    free(original);
    support_remove_database(refused);
    support_remove_database(path);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s SCRATCH_DIRECTORY\n", argv[0]);
        return 2;
    }
    scratch = argv[1];
    char path[PATH_MAX];
    support_database(path, sizeof path, scratch, "test_abi");
    support_remove_database(path);

    test_version();
    test_status_strings();
    test_noops();
    test_open_refusals();

    char options[96];
    snprintf(options, sizeof options, "{\"clock\": \"manual\", \"now\": %d}", START);
    if (!CHECK_OK(billing_engine_open(path, options, &engine))) return check_summary();
    char *json = NULL;
    CHECK_OK(billing_config_update(engine, valid_update, &json)); /* so the lists are not empty */
    billing_string_free(json);
    rebaseline();

    test_json_functions_listed();
    test_json_functions_match_header();
    test_null_engine();
    test_null_arguments();
    test_bad_requests_everywhere();
    test_syntax_everywhere();
    test_bad_updates();
    test_bad_pages();
    test_every_list_refuses_a_bad_cursor();
    test_refund_and_usage_requests();
    test_last_error_cleared();
    test_idempotency();
    test_clock();
    if (support_sqlite_only("foreign and damaged SQLite files")) test_refused_files();
    test_call_reaches_every_function();
    test_call();
    test_backup();
    test_copy();

    billing_engine_close(engine);
    free(baseline);
    int status = check_summary();
    if (status == 0) support_remove_database(path);
    return status;
}
