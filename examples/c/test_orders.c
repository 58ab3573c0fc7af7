/*
 * test_orders.c — catalog, orders, payment, provisioning and the scheduler through the C
 * ABI: a one-month purchase from order to COMPLETED with its expiry, a combined order paid
 * as a whole (never through a sub-order), batch cancellation, the scheduler cancelling
 * orders past their payment deadline, a failed provisioning refunded in full, payment
 * refusals, the order list, commercial and promotion discounts, review and confirmation.
 *
 *   usage: test_orders SCRATCH_DIRECTORY
 */
#define _POSIX_C_SOURCE 200809L /* unlink */
#define CHECK_FIXTURES /* check.h's shared engine, MUST, REFUSES, put_account, … */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define START 1704076200 /* 2024-01-01T10:30:00+08:00, the manual clock's start */
#define ONE_MONTH_EXPIRY 1706803199 /* 2024-02-01T23:59:59+08:00 */
#define WEEK 604800 /* the default payment deadline */

/* Whether the account's outbox holds an event of `type` about `subject`. */
static int has_event(const char *account, const char *type, const char *subject) {
    return support_count_events(engine, account, type, subject) > 0;
}

/* An order's status, or "(none)". */
static const char *order_status(const char *account, const char *order) {
    static char status[32];
    char *json = call(billing_order_get, NULL, "{\"account_id\": \"%s\", \"order_id\": \"%s\"}", account, order);
    if (!json || !COPY(status, json, "order.status")) snprintf(status, sizeof status, "(none)");
    billing_string_free(json);
    return status;
}

/* Creates a one-month order of `product` and stores its id; returns the response. */
static char *create_order(const char *account, const char *product, char *order_id) {
    char *json = MUST(billing_order_create,
                      "{\"actor\": \"portal\", \"account_id\": \"%s\", \"items\": [{\"product_id\": \"%s\","
                      " \"period\": {\"unit\": \"MONTH\", \"count\": 1}}]}", account, product);
    order_id[0] = '\0';
    json_string(json, "order.order_id", order_id, sizeof(id));
    return json;
}

/* ---- Set-up: catalog and accounts ------------------------------------------------------- */

static void set_up_catalog(void) {
    put_product("{\"product_id\": \"ecs.c1\", \"product_type\": \"ECS\", \"billing_mode\": \"PREPAID\","
                " \"name\": \"ECS c1.large\", \"region\": \"cn-north-1\", \"specs\": {\"vcpus\": 2, \"memory_gib\": 4},"
                " \"monthly_price_fen\": 5000, \"yearly_price_fen\": 50000}");
    put_product("{\"product_id\": \"evs.ssd\", \"product_type\": \"EVS\", \"billing_mode\": \"PREPAID\","
                " \"monthly_price_fen\": 1000, \"yearly_price_fen\": 10000}");
    put_product("{\"product_id\": \"vpc.bw\", \"product_type\": \"VPC\", \"billing_mode\": \"PREPAID\","
                " \"allowed_periods\": [{\"unit\": \"MONTH\", \"count\": 1}, {\"unit\": \"MONTH\", \"count\": 3}],"
                " \"monthly_price_fen\": 700}");
    put_product("{\"product_id\": \"dedicated.host\", \"product_type\": \"DEH\", \"billing_mode\": \"PREPAID\","
                " \"kind\": \"hardware\", \"monthly_price_fen\": 90000, \"yearly_price_fen\": 900000}");

    char *json = MUST(billing_product_get, "{\"product_id\": \"ecs.c1\"}");
    CHECK_STR(STR(json, "product.product_type"), "ECS");
    CHECK(json_int(json, "product.monthly_price_fen") == 5000);
    CHECK(json_int(json, "product.specs.vcpus") == 2);
    CHECK(json_is(json, "product.on_sale", "true"));
    billing_string_free(json);
    json = MUST(billing_products_list, "{\"limit\": 2}");
    CHECK(json_count(json, "products") == 2);
    CHECK_STR(STR(json, "products.0.product_id"), "dedicated.host"); /* id order */
    CHECK(json_is(json, "has_more", "true"));
    billing_string_free(json);
    json = MUST(billing_products_list, "{\"product_type\": \"EVS\"}");
    CHECK(json_count(json, "products") == 1);
    billing_string_free(json);
    REFUSES(BILLING_E_NOT_FOUND, "product_not_found", billing_product_get, "{\"product_id\": \"nothing\"}");
    REFUSES(BILLING_E_INVALID, "missing_price", billing_product_put,
            "{\"actor\": \"catalog\", \"product\": {\"product_id\": \"x\", \"product_type\": \"ECS\", \"billing_mode\": \"PREPAID\","
            " \"allowed_periods\": [{\"unit\": \"YEAR\", \"count\": 1}], \"monthly_price_fen\": 1}}");
    REFUSES(BILLING_E_INVALID, "not_an_integer", billing_product_put,
            "{\"actor\": \"catalog\", \"product\": {\"product_id\": \"x\", \"product_type\": \"ECS\", \"billing_mode\": \"PREPAID\","
            " \"monthly_price_fen\": 49.99}}");

    put_account("buyer", 100000);
    put_account("other", 100000);
}

/* ---- One purchase, start to end ------------------------------------------------------- */

static void test_single_order(void) {
    id order = "", resource = "";
    int64_t before = cash("buyer");

    char *json = MUST(billing_order_quote, "{\"account_id\": \"buyer\", \"items\": [{\"product_id\": \"ecs.c1\","
                                           " \"period\": {\"unit\": \"MONTH\", \"count\": 1}}]}");
    CHECK(json_int(json, "amounts.list_price_fen") == 5000);
    CHECK(json_int(json, "amounts.amount_due_fen") == 5000);
    CHECK(json_int(json, "priced_at") == START);
    billing_string_free(json);
    json = MUST(billing_order_quote, "{\"account_id\": \"buyer\", \"items\": [{\"product_id\": \"ecs.c1\","
                                     " \"period\": {\"unit\": \"YEAR\", \"count\": 2}, \"quantity\": 3}]}");
    CHECK(json_int(json, "amounts.amount_due_fen") == 300000);
    billing_string_free(json);
    REFUSES(BILLING_E_REFUSED, "period_not_allowed", billing_order_quote,
            "{\"account_id\": \"buyer\", \"items\": [{\"product_id\": \"vpc.bw\", \"period\": {\"unit\": \"MONTH\", \"count\": 2}}]}");
    REFUSES(BILLING_E_REFUSED, "price_changed", billing_order_create,
            "{\"actor\": \"portal\", \"account_id\": \"buyer\", \"expected_amount_due_fen\": 4000,"
            " \"items\": [{\"product_id\": \"ecs.c1\", \"period\": {\"unit\": \"MONTH\", \"count\": 1}}]}");

    json = MUST(billing_order_create,
                "{\"actor\": \"portal\", \"account_id\": \"buyer\", \"expected_amount_due_fen\": 5000,"
                " \"items\": [{\"product_id\": \"ecs.c1\", \"period\": {\"unit\": \"MONTH\", \"count\": 1}}]}");
    COPY(order, json, "order.order_id");
    CHECK(order[0] != '\0');
    CHECK_STR(STR(json, "order.status"), "PENDING_PAYMENT");
    CHECK(json_int(json, "order.status_code") == 6);
    CHECK_STR(STR(json, "order.type"), "NEW");
    CHECK(json_is(json, "order.is_combined", "false"));
    CHECK(json_int(json, "order.created_at") == START);
    CHECK(json_int(json, "order.pay_deadline") == START + WEEK);
    CHECK(json_int(json, "order.amounts.amount_due_fen") == 5000);
    CHECK(json_int(json, "order.amounts.paid_amount_fen") == 0);
    CHECK(json_count(json, "order.lines") == 1);
    CHECK_STR(STR(json, "order.lines.0.product_id"), "ecs.c1");
    CHECK_STR(STR(json, "order.lines.0.period.unit"), "MONTH");
    CHECK(json_count(json, "order.resources") == 0);
    CHECK(json_is(json, "payment", "null"));
    billing_string_free(json);
    CHECK(cash("buyer") == before); /* nothing taken before payment */

    /* Another account does not see the order. */
    REFUSES(BILLING_E_NOT_FOUND, "order_not_found", billing_order_get, "{\"account_id\": \"other\", \"order_id\": \"%s\"}", order);
    REFUSES(BILLING_E_NOT_FOUND, "order_not_found", billing_order_pay,
            "{\"actor\": \"portal\", \"account_id\": \"other\", \"order_id\": \"%s\"}", order);

    json = MUST(billing_order_pay, "{\"actor\": \"portal\", \"account_id\": \"buyer\", \"order_id\": \"%s\"}", order);
    CHECK_STR(STR(json, "order.status"), "PROCESSING");
    CHECK(json_int(json, "order.status_code") == 3);
    CHECK(json_int(json, "order.paid_at") == START);
    CHECK(json_int(json, "order.amounts.cash_fen") == 5000);
    CHECK(json_int(json, "order.amounts.paid_amount_fen") == 5000);
    CHECK(json_count(json, "order.resources") == 1);
    CHECK_STR(STR(json, "order.resources.0.status"), "PENDING_PROVISION");
    CHECK(json_is(json, "order.resources.0.expire_at", "null"));
    CHECK_STR(STR(json, "order.payments.0.source"), "CASH");
    CHECK(json_int(json, "order.payments.0.amount_fen") == 5000);
    COPY(resource, json, "order.resources.0.resource_id");
    billing_string_free(json);
    CHECK(resource[0] != '\0');
    CHECK(cash("buyer") == before - 5000);
    CHECK(has_event("buyer", "order.created", order));
    CHECK(has_event("buyer", "order.paid", order));
    CHECK(has_event("buyer", "resource.created", resource)); /* what the host must provision */
    REFUSES(BILLING_E_REFUSED, "order_already_paid", billing_order_pay,
            "{\"actor\": \"portal\", \"account_id\": \"buyer\", \"order_id\": \"%s\"}", order);

    /* The host provisions it; the first month starts now and ends at 23:59:59 local time of
       the day one month on. */
    CHECK_OK(billing_clock_advance(engine, 0, NULL));
    json = MUST(billing_resource_report, "{\"actor\": \"provisioner\", \"account_id\": \"buyer\","
                                         " \"results\": [{\"resource_id\": \"%s\", \"outcome\": \"SUCCEEDED\"}]}", resource);
    CHECK(json_count(json, "refund_orders") == 0);
    CHECK_STR(STR(json, "resources.0.status"), "IN_USE");
    CHECK(json_int(json, "resources.0.expire_at") == ONE_MONTH_EXPIRY);
    billing_string_free(json);

    json = MUST(billing_order_get, "{\"account_id\": \"buyer\", \"order_id\": \"%s\"}", order);
    CHECK_STR(STR(json, "order.status"), "COMPLETED");
    CHECK(json_int(json, "order.status_code") == 5);
    CHECK(json_int(json, "order.completed_at") == START);
    CHECK(has_event("buyer", "resource.provisioned", resource));
    CHECK(has_event("buyer", "order.completed", order));
    CHECK(json_int(json, "order.resources.0.expire_at") == ONE_MONTH_EXPIRY);
    billing_string_free(json);

    json = MUST(billing_resource_get, "{\"account_id\": \"buyer\", \"resource_id\": \"%s\"}", resource);
    CHECK_STR(STR(json, "resource.status"), "IN_USE");
    CHECK_STR(STR(json, "resource.order_id"), order);
    CHECK_STR(STR(json, "resource.product_id"), "ecs.c1");
    CHECK(json_int(json, "resource.provisioned_at") == START);
    CHECK(json_int(json, "resource.effective_at") == START);
    CHECK(json_int(json, "resource.expire_at") == ONE_MONTH_EXPIRY);
    CHECK_STR(STR(json, "resource.expire_at_local"), "2024-02-01T23:59:59+08:00");
    billing_string_free(json);
    REFUSES(BILLING_E_NOT_FOUND, "resource_not_found", billing_resource_get,
            "{\"account_id\": \"other\", \"resource_id\": \"%s\"}", resource);
    REFUSES(BILLING_E_REFUSED, "not_pending_provision", billing_resource_report,
            "{\"actor\": \"provisioner\", \"account_id\": \"buyer\", \"results\": [{\"resource_id\": \"%s\", \"outcome\": \"FAILED\"}]}",
            resource);
    REFUSES(BILLING_E_INVALID, "unknown_value", billing_resource_report,
            "{\"actor\": \"provisioner\", \"account_id\": \"buyer\", \"results\": [{\"resource_id\": \"%s\", \"outcome\": \"MAYBE\"}]}",
            resource);

    /* The money moved once, and the ledger still adds up. */
    CHECK(cash("buyer") == before - 5000);
    CHECK(ledger_cash("buyer", NULL, NULL, NULL) == cash("buyer"));
}

/* ---- A combined order ------------------------------------------------------------------ */

static void test_combined_order(void) {
    id combined = "", first = "", second = "", resource_a = "", resource_b = "";
    int64_t before = cash("buyer");
    char *json = MUST(billing_order_create,
                      "{\"actor\": \"portal\", \"account_id\": \"buyer\", \"items\": ["
                      "{\"product_id\": \"ecs.c1\", \"period\": {\"unit\": \"MONTH\", \"count\": 1}},"
                      "{\"product_id\": \"evs.ssd\", \"period\": {\"unit\": \"MONTH\", \"count\": 1}, \"quantity\": 2}]}");
    COPY(combined, json, "order.order_id");
    COPY(first, json, "order.sub_orders.0.order_id");
    COPY(second, json, "order.sub_orders.1.order_id");
    CHECK(json_is(json, "order.is_combined", "true"));
    CHECK_STR(STR(json, "order.status"), "PENDING_PAYMENT");
    CHECK(json_count(json, "order.sub_orders") == 2);
    CHECK(json_int(json, "order.amounts.amount_due_fen") == 7000);
    CHECK(json_int(json, "order.sub_orders.0.amounts.amount_due_fen") == 5000);
    CHECK(json_int(json, "order.sub_orders.1.amounts.amount_due_fen") == 2000);
    CHECK_STR(STR(json, "order.sub_orders.0.combined_order_id"), combined);
    CHECK_STR(STR(json, "order.sub_orders.1.combined_order_id"), combined);
    billing_string_free(json);
    CHECK(combined[0] && first[0] && second[0] && strcmp(first, second) != 0);

    /* A sub-order is neither paid nor cancelled on its own; the error names the combined order. */
    REFUSES(BILLING_E_REFUSED, "use_combined_order", billing_order_pay,
            "{\"actor\": \"portal\", \"account_id\": \"buyer\", \"order_id\": \"%s\"}", first);
    CHECK(strstr(billing_last_error_message(), combined) != NULL);
    REFUSES(BILLING_E_REFUSED, "use_combined_order", billing_order_pay,
            "{\"actor\": \"portal\", \"account_id\": \"buyer\", \"order_id\": \"%s\"}", second);
    json = MUST(billing_orders_cancel, "{\"actor\": \"portal\", \"account_id\": \"buyer\", \"order_ids\": [\"%s\"]}", second);
    CHECK(json_is(json, "results.0.cancelled", "false"));
    CHECK_STR(STR(json, "results.0.reason"), "use_combined_order");
    billing_string_free(json);
    CHECK(cash("buyer") == before);
    CHECK_STR(order_status("buyer", combined), "PENDING_PAYMENT");
    CHECK_STR(order_status("buyer", second), "PENDING_PAYMENT");

    /* The list shows the sub-orders, not the container; asking for the container's id lists them. */
    json = MUST(billing_orders_list, "{\"account_id\": \"buyer\", \"order_id\": \"%s\"}", combined);
    CHECK(json_count(json, "orders") == 2);
    CHECK(strstr(json, first) && strstr(json, second));
    CHECK(json_is(json, "orders.0.is_combined", "false"));
    billing_string_free(json);

    json = MUST(billing_order_pay, "{\"actor\": \"portal\", \"account_id\": \"buyer\", \"order_id\": \"%s\"}", combined);
    CHECK_STR(STR(json, "order.status"), "PROCESSING");
    CHECK(json_int(json, "order.amounts.cash_fen") == 7000);
    CHECK(json_count(json, "order.resources") == 3);
    CHECK_STR(STR(json, "order.sub_orders.0.status"), "PROCESSING");
    CHECK_STR(STR(json, "order.sub_orders.1.status"), "PROCESSING");
    CHECK(json_int(json, "order.sub_orders.1.amounts.cash_fen") == 2000);
    COPY(resource_a, json, "order.resources.0.resource_id");
    COPY(resource_b, json, "order.resources.1.resource_id");
    char resource_c[32] = "";
    COPY(resource_c, json, "order.resources.2.resource_id");
    billing_string_free(json);
    CHECK(cash("buyer") == before - 7000);
    REFUSES(BILLING_E_REFUSED, "order_already_paid", billing_order_pay,
            "{\"actor\": \"portal\", \"account_id\": \"buyer\", \"order_id\": \"%s\"}", combined);

    /* Each sub-order completes when its resources are settled; the combined order after both. */
    json = MUST(billing_resource_report, "{\"actor\": \"provisioner\", \"account_id\": \"buyer\","
                                         " \"results\": [{\"resource_id\": \"%s\", \"outcome\": \"SUCCEEDED\"}]}", resource_a);
    billing_string_free(json);
    CHECK_STR(order_status("buyer", first), "COMPLETED");
    CHECK_STR(order_status("buyer", second), "PROCESSING");
    CHECK_STR(order_status("buyer", combined), "PROCESSING");
    json = MUST(billing_resource_report, "{\"actor\": \"provisioner\", \"account_id\": \"buyer\", \"results\": ["
                                         "{\"resource_id\": \"%s\", \"outcome\": \"SUCCEEDED\"},"
                                         "{\"resource_id\": \"%s\", \"outcome\": \"SUCCEEDED\"}]}", resource_b, resource_c);
    CHECK(json_count(json, "resources") == 2);
    billing_string_free(json);
    CHECK_STR(order_status("buyer", second), "COMPLETED");
    CHECK_STR(order_status("buyer", combined), "COMPLETED");
    CHECK(ledger_cash("buyer", NULL, NULL, NULL) == cash("buyer"));
}

/* ---- Batch cancel ------------------------------------------------------------------------ */

static id left_pending; /* the one order test_cancel_batch leaves pending */

static void test_cancel_batch(void) {
    id a = "", b = "", paid = "", combined = "";
    char *c = left_pending;
    char *json;
    billing_string_free(create_order("buyer", "evs.ssd", a));
    billing_string_free(create_order("buyer", "evs.ssd", b));
    billing_string_free(create_order("buyer", "evs.ssd", c));
    billing_string_free(create_order("buyer", "evs.ssd", paid));
    json = MUST(billing_order_pay, "{\"actor\": \"portal\", \"account_id\": \"buyer\", \"order_id\": \"%s\"}", paid);
    billing_string_free(json);
    json = MUST(billing_order_create,
                "{\"actor\": \"portal\", \"account_id\": \"buyer\", \"items\": ["
                "{\"product_id\": \"ecs.c1\", \"period\": {\"unit\": \"MONTH\", \"count\": 1}},"
                "{\"product_id\": \"vpc.bw\", \"period\": {\"unit\": \"MONTH\", \"count\": 3}}]}");
    COPY(combined, json, "order.order_id");
    id sub = "";
    COPY(sub, json, "order.sub_orders.1.order_id");
    billing_string_free(json);
    int64_t before = cash("buyer");

    json = MUST(billing_orders_cancel,
                "{\"actor\": \"portal\", \"account_id\": \"buyer\", \"reason\": \"changed my mind\","
                " \"order_ids\": [\"%s\", \"%s\", \"%s\", \"CS999999999999\", \"%s\", \"%s\"]}",
                a, b, paid, a, combined);
    CHECK(json_count(json, "results") == 6);
    CHECK_STR(STR(json, "results.0.order_id"), a);
    CHECK(json_is(json, "results.0.cancelled", "true"));
    CHECK(json_is(json, "results.1.cancelled", "true"));
    CHECK(json_is(json, "results.2.cancelled", "false"));
    CHECK_STR(STR(json, "results.2.reason"), "order_not_cancellable");
    CHECK(json_is(json, "results.3.cancelled", "false"));
    CHECK_STR(STR(json, "results.3.reason"), "order_not_found");
    CHECK(json_is(json, "results.4.cancelled", "false")); /* already cancelled earlier in this batch */
    CHECK_STR(STR(json, "results.4.reason"), "order_not_cancellable");
    CHECK(json_is(json, "results.5.cancelled", "true"));
    billing_string_free(json);

    json = MUST(billing_order_get, "{\"account_id\": \"buyer\", \"order_id\": \"%s\"}", a);
    CHECK_STR(STR(json, "order.status"), "CANCELLED");
    CHECK(json_int(json, "order.status_code") == 4);
    CHECK_STR(STR(json, "order.cancel_reason"), "CUSTOMER");
    CHECK(json_int(json, "order.cancelled_at") == now_());
    billing_string_free(json);
    CHECK_STR(order_status("buyer", combined), "CANCELLED");
    CHECK_STR(order_status("buyer", sub), "CANCELLED"); /* with its container */
    CHECK_STR(order_status("buyer", paid), "PROCESSING");
    CHECK_STR(order_status("buyer", c), "PENDING_PAYMENT"); /* not listed: left for the scheduler */
    CHECK(cash("buyer") == before);
    REFUSES(BILLING_E_REFUSED, "order_not_payable", billing_order_pay,
            "{\"actor\": \"portal\", \"account_id\": \"buyer\", \"order_id\": \"%s\"}", a);

    /* At most max_batch_cancel (30) ids at once. */
    char request[2048];
    int used = snprintf(request, sizeof request, "{\"actor\": \"portal\", \"account_id\": \"buyer\", \"order_ids\": [");
    for (int i = 0; i < 31; i++) used += snprintf(request + used, sizeof request - used, "%s\"CS%012d\"", i ? ", " : "", 900 + i);
    snprintf(request + used, sizeof request - used, "]}");
    REFUSES(BILLING_E_INVALID, "too_many_items", billing_orders_cancel, "%s", request);
    REFUSES(BILLING_E_INVALID, "missing_field", billing_orders_cancel,
            "{\"actor\": \"portal\", \"account_id\": \"buyer\", \"order_ids\": []}");
}

/* ---- The scheduler ----------------------------------------------------------------------- */

static int64_t run_scheduler(const char *request, int *has_more) {
    char *json = MUST(billing_scheduler_run, "%s", request);
    int64_t cancelled = json_int(json, "cancelled_orders");
    CHECK(json_int(json, "now") == now_());
    if (has_more) *has_more = json_is(json, "has_more", "true");
    billing_string_free(json);
    return cancelled;
}

static void test_scheduler(void) {
    int more = 0;
    id order = "", late = "", hardware = "", combined = "";
    char *json;

    /* One order is pending, made at START: seven days on, the scheduler cancels it. */
    CHECK(now_() == START);
    CHECK_STR(order_status("buyer", left_pending), "PENDING_PAYMENT");
    CHECK(run_scheduler("{\"actor\": \"cron\"}", NULL) == 0);
    CHECK_OK(billing_clock_advance(engine, 604800, NULL));
    CHECK(run_scheduler("{\"actor\": \"cron\"}", &more) == 1);
    CHECK(!more);
    json = MUST(billing_order_get, "{\"account_id\": \"buyer\", \"order_id\": \"%s\"}", left_pending);
    CHECK_STR(STR(json, "order.status"), "CANCELLED");
    CHECK_STR(STR(json, "order.cancel_reason"), "PAYMENT_EXPIRED");
    CHECK(json_int(json, "order.cancelled_at") == START + 604800);
    billing_string_free(json);
    CHECK(run_scheduler("{\"actor\": \"cron\"}", &more) == 0); /* twice is once */

    int64_t created = now_();
    billing_string_free(create_order("buyer", "ecs.c1", order));
    json = create_order("buyer", "dedicated.host", hardware);
    CHECK(json_int(json, "order.pay_deadline") == created + 3600); /* hardware: one hour */
    billing_string_free(json);
    json = MUST(billing_order_create,
                "{\"actor\": \"portal\", \"account_id\": \"buyer\", \"items\": ["
                "{\"product_id\": \"ecs.c1\", \"period\": {\"unit\": \"MONTH\", \"count\": 1}},"
                "{\"product_id\": \"evs.ssd\", \"period\": {\"unit\": \"MONTH\", \"count\": 1}}]}");
    COPY(combined, json, "order.order_id");
    id sub = "";
    COPY(sub, json, "order.sub_orders.0.order_id");
    billing_string_free(json);

    /* One hour on, only the hardware order is due. */
    CHECK_OK(billing_clock_advance(engine, 3599, NULL));
    CHECK(run_scheduler("{\"actor\": \"cron\"}", NULL) == 0);
    CHECK_OK(billing_clock_advance(engine, 1, NULL));
    CHECK(run_scheduler("{\"actor\": \"cron\"}", NULL) == 1);
    CHECK_STR(order_status("buyer", hardware), "CANCELLED");
    CHECK_STR(order_status("buyer", order), "PENDING_PAYMENT");

    /* Seven days after creation the rest is due: a second before, nothing happens. */
    CHECK_OK(billing_clock_set(engine, created + WEEK - 1));
    CHECK(run_scheduler("{\"actor\": \"cron\"}", NULL) == 0);
    CHECK_STR(order_status("buyer", order), "PENDING_PAYMENT");
    /* Paying needs the deadline not to have passed. */
    billing_string_free(create_order("buyer", "evs.ssd", late)); /* due a week from now */
    CHECK_OK(billing_clock_set(engine, created + WEEK));
    REFUSES(BILLING_E_REFUSED, "order_payment_expired", billing_order_pay,
            "{\"actor\": \"portal\", \"account_id\": \"buyer\", \"order_id\": \"%s\"}", order);
    CHECK(run_scheduler("{\"actor\": \"cron\", \"idempotency_key\": \"cron-1\"}", &more) == 2); /* order + combined */
    CHECK(!more);
    /* A replay of the same run, and a new run, cancel nothing more. */
    CHECK(run_scheduler("{\"actor\": \"cron\", \"idempotency_key\": \"cron-1\"}", NULL) == 2);
    CHECK(run_scheduler("{\"actor\": \"cron\"}", NULL) == 0);

    json = MUST(billing_order_get, "{\"account_id\": \"buyer\", \"order_id\": \"%s\"}", order);
    CHECK_STR(STR(json, "order.status"), "CANCELLED");
    CHECK_STR(STR(json, "order.cancel_reason"), "PAYMENT_EXPIRED");
    CHECK(json_int(json, "order.cancelled_at") == created + WEEK);
    billing_string_free(json);
    CHECK_STR(order_status("buyer", combined), "CANCELLED");
    CHECK_STR(order_status("buyer", sub), "CANCELLED");
    CHECK_STR(order_status("buyer", late), "PENDING_PAYMENT");
    REFUSES(BILLING_E_REFUSED, "order_not_payable", billing_order_pay,
            "{\"actor\": \"portal\", \"account_id\": \"buyer\", \"order_id\": \"%s\"}", order);

    /* A week on, the late order and three of another account's are due: "limit" bounds each run. */
    id batch[3];
    for (int i = 0; i < 3; i++) billing_string_free(create_order("other", "evs.ssd", batch[i]));
    CHECK_OK(billing_clock_advance(engine, WEEK, NULL));
    CHECK(run_scheduler("{\"actor\": \"cron\", \"limit\": 2}", &more) == 2);
    CHECK(more);
    CHECK(run_scheduler("{\"actor\": \"cron\", \"limit\": 2}", &more) == 2);
    CHECK(!more);
    CHECK(run_scheduler("{\"actor\": \"cron\", \"limit\": 2}", &more) == 0);
    CHECK_STR(order_status("buyer", late), "CANCELLED");
    for (int i = 0; i < 3; i++) CHECK_STR(order_status("other", batch[i]), "CANCELLED");
    REFUSES(BILLING_E_INVALID, "out_of_range", billing_scheduler_run, "{\"actor\": \"cron\", \"limit\": 10001}");
}

/* ---- A failed provisioning is refunded ------------------------------------------------- */

static void test_failed_provisioning(void) {
    id order = "", resource = "", coupon = "", refund = "";
    int64_t now = now_();
    char *json = MUST(billing_coupon_issue,
                      "{\"actor\": \"marketing\", \"account_id\": \"buyer\", \"kind\": \"CASH_COUPON\", \"face_value_fen\": 1200,"
                      " \"valid_from\": %lld, \"valid_to\": %lld}", (long long)now, (long long)(now + 30 * 86400));
    COPY(coupon, json, "coupon.coupon_id");
    billing_string_free(json);
    int64_t before = cash("buyer");

    billing_string_free(create_order("buyer", "ecs.c1", order));
    json = MUST(billing_order_pay, "{\"actor\": \"portal\", \"account_id\": \"buyer\", \"order_id\": \"%s\","
                                   " \"coupon_ids\": [\"%s\"]}", order, coupon);
    CHECK(json_int(json, "order.amounts.cash_coupon_fen") == 1200);
    CHECK(json_int(json, "order.amounts.cash_fen") == 3800);
    COPY(resource, json, "order.resources.0.resource_id");
    billing_string_free(json);
    CHECK(cash("buyer") == before - 3800);
    json = MUST(billing_coupons_list, "{\"account_id\": \"buyer\"}");
    CHECK_STR(STR(json, "coupons.0.status"), "USED_UP");
    billing_string_free(json);

    json = MUST(billing_resource_report, "{\"actor\": \"provisioner\", \"account_id\": \"buyer\","
                                         " \"results\": [{\"resource_id\": \"%s\", \"outcome\": \"FAILED\"}]}", resource);
    CHECK_STR(STR(json, "resources.0.status"), "PROVISION_FAILED");
    CHECK(json_count(json, "refund_orders") == 1);
    CHECK_STR(STR(json, "refund_orders.0.type"), "UNSUBSCRIBE");
    CHECK_STR(STR(json, "refund_orders.0.source_order_id"), order);
    CHECK(json_int(json, "refund_orders.0.amounts.cash_fen") == 3800);
    CHECK(json_int(json, "refund_orders.0.amounts.cash_coupon_fen") == 1200);
    COPY(refund, json, "refund_orders.0.order_id");
    billing_string_free(json);
    CHECK(has_event("buyer", "resource.provision_failed", resource));
    CHECK(has_event("buyer", "order.refunded", refund));

    /* The cash and the coupon came back; the order is settled. */
    CHECK(cash("buyer") == before);
    CHECK(ledger_cash("buyer", NULL, NULL, NULL) == cash("buyer"));
    json = MUST(billing_coupons_list, "{\"account_id\": \"buyer\"}");
    CHECK_STR(STR(json, "coupons.0.status"), "USABLE");
    CHECK(json_int(json, "coupons.0.balance_fen") == 1200);
    billing_string_free(json);
    CHECK_STR(order_status("buyer", order), "COMPLETED");

    json = MUST(billing_order_get, "{\"account_id\": \"buyer\", \"order_id\": \"%s\"}", refund);
    CHECK_STR(STR(json, "order.type"), "UNSUBSCRIBE");
    CHECK_STR(STR(json, "order.status"), "COMPLETED");
    CHECK(json_count(json, "order.refunds") == 2);
    billing_string_free(json);
    json = MUST(billing_resource_get, "{\"account_id\": \"buyer\", \"resource_id\": \"%s\"}", resource);
    CHECK_STR(STR(json, "resource.status"), "PROVISION_FAILED");
    billing_string_free(json);

    /* Part of a multi-resource order: only the failed share comes back. */
    before = cash("buyer");
    json = MUST(billing_order_create, "{\"actor\": \"portal\", \"account_id\": \"buyer\", \"auto_pay\": true, \"items\": "
                                      "[{\"product_id\": \"evs.ssd\", \"period\": {\"unit\": \"MONTH\", \"count\": 1}, \"quantity\": 3}]}");
    CHECK(json_is(json, "payment.succeeded", "true"));
    CHECK_STR(STR(json, "order.status"), "PROCESSING");
    id r0 = "", r1 = "", r2 = "";
    COPY(order, json, "order.order_id");
    COPY(r0, json, "order.resources.0.resource_id");
    COPY(r1, json, "order.resources.1.resource_id");
    COPY(r2, json, "order.resources.2.resource_id");
    billing_string_free(json);
    CHECK(cash("buyer") == before - 3000);
    json = MUST(billing_resource_report, "{\"actor\": \"provisioner\", \"account_id\": \"buyer\", \"results\": ["
                                         "{\"resource_id\": \"%s\", \"outcome\": \"SUCCEEDED\"},"
                                         "{\"resource_id\": \"%s\", \"outcome\": \"FAILED\"}]}", r0, r1);
    CHECK(json_count(json, "refund_orders") == 1);
    CHECK(json_int(json, "refund_orders.0.amounts.cash_fen") == 1000);
    billing_string_free(json);
    CHECK(cash("buyer") == before - 2000);
    CHECK_STR(order_status("buyer", order), "PROCESSING");
    json = MUST(billing_resource_report, "{\"actor\": \"provisioner\", \"account_id\": \"buyer\", \"results\": ["
                                         "{\"resource_id\": \"%s\", \"outcome\": \"FAILED\"}]}", r2);
    billing_string_free(json);
    CHECK(cash("buyer") == before - 1000);
    CHECK_STR(order_status("buyer", order), "COMPLETED");
    CHECK(ledger_cash("buyer", NULL, NULL, NULL) == cash("buyer"));
}

/* ---- Funds and the list ------------------------------------------------------------------ */

static void test_funds_and_list(void) {
    id order = "";
    put_account("poor", 100);
    char *json = create_order("poor", "ecs.c1", order);
    billing_string_free(json);
    REFUSES(BILLING_E_REFUSED, "insufficient_funds", billing_order_pay,
            "{\"actor\": \"portal\", \"account_id\": \"poor\", \"order_id\": \"%s\"}", order);
    CHECK(cash("poor") == 100);
    CHECK_STR(order_status("poor", order), "PENDING_PAYMENT");
    /* auto_pay that fails leaves the order pending payment (T5). */
    json = MUST(billing_order_create, "{\"actor\": \"portal\", \"account_id\": \"poor\", \"auto_pay\": true, \"items\": "
                                      "[{\"product_id\": \"evs.ssd\", \"period\": {\"unit\": \"MONTH\", \"count\": 1}}]}");
    CHECK(json_is(json, "payment.succeeded", "false"));
    CHECK_STR(STR(json, "payment.reason"), "insufficient_funds");
    CHECK_STR(STR(json, "order.status"), "PENDING_PAYMENT");
    billing_string_free(json);
    json = MUST(billing_account_put, "{\"actor\": \"kyc\", \"account_id\": \"poor\", \"freeze\": \"VIOLATION\"}");
    billing_string_free(json);
    REFUSES(BILLING_E_REFUSED, "account_frozen", billing_order_pay,
            "{\"actor\": \"portal\", \"account_id\": \"poor\", \"order_id\": \"%s\"}", order);

    /* Newest first, paged by cursor, every row once. */
    int total = 0, more = 1;
    char cursor[64] = "", previous[32] = "";
    while (more && total < 1000) {
        if (cursor[0]) json = call(billing_orders_list, NULL, "{\"account_id\": \"buyer\", \"limit\": 3, \"after\": \"%s\"}", cursor);
        else json = call(billing_orders_list, NULL, "{\"account_id\": \"buyer\", \"limit\": 3}");
        if (!CHECK(json != NULL)) break;
        for (int i = 0, n = json_count(json, "orders"); i < n; i++, total++) {
            char path[32];
            id current = "";
            snprintf(path, sizeof path, "orders.%d.order_id", i);
            json_string(json, path, current, sizeof current);
            CHECK(previous[0] == '\0' || strcmp(current, previous) < 0); /* same second: newer ids first */
            snprintf(previous, sizeof previous, "%s", current);
        }
        more = json_is(json, "has_more", "true");
        COPY(cursor, json, "next_cursor");
        billing_string_free(json);
    }
    json = MUST(billing_orders_list, "{\"account_id\": \"buyer\", \"limit\": 100}");
    CHECK(json_is(json, "has_more", "false"));
    CHECK(total == json_count(json, "orders"));
    CHECK(total == 19); /* 1 + 2 + 6 + 5 + 2 orders and 3 refunds made above */
    billing_string_free(json);
    json = MUST(billing_orders_list, "{\"account_id\": \"buyer\", \"status\": \"CANCELLED\", \"limit\": 100}");
    for (int i = 0, n = json_count(json, "orders"); i < n; i++) {
        char path[32];
        snprintf(path, sizeof path, "orders.%d.status", i);
        CHECK_STR(STR(json, path), "CANCELLED");
    }
    CHECK(json_count(json, "orders") >= 6);
    billing_string_free(json);
    REFUSES(BILLING_E_INVALID, "invalid_cursor", billing_orders_list, "{\"account_id\": \"buyer\", \"after\": \"yesterday\"}");
    REFUSES(BILLING_E_INVALID, "out_of_range", billing_orders_list, "{\"account_id\": \"buyer\", \"limit\": 101}");
}

/* ---- Discounts, review and confirmation ------------------------------------------------- */

static char *order_for(const char *account, const char *product, const char *extra, char *order_id) {
    char *json = MUST(billing_order_create,
                      "{\"actor\": \"portal\", \"account_id\": \"%s\"%s, \"items\": [{\"product_id\": \"%s\","
                      " \"period\": {\"unit\": \"MONTH\", \"count\": 1}}]}", account, extra, product);
    order_id[0] = '\0';
    json_string(json, "order.order_id", order_id, sizeof(id));
    return json;
}

static int64_t quoted(const char *account, const char *product, const char *path) {
    char *json = MUST(billing_order_quote, "{\"account_id\": \"%s\", \"items\": [{\"product_id\": \"%s\","
                                           " \"period\": {\"unit\": \"MONTH\", \"count\": 1}}]}", account, product);
    int64_t value = json_int(json, path);
    billing_string_free(json);
    return value;
}

static void set_discount(const char *type, int rate) {
    char *json = MUST(billing_discount_set, "{\"actor\": \"sales\", \"account_id\": \"corp\", \"product_type\": \"%s\","
                                            " \"rate_bp\": %d}", type, rate);
    CHECK(json_int(json, "rate_bp") == rate);
    billing_string_free(json);
}

static void test_discounts_review_confirmation(void) {
    id order = "", approved = "", rejected = "", confirmed = "", declined = "", lapsed = "";
    put_account("corp", 1000000);
    put_product("{\"product_id\": \"ecs.promo\", \"product_type\": \"ECS\", \"billing_mode\": \"PREPAID\","
                " \"promotion_discount_bp\": 500, \"monthly_price_fen\": 5000, \"yearly_price_fen\": 50000}");
    put_product("{\"product_id\": \"gpu.p1\", \"product_type\": \"GPU\", \"billing_mode\": \"PREPAID\","
                " \"review_required\": true, \"monthly_price_fen\": 9000, \"yearly_price_fen\": 90000}");

    /* The better of the commercial and the promotion discount, never both. */
    CHECK(quoted("corp", "ecs.promo", "amounts.promotion_discount_fen") == 250);
    set_discount("ECS", 1000);
    CHECK(quoted("corp", "ecs.promo", "amounts.commercial_discount_fen") == 500);
    CHECK(quoted("corp", "ecs.promo", "amounts.promotion_discount_fen") == 0);
    CHECK(quoted("corp", "ecs.promo", "amounts.amount_due_fen") == 4500);
    set_discount("*", 300); /* the type's own rate comes first */
    CHECK(quoted("corp", "ecs.promo", "amounts.amount_due_fen") == 4500);
    CHECK(quoted("corp", "gpu.p1", "amounts.commercial_discount_fen") == 270);
    REFUSES(BILLING_E_NOT_FOUND, "account_not_found", billing_discount_set,
            "{\"actor\": \"sales\", \"account_id\": \"nobody\", \"product_type\": \"ECS\", \"rate_bp\": 100}");
    REFUSES(BILLING_E_INVALID, "out_of_range", billing_discount_set,
            "{\"actor\": \"sales\", \"account_id\": \"corp\", \"product_type\": \"ECS\", \"rate_bp\": 10000}");

    /* An order keeps its price, but a discount withdrawn before payment stops it. */
    billing_string_free(order_for("corp", "ecs.promo", "", order));
    set_discount("ECS", 0);
    CHECK(quoted("corp", "ecs.promo", "amounts.amount_due_fen") == 4750); /* promotion beats "*" 300 */
    REFUSES(BILLING_E_REFUSED, "discount_no_longer_valid", billing_order_pay,
            "{\"actor\": \"portal\", \"account_id\": \"corp\", \"order_id\": \"%s\"}", order);
    set_discount("ECS", 1200);
    char *json = MUST(billing_order_pay, "{\"actor\": \"portal\", \"account_id\": \"corp\", \"order_id\": \"%s\"}", order);
    CHECK(json_int(json, "order.amounts.cash_fen") == 4500);
    billing_string_free(json);

    /* Review (T2, T6, T7). */
    REFUSES(BILLING_E_REFUSED, "review_required", billing_order_create,
            "{\"actor\": \"portal\", \"account_id\": \"corp\", \"auto_pay\": true, \"items\": [{\"product_id\": \"gpu.p1\","
            " \"period\": {\"unit\": \"MONTH\", \"count\": 1}}]}");
    json = order_for("corp", "gpu.p1", "", approved);
    CHECK_STR(STR(json, "order.status"), "PENDING_REVIEW");
    CHECK(json_int(json, "order.status_code") == 1);
    CHECK(json_is(json, "order.pay_deadline", "null"));
    CHECK(json_is(json, "order.review_required", "true"));
    billing_string_free(json);
    billing_string_free(order_for("corp", "gpu.p1", "", rejected));
    REFUSES(BILLING_E_REFUSED, "order_not_payable", billing_order_pay,
            "{\"actor\": \"portal\", \"account_id\": \"corp\", \"order_id\": \"%s\"}", approved);
    CHECK_OK(billing_clock_advance(engine, 100, NULL));
    json = MUST(billing_order_review, "{\"actor\": \"auditor\", \"account_id\": \"corp\", \"order_id\": \"%s\","
                                      " \"decision\": \"APPROVE\", \"comment\": \"ok\"}", approved);
    CHECK_STR(STR(json, "order.status"), "PENDING_PAYMENT");
    CHECK(json_int(json, "order.pay_deadline") == now_() + WEEK);
    billing_string_free(json);
    REFUSES(BILLING_E_REFUSED, "illegal_transition", billing_order_review,
            "{\"actor\": \"auditor\", \"account_id\": \"corp\", \"order_id\": \"%s\", \"decision\": \"REJECT\"}", approved);
    REFUSES(BILLING_E_INVALID, "unknown_value", billing_order_review,
            "{\"actor\": \"auditor\", \"account_id\": \"corp\", \"order_id\": \"%s\", \"decision\": \"MAYBE\"}", rejected);
    json = MUST(billing_order_review, "{\"actor\": \"auditor\", \"account_id\": \"corp\", \"order_id\": \"%s\","
                                      " \"decision\": \"REJECT\"}", rejected);
    CHECK_STR(STR(json, "order.status"), "CANCELLED");
    CHECK_STR(STR(json, "order.cancel_reason"), "REVIEW_REJECTED");
    billing_string_free(json);
    json = MUST(billing_order_pay, "{\"actor\": \"portal\", \"account_id\": \"corp\", \"order_id\": \"%s\"}", approved);
    CHECK_STR(STR(json, "order.status"), "PROCESSING");
    billing_string_free(json);

    /* Orders placed by the account manager wait for the customer (T3, T8, T9). */
    REFUSES(BILLING_E_INVALID, "invalid_field", billing_order_create,
            "{\"actor\": \"manager\", \"account_id\": \"corp\", \"placed_by_manager\": true, \"auto_pay\": true,"
            " \"items\": [{\"product_id\": \"ecs.c1\", \"period\": {\"unit\": \"MONTH\", \"count\": 1}}]}");
    int64_t placed = now_();
    json = order_for("corp", "ecs.c1", ", \"placed_by_manager\": true, \"contract\": \"K-2024-001\"", confirmed);
    CHECK_STR(STR(json, "order.status"), "PENDING_CONFIRMATION");
    CHECK(json_int(json, "order.status_code") == 9);
    CHECK_STR(STR(json, "order.contract"), "K-2024-001");
    CHECK(json_is(json, "order.placed_by_manager", "true"));
    billing_string_free(json);
    billing_string_free(order_for("corp", "ecs.c1", ", \"placed_by_manager\": true", declined));
    billing_string_free(order_for("corp", "ecs.c1", ", \"placed_by_manager\": true", lapsed));
    REFUSES(BILLING_E_REFUSED, "order_not_payable", billing_order_pay,
            "{\"actor\": \"portal\", \"account_id\": \"corp\", \"order_id\": \"%s\"}", confirmed);
    json = MUST(billing_order_confirm, "{\"actor\": \"customer\", \"account_id\": \"corp\", \"order_id\": \"%s\","
                                       " \"decision\": \"CONFIRM\"}", confirmed);
    CHECK_STR(STR(json, "order.status"), "PENDING_PAYMENT");
    billing_string_free(json);
    json = MUST(billing_order_confirm, "{\"actor\": \"customer\", \"account_id\": \"corp\", \"order_id\": \"%s\","
                                       " \"decision\": \"DECLINE\"}", declined);
    CHECK_STR(STR(json, "order.status"), "CANCELLED");
    CHECK_STR(STR(json, "order.cancel_reason"), "DECLINED");
    billing_string_free(json);
    REFUSES(BILLING_E_REFUSED, "illegal_transition", billing_order_confirm,
            "{\"actor\": \"customer\", \"account_id\": \"corp\", \"order_id\": \"%s\", \"decision\": \"CONFIRM\"}", declined);
    REFUSES(BILLING_E_NOT_FOUND, "order_not_found", billing_order_confirm,
            "{\"actor\": \"customer\", \"account_id\": \"buyer\", \"order_id\": \"%s\", \"decision\": \"CONFIRM\"}", lapsed);

    /* Unanswered, it lapses with the confirmation validity. */
    CHECK_OK(billing_clock_set(engine, placed + WEEK));
    CHECK(run_scheduler("{\"actor\": \"cron\"}", NULL) >= 1);
    json = MUST(billing_order_get, "{\"account_id\": \"corp\", \"order_id\": \"%s\"}", lapsed);
    CHECK_STR(STR(json, "order.status"), "CANCELLED");
    CHECK_STR(STR(json, "order.cancel_reason"), "CONFIRMATION_EXPIRED");
    billing_string_free(json);
    CHECK(ledger_cash("corp", NULL, NULL, NULL) == cash("corp"));
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s SCRATCH_DIRECTORY\n", argv[0]);
        return 2;
    }
    char path[PATH_MAX];
    support_database(path, sizeof path, argv[1], "test_orders");
    if (!open_fixture(path, START)) return check_summary();

    set_up_catalog();
    test_single_order();
    test_combined_order();
    test_cancel_batch();
    test_scheduler();
    test_failed_provisioning();
    test_funds_and_list();
    test_discounts_review_confirmation();

    billing_engine_close(engine);
    int status = check_summary();
    if (status == 0) support_remove_database(path);
    return status;
}
