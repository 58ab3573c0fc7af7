/*
 * test_call.c — billing_call from hosts that change OS threads between two C calls (Go
 * goroutines, Java virtual threads, async runtimes): the outcome of a call, its error
 * included, is read from the call's own document on another thread than the one that made
 * it, where the thread-local last error would say nothing (or something else).
 *
 *   usage: test_call SCRATCH_DIRECTORY
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static billing_engine *engine;

/* One call made on a worker thread; its document is read back on the main thread. */
struct hop {
    const char *function, *request;
    int status;
    char *document;
};

static void *call_on_worker(void *argument) {
    struct hop *hop = argument;
    hop->status = billing_call(engine, hop->function, hop->request, &hop->document);
    return NULL;
}

static void run_on_worker(struct hop *hop) {
    pthread_t worker;
    if (pthread_create(&worker, NULL, call_on_worker, hop) != 0) {
        CHECK(!"pthread_create");
        return;
    }
    pthread_join(worker, NULL);
}

static void test_error_read_on_another_thread(void) {
    /* This thread's last error: a failure of its own, which the hop must not disturb. */
    char *mine = NULL;
    CHECK_STATUS(billing_config_update(engine, "{", &mine), BILLING_E_INVALID);
    CHECK_STR(billing_last_error_reason(), "malformed_json");

    struct hop hop = {"billing_account_get", "{\"account_id\": \"nobody\"}", -1, NULL};
    run_on_worker(&hop);
    CHECK(hop.status == BILLING_E_NOT_FOUND);
    /* Everything about the worker's call is in its document... */
    char reason[64], message[256], name[64];
    CHECK(json_is(hop.document, "ok", "false"));
    CHECK(json_int(hop.document, "error.status") == BILLING_E_NOT_FOUND);
    CHECK(json_string(hop.document, "error.status_name", name, sizeof name) && strcmp(name, "not found") == 0);
    CHECK(json_string(hop.document, "error.reason", reason, sizeof reason) && strcmp(reason, "account_not_found") == 0);
    CHECK(json_string(hop.document, "error.message", message, sizeof message) && strstr(message, "nobody") != NULL);
    /* ...while this thread's last error is still its own, not the worker's. */
    CHECK(billing_last_error_code() == BILLING_E_INVALID);
    CHECK_STR(billing_last_error_reason(), "malformed_json");
    billing_string_free(hop.document); /* freed on another thread than the one that allocated it */

    /* A success read on this thread while its last error stays as it was. */
    struct hop ok = {"billing_account_put", "{\"actor\": \"t\", \"account_id\": \"hop\", \"type\": \"PERSONAL\"}", -1, NULL};
    run_on_worker(&ok);
    CHECK(ok.status == BILLING_OK);
    CHECK(json_is(ok.document, "ok", "true"));
    char id[32];
    CHECK(json_string(ok.document, "result.account.account_id", id, sizeof id) && strcmp(id, "hop") == 0);
    CHECK_STR(billing_last_error_reason(), "malformed_json");
    billing_string_free(ok.document);
}

/* Many threads, one handle, failures and successes interleaved: each document describes its
   own call, never a neighbour's. */
#define THREADS 8
#define CALLS 200

static void *mixed_calls(void *argument) {
    long index = (long)argument;
    long wrong = 0;
    for (int i = 0; i < CALLS; i++) {
        char request[160], *document = NULL, reason[64], id[32];
        int fail = (i + index) % 2;
        if (fail) {
            snprintf(request, sizeof request, "{\"account_id\": \"missing-%ld-%d\"}", index, i);
            int status = billing_call(engine, "billing_account_get", request, &document);
            char message[256], expected[64];
            snprintf(expected, sizeof expected, "missing-%ld-%d", index, i);
            if (status != BILLING_E_NOT_FOUND || !json_is(document, "ok", "false") ||
                !json_string(document, "error.reason", reason, sizeof reason) || strcmp(reason, "account_not_found") != 0 ||
                !json_string(document, "error.message", message, sizeof message) || !strstr(message, expected))
                wrong++;
        } else {
            snprintf(request, sizeof request, "{\"actor\": \"t\", \"account_id\": \"t%ld-%d\", \"type\": \"PERSONAL\"}", index, i);
            int status = billing_call(engine, "billing_account_put", request, &document);
            char expected[32];
            snprintf(expected, sizeof expected, "t%ld-%d", index, i);
            if (status != BILLING_OK || !json_is(document, "ok", "true") ||
                !json_string(document, "result.account.account_id", id, sizeof id) || strcmp(id, expected) != 0)
                wrong++;
        }
        billing_string_free(document);
    }
    return (void *)wrong;
}

static void test_threads_share_a_handle(void) {
    pthread_t threads[THREADS];
    for (long t = 0; t < THREADS; t++) CHECK(pthread_create(&threads[t], NULL, mixed_calls, (void *)t) == 0);
    long wrong = 0;
    for (int t = 0; t < THREADS; t++) {
        void *result = NULL;
        pthread_join(threads[t], &result);
        wrong += (long)result;
    }
    CHECK(wrong == 0);
    char *document = NULL;
    CHECK_OK(billing_call(engine, "billing_verify", NULL, &document));
    CHECK(json_is(document, "result.ok", "true"));
    billing_string_free(document);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s SCRATCH_DIRECTORY\n", argv[0]);
        return 2;
    }
    (void)argv;
    if (!CHECK_OK(billing_engine_open(":memory:", "{\"clock\": \"manual\", \"now\": 1767225600}", &engine)))
        return check_summary();
    test_error_read_on_another_thread();
    test_threads_share_a_handle();
    billing_engine_close(engine);
    return check_summary();
}
