/*
 * bench_orders.c — what libbilling's order operations cost over hand-written SQLite doing the
 * same work, measured in one run on the same machine and disk, so only the ratios mean
 * anything.
 *
 * (a) buy: billing_order_create + billing_order_pay of a one-item order (one month of a
 *     prepaid product, paid from the cash balance).
 * (b) buy, combined: the same with three items, i.e. a combined order with three sub-orders.
 *     Baseline for both: the statements the library runs for each of the two operations
 *     (Services/OrderService.swift, PaymentService.swift, Payments.swift,
 *     Orchestration/PaymentSettlement.swift, Provisioning.swift and the Storage stores: the
 *     configuration revision, account, products and discounts read, id_sequences, orders,
 *     order_lines, then the order and its lines read, each order's status read before it is
 *     updated, orders and order_lines updated, accounts and ledger, resources,
 *     resource_funding, events, and the audit row with row coverage as bench_coverage.h
 *     writes it), prepared once, each operation in one BEGIN IMMEDIATE transaction; 59
 *     statements a one-item purchase, 121 a combined one, as the library (step_count.c). Rows carry
 *     the same texts (product snapshots, event data, audit details) as the library writes,
 *     and the row statements take their column lists from the schema, so the raw side writes
 *     and reads every column the library does (the tables of both files come out equal but
 *     for the timestamps). Both with synchronous=FULL and NORMAL (WAL), library, raw, raw,
 *     library in rounds of a twentieth of the buys (bench_alternate), both files open
 *     throughout (until 2026-12-07 all the library's buys came first; at FULL, where a buy waits
 *     for two syncs, a change of the disk's load between the halves moved the ratio by 0.15).
 *     The library makes
 *     each file (schema, account, catalog) so both sides write into the same tables and
 *     indexes; at the end the raw file's purchase rows must equal the library file's (but
 *     for times), the library reads the raw file's last order and the balance back, and
 *     billing_verify must accept the raw file.
 * (c) list: billing_orders_list of an account holding N orders (made through the library),
 *     the first page (limit 20) and a deep page (the next_cursor after 100 pages). Baseline:
 *     the configuration revision and OrderStore.pageRows' keyset SELECT of the page's whole
 *     rows (… LIMIT 21) through prepared statements on the same file, in one read transaction;
 *     the two sides alternate as in (a), the engine and the raw connection open throughout.
 *
 * (d) mixed: what a portal backend lives on: PROCESSES processes (forked, each opening its own
 *     engine or connection after the fork, as pre-fork web workers do) on the (c) file, each
 *     running MIXED_OPS requests of a fixed mix: in every 20, 10 first pages of the order
 *     list, 6 order details, 3 quotes of one item and 1 purchase (create + pay). Throughput
 *     is all requests over the wall time from a common start to the last process's end.
 *     Baseline: the same processes running the statements of (a)-(c) and the quote's reads.
 *
 *   usage: bench_orders [BUYS_FULL [BUYS_NORMAL [LIST_ORDERS [LIST_READS [MIXED_OPS [PROCESSES]]]]]]
 *          (defaults 500 2000 20000 2000 2000 4)
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, clock_gettime, unlink, rmdir, fork, pipe, waitpid */
#define BENCH_NAME "bench_orders"

#include "bench_common.h"
#include "bench_coverage.h"

#include <sys/wait.h>

/* ---- The catalog and the account, made by the library ---------------------------------- */

#define ACCOUNT "bench-account"
enum { ITEMS_MAX = 3 };
static const char *product_ids[ITEMS_MAX] = {"ecs.c1", "evs.ssd", "vpc.bw"};
static const char *product_types[ITEMS_MAX] = {"ECS", "EVS", "VPC"};
static const int64_t monthly_prices[ITEMS_MAX] = {5000, 1000, 700};
static const int64_t initial_cash = INT64_C(1000000000000);

/* Opens `path` through the library (creating the schema) with the account and the catalog. */
static billing_engine *make_file(const char *path, const char *options) {
    billing_engine *engine = bench_engine_open(path, options);
    char request[512];
    bench_put_account(engine, ACCOUNT, initial_cash);
    for (int i = 0; i < ITEMS_MAX; i++) {
        snprintf(request, sizeof request,
                 "{\"actor\": \"bench\", \"product\": {\"product_id\": \"%s\", \"product_type\": \"%s\", \"billing_mode\": \"PREPAID\","
                 " \"name\": \"%s standard\", \"region\": \"cn-north-1\", \"specs\": {\"flavor\": \"s%d.large\"},"
                 " \"monthly_price_fen\": %" PRId64 ", \"yearly_price_fen\": %" PRId64 "}}",
                 product_ids[i], product_types[i], product_types[i], i + 1, monthly_prices[i], 10 * monthly_prices[i]);
        bench_call_free(engine, billing_product_put, request, "billing_product_put");
    }
    return engine;
}

/* The create request for `items` items (one month each). */
static void create_request(char *request, size_t size, int items) {
    int used = snprintf(request, size, "{\"actor\": \"bench\", \"account_id\": \"" ACCOUNT "\", \"items\": [");
    for (int i = 0; i < items; i++) {
        used += snprintf(request + used, size - (size_t)used, "%s{\"product_id\": \"%s\", \"period\": {\"unit\": \"MONTH\", \"count\": 1}}",
                         i ? ", " : "", product_ids[i]);
    }
    snprintf(request + used, size - (size_t)used, "]}");
}

/* The root order's id in a create response: the "order_id" member right after the "lines"
   array (lines and sub-orders carry their own order ids; keys come sorted). */
static void root_order_id(const char *response, char *id, size_t size) { bench_copy_after(response, "],\"order_id\":\"", id, size); }

/* ---- (a), (b) through the library ------------------------------------------------------ */

/* N buys of `items` items through an open engine. */
static double library_buys(billing_engine *engine, int items, int n) {
    char create[512], pay[256], id[32];
    create_request(create, sizeof create, items);

    double start = support_seconds();
    for (int i = 0; i < n; i++) {
        char *response = NULL;
        if (billing_order_create(engine, create, &response) != BILLING_OK) die_billing("billing_order_create");
        root_order_id(response, id, sizeof id);
        billing_string_free(response);
        snprintf(pay, sizeof pay, "{\"actor\": \"bench\", \"account_id\": \"" ACCOUNT "\", \"order_id\": \"%s\"}", id);
        if (billing_order_pay(engine, pay, &response) != BILLING_OK) die_billing("billing_order_pay");
        billing_string_free(response);
    }
    return support_seconds() - start;
}

/* ---- (a), (b) on raw SQLite -------------------------------------------------------------- */

/* The statements of the two operations. Row-shaped ones are made from the schema the library
   created (PRAGMA table_info), so the raw side reads and writes every column the library
   does, also those a newer schema adds: inserts name each column and bind by name, the
   columns this benchmark does not set stay NULL as they do for a new purchase. */
enum {
    BEGIN, COMMIT, REVISION, ACCOUNT_SELECT, PRODUCT, DISCOUNT, SEQUENCE_NEXT, SEQUENCE_GET, EVENT, STATUS, LINE_UPDATE,
    ORDER_UPDATE, CASH_SELECT, CASH_UPDATE, LEDGER, FUNDING, FUNDING_SELECT, /* fixed text */
    ORDER_INSERT, LINE_INSERT, RESOURCE_INSERT, ORDER_SELECT, SUB_ORDERS, LINES, RESOURCES, /* from the schema */
    STATEMENTS
};

#define AMOUNTS "list_price = :list_price, commercial_discount = :commercial_discount," \
                " promotion_discount = :promotion_discount, discount_coupon = :discount_coupon, voucher = :voucher," \
                " cash_coupon = :cash_coupon, stored_value_card = :stored_value_card, cash = :cash, credit = :credit"

static const char *fixed_sql[ORDER_INSERT] = {
    [BEGIN] = "BEGIN IMMEDIATE",
    [COMMIT] = "COMMIT",
    [REVISION] = "SELECT revision FROM config WHERE id = 1",
    [ACCOUNT_SELECT] = "SELECT id, type, realname_verified, restricted, \"freeze\", level, cash_balance, credit_limit, credit_used,"
                       " deduction_days, unified_expiry_day, created_at, updated_at FROM accounts WHERE id = ?",
    [PRODUCT] = "SELECT document, updated_at FROM products WHERE id = ?",
    [DISCOUNT] = "SELECT COALESCE(\n    (SELECT rate_bp FROM commercial_discounts WHERE account_id = ?1 AND product_type = ?2),"
                 " (SELECT rate_bp FROM commercial_discounts WHERE account_id = ?1 AND product_type = '*'))",
    [SEQUENCE_NEXT] = "INSERT INTO id_sequences (name, next) VALUES (?, 2) ON CONFLICT (name) DO UPDATE SET next = id_sequences.next + 1",
    [SEQUENCE_GET] = "SELECT next - 1 FROM id_sequences WHERE name = ?",
    [EVENT] = "INSERT INTO events (type, account_id, subject_id, occurred_at, data, position)"
              " VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM events))",
    /* OrderStore.update reads the stored status before it writes an order. */
    [STATUS] = "SELECT status FROM orders WHERE id = ?",
    [LINE_UPDATE] = "UPDATE order_lines SET " AMOUNTS " WHERE order_id = :order_id AND line_no = :line_no",
    [ORDER_UPDATE] = "UPDATE orders SET status = :status, pay_deadline = :pay_deadline, paid_at = :paid_at,"
                     " completed_at = :completed_at, cancelled_at = :cancelled_at, cancel_reason = :cancel_reason, " AMOUNTS
                     " WHERE id = :id",
    [CASH_SELECT] = "SELECT cash_balance FROM accounts WHERE id = ?",
    [CASH_UPDATE] = "UPDATE accounts SET cash_balance = ?, updated_at = ? WHERE id = ?",
    [LEDGER] = "INSERT INTO ledger (account_id, fund, kind, amount, balance_after, reference, order_id, recorded_at)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [FUNDING] = "INSERT INTO resource_funding (resource_id, order_id, source, coupon_id, amount) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (resource_id, order_id, source, coupon_id) DO UPDATE SET amount = amount + excluded.amount",
    [FUNDING_SELECT] = "SELECT source, coupon_id, amount FROM resource_funding WHERE resource_id = ? AND order_id = ?"
                       " ORDER BY source, coupon_id",
};

static sqlite3 *raw;
static sqlite3_stmt *statements[STATEMENTS];

static sqlite3_stmt *prepared(int which) { return statements[which]; }

static void text(sqlite3_stmt *statement, int index, const char *value) {
    if (value) sqlite3_bind_text(statement, index, value, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(statement, index);
}

static void integer(sqlite3_stmt *statement, int index, int64_t value) { sqlite3_bind_int64(statement, index, value); }

static void null(sqlite3_stmt *statement, int index) { sqlite3_bind_null(statement, index); }

/* The parameter ":name" of a statement (every column named here exists in the schema). */
static int named(sqlite3_stmt *statement, const char *name) {
    char parameter[64];
    snprintf(parameter, sizeof parameter, ":%s", name);
    int index = sqlite3_bind_parameter_index(statement, parameter);
    if (index == 0) die("%s has no parameter %s", sqlite3_sql(statement), parameter);
    return index;
}

static void text_as(sqlite3_stmt *statement, const char *name, const char *value) { text(statement, named(statement, name), value); }

static void integer_as(sqlite3_stmt *statement, const char *name, int64_t value) {
    integer(statement, named(statement, name), value);
}

/* A table's columns, without "seq" unless asked for, as "a, b" (prefix "") or ":a, :b" (":"). */
static void columns_of(const char *table, int with_sequence, const char *prefix, char *out, size_t size) {
    char pragma[64];
    sqlite3_stmt *info;
    size_t used = 0;
    snprintf(pragma, sizeof pragma, "PRAGMA table_info(%s)", table);
    bench_must(raw, sqlite3_prepare_v2(raw, pragma, -1, &info, NULL), pragma);
    out[0] = '\0';
    while (sqlite3_step(info) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(info, 1);
        if (!with_sequence && strcmp(name, "seq") == 0) continue;
        used += (size_t)snprintf(out + used, size - used, "%s%s%s", used ? ", " : "", prefix, name);
        if (used >= size) die("too many columns in %s", table);
    }
    sqlite3_finalize(info);
}

static void prepare_statements(void) {
    static char text_of[STATEMENTS][8192];
    char names[2048], parameters[2048];
    const char *sql[STATEMENTS];
    for (int i = 0; i < ORDER_INSERT; i++) sql[i] = fixed_sql[i];
    static const struct {
        int insert;
        const char *table;
    } tables[] = {{ORDER_INSERT, "orders"}, {LINE_INSERT, "order_lines"}, {RESOURCE_INSERT, "resources"}};
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++) {
        columns_of(tables[t].table, 1, "", names, sizeof names);
        columns_of(tables[t].table, 1, ":", parameters, sizeof parameters);
        snprintf(text_of[tables[t].insert], sizeof text_of[0], "INSERT INTO %s (%s) VALUES (%s)", tables[t].table, names,
                 parameters);
        sql[tables[t].insert] = text_of[tables[t].insert];
    }
    columns_of("orders", 0, "", names, sizeof names);
    snprintf(text_of[ORDER_SELECT], sizeof text_of[0], "SELECT %s FROM orders WHERE id = ? AND account_id = ?", names);
    snprintf(text_of[SUB_ORDERS], sizeof text_of[0], "SELECT %s FROM orders WHERE combined_id = ? ORDER BY seq", names);
    columns_of("order_lines", 0, "", names, sizeof names);
    snprintf(text_of[LINES], sizeof text_of[0], "SELECT %s FROM order_lines WHERE order_id = ? ORDER BY line_no", names);
    columns_of("resources", 0, "", names, sizeof names);
    snprintf(text_of[RESOURCES], sizeof text_of[0], "SELECT %s FROM resources WHERE order_id = ? ORDER BY seq", names);
    for (int i = ORDER_SELECT; i < STATEMENTS; i++) sql[i] = text_of[i];
    for (int i = 0; i < STATEMENTS; i++) {
        bench_must(raw, sqlite3_prepare_v3(raw, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &statements[i], NULL), sql[i]);
    }
}

/* Runs a statement to its end, reading every column of every row as the library's decoders
   do; returns the first row's first column as an integer (0 when there is none). */
static int64_t run(sqlite3_stmt *statement) {
    int code, rows = 0;
    int64_t first = 0;
    while ((code = sqlite3_step(statement)) == SQLITE_ROW) {
        for (int c = 0, n = sqlite3_column_count(statement); c < n; c++) {
            if (sqlite3_column_type(statement, c) == SQLITE_TEXT) (void)sqlite3_column_text(statement, c);
            else if (rows == 0 && c == 0) first = sqlite3_column_int64(statement, c);
            else (void)sqlite3_column_int64(statement, c);
        }
        rows++;
    }
    bench_must(raw, code, sqlite3_sql(statement));
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    return first;
}

/* A read of one row as the library's `first`: one step (every column read), then reset;
   returns the first column as an integer. */
static int64_t first_int(sqlite3_stmt *statement) {
    int code = sqlite3_step(statement);
    int64_t value = 0;
    if (code == SQLITE_ROW) {
        for (int c = 0, n = sqlite3_column_count(statement); c < n; c++) {
            if (sqlite3_column_type(statement, c) == SQLITE_TEXT) (void)sqlite3_column_text(statement, c);
            else if (c == 0) value = sqlite3_column_int64(statement, c);
            else (void)sqlite3_column_int64(statement, c);
        }
    } else {
        bench_must(raw, code, sqlite3_sql(statement));
    }
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    return value;
}

static void first_by_id(int which, const char *id) {
    text(prepared(which), 1, id);
    first_int(prepared(which));
}

/* One text column of a query's first row, copied. */
static void first_text(sqlite3_stmt *statement, char *out, size_t size) {
    int code = sqlite3_step(statement);
    if (code != SQLITE_ROW) die("%s: no row", sqlite3_sql(statement));
    snprintf(out, size, "%s", (const char *)sqlite3_column_text(statement, 0));
    (void)sqlite3_column_int64(statement, 1);
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
}

static int64_t next_sequence(const char *name) {
    text(prepared(SEQUENCE_NEXT), 1, name);
    run(prepared(SEQUENCE_NEXT));
    text(prepared(SEQUENCE_GET), 1, name);
    return first_int(prepared(SEQUENCE_GET));
}

/* Binds the nine amount columns by name: a list price and what cash paid of it. */
static void amounts(sqlite3_stmt *statement, int64_t list_price, int64_t cash) {
    static const char *unpaid[] = {"commercial_discount", "promotion_discount", "discount_coupon", "voucher",
                                   "cash_coupon", "stored_value_card", "credit"};
    integer_as(statement, "list_price", list_price);
    for (size_t i = 0; i < sizeof unpaid / sizeof *unpaid; i++) integer_as(statement, unpaid[i], 0);
    integer_as(statement, "cash", cash);
}

/* What OrderStore.insert writes for a new order (the columns not named stay NULL). */
static void insert_order(const char *id, int64_t sequence, const char *combined, int is_combined, int product,
                         int64_t now, int64_t list_price) {
    sqlite3_stmt *s = prepared(ORDER_INSERT);
    text_as(s, "id", id);
    integer_as(s, "seq", sequence);
    text_as(s, "account_id", ACCOUNT);
    text_as(s, "combined_id", combined);
    integer_as(s, "is_combined", is_combined);
    text_as(s, "type", "NEW");
    text_as(s, "status", "PENDING_PAYMENT");
    text_as(s, "product_type", product_types[product]);
    text_as(s, "billing_mode", "PREPAID");
    text_as(s, "product_kind", "default");
    integer_as(s, "created_at", now);
    integer_as(s, "pay_deadline", now + 7 * 86400);
    integer_as(s, "review_required", 0);
    integer_as(s, "placed_by_manager", 0);
    amounts(s, list_price, 0);
    run(s);
}

/* What OrderStore.insertLine writes for a one-month line. */
static void insert_line(const char *order, int product, const char *snapshot) {
    sqlite3_stmt *s = prepared(LINE_INSERT);
    text_as(s, "order_id", order);
    integer_as(s, "line_no", 1);
    text_as(s, "product_id", product_ids[product]);
    text_as(s, "product_type", product_types[product]);
    text_as(s, "billing_mode", "PREPAID");
    text_as(s, "region", "cn-north-1");
    text_as(s, "period_unit", "MONTH");
    integer_as(s, "period_count", 1);
    integer_as(s, "quantity", 1);
    text_as(s, "product", snapshot);
    amounts(s, monthly_prices[product], 0);
    run(s);
}

static void event(const char *type, const char *subject, int64_t now, const char *data) {
    sqlite3_stmt *s = prepared(EVENT);
    text(s, 1, type);
    text(s, 2, ACCOUNT);
    text(s, 3, subject);
    integer(s, 4, now);
    text(s, 5, data);
    run(s);
}

/* AuditLog.append with row coverage (bench_coverage.h): the digests of every row the
   operation wrote, the scope's link, the audit row, row_digests. */
static void audit(const char *operation, const char *subject, int64_t now, const char *detail) {
    cover_audit_append(now, "bench", operation, ACCOUNT, subject, detail);
    cover_check_taken();
}

static void select_by_id(int which, const char *id) {
    text(prepared(which), 1, id);
    run(prepared(which));
}

static void select_order(const char *id) {
    text(prepared(ORDER_SELECT), 1, id);
    text(prepared(ORDER_SELECT), 2, ACCOUNT);
    first_int(prepared(ORDER_SELECT));
}

typedef char order_id[32];

/* The ids an order is made of: the root and, for a combined order, one sub-order per item;
   `members` are the orders holding lines (the root itself for a plain order). */
struct order {
    order_id root;
    int items;
    order_id subs[ITEMS_MAX];
    order_id resources[ITEMS_MAX];
};

static const char *member(const struct order *order, int i) { return order->items == 1 ? order->root : order->subs[i]; }

/* Reads an order back as Engine.orderDetail does: root, sub-orders, lines and resources of
   each member, and (once paid) what paid for each resource. */
static void read_detail(const struct order *order, int paid) {
    select_order(order->root);
    if (order->items > 1) select_by_id(SUB_ORDERS, order->root);
    for (int i = 0; i < order->items; i++) select_by_id(LINES, member(order, i));
    for (int i = 0; i < order->items; i++) {
        select_by_id(RESOURCES, member(order, i));
        if (paid) {
            text(prepared(FUNDING_SELECT), 1, order->resources[i]);
            text(prepared(FUNDING_SELECT), 2, member(order, i));
            run(prepared(FUNDING_SELECT));
        }
    }
}

static int64_t total_price(int items) {
    int64_t total = 0;
    for (int i = 0; i < items; i++) total += monthly_prices[i];
    return total;
}

static void format_id(order_id id, const char *prefix, int64_t sequence) {
    snprintf(id, sizeof(order_id), "%s%012" PRId64, prefix, sequence);
}

/* billing_order_create, as SQL. */
static void raw_create(struct order *order, int items) {
    static char snapshots[ITEMS_MAX][2048];
    char data[160];
    int64_t now = (int64_t)time(NULL), due = total_price(items);
    order->items = items;

    run(prepared(BEGIN));
    first_int(prepared(REVISION));
    first_by_id(ACCOUNT_SELECT, ACCOUNT);
    for (int i = 0; i < items; i++) first_by_id(PRODUCT, product_ids[i]); /* the billing modes agree */
    for (int i = 0; i < items; i++) {
        text(prepared(PRODUCT), 1, product_ids[i]);
        first_text(prepared(PRODUCT), snapshots[i], sizeof snapshots[i]);
        text(prepared(DISCOUNT), 1, ACCOUNT);
        text(prepared(DISCOUNT), 2, product_types[i]);
        first_int(prepared(DISCOUNT));
    }
    format_id(order->root, "CS", next_sequence("order"));
    if (items == 1) {
        insert_order(order->root, strtoll(order->root + 2, NULL, 10), NULL, 0, 0, now, due);
        insert_line(order->root, 0, snapshots[0]);
    } else {
        insert_order(order->root, strtoll(order->root + 2, NULL, 10), NULL, 1, 0, now, due);
        for (int i = 0; i < items; i++) {
            int64_t sequence = next_sequence("order");
            format_id(order->subs[i], "CS", sequence);
            insert_order(order->subs[i], sequence, order->root, 0, i, now, monthly_prices[i]);
            insert_line(order->subs[i], i, snapshots[i]);
        }
    }
    snprintf(data, sizeof data, "{\"amount_due_fen\":%" PRId64 ",\"status\":\"PENDING_PAYMENT\"}", due);
    event("order.created", order->root, now, data);
    /* The library answers from what it wrote: it no longer reads the order back here. */
    snprintf(data, sizeof data, "{\"amount_due_fen\":%" PRId64 ",\"items\":%d,\"status\":\"PENDING_PAYMENT\"}", due, items);
    audit("order.create", order->root, now, data);
    run(prepared(COMMIT));
}

static void update_order(const char *id, int64_t now, int64_t list_price) {
    first_by_id(STATUS, id);
    sqlite3_stmt *s = prepared(ORDER_UPDATE);
    text_as(s, "status", "PROCESSING");
    integer_as(s, "pay_deadline", now + 7 * 86400);
    integer_as(s, "paid_at", now);
    amounts(s, list_price, list_price); /* completed_at, cancelled_at, cancel_reason stay NULL */
    text_as(s, "id", id);
    run(s);
}

static void paid_amounts(char *out, size_t size, int64_t amount) {
    snprintf(out, size,
             "{\"amount_due_fen\":%" PRId64 ",\"cash_coupon_fen\":0,\"cash_fen\":%" PRId64 ",\"commercial_discount_fen\":0,"
             "\"credit_fen\":0,\"discount_coupon_fen\":0,\"discount_fen\":0,\"list_price_fen\":%" PRId64 ","
             "\"paid_amount_fen\":%" PRId64 ",\"promotion_discount_fen\":0,\"stored_value_card_fen\":0,\"voucher_fen\":0}",
             amount, amount, amount, amount);
}

/* billing_order_pay, as SQL. */
static void raw_pay(struct order *order) {
    char data[512], json[400];
    int64_t now = (int64_t)time(NULL), due = total_price(order->items);

    run(prepared(BEGIN));
    first_int(prepared(REVISION));
    select_order(order->root);
    /* planPayment: the account, the members, their lines. */
    first_by_id(ACCOUNT_SELECT, ACCOUNT);
    if (order->items > 1) select_by_id(SUB_ORDERS, order->root);
    for (int i = 0; i < order->items; i++) select_by_id(LINES, member(order, i));
    /* applyPayment: line and order amounts, cash out of the balance with its ledger row. */
    for (int i = 0; i < order->items; i++) {
        sqlite3_stmt *s = prepared(LINE_UPDATE);
        amounts(s, monthly_prices[i], monthly_prices[i]);
        text_as(s, "order_id", member(order, i));
        integer_as(s, "line_no", 1);
        run(s);
    }
    for (int i = 0; i < order->items; i++) {
        int64_t price = order->items == 1 ? due : monthly_prices[i];
        update_order(member(order, i), now, price);
        text(prepared(CASH_SELECT), 1, ACCOUNT);
        int64_t balance = first_int(prepared(CASH_SELECT)) - price;
        sqlite3_stmt *s = prepared(CASH_UPDATE);
        integer(s, 1, balance);
        integer(s, 2, now);
        text(s, 3, ACCOUNT);
        run(s);
        s = prepared(LEDGER);
        text(s, 1, ACCOUNT);
        text(s, 2, "CASH");
        text(s, 3, "PAYMENT");
        integer(s, 4, -price);
        integer(s, 5, balance);
        null(s, 6);
        text(s, 7, member(order, i));
        integer(s, 8, now);
        run(s);
    }
    if (order->items > 1) update_order(order->root, now, due);
    paid_amounts(json, sizeof json, due);
    snprintf(data, sizeof data, "{\"amounts\":%s}", json);
    event("order.paid", order->root, now, data);
    /* createResources: one resource per line, its event and what paid for it (the lines and
       members read above: the library no longer reads them again here). */
    for (int i = 0; i < order->items; i++) {
        const char *owner = member(order, i);
        int64_t sequence = next_sequence("resource");
        format_id(order->resources[i], "RS", sequence);
        sqlite3_stmt *s = prepared(RESOURCE_INSERT); /* what ResourceStore.insert writes for it */
        integer_as(s, "seq", sequence);
        text_as(s, "id", order->resources[i]);
        text_as(s, "account_id", ACCOUNT);
        text_as(s, "order_id", owner);
        integer_as(s, "line_no", 1);
        text_as(s, "product_id", product_ids[i]);
        text_as(s, "product_type", product_types[i]);
        text_as(s, "billing_mode", "PREPAID");
        text_as(s, "region", "cn-north-1");
        text_as(s, "status", "PENDING_PROVISION");
        text_as(s, "period_unit", "MONTH");
        integer_as(s, "period_count", 1);
        integer_as(s, "created_at", now);
        text_as(s, "expiry_policy", "MANUAL");
        run(s);
        snprintf(data, sizeof data, "{\"order_id\":\"%s\",\"primary_resource_id\":null,\"product_id\":\"%s\"}", owner,
                 product_ids[i]);
        event("resource.created", order->resources[i], now, data);
        s = prepared(FUNDING);
        text(s, 1, order->resources[i]);
        text(s, 2, owner);
        text(s, 3, "CASH");
        text(s, 4, "");
        integer(s, 5, monthly_prices[i]);
        run(s);
    }
    /* No read-back of the order, its resources and their funding: the library answers from
       what it wrote. */
    audit("order.pay", order->root, now, "{\"coupon_ids\":[]}");
    run(prepared(COMMIT));
}

/* The raw file holds what the library's holds, but for the timestamps: the same audit rows
   (operation, account, subject, detail), events (type, subject, data), orders, lines,
   resources (but the times), ledger rows and funding. Dies naming the first table that
   differs. */
static void same_as_library(const char *path, const char *library_path) {
    sqlite3 *db = bench_sqlite_open(path, "NORMAL");
    char attach[PATH_MAX + 64];
    snprintf(attach, sizeof attach, "ATTACH DATABASE '%s' AS lib", library_path);
    bench_exec(db, attach);
    /* The setup's events carry the times the account was made at: only the purchases' rows. */
    static const struct { const char *name, *columns; } tables[] = {
        {"audit_log", "id, actor, operation, account_id, subject_id, detail, scope FROM %s.audit_log WHERE operation LIKE 'order.%%'"},
        {"events", "seq, type, account_id, subject_id, data, position FROM %s.events WHERE type LIKE 'order.%%' OR type LIKE 'resource.%%'"},
        {"orders", "id, seq, account_id, combined_id, is_combined, type, status, product_type, billing_mode, list_price, cash"},
        {"order_lines", "order_id, line_no, product_id, product, list_price, cash, resource_id"},
        {"resources", "id, seq, account_id, order_id, line_no, product_id, status, period_unit, period_count, expiry_policy"},
        {"ledger", "id, account_id, fund, kind, amount, balance_after, order_id"},
        {"resource_funding", "*"},
        {"id_sequences", "*"},
    };
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++) {
        /* "SELECT <columns> FROM main.<table>" and the same of lib, or the entry's own FROM. */
        char main_side[512], lib_side[512], query[2600];
        if (strstr(tables[t].columns, " FROM ")) {
            snprintf(main_side, sizeof main_side, tables[t].columns, "main");
            snprintf(lib_side, sizeof lib_side, tables[t].columns, "lib");
        } else {
            snprintf(main_side, sizeof main_side, "%s FROM main.%s", tables[t].columns, tables[t].name);
            snprintf(lib_side, sizeof lib_side, "%s FROM lib.%s", tables[t].columns, tables[t].name);
        }
        snprintf(query, sizeof query,
                 "SELECT (SELECT count(*) FROM (SELECT %s EXCEPT SELECT %s)) + (SELECT count(*) FROM (SELECT %s EXCEPT SELECT %s))",
                 main_side, lib_side, lib_side, main_side);
        int64_t differing = bench_query_int(db, query);
        if (differing) {
            snprintf(query, sizeof query, "SELECT 'raw', * FROM (SELECT %s EXCEPT SELECT %s)"
                     " UNION ALL SELECT 'library', * FROM (SELECT %s EXCEPT SELECT %s) LIMIT 4",
                     main_side, lib_side, lib_side, main_side);
            sqlite3_stmt *rows;
            bench_must(db, sqlite3_prepare_v2(db, query, -1, &rows, NULL), query);
            while (sqlite3_step(rows) == SQLITE_ROW) {
                fprintf(stderr, "  ");
                for (int c = 0; c < sqlite3_column_count(rows); c++) fprintf(stderr, "%s|", (const char *)sqlite3_column_text(rows, c));
                fprintf(stderr, "\n");
            }
            sqlite3_finalize(rows);
            die("raw file: %" PRId64 " rows of %s differ from the library's file", differing, tables[t].name);
        }
    }
    sqlite3_close(db);
}

/* The raw file made by the library (account, products), opened with the statements prepared. */
static void raw_buys_open(const char *path, const char *synchronous) {
    billing_engine_close(make_file(path, NULL));
    raw = bench_sqlite_open(path, synchronous);
    cover_install(raw);
    prepare_statements();
}

/* N buys of `items` items on the open raw file; `order` is the last one's. */
static double raw_buys(struct order *order, int items, int n) {
    double start = support_seconds();
    for (int i = 0; i < n; i++) {
        raw_create(order, items);
        raw_pay(order);
    }
    return support_seconds() - start;
}

/* Closes the raw file after `n` buys, `order` the last, and checks it through the library. */
static void raw_buys_check(const char *path, const char *library_path, const struct order *last, int items, int n) {
    struct order order = *last;
    for (int i = 0; i < STATEMENTS; i++) sqlite3_finalize(statements[i]);
    cover_close();
    sqlite3_close(raw);
    raw = NULL;
    same_as_library(path, library_path);

    /* The library reads what the raw writes made: the last order, paid, and the balance. */
    billing_engine *engine = NULL;
    char request[256], *response = NULL;
    if (billing_engine_open(path, NULL, &engine) != BILLING_OK) die_billing("billing_engine_open (raw file)");
    snprintf(request, sizeof request, "{\"account_id\": \"" ACCOUNT "\", \"order_id\": \"%s\"}", order.root);
    if (billing_order_get(engine, request, &response) != BILLING_OK) die_billing("billing_order_get (raw file)");
    int resources = 0;
    for (const char *at = strstr(response, "\"PENDING_PROVISION\""); at; at = strstr(at + 1, "\"PENDING_PROVISION\"")) resources++;
    if (!strstr(response, "\"status\":\"PROCESSING\"") || resources != items) die("raw order reads back wrong: %.300s", response);
    billing_string_free(response);
    if (billing_account_get(engine, "{\"account_id\": \"" ACCOUNT "\"}", &response) != BILLING_OK) die_billing("billing_account_get");
    char expected[64];
    snprintf(expected, sizeof expected, "\"cash_balance_fen\":%" PRId64 ",", initial_cash - (int64_t)n * total_price(items));
    if (!strstr(response, expected)) die("raw balance reads back wrong: %.300s", response);
    billing_string_free(response);
    /* and finds the raw file consistent: rows, digests, audit chain. */
    if (billing_verify(engine, NULL, &response) != BILLING_OK) die_billing("billing_verify (raw file)");
    if (!strstr(response, "\"ok\":true")) die("billing_verify on the raw file: %.600s", response);
    billing_string_free(response);
    billing_engine_close(engine);
}

/* bench_alternate's sides of (a), (b). */
struct buy_sides { billing_engine *engine; int items; struct order last; };
static double library_buy_side(void *state, int64_t from, int64_t count) {
    struct buy_sides *sides = state;
    (void)from;
    return library_buys(sides->engine, sides->items, (int)count);
}
static double raw_buy_side(void *state, int64_t from, int64_t count) {
    struct buy_sides *sides = state;
    (void)from;
    return raw_buys(&sides->last, sides->items, (int)count);
}

/* ---- (c) the order list ---------------------------------------------------------------- */

#define LIST_START 1704076200

static double build_list(const char *path, int n, billing_engine **out) {
    char options[96], create[512], *response = NULL;
    snprintf(options, sizeof options, "{\"synchronous\": \"NORMAL\", \"clock\": \"manual\", \"now\": %d}", LIST_START);
    billing_engine *engine = make_file(path, options);
    create_request(create, sizeof create, 1);
    double start = support_seconds();
    for (int i = 0; i < n; i++) {
        if (billing_order_create(engine, create, &response) != BILLING_OK) die_billing("billing_order_create");
        billing_string_free(response);
        if (billing_clock_advance(engine, 30, NULL) != BILLING_OK) die_billing("billing_clock_advance");
    }
    *out = engine;
    return support_seconds() - start;
}

/* The first order id of a library page. */
static void first_listed(const char *page, char *id, size_t size) { bench_json_string(page, "order_id", id, size); }

static double library_list(billing_engine *engine, const char *cursor, int reads, char *first, size_t size) {
    char request[160], *response = NULL;
    if (cursor) snprintf(request, sizeof request, "{\"account_id\": \"" ACCOUNT "\", \"limit\": 20, \"after\": \"%s\"}", cursor);
    else snprintf(request, sizeof request, "{\"account_id\": \"" ACCOUNT "\", \"limit\": 20}");
    double start = support_seconds();
    for (int i = 0; i < reads; i++) {
        if (billing_orders_list(engine, request, &response) != BILLING_OK) die_billing("billing_orders_list");
        if (i == 0) first_listed(response, first, size);
        billing_string_free(response);
    }
    return support_seconds() - start;
}

/* The page as the library reads it (OrderStore.pageRows): the listed orders' whole rows and
 * their seq in one statement, 21 rows for 20 and the next cursor. The column list comes from
 * the schema (`list_statements`). */
static char list_first_sql[2600], list_after_sql[2700];

static void list_statements(void) {
    char columns[2048];
    columns_of("orders", 0, "", columns, sizeof columns);
    snprintf(list_first_sql, sizeof list_first_sql,
             "SELECT %s, seq FROM orders WHERE account_id = ? AND is_combined = 0"
             " ORDER BY created_at DESC, seq DESC LIMIT ?", columns);
    snprintf(list_after_sql, sizeof list_after_sql,
             "SELECT %s, seq FROM orders WHERE account_id = ? AND is_combined = 0 AND (created_at, seq) < (?, ?)"
             " ORDER BY created_at DESC, seq DESC LIMIT ?", columns);
}

/* Reads every column of a page row as its stored type, as a caller writing it out would. */
static void read_row(sqlite3_stmt *statement) {
    for (int c = 0, n = sqlite3_column_count(statement); c < n; c++) {
        if (sqlite3_column_type(statement, c) == SQLITE_INTEGER) (void)sqlite3_column_int64(statement, c);
        else (void)sqlite3_column_text(statement, c);
    }
}

/* The raw side's connection and statements for (c), open from raw_list_open to raw_list_close
   as the library's engine is: opening them again for each round of bench_alternate would
   start each round with an empty page cache the library's side never has. */
static struct { sqlite3_stmt *begin, *commit, *revision, *first, *after; } list_raw;

static void raw_list_open(const char *path) {
    sqlite3 *db = raw = bench_sqlite_open(path, "NORMAL");
    list_statements();
    bench_must(db, sqlite3_prepare_v3(db, "BEGIN", -1, SQLITE_PREPARE_PERSISTENT, &list_raw.begin, NULL), "BEGIN");
    bench_must(db, sqlite3_prepare_v3(db, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &list_raw.commit, NULL), "COMMIT");
    bench_must(db, sqlite3_prepare_v3(db, fixed_sql[REVISION], -1, SQLITE_PREPARE_PERSISTENT, &list_raw.revision, NULL), "revision");
    bench_must(db, sqlite3_prepare_v3(db, list_first_sql, -1, SQLITE_PREPARE_PERSISTENT, &list_raw.first, NULL), list_first_sql);
    bench_must(db, sqlite3_prepare_v3(db, list_after_sql, -1, SQLITE_PREPARE_PERSISTENT, &list_raw.after, NULL), list_after_sql);
}

/* Prints how SQLite runs the deep page, for the record, and closes the raw side of (c). */
static void raw_list_close(void) {
    char plan[2800];
    snprintf(plan, sizeof plan, "EXPLAIN QUERY PLAN %s", list_after_sql);
    sqlite3_stmt *explain;
    bench_must(raw, sqlite3_prepare_v2(raw, plan, -1, &explain, NULL), plan);
    printf("  deep-page plan:");
    while (sqlite3_step(explain) == SQLITE_ROW) printf(" [%s]", (const char *)sqlite3_column_text(explain, 3));
    printf("\n");
    sqlite3_finalize(explain);
    sqlite3_finalize(list_raw.begin);
    sqlite3_finalize(list_raw.commit);
    sqlite3_finalize(list_raw.revision);
    sqlite3_finalize(list_raw.first);
    sqlite3_finalize(list_raw.after);
    sqlite3_close(raw);
    raw = NULL;
}

/* `reads` raw pages (the first, or after `cursor`) on the open raw side of (c). */
static double raw_list(const char *cursor, int reads, char *first, size_t size) {
    sqlite3 *db = raw;
    sqlite3_stmt *begin = list_raw.begin, *commit = list_raw.commit, *revision = list_raw.revision;
    sqlite3_stmt *page = cursor ? list_raw.after : list_raw.first;
    const char *list_sql = cursor ? list_after_sql : list_first_sql;
    int64_t created = 0, sequence = 0;
    if (cursor && sscanf(cursor, "%" SCNd64 ":%" SCNd64, &created, &sequence) != 2) die("bad cursor %s", cursor);

    double start = support_seconds();
    for (int i = 0; i < reads; i++) {
        int found = 0, code;
        run(begin);
        run(revision);
        text(page, 1, ACCOUNT);
        if (cursor) {
            integer(page, 2, created);
            integer(page, 3, sequence);
            integer(page, 4, 21);
        } else {
            integer(page, 2, 21);
        }
        while ((code = sqlite3_step(page)) == SQLITE_ROW) {
            if (i == 0 && found == 0) snprintf(first, size, "%s", (const char *)sqlite3_column_text(page, 0));
            read_row(page);
            found++;
        }
        bench_must(db, code, list_sql);
        sqlite3_reset(page);
        run(commit);
        if (i == 0 && found != 21) die("raw page holds %d rows", found);
    }
    return support_seconds() - start;
}

/* bench_alternate's sides of (c): the page after `cursor` (NULL: the first page). */
enum { FIRST_ID = 32 }; /* room for the first listed order's id */
struct list_sides { billing_engine *engine; const char *cursor; char *library_first, *raw_first; };
static double library_list_side(void *state, int64_t from, int64_t count) {
    struct list_sides *sides = state;
    (void)from;
    return library_list(sides->engine, sides->cursor, (int)count, sides->library_first, FIRST_ID);
}
static double raw_list_side(void *state, int64_t from, int64_t count) {
    struct list_sides *sides = state;
    (void)from;
    return raw_list(sides->cursor, (int)count, sides->raw_first, FIRST_ID);
}

/* The next_cursor after `pages` pages of 20. */
static void deep_cursor(billing_engine *engine, int pages, char *cursor, size_t size) {
    char request[160], *response = NULL;
    cursor[0] = '\0';
    for (int i = 0; i < pages; i++) {
        if (cursor[0]) snprintf(request, sizeof request, "{\"account_id\": \"" ACCOUNT "\", \"limit\": 20, \"after\": \"%s\"}", cursor);
        else snprintf(request, sizeof request, "{\"account_id\": \"" ACCOUNT "\", \"limit\": 20}");
        if (billing_orders_list(engine, request, &response) != BILLING_OK) die_billing("billing_orders_list");
        bench_json_string(response, "next_cursor", cursor, size);
        billing_string_free(response);
    }
}

/* ---- (d) a mixed read-heavy load from several processes -------------------------------- */

enum { MIX_LIST, MIX_DETAIL, MIX_QUOTE, MIX_BUY };

/* The request kind of a worker's i-th request: in every 20, 10 lists, 6 details, 3 quotes, 1 buy. */
static int mix_kind(int i) {
    int slot = i % 20;
    return slot < 10 ? MIX_LIST : slot < 16 ? MIX_DETAIL : slot < 19 ? MIX_QUOTE : MIX_BUY;
}

/* A small per-worker generator for the order an order detail reads (no shared state). */
static uint64_t mix_next(uint64_t *state) {
    *state = *state * 6364136223846793005u + 1442695040888963407u;
    return *state >> 33;
}

static void library_worker(const char *path, int worker, int ops, int orders) {
    billing_engine *engine = bench_engine_open(path, "{\"synchronous\": \"NORMAL\"}");
    char request[512], create[512], pay[256], id[32];
    const char *list = "{\"account_id\": \"" ACCOUNT "\", \"limit\": 20}";
    const char *quote = "{\"account_id\": \"" ACCOUNT "\", \"items\": [{\"product_id\": \"ecs.c1\","
                        " \"period\": {\"unit\": \"MONTH\", \"count\": 1}}]}";
    create_request(create, sizeof create, 1);
    uint64_t state = (uint64_t)worker + 1;
    for (int i = 0; i < ops; i++) {
        char *response = NULL;
        switch (mix_kind(i)) {
        case MIX_LIST: bench_call_free(engine, billing_orders_list, list, "billing_orders_list"); break;
        case MIX_DETAIL:
            snprintf(request, sizeof request, "{\"account_id\": \"" ACCOUNT "\", \"order_id\": \"CS%012" PRIu64 "\"}",
                     1 + mix_next(&state) % (uint64_t)orders);
            bench_call_free(engine, billing_order_get, request, "billing_order_get");
            break;
        case MIX_QUOTE: bench_call_free(engine, billing_order_quote, quote, "billing_order_quote"); break;
        default:
            response = bench_call(engine, billing_order_create, create, "billing_order_create");
            root_order_id(response, id, sizeof id);
            billing_string_free(response);
            snprintf(pay, sizeof pay, "{\"actor\": \"bench\", \"account_id\": \"" ACCOUNT "\", \"order_id\": \"%s\"}", id);
            bench_call_free(engine, billing_order_pay, pay, "billing_order_pay");
        }
    }
    billing_engine_close(engine);
}

static void raw_worker(const char *path, int worker, int ops, int orders) {
    raw = bench_sqlite_open(path, "NORMAL");
    cover_install(raw);
    prepare_statements();
    sqlite3_stmt *page;
    list_statements();
    bench_must(raw, sqlite3_prepare_v3(raw, list_first_sql, -1, SQLITE_PREPARE_PERSISTENT, &page, NULL), list_first_sql);
    uint64_t state = (uint64_t)worker + 1;
    struct order order;
    for (int i = 0; i < ops; i++) {
        switch (mix_kind(i)) {
        case MIX_LIST: {
            int code;
            run(prepared(BEGIN));
            run(prepared(REVISION));
            text(page, 1, ACCOUNT);
            integer(page, 2, 21);
            while ((code = sqlite3_step(page)) == SQLITE_ROW) read_row(page);
            bench_must(raw, code, list_first_sql);
            sqlite3_reset(page);
            run(prepared(COMMIT));
            break;
        }
        case MIX_DETAIL:
            order.items = 1;
            format_id(order.root, "CS", (int64_t)(1 + mix_next(&state) % (uint64_t)orders));
            run(prepared(BEGIN));
            run(prepared(REVISION));
            read_detail(&order, 0);
            run(prepared(COMMIT));
            break;
        case MIX_QUOTE: /* OrderService.quote: the account, the product (twice: modes, then pricing), the discount */
            run(prepared(BEGIN));
            run(prepared(REVISION));
            select_by_id(ACCOUNT_SELECT, ACCOUNT);
            select_by_id(PRODUCT, product_ids[0]);
            select_by_id(PRODUCT, product_ids[0]);
            text(prepared(DISCOUNT), 1, ACCOUNT);
            text(prepared(DISCOUNT), 2, product_types[0]);
            run(prepared(DISCOUNT));
            run(prepared(COMMIT));
            break;
        default:
            raw_create(&order, 1);
            raw_pay(&order);
        }
    }
    sqlite3_finalize(page);
    for (int i = 0; i < STATEMENTS; i++) sqlite3_finalize(statements[i]);
    cover_close();
    sqlite3_close(raw);
    raw = NULL;
}

/* Forks `processes` workers that open their engine or connection, wait for a common start,
   run `ops` requests each and exit; returns the wall time from the start to the last exit. */
static double mixed_load(const char *path, int library, int processes, int ops, int orders) {
    int ready[2], go[2];
    if (pipe(ready) != 0 || pipe(go) != 0) die("pipe failed");
    fflush(stdout);
    pid_t children[64];
    for (int p = 0; p < processes; p++) {
        children[p] = fork();
        if (children[p] < 0) die("fork failed");
        if (children[p] == 0) {
            close(ready[0]);
            close(go[1]);
            char byte = 1;
            /* Opening is not measured: a web worker opens once and serves many requests. */
            if (library) {
                billing_engine_close(bench_engine_open(path, "{\"synchronous\": \"NORMAL\"}"));
            }
            if (write(ready[1], &byte, 1) != 1 || read(go[0], &byte, 1) != 0) _exit(2);
            if (library) library_worker(path, p, ops, orders);
            else raw_worker(path, p, ops, orders);
            _exit(0);
        }
    }
    close(ready[1]);
    close(go[0]);
    for (int p = 0; p < processes; p++) {
        char byte;
        if (read(ready[0], &byte, 1) != 1) die("a worker died before the start");
    }
    double start = support_seconds();
    close(go[1]); /* end of file: every worker starts */
    int failed = 0;
    for (int p = 0; p < processes; p++) {
        int status = 0;
        if (waitpid(children[p], &status, 0) != children[p] || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed++;
    }
    double elapsed = support_seconds() - start;
    close(ready[0]);
    if (failed) die("%d of %d %s workers failed", failed, processes, library ? "library" : "raw");
    return elapsed;
}

/* ---- Report ------------------------------------------------------------------------------ */

static const struct bench_column columns[] = {
    {"scenario", 34, BENCH_TEXT, 0},  {"N", 6, BENCH_COUNT, 0},         {"library ops/s", 13, BENCH_REAL, 0},
    {"library us/op", 13, BENCH_REAL, 1}, {"raw ops/s", 9, BENCH_REAL, 0}, {"raw us/op", 9, BENCH_REAL, 1},
    {"library/raw", 21, BENCH_RATIO, 0},
};

static void row(const char *scenario, int n, double library_seconds, double raw_seconds) {
    bench_compare_row(columns, scenario, n, library_seconds, raw_seconds, 1e6);
}

int main(int argc, char **argv) {
    int full = bench_count(argc, argv, 1, 500), normal = bench_count(argc, argv, 2, 2000);
    int list_orders = bench_count(argc, argv, 3, 20000), list_reads = bench_count(argc, argv, 4, 2000);
    int mixed_ops = bench_count(argc, argv, 5, 2000), processes = bench_count(argc, argv, 6, 4);
    if (processes > 64) die("PROCESSES must be at most 64");
    if (list_orders < 2100) die("LIST_ORDERS must be at least 2100 (a deep page after 100 pages of 20)");
    bench_make_directory();
    char library_path[PATH_MAX], raw_path[PATH_MAX], list_path[PATH_MAX];
    bench_file(list_path, sizeof list_path, "list");

    printf("libbilling %s, SQLite %s, files in %s\n", billing_version(), sqlite3_libversion(), bench_directory);
    printf("buy = billing_order_create + billing_order_pay (one month, paid from cash); one op = one order bought\n\n");
    bench_table_header(columns, sizeof columns / sizeof *columns);

    static const struct {
        const char *label;
        const char *synchronous;
        int items;
        const char *summary;
    } buys[] = {
        {"(a) buy 1 item, sync=FULL", "FULL", 1, "create + pay, one item, FULL"},
        {"(a) buy 1 item, sync=NORMAL", "NORMAL", 1, "create + pay, one item, NORMAL"},
        {"(b) buy combined 3 items, FULL", "FULL", 3, "create + pay, combined 3 items, FULL"},
        {"(b) buy combined 3 items, NORMAL", "NORMAL", 3, "create + pay, combined 3 items, NORMAL"},
    };
    for (size_t i = 0; i < sizeof buys / sizeof *buys; i++) {
        int full_sync = strcmp(buys[i].synchronous, "FULL") == 0, n = full_sync ? full : normal;
        bench_file(library_path, sizeof library_path, full_sync ? "lib-FULL" : "lib-NORMAL");
        bench_file(raw_path, sizeof raw_path, full_sync ? "raw-FULL" : "raw-NORMAL");
        support_remove_database(library_path); /* (b) starts afresh where (a) left its files */
        support_remove_database(raw_path);
        /* Library, raw, raw, library in rounds of a twentieth of the buys (bench_alternate),
           both files open throughout. */
        char options[64];
        snprintf(options, sizeof options, "{\"synchronous\": \"%s\"}", buys[i].synchronous);
        billing_engine *engine = make_file(library_path, options);
        raw_buys_open(raw_path, buys[i].synchronous);
        struct buy_sides sides = {.engine = engine, .items = buys[i].items};
        double library_seconds, raw_seconds;
        bench_alternate(n, bench_round(n), 1, library_buy_side, &sides, raw_buy_side, &sides, &library_seconds, &raw_seconds);
        struct order last = sides.last;
        billing_engine_close(engine);
        raw_buys_check(raw_path, library_path, &last, buys[i].items, n);
        row(buys[i].label, n, library_seconds, raw_seconds);
        bench_summary_times(buys[i].summary, n, library_seconds, raw_seconds);
    }

    /* (c): N orders through the library, then the same reads both ways on that file. */
    billing_engine *engine = NULL;
    double build = build_list(list_path, list_orders, &engine);
    char cursor[64], library_first[FIRST_ID], raw_first[FIRST_ID], scenario[64], summary[96], count[32];
    bench_thousands(list_orders, count, sizeof count);
    deep_cursor(engine, 100, cursor, sizeof cursor);

    struct list_sides sides = {engine, NULL, library_first, raw_first};
    double library_seconds, raw_seconds;
    raw_list_open(list_path);
    bench_alternate(list_reads, bench_round(list_reads), 1, library_list_side, &sides, raw_list_side, &sides, &library_seconds,
                    &raw_seconds);
    if (strcmp(library_first, raw_first) != 0) die("first pages differ: %s vs %s", library_first, raw_first);
    snprintf(scenario, sizeof scenario, "(c) list first page, N=%d", list_orders);
    row(scenario, list_reads, library_seconds, raw_seconds);
    snprintf(summary, sizeof summary, "order list, first page (%s orders)", count);
    bench_summary_times(summary, list_reads, library_seconds, raw_seconds);

    sides.cursor = cursor;
    bench_alternate(list_reads, bench_round(list_reads), 1, library_list_side, &sides, raw_list_side, &sides, &library_seconds,
                    &raw_seconds);
    raw_list_close();
    if (strcmp(library_first, raw_first) != 0) die("deep pages differ: %s vs %s", library_first, raw_first);
    snprintf(scenario, sizeof scenario, "(c) list page 101, N=%d", list_orders);
    row(scenario, list_reads, library_seconds, raw_seconds);
    snprintf(summary, sizeof summary, "order list, page 101 (%s orders)", count);
    bench_summary_times(summary, list_reads, library_seconds, raw_seconds);
    billing_engine_close(engine);

    /* (d) on the same file: the library's workers first, then the raw ones (each side's few
       purchases add orders the other's lists and details do not read). */
    library_seconds = mixed_load(list_path, 1, processes, mixed_ops, list_orders);
    raw_seconds = mixed_load(list_path, 0, processes, mixed_ops, list_orders);
    snprintf(scenario, sizeof scenario, "(d) mixed, %d processes", processes);
    row(scenario, processes * mixed_ops, library_seconds, raw_seconds);
    snprintf(summary, sizeof summary, "mixed read-heavy portal load, %d processes", processes);
    bench_summary_times(summary, (int64_t)processes * mixed_ops, library_seconds, raw_seconds);

    printf("\n(c) setup: %d orders created through billing_order_create (synchronous=NORMAL) in %.1f s, %.0f orders/s;"
           " deep page = after cursor %s (100 pages of 20)\n", list_orders, build, list_orders / build, cursor);
    bench_cleanup();
    return 0;
}
