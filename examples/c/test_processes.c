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
 *   usage: test_processes SCRATCH_DIRECTORY
 */
#define _POSIX_C_SOURCE 200809L /* fork, pipe, waitpid */

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

enum { CHILDREN = 4, WRITES = 50, TOTAL = CHILDREN * WRITES, RACE_ROUNDS = 100 };

static char path[PATH_MAX], wal[PATH_MAX + 8], shm[PATH_MAX + 8];

static void remove_database(void) {
    unlink(path);
    unlink(wal);
    unlink(shm);
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
       response (with that write's value) and adds nothing; another request conflicts. */
    char request[256], expected[64], *json = NULL;
    write_request(request, sizeof request, 2, 7);
    snprintf(expected, sizeof expected, "\"large_refund_threshold_fen\":%d,", write_value(2, 7));
    CHECK_OK(billing_config_update(engine, request, &json));
    CHECK(json && strstr(json, expected) != NULL);
    billing_string_free(json);
    json = NULL;
    CHECK_STATUS(billing_config_update(engine,
                                       "{\"actor\": \"parent\", \"idempotency_key\": \"process-2-write-7\","
                                       " \"changes\": {}}",
                                       &json),
                 BILLING_E_CONFLICT);
    CHECK(json == NULL);
    CHECK(list_all(engine, billing_events_list, "seq", 1000, ids, TOTAL + 1, NULL, NULL) == TOTAL);

    billing_engine_close(engine);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s SCRATCH_DIRECTORY\n", argv[0]);
        return 2;
    }
    snprintf(path, sizeof path, "%s/test_processes.sqlite", argv[1]);
    snprintf(wal, sizeof wal, "%s-wal", path);
    snprintf(shm, sizeof shm, "%s-shm", path);

    test_racing_first_open();
    test_concurrent_writers();

    int status = check_summary();
    if (status == 0) remove_database();
    return status;
}
