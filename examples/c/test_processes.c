/*
 * test_processes.c — several processes on one database file.
 *
 * Racing first open: four children, released at the same instant, open a file that does
 * not exist yet, so they race to create it, migrate it and switch it to WAL; every open
 * must succeed (the busy timeout covers the wait). Repeated, because the window is small.
 *
 * Concurrent writers: four children each open their own engine on one file and write 50
 * configuration changes under their own idempotency keys. The parent then reopens the file
 * and finds every event exactly once, with sequence numbers 1, 2, … and no gap, and
 * idempotency keys shared across processes.
 *
 * Concurrent schedulers: a file holds 20 monthly resources bought over ten days, every other
 * one on AUTO_RENEW with enough cash. Four children open it on manual clocks and, released
 * together by a process-shared barrier, run billing_scheduler_run at the same instants (three
 * a day, some with a small "limit" so that batches interleave) for 60 simulated days. Every
 * reminder, auto-renewal, expiry, freeze and release must happen exactly once per resource
 * and cycle, at the instant it fell due, the children's counts must add up to the events,
 * and billing_verify must be ok.
 *
 * Concurrent unsubscriptions: the children unsubscribe the same resource at the same moment;
 * exactly one succeeds, the others are refused as not refundable, and the money comes back
 * once. With a shared idempotency key they all get the first response.
 *
 *   usage: test_processes SCRATCH_DIRECTORY
 */
#define _POSIX_C_SOURCE 200809L /* fork, pipe, waitpid, pthread barriers */
#define _DEFAULT_SOURCE         /* MAP_ANONYMOUS */

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

enum { CHILDREN = 4, WRITES = 50, TOTAL = CHILDREN * WRITES, RACE_ROUNDS = 100 };

static char path[PATH_MAX];

static const char *scratch; /* argv[1] */

/* Removes the database so that the next open creates it anew: the file, or on PostgreSQL
   (where nothing is removed) a fresh schema named in `path` from now on. */
static void remove_database(void) {
    support_remove_database(path);
    if (support_database_url()) support_database(path, sizeof path, scratch, "test_processes");
}

/* The value a child's write sets: one no other write uses, so every write is a change. */
static int write_value(int child, int write) { return 1000000 + child * 1000 + write; }

/* The request of a child's write; the parent rebuilds it to replay it. */
static void write_request(char *request, size_t size, int child, int write) {
    snprintf(request, size,
             "{\"actor\": \"process-%d\", \"idempotency_key\": \"process-%d-write-%d\","
             " \"changes\": {\"large_refund_threshold_fen\": %d}}",
             child, child, write, write_value(child, write));
}

/* Blocks until the parent closes the pipe, so that all children start together. */
static void wait_for_start(int start) {
    char byte;
    if (read(start, &byte, 1) < 0) perror("read");
    close(start);
}

/* Forks CHILDREN children that wait for the start and then run `body`, whose result is the
   child's exit status; starts them all at once and returns how many did not exit with 0. */
static int run_children(int (*body)(int child)) {
    int start[2], failed = 0, forked = 0;
    pid_t children[CHILDREN];
    if (!CHECK(pipe(start) == 0)) return CHILDREN;
    fflush(stdout); /* or the children would print the parent's buffered output again */
    for (int child = 0; child < CHILDREN; child++) {
        children[child] = fork();
        if (children[child] == 0) {
            close(start[1]);
            wait_for_start(start[0]);
            int status = body(child);
            fflush(stdout);
            _exit(status > 100 ? 100 : status); /* no atexit handlers of the parent's copy */
        }
        if (children[child] < 0) {
            perror("fork");
            break;
        }
        forked++;
    }
    close(start[0]);
    close(start[1]); /* go */
    for (int child = 0; child < forked; child++) {
        int status = 0;
        if (waitpid(children[child], &status, 0) != children[child] || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0) {
            failed++;
            if (WIFSIGNALED(status)) printf("     child %d killed by signal %d\n", child, WTERMSIG(status));
        }
    }
    return failed + (CHILDREN - forked);
}

static int open_fresh_file(int child) {
    billing_engine *engine = NULL;
    int status = billing_engine_open(path, NULL, &engine);
    if (status != BILLING_OK) {
        printf("     child %d: billing_engine_open: %d %s: %s\n", child, status, billing_last_error_reason(),
               billing_last_error_message());
    }
    billing_engine_close(engine);
    return status != BILLING_OK;
}

static void test_racing_first_open(void) {
    int failed = 0;
    for (int round = 0; round < RACE_ROUNDS; round++) {
        remove_database();
        failed += run_children(open_fresh_file);
    }
    char detail[96];
    snprintf(detail, sizeof detail, "%d of %d concurrent first opens failed", failed, RACE_ROUNDS * CHILDREN);
    check_result(failed == 0, __FILE__, __LINE__, "racing first opens of a new file all succeed", detail);
}

/* One writer's work; returns the number of checks that failed in this child (the counters
   it inherited from the parent are not its own). */
static int write_changes(int child) {
    int inherited = check_failures;
    billing_engine *engine = NULL;
    if (!CHECK_OK(billing_engine_open(path, NULL, &engine))) return check_failures - inherited;
    for (int write = 0; write < WRITES; write++) {
        char request[256], *json = NULL;
        write_request(request, sizeof request, child, write);
        CHECK_OK(billing_config_update(engine, request, &json));
        billing_string_free(json);
        if (write % 10 == 9) {
            json = NULL;
            CHECK_OK(billing_events_list(engine, "{\"limit\": 10}", &json));
            billing_string_free(json);
            json = NULL;
            CHECK_OK(billing_config_get(engine, &json));
            billing_string_free(json);
        }
    }
    billing_engine_close(engine);
    return check_failures - inherited;
}

static void test_concurrent_writers(void) {
    /* Created here, so that this part measures writing, not the first-open race above. */
    remove_database();
    billing_engine *engine = NULL;
    if (!CHECK_OK(billing_engine_open(path, NULL, &engine))) return;
    billing_engine_close(engine);
    engine = NULL;

    CHECK(run_children(write_changes) == 0);

    if (!CHECK_OK(billing_engine_open(path, NULL, &engine))) return;
    static int64_t ids[TOTAL + 1];
    int changed = 0;
    int events = list_all(engine, billing_events_list, "seq", 64, ids, TOTAL + 1, "\"type\":\"config.changed\"", &changed);
    CHECK(events == TOTAL);
    CHECK(changed == TOTAL);
    CHECK(events > 0 && ids_are_dense(ids, events));
    for (int child = 0; child < CHILDREN; child++) {
        char actor[64];
        int rows = 0;
        snprintf(actor, sizeof actor, "\"actor\":\"process-%d\"", child);
        CHECK(list_all(engine, billing_audit_list, "id", 1000, ids, TOTAL + 1, actor, &rows) == TOTAL);
        CHECK(rows == WRITES);
    }

    /* A key written by one process is known to another: a replay returns the stored first
       response (with that write's value) and adds nothing; another request with the key in
       its scope (the same actor: keys of requests about no account are scoped to the actor)
       conflicts. */
    char request[256], expected[64], *json = NULL;
    write_request(request, sizeof request, 2, 7);
    snprintf(expected, sizeof expected, "\"large_refund_threshold_fen\":%d,", write_value(2, 7));
    CHECK_OK(billing_config_update(engine, request, &json));
    CHECK(json && strstr(json, expected) != NULL);
    billing_string_free(json);
    json = NULL;
    CHECK_STATUS(billing_config_update(engine,
                                       "{\"actor\": \"process-2\", \"idempotency_key\": \"process-2-write-7\","
                                       " \"changes\": {}}",
                                       &json),
                 BILLING_E_CONFLICT);
    CHECK(json == NULL);
    CHECK(list_all(engine, billing_events_list, "seq", 1000, ids, TOTAL + 1, NULL, NULL) == TOTAL);

    billing_engine_close(engine);
}

/* ---- Shared between the parent and the children of one part ----------------------------- */

enum { FLEET = 20, SIMULATED_DAYS = 60, INSTANTS_PER_DAY = 3, UNSUBSCRIBE_ROUNDS = 8, SHARED_KEY_ROUNDS = 2 };
enum { C_PROCESSED, C_REMINDERS, C_AUTO_RENEWED, C_AUTO_RENEW_FAILED, C_EXPIRED, C_FROZEN, C_RELEASED, C_RUNS, COUNTS };
static const char *count_names[COUNTS] = {"processed", "reminders", "auto_renewed", "auto_renew_failed",
                                          "expired",   "frozen",    "released",     "runs"};

struct shared {
    pthread_barrier_t barrier;
    int64_t counts[CHILDREN][COUNTS];
    int status[UNSUBSCRIBE_ROUNDS][CHILDREN];
    char reason[UNSUBSCRIBE_ROUNDS][CHILDREN][48];
    uint64_t response_hash[UNSUBSCRIBE_ROUNDS][CHILDREN];
};
static struct shared *shared;

static int share(void) {
    shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (!CHECK(shared != MAP_FAILED)) return 0;
    memset(shared, 0, sizeof *shared);
    pthread_barrierattr_t attributes;
    pthread_barrierattr_init(&attributes);
    pthread_barrierattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
    int ok = CHECK(pthread_barrier_init(&shared->barrier, &attributes, CHILDREN) == 0);
    pthread_barrierattr_destroy(&attributes);
    return ok;
}

static void unshare(void) {
    pthread_barrier_destroy(&shared->barrier);
    munmap(shared, sizeof *shared);
    shared = NULL;
}

/* Every child passes every barrier, whatever failed before, so that none waits forever. */
static void barrier(void) { pthread_barrier_wait(&shared->barrier); }

#define FLEET_START at(2024, 1, 1, 10, 0, 0) /* purchases on Jan 1–10, two a day */
#define SIMULATION_START at(2024, 1, 11, 0, 0, 0)

/* ---- Set-up through one engine ------------------------------------------------------------ */

#define MUST(engine, f, ...) MUST_ON(engine, f, __VA_ARGS__)

static int open_manual(billing_engine **engine, int64_t now) {
    char options[96];
    snprintf(options, sizeof options, "{\"clock\": \"manual\", \"now\": %lld}", (long long)now);
    *engine = NULL;
    return CHECK_OK(billing_engine_open(path, options, engine));
}

static void set_up_account(billing_engine *engine, const char *account, int64_t cash) {
    support_put_product(engine, "{\"product_id\": \"evs.ssd\", \"product_type\": \"EVS\", \"billing_mode\": \"PREPAID\","
                                " \"monthly_price_fen\": 1000, \"yearly_price_fen\": 10000}");
    support_put_account(engine, account, cash, "seed");
}

/* Buys one month of evs.ssd, paid from cash and provisioned now; stores the resource id. */
static void buy(billing_engine *engine, const char *account, char *resource, size_t size) {
    support_buy(engine, account, "evs.ssd", 1, resource, size);
}

/* ---- Concurrent schedulers ----------------------------------------------------------------- */

static char fleet[FLEET][32];

/* The simulated instants: 00:00 (expiry, freezing, release, reminders), 03:00 (auto-renew)
   and 12:00 of each day. */
static int64_t instant(int step) {
    static const int hours[INSTANTS_PER_DAY] = {0, 3, 12};
    return SIMULATION_START + (int64_t)(step / INSTANTS_PER_DAY) * 86400 + hours[step % INSTANTS_PER_DAY] * 3600;
}

static int schedule(int child) {
    int inherited = check_failures;
    billing_engine *engine = NULL;
    alarm(600); /* a child stuck at a barrier must not hang the test */
    int opened = open_manual(&engine, SIMULATION_START);
    for (int step = 0; step < SIMULATED_DAYS * INSTANTS_PER_DAY; step++) {
        barrier();
        if (!opened) continue;
        CHECK_OK(billing_clock_set(engine, instant(step)));
        /* Odd children take small batches, so that runs interleave inside one instant. */
        const char *run = child % 2 ? "{\"actor\": \"cron-%d\", \"limit\": 1}" : "{\"actor\": \"cron-%d\"}";
        for (int more = 1, guard = 0; more && guard < 1000; guard++) {
            char *json = MUST(engine, billing_scheduler_run, run, child);
            if (!json) break;
            for (int c = 0; c < C_RUNS; c++) {
                char field[48];
                snprintf(field, sizeof field, "resources.%s", count_names[c]);
                shared->counts[child][c] += json_int(json, field);
            }
            shared->counts[child][C_RUNS]++;
            CHECK(json_int(json, "now") == instant(step));
            more = json_is(json, "has_more", "true");
            billing_string_free(json);
        }
    }
    if (opened) check_verify(engine, __FILE__, __LINE__);
    billing_engine_close(engine);
    return check_failures - inherited;
}

struct fleet_events {
    int reminders, auto_renewed, auto_renew_failed, expired, frozen, released, renewed;
    int64_t renewed_to[4];
    int64_t expired_at, frozen_at, released_at;
    int reminder_days[8];
};

/* Reads every event of the fleet's account once, by cursor, into per-resource tallies. */
static int tally_events(billing_engine *engine, struct fleet_events *tally) {
    int total = 0;
    memset(tally, 0, sizeof *tally * FLEET);
    support_pages pages;
    support_pages_begin(&pages, engine, billing_events_list, "\"account_id\": \"fleet\"", 500);
    for (const char *page; (page = support_pages_next(&pages));) {
        CHECK(page != NULL); /* one check a page */
        for (int i = 0, n = json_count(page, "events"); i < n; i++, total++) {
            char field[64], type[64] = "", subject[32] = "";
            snprintf(field, sizeof field, "events.%d.type", i);
            json_string(page, field, type, sizeof type);
            snprintf(field, sizeof field, "events.%d.subject_id", i);
            json_string(page, field, subject, sizeof subject);
            int r = 0;
            while (r < FLEET && strcmp(fleet[r], subject) != 0) r++;
            if (r == FLEET) continue;
            struct fleet_events *e = &tally[r];
            snprintf(field, sizeof field, "events.%d.occurred_at", i);
            int64_t occurred = json_int(page, field);
            snprintf(field, sizeof field, "events.%d.data", i);
            const char *data = json_at(page, field);
            if (strcmp(type, "resource.expiry_reminder") == 0) {
                if (e->reminders < 8) e->reminder_days[e->reminders] = (int)json_int(data, "days_before");
                e->reminders++;
            } else if (strcmp(type, "resource.auto_renewed") == 0) {
                if (e->auto_renewed < 4) e->renewed_to[e->auto_renewed] = json_int(data, "expire_at");
                e->auto_renewed++;
            } else if (strcmp(type, "resource.auto_renew_failed") == 0) {
                e->auto_renew_failed++;
            } else if (strcmp(type, "resource.expired") == 0) {
                e->expired++, e->expired_at = occurred;
            } else if (strcmp(type, "resource.frozen") == 0) {
                e->frozen++, e->frozen_at = occurred;
            } else if (strcmp(type, "resource.released") == 0) {
                e->released++, e->released_at = occurred;
            } else if (strcmp(type, "resource.renewed") == 0) {
                e->renewed++;
            }
        }
    }
    if (pages.status != BILLING_OK) {
        check_result(0, __FILE__, __LINE__, "billing_events_list", NULL);
        total = -1;
    }
    support_pages_end(&pages);
    return total;
}

static void test_concurrent_schedulers(void) {
    remove_database();
    billing_engine *engine = NULL;
    if (!open_manual(&engine, FLEET_START)) return;
    set_up_account(engine, "fleet", 10000000);
    /* Two resources a day on Jan 1–10; the odd ones renew automatically. */
    for (int r = 0; r < FLEET; r++) {
        CHECK_OK(billing_clock_set(engine, FLEET_START + (int64_t)(r / 2) * 86400));
        buy(engine, "fleet", fleet[r], sizeof fleet[r]);
        if (r % 2) {
            billing_string_free(MUST(engine, billing_resources_policy_set,
                                     "{\"actor\": \"portal\", \"account_id\": \"fleet\", \"resource_ids\": [\"%s\"],"
                                     " \"policy\": \"AUTO_RENEW\"}", fleet[r]));
        }
    }
    int64_t cash_before = cash_on(engine, "fleet");
    billing_engine_close(engine);
    if (!share()) return;

    CHECK(run_children(schedule) == 0);

    int64_t sums[COUNTS] = {0};
    for (int child = 0; child < CHILDREN; child++) {
        for (int c = 0; c < COUNTS; c++) sums[c] += shared->counts[child][c];
    }
    unshare();
    if (!open_manual(&engine, instant(SIMULATED_DAYS * INSTANTS_PER_DAY - 1))) return;
    static struct fleet_events tally[FLEET];
    CHECK(tally_events(engine, tally) > 0);

    /* What must have happened, worked out from the calendar: resource r was bought on Jan
       (1 + r/2) and its month ends Feb (1 + r/2) 23:59:59. MANUAL: reminders 15, 7, 3 and 1
       days before, expiry at 00:00 the next day, freezing 7 days later (V3), release 7 days
       after that. AUTO_RENEW: renewed at 03:00 seven days before each expiry, to Mar (1 + r/2)
       and then to Apr (1 + r/2); no reminders, no failures (there is cash). */
    int expected_renewals = 0;
    for (int r = 0; r < FLEET; r++) {
        int day = 1 + r / 2;
        struct fleet_events *e = &tally[r];
        char detail[300];
        snprintf(detail, sizeof detail,
                 "resource %.31s: reminders %d, auto_renewed %d, failed %d, expired %d, frozen %d, released %d, renewed %d", fleet[r],
                 e->reminders, e->auto_renewed, e->auto_renew_failed, e->expired, e->frozen, e->released, e->renewed);
        if (r % 2) {
            expected_renewals += 2;
            check_result(e->auto_renewed == 2 && e->renewed == 2 && e->auto_renew_failed == 0 && e->expired == 0 &&
                             e->frozen == 0 && e->released == 0 && e->reminders == 0,
                         __FILE__, __LINE__, "auto-renewed once per cycle, nothing else", detail);
            CHECK(e->renewed_to[0] == at(2024, 3, day, 23, 59, 59));
            CHECK(e->renewed_to[1] == at(2024, 4, day, 23, 59, 59));
        } else {
            check_result(e->reminders == 4 && e->expired == 1 && e->frozen == 1 && e->released == 1 && e->auto_renewed == 0 &&
                             e->renewed == 0,
                         __FILE__, __LINE__, "each reminder, expiry, freeze and release once", detail);
            CHECK(e->reminder_days[0] == 15 && e->reminder_days[1] == 7 && e->reminder_days[2] == 3 && e->reminder_days[3] == 1);
            CHECK(e->expired_at == at(2024, 2, day + 1, 0, 0, 0));
            CHECK(e->frozen_at == at(2024, 2, day + 8, 0, 0, 0));
            CHECK(e->released_at == at(2024, 2, day + 15, 0, 0, 0));
        }
        char *json = MUST(engine, billing_resource_get, "{\"account_id\": \"fleet\", \"resource_id\": \"%s\"}", fleet[r]);
        char status[32] = "";
        json_string(json, "resource.status", status, sizeof status);
        CHECK_STR(status, r % 2 ? "IN_USE" : "RELEASED");
        if (r % 2) CHECK(json_int(json, "resource.expire_at") == at(2024, 4, day, 23, 59, 59));
        billing_string_free(json);
    }

    /* The children's counts are the events: each piece of work was done by one of them. */
    char detail[300];
    snprintf(detail, sizeof detail, "children counted reminders %lld, auto_renewed %lld, failed %lld, expired %lld, frozen %lld,"
             " released %lld over %lld runs", (long long)sums[C_REMINDERS], (long long)sums[C_AUTO_RENEWED],
             (long long)sums[C_AUTO_RENEW_FAILED], (long long)sums[C_EXPIRED], (long long)sums[C_FROZEN],
             (long long)sums[C_RELEASED], (long long)sums[C_RUNS]);
    check_result(sums[C_REMINDERS] == 4 * FLEET / 2 && sums[C_AUTO_RENEWED] == expected_renewals && sums[C_AUTO_RENEW_FAILED] == 0 &&
                     sums[C_EXPIRED] == FLEET / 2 && sums[C_FROZEN] == FLEET / 2 && sums[C_RELEASED] == FLEET / 2,
                 __FILE__, __LINE__, "the children's scheduler counts add up to the work", detail);
    CHECK(sums[C_RUNS] >= CHILDREN * SIMULATED_DAYS * INSTANTS_PER_DAY);

    /* One RENEW order per renewal, all completed, each paid once. */
    char *json = MUST(engine, billing_orders_list, "{\"account_id\": \"fleet\", \"order_type\": \"RENEW\", \"limit\": 100}");
    CHECK(json_count(json, "orders") == expected_renewals);
    for (int i = 0, n = json_count(json, "orders"); i < n; i++) {
        char field[48], status[32] = "";
        snprintf(field, sizeof field, "orders.%d.status", i);
        json_string(json, field, status, sizeof status);
        CHECK_STR(status, "COMPLETED");
    }
    billing_string_free(json);
    CHECK(cash_on(engine, "fleet") == cash_before - 1000 * expected_renewals);
    check_verify(engine, __FILE__, __LINE__);
    billing_engine_close(engine);
}

/* ---- Concurrent unsubscriptions --------------------------------------------------------- */

static char targets[UNSUBSCRIBE_ROUNDS][32];
#define UNSUBSCRIBE_AT at(2024, 3, 20, 15, 30, 0)

static uint64_t fnv1a(const char *text) {
    uint64_t hash = 14695981039346656037u;
    for (; text && *text; text++) hash = (hash ^ (unsigned char)*text) * 1099511628211u;
    return hash;
}

static int unsubscribe(int child) {
    int inherited = check_failures;
    billing_engine *engine = NULL;
    alarm(600);
    int opened = open_manual(&engine, UNSUBSCRIBE_AT);
    for (int round = 0; round < UNSUBSCRIBE_ROUNDS; round++) {
        char key[64] = "", actor[32];
        snprintf(actor, sizeof actor, "process-%d", child);
        if (round >= UNSUBSCRIBE_ROUNDS - SHARED_KEY_ROUNDS) { /* the same request under one key */
            snprintf(key, sizeof key, ", \"idempotency_key\": \"unsubscribe-%d\"", round);
            snprintf(actor, sizeof actor, "portal");
        }
        barrier();
        if (!opened) continue;
        char *json = support_call(engine, billing_resources_unsubscribe, &shared->status[round][child],
                             "{\"actor\": \"%s\", \"account_id\": \"refunds\", \"resource_ids\": [\"%s\"]%s}", actor,
                             targets[round], key);
        snprintf(shared->reason[round][child], sizeof shared->reason[0][0], "%s", billing_last_error_reason());
        shared->response_hash[round][child] = fnv1a(json);
        billing_string_free(json);
    }
    billing_engine_close(engine);
    return check_failures - inherited;
}

static void test_concurrent_unsubscriptions(void) {
    remove_database();
    billing_engine *engine = NULL;
    if (!open_manual(&engine, at(2024, 3, 1, 9, 0, 0))) return;
    set_up_account(engine, "refunds", 100000);
    for (int round = 0; round < UNSUBSCRIBE_ROUNDS; round++) buy(engine, "refunds", targets[round], sizeof targets[round]);
    CHECK_OK(billing_clock_set(engine, UNSUBSCRIBE_AT));
    int64_t expected = 0;
    for (int round = 0; round < UNSUBSCRIBE_ROUNDS; round++) {
        char *json = MUST(engine, billing_refund_quote, "{\"account_id\": \"refunds\", \"resource_ids\": [\"%s\"]}", targets[round]);
        CHECK(json_is(json, "refundable", "true"));
        expected += json_int(json, "total_refund_fen");
        billing_string_free(json);
    }
    CHECK(expected > 0);
    int64_t before = cash_on(engine, "refunds");
    billing_engine_close(engine);
    if (!share()) return;

    CHECK(run_children(unsubscribe) == 0);

    for (int round = 0; round < UNSUBSCRIBE_ROUNDS; round++) {
        int succeeded = 0, refused = 0, shared_key = round >= UNSUBSCRIBE_ROUNDS - SHARED_KEY_ROUNDS;
        char detail[400];
        int used = snprintf(detail, sizeof detail, "round %d:", round);
        for (int child = 0; child < CHILDREN; child++) {
            int status = shared->status[round][child];
            succeeded += status == BILLING_OK;
            refused += status == BILLING_E_REFUSED && strcmp(shared->reason[round][child], "not_refundable") == 0;
            used += snprintf(detail + used, sizeof detail - (size_t)used, " [%d %s]", status, shared->reason[round][child]);
            if (used >= (int)sizeof detail) used = (int)sizeof detail - 1;
        }
        if (shared_key) {
            int same = 1;
            for (int child = 1; child < CHILDREN; child++) same &= shared->response_hash[round][child] == shared->response_hash[round][0];
            check_result(succeeded == CHILDREN && same, __FILE__, __LINE__, "one key: every process gets the first response", detail);
        } else {
            check_result(succeeded == 1 && refused == CHILDREN - 1, __FILE__, __LINE__,
                         "exactly one unsubscription succeeds, the others are not refundable", detail);
        }
    }
    unshare();

    if (!open_manual(&engine, UNSUBSCRIBE_AT)) return;
    CHECK(cash_on(engine, "refunds") == before + expected);
    char *json = MUST(engine, billing_orders_list, "{\"account_id\": \"refunds\", \"order_type\": \"UNSUBSCRIBE\", \"limit\": 100}");
    CHECK(json_count(json, "orders") == UNSUBSCRIBE_ROUNDS);
    billing_string_free(json);
    for (int round = 0; round < UNSUBSCRIBE_ROUNDS; round++) {
        json = MUST(engine, billing_resource_get, "{\"account_id\": \"refunds\", \"resource_id\": \"%s\"}", targets[round]);
        char status[32] = "";
        json_string(json, "resource.status", status, sizeof status);
        CHECK_STR(status, "UNSUBSCRIBED");
        billing_string_free(json);
    }
    check_verify(engine, __FILE__, __LINE__);
    billing_engine_close(engine);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s SCRATCH_DIRECTORY\n", argv[0]);
        return 2;
    }
    scratch = argv[1];
    support_database(path, sizeof path, scratch, "test_processes");

    test_racing_first_open();
    test_concurrent_writers();
    test_concurrent_schedulers();
    test_concurrent_unsubscriptions();

    int status = check_summary();
    if (status == 0) remove_database();
    return status;
}
