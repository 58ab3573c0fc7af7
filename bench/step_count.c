/*
 * step_count.c — an LD_PRELOAD library that counts, per connection and statement text, how
 * many times each SQLite statement is run (a first sqlite3_step after a reset) and stepped,
 * and writes the counts when the process exits. It checks that a baseline runs the library's
 * statements: run a bench program under it and compare the library's connection with the
 * baseline's (connections are numbered in the order they were opened).
 *
 *   cc -O2 -shared -fPIC -o build/step_count.so step_count.c -ldl
 *   STEP_COUNT_OUT=/tmp/steps.tsv LD_PRELOAD=$PWD/build/step_count.so build/bench_usage 2000 100
 *   # columns: connection, runs, steps, SQL (newlines as spaces)
 *
 * Statements run by triggers are not counted (SQLite runs them inside the outer statement).
 * Not thread-safe; the bench programs are single-threaded.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STATEMENTS 65536
#define MAX_CONNECTIONS 1024

static struct { int connection; sqlite3_stmt *statement; char *sql; long runs, steps; } entries[MAX_STATEMENTS];
static int used;
static struct { sqlite3 *db; } connections[MAX_CONNECTIONS];
static int opened;

static void report(void) {
    const char *path = getenv("STEP_COUNT_OUT");
    FILE *out = fopen(path ? path : "step_count.tsv", "w");
    if (!out) return;
    for (int i = 0; i < used; i++) {
        for (char *c = entries[i].sql; *c; c++) if (*c == '\n' || *c == '\t') *c = ' ';
        fprintf(out, "%d\t%ld\t%ld\t%s\n", entries[i].connection, entries[i].runs, entries[i].steps, entries[i].sql);
    }
    fclose(out);
}

int sqlite3_open_v2(const char *name, sqlite3 **db, int flags, const char *vfs) {
    static int (*real)(const char *, sqlite3 **, int, const char *);
    if (!real) real = (int (*)(const char *, sqlite3 **, int, const char *))dlsym(RTLD_NEXT, "sqlite3_open_v2");
    int code = real(name, db, flags, vfs);
    if (opened < MAX_CONNECTIONS) connections[opened++].db = *db;
    return code;
}

/* The number of the connection (latest open first: a closed handle's address may be reused). */
static int connection_of(sqlite3 *db) {
    for (int i = opened - 1; i >= 0; i--) if (connections[i].db == db) return i;
    return -1;
}

int sqlite3_step(sqlite3_stmt *statement) {
    static int (*real)(sqlite3_stmt *);
    if (!real) {
        real = (int (*)(sqlite3_stmt *))dlsym(RTLD_NEXT, "sqlite3_step");
        atexit(report);
    }
    /* Statements without their text (sqlite3_sql NULL) are counted together as "?". */
    const char *sql = sqlite3_sql(statement);
    if (!sql) sql = "?";
    int connection = connection_of(sqlite3_db_handle(statement)), i;
    for (i = 0; i < used; i++) {
        if (entries[i].statement == statement && entries[i].connection == connection && !strcmp(entries[i].sql, sql)) break;
    }
    if (i == used) {
        for (i = 0; i < used; i++) if (entries[i].connection == connection && !strcmp(entries[i].sql, sql)) break;
        if (i == used && used < MAX_STATEMENTS) {
            entries[used].connection = connection;
            entries[used].sql = strdup(sql);
            used++;
        }
        if (i < MAX_STATEMENTS) entries[i].statement = statement;
    }
    if (i < MAX_STATEMENTS) {
        entries[i].steps++;
        if (!sqlite3_stmt_busy(statement)) entries[i].runs++;
    }
    return real(statement);
}
