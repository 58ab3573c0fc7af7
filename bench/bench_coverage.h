/*
 * bench_coverage.h — row coverage and the chained audit row done by hand in C, as
 * Sources/BillingStorage/RowCoverage.swift, SQLite/SQLiteConnection+Coverage.swift and
 * AuditLog.swift do them, for the baselines of bench_write, bench_orders, bench_scheduler and
 * bench_usage. With it a baseline runs the statements the library runs for coverage, and
 * billing_verify accepts the file it wrote.
 *
 * What the library does, and this header with it, on one connection:
 * - install: a function `billing_touch(table, key)` of the connection that notes keys in
 *   memory, and per covered table three TEMP triggers calling it with the row's key (a JSON
 *   array) after an insert, update (old and new key) or delete;
 * - at the audit row (cover_audit_append): the distinct touched keys in (table, key) byte
 *   order; per table, one key read back by `SELECT <columns> FROM main.<t> WHERE <key> =
 *   json_extract(?1, '$[i]')…`, several keys in one statement over json_each; each key's
 *   digest (BLAKE2b-256 of table, key, row count and each row's canonical content); the list
 *   of writes as JSON; the scope's last hash (the log's last hash for a scope's first row);
 *   the link (AuditLog.chainLink, "libbilling audit row 2"); the INSERT of the audit row; one
 *   upsert into row_digests per write (a DELETE for a row gone).
 * Not handled (the baselines never need it): rollback of noted keys, keyed chains, several
 * rows under one key that are not ASCII-sortable.
 * The digests, the list of writes and the link are bench_chain.h's, shared with
 * bench_pg_coverage.h (PostgreSQL).
 */
#ifndef BENCH_COVERAGE_H
#define BENCH_COVERAGE_H

#include "bench_common.h"
#include "bench_chain.h"

static struct {
    sqlite3 *db;
    struct cover_write *noted;
    size_t used, size;
    sqlite3_stmt *by_key[COVER_TABLES], *by_keys[COVER_TABLES];
    sqlite3_stmt *scope_last, *log_last, *insert, *upsert, *remove;
    struct cover_bytes rows, hashed, keys;
    struct cover_group group; /* the rows' contents under the key being read */
} cover;

/* billing_touch(table, key): the key noted in memory (TouchLog.note). */
static void cover_touch(sqlite3_context *context, int count, sqlite3_value **values) {
    (void)count;
    const char *table = (const char *)sqlite3_value_text(values[0]), *key = (const char *)sqlite3_value_text(values[1]);
    if (!table || !key) {
        sqlite3_result_error(context, "billing_touch: a table and a key", -1);
        return;
    }
    int t = cover.used && strcmp(cover_tables[cover.noted[cover.used - 1].table].name, table) == 0 ? cover.noted[cover.used - 1].table
                                                                                                    : cover_table_index(table);
    if (cover.used == cover.size) {
        cover.size = cover.size * 2 + 1024;
        cover.noted = realloc(cover.noted, cover.size * sizeof *cover.noted);
        if (!cover.noted) die("out of memory");
    }
    cover.noted[cover.used].table = t;
    cover.noted[cover.used].key = strdup(key);
    cover.used++;
    sqlite3_result_null(context);
}

static void cover_prepare(sqlite3_stmt **statement, const char *sql) {
    bench_must(cover.db, sqlite3_prepare_v3(cover.db, sql, -1, SQLITE_PREPARE_PERSISTENT, statement, NULL), sql);
}

/* SQLiteConnection.trackChanges and the statements of RowCoverage and AuditLog.appendRow. */
static void cover_install(sqlite3 *db) {
    cover.db = db;
    bench_must(db, sqlite3_create_function_v2(db, "billing_touch", 2, SQLITE_UTF8 | SQLITE_DIRECTONLY, NULL, cover_touch, NULL, NULL, NULL),
               "billing_touch");
    static char script[COVER_TABLES * 1024];
    size_t used = 0;
    for (int t = 0; t < COVER_TABLES; t++) {
        const char *name = cover_tables[t].name;
        char new[256], old[256], *p;
        for (int which = 0; which < 2; which++) {
            p = which ? old : new;
            size_t n = (size_t)snprintf(p, 256, "billing_touch('%s', json_array(", name);
            for (int k = 0; k < 4 && cover_tables[t].key[k]; k++) n += (size_t)snprintf(p + n, 256 - n, "%s%s%s", k ? ", " : "", which ? "OLD." : "NEW.", cover_tables[t].key[k]);
            snprintf(p + n, 256 - n, "))");
        }
        used += (size_t)snprintf(script + used, sizeof script - used,
                                 "CREATE TEMP TRIGGER IF NOT EXISTS billing_cover_%s_insert AFTER INSERT ON main.%s BEGIN SELECT %s; END;\n"
                                 "CREATE TEMP TRIGGER IF NOT EXISTS billing_cover_%s_update AFTER UPDATE ON main.%s BEGIN SELECT %s, %s; END;\n"
                                 "CREATE TEMP TRIGGER IF NOT EXISTS billing_cover_%s_delete AFTER DELETE ON main.%s BEGIN SELECT %s; END;\n",
                                 name, name, new, name, name, old, new, name, name, old);
    }
    bench_exec(db, script);
    cover_prepare(&cover.scope_last, "SELECT hash FROM audit_log WHERE scope = ? ORDER BY id DESC LIMIT 1");
    cover_prepare(&cover.log_last, "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1");
    cover_prepare(&cover.insert, "INSERT INTO audit_log (recorded_at, actor, operation, account_id, subject_id, detail, rows, scope, hash)\n"
                                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    cover_prepare(&cover.upsert, "INSERT INTO row_digests (table_name, row_key, digest, audit_id) VALUES (?, ?, ?, ?)\n"
                                 "ON CONFLICT (table_name, row_key) DO UPDATE SET digest = excluded.digest, audit_id = excluded.audit_id");
    cover_prepare(&cover.remove, "DELETE FROM row_digests WHERE table_name = ? AND row_key = ?");
}

/* The statement reading a table's rows by one key (SQLDialect.selectByKey) or several. */
static sqlite3_stmt *cover_select(int t, int several) {
    sqlite3_stmt **slot = several ? &cover.by_keys[t] : &cover.by_key[t];
    if (*slot) return *slot;
    const struct cover_table *table = &cover_tables[t];
    char sql[1024], columns[512];
    size_t used;
    if (several) {
        if (table->columns) {
            /* "t.a, t.b" */
            size_t n = 0;
            const char *c = table->columns;
            n += (size_t)snprintf(columns + n, sizeof columns - n, "t.");
            for (; *c; c++) {
                if (*c == ' ' && c[-1] == ',') n += (size_t)snprintf(columns + n, sizeof columns - n, " t.");
                else columns[n++] = *c;
            }
            columns[n] = '\0';
        } else {
            snprintf(columns, sizeof columns, "t.*");
        }
        used = (size_t)snprintf(sql, sizeof sql, "SELECT k.key, %s FROM json_each(?1) k CROSS JOIN main.%s t WHERE ", columns, table->name);
        for (int k = 0; k < 4 && table->key[k]; k++)
            used += (size_t)snprintf(sql + used, sizeof sql - used, "%st.%s = json_extract(k.value, '$[%d]')", k ? " AND " : "", table->key[k], k);
    } else {
        used = (size_t)snprintf(sql, sizeof sql, "SELECT %s FROM main.%s WHERE ", table->columns ? table->columns : "*", table->name);
        for (int k = 0; k < 4 && table->key[k]; k++)
            used += (size_t)snprintf(sql + used, sizeof sql - used, "%s%s = json_extract(?1, '$[%d]')", k ? " AND " : "", table->key[k], k);
    }
    cover_prepare(slot, sql);
    return *slot;
}

/* A row's canonical content from column `from` on (RowCoverage.canonical). */
static void cover_canonical(struct cover_bytes *b, sqlite3_stmt *row, int from) {
    for (int c = from, n = sqlite3_column_count(row); c < n; c++) {
        int type = sqlite3_column_type(row, c);
        if (type == SQLITE_NULL) continue;
        const unsigned char *value = sqlite3_column_text(row, c);
        cover_put_column(b, sqlite3_column_name(row, c), type == SQLITE_INTEGER ? "i" : type == SQLITE_TEXT ? "t" : type == SQLITE_FLOAT ? "x2" : "x4",
                         value, (size_t)sqlite3_column_bytes(row, c));
    }
}

static void cover_digest_one(struct cover_write *write) {
    sqlite3_stmt *select = cover_select(write->table, 0);
    sqlite3_bind_text(select, 1, write->key, -1, SQLITE_STATIC);
    cover.group.used = 0;
    int code;
    while ((code = sqlite3_step(select)) == SQLITE_ROW) cover_canonical(cover_group_next(&cover.group), select, 0);
    bench_must(cover.db, code, sqlite3_sql(select));
    sqlite3_reset(select);
    sqlite3_clear_bindings(select);
    cover_group_digest(&cover.group, write, &cover.hashed);
}

/* Several keys of one table in one statement (RowCoverage.digests); rows come in key order. */
static void cover_digest_many(struct cover_write *group, size_t count) {
    struct cover_bytes *list = &cover.keys;
    list->used = 0;
    cover_put(list, "[", 1);
    for (size_t w = 0; w < count; w++) {
        if (w) cover_put(list, ",", 1);
        cover_put_text(list, group[w].key);
    }
    cover_put(list, "]", 1);
    sqlite3_stmt *select = cover_select(group->table, 1);
    sqlite3_bind_text(select, 1, (const char *)list->data, (int)list->used, SQLITE_STATIC);
    int64_t current = -1;
    int code;
    cover.group.used = 0;
    while ((code = sqlite3_step(select)) == SQLITE_ROW) {
        int64_t index = sqlite3_column_int64(select, 0);
        if (index < 0 || index >= (int64_t)count || index < current) die("%s: rows out of key order", cover_tables[group->table].name);
        if (index != current) {
            if (current >= 0) cover_group_digest(&cover.group, &group[current], &cover.hashed);
            for (int64_t gone = current + 1; gone < index; gone++) group[gone].digest[0] = '\0';
            cover.group.used = 0;
            current = index;
        }
        cover_canonical(cover_group_next(&cover.group), select, 1);
    }
    bench_must(cover.db, code, sqlite3_sql(select));
    if (current >= 0) cover_group_digest(&cover.group, &group[current], &cover.hashed);
    for (size_t gone = (size_t)(current + 1); gone < count; gone++) group[gone].digest[0] = '\0';
    sqlite3_reset(select);
    sqlite3_clear_bindings(select);
}

/* TouchLog.take's order: table name bytes, then key bytes. */
static int cover_compare_writes(const void *a, const void *b) {
    const struct cover_write *x = a, *y = b;
    int order = x->table == y->table ? 0 : strcmp(cover_tables[x->table].name, cover_tables[y->table].name);
    return order ? order : strcmp(x->key, y->key);
}

/* RowCoverage.collect: the distinct noted keys in (table, key) order, the log emptied, each
   table's keys read back and digested. Returns the number of writes (in cover.noted). */
static size_t cover_collect(void) {
    if (cover.used > 1) qsort(cover.noted, cover.used, sizeof *cover.noted, cover_compare_writes);
    size_t distinct = 0;
    for (size_t i = 0; i < cover.used; i++) {
        if (distinct && cover.noted[distinct - 1].table == cover.noted[i].table && strcmp(cover.noted[distinct - 1].key, cover.noted[i].key) == 0) {
            free(cover.noted[i].key);
            continue;
        }
        if (cover.noted[i].table < 0) die("a write touched a table this program does not cover");
        cover.noted[distinct++] = cover.noted[i];
    }
    cover.used = 0;
    for (size_t first = 0; first < distinct;) {
        size_t end = first + 1;
        while (end < distinct && cover.noted[end].table == cover.noted[first].table) end++;
        if (end - first == 1) cover_digest_one(&cover.noted[first]);
        else cover_digest_many(cover.noted + first, end - first);
        first = end;
    }
    return distinct;
}

/* AuditLog.append: the writes since the last audit row, the scope's previous hash, the link,
   the audit row and each write's digest kept in row_digests. Returns the audit row's id. */
static int64_t cover_audit_append(int64_t at, const char *actor, const char *operation, const char *account, const char *subject,
                                  const char *detail) {
    char scope[256], previous[160] = "", hash[65];
    cover_scope(scope, sizeof scope, account, actor);
    size_t writes = cover_collect();
    struct cover_bytes *rows = &cover.rows;
    cover_list_text(rows, cover.noted, writes);
    sqlite3_stmt *last = cover.scope_last;
    sqlite3_bind_text(last, 1, scope, -1, SQLITE_STATIC);
    int code = sqlite3_step(last), found = 0;
    if (code == SQLITE_ROW && sqlite3_column_type(last, 0) == SQLITE_TEXT) {
        snprintf(previous, sizeof previous, "%s", (const char *)sqlite3_column_text(last, 0));
        found = 1;
    } else if (code != SQLITE_ROW) {
        bench_must(cover.db, code, sqlite3_sql(last));
    }
    sqlite3_reset(last);
    sqlite3_clear_bindings(last);
    if (!found) { /* a scope's first row asks the log's last row whether the file is keyed */
        code = sqlite3_step(cover.log_last);
        if (code == SQLITE_ROW && sqlite3_column_type(cover.log_last, 0) == SQLITE_TEXT &&
            strncmp((const char *)sqlite3_column_text(cover.log_last, 0), "k:", 2) == 0) die("a keyed audit chain");
        sqlite3_reset(cover.log_last);
    }
    cover_link(&cover.hashed, scope, previous, at, actor, operation, account, subject, detail, rows, hash);
    sqlite3_stmt *insert = cover.insert;
    sqlite3_bind_int64(insert, 1, at);
    sqlite3_bind_text(insert, 2, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(insert, 3, operation, -1, SQLITE_STATIC);
    if (account) sqlite3_bind_text(insert, 4, account, -1, SQLITE_STATIC); else sqlite3_bind_null(insert, 4);
    if (subject) sqlite3_bind_text(insert, 5, subject, -1, SQLITE_STATIC); else sqlite3_bind_null(insert, 5);
    sqlite3_bind_text(insert, 6, detail, -1, SQLITE_STATIC);
    sqlite3_bind_text(insert, 7, (const char *)rows->data, (int)rows->used, SQLITE_STATIC);
    sqlite3_bind_text(insert, 8, scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(insert, 9, hash, -1, SQLITE_STATIC);
    code = sqlite3_step(insert);
    if (code != SQLITE_DONE) bench_must(cover.db, code, sqlite3_sql(insert));
    sqlite3_reset(insert);
    sqlite3_clear_bindings(insert);
    int64_t id = sqlite3_last_insert_rowid(cover.db);
    for (size_t w = 0; w < writes; w++) {
        struct cover_write *write = &cover.noted[w];
        sqlite3_stmt *statement = write->digest[0] ? cover.upsert : cover.remove;
        sqlite3_bind_text(statement, 1, cover_tables[write->table].name, -1, SQLITE_STATIC);
        sqlite3_bind_text(statement, 2, write->key, -1, SQLITE_STATIC);
        if (write->digest[0]) {
            sqlite3_bind_text(statement, 3, write->digest, -1, SQLITE_STATIC);
            sqlite3_bind_int64(statement, 4, id);
        }
        code = sqlite3_step(statement);
        if (code != SQLITE_DONE) bench_must(cover.db, code, sqlite3_sql(statement));
        sqlite3_reset(statement);
        sqlite3_clear_bindings(statement);
        free(write->key);
    }
    return id;
}

/* Connection.transaction's check at commit: no noted key left without an audit row. */
static void cover_check_taken(void) {
    if (cover.used) die("%zu touched rows without an audit row", cover.used);
}

/* Finalizes the statements (before sqlite3_close) and frees the buffers. */
static void cover_close(void) {
    for (int t = 0; t < COVER_TABLES; t++) {
        sqlite3_finalize(cover.by_key[t]);
        sqlite3_finalize(cover.by_keys[t]);
    }
    sqlite3_finalize(cover.scope_last);
    sqlite3_finalize(cover.log_last);
    sqlite3_finalize(cover.insert);
    sqlite3_finalize(cover.upsert);
    sqlite3_finalize(cover.remove);
    for (size_t i = 0; i < cover.used; i++) free(cover.noted[i].key);
    free(cover.noted);
    free(cover.rows.data);
    free(cover.hashed.data);
    free(cover.keys.data);
    cover_group_free(&cover.group);
    memset(&cover, 0, sizeof cover);
}

#endif /* BENCH_COVERAGE_H */
