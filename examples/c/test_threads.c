/*
 * test_threads.c — one engine handle shared by 8 threads. Each writes 50 configuration
 * changes under its own idempotency keys and reads in between; some also provoke errors.
 * Afterwards the outbox holds exactly one config.changed event per write, with dense
 * sequence numbers, and each thread only ever saw its own last error.
 *
 *   usage: test_threads SCRATCH_DIRECTORY
 */
#define _POSIX_C_SOURCE 200809L /* unlink, sched_yield */

#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

enum { THREADS = 8, WRITES = 50, TOTAL = THREADS * WRITES };

static billing_engine *engine;

/* Provokes a failure only this thread could cause and checks that the last error is this
   thread's own, even after the others ran meanwhile; then that a success clears it. */
static void provoke_own_error(int thread, int write) {
    char request[256], marker[64], *json = NULL;
    if (thread % 4 == 3) {
        /* Reuse this thread's first key for another request: a conflict naming the key. */
        snprintf(marker, sizeof marker, "thread-%d-write-0", thread);
        snprintf(request, sizeof request,
                 "{\"actor\": \"thread-%d\", \"idempotency_key\": \"%s\", \"changes\": {\"max_batch_renew\": %d}}",
                 thread, marker, 1 + write % 9);
        CHECK_STATUS(billing_config_update(engine, request, &json), BILLING_E_CONFLICT);
    } else {
        /* An unknown field named after this thread. */
        snprintf(marker, sizeof marker, "bogus_thread_%d", thread);
        snprintf(request, sizeof request, "{\"actor\": \"thread-%d\", \"changes\": {\"%s\": %d}}", thread, marker, write);
        CHECK_STATUS(billing_config_update(engine, request, &json), BILLING_E_INVALID);
    }
    CHECK(json == NULL);
    for (int i = 0; i < 20; i++) sched_yield(); /* let the other threads make calls */
    int expected = thread % 4 == 3 ? BILLING_E_CONFLICT : BILLING_E_INVALID;
    const char *reason = thread % 4 == 3 ? "idempotency_key_reused" : "unknown_field";
    CHECK(billing_last_error_code() == expected);
    CHECK_STR(billing_last_error_reason(), reason);
    CHECK(strstr(billing_last_error_message(), marker) != NULL);

    CHECK_OK(billing_config_get(engine, &json));
    billing_string_free(json);
    CHECK(billing_last_error_code() == BILLING_OK);
    CHECK_STR(billing_last_error_reason(), "");
}

static void *worker(void *argument) {
    int thread = *(const int *)argument;
    for (int write = 0; write < WRITES; write++) {
        char request[256], *first = NULL, *replay = NULL, *json = NULL;
        /* A value no other write uses, so that every write changes the configuration. */
        snprintf(request, sizeof request,
                 "{\"actor\": \"thread-%d\", \"idempotency_key\": \"thread-%d-write-%d\","
                 " \"changes\": {\"large_refund_threshold_fen\": %d}}",
                 thread, thread, write, 1000000 + thread * 1000 + write);
        CHECK_OK(billing_config_update(engine, request, &first));
        /* Nobody else's failure shows up in this thread. */
        CHECK(billing_last_error_code() == BILLING_OK);
        CHECK_STR(billing_last_error_reason(), "");

        /* A retry, while other threads write, still gets the first response. */
        CHECK_OK(billing_config_update(engine, request, &replay));
        CHECK(first && replay && strcmp(first, replay) == 0);
        billing_string_free(first);
        billing_string_free(replay);

        CHECK_OK(billing_events_list(engine, "{\"limit\": 5}", &json));
        CHECK(json && strstr(json, "\"config.changed\"") != NULL);
        billing_string_free(json);
        json = NULL;
        CHECK_OK(billing_config_get(engine, &json));
        CHECK(json && strstr(json, "\"large_refund_threshold_fen\":") != NULL);
        billing_string_free(json);

        if (thread % 2 == 1 && write % 10 == 5) provoke_own_error(thread, write);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s SCRATCH_DIRECTORY\n", argv[0]);
        return 2;
    }
    char path[PATH_MAX];
    support_database(path, sizeof path, argv[1], "test_threads");
    support_remove_database(path);

    if (!CHECK_OK(billing_engine_open(path, NULL, &engine))) return check_summary();

    pthread_t threads[THREADS];
    int numbers[THREADS], started = 0;
    for (int i = 0; i < THREADS; i++) {
        numbers[i] = i;
        if (CHECK(pthread_create(&threads[i], NULL, worker, &numbers[i]) == 0)) started++;
    }
    for (int i = 0; i < started; i++) pthread_join(threads[i], NULL);

    /* Exactly one event and one audit row per write; replays and refusals added none. */
    static int64_t ids[TOTAL + 1];
    int changed = 0;
    int events = list_all(engine, billing_events_list, "seq", 64, ids, TOTAL + 1, "\"type\":\"config.changed\"", &changed);
    CHECK(events == TOTAL);
    CHECK(changed == TOTAL);
    CHECK(events > 0 && ids_are_dense(ids, events));
    for (int thread = 0; thread < THREADS; thread++) {
        char actor[64];
        int rows = 0;
        snprintf(actor, sizeof actor, "\"actor\":\"thread-%d\"", thread);
        CHECK(list_all(engine, billing_audit_list, "id", 1000, ids, TOTAL + 1, actor, &rows) == TOTAL);
        CHECK(rows == WRITES);
    }

    billing_engine_close(engine);
    int status = check_summary();
    if (status == 0) support_remove_database(path);
    return status;
}
