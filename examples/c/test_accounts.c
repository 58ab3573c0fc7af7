/*
 * test_accounts.c — accounts and money, coupons, platform accounts and login through the C
 * ABI: account put/get, top-ups made idempotent by their external reference, the ledger
 * summing to the cash balance, coupons, and the platform account life cycle from application
 * to login, including failed logins, the login throttle and its end on the manual clock.
 *
 *   usage: test_accounts SCRATCH_DIRECTORY
 */
#define _POSIX_C_SOURCE 200809L /* unlink */
#define CHECK_FIXTURES /* check.h's shared engine, MUST, REFUSES, STR, now_, … */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define START 1704076200 /* 2024-01-01T10:30:00+08:00, the manual clock's start */

/* How often `needle` occurs in every page of a list (events or audit). */
static int occurrences(list_function list, const char *needle) {
    int64_t ids[5000];
    int hits = 0;
    const char *key = list == billing_events_list ? "seq" : "id";
    return list_all(engine, list, key, 500, ids, 5000, needle, &hits) < 0 ? -1 : hits;
}

/* ---- Accounts -------------------------------------------------------------------------- */

static void test_account_put_get(void) {
    char *json;
    REFUSES(BILLING_E_INVALID, "missing_field", billing_account_put, "{\"actor\": \"kyc\", \"account_id\": \"acc-1\"}");
    REFUSES(BILLING_E_NOT_FOUND, "account_not_found", billing_account_get, "{\"account_id\": \"acc-1\"}");

    json = MUST(billing_account_put,
                "{\"actor\": \"kyc\", \"account_id\": \"acc-1\", \"type\": \"ENTERPRISE\", \"realname_verified\": true,"
                " \"level\": \"V3\", \"credit_limit_fen\": 50000}");
    CHECK_STR(STR(json, "account.account_id"), "acc-1");
    CHECK_STR(STR(json, "account.type"), "ENTERPRISE");
    CHECK(json_is(json, "account.realname_verified", "true"));
    CHECK(json_is(json, "account.restricted", "false"));
    CHECK_STR(STR(json, "account.freeze"), "NONE");
    CHECK_STR(STR(json, "account.level"), "V3");
    CHECK_STR(STR(json, "account.currency"), "CNY");
    CHECK(json_int(json, "account.cash_balance_fen") == 0);
    CHECK(json_int(json, "account.credit_limit_fen") == 50000);
    CHECK(json_int(json, "account.credit_available_fen") == 50000);
    CHECK(json_int(json, "account.created_at") == START);
    CHECK(json_int(json, "schema_version") == 1);
    billing_string_free(json);

    /* Absent and null fields keep their value. */
    json = MUST(billing_account_put, "{\"actor\": \"kyc\", \"account_id\": \"acc-1\", \"restricted\": true, \"level\": null}");
    CHECK(json_is(json, "account.restricted", "true"));
    CHECK_STR(STR(json, "account.level"), "V3");
    CHECK_STR(STR(json, "account.type"), "ENTERPRISE");
    billing_string_free(json);
    json = MUST(billing_account_get, "{\"account_id\": \"acc-1\"}");
    CHECK(json_is(json, "account.restricted", "true"));
    CHECK(json_is(json, "account.realname_verified", "true"));
    CHECK_STR(STR(json, "account.level"), "V3");
    billing_string_free(json);
    json = MUST(billing_account_put, "{\"actor\": \"kyc\", \"account_id\": \"acc-1\", \"restricted\": false}");
    billing_string_free(json);

    REFUSES(BILLING_E_INVALID, "unknown_value", billing_account_put,
            "{\"actor\": \"kyc\", \"account_id\": \"acc-1\", \"freeze\": \"SOMETIMES\"}");
    REFUSES(BILLING_E_INVALID, "not_an_integer", billing_account_put,
            "{\"actor\": \"kyc\", \"account_id\": \"acc-1\", \"credit_limit_fen\": 500.00}");
    REFUSES(BILLING_E_INVALID, "unknown_field", billing_account_put,
            "{\"actor\": \"kyc\", \"account_id\": \"acc-1\", \"cash_balance_fen\": 100}");
    CHECK(occurrences(billing_events_list, "\"subject_id\":\"acc-1\",\"type\":\"account.created\"") == 1);
}

/* ---- Top-ups and the ledger ------------------------------------------------------------ */

static void test_topups(void) {
    char *json, *again;
    json = MUST(billing_account_topup,
                "{\"actor\": \"payments\", \"account_id\": \"acc-1\", \"amount_fen\": 10000, \"external_reference\": \"alipay-1\"}");
    CHECK(json_is(json, "replayed", "false"));
    CHECK(json_int(json, "account.cash_balance_fen") == 10000);
    CHECK(json_int(json, "arrears_settled_fen") == 0);
    CHECK(json_int(json, "topup.amount_fen") == 10000);
    CHECK(json_int(json, "topup.balance_after_fen") == 10000);
    CHECK_STR(STR(json, "topup.kind"), "TOPUP");
    CHECK_STR(STR(json, "topup.fund"), "CASH");
    CHECK_STR(STR(json, "topup.reference"), "alipay-1");
    CHECK(json_int(json, "topup.recorded_at") == START);
    int64_t entry = json_int(json, "topup.id");
    CHECK(entry > 0);

    /* The same reference and amount: the first top-up, not a second one. Another actor or
       another idempotency key does not make it new. */
    again = MUST(billing_account_topup,
                 "{\"actor\": \"retry-worker\", \"idempotency_key\": \"t-1\", \"account_id\": \"acc-1\", \"amount_fen\": 10000,"
                 " \"external_reference\": \"alipay-1\"}");
    CHECK(json_is(again, "replayed", "true"));
    CHECK(json_int(again, "topup.id") == entry);
    CHECK(json_int(again, "account.cash_balance_fen") == 10000);
    billing_string_free(again);
    again = MUST(billing_account_get, "{\"account_id\": \"acc-1\"}");
    CHECK(json_int(again, "account.cash_balance_fen") == 10000);
    billing_string_free(again);
    billing_string_free(json);

    /* The same reference with another amount is a conflict and changes nothing. */
    REFUSES(BILLING_E_CONFLICT, "topup_reference_reused", billing_account_topup,
            "{\"actor\": \"payments\", \"account_id\": \"acc-1\", \"amount_fen\": 9000, \"external_reference\": \"alipay-1\"}");
    CHECK(strstr(billing_last_error_message(), "alipay-1") != NULL);
    json = MUST(billing_account_get, "{\"account_id\": \"acc-1\"}");
    CHECK(json_int(json, "account.cash_balance_fen") == 10000);
    billing_string_free(json);
    CHECK(occurrences(billing_events_list, "\"subject_id\":\"alipay-1\"") == 1); /* one account.topped_up */

    /* References belong to an account: another account may use the same one. */
    json = MUST(billing_account_put, "{\"actor\": \"kyc\", \"account_id\": \"acc-2\", \"type\": \"PERSONAL\"}");
    billing_string_free(json);
    json = MUST(billing_account_topup,
                "{\"actor\": \"payments\", \"account_id\": \"acc-2\", \"amount_fen\": 300, \"external_reference\": \"alipay-1\"}");
    CHECK(json_is(json, "replayed", "false"));
    CHECK(json_int(json, "account.cash_balance_fen") == 300);
    billing_string_free(json);

    REFUSES(BILLING_E_INVALID, "non_positive_amount", billing_account_topup,
            "{\"actor\": \"p\", \"account_id\": \"acc-1\", \"amount_fen\": 0, \"external_reference\": \"z-0\"}");
    REFUSES(BILLING_E_INVALID, "negative_amount", billing_account_topup,
            "{\"actor\": \"p\", \"account_id\": \"acc-1\", \"amount_fen\": -5, \"external_reference\": \"z-1\"}");
    REFUSES(BILLING_E_INVALID, "not_an_integer", billing_account_topup,
            "{\"actor\": \"p\", \"account_id\": \"acc-1\", \"amount_fen\": 100.0, \"external_reference\": \"z-2\"}");
    REFUSES(BILLING_E_INVALID, "not_an_integer", billing_account_topup,
            "{\"actor\": \"p\", \"account_id\": \"acc-1\", \"amount_fen\": 1e3, \"external_reference\": \"z-3\"}");
    REFUSES(BILLING_E_INVALID, "missing_field", billing_account_topup,
            "{\"actor\": \"p\", \"account_id\": \"acc-1\", \"amount_fen\": 100}");
    REFUSES(BILLING_E_NOT_FOUND, "account_not_found", billing_account_topup,
            "{\"actor\": \"p\", \"account_id\": \"nobody\", \"amount_fen\": 100, \"external_reference\": \"z-4\"}");
}

/* Sums every CASH entry of an account's ledger, `limit` entries a page; returns the number
   of entries, -1 on a failed call. *last_after receives the last entry's balance_after_fen. */
static int ledger_sum(const char *account, int limit, int64_t *sum, int64_t *last_after) {
    char filter[96];
    int count = 0;
    int64_t previous_id = 0;
    *sum = 0;
    snprintf(filter, sizeof filter, "\"account_id\": \"%s\"", account);
    support_pages pages;
    support_pages_begin(&pages, engine, billing_ledger_list, filter, limit);
    for (const char *page; (page = support_pages_next(&pages));) {
        int entries = json_count(page, "entries");
        CHECK(entries >= 0 && entries <= limit);
        for (int i = 0; i < entries; i++) {
            char path[64];
            snprintf(path, sizeof path, "entries.%d.id", i);
            int64_t id = json_int(page, path);
            CHECK(id > previous_id); /* oldest first */
            previous_id = id;
            snprintf(path, sizeof path, "entries.%d.fund", i);
            if (strcmp(STR(page, path) ? text : "", "CASH") == 0) {
                snprintf(path, sizeof path, "entries.%d.amount_fen", i);
                *sum += json_int(page, path);
                snprintf(path, sizeof path, "entries.%d.balance_after_fen", i);
                *last_after = json_int(page, path);
                CHECK(*last_after == *sum); /* each entry's balance is the sum so far */
            }
            count++;
        }
    }
    int failed = pages.status != BILLING_OK;
    support_pages_end(&pages);
    return failed ? -1 : count;
}

static void test_ledger_sum(void) {
    enum { TOPUPS = 300 };
    char *json = MUST(billing_account_put, "{\"actor\": \"kyc\", \"account_id\": \"ledger-1\", \"type\": \"PERSONAL\"}");
    billing_string_free(json);
    int64_t expected = 0;
    for (int i = 0; i < TOPUPS; i++) {
        int64_t amount = 1 + (i * 7919) % 100000;
        expected += amount;
        json = call(billing_account_topup, &status_,
                    "{\"actor\": \"payments\", \"account_id\": \"ledger-1\", \"amount_fen\": %lld,"
                    " \"external_reference\": \"wx-%d\"}", (long long)amount, i);
        if (!CHECK(status_ == BILLING_OK && json_int(json, "account.cash_balance_fen") == expected)) {
            billing_string_free(json);
            break;
        }
        billing_string_free(json);
        if (i % 50 == 49) {
            /* Replays in between add nothing. */
            json = call(billing_account_topup, &status_,
                        "{\"actor\": \"payments\", \"account_id\": \"ledger-1\", \"amount_fen\": %lld,"
                        " \"external_reference\": \"wx-%d\"}", (long long)amount, i);
            CHECK(status_ == BILLING_OK && json_is(json, "replayed", "true"));
            billing_string_free(json);
        }
    }
    json = MUST(billing_account_get, "{\"account_id\": \"ledger-1\"}");
    int64_t cash = json_int(json, "account.cash_balance_fen"), arrears = json_int(json, "account.arrears_fen");
    CHECK(cash == expected);
    CHECK(arrears == 0);
    billing_string_free(json);

    int64_t sum = 0, last = -1;
    CHECK(ledger_sum("ledger-1", 7, &sum, &last) == TOPUPS);
    CHECK(sum == cash - arrears);
    CHECK(last == cash);
    CHECK(ledger_sum("ledger-1", 1000, &sum, &last) == TOPUPS);
    CHECK(sum == cash - arrears);

    /* acc-1's ledger holds its one top-up; a replay did not add a row. */
    CHECK(ledger_sum("acc-1", 3, &sum, &last) == 1);
    CHECK(sum == 10000);
    REFUSES(BILLING_E_NOT_FOUND, "account_not_found", billing_ledger_list, "{\"account_id\": \"nobody\"}");
    REFUSES(BILLING_E_INVALID, "out_of_range", billing_ledger_list, "{\"account_id\": \"ledger-1\", \"limit\": 0}");
}

/* ---- Coupons ----------------------------------------------------------------------------- */

static void test_coupons(void) {
    int64_t now = now_();
    char *json;
    char voucher[32] = "", discount[32] = "", later[32] = "", short_lived[32] = "";

    json = MUST(billing_coupon_issue,
                "{\"actor\": \"marketing\", \"account_id\": \"acc-1\", \"kind\": \"VOUCHER\", \"face_value_fen\": 500,"
                " \"valid_from\": %lld, \"valid_to\": %lld, \"external_reference\": \"camp-1\"}",
                (long long)now, (long long)(now + 30 * 86400));
    CHECK(json_is(json, "replayed", "false"));
    CHECK_STR(STR(json, "coupon.kind"), "VOUCHER");
    CHECK_STR(STR(json, "coupon.status"), "USABLE");
    CHECK(json_int(json, "coupon.face_value_fen") == 500);
    CHECK(json_int(json, "coupon.balance_fen") == 500);
    CHECK(json_is(json, "coupon.exclusive_with_discounts", "true")); /* the voucher default */
    COPY(voucher, json, "coupon.coupon_id");
    billing_string_free(json);

    /* The same external reference returns the coupon issued first. */
    json = MUST(billing_coupon_issue,
                "{\"actor\": \"marketing\", \"account_id\": \"acc-1\", \"kind\": \"VOUCHER\", \"face_value_fen\": 500,"
                " \"valid_from\": %lld, \"valid_to\": %lld, \"external_reference\": \"camp-1\"}",
                (long long)now, (long long)(now + 30 * 86400));
    CHECK(json_is(json, "replayed", "true"));
    CHECK_STR(STR(json, "coupon.coupon_id"), voucher);
    billing_string_free(json);

    json = MUST(billing_coupon_issue,
                "{\"actor\": \"marketing\", \"account_id\": \"acc-1\", \"kind\": \"DISCOUNT_COUPON\", \"discount_bp\": 1000,"
                " \"max_discount_fen\": 2000, \"valid_from\": %lld, \"valid_to\": %lld,"
                " \"scope\": {\"products\": [\"ecs.c1\"], \"billing_modes\": [\"PREPAID_MONTHLY\"]}}",
                (long long)now, (long long)(now + 7 * 86400));
    CHECK_STR(STR(json, "coupon.kind"), "DISCOUNT_COUPON");
    CHECK(json_int(json, "coupon.discount_bp") == 1000);
    CHECK(json_int(json, "coupon.max_discount_fen") == 2000);
    CHECK_STR(STR(json, "coupon.scope.products.0"), "ecs.c1");
    COPY(discount, json, "coupon.coupon_id");
    billing_string_free(json);

    json = MUST(billing_coupon_issue,
                "{\"actor\": \"marketing\", \"account_id\": \"acc-1\", \"kind\": \"CASH_COUPON\", \"face_value_fen\": 800,"
                " \"valid_from\": %lld, \"valid_to\": %lld}", (long long)(now + 86400), (long long)(now + 2 * 86400));
    CHECK_STR(STR(json, "coupon.status"), "NOT_YET_VALID");
    COPY(later, json, "coupon.coupon_id");
    billing_string_free(json);

    json = MUST(billing_coupon_issue,
                "{\"actor\": \"marketing\", \"account_id\": \"acc-1\", \"kind\": \"STORED_VALUE_CARD\", \"face_value_fen\": 10000,"
                " \"valid_from\": %lld, \"valid_to\": %lld}", (long long)now, (long long)(now + 100));
    CHECK_STR(STR(json, "coupon.status"), "USABLE");
    COPY(short_lived, json, "coupon.coupon_id");
    billing_string_free(json);
    CHECK(voucher[0] && discount[0] && later[0] && short_lived[0]);
    CHECK(strcmp(voucher, discount) < 0 && strcmp(discount, later) < 0 && strcmp(later, short_lived) < 0);

    REFUSES(BILLING_E_INVALID, "invalid_field", billing_coupon_issue,
            "{\"actor\": \"m\", \"account_id\": \"acc-1\", \"kind\": \"DISCOUNT_COUPON\", \"discount_bp\": 1000,"
            " \"face_value_fen\": 100, \"valid_from\": %lld, \"valid_to\": %lld}", (long long)now, (long long)(now + 10));
    REFUSES(BILLING_E_INVALID, "missing_field", billing_coupon_issue,
            "{\"actor\": \"m\", \"account_id\": \"acc-1\", \"kind\": \"VOUCHER\", \"valid_from\": %lld, \"valid_to\": %lld}",
            (long long)now, (long long)(now + 10));
    REFUSES(BILLING_E_INVALID, "invalid_window", billing_coupon_issue,
            "{\"actor\": \"m\", \"account_id\": \"acc-1\", \"kind\": \"VOUCHER\", \"face_value_fen\": 1,"
            " \"valid_from\": %lld, \"valid_to\": %lld}", (long long)now, (long long)now);
    REFUSES(BILLING_E_INVALID, "out_of_range", billing_coupon_issue,
            "{\"actor\": \"m\", \"account_id\": \"acc-1\", \"kind\": \"DISCOUNT_COUPON\", \"discount_bp\": 10000,"
            " \"valid_from\": %lld, \"valid_to\": %lld}", (long long)now, (long long)(now + 10));
    REFUSES(BILLING_E_INVALID, "unknown_value", billing_coupon_issue,
            "{\"actor\": \"m\", \"account_id\": \"acc-1\", \"kind\": \"GIFT\", \"face_value_fen\": 1,"
            " \"valid_from\": %lld, \"valid_to\": %lld}", (long long)now, (long long)(now + 10));
    REFUSES(BILLING_E_NOT_FOUND, "account_not_found", billing_coupon_issue,
            "{\"actor\": \"m\", \"account_id\": \"nobody\", \"kind\": \"VOUCHER\", \"face_value_fen\": 1,"
            " \"valid_from\": %lld, \"valid_to\": %lld}", (long long)now, (long long)(now + 10));

    /* Listing: all four in issue order; USABLE leaves out the one not yet valid. */
    json = MUST(billing_coupons_list, "{\"account_id\": \"acc-1\"}");
    CHECK(json_count(json, "coupons") == 4);
    CHECK_STR(STR(json, "coupons.0.coupon_id"), voucher);
    CHECK_STR(STR(json, "coupons.3.coupon_id"), short_lived);
    CHECK(json_is(json, "has_more", "false"));
    billing_string_free(json);
    json = MUST(billing_coupons_list, "{\"account_id\": \"acc-1\", \"status\": \"USABLE\"}");
    CHECK(json_count(json, "coupons") == 3);
    CHECK(strstr(json, later) == NULL);
    billing_string_free(json);
    json = MUST(billing_coupons_list, "{\"account_id\": \"acc-1\", \"kind\": \"DISCOUNT_COUPON\"}");
    CHECK(json_count(json, "coupons") == 1);
    CHECK_STR(STR(json, "coupons.0.coupon_id"), discount);
    billing_string_free(json);

    /* Paged one at a time, the cursor walks all four. */
    char cursor[32] = "";
    int seen = 0, more = 1;
    while (more && seen < 10) {
        if (cursor[0]) json = call(billing_coupons_list, NULL, "{\"account_id\": \"acc-1\", \"limit\": 1, \"after\": \"%s\"}", cursor);
        else json = call(billing_coupons_list, NULL, "{\"account_id\": \"acc-1\", \"limit\": 1}");
        if (!CHECK(json != NULL)) break;
        seen += json_count(json, "coupons");
        more = json_is(json, "has_more", "true");
        COPY(cursor, json, "next_cursor");
        billing_string_free(json);
    }
    CHECK(seen == 4);

    /* Time moves: the short-lived card expires, the later coupon becomes usable. */
    CHECK_OK(billing_clock_advance(engine, 86400, NULL));
    json = MUST(billing_coupons_list, "{\"account_id\": \"acc-1\"}");
    CHECK_STR(STR(json, "coupons.3.status"), "EXPIRED");
    CHECK_STR(STR(json, "coupons.2.status"), "USABLE");
    CHECK_STR(STR(json, "coupons.1.status"), "USABLE");
    billing_string_free(json);
    json = MUST(billing_coupons_list, "{\"account_id\": \"acc-1\", \"status\": \"USABLE\"}");
    CHECK(json_count(json, "coupons") == 3);
    CHECK(strstr(json, short_lived) == NULL);
    billing_string_free(json);
    REFUSES(BILLING_E_NOT_FOUND, "account_not_found", billing_coupons_list, "{\"account_id\": \"nobody\"}");
}

/* ---- Platform accounts and login --------------------------------------------------------- */

static const char *password = "Blue-Horse-42";
static char platform_id[32];

static char *login(int *status, const char *identifier, const char *secret) {
    return call(billing_platform_login, status, "{\"identifier\": \"%s\", \"password\": \"%s\"}", identifier, secret);
}

#define LOGIN_OK(identifier, secret)                                             \
    do {                                                                         \
        char *json_ = login(&status_, (identifier), (secret));                   \
        check_status(status_, BILLING_OK, __FILE__, __LINE__, "login " identifier); \
        CHECK_STR(STR(json_, "account_id"), "plat-1");                           \
        CHECK_STR(STR(json_, "platform_account.status"), "ACTIVE");              \
        CHECK(json_ == NULL || strstr(json_, "hash") == NULL);                   \
        billing_string_free(json_);                                              \
    } while (0)

#define LOGIN_FAILS(reason, identifier, secret)                                                 \
    do {                                                                                        \
        char *json_ = login(&status_, (identifier), (secret));                                  \
        check_status(status_, BILLING_E_AUTH, __FILE__, __LINE__, "login " identifier);         \
        check_string(billing_last_error_reason(), (reason), __FILE__, __LINE__, "login reason"); \
        CHECK(json_ == NULL);                                                                   \
        billing_string_free(json_);                                                             \
    } while (0)

static void test_platform_application(void) {
    char *json = MUST(billing_config_update,
                      "{\"actor\": \"ops\", \"changes\": {\"password_hash_ops_limit\": 2, \"password_hash_memory_bytes\": 19922944}}");
    CHECK(json_int(json, "configuration.password_hash_ops_limit") == 2);
    CHECK(json_int(json, "configuration.password_hash_memory_bytes") == 19922944);
    billing_string_free(json);

    json = MUST(billing_account_put, "{\"actor\": \"kyc\", \"account_id\": \"plat-1\", \"type\": \"ENTERPRISE\", \"realname_verified\": true}");
    billing_string_free(json);
    json = MUST(billing_account_put, "{\"actor\": \"kyc\", \"account_id\": \"plat-0\", \"type\": \"PERSONAL\"}");
    billing_string_free(json);

    /* E1–E4 are evaluated together. */
    json = MUST(billing_platform_eligibility, "{\"account_id\": \"plat-1\"}");
    CHECK(json_is(json, "eligible", "true"));
    CHECK(json_count(json, "checks") == 4);
    billing_string_free(json);
    json = MUST(billing_platform_eligibility, "{\"account_id\": \"plat-0\"}");
    CHECK(json_is(json, "eligible", "false"));
    CHECK_STR(STR(json, "checks.0.check"), "E1");
    CHECK(json_is(json, "checks.0.passed", "false"));
    CHECK_STR(STR(json, "checks.0.code"), "not_enterprise");
    CHECK(json_is(json, "checks.1.passed", "false"));
    CHECK_STR(STR(json, "checks.1.code"), "not_realname_verified");
    CHECK(json_is(json, "checks.2.passed", "true"));
    CHECK(json_is(json, "checks.3.passed", "true"));
    billing_string_free(json);
    REFUSES(BILLING_E_REFUSED, "not_eligible", billing_platform_apply,
            "{\"actor\": \"portal\", \"account_id\": \"plat-0\", \"user_name\": \"someone\", \"email\": \"s@example.com\","
            " \"phone\": \"13900139000\"}");

    json = MUST(billing_platform_apply,
                "{\"actor\": \"portal\", \"account_id\": \"plat-1\", \"user_name\": \"acme_ops\", \"email\": \"Ops@Example.COM\","
                " \"phone\": \"138 0013 8000\", \"contact_name\": \"Li Lei\"}");
    CHECK_STR(STR(json, "platform_account.status"), "SUBMITTED");
    CHECK_STR(STR(json, "platform_account.email"), "ops@example.com");
    CHECK_STR(STR(json, "platform_account.phone"), "+8613800138000");
    CHECK_STR(STR(json, "platform_account.account_id"), "plat-1");
    COPY(platform_id, json, "platform_account.platform_account_id");
    billing_string_free(json);
    CHECK(platform_id[0] != '\0');

    /* A second application (E4), and identifiers already taken. */
    REFUSES(BILLING_E_REFUSED, "not_eligible", billing_platform_apply,
            "{\"actor\": \"portal\", \"account_id\": \"plat-1\", \"user_name\": \"acme_two\", \"email\": \"two@example.com\","
            " \"phone\": \"13900139001\"}");
    json = MUST(billing_account_put, "{\"actor\": \"kyc\", \"account_id\": \"plat-2\", \"type\": \"ENTERPRISE\", \"realname_verified\": true}");
    billing_string_free(json);
    REFUSES(BILLING_E_CONFLICT, "email_taken", billing_platform_apply,
            "{\"actor\": \"portal\", \"account_id\": \"plat-2\", \"user_name\": \"other_ops\", \"email\": \"OPS@example.com\","
            " \"phone\": \"13900139002\"}");
    REFUSES(BILLING_E_CONFLICT, "phone_taken", billing_platform_apply,
            "{\"actor\": \"portal\", \"account_id\": \"plat-2\", \"user_name\": \"other_ops\", \"email\": \"other@example.com\","
            " \"phone\": \"+86 138-0013-8000\"}");
    REFUSES(BILLING_E_INVALID, "invalid_user_name", billing_platform_apply,
            "{\"actor\": \"portal\", \"account_id\": \"plat-2\", \"user_name\": \"9lives\", \"email\": \"other@example.com\","
            " \"phone\": \"13900139002\"}");

    /* Before approval nobody can log in. */
    LOGIN_FAILS("invalid_credentials", "acme_ops", "Blue-Horse-42");

    json = MUST(billing_platform_approve, "{\"actor\": \"reviewer\", \"idempotency_key\": \"approve-1\", \"platform_account_id\": \"%s\"}",
                platform_id);
    CHECK_STR(STR(json, "platform_account.status"), "APPROVED_PENDING_PASSWORD");
    CHECK(json_int(json, "token_expires_at") == now_() + 86400);
    char token[160] = "";
    COPY(token, json, "password_set_token");
    CHECK(strlen(token) == 64);
    billing_string_free(json);
    /* A replay answers the same but never repeats the token. */
    json = MUST(billing_platform_approve, "{\"actor\": \"reviewer\", \"idempotency_key\": \"approve-1\", \"platform_account_id\": \"%s\"}",
                platform_id);
    CHECK(json_is(json, "password_set_token", "null"));
    CHECK_STR(STR(json, "platform_account.status"), "APPROVED_PENDING_PASSWORD");
    billing_string_free(json);
    REFUSES(BILLING_E_REFUSED, "not_submitted", billing_platform_approve, "{\"actor\": \"reviewer\", \"platform_account_id\": \"%s\"}",
            platform_id);

    /* The password policy, then activation with the token, once. */
    REFUSES(BILLING_E_INVALID, "password_too_short", billing_platform_activate,
            "{\"actor\": \"applicant\", \"token\": \"%s\", \"password\": \"aB3\"}", token);
    REFUSES(BILLING_E_INVALID, "password_too_simple", billing_platform_activate,
            "{\"actor\": \"applicant\", \"token\": \"%s\", \"password\": \"abcdefghij\"}", token);
    REFUSES(BILLING_E_INVALID, "password_equals_identifier", billing_platform_activate,
            "{\"actor\": \"applicant\", \"token\": \"%s\", \"password\": \"Acme_Ops\"}", token);
    REFUSES(BILLING_E_REFUSED, "invalid_token", billing_platform_activate,
            "{\"actor\": \"applicant\", \"token\": \"%064d\", \"password\": \"%s\"}", 7, password);
    json = MUST(billing_platform_activate, "{\"actor\": \"applicant\", \"token\": \"%s\", \"password\": \"%s\"}", token, password);
    CHECK_STR(STR(json, "platform_account.status"), "ACTIVE");
    CHECK(json == NULL || strstr(json, "hash") == NULL);
    billing_string_free(json);
    REFUSES(BILLING_E_REFUSED, "token_used", billing_platform_activate,
            "{\"actor\": \"applicant\", \"token\": \"%s\", \"password\": \"Other-Pass-77\"}", token);

    json = MUST(billing_platform_get, "{\"platform_account_id\": \"%s\"}", platform_id);
    CHECK_STR(STR(json, "platform_account.status"), "ACTIVE");
    CHECK(json == NULL || strstr(json, "hash") == NULL);
    billing_string_free(json);
    REFUSES(BILLING_E_NOT_FOUND, "platform_account_not_found", billing_platform_get, "{\"platform_account_id\": \"PA999999999999\"}");
}

/* A rejected application frees its identifiers; a new link replaces the old one; links expire. */
static void test_platform_reject_resend_expiry(void) {
    static const char *application =
        "{\"actor\": \"portal\", \"account_id\": \"plat-2\", \"user_name\": \"other_ops\", \"email\": \"other@example.com\","
        " \"phone\": \"13900139002\"}";
    char id[32] = "", first[160] = "", second[160] = "", third[160] = "";
    char *json = MUST(billing_platform_apply, "%s", application);
    COPY(id, json, "platform_account.platform_account_id");
    billing_string_free(json);
    REFUSES(BILLING_E_INVALID, "missing_field", billing_platform_reject, "{\"actor\": \"reviewer\", \"platform_account_id\": \"%s\"}", id);
    json = MUST(billing_platform_reject, "{\"actor\": \"reviewer\", \"platform_account_id\": \"%s\", \"reason\": \"blurry licence\"}", id);
    CHECK_STR(STR(json, "platform_account.status"), "REJECTED");
    CHECK_STR(STR(json, "platform_account.reject_reason"), "blurry licence");
    billing_string_free(json);
    REFUSES(BILLING_E_REFUSED, "not_submitted", billing_platform_reject,
            "{\"actor\": \"reviewer\", \"platform_account_id\": \"%s\", \"reason\": \"again\"}", id);

    json = MUST(billing_platform_apply, "%s", application); /* the same identifiers again */
    CHECK_STR(STR(json, "platform_account.status"), "SUBMITTED");
    COPY(id, json, "platform_account.platform_account_id");
    billing_string_free(json);
    REFUSES(BILLING_E_REFUSED, "not_awaiting_password", billing_platform_resend_link,
            "{\"actor\": \"reviewer\", \"platform_account_id\": \"%s\"}", id);
    json = MUST(billing_platform_approve, "{\"actor\": \"reviewer\", \"platform_account_id\": \"%s\"}", id);
    COPY(first, json, "password_set_token");
    billing_string_free(json);
    json = MUST(billing_platform_resend_link, "{\"actor\": \"reviewer\", \"platform_account_id\": \"%s\"}", id);
    COPY(second, json, "password_set_token");
    CHECK(json_int(json, "token_expires_at") == now_() + 86400);
    billing_string_free(json);
    CHECK(first[0] && second[0] && strcmp(first, second) != 0);
    REFUSES(BILLING_E_REFUSED, "token_used", billing_platform_activate,
            "{\"actor\": \"applicant\", \"token\": \"%s\", \"password\": \"Other-Pass-77\"}", first);

    CHECK_OK(billing_clock_advance(engine, 86400, NULL));
    REFUSES(BILLING_E_REFUSED, "token_expired", billing_platform_activate,
            "{\"actor\": \"applicant\", \"token\": \"%s\", \"password\": \"Other-Pass-77\"}", second);
    json = MUST(billing_platform_resend_link, "{\"actor\": \"reviewer\", \"platform_account_id\": \"%s\"}", id);
    COPY(third, json, "password_set_token");
    billing_string_free(json);
    json = MUST(billing_platform_activate, "{\"actor\": \"applicant\", \"token\": \"%s\", \"password\": \"Other-Pass-77\"}", third);
    CHECK_STR(STR(json, "platform_account.status"), "ACTIVE");
    billing_string_free(json);
    json = login(&status_, "other@example.com", "Other-Pass-77");
    CHECK(status_ == BILLING_OK);
    CHECK_STR(STR(json, "account_id"), "plat-2");
    billing_string_free(json);
}

static void test_login(void) {
    /* Any of the three identifiers, e-mail in any case, phone in any spelling. */
    LOGIN_OK("acme_ops", "Blue-Horse-42");
    LOGIN_OK("OPS@example.com", "Blue-Horse-42");
    LOGIN_OK("13800138000", "Blue-Horse-42");
    LOGIN_OK("+86 138 0013 8000", "Blue-Horse-42");

    /* One answer for an unknown identifier and a wrong password. */
    LOGIN_FAILS("invalid_credentials", "nobody_here", "Blue-Horse-42");
    char unknown_message[256];
    snprintf(unknown_message, sizeof unknown_message, "%s", billing_last_error_message());
    LOGIN_FAILS("invalid_credentials", "nobody@example.com", "Blue-Horse-42");
    LOGIN_FAILS("invalid_credentials", "+8613999999999", "Blue-Horse-42");
    LOGIN_FAILS("invalid_credentials", "acme_ops", "Blue-Horse-43");
    CHECK_STR(billing_last_error_message(), unknown_message);
    LOGIN_FAILS("invalid_credentials", "acme_ops", "blue-horse-42");
    LOGIN_OK("acme_ops", "Blue-Horse-42"); /* a success clears the failures */

    int status = 0;
    char *json = call(billing_platform_login, &status, "{\"identifier\": \"acme_ops\"}");
    CHECK(status == BILLING_E_INVALID && json == NULL);
    json = call(billing_platform_login, &status, "{\"identifier\": \"acme_ops\", \"password\": \"Blue-Horse-42\", \"actor\": \"x\"}");
    CHECK(status == BILLING_E_INVALID && json == NULL);
}

/* The instant at the end of the last error's message ("(retry_after <Unix seconds>)"), or -1. */
static int64_t retry_after(void) {
    const char *found = strstr(billing_last_error_message(), "(retry_after ");
    return found ? strtoll(found + strlen("(retry_after "), NULL, 10) : -1;
}

/* One failed login: its status, reason and message, to compare two answers. */
struct answer {
    int status;
    char reason[64];
    char message[512];
};

static struct answer attempt(const char *identifier, const char *secret) {
    struct answer result;
    char *json = login(&result.status, identifier, secret);
    CHECK(json == NULL);
    billing_string_free(json);
    snprintf(result.reason, sizeof result.reason, "%s", billing_last_error_reason());
    snprintf(result.message, sizeof result.message, "%s", billing_last_error_message());
    return result;
}

static void test_throttle(void) {
    /* Issue 13 item 5: five wrong passwords locked a known account, while an unknown
       identifier kept answering invalid_credentials. Now an identifier known or not is
       answered alike all along: after login_throttle_after_failures (5) failures in a row the
       next attempt waits login_throttle_base_seconds (30), doubling up to
       login_throttle_max_seconds (900), and no failure locks the owner out. */
    int throttled_events = occurrences(billing_events_list, "platform.login_throttled");
    for (int i = 0; i < 8; i++) {
        struct answer known = attempt("acme_ops", "wrong-Password-1");
        struct answer unknown = attempt("acme_nobody", "wrong-Password-1");
        CHECK(known.status == BILLING_E_AUTH && unknown.status == BILLING_E_AUTH);
        CHECK_STR(known.reason, i < 5 ? "invalid_credentials" : "login_throttled");
        CHECK_STR(unknown.reason, known.reason);
        CHECK_STR(unknown.message, known.message);
    }
    int64_t until = retry_after();
    CHECK(until == now_() + 30);
    CHECK(occurrences(billing_events_list, "platform.login_throttled") == throttled_events + 1);

    /* During the wait even the right password is refused, like a wrong one... */
    LOGIN_FAILS("login_throttled", "acme_ops", "Blue-Horse-42");
    CHECK(retry_after() == until);
    /* ...at that identifier only: the account's other identifiers have their own counts. */
    LOGIN_OK("ops@example.com", "Blue-Horse-42");
    CHECK_OK(billing_clock_advance(engine, 29, NULL));
    LOGIN_FAILS("login_throttled", "acme_ops", "Blue-Horse-42");
    /* The wait ends on time and the right password works: a stranger cannot lock it. */
    CHECK_OK(billing_clock_advance(engine, 1, NULL));
    LOGIN_OK("acme_ops", "Blue-Horse-42");

    /* The count starts again, and each failure past the threshold doubles the wait. */
    for (int i = 0; i < 4; i++) LOGIN_FAILS("invalid_credentials", "acme_ops", "wrong-Password-2");
    CHECK(retry_after() == -1);
    for (int64_t wait = 30; wait <= 120; wait *= 2) {
        LOGIN_FAILS("invalid_credentials", "acme_ops", "wrong-Password-2");
        CHECK(retry_after() == now_() + wait);
        CHECK_OK(billing_clock_advance(engine, wait, NULL));
    }
    LOGIN_FAILS("invalid_credentials", "acme_ops", "wrong-Password-2");
    LOGIN_FAILS("login_throttled", "acme_ops", "Blue-Horse-42");

    /* A reset request answers the same for an unknown identifier, with null token and
       account; a completed reset ends the wait at once. */
    char *json = MUST(billing_platform_reset_request, "{\"actor\": \"portal\", \"identifier\": \"nobody@example.com\"}");
    CHECK_STR(STR(json, "channel"), "EMAIL");
    CHECK(json_is(json, "reset_token", "null"));
    CHECK(json_is(json, "platform_account", "null"));
    CHECK(json_int(json, "token_expires_at") == now_() + 86400);
    billing_string_free(json);
    json = MUST(billing_platform_reset_request, "{\"actor\": \"portal\", \"identifier\": \"OPS@example.com\"}");
    CHECK_STR(STR(json, "channel"), "EMAIL");
    CHECK_STR(STR(json, "platform_account.email"), "ops@example.com");
    CHECK(json_int(json, "token_expires_at") == now_() + 86400);
    char token[160] = "";
    COPY(token, json, "reset_token");
    CHECK(strlen(token) == 64);
    billing_string_free(json);
    json = MUST(billing_platform_reset_complete, "{\"actor\": \"portal\", \"token\": \"%s\", \"password\": \"Green-Fox-77\"}", token);
    CHECK_STR(STR(json, "platform_account.status"), "ACTIVE");
    billing_string_free(json);
    LOGIN_OK("acme_ops", "Green-Fox-77");
    LOGIN_FAILS("invalid_credentials", "acme_ops", "Blue-Horse-42");

    /* Every attempt is audited, never with a password; events carry none either. */
    CHECK(occurrences(billing_audit_list, "platform.login") >= 30);
    CHECK(occurrences(billing_audit_list, "Blue-Horse") == 0);
    CHECK(occurrences(billing_audit_list, "Green-Fox") == 0);
    CHECK(occurrences(billing_audit_list, "wrong-Password") == 0);
    CHECK(occurrences(billing_audit_list, "Other-Pass") == 0);
    CHECK(occurrences(billing_events_list, "Blue-Horse") == 0);
    CHECK(occurrences(billing_events_list, "Green-Fox") == 0);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s SCRATCH_DIRECTORY\n", argv[0]);
        return 2;
    }
    char path[PATH_MAX];
    support_database(path, sizeof path, argv[1], "test_accounts");
    if (!open_fixture(path, START)) return check_summary();

    test_account_put_get();
    test_topups();
    test_ledger_sum();
    test_coupons();
    test_platform_application();
    test_platform_reject_resend_expiry();
    test_login();
    test_throttle();

    billing_engine_close(engine);
    int status = check_summary();
    if (status == 0) support_remove_database(path);
    return status;
}
