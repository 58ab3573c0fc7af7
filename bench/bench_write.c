/*
 * bench_write.c — what libbilling costs over hand-written SQLite doing the same work,
 * measured in one run on the same machine and disk, so only the ratios mean anything.
 *
 * write: one idempotent configuration change, i.e. one transaction that looks the
 *        idempotency key up, reads the configuration, updates it, and appends an event, an
 *        audit row and an idempotency record. (a) billing_config_update with a new key each
 *        time; (b) the same SQL through prepared statements on the same schema. Both in WAL
 *        mode, with synchronous=FULL and with synchronous=NORMAL.
 * open:  open + close of an existing file. (a) billing_engine_open/close; (b) sqlite3_open_v2
 *        with the checks and pragmas the library runs on open, then sqlite3_close.
 *
 *   usage: bench_write [WRITES_FULL [WRITES_NORMAL [OPENS]]]   (defaults 2000 10000 1000)
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, clock_gettime, unlink, rmdir */

#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "billing.h"

static char directory[64];

static void cleanup(void);

static void die(const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    fprintf(stderr, "bench_write: ");
    vfprintf(stderr, format, arguments);
    fprintf(stderr, "\n");
    va_end(arguments);
    cleanup();
    exit(1);
}

static void die_billing(const char *call) {
    die("%s: %d %s: %s", call, billing_last_error_code(), billing_last_error_reason(), billing_last_error_message());
}

static double seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* ---- Files ---------------------------------------------------------------------------- */

static const char *names[] = {"lib-FULL", "raw-FULL", "lib-NORMAL", "raw-NORMAL"};

static void file_path(char *path, size_t size, const char *name, const char *suffix) {
    snprintf(path, size, "%s/%s.sqlite%s", directory, name, suffix);
}

static void cleanup(void) {
    static const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
    char path[PATH_MAX];
    if (!directory[0]) return;
    for (size_t n = 0; n < sizeof names / sizeof *names; n++) {
        for (size_t s = 0; s < sizeof suffixes / sizeof *suffixes; s++) {
            file_path(path, sizeof path, names[n], suffixes[s]);
            unlink(path);
        }
    }
    rmdir(directory);
    directory[0] = '\0';
}

/* ---- Raw SQLite: the library's schema, open sequence and statements ------------------- */

/* Migration 1 of Sources/BillingEngine/Storage/Schema.swift. */
static const char *schema =
    "CREATE TABLE config (id INTEGER PRIMARY KEY CHECK (id = 1), document TEXT NOT NULL,"
    " revision INTEGER NOT NULL) STRICT;"
    "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, account_id TEXT,"
    " subject_id TEXT, occurred_at INTEGER NOT NULL, data TEXT NOT NULL) STRICT;"
    "CREATE INDEX events_by_account ON events (account_id, seq) WHERE account_id IS NOT NULL;"
    "CREATE TABLE audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, recorded_at INTEGER NOT NULL,"
    " actor TEXT NOT NULL, operation TEXT NOT NULL, account_id TEXT, subject_id TEXT,"
    " detail TEXT NOT NULL) STRICT;"
    "CREATE INDEX audit_by_account ON audit_log (account_id, id) WHERE account_id IS NOT NULL;"
    "CREATE TABLE idempotency (key TEXT PRIMARY KEY, operation TEXT NOT NULL, request TEXT NOT NULL,"
    " response TEXT NOT NULL, created_at INTEGER NOT NULL) STRICT;";

static void must(sqlite3 *db, int code, const char *what) {
    if (code != SQLITE_OK && code != SQLITE_ROW && code != SQLITE_DONE) die("%s: %s", what, sqlite3_errmsg(db));
}

static void exec(sqlite3 *db, const char *sql) { must(db, sqlite3_exec(db, sql, NULL, NULL, NULL), sql); }

static int64_t pragma_int(sqlite3 *db, const char *sql) {
    sqlite3_stmt *statement;
    must(db, sqlite3_prepare_v2(db, sql, -1, &statement, NULL), sql);
    int64_t value = sqlite3_step(statement) == SQLITE_ROW ? sqlite3_column_int64(statement, 0) : 0;
    sqlite3_finalize(statement);
    return value;
}

/* What Engine.init does: open, check identity and version, migrate when new, then WAL and
   the synchronous setting. */
static sqlite3 *raw_open(const char *path, const char *synchronous) {
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        die("sqlite3_open_v2 %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 5000);
    if (pragma_int(db, "PRAGMA application_id") != 0x42494C4C || pragma_int(db, "PRAGMA user_version") != 1) {
        exec(db, "BEGIN IMMEDIATE");
        exec(db, schema);
        exec(db, "PRAGMA user_version = 1; PRAGMA application_id = 1112099916; COMMIT");
    }
    char pragmas[128];
    snprintf(pragmas, sizeof pragmas, "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s; PRAGMA foreign_keys = ON;",
             synchronous);
    exec(db, pragmas);
    return db;
}

enum { BEGIN, LOOKUP, REVISION, DOCUMENT, UPSERT, EVENT, AUDIT, RECORD, COMMIT, STATEMENTS };

/* The statements of IdempotencyStore, Engine.loadConfiguration, ConfigurationService,
   EventLog and AuditLog, in the order the library runs them. */
static const char *sql[STATEMENTS] = {
    [BEGIN] = "BEGIN IMMEDIATE",
    [LOOKUP] = "SELECT operation, request, response FROM idempotency WHERE key = ?",
    [REVISION] = "SELECT revision FROM config WHERE id = 1",
    [DOCUMENT] = "SELECT document FROM config WHERE id = 1",
    [UPSERT] = ("INSERT INTO config (id, document, revision) VALUES (1, ?, 1)"
                " ON CONFLICT (id) DO UPDATE SET document = excluded.document, revision = revision + 1"),
    [EVENT] = "INSERT INTO events (type, account_id, subject_id, occurred_at, data) VALUES (?, ?, ?, ?, ?)",
    [AUDIT] = "INSERT INTO audit_log (recorded_at, actor, operation, account_id, subject_id, detail)"
              " VALUES (?, ?, ?, ?, ?, ?)",
    [RECORD] = "INSERT INTO idempotency (key, operation, request, response, created_at) VALUES (?, ?, ?, ?, ?)",
    [COMMIT] = "COMMIT",
};

static void run(sqlite3 *db, sqlite3_stmt *statement) {
    int code;
    while ((code = sqlite3_step(statement)) == SQLITE_ROW) {
    }
    must(db, code, sqlite3_sql(statement));
    sqlite3_reset(statement);
}

static void text(sqlite3_stmt *statement, int index, const char *value) {
    sqlite3_bind_text(statement, index, value, -1, SQLITE_STATIC);
}

/* The configuration document as the library stores it, split around the auto_renew_hour
   value, so that the raw writes carry rows of the same size. */
enum { PART_SIZE = 4096, DOCUMENT_SIZE = 2 * PART_SIZE + 32, RESPONSE_SIZE = DOCUMENT_SIZE + 128 };
static char document_head[PART_SIZE], document_tail[PART_SIZE];

static void load_document(void) {
    billing_engine *engine = NULL;
    char *json = NULL;
    if (billing_engine_open(":memory:", NULL, &engine) != BILLING_OK) die_billing("billing_engine_open");
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

/* N raw writes; returns the elapsed seconds. */
static double raw_writes(const char *path, const char *synchronous, int n) {
    sqlite3 *db = raw_open(path, synchronous);
    sqlite3_stmt *statements[STATEMENTS];
    for (int i = 0; i < STATEMENTS; i++) {
        must(db, sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &statements[i], NULL), sql[i]);
    }
    static char key[64], document[DOCUMENT_SIZE], response[RESPONSE_SIZE], request[128], detail[128];
    static const char *changed = "{\"changed\":[\"auto_renew_hour\"]}";

    double start = seconds();
    for (int i = 0; i < n; i++) {
        int hour = i % 24;
        int64_t now = (int64_t)time(NULL);
        snprintf(key, sizeof key, "bench-%d", i);
        snprintf(request, sizeof request, "{\"actor\":\"bench\",\"changes\":{\"auto_renew_hour\":%d}}", hour);
        snprintf(document, sizeof document, "%s%d%s", document_head, hour, document_tail);
        snprintf(response, sizeof response, "{\"changed\":[\"auto_renew_hour\"],\"configuration\":%s,\"schema_version\":1}",
                 document);
        snprintf(detail, sizeof detail, "{\"changed\":[\"auto_renew_hour\"],\"changes\":{\"auto_renew_hour\":%d}}", hour);

        run(db, statements[BEGIN]);
        text(statements[LOOKUP], 1, key);
        if (sqlite3_step(statements[LOOKUP]) != SQLITE_DONE) die("key %s already used", key);
        sqlite3_reset(statements[LOOKUP]);
        run(db, statements[REVISION]);
        run(db, statements[DOCUMENT]);
        text(statements[UPSERT], 1, document);
        run(db, statements[UPSERT]);
        sqlite3_stmt *event = statements[EVENT];
        text(event, 1, "config.changed");
        sqlite3_bind_null(event, 2);
        sqlite3_bind_null(event, 3);
        sqlite3_bind_int64(event, 4, now);
        text(event, 5, changed);
        run(db, event);
        sqlite3_stmt *audit = statements[AUDIT];
        sqlite3_bind_int64(audit, 1, now);
        text(audit, 2, "bench");
        text(audit, 3, "config.update");
        sqlite3_bind_null(audit, 4);
        text(audit, 5, "configuration");
        text(audit, 6, detail);
        run(db, audit);
        sqlite3_stmt *record = statements[RECORD];
        text(record, 1, key);
        text(record, 2, "config.update");
        text(record, 3, request);
        text(record, 4, response);
        sqlite3_bind_int64(record, 5, now);
        run(db, record);
        run(db, statements[COMMIT]);
    }
    double elapsed = seconds() - start;

    for (int i = 0; i < STATEMENTS; i++) sqlite3_finalize(statements[i]);
    if (pragma_int(db, "SELECT count(*) FROM events") != n) die("raw: expected %d events", n);
    sqlite3_close(db);
    return elapsed;
}

/* ---- Through the library ---------------------------------------------------------------- */

static double library_writes(const char *path, const char *synchronous, int n) {
    char options[64], request[160];
    billing_engine *engine = NULL;
    snprintf(options, sizeof options, "{\"synchronous\": \"%s\"}", synchronous);
    if (billing_engine_open(path, options, &engine) != BILLING_OK) die_billing("billing_engine_open");

    double start = seconds();
    for (int i = 0; i < n; i++) {
        char *response = NULL;
        snprintf(request, sizeof request,
                 "{\"actor\":\"bench\",\"idempotency_key\":\"bench-%d\",\"changes\":{\"auto_renew_hour\":%d}}", i, i % 24);
        if (billing_config_update(engine, request, &response) != BILLING_OK) die_billing("billing_config_update");
        billing_string_free(response);
    }
    double elapsed = seconds() - start;

    char *page = NULL;
    if (billing_events_list(engine, "{\"limit\": 1}", &page) != BILLING_OK) die_billing("billing_events_list");
    billing_string_free(page);
    billing_engine_close(engine);
    return elapsed;
}

/* ---- Open -------------------------------------------------------------------------------- */

static double library_opens(const char *path, int m) {
    double start = seconds();
    for (int i = 0; i < m; i++) {
        billing_engine *engine = NULL;
        if (billing_engine_open(path, NULL, &engine) != BILLING_OK) die_billing("billing_engine_open");
        billing_engine_close(engine);
    }
    return seconds() - start;
}

static double raw_opens(const char *path, int m) {
    double start = seconds();
    for (int i = 0; i < m; i++) sqlite3_close(raw_open(path, "FULL"));
    return seconds() - start;
}

/* ---- Report ------------------------------------------------------------------------------ */

static void row(const char *scenario, int n, double library_seconds, double raw_seconds) {
    double library_rate = n / library_seconds, raw_rate = n / raw_seconds;
    double ratio = library_rate / raw_rate;
    char comparison[32];
    if (ratio < 1) snprintf(comparison, sizeof comparison, "%.2fx slower", 1 / ratio);
    else snprintf(comparison, sizeof comparison, "%.2fx faster", ratio);
    printf("| %-26s | %6d | %13.0f | %13.1f | %9.0f | %9.1f | %5.1f%% (%s) |\n", scenario, n, library_rate,
           1e6 / library_rate, raw_rate, 1e6 / raw_rate, 100 * ratio, comparison);
    fflush(stdout);
}

static int count(int argc, char **argv, int index, int fallback) {
    if (argc <= index) return fallback;
    long value = strtol(argv[index], NULL, 10);
    if (value < 1 || value > 10000000) die("counts must be 1–10000000, got '%s'", argv[index]);
    return (int)value;
}

int main(int argc, char **argv) {
    int full = count(argc, argv, 1, 2000), normal = count(argc, argv, 2, 10000), opens = count(argc, argv, 3, 1000);
    snprintf(directory, sizeof directory, "/tmp/bench_write.XXXXXX");
    if (!mkdtemp(directory)) {
        directory[0] = '\0';
        die("mkdtemp failed");
    }
    load_document();

    char library_full[PATH_MAX], raw_full[PATH_MAX], library_normal[PATH_MAX], raw_normal[PATH_MAX];
    file_path(library_full, sizeof library_full, names[0], "");
    file_path(raw_full, sizeof raw_full, names[1], "");
    file_path(library_normal, sizeof library_normal, names[2], "");
    file_path(raw_normal, sizeof raw_normal, names[3], "");

    printf("libbilling %s, SQLite %s, files in %s\n\n", billing_version(), sqlite3_libversion(), directory);
    printf("| %-26s | %6s | %13s | %13s | %9s | %9s | %-21s |\n", "scenario", "N", "library ops/s",
           "library us/op", "raw ops/s", "raw us/op", "library/raw");
    printf("|----------------------------|--------|---------------|---------------|-----------|-----------|"
           "-----------------------|\n");
    fflush(stdout);

    double library_seconds = library_writes(library_full, "FULL", full);
    double raw_seconds = raw_writes(raw_full, "FULL", full);
    row("write, synchronous=FULL", full, library_seconds, raw_seconds);

    library_seconds = library_writes(library_normal, "NORMAL", normal);
    raw_seconds = raw_writes(raw_normal, "NORMAL", normal);
    row("write, synchronous=NORMAL", normal, library_seconds, raw_seconds);

    /* The FULL files are existing, migrated databases by now. */
    library_seconds = library_opens(library_full, opens);
    raw_seconds = raw_opens(raw_full, opens);
    row("open+close, existing file", opens, library_seconds, raw_seconds);

    cleanup();
    return 0;
}
