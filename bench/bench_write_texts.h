/*
 * bench_write_texts.h — the texts of the configuration change that bench_write.c (SQLite) and
 * bench_pg.c (PostgreSQL) write by hand: the configuration document as the library stores it,
 * split around auto_renew_hour's value so that the raw writes carry rows of the same size,
 * and for write number i its idempotency key, request, stored document, response and audit
 * detail, byte for byte the library's (bench_write checks its first write against them).
 *
 * Include bench_common.h first.
 */
#ifndef BENCH_WRITE_TEXTS_H
#define BENCH_WRITE_TEXTS_H

enum { PART_SIZE = 4096, DOCUMENT_SIZE = 2 * PART_SIZE + 32, RESPONSE_SIZE = DOCUMENT_SIZE + 128 };
static char document_head[PART_SIZE], document_tail[PART_SIZE];

static void load_document(void) {
    billing_engine *engine = bench_engine_open(":memory:", NULL);
    char *json = NULL;
    if (billing_config_get(engine, &json) != BILLING_OK) die_billing("billing_config_get");
    /* {"configuration":{…"auto_renew_hour":3,…},"schema_version":1} */
    const char *start = strchr(json + 1, '{');
    const char *value = strstr(json, "\"auto_renew_hour\":");
    const char *end = strstr(json, ",\"schema_version\"");
    if (!start || !value || !end || value < start || end < value) die("unexpected configuration: %s", json);
    value += strlen("\"auto_renew_hour\":");
    const char *after = value + strspn(value, "0123456789");
    snprintf(document_head, sizeof document_head, "%.*s", (int)(value - start), start);
    snprintf(document_tail, sizeof document_tail, "%.*s", (int)(end - after), after);
    billing_string_free(json);
    billing_engine_close(engine);
}

/* Write number i: key bench-i, auto_renew_hour i % 24. */
struct write_texts {
    char key[64], request[128], document[DOCUMENT_SIZE], response[RESPONSE_SIZE], detail[128];
};

/* The event's data of every write (one field changes each time). */
static const char *write_changed = "{\"changed\":[\"auto_renew_hour\"]}";

static void write_texts(struct write_texts *t, int i) {
    int hour = i % 24;
    snprintf(t->key, sizeof t->key, "bench-%d", i);
    snprintf(t->request, sizeof t->request, "{\"actor\":\"bench\",\"changes\":{\"auto_renew_hour\":%d}}", hour);
    snprintf(t->document, sizeof t->document, "%s%d%s", document_head, hour, document_tail);
    snprintf(t->response, sizeof t->response, "{\"changed\":[\"auto_renew_hour\"],\"configuration\":%s,\"schema_version\":1}",
             t->document);
    snprintf(t->detail, sizeof t->detail, "{\"changed\":[\"auto_renew_hour\"],\"changes\":{\"auto_renew_hour\":%d}}", hour);
}

#endif /* BENCH_WRITE_TEXTS_H */
