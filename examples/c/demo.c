/*
 * demo.c — a short tour of libbilling's C interface:
 * open a database, read and change the configuration with an idempotency key, replay the
 * request, see a conflict, move the clock, and read the event outbox page by page.
 *
 *   usage: demo DATABASE_FILE
 *
 * Every char* the library hands out is released with billing_string_free().
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "billing.h"

/* Reports the failed call with this thread's last error, which every failure sets. */
static int fail(const char *call) {
    fprintf(stderr, "%s failed: %d %s: %s\n", call, billing_last_error_code(), billing_last_error_reason(),
            billing_last_error_message());
    return 1;
}

/* Copies the string value of "key" from compact JSON into out. A host would use its JSON
   parser; the demo only needs next_cursor. */
static void json_string(const char *json, const char *key, char *out, size_t size) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *at = strstr(json, pattern);
    at = at ? at + strlen(pattern) : "";
    snprintf(out, size, "%.*s", (int)strcspn(at, "\""), at);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s DATABASE_FILE\n", argv[0]);
        return 2;
    }
    printf("libbilling %s (header %s)\n", billing_version(), BILLING_VERSION_STRING);

    /* A manual clock makes the run reproducible: time moves only when we say so. */
    billing_engine *engine = NULL;
    if (billing_engine_open(argv[1], "{\"clock\": \"manual\", \"now\": 1767225600}", &engine) != BILLING_OK)
        return fail("billing_engine_open");

    char *json = NULL;
    if (billing_config_get(engine, &json) != BILLING_OK) return fail("billing_config_get");
    printf("\nconfiguration: %s\n", json);
    billing_string_free(json);

    /* A write names its actor (for the audit log) and an idempotency key, so a retry after a
       timeout or crash cannot apply it twice. */
    const char *update =
        "{\"actor\": \"ops@example.com\", \"idempotency_key\": \"demo-renew-hour-2\","
        " \"changes\": {\"auto_renew_hour\": 2}}";
    char *first = NULL, *replay = NULL;
    if (billing_config_update(engine, update, &first) != BILLING_OK) return fail("billing_config_update");
    printf("\nupdate: %s\n", first);

    /* The same key with the same request returns the first response and changes nothing. */
    if (billing_config_update(engine, update, &replay) != BILLING_OK) return fail("billing_config_update (replay)");
    printf("\nreplay: %s\n", strcmp(first, replay) == 0 ? "same response, applied once" : "DIFFERENT response");
    billing_string_free(first);
    billing_string_free(replay);

    /* The same key with another request is refused. */
    const char *other =
        "{\"actor\": \"ops@example.com\", \"idempotency_key\": \"demo-renew-hour-2\","
        " \"changes\": {\"auto_renew_hour\": 4}}";
    int status = billing_config_update(engine, other, &json); /* json is NULL on failure */
    if (status != BILLING_E_CONFLICT) {
        billing_string_free(json);
        fprintf(stderr, "expected a conflict, got status %d\n", status);
        return 1;
    }
    printf("\nconflict: status %d (%s), reason \"%s\"\n  %s\n", status, billing_status_string(status),
           billing_last_error_reason(), billing_last_error_message());

    int64_t now = 0;
    if (billing_clock_advance(engine, 86400, &now) != BILLING_OK) return fail("billing_clock_advance");
    printf("\nclock advanced one day to %" PRId64 "\n", now);

    /* A second change, under its own key, happens at the new time. */
    const char *second =
        "{\"actor\": \"ops@example.com\", \"idempotency_key\": \"demo-renew-hour-4\","
        " \"changes\": {\"auto_renew_hour\": 4}}";
    if (billing_config_update(engine, second, &json) != BILLING_OK) return fail("billing_config_update");
    billing_string_free(json);

    /* The outbox, one event a page: pass next_cursor back as "after" until has_more is false. */
    char cursor[32] = "", request[96];
    for (int more = 1; more;) {
        if (cursor[0]) snprintf(request, sizeof request, "{\"limit\": 1, \"after\": \"%s\"}", cursor);
        else snprintf(request, sizeof request, "{\"limit\": 1}");
        if (billing_events_list(engine, request, &json) != BILLING_OK) return fail("billing_events_list");
        printf("\nevents after \"%s\": %s\n", cursor, json);
        json_string(json, "next_cursor", cursor, sizeof cursor);
        more = strstr(json, "\"has_more\":true") != NULL;
        billing_string_free(json);
    }

    billing_engine_close(engine);
    return 0;
}
