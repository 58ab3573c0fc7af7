/*
 * bench_write.c — what libbilling costs over hand-written SQLite doing the same work,
 * measured in one run on the same machine and disk, so only the ratios mean anything.
 *
 * write: one idempotent configuration change, i.e. one transaction that looks the
 *        idempotency key up, reads the configuration, updates it, and appends an event, an
 *        idempotency record and the audit row with row coverage. (a) billing_config_update
 *        with a new key each time; (b) the library's 16 statements through prepared
 *        statements on a file the library made (bench_coverage.h for the digests, the
 *        scope's audit link and row_digests); its first write's stored texts must equal the
 *        library's and billing_verify must accept the raw file. Both in WAL mode, with
 *        synchronous=FULL and with synchronous=NORMAL. Library and raw writes (and opens)
 *        alternate, library, raw, raw, library, in rounds of a twentieth of the count, both files
 *        open throughout (until 2026-12-07 all the library's writes came first).
 * open:  open + close of an existing file (the library's, with its whole schema). (a)
 *        billing_engine_open/close; (b) sqlite3_open_v2 with the checks, schema read and
 *        pragmas the library runs on open, then sqlite3_close.
 *
 *   usage: bench_write [WRITES_FULL [WRITES_NORMAL [OPENS]]]   (defaults 2000 10000 1000)
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, clock_gettime, unlink, rmdir */
#define BENCH_NAME "bench_write"

#include "bench_common.h"
#include "bench_coverage.h"
#include "bench_write_texts.h"

/* ---- Raw SQLite: the library's file and statements ------------------------------------ */

/* The raw side writes into a file the library made (its whole schema, as every migration
   leaves it), opened the way the library opens one. Before, it made its own file with
   migration 1's four tables: no scoped idempotency, no event positions, no audit chain, no
   row coverage, so it ran fewer statements than the library. */
static sqlite3 *raw_open(const char *path, const char *synchronous) {
    char options[64];
    snprintf(options, sizeof options, "{\"synchronous\": \"%s\"}", synchronous);
    billing_engine_close(bench_engine_open(path, options));
    return bench_sqlite_open(path, synchronous);
}

enum { BEGIN, LOOKUP, REVISION, UPSERT, EVENT, RECORD, COMMIT, STATEMENTS };

/* The statements of IdempotencyStore, Engine.perform, ConfigurationStore, EventLog (AuditLog
   and RowCoverage: bench_coverage.h), as the library's statement log shows them. */
static const char *sql[STATEMENTS] = {
    [BEGIN] = "BEGIN IMMEDIATE",
    [LOOKUP] = "SELECT operation, request, response FROM idempotency WHERE scope = ? AND key = ?",
    [REVISION] = "SELECT revision FROM config WHERE id = 1",
    [UPSERT] = ("INSERT INTO config (id, document, revision) VALUES (1, ?, 1)\n"
                "ON CONFLICT (id) DO UPDATE SET document = excluded.document, revision = config.revision + 1"),
    [EVENT] = "INSERT INTO events (type, account_id, subject_id, occurred_at, data, position)\n"
              "VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM events))",
    [RECORD] = "INSERT INTO idempotency (scope, key, operation, request, response, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    [COMMIT] = "COMMIT",
};

static void run(sqlite3 *db, sqlite3_stmt *statement) {
    int code;
    while ((code = sqlite3_step(statement)) == SQLITE_ROW) {
    }
    bench_must(db, code, sqlite3_sql(statement));
    sqlite3_reset(statement);
}

/* A read of one row as the library's `first`: one step, then reset. */
static void first(sqlite3 *db, sqlite3_stmt *statement) {
    int code = sqlite3_step(statement);
    if (code != SQLITE_ROW) bench_must(db, code, sqlite3_sql(statement));
    else (void)sqlite3_column_int64(statement, 0);
    sqlite3_reset(statement);
}

static void text(sqlite3_stmt *statement, int index, const char *value) {
    sqlite3_bind_text(statement, index, value, -1, SQLITE_STATIC);
}


/* What the library stored for its first write (library_writes reads it back): the raw side's
   first write must store the same texts. */
static char *library_first[5];

static void check_same(sqlite3 *db, const char *what, const char *query, int column) {
    sqlite3_stmt *statement;
    bench_must(db, sqlite3_prepare_v2(db, query, -1, &statement, NULL), query);
    if (sqlite3_step(statement) != SQLITE_ROW) die("raw: no %s", what);
    const char *raw = (const char *)sqlite3_column_text(statement, 0);
    if (!raw || !library_first[column] || strcmp(raw, library_first[column]) != 0) {
        die("raw %s differs from the library's:\n  raw     %.300s\n  library %.300s", what, raw ? raw : "(null)",
            library_first[column] ? library_first[column] : "(null)");
    }
    sqlite3_finalize(statement);
}

#define FIRST_AUDIT "SELECT detail FROM audit_log WHERE operation = 'config.update' ORDER BY id LIMIT 1"
#define FIRST_REQUEST "SELECT request FROM idempotency WHERE key = 'bench-0'"
#define FIRST_RESPONSE "SELECT response FROM idempotency WHERE key = 'bench-0'"
#define FIRST_EVENT "SELECT data FROM events WHERE type = 'config.changed' ORDER BY seq LIMIT 1"
#define FIRST_DOCUMENT "SELECT json_extract(response, '$.configuration') FROM idempotency WHERE key = 'bench-0'"

/* The raw side's write number i: never inlined, so that a profile can count it alone
   (valgrind --tool=callgrind --toggle-collect=raw_write, as bench/README.md shows). */
static __attribute__((noinline)) void raw_write(sqlite3 *db, sqlite3_stmt **statements, int i) {
    static struct write_texts t;
    int64_t now = (int64_t)time(NULL);
    write_texts(&t, i);

    run(db, statements[BEGIN]);
    sqlite3_stmt *lookup = statements[LOOKUP];
    text(lookup, 1, "actor:bench");
    text(lookup, 2, t.key);
    if (sqlite3_step(lookup) != SQLITE_DONE) die("key %s already used", t.key);
    sqlite3_reset(lookup);
    /* The library reads the revision twice a write (the operation's configuration, the
       cache after the save); so does the baseline. (A third read, for the stored document's
       tree, went with that tree.) */
    first(db, statements[REVISION]);
    text(statements[UPSERT], 1, t.document);
    run(db, statements[UPSERT]);
    first(db, statements[REVISION]);
    sqlite3_stmt *event = statements[EVENT];
    text(event, 1, "config.changed");
    sqlite3_bind_null(event, 2);
    sqlite3_bind_null(event, 3);
    sqlite3_bind_int64(event, 4, now);
    text(event, 5, write_changed);
    run(db, event);
    sqlite3_stmt *record = statements[RECORD];
    text(record, 1, "actor:bench");
    text(record, 2, t.key);
    text(record, 3, "config.update");
    text(record, 4, t.request);
    text(record, 5, t.response);
    sqlite3_bind_int64(record, 6, now);
    run(db, record);
    cover_audit_append(now, "bench", "config.update", NULL, "configuration", t.detail);
    cover_check_taken();
    run(db, statements[COMMIT]);
}

/* The raw side's file and statements, between raw_writes_open and raw_writes_check. */
static sqlite3 *raw_db;
static sqlite3_stmt *raw_statements[STATEMENTS];

static void raw_writes_open(const char *path, const char *synchronous) {
    sqlite3 *db = raw_open(path, synchronous);
    sqlite3_stmt **statements = raw_statements;
    raw_db = db;
    cover_install(db);
    for (int i = 0; i < STATEMENTS; i++) {
        bench_must(db, sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &statements[i], NULL), sql[i]);
    }
}

/* Raw writes with keys from..from+n-1 on the open raw file; returns the elapsed seconds. */
static double raw_writes(int from, int n) {
    double start = support_seconds();
    for (int i = from; i < from + n; i++) {
        raw_write(raw_db, raw_statements, i);
    }
    return support_seconds() - start;
}

/* Closes the raw file after its n writes and checks it: the first write's texts are the
   library's, and the library finds the file consistent (billing_verify). */
static void raw_writes_check(const char *path, int n) {
    sqlite3 *db = raw_db;
    sqlite3_stmt **statements = raw_statements;
    for (int i = 0; i < STATEMENTS; i++) sqlite3_finalize(statements[i]);
    cover_close();
    if (bench_query_int(db, "SELECT count(*) FROM events WHERE type = 'config.changed'") != n) die("raw: expected %d events", n);
    check_same(db, "audit detail", FIRST_AUDIT, 0);
    check_same(db, "idempotency request", FIRST_REQUEST, 1);
    check_same(db, "idempotency response", FIRST_RESPONSE, 2);
    check_same(db, "event data", FIRST_EVENT, 3);
    check_same(db, "configuration", FIRST_DOCUMENT, 4);
    sqlite3_close(db);
    /* The library finds the raw file consistent: rows, digests, chain. */
    billing_engine *engine = bench_engine_open(path, NULL);
    char *verdict = NULL;
    if (billing_verify(engine, NULL, &verdict) != BILLING_OK) die_billing("billing_verify");
    if (!strstr(verdict, "\"ok\":true")) die("billing_verify on the raw file: %.600s", verdict);
    billing_string_free(verdict);
    billing_engine_close(engine);
}

/* ---- Through the library ---------------------------------------------------------------- */

static billing_engine *library_open(const char *path, const char *synchronous) {
    char options[64];
    snprintf(options, sizeof options, "{\"synchronous\": \"%s\"}", synchronous);
    return bench_engine_open(path, options);
}

/* Library writes with keys from..from+n-1; returns the elapsed seconds. */
static double library_writes(billing_engine *engine, int from, int n) {
    char request[160];
    double start = support_seconds();
    for (int i = from; i < from + n; i++) {
        char *response = NULL;
        snprintf(request, sizeof request,
                 "{\"actor\":\"bench\",\"idempotency_key\":\"bench-%d\",\"changes\":{\"auto_renew_hour\":%d}}", i, i % 24);
        if (billing_config_update(engine, request, &response) != BILLING_OK) die_billing("billing_config_update");
        billing_string_free(response);
    }
    return support_seconds() - start;
}

/* Closes the engine after its writes and keeps what its first write stored (the raw side's
   must equal it). */
static void library_close(billing_engine *engine, const char *path, const char *synchronous) {
    char *page = NULL;
    if (billing_events_list(engine, "{\"limit\": 1}", &page) != BILLING_OK) die_billing("billing_events_list");
    billing_string_free(page);
    billing_engine_close(engine);
    /* What the first write stored, for the raw side's check. */
    static const char *queries[5] = {FIRST_AUDIT, FIRST_REQUEST, FIRST_RESPONSE, FIRST_EVENT, FIRST_DOCUMENT};
    sqlite3 *db = bench_sqlite_open(path, synchronous);
    for (int q = 0; q < 5; q++) {
        sqlite3_stmt *statement;
        bench_must(db, sqlite3_prepare_v2(db, queries[q], -1, &statement, NULL), queries[q]);
        free(library_first[q]);
        library_first[q] = sqlite3_step(statement) == SQLITE_ROW ? strdup((const char *)sqlite3_column_text(statement, 0)) : NULL;
        sqlite3_finalize(statement);
    }
    sqlite3_close(db);
}

/* ---- Open -------------------------------------------------------------------------------- */

static double library_opens(const char *path, int m) {
    double start = support_seconds();
    for (int i = 0; i < m; i++) {
        billing_engine_close(bench_engine_open(path, NULL));
    }
    return support_seconds() - start;
}

/* The raw side opens the library's own file, so that SQLite parses the same schema (every
   migration's tables, indexes and triggers) on the first statement, as the library's open
   does; it checks identity and version, reads the schema and sets the pragmas. */
static sqlite3 *raw_open_existing(const char *path) {
    sqlite3 *db = bench_sqlite_connect(path, SQLITE_OPEN_READWRITE);
    if (bench_query_int(db, "PRAGMA application_id") != 0x42494C4C || bench_query_int(db, "PRAGMA user_version") < 1) {
        fprintf(stderr, "%s: %s is not a libbilling file\n", BENCH_NAME, path);
        exit(1);
    }
    bench_query_int(db, "SELECT length(group_concat(type || name || tbl_name || coalesce(sql, ''))) FROM sqlite_schema");
    bench_sqlite_pragmas(db, "FULL");
    return db;
}

static double raw_opens(const char *path, int m) {
    double start = support_seconds();
    for (int i = 0; i < m; i++) sqlite3_close(raw_open_existing(path));
    return support_seconds() - start;
}

/* bench_alternate's sides. */
static double library_write_side(void *engine, int64_t from, int64_t count) { return library_writes(engine, (int)from, (int)count); }
static double raw_write_side(void *unused, int64_t from, int64_t count) {
    (void)unused;
    return raw_writes((int)from, (int)count);
}
static double library_open_side(void *path, int64_t from, int64_t count) {
    (void)from;
    return library_opens(path, (int)count);
}
static double raw_open_side(void *path, int64_t from, int64_t count) {
    (void)from;
    return raw_opens(path, (int)count);
}

/* ---- Report ------------------------------------------------------------------------------ */

static const struct bench_column columns[] = {
    {"scenario", 26, BENCH_TEXT, 0},  {"N", 6, BENCH_COUNT, 0},         {"library ops/s", 13, BENCH_REAL, 0},
    {"library us/op", 13, BENCH_REAL, 1}, {"raw ops/s", 9, BENCH_REAL, 0}, {"raw us/op", 9, BENCH_REAL, 1},
    {"library/raw", 21, BENCH_RATIO, 0},
};

static void row(const char *scenario, int n, double library_seconds, double raw_seconds) {
    bench_compare_row(columns, scenario, n, library_seconds, raw_seconds, 1e6);
}

int main(int argc, char **argv) {
    int full = bench_count(argc, argv, 1, 2000), normal = bench_count(argc, argv, 2, 10000), opens = bench_count(argc, argv, 3, 1000);
    bench_make_directory();
    load_document();

    char library_full[PATH_MAX], raw_full[PATH_MAX], library_normal[PATH_MAX], raw_normal[PATH_MAX];
    bench_file(library_full, sizeof library_full, "lib-FULL");
    bench_file(raw_full, sizeof raw_full, "raw-FULL");
    bench_file(library_normal, sizeof library_normal, "lib-NORMAL");
    bench_file(raw_normal, sizeof raw_normal, "raw-NORMAL");

    printf("libbilling %s, SQLite %s, files in %s\n\n", billing_version(), sqlite3_libversion(), bench_directory);
    bench_table_header(columns, sizeof columns / sizeof *columns);

    /* Each comparison alternates library, raw, raw, library in rounds of a twentieth of the
       count (bench_alternate; both files open throughout). */
    static const struct {
        const char *synchronous, *label, *summary;
    } modes[] = {
        {"FULL", "write, synchronous=FULL", "one idempotent write with event and audit, FULL"},
        {"NORMAL", "write, synchronous=NORMAL", "one idempotent write with event and audit, NORMAL"},
    };
    for (int m = 0; m < 2; m++) {
        const char *library_path = m ? library_normal : library_full, *raw_path = m ? raw_normal : raw_full;
        int n = m ? normal : full;
        billing_engine *engine = library_open(library_path, modes[m].synchronous);
        raw_writes_open(raw_path, modes[m].synchronous);
        double library_seconds, raw_seconds;
        bench_alternate(n, bench_round(n), 1, library_write_side, engine, raw_write_side, NULL, &library_seconds, &raw_seconds);
        library_close(engine, library_path, modes[m].synchronous);
        raw_writes_check(raw_path, n);
        row(modes[m].label, n, library_seconds, raw_seconds);
        bench_summary_times(modes[m].summary, n, library_seconds, raw_seconds);
    }

    /* The library's FULL file is an existing, migrated database by now; both sides open it. */
    double library_seconds, raw_seconds;
    bench_alternate(opens, bench_round(opens), 1, library_open_side, library_full, raw_open_side, library_full, &library_seconds,
                    &raw_seconds);
    row("open+close, existing file", opens, library_seconds, raw_seconds);
    bench_summary_times("open + close of an existing file", opens, library_seconds, raw_seconds);

    bench_cleanup();
    return 0;
}
