/*
 * test_lifecycle.c — a resource's life after purchase through the C ABI, on a manual clock
 * (business time +08:00): expiry into grace, freezing for retention and renewal from the
 * old expiry; auto-renewal failing for want of cash and succeeding at the next 03:00 after a
 * top-up; the refund formula of an unsubscription (and the five-day rule) with the cash
 * moved once; pay-per-use usage rated per second and settled per hour, duplicates and
 * packages. Every scenario has its own database file and clock, and ends with
 * billing_verify reporting "ok": true.
 *
 *   usage: test_lifecycle SCRATCH_DIRECTORY
 */
#define _POSIX_C_SOURCE 200809L /* unlink */
#define CHECK_FIXTURES /* check.h's shared engine, MUST, REFUSES, put_account, buy, … */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static const char *scratch;
static char path[PATH_MAX];
static int failures_before; /* check_failures when the scenario started */

/* ---- Scenario files ---------------------------------------------------------------------- */

/* Opens a fresh file for a scenario with a manual clock at `start`. */
static int begin_scenario(const char *name, int64_t start) {
    failures_before = check_failures;
    char file[96];
    snprintf(file, sizeof file, "test_lifecycle_%s", name);
    support_database(path, sizeof path, scratch, file);
    return open_fixture(path, start);
}

/* Verifies, closes, and removes the file when the scenario had no failure. */
static void end_scenario(void) {
    check_verify(engine, __FILE__, __LINE__);
    billing_engine_close(engine);
    engine = NULL;
    if (check_failures == failures_before) support_remove_database(path);
}

/* ---- Resources ---------------------------------------------------------------------------- */

/* The resource document (caller frees). */
static char *resource_get(const char *account, const char *resource) {
    return MUST(billing_resource_get, "{\"account_id\": \"%s\", \"resource_id\": \"%s\"}", account, resource);
}

static const char *resource_status(const char *account, const char *resource) {
    static char status[32];
    char *json = resource_get(account, resource);
    if (!json || !COPY(status, json, "resource.status")) snprintf(status, sizeof status, "(none)");
    billing_string_free(json);
    return status;
}

static int64_t resource_int(const char *account, const char *resource, const char *field) {
    char *json = resource_get(account, resource);
    int64_t value = json_int(json, field);
    billing_string_free(json);
    return value;
}

/* ---- Events ------------------------------------------------------------------------------ */

/* The `index`-th (0-based) event of `type` about `subject` in the account's outbox, as a copy
   of its JSON object (caller frees with free()), or NULL; *count receives how many there are. */
static char *find_event(const char *account, const char *type, const char *subject, int index, int *count) {
    return support_find_event(engine, account, type, subject, index, count);
}

static int count_events(const char *account, const char *type, const char *subject) {
    return support_count_events(engine, account, type, subject);
}

/* ---- The scheduler ------------------------------------------------------------------------ */

struct counts {
    int64_t processed, reminders, auto_renewed, auto_renew_failed, expired, converted, frozen, released, runs;
};

/* Sets the clock and runs the scheduler until nothing more is due; sums what it did. */
static struct counts run_scheduler_at(int64_t instant) {
    struct counts counts = {0};
    CHECK_OK(billing_clock_set(engine, instant));
    for (int more = 1; more && counts.runs < 100; counts.runs++) {
        char *json = MUST(billing_scheduler_run, "{\"actor\": \"cron\"}");
        if (!json) break;
        CHECK(json_int(json, "now") == instant);
        counts.processed += json_int(json, "resources.processed");
        counts.reminders += json_int(json, "resources.reminders");
        counts.auto_renewed += json_int(json, "resources.auto_renewed");
        counts.auto_renew_failed += json_int(json, "resources.auto_renew_failed");
        counts.expired += json_int(json, "resources.expired");
        counts.converted += json_int(json, "resources.converted");
        counts.frozen += json_int(json, "resources.frozen");
        counts.released += json_int(json, "resources.released");
        more = json_is(json, "has_more", "true");
        billing_string_free(json);
    }
    return counts;
}

/* ---- 1. Expiry, grace, retention, renewal ----------------------------------------------- */

static void test_expiry_and_renewal(void) {
    if (!begin_scenario("expiry", at(2024, 3, 31, 10, 0, 0))) return;
    CHECK(at(2024, 3, 31, 10, 0, 0) == 1711850400); /* the manual says so */
    put_product("{\"product_id\": \"evs.ssd\", \"product_type\": \"EVS\", \"billing_mode\": \"PREPAID\","
                " \"monthly_price_fen\": 1000, \"yearly_price_fen\": 10000}");
    put_account("acme", 100000);
    id disk = "", order = "";
    buy("acme", "evs.ssd", 1, disk);
    char *json = resource_get("acme", disk);
    CHECK_STR(STR(json, "resource.status"), "IN_USE");
    CHECK(json_int(json, "resource.status_code") == 2);
    CHECK(json_int(json, "resource.provisioned_at") == at(2024, 3, 31, 10, 0, 0));
    CHECK(json_int(json, "resource.expire_at") == at(2024, 4, 30, 23, 59, 59)); /* no 31 April: the month's last day */
    CHECK_STR(STR(json, "resource.expire_at_local"), "2024-04-30T23:59:59+08:00");
    CHECK_STR(STR(json, "resource.expiry_policy"), "MANUAL");
    billing_string_free(json);

    /* MANUAL reminders: 15 days before at the start of that day; a late run sends one notice. */
    struct counts counts = run_scheduler_at(at(2024, 4, 14, 23, 59, 59));
    CHECK(counts.reminders == 0 && counts.processed == 0);
    counts = run_scheduler_at(at(2024, 4, 15, 0, 0, 0));
    CHECK(counts.reminders == 1);
    char *event = find_event("acme", "resource.expiry_reminder", disk, 0, NULL);
    CHECK(json_int(event, "data.days_before") == 15);
    CHECK(json_int(event, "data.expire_at") == at(2024, 4, 30, 23, 59, 59));
    free(event);
    counts = run_scheduler_at(at(2024, 4, 29, 12, 0, 0)); /* 7, 3 and 1 days before have all come */
    CHECK(counts.reminders == 1);
    int reminders = 0;
    event = find_event("acme", "resource.expiry_reminder", disk, 1, &reminders);
    CHECK(reminders == 2);
    CHECK(json_int(event, "data.days_before") == 1);
    free(event);

    /* Expiry: the grace period (V3: 7 days), then retention (7 days). */
    counts = run_scheduler_at(at(2024, 4, 30, 23, 59, 59));
    CHECK(counts.expired == 0);
    CHECK_STR(resource_status("acme", disk), "IN_USE");
    counts = run_scheduler_at(at(2024, 5, 1, 3, 0, 0));
    CHECK(counts.expired == 1);
    json = resource_get("acme", disk);
    CHECK_STR(STR(json, "resource.status"), "EXPIRED");
    CHECK(json_int(json, "resource.status_code") == 5);
    CHECK(json_int(json, "resource.grace_end") == at(2024, 5, 7, 23, 59, 59));
    CHECK(json_int(json, "resource.retention_end") == at(2024, 5, 14, 23, 59, 59));
    billing_string_free(json);
    event = find_event("acme", "resource.expired", disk, 0, NULL);
    CHECK(json_int(event, "occurred_at") == at(2024, 5, 1, 3, 0, 0));
    CHECK(json_int(event, "data.grace_end") == at(2024, 5, 7, 23, 59, 59));
    free(event);
    counts = run_scheduler_at(at(2024, 5, 1, 3, 0, 0)); /* twice is once */
    CHECK(counts.processed == 0 && counts.expired == 0);
    counts = run_scheduler_at(at(2024, 5, 7, 23, 59, 59));
    CHECK(counts.frozen == 0);
    CHECK_STR(resource_status("acme", disk), "EXPIRED");
    counts = run_scheduler_at(at(2024, 5, 8, 0, 0, 0));
    CHECK(counts.frozen == 1);
    json = resource_get("acme", disk);
    CHECK_STR(STR(json, "resource.status"), "FROZEN");
    CHECK(json_int(json, "resource.status_code") == 4);
    CHECK_STR(STR(json, "resource.freeze_reason"), "EXPIRY");
    billing_string_free(json);

    /* Renewed in retention on 05-10: the new month starts at the old expiry. */
    CHECK_OK(billing_clock_set(engine, at(2024, 5, 10, 9, 0, 0)));
    int64_t before = cash("acme");
    json = MUST(billing_resources_renew, "{\"actor\": \"portal\", \"account_id\": \"acme\", \"resource_ids\": [\"%s\"],"
                                         " \"period\": {\"unit\": \"MONTH\", \"count\": 1}}", disk);
    COPY(order, json, "order.order_id");
    CHECK_STR(STR(json, "order.type"), "RENEW");
    CHECK_STR(STR(json, "order.status"), "PENDING_PAYMENT");
    CHECK(json_int(json, "order.amounts.amount_due_fen") == 1000);
    CHECK_STR(STR(json, "order.lines.0.product_id"), "evs.ssd");
    billing_string_free(json);
    CHECK(cash("acme") == before);
    CHECK_STR(resource_status("acme", disk), "FROZEN"); /* nothing happens before payment */
    REFUSES(BILLING_E_REFUSED, "pending_order_exists", billing_resources_renew,
            "{\"actor\": \"portal\", \"account_id\": \"acme\", \"resource_ids\": [\"%s\"]}", disk);
    json = MUST(billing_order_pay, "{\"actor\": \"portal\", \"account_id\": \"acme\", \"order_id\": \"%s\"}", order);
    CHECK_STR(STR(json, "order.status"), "COMPLETED"); /* renewals need no provisioning */
    CHECK(json_int(json, "order.amounts.cash_fen") == 1000);
    billing_string_free(json);
    CHECK(cash("acme") == before - 1000);
    json = resource_get("acme", disk);
    CHECK_STR(STR(json, "resource.status"), "IN_USE");
    CHECK(json_int(json, "resource.expire_at") == at(2024, 5, 31, 23, 59, 59));
    CHECK(json_is(json, "resource.grace_end", "null"));
    CHECK(json_is(json, "resource.retention_end", "null"));
    billing_string_free(json);
    event = find_event("acme", "resource.renewed", disk, 0, NULL);
    CHECK(json_int(event, "data.from") == at(2024, 4, 30, 23, 59, 59));
    CHECK(json_int(event, "data.expire_at") == at(2024, 5, 31, 23, 59, 59));
    free(event);

    /* The old retention end no longer applies. */
    counts = run_scheduler_at(at(2024, 5, 15, 0, 0, 0));
    CHECK(counts.released == 0);
    CHECK_STR(resource_status("acme", disk), "IN_USE");
    CHECK(count_events("acme", "resource.expired", disk) == 1);
    CHECK(count_events("acme", "resource.frozen", disk) == 1);
    CHECK(count_events("acme", "resource.renewed", disk) == 1);
    CHECK(count_events("acme", "resource.released", disk) == 0);
    CHECK(ledger_cash("acme", NULL, NULL, NULL) == cash("acme"));
    end_scenario();
}

/* ---- 2. Auto-renewal without enough cash, then with ------------------------------------- */

static void test_auto_renew(void) {
    if (!begin_scenario("autorenew", at(2024, 5, 30, 10, 0, 0))) return;
    put_product("{\"product_id\": \"evs.ssd\", \"product_type\": \"EVS\", \"billing_mode\": \"PREPAID\","
                " \"monthly_price_fen\": 1000, \"yearly_price_fen\": 10000}");
    put_account("thrifty", 1000);
    id disk = "";
    buy("thrifty", "evs.ssd", 1, disk);
    CHECK(cash("thrifty") == 0);
    CHECK(resource_int("thrifty", disk, "resource.expire_at") == at(2024, 6, 30, 23, 59, 59));

    /* The first attempt: 03:00 on the deduction day, 7 days before the expiry date. */
    char *json = MUST(billing_resources_policy_set, "{\"actor\": \"portal\", \"account_id\": \"thrifty\", \"resource_ids\": [\"%s\"],"
                                                    " \"policy\": \"AUTO_RENEW\"}", disk);
    CHECK_STR(STR(json, "resources.0.expiry_policy"), "AUTO_RENEW");
    CHECK(json_int(json, "resources.0.auto_renew.next_attempt_at") == at(2024, 6, 23, 3, 0, 0));
    CHECK(json_is(json, "resources.0.auto_renew.remaining", "null")); /* unlimited */
    CHECK_STR(STR(json, "resources.0.auto_renew.period.unit"), "MONTH");
    CHECK(json_int(json, "resources.0.auto_renew.period.count") == 1);
    billing_string_free(json);

    struct counts counts = run_scheduler_at(at(2024, 6, 23, 2, 59, 59));
    CHECK(counts.auto_renewed == 0 && counts.auto_renew_failed == 0);
    counts = run_scheduler_at(at(2024, 6, 23, 3, 0, 0));
    CHECK(counts.auto_renew_failed == 1);
    CHECK(counts.auto_renewed == 0);
    int failures = 0;
    char *event = find_event("thrifty", "resource.auto_renew_failed", disk, 0, &failures);
    CHECK(failures == 1);
    CHECK_STR(STR(event, "data.reason"), "insufficient_funds");
    CHECK(json_int(event, "data.next_attempt_at") == at(2024, 6, 24, 3, 0, 0));
    CHECK(json_is(event, "data.notice", "false")); /* notices: 5 and 2 days before, and the day */
    CHECK(json_int(event, "occurred_at") == at(2024, 6, 23, 3, 0, 0));
    free(event);
    /* A failed attempt leaves no order and no money moved. */
    json = MUST(billing_orders_list, "{\"account_id\": \"thrifty\", \"order_type\": \"RENEW\"}");
    CHECK(json_count(json, "orders") == 0);
    billing_string_free(json);
    json = resource_get("thrifty", disk);
    CHECK_STR(STR(json, "resource.status"), "IN_USE");
    CHECK(json_int(json, "resource.expire_at") == at(2024, 6, 30, 23, 59, 59));
    CHECK(json_int(json, "resource.auto_renew.next_attempt_at") == at(2024, 6, 24, 3, 0, 0));
    billing_string_free(json);
    CHECK(cash("thrifty") == 0);
    counts = run_scheduler_at(at(2024, 6, 23, 3, 0, 0));
    CHECK(counts.auto_renew_failed == 0 && counts.processed == 0);

    /* A top-up during the day; the next 03:00 renews. */
    CHECK_OK(billing_clock_set(engine, at(2024, 6, 23, 12, 0, 0)));
    topup("thrifty", 1000, "june");
    counts = run_scheduler_at(at(2024, 6, 24, 2, 59, 59));
    CHECK(counts.auto_renewed == 0 && counts.auto_renew_failed == 0);
    counts = run_scheduler_at(at(2024, 6, 24, 3, 0, 0));
    CHECK(counts.auto_renewed == 1);
    CHECK(counts.auto_renew_failed == 0);
    json = resource_get("thrifty", disk);
    CHECK_STR(STR(json, "resource.status"), "IN_USE");
    CHECK(json_int(json, "resource.expire_at") == at(2024, 7, 30, 23, 59, 59));
    CHECK(json_int(json, "resource.auto_renew.next_attempt_at") == at(2024, 7, 23, 3, 0, 0));
    CHECK_STR(STR(json, "resource.expiry_policy"), "AUTO_RENEW");
    billing_string_free(json);
    int renewals = 0;
    event = find_event("thrifty", "resource.auto_renewed", disk, 0, &renewals);
    CHECK(renewals == 1);
    CHECK(json_int(event, "data.expire_at") == at(2024, 7, 30, 23, 59, 59));
    id order = "";
    COPY(order, event, "data.order_id");
    free(event);
    CHECK(count_events("thrifty", "resource.auto_renew_failed", disk) == 1);
    json = MUST(billing_order_get, "{\"account_id\": \"thrifty\", \"order_id\": \"%s\"}", order);
    CHECK_STR(STR(json, "order.type"), "RENEW");
    CHECK_STR(STR(json, "order.status"), "COMPLETED");
    CHECK(json_int(json, "order.amounts.cash_fen") == 1000);
    billing_string_free(json);
    CHECK(cash("thrifty") == 0);
    int kinds = 0;
    int64_t kind_sum = 0;
    CHECK(ledger_cash("thrifty", "AUTO_RENEWAL", &kinds, &kind_sum) == 0);
    CHECK(kinds == 1 && kind_sum == -1000);
    counts = run_scheduler_at(at(2024, 6, 24, 3, 0, 0)); /* nothing twice */
    CHECK(counts.auto_renewed == 0 && counts.processed == 0);
    CHECK(count_events("thrifty", "resource.auto_renewed", disk) == 1);
    end_scenario();
}

/* ---- 3. Unsubscription: the formula, the five-day rule, the cash moved once --------------- */

static void test_refund(void) {
    if (!begin_scenario("refund", at(2024, 1, 1, 10, 30, 0))) return;
    CHECK(at(2024, 1, 1, 10, 30, 0) == 1704076200);
    put_product("{\"product_id\": \"evs.100\", \"product_type\": \"EVS\", \"billing_mode\": \"PREPAID\","
                " \"monthly_price_fen\": 10000, \"yearly_price_fen\": 100000}");
    put_account("acme", 100000);
    id disk = "", fresh = "", refund_order = "";
    buy("acme", "evs.100", 1, disk);
    CHECK(resource_int("acme", disk, "resource.expire_at") == at(2024, 2, 1, 23, 59, 59));

    /* 758 hours from 10:00 on 01-01 to 02-01 23:59:59 + 1 s, 344 used to 18:00 on 01-15:
       consumed 10000 × 344 / 758 = 4538.25 → 4538, fee 10 % = 1000, refund 4462. */
    CHECK_OK(billing_clock_set(engine, at(2024, 1, 15, 18, 40, 0)));
    char quote_id[80] = "", *json;
    json = MUST(billing_refund_quote, "{\"account_id\": \"acme\", \"resource_ids\": [\"%s\"]}", disk);
    COPY(quote_id, json, "quote_id");
    CHECK(quote_id[0] != '\0');
    CHECK(json_int(json, "computed_at") == at(2024, 1, 15, 18, 40, 0));
    CHECK_STR(STR(json, "type"), "RESOURCE");
    CHECK(json_is(json, "refundable", "true"));
    CHECK(json_is(json, "review_required", "false"));
    CHECK(json_int(json, "total_refund_fen") == 4462);
    CHECK(json_count(json, "resources") == 1);
    CHECK_STR(STR(json, "resources.0.resource_id"), disk);
    CHECK_STR(STR(json, "resources.0.class"), "NON_FIVE_DAY");
    CHECK(json_int(json, "resources.0.refund_fen") == 4462);
    CHECK(json_int(json, "resources.0.refund_by_source.CASH") == 4462);
    CHECK(json_count(json, "resources.0.periods") == 1);
    CHECK_STR(STR(json, "resources.0.periods.0.method"), "FORMULA");
    CHECK(json_int(json, "resources.0.periods.0.paid_amount_fen") == 10000);
    CHECK(json_int(json, "resources.0.periods.0.total_units") == 758);
    CHECK(json_int(json, "resources.0.periods.0.used_units") == 344);
    CHECK(json_int(json, "resources.0.periods.0.consumed_fen") == 4538);
    CHECK(json_int(json, "resources.0.periods.0.fee_rate_bp") == 1000);
    CHECK(json_int(json, "resources.0.periods.0.fee_fen") == 1000);
    CHECK(json_int(json, "resources.0.periods.0.refund_fen") == 4462);
    billing_string_free(json);
    json = MUST(billing_refund_quote, "{\"account_id\": \"acme\", \"resource_ids\": [\"%s\"]}", disk);
    CHECK_STR(STR(json, "quote_id"), quote_id); /* the same state quotes the same */
    billing_string_free(json);

    /* A host's refund block makes it not refundable, and the old quote stale. */
    int64_t before = cash("acme");
    json = MUST(billing_resource_refund_blocks_set, "{\"actor\": \"host\", \"account_id\": \"acme\", \"resource_id\": \"%s\","
                                                    " \"blocks\": [\"ARCHIVED\"]}", disk);
    billing_string_free(json);
    json = MUST(billing_refund_quote, "{\"account_id\": \"acme\", \"resource_ids\": [\"%s\"]}", disk);
    CHECK(json_is(json, "refundable", "false"));
    CHECK_STR(STR(json, "resources.0.class"), "NOT_ALLOWED");
    CHECK_STR(STR(json, "resources.0.reason"), "ARCHIVED");
    CHECK(json_int(json, "total_refund_fen") == 0);
    CHECK(strcmp(STR(json, "quote_id") ? text : "", quote_id) != 0);
    billing_string_free(json);
    REFUSES(BILLING_E_REFUSED, "quote_stale", billing_resources_unsubscribe,
            "{\"actor\": \"portal\", \"account_id\": \"acme\", \"resource_ids\": [\"%s\"], \"quote_id\": \"%s\"}", disk, quote_id);
    REFUSES(BILLING_E_REFUSED, "not_refundable", billing_resources_unsubscribe,
            "{\"actor\": \"portal\", \"account_id\": \"acme\", \"resource_ids\": [\"%s\"]}", disk);
    CHECK(cash("acme") == before);
    json = MUST(billing_resource_refund_blocks_set, "{\"actor\": \"host\", \"account_id\": \"acme\", \"resource_id\": \"%s\","
                                                    " \"blocks\": []}", disk);
    billing_string_free(json);

    /* Unsubscribed with the quote: the refund lands once, a replay repeats the answer. */
    static const char *unsubscribe =
        "{\"actor\": \"portal\", \"account_id\": \"acme\", \"resource_ids\": [\"%s\"], \"quote_id\": \"%s\","
        " \"reason_type\": 1, \"reason\": \"no longer needed\", \"idempotency_key\": \"unsubscribe-1\"}";
    json = MUST(billing_resources_unsubscribe, unsubscribe, disk, quote_id);
    COPY(refund_order, json, "order.order_id");
    CHECK_STR(STR(json, "order.type"), "UNSUBSCRIBE");
    CHECK_STR(STR(json, "order.status"), "COMPLETED");
    CHECK(json_int(json, "order.amounts.cash_fen") == 4462);
    CHECK(json_int(json, "quote.total_refund_fen") == 4462);
    CHECK_STR(STR(json, "quote.quote_id"), quote_id);
    char *again = MUST(billing_resources_unsubscribe, unsubscribe, disk, quote_id);
    CHECK(json && again && strcmp(json, again) == 0);
    billing_string_free(again);
    billing_string_free(json);
    CHECK(cash("acme") == before + 4462);
    CHECK_STR(resource_status("acme", disk), "UNSUBSCRIBED");
    REFUSES(BILLING_E_REFUSED, "not_refundable", billing_resources_unsubscribe,
            "{\"actor\": \"portal\", \"account_id\": \"acme\", \"resource_ids\": [\"%s\"]}", disk);
    json = MUST(billing_refund_quote, "{\"account_id\": \"acme\", \"resource_ids\": [\"%s\"]}", disk);
    CHECK_STR(STR(json, "resources.0.class"), "NOT_ALLOWED");
    CHECK_STR(STR(json, "resources.0.reason"), "ENDED");
    billing_string_free(json);
    CHECK(cash("acme") == before + 4462);
    int refunds = 0;
    int64_t refunded = 0;
    CHECK(ledger_cash("acme", "REFUND", &refunds, &refunded) == cash("acme"));
    CHECK(refunds == 1 && refunded == 4462);
    CHECK(count_events("acme", "order.refunded", refund_order) == 1);
    CHECK(count_events("acme", "resource.unsubscribed", disk) == 1);
    json = MUST(billing_order_get, "{\"account_id\": \"acme\", \"order_id\": \"%s\"}", refund_order);
    CHECK(json_count(json, "order.refunds") == 1);
    CHECK_STR(STR(json, "order.refunds.0.resource_id"), disk);
    CHECK_STR(STR(json, "order.refunds.0.source"), "CASH");
    CHECK(json_int(json, "order.refunds.0.amount_fen") == 4462);
    billing_string_free(json);

    /* Within five days of provisioning: the whole price back, one unit of the yearly quota. */
    buy("acme", "evs.100", 1, fresh);
    CHECK_OK(billing_clock_advance(engine, 3 * 86400, NULL));
    before = cash("acme");
    json = MUST(billing_refund_quote, "{\"account_id\": \"acme\", \"resource_ids\": [\"%s\"]}", fresh);
    CHECK_STR(STR(json, "resources.0.class"), "FIVE_DAY");
    CHECK(json_int(json, "total_refund_fen") == 10000);
    CHECK(json_int(json, "five_day_quota.year") == 2024);
    CHECK(json_int(json, "five_day_quota.used_after") == json_int(json, "five_day_quota.used_before") + 1);
    billing_string_free(json);
    json = MUST(billing_resources_unsubscribe, "{\"actor\": \"portal\", \"account_id\": \"acme\", \"resource_ids\": [\"%s\"]}", fresh);
    CHECK(json_int(json, "order.amounts.cash_fen") == 10000);
    billing_string_free(json);
    CHECK(cash("acme") == before + 10000);
    CHECK(ledger_cash("acme", "REFUND", &refunds, &refunded) == cash("acme"));
    CHECK(refunds == 2 && refunded == 14462);
    end_scenario();
}

/* ---- 4. Pay-per-use usage and packages ----------------------------------------------------- */

static int64_t line_int(const char *json, int index, const char *field) {
    char member[64];
    snprintf(member, sizeof member, "lines.%d.%s", index, field);
    return json_int(json, member);
}

static void test_usage(void) {
    if (!begin_scenario("usage", at(2023, 3, 10, 8, 45, 30))) return;
    put_product("{\"product_id\": \"bw.ondemand\", \"product_type\": \"EIP\", \"billing_mode\": \"ON_DEMAND\","
                " \"hourly_price_microfen\": 12345678}");
    put_product("{\"product_id\": \"evs.ssd\", \"product_type\": \"EVS\", \"billing_mode\": \"PREPAID\", \"monthly_price_fen\": 1000}");
    put_account("acme", 100000);
    id eip = "", disk = "";
    buy("acme", "bw.ondemand", 0, eip); /* nothing to pay: processing at once, then provisioned */
    buy("acme", "evs.ssd", 1, disk);
    CHECK_OK(billing_clock_set(engine, at(2023, 3, 10, 10, 0, 0)));
    int64_t before = cash("acme");

    /* 08:45:30–09:30:00 is 870 s in the 08:00 hour and 1,800 s in the 09:00 hour: 12.345678 fen
       an hour × 870 / 3600 = 2.98 → 3 and × 1800 / 3600 = 6.17 → 6. */
    static const char *first = "{\"actor\": \"meter\", \"account_id\": \"acme\", \"records\": [{\"usage_id\": \"u1\","
                               " \"resource_id\": \"%s\", \"quantity\": 1, \"start\": %lld, \"end\": %lld}]}";
    long long start = at(2023, 3, 10, 8, 45, 30), end = at(2023, 3, 10, 9, 30, 0);
    char *json = MUST(billing_usage_report, first, eip, start, end);
    CHECK(json_count(json, "results") == 1);
    CHECK_STR(STR(json, "results.0.usage_id"), "u1");
    CHECK_STR(STR(json, "results.0.status"), "RATED");
    CHECK(json_count(json, "results.0.lines") == 2);
    CHECK(json_int(json, "results.0.lines.0.units") == 870);
    CHECK(json_int(json, "results.0.lines.0.charged_fen") == 3);
    CHECK(json_int(json, "results.0.lines.1.units") == 1800);
    CHECK(json_int(json, "results.0.lines.1.charged_fen") == 6);
    CHECK(json_int(json, "charged_fen") == 9);
    CHECK(json_int(json, "account.cash_balance_fen") == before - 9);
    billing_string_free(json);
    CHECK(cash("acme") == before - 9);

    json = MUST(billing_usage_list, "{\"account_id\": \"acme\", \"resource_id\": \"%s\"}", eip);
    CHECK(json_count(json, "lines") == 2); /* newest first */
    CHECK(line_int(json, 0, "hour_start") == at(2023, 3, 10, 9, 0, 0));
    CHECK(line_int(json, 0, "units") == 1800);
    CHECK(line_int(json, 0, "covered") == 0);
    CHECK(line_int(json, 0, "overage") == 1800);
    CHECK(line_int(json, 0, "price_microfen") == 12345678);
    CHECK(line_int(json, 0, "charged_fen") == 6);
    CHECK_STR(STR(json, "lines.0.unit"), "UNIT_SECONDS");
    CHECK_STR(STR(json, "lines.0.paid_by.0.source"), "CASH");
    CHECK(json_int(json, "lines.0.paid_by.0.amount_fen") == 6);
    CHECK(line_int(json, 1, "hour_start") == at(2023, 3, 10, 8, 0, 0));
    CHECK(line_int(json, 1, "units") == 870);
    CHECK(line_int(json, 1, "charged_fen") == 3);
    CHECK(json_is(json, "has_more", "false"));
    billing_string_free(json);

    /* The same record again counts once; another record under its id is a conflict. */
    json = MUST(billing_usage_report, first, eip, start, end);
    CHECK_STR(STR(json, "results.0.status"), "DUPLICATE");
    CHECK(json_int(json, "charged_fen") == 0);
    billing_string_free(json);
    REFUSES(BILLING_E_CONFLICT, "usage_id_reused", billing_usage_report,
            "{\"actor\": \"meter\", \"account_id\": \"acme\", \"records\": [{\"usage_id\": \"u1\", \"resource_id\": \"%s\","
            " \"quantity\": 2, \"start\": %lld, \"end\": %lld}]}", eip, start, end);
    CHECK(cash("acme") == before - 9);
    /* Usage is rated for pay-per-use resources only. */
    REFUSES(BILLING_E_REFUSED, "not_pay_per_use", billing_usage_report,
            "{\"actor\": \"meter\", \"account_id\": \"acme\", \"records\": [{\"usage_id\": \"d1\", \"resource_id\": \"%s\","
            " \"quantity\": 1, \"start\": %lld, \"end\": %lld}]}", disk, start, end);

    /* A batch with the duplicate and new usage in a settled hour: the line is rounded again as
       a whole (2,700 s → 9.26 → 9), so 3 more fen. */
    json = MUST(billing_usage_report,
                "{\"actor\": \"meter\", \"account_id\": \"acme\", \"records\": ["
                "{\"usage_id\": \"u1\", \"resource_id\": \"%s\", \"quantity\": 1, \"start\": %lld, \"end\": %lld},"
                "{\"usage_id\": \"u2\", \"resource_id\": \"%s\", \"quantity\": 1, \"start\": %lld, \"end\": %lld}]}",
                eip, start, end, eip, (long long)at(2023, 3, 10, 9, 30, 0), (long long)at(2023, 3, 10, 9, 45, 0));
    CHECK_STR(STR(json, "results.0.status"), "DUPLICATE");
    CHECK_STR(STR(json, "results.1.status"), "RATED");
    CHECK(json_int(json, "charged_fen") == 3);
    billing_string_free(json);
    json = MUST(billing_usage_list, "{\"account_id\": \"acme\", \"resource_id\": \"%s\", \"limit\": 1}", eip);
    CHECK(line_int(json, 0, "units") == 2700);
    CHECK(line_int(json, 0, "charged_fen") == 9);
    CHECK(json_is(json, "has_more", "true"));
    billing_string_free(json);
    CHECK(cash("acme") == before - 12);
    int usage_entries = 0;
    int64_t usage_sum = 0;
    CHECK(ledger_cash("acme", "USAGE", &usage_entries, &usage_sum) == cash("acme"));
    CHECK(usage_sum == -12);

    /* A package of one unit-hour covers usage before anything is charged. */
    json = MUST(billing_packages_list, "{\"account_id\": \"acme\"}");
    CHECK(json_count(json, "packages") == 0);
    billing_string_free(json);
    put_product("{\"product_id\": \"bw.pack\", \"product_type\": \"EIP\", \"billing_mode\": \"PACKAGE\", \"monthly_price_fen\": 500,"
                " \"package\": {\"kind\": \"AMOUNT\", \"quota\": 1, \"applies_to\": [\"bw.ondemand\"]}}");
    json = MUST(billing_order_create, "{\"actor\": \"portal\", \"account_id\": \"acme\", \"auto_pay\": true, \"items\":"
                                      " [{\"product_id\": \"bw.pack\", \"period\": {\"unit\": \"MONTH\", \"count\": 1}}]}");
    CHECK(json_is(json, "payment.succeeded", "true"));
    billing_string_free(json);
    json = MUST(billing_packages_list, "{\"account_id\": \"acme\"}");
    CHECK(json_count(json, "packages") == 1);
    CHECK_STR(STR(json, "packages.0.kind"), "AMOUNT");
    CHECK(json_int(json, "packages.0.quota") == 1);
    CHECK(json_int(json, "packages.0.used") == 0);
    CHECK_STR(STR(json, "packages.0.applies_to.0"), "bw.ondemand");
    billing_string_free(json);
    before = cash("acme");
    CHECK_OK(billing_clock_set(engine, at(2023, 3, 10, 12, 0, 0)));
    json = MUST(billing_usage_report, "{\"actor\": \"meter\", \"account_id\": \"acme\", \"records\": [{\"usage_id\": \"u3\","
                                      " \"resource_id\": \"%s\", \"quantity\": 1, \"start\": %lld, \"end\": %lld}]}",
                eip, (long long)at(2023, 3, 10, 10, 0, 0), (long long)at(2023, 3, 10, 11, 0, 0));
    CHECK(json_int(json, "results.0.lines.0.covered") == 3600);
    CHECK(json_int(json, "results.0.lines.0.overage") == 0);
    CHECK(json_int(json, "charged_fen") == 0);
    billing_string_free(json);
    json = MUST(billing_packages_list, "{\"account_id\": \"acme\"}");
    CHECK(json_int(json, "packages.0.used") == 3600); /* unit-seconds */
    billing_string_free(json);
    json = MUST(billing_usage_report, "{\"actor\": \"meter\", \"account_id\": \"acme\", \"records\": [{\"usage_id\": \"u4\","
                                      " \"resource_id\": \"%s\", \"quantity\": 1, \"start\": %lld, \"end\": %lld}]}",
                eip, (long long)at(2023, 3, 10, 11, 0, 0), (long long)at(2023, 3, 10, 11, 30, 0));
    CHECK(json_int(json, "results.0.lines.0.covered") == 0);
    CHECK(json_int(json, "charged_fen") == 6); /* the quota is used up */
    billing_string_free(json);
    CHECK(cash("acme") == before - 6);
    CHECK(ledger_cash("acme", NULL, NULL, NULL) == cash("acme"));
    end_scenario();
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s SCRATCH_DIRECTORY\n", argv[0]);
        return 2;
    }
    scratch = argv[1];
    test_expiry_and_renewal();
    test_auto_renew();
    test_refund();
    test_usage();
    return check_summary();
}
