/*
 * fuzz_json.c — libFuzzer target for every libbilling function that takes a JSON request.
 *
 * Input:  a sequence of calls, at most MAX_CALLS. Each call is one byte that picks an entry
 *         of `targets` (modulo its length) followed by the request, which ends at a NUL byte
 *         or at the end of the input; the bytes after a NUL are the next call. A single-call
 *         input is therefore exactly "first byte picks the function, the rest is the request"
 *         (an embedded NUL ends the C string early, as it would for any host). Each request is
 *         copied into a buffer of exactly its size plus a NUL, so AddressSanitizer sees a read
 *         past it. A selector at the very end of the input passes NULL.
 *         Markers in a request are replaced by the value a previous response carried (see
 *         `markers`): "$TOKEN" (password-set or reset token), "$ORDER", "$RESOURCE",
 *         "$COUPON", "$EXPORT", "$PA", "$QUOTE" — so the fuzzer can chain create -> pay ->
 *         provision -> refund, or approve -> activate -> login.
 * Engine: one ":memory:" engine with a manual clock, opened once in LLVMFuzzerInitialize and
 *         seeded with a small fixture (see seed_fixture; its ids are deterministic, the
 *         corpus uses them). State carries over between inputs, like a long-lived host.
 *         FUZZ_RESET_EVERY=N (default 1000; 0 = never) reopens and reseeds it after N inputs
 *         so the database stays small; a crash that needs earlier inputs is replayed with the
 *         corpus run (make regress) or with FUZZ_RESET_EVERY=1 to prove it needs none.
 * Checks: the ABI contract (fuzz_common.h) on every call; after each successful
 *         billing_config_update the harness pins the password-hashing cost and the export
 *         directory again, so the fuzzer cannot make Argon2 take a gigabyte or write
 *         exports outside a scratch directory. FUZZ_VERIFY_EVERY=N (default 50; 0 = off) runs
 *         billing_verify after every Nth successful call and aborts on a breach, as it does
 *         when an input's own billing_verify call reports one (FUZZ_IGNORE_BREACHES=check,...
 *         skips breaches of the named checks, to fuzz on past a known defect).
 * Debug:  FUZZ_VERBOSE=1 prints every call and response; FUZZ_STATS=1 prints calls and time
 *         per function at exit. Note that libFuzzer runs an input a second time when it
 *         allocated more than it freed (its leak check, -detect_leaks=1), which state growth
 *         in the engine does; with FUZZ_RESET_EVERY=1 both runs start from a fresh fixture.
 *
 *         billing_engine_backup and billing_engine_copy (directly or through billing_call) only
 *         run with a request whose paths all lie in the harness's scratch directory (marker
 *         "$SCRATCH"), and their copy is removed at once, so fuzzing never writes elsewhere or
 *         fills the disk.
 *
 * The table below is append-only: the committed corpus names entries by index. The first
 * 50 entries are the JSON functions of include/billing.h in header order;
 * `make -C fuzz check-table` fails when the header has one the table lacks.
 */
#define _GNU_SOURCE /* mkdtemp, nftw */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_common.h"

typedef int (*json_function)(billing_engine *, const char *, char **);

enum kind { JSON, CONFIG_GET, CLOCK_ADVANCE, CLOCK_SET, CALL };

struct target {
    const char *name;
    enum kind kind;
    json_function function;
};

#define J(f) {#f, JSON, f}

static const struct target targets[] = {
    J(billing_config_update),              /* 0 */
    J(billing_events_list),                /* 1 */
    J(billing_audit_list),                 /* 2 */
    J(billing_account_put),                /* 3 */
    J(billing_account_get),                /* 4 */
    J(billing_account_settings_update),    /* 5 */
    J(billing_account_topup),              /* 6 */
    J(billing_ledger_list),                /* 7 */
    J(billing_coupon_issue),               /* 8 */
    J(billing_coupons_list),               /* 9 */
    J(billing_platform_eligibility),       /* 10 */
    J(billing_platform_apply),             /* 11 */
    J(billing_platform_approve),           /* 12 */
    J(billing_platform_reject),            /* 13 */
    J(billing_platform_resend_link),       /* 14 */
    J(billing_platform_activate),          /* 15 */
    J(billing_platform_get),               /* 16 */
    J(billing_platform_login),             /* 17 */
    J(billing_platform_reset_request),     /* 18 */
    J(billing_platform_reset_complete),    /* 19 */
    J(billing_product_put),                /* 20 */
    J(billing_product_get),                /* 21 */
    J(billing_products_list),              /* 22 */
    J(billing_discount_set),               /* 23 */
    J(billing_order_quote),                /* 24 */
    J(billing_order_create),               /* 25 */
    J(billing_order_pay),                  /* 26 */
    J(billing_orders_cancel),              /* 27 */
    J(billing_order_review),               /* 28 */
    J(billing_order_confirm),              /* 29 */
    J(billing_order_get),                  /* 30 */
    J(billing_orders_list),                /* 31 */
    J(billing_resource_report),            /* 32 */
    J(billing_resource_get),               /* 33 */
    J(billing_scheduler_run),              /* 34 */
    J(billing_resources_renew),            /* 35 */
    J(billing_resources_policy_set),       /* 36 */
    J(billing_resources_release),          /* 37 */
    J(billing_renewals_list),              /* 38 */
    J(billing_refund_quote),               /* 39 */
    J(billing_resources_unsubscribe),      /* 40 */
    J(billing_resource_refund_blocks_set), /* 41 */
    J(billing_usage_report),               /* 42 */
    J(billing_usage_list),                 /* 43 */
    J(billing_packages_list),              /* 44 */
    J(billing_export_request),             /* 45 */
    J(billing_export_step),                /* 46 */
    J(billing_export_download),            /* 47 */
    J(billing_exports_list),               /* 48 */
    J(billing_verify),                     /* 49 */
    /* Not JSON, but they move the state the JSON functions see. The request is a decimal
       number (strtoll). */
    {"billing_config_get", CONFIG_GET, NULL},       /* 50 */
    {"billing_clock_advance", CLOCK_ADVANCE, NULL}, /* 51 */
    {"billing_clock_set", CLOCK_SET, NULL},         /* 52 */
    /* Since 0.2.0. billing_engine_backup runs only on requests backup_allowed accepts.
       billing_call's request is "FUNCTION REQUEST": the name up to the first space, then
       the request (no space: the whole text names the function and the request is NULL). */
    J(billing_engine_backup),                       /* 53 */
    {"billing_call", CALL, NULL},                   /* 54 */
    J(billing_unsubscriptions_list),                /* 55 */
    J(billing_renewal_quote),                       /* 56 */
    J(billing_resources_delete),                    /* 57 */
    J(billing_audit_head),                          /* 58 */
    J(billing_platform_accounts_list),              /* 59 */
    J(billing_order_pay_quote),                     /* 60 */
    J(billing_resources_list),                      /* 61 */
    /* billing_engine_copy runs only on requests backup_allowed accepts, like a backup. */
    J(billing_engine_copy),                         /* 62 */
};

#define TARGET_COUNT (sizeof targets / sizeof targets[0])

/* 2024-01-01T10:30:00+08:00. */
#define FIXTURE_START 1704076200

static billing_engine *engine;
static char export_directory[64];
static char pin_request[256];
#define MAX_CALLS 16

/* Values remembered from responses for the request markers: the first "key":"value" of the
   last response that had one. */
static struct marker {
    const char *marker, *key;
    char value[160];
} markers[] = {
    {"$TOKEN", "\"password_set_token\":\"", ""}, {"$TOKEN", "\"reset_token\":\"", ""},
    {"$ORDER", "\"order_id\":\"", ""},           {"$RESOURCE", "\"resource_id\":\"", ""},
    {"$COUPON", "\"coupon_id\":\"", ""},         {"$EXPORT", "\"export_id\":\"", ""},
    {"$PA", "\"platform_account_id\":\"", ""},   {"$QUOTE", "\"quote_id\":\"", ""},
};
#define MARKER_COUNT (sizeof markers / sizeof markers[0])
static long reset_every = 1000, verify_every = 50;
static long inputs_since_reset, successes;
static int verbose, stats;

/* FUZZ_STATS=1: calls, successes and time per target, printed at exit. */
static struct {
    long calls, ok;
    double seconds;
} usage[TARGET_COUNT + 1]; /* the last row: billing_verify run by the harness */

static void print_stats(void) {
    fprintf(stderr, "\n%-36s %10s %10s %10s %10s\n", "target", "calls", "ok", "seconds", "ms/call");
    for (size_t i = 0; i <= TARGET_COUNT; i++) {
        if (!usage[i].calls) continue;
        fprintf(stderr, "%-36s %10ld %10ld %10.2f %10.3f\n", i < TARGET_COUNT ? targets[i].name : "(harness) billing_verify",
                usage[i].calls, usage[i].ok, usage[i].seconds, 1e3 * usage[i].seconds / (double)usage[i].calls);
    }
}

/* ---- Fixture ------------------------------------------------------------------------------ */

static void remember(const char *json);

/* A fixture call that must succeed; returns the response (caller frees). */
static char *must(json_function f, const char *name, const char *format, ...) {
    char *out = NULL;
    va_list arguments;
    va_start(arguments, format);
    char *request = support_vformat(format, arguments);
    va_end(arguments);
    if (!request) abort();
    int status = f(engine, request, &out);
    if (status != BILLING_OK) {
        fprintf(stderr, "fuzz fixture: %s failed: %d %s: %s\n  request: %s\n", name, status, billing_last_error_reason(),
                billing_last_error_message(), request);
        abort();
    }
    if (verbose) fprintf(stderr, "fixture %s -> %s\n", name, out);
    free(request);
    remember(out);
    return out;
}

#define MUST(f, ...) billing_string_free(must(f, #f, __VA_ARGS__))

/* Remembers the marker values a response carries. Both token keys fill "$TOKEN". */
static void remember(const char *json) {
    for (size_t i = 0; i < MARKER_COUNT; i++) {
        char value[sizeof markers[i].value];
        if (!json_find_after(json, markers[i].key, value, sizeof value) || !value[0]) continue;
        for (size_t j = 0; j < MARKER_COUNT; j++) {
            if (strcmp(markers[j].marker, markers[i].marker) == 0) memcpy(markers[j].value, value, sizeof value);
        }
    }
}

/* Puts back the settings the fuzzer must not change (see the file comment). */
static void pin_configuration(void) {
    char *out = NULL;
    if (billing_config_update(engine, pin_request, &out) != BILLING_OK) {
        fprintf(stderr, "fuzz harness: re-pinning the configuration failed: %s: %s\n", billing_last_error_reason(),
                billing_last_error_message());
        abort();
    }
    billing_string_free(out);
}

/*
 * Ids are drawn from per-kind sequences, so they are the same on every run:
 *   accounts acme (enterprise, verified, V3, cash 10,000,000), solo (personal, cash 5,000)
 *   products ecs.c1, evs.ssd (prepaid), ecs.bundle (bound to evs.ssd), bw.ondemand,
 *            bw.pack (package), review.box (review required), one.off
 *   coupons  CPN000000000001 voucher, CPN000000000002 cash coupon, CPN000000000003 discount
 *   orders   CS000000000001 ecs.c1 paid, completed -> RS000000000001 IN_USE
 *            CS000000000002 evs.ssd PENDING_PAYMENT
 *            CS000000000003 bw.ondemand -> RS000000000002 IN_USE (usage u1 rated)
 *            CS000000000004 review.box PENDING_REVIEW
 *            CS000000000005 ecs.c1 PENDING_CONFIRMATION (placed by the manager)
 *            CS000000000006 ecs.bundle paid -> RS000000000003 (+ bound RS000000000004)
 *                           left PENDING_PROVISION
 *            CS000000000007 bw.pack paid at once (auto_pay) -> RS000000000005 (package, IN_USE)
 *   platform PA000000000001 for acme, approved ($TOKEN activates it, user "acmeadmin")
 *   export   EX000000000001 (ORDERS, GENERATING)
 * and the markers start as $ORDER CS000000000007, $RESOURCE RS000000000005, $COUPON
 * CPN000000000003, $PA PA000000000001, $EXPORT EX000000000001, $TOKEN the approval's token.
 */
static void seed_fixture(void) {
    int status = billing_engine_open(":memory:", "{\"clock\": \"manual\", \"now\": 1704076200}", &engine);
    if (status != BILLING_OK || !engine) {
        fprintf(stderr, "fuzz fixture: billing_engine_open failed: %d %s\n", status, billing_last_error_message());
        abort();
    }
    for (size_t i = 0; i < MARKER_COUNT; i++) markers[i].value[0] = '\0';
    pin_configuration();
    MUST(billing_account_put, "{\"actor\": \"kyc\", \"account_id\": \"acme\", \"type\": \"ENTERPRISE\", \"realname_verified\": true, \"level\": \"V3\", \"credit_limit_fen\": 100000}");
    MUST(billing_account_topup, "{\"actor\": \"payments\", \"account_id\": \"acme\", \"amount_fen\": 10000000, \"external_reference\": \"seed-acme\"}");
    MUST(billing_account_put, "{\"actor\": \"kyc\", \"account_id\": \"solo\", \"type\": \"PERSONAL\"}");
    MUST(billing_account_topup, "{\"actor\": \"payments\", \"account_id\": \"solo\", \"amount_fen\": 5000, \"external_reference\": \"seed-solo\"}");

    MUST(billing_product_put, "{\"actor\": \"catalog\", \"product\": {\"product_id\": \"ecs.c1\", \"product_type\": \"ECS\", \"billing_mode\": \"PREPAID\", \"name\": \"ECS c1.large\", \"region\": \"cn-north-1\", \"specs\": {\"vcpus\": 2}, \"monthly_price_fen\": 5000, \"yearly_price_fen\": 50000, \"hourly_price_microfen\": 7000000, \"to_on_demand_supported\": true, \"auto_renew_supported\": true}}");
    MUST(billing_product_put, "{\"actor\": \"catalog\", \"product\": {\"product_id\": \"evs.ssd\", \"product_type\": \"EVS\", \"billing_mode\": \"PREPAID\", \"monthly_price_fen\": 1000, \"yearly_price_fen\": 10000}}");
    MUST(billing_product_put, "{\"actor\": \"catalog\", \"product\": {\"product_id\": \"ecs.bundle\", \"product_type\": \"ECS\", \"billing_mode\": \"PREPAID\", \"monthly_price_fen\": 8000, \"yearly_price_fen\": 80000, \"bound_products\": [\"evs.ssd\"]}}");
    MUST(billing_product_put, "{\"actor\": \"catalog\", \"product\": {\"product_id\": \"bw.ondemand\", \"product_type\": \"EIP\", \"billing_mode\": \"ON_DEMAND\", \"hourly_price_microfen\": 12345678}}");
    MUST(billing_product_put, "{\"actor\": \"catalog\", \"product\": {\"product_id\": \"bw.pack\", \"product_type\": \"EIP\", \"billing_mode\": \"PACKAGE\", \"monthly_price_fen\": 500, \"package\": {\"kind\": \"AMOUNT\", \"quota\": 1, \"applies_to\": [\"bw.ondemand\"]}}}");
    MUST(billing_product_put, "{\"actor\": \"catalog\", \"product\": {\"product_id\": \"review.box\", \"product_type\": \"DEH\", \"billing_mode\": \"PREPAID\", \"kind\": \"hardware\", \"monthly_price_fen\": 90000, \"review_required\": true}}");
    MUST(billing_product_put, "{\"actor\": \"catalog\", \"product\": {\"product_id\": \"one.off\", \"product_type\": \"SVC\", \"billing_mode\": \"ONE_OFF\", \"one_off_price_fen\": 300}}");
    MUST(billing_discount_set, "{\"actor\": \"sales\", \"account_id\": \"acme\", \"product_type\": \"EVS\", \"rate_bp\": 500}");

    MUST(billing_coupon_issue, "{\"actor\": \"marketing\", \"account_id\": \"acme\", \"kind\": \"VOUCHER\", \"face_value_fen\": 1000, \"valid_from\": 1700000000, \"valid_to\": 1800000000}");
    MUST(billing_coupon_issue, "{\"actor\": \"marketing\", \"account_id\": \"acme\", \"kind\": \"CASH_COUPON\", \"face_value_fen\": 2000, \"valid_from\": 1700000000, \"valid_to\": 1800000000, \"scope\": {\"products\": [\"ecs.c1\"]}}");
    MUST(billing_coupon_issue, "{\"actor\": \"marketing\", \"account_id\": \"acme\", \"kind\": \"DISCOUNT_COUPON\", \"discount_bp\": 1000, \"max_discount_fen\": 500, \"valid_from\": 1700000000, \"valid_to\": 1800000000}");

    MUST(billing_order_create, "{\"actor\": \"portal\", \"account_id\": \"acme\", \"items\": [{\"product_id\": \"ecs.c1\", \"period\": {\"unit\": \"MONTH\", \"count\": 1}}]}");
    MUST(billing_order_pay, "{\"actor\": \"portal\", \"account_id\": \"acme\", \"order_id\": \"CS000000000001\"}");
    MUST(billing_resource_report, "{\"actor\": \"provisioner\", \"account_id\": \"acme\", \"results\": [{\"resource_id\": \"RS000000000001\", \"outcome\": \"SUCCEEDED\"}]}");
    MUST(billing_order_create, "{\"actor\": \"portal\", \"account_id\": \"acme\", \"items\": [{\"product_id\": \"evs.ssd\", \"period\": {\"unit\": \"MONTH\", \"count\": 1}}]}");
    MUST(billing_order_create, "{\"actor\": \"portal\", \"account_id\": \"acme\", \"items\": [{\"product_id\": \"bw.ondemand\"}]}");
    MUST(billing_resource_report, "{\"actor\": \"provisioner\", \"account_id\": \"acme\", \"results\": [{\"resource_id\": \"RS000000000002\", \"outcome\": \"SUCCEEDED\"}]}");
    MUST(billing_order_create, "{\"actor\": \"portal\", \"account_id\": \"acme\", \"items\": [{\"product_id\": \"review.box\", \"period\": {\"unit\": \"MONTH\", \"count\": 1}}]}");
    MUST(billing_order_create, "{\"actor\": \"manager\", \"account_id\": \"acme\", \"placed_by_manager\": true, \"contract\": \"C-1\", \"items\": [{\"product_id\": \"ecs.c1\", \"period\": {\"unit\": \"MONTH\", \"count\": 1}}]}");
    MUST(billing_order_create, "{\"actor\": \"portal\", \"account_id\": \"acme\", \"auto_pay\": true, \"items\": [{\"product_id\": \"ecs.bundle\", \"period\": {\"unit\": \"MONTH\", \"count\": 1}}]}");
    MUST(billing_order_create, "{\"actor\": \"portal\", \"account_id\": \"acme\", \"auto_pay\": true, \"items\": [{\"product_id\": \"bw.pack\", \"period\": {\"unit\": \"MONTH\", \"count\": 1}}]}");

    if (billing_clock_advance(engine, 3600, NULL) != BILLING_OK) abort();
    MUST(billing_usage_report, "{\"actor\": \"meter\", \"account_id\": \"acme\", \"records\": [{\"usage_id\": \"u1\", \"resource_id\": \"RS000000000002\", \"quantity\": 1, \"start\": 1704076200, \"end\": 1704079800}]}");

    MUST(billing_platform_apply, "{\"actor\": \"portal\", \"account_id\": \"acme\", \"user_name\": \"acmeadmin\", \"email\": \"admin@acme.example\", \"phone\": \"13800138000\", \"contact_name\": \"Ada\"}");
    MUST(billing_platform_approve, "{\"actor\": \"reviewer\", \"platform_account_id\": \"PA000000000001\"}");
    MUST(billing_export_request, "{\"actor\": \"portal\", \"account_id\": \"acme\", \"kind\": \"ORDERS\", \"language\": \"en\"}");
    inputs_since_reset = 0;
}

static void clean_up(void) {
    if (engine) billing_engine_close(engine);
    engine = NULL;
    if (export_directory[0]) support_remove_tree(export_directory);
}

static long env_long(const char *name, long fallback) {
    const char *text = getenv(name);
    return text && *text ? strtol(text, NULL, 10) : fallback;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    verbose = env_long("FUZZ_VERBOSE", 0) != 0;
    stats = env_long("FUZZ_STATS", 0) != 0;
    reset_every = env_long("FUZZ_RESET_EVERY", reset_every);
    verify_every = env_long("FUZZ_VERIFY_EVERY", verify_every);
    const char *tmp = getenv("TMPDIR");
    snprintf(export_directory, sizeof export_directory, "%s/billing-fuzz-XXXXXX", tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
    if (!mkdtemp(export_directory)) {
        perror("mkdtemp");
        abort();
    }
    snprintf(pin_request, sizeof pin_request,
             "{\"actor\": \"fuzz-harness\", \"changes\": {\"password_hash_ops_limit\": 2,"
             " \"password_hash_memory_bytes\": 19922944, \"export_directory\": \"%s\"}}", export_directory);
    atexit(clean_up);
    if (stats) atexit(print_stats);
    seed_fixture();
    return 0;
}

/* ---- One input ---------------------------------------------------------------------------- */

/* `text` with every `marker` replaced by `value` (a new buffer; `text` is freed). */
static char *replace_all(char *text, const char *marker, const char *value) {
    size_t marker_length = strlen(marker), value_length = strlen(value), count = 0;
    for (const char *p = text; (p = strstr(p, marker)); p += marker_length) count++;
    if (count == 0) return text;
    char *result = malloc(strlen(text) - count * marker_length + count * value_length + 1), *w = result;
    if (!result) abort();
    for (const char *p = text;;) {
        const char *hit = strstr(p, marker);
        if (!hit) {
            strcpy(w, p);
            break;
        }
        memcpy(w, p, (size_t)(hit - p));
        w += hit - p;
        memcpy(w, value, value_length);
        w += value_length;
        p = hit + marker_length;
    }
    free(text);
    return result;
}

/* The request with every marker replaced by its value (a new buffer; the request is freed). */
static char *substitute_markers(char *request) {
    if (!strchr(request, '$')) return request;
    for (size_t i = 0; i < MARKER_COUNT; i++) {
        if (i > 0 && strcmp(markers[i].marker, markers[i - 1].marker) == 0) continue; /* same marker */
        request = replace_all(request, markers[i].marker, markers[i].value);
    }
    return replace_all(request, "$SCRATCH", export_directory);
}

/* 1 when a billing_verify response reports a breach whose "check" is not listed in
   FUZZ_IGNORE_BREACHES (comma-separated check names, to keep fuzzing past a known defect)
   and is not `also_ignore` (an input's own verify call may name any "audit_head": that the
   chain does not reach a made-up head is the answer, not a defect). */
static int has_new_breach(const char *out, const char *also_ignore) {
    if (strstr(out, "\"ok\":true")) return 0;
    const char *ignore = getenv("FUZZ_IGNORE_BREACHES");
    if (!ignore) ignore = "";
    if (!*ignore && !also_ignore) return 1;
    char check[256];
    for (const char *at = out; (at = json_find_after(at, "\"check\":\"", check, sizeof check));) {
        size_t n = strlen(check);
        int listed = also_ignore && strcmp(also_ignore, check) == 0;
        for (const char *item = ignore; *item;) {
            size_t m = strcspn(item, ",");
            if (m == n && strncmp(item, check, n) == 0) listed = 1;
            item += m + (item[m] == ',');
        }
        if (!listed) return 1;
    }
    return 0;
}

static void verify_invariants(const char *after) {
    char *out = NULL;
    double start = stats ? support_seconds() : 0;
    int status = billing_verify(engine, NULL, &out);
    if (stats) {
        usage[TARGET_COUNT].calls++;
        usage[TARGET_COUNT].ok += status == BILLING_OK;
        usage[TARGET_COUNT].seconds += support_seconds() - start;
    }
    fuzz_check_contract("billing_verify", status, 1, out);
    if (status != BILLING_OK) FUZZ_FAIL("billing_verify failed after %s: %s", after, billing_last_error_message());
    if (has_new_breach(out, NULL)) FUZZ_FAIL("billing_verify found breaches after %s: %.2000s", after, out);
    billing_string_free(out);
}

/* Whether a billing_engine_backup request may run: every '/' in it belongs to the scratch
   directory's prefix and it has no escapes (which could spell a '/'), so whatever key
   (duplicates included) the library reads as "destination", the copy lands in the scratch
   directory. */
static int backup_allowed(const char *request) {
    if (!request) return 1;
    if (strchr(request, '\\')) return 0;
    char prefix[sizeof export_directory + 1];
    snprintf(prefix, sizeof prefix, "%s/", export_directory);
    for (const char *p = request; *p;) {
        if (strncmp(p, prefix, strlen(prefix)) == 0) {
            p += strlen(prefix);
        } else if (*p == '/') {
            return 0;
        } else {
            p++;
        }
    }
    return 1;
}

/* Removes the copy a successful backup reported (its path has no escapes: backup_allowed). */
static void remove_backup(const char *out) {
    char path[4200];
    if (json_find_string(out, "destination", path, sizeof path)) unlink(path);
}

/* Removes the database a copy request named, with its WAL files: a copy creates the file even
   when it then fails (the destination is opened before it is found not empty). */
static void remove_copy(const char *request) {
    char path[4200], companion[4210];
    if (!request || !json_find_string(request, "destination", path, sizeof path) || strchr(path, '=')) return;
    unlink(path);
    snprintf(companion, sizeof companion, "%s-wal", path);
    unlink(companion);
    snprintf(companion, sizeof companion, "%s-shm", path);
    unlink(companion);
}

/* The contract of billing_call: a status in range, ALWAYS a document (one JSON object),
   {"ok":true,"result":...} exactly on success, and on failure the error it carries agrees
   with the status and with the thread's last error. */
static void check_call_contract(const char *name, int status, const char *out) {
    if (status < BILLING_OK || status > BILLING_E_AUTH) FUZZ_FAIL("billing_call(%s) returned status %d", name, status);
    if (!out) FUZZ_FAIL("billing_call(%s) returned %d without a document", name, status);
    if (!fuzz_valid_json_object(out)) FUZZ_FAIL("billing_call(%s): the document is not one JSON object: %.400s", name, out);
    if (billing_last_error_code() != status)
        FUZZ_FAIL("billing_call(%s) returned %d but the last error is %d", name, status, billing_last_error_code());
    if (status == BILLING_OK) {
        if (strncmp(out, "{\"ok\":true,\"result\":{", 21) != 0) FUZZ_FAIL("billing_call(%s) succeeded: %.400s", name, out);
    } else {
        char expected[64];
        snprintf(expected, sizeof expected, "\"status\":%d,", status);
        const char *reason = billing_last_error_reason();
        char quoted[200];
        snprintf(quoted, sizeof quoted, "\"reason\":\"%.150s\"", reason);
        if (strncmp(out, "{\"error\":{", 10) != 0 || !strstr(out, "},\"ok\":false}") || !strstr(out, expected) ||
            !fuzz_valid_reason(reason) || !strstr(out, quoted))
            FUZZ_FAIL("billing_call(%s) failed with %d (%s) but its document says %.400s", name, status, reason, out);
    }
}

/* One call: `selector` picks the target, request[0..length) is the request (NULL when absent). */
static void run_call(uint8_t selector, const uint8_t *bytes, size_t length, int absent) {
    const struct target *target = &targets[selector % TARGET_COUNT];
    char *request = absent ? NULL : substitute_markers(fuzz_copy_string(bytes, length));
    char *out = (char *)0x1; /* must be overwritten: NULL on failure */
    int status = BILLING_E_INTERNAL;
    /* What ran, for the checks after the call: the function itself or the one billing_call
       named, and its response (billing_call's "result"). */
    const char *called = target->name, *response = NULL;
    char *function = NULL;
    const char *call_request = request;
    if (target->kind == CALL && request) {
        size_t name_length = strcspn(request, " ");
        function = malloc(name_length + 1);
        if (!function) abort();
        memcpy(function, request, name_length);
        function[name_length] = '\0';
        call_request = request[name_length] ? request + name_length + 1 : NULL;
        called = function;
    }
    int copies = strcmp(called, "billing_engine_copy") == 0;
    /* A copy's destination may also be a PostgreSQL connection string (key=value words name no
       '/'): only requests without '=' run, so fuzzing never connects to a server. */
    if (((strcmp(called, "billing_engine_backup") == 0 || copies) && !backup_allowed(call_request)) ||
        (copies && call_request && strchr(call_request, '='))) {
        free(function);
        free(request);
        return;
    }
    double start = stats ? support_seconds() : 0;
    switch (target->kind) {
    case JSON:
        status = target->function(engine, request, &out);
        fuzz_check_contract(target->name, status, 1, out);
        break;
    case CONFIG_GET:
        status = billing_config_get(engine, &out);
        fuzz_check_contract(target->name, status, 1, out);
        break;
    case CLOCK_ADVANCE: {
        int64_t now = -1;
        status = billing_clock_advance(engine, request ? strtoll(request, NULL, 10) : 0, &now);
        fuzz_check_contract(target->name, status, 0, NULL);
        out = NULL;
        break;
    }
    case CLOCK_SET:
        status = billing_clock_set(engine, request ? strtoll(request, NULL, 10) : 0);
        fuzz_check_contract(target->name, status, 0, NULL);
        out = NULL;
        break;
    case CALL:
        status = billing_call(engine, function, call_request, &out);
        check_call_contract(called, status, out);
        break;
    }
    response = out;
    if (target->kind == CALL && status == BILLING_OK) response = out + 20; /* after {"ok":true,"result": */
    if (stats) {
        size_t row = (size_t)(target - targets);
        usage[row].calls++;
        usage[row].ok += status == BILLING_OK;
        usage[row].seconds += support_seconds() - start;
    }
    if (verbose)
        fprintf(stderr, "%s(%s) -> %d %s %s\n", target->name, request ? request : "NULL", status,
                status ? billing_last_error_reason() : "", out ? out : "");
    if (status == BILLING_OK) {
        /* The library's own invariant check, when the input asks for it, must pass too. */
        if (strcmp(called, "billing_verify") == 0 && has_new_breach(response, "audit_head"))
            FUZZ_FAIL("billing_verify found breaches: %.2000s", response);
        if (response) remember(response);
        if (strcmp(called, "billing_config_update") == 0) pin_configuration();
        if (strcmp(called, "billing_engine_backup") == 0) remove_backup(response);
        successes++;
        if (verify_every > 0 && successes % verify_every == 0) verify_invariants(called);
    }
    /* After a success or a failure: the copy's destination never outlives the call. */
    if (copies) remove_copy(call_request);
    billing_string_free(out);
    free(function);
    free(request);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    if (reset_every > 0 && inputs_since_reset >= reset_every) {
        billing_engine_close(engine);
        seed_fixture();
    }
    inputs_since_reset++;
    const uint8_t *p = data, *end = data + size;
    for (int calls = 0; p < end && calls < MAX_CALLS; calls++) {
        const uint8_t *request = p + 1;
        const uint8_t *nul = request < end ? memchr(request, 0, (size_t)(end - request)) : NULL;
        const uint8_t *stop = nul ? nul : end;
        run_call(p[0], request, (size_t)(stop - request), request == end);
        p = nul ? nul + 1 : end;
    }
    return 0;
}
