/*
 * bench_pg_coverage.h — row coverage and the chained audit row done by hand with libpq, as
 * Sources/BillingStorage/RowCoverage.swift, Postgres/PostgresConnection+Coverage.swift,
 * Postgres/PostgresConnection+Transactions.swift and AuditLog.swift do them on PostgreSQL, for
 * bench_pg's baselines (the SQLite twin is bench_coverage.h; what does not depend on the
 * database is bench_chain.h). With it a baseline runs the statements the library runs for
 * coverage, and billing_verify accepts the schema it wrote.
 *
 * What the library does on PostgreSQL, and this header with it, on one connection:
 * - install (pg_cover_install): the session's TEMP table `billing_touched`, which the covered
 *   tables' triggers (made by the library's migrations in the schema) fill with the key of
 *   every row a statement inserts, updates or deletes, and which rolls back with the
 *   transaction;
 * - at the audit row (pg_cover_audit_append): `SELECT DISTINCT tbl, key … ORDER BY tbl, key`,
 *   then (when it found any) `DELETE FROM pg_temp.billing_touched`; each key's rows read back
 *   by `SELECT <columns> FROM <t> WHERE k1 = $1 AND …` (the key's integers bound as binary
 *   int8 where the server infers bigint, else as text; every covered key column is bigint or
 *   text, so they bind as the library binds them) and digested; the list of writes; the scope's
 *   last hash (the log's last hash for a scope's first row); the link; the INSERT of the audit
 *   row … RETURNING id; one upsert of every digest from the list (jsonb_array_elements) and a
 *   DELETE per row gone;
 * - before COMMIT (pg_cover_check): `SELECT 1 FROM pg_temp.billing_touched LIMIT 1`, the check
 *   that refuses a write no audit row took (`unaudited_write`).
 * Not handled (the baselines never need it): keyed chains, NULL key columns, keys holding
 * escaped characters, column types other than integers, booleans and text.
 */
#ifndef BENCH_PG_COVERAGE_H
#define BENCH_PG_COVERAGE_H

#include "bench_chain.h"

enum { PG_COVER_KEYS = 4, BOOL_OID = 16, INT2_OID = 21, INT4_OID = 23 };

struct pg_cover {
    PGconn *conn;
    struct statement take, clear, untaken, scope_last, log_last, insert, upsert, remove;
    struct statement by_key[COVER_TABLES];
    int prepared[COVER_TABLES];
    struct cover_write *writes;
    size_t size;
    struct cover_bytes rows, hashed, keys; /* keys: the touched keys, each NUL-terminated */
    struct cover_group group;
};

/* Statement numbers of their own (bench_pg's statements use 0–399 on a connection). */
enum { PG_COVER_STATEMENT = 900 };

static struct pg_cover *pg_cover_install(PGconn *conn) {
    struct pg_cover *c = calloc(1, sizeof *c);
    if (!c) die("out of memory");
    c->conn = conn;
    pg_exec(conn, "CREATE TEMP TABLE IF NOT EXISTS billing_touched (tbl text COLLATE \"C\" NOT NULL, key text COLLATE \"C\" NOT NULL)");
    int n = PG_COVER_STATEMENT;
    prepare(conn, &c->take, n++, "SELECT DISTINCT tbl, key FROM pg_temp.billing_touched ORDER BY tbl, key");
    prepare(conn, &c->clear, n++, "DELETE FROM pg_temp.billing_touched");
    prepare(conn, &c->untaken, n++, "SELECT 1 FROM pg_temp.billing_touched LIMIT 1");
    prepare(conn, &c->scope_last, n++, "SELECT hash FROM audit_log WHERE scope = ? ORDER BY id DESC LIMIT 1");
    prepare(conn, &c->log_last, n++, "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1");
    prepare(conn, &c->insert, n++,
            "INSERT INTO audit_log (recorded_at, actor, operation, account_id, subject_id, detail, rows, scope, hash)\n"
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
    prepare(conn, &c->upsert, n++,
            "INSERT INTO row_digests (table_name, row_key, digest, audit_id)\n"
            "SELECT e ->> 0, e ->> 1, e ->> 2, :audit FROM jsonb_array_elements(CAST(:list AS jsonb)) e\n"
            "WHERE e ->> 2 IS NOT NULL\n"
            "ON CONFLICT (table_name, row_key) DO UPDATE SET digest = excluded.digest, audit_id = excluded.audit_id");
    prepare(conn, &c->remove, n++, "DELETE FROM row_digests WHERE table_name = ? AND row_key = ?");
    return c;
}

/* SQLDialect.selectByKey on PostgreSQL, prepared on first use. */
static struct statement *pg_cover_select(struct pg_cover *c, int t) {
    struct statement *s = &c->by_key[t];
    if (c->prepared[t]) return s;
    const struct cover_table *table = &cover_tables[t];
    char sql[1024];
    size_t used = (size_t)snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE ", table->columns ? table->columns : "*", table->name);
    for (int k = 0; k < PG_COVER_KEYS && table->key[k]; k++)
        used += (size_t)snprintf(sql + used, sizeof sql - used, "%s%s = ?", k ? " AND " : "", table->key[k]);
    prepare(c->conn, s, PG_COVER_STATEMENT + 20 + t, sql);
    c->prepared[t] = 1;
    return s;
}

/* Binds a key's values ("[\"RS…\",1]": strings without escapes, integers) to the select, as
   SQLDialect.selectByKeyArguments does; `texts` holds the strings while the select runs. */
static void pg_cover_bind_key(struct statement *s, const char *key, char texts[PG_COVER_KEYS][256]) {
    const char *p = key;
    int index = 0;
    if (*p++ != '[') die("a key that is not an array: %s", key);
    while (*p != ']') {
        if (index >= s->n || index >= PG_COVER_KEYS) die("a key with too many values: %s", key);
        if (*p == '"') {
            const char *end = strchr(p + 1, '"');
            if (!end || memchr(p + 1, '\\', (size_t)(end - p - 1)) || end - p - 1 >= 256) die("a key this program cannot read: %s", key);
            snprintf(texts[index], 256, "%.*s", (int)(end - p - 1), p + 1);
            bind_text(s, index + 1, texts[index]);
            p = end + 1;
        } else {
            char *end;
            long long value = strtoll(p, &end, 10);
            if (end == p) die("a key this program cannot read: %s", key);
            bind_int(s, index + 1, (int64_t)value);
            p = end;
        }
        index++;
        if (*p == ',') p++;
        else if (*p != ']') die("a key this program cannot read: %s", key);
    }
    if (index != s->n) die("a key with too few values: %s", key);
}

/* A row's canonical content (RowCoverage.canonical over PostgresRow): integers (int8, int4,
   int2, boolean as 0/1) as their decimal digits, text as its bytes; NULL columns left out. */
static void pg_cover_canonical(struct cover_bytes *b, const PGresult *result, int row) {
    for (int col = 0, n = PQnfields(result); col < n; col++) {
        if (PQgetisnull(result, row, col)) continue;
        Oid type = PQftype(result, col);
        const char *value = PQgetvalue(result, row, col);
        if (type == INT8_OID || type == INT4_OID || type == INT2_OID || type == BOOL_OID) {
            char digits[24];
            int64_t number = type == BOOL_OID ? value[0] != 0 : binary_int(result, row, col);
            if (type == INT2_OID) number = (int16_t)(((unsigned char)value[0] << 8) | (unsigned char)value[1]);
            int length = snprintf(digits, sizeof digits, "%" PRId64, number);
            cover_put_column(b, PQfname(result, col), "i", digits, (size_t)length);
        } else if (type == 25 || type == 1043 || type == 1042 || type == 19) { /* text, varchar, char, name */
            cover_put_column(b, PQfname(result, col), "t", value, (size_t)PQgetlength(result, row, col));
        } else {
            die("column %s of type %u: this program digests integers and text only", PQfname(result, col), type);
        }
    }
}

/* RowCoverage.digest(_:_:key:): the key's rows now, digested into write->digest. */
static void pg_cover_digest(struct pg_cover *c, struct cover_write *write) {
    struct statement *s = pg_cover_select(c, write->table);
    char texts[PG_COVER_KEYS][256];
    pg_cover_bind_key(s, write->key, texts);
    PGresult *result = PQexecPrepared(c->conn, s->name, s->n, s->values, s->lengths, s->formats, 1);
    for (int i = 0; i < s->n; i++) s->values[i] = NULL;
    if (PQresultStatus(result) != PGRES_TUPLES_OK) {
        retry_if_conflict(result);
        die("%.300s: %s", s->sql, PQerrorMessage(c->conn));
    }
    c->group.used = 0;
    for (int r = 0; r < PQntuples(result); r++) pg_cover_canonical(cover_group_next(&c->group), result, r);
    PQclear(result);
    cover_group_digest(&c->group, write, &c->hashed);
}

/* The first column of a one-text-column result into `out` ("" without a row or for NULL). */
static void pg_cover_text(struct pg_cover *c, struct statement *s, char *out, size_t size) {
    PGresult *result = PQexecPrepared(c->conn, s->name, s->n, s->values, s->lengths, s->formats, 1);
    for (int i = 0; i < s->n; i++) s->values[i] = NULL;
    if (PQresultStatus(result) != PGRES_TUPLES_OK) {
        retry_if_conflict(result);
        die("%.300s: %s", s->sql, PQerrorMessage(c->conn));
    }
    out[0] = '\0';
    if (PQntuples(result) > 0 && !PQgetisnull(result, 0, 0)) snprintf(out, size, "%s", PQgetvalue(result, 0, 0));
    PQclear(result);
}

/* AuditLog.append on PostgreSQL: the rows the transaction touched since the last audit row,
   their digests, the audit row in its scope's chain, the digests kept. Returns its id. */
static int64_t pg_cover_audit_append(struct pg_cover *c, int64_t at, const char *actor, const char *operation, const char *account,
                                     const char *subject, const char *detail) {
    char scope[256], previous[160], hash[65];
    PGresult *touched = PQexecPrepared(c->conn, c->take.name, 0, NULL, NULL, NULL, 1);
    if (PQresultStatus(touched) != PGRES_TUPLES_OK) {
        retry_if_conflict(touched);
        die("%s: %s", c->take.sql, PQerrorMessage(c->conn));
    }
    size_t count = (size_t)PQntuples(touched);
    if (count > c->size) {
        c->size = count * 2;
        c->writes = realloc(c->writes, c->size * sizeof *c->writes);
        if (!c->writes) die("out of memory");
    }
    c->keys.used = 0;
    for (size_t w = 0; w < count; w++) {
        c->writes[w].table = cover_table_index(PQgetvalue(touched, (int)w, 0));
        if (c->writes[w].table < 0) die("a write touched table %s, which this program does not cover", PQgetvalue(touched, (int)w, 0));
        cover_put(&c->keys, PQgetvalue(touched, (int)w, 1), (size_t)PQgetlength(touched, (int)w, 1) + 1);
    }
    PQclear(touched);
    for (size_t w = 0, at = 0; w < count; w++) { /* the buffer has stopped growing */
        c->writes[w].key = (char *)c->keys.data + at;
        at += strlen(c->writes[w].key) + 1;
    }
    if (count) run(c->conn, &c->clear);
    for (size_t w = 0; w < count; w++) pg_cover_digest(c, &c->writes[w]);
    cover_list_text(&c->rows, c->writes, count);
    cover_put(&c->rows, "", 1); /* a terminating NUL for libpq, not part of the list */
    c->rows.used--;
    cover_scope(scope, sizeof scope, account, actor);
    bind_text(&c->scope_last, 1, scope);
    pg_cover_text(c, &c->scope_last, previous, sizeof previous);
    if (!previous[0]) { /* a scope's first row asks the log's last row whether the log is keyed */
        char last[160];
        pg_cover_text(c, &c->log_last, last, sizeof last);
        if (strncmp(last, "k:", 2) == 0) die("a keyed audit chain");
    }
    cover_link(&c->hashed, scope, previous, at, actor, operation, account, subject, detail, &c->rows, hash);
    struct statement *insert = &c->insert;
    bind_int(insert, 1, at);
    bind_text(insert, 2, actor);
    bind_text(insert, 3, operation);
    if (account) bind_text(insert, 4, account);
    else bind_null(insert, 4);
    if (subject) bind_text(insert, 5, subject);
    else bind_null(insert, 5);
    bind_text(insert, 6, detail);
    bind_text(insert, 7, (const char *)c->rows.data);
    bind_text(insert, 8, scope);
    bind_text(insert, 9, hash);
    int64_t id = run(c->conn, insert);
    int digested = 0;
    for (size_t w = 0; w < count; w++) digested |= c->writes[w].digest[0] != '\0';
    if (digested) {
        text_as(&c->upsert, "list", (const char *)c->rows.data);
        integer_as(&c->upsert, "audit", id);
        run(c->conn, &c->upsert);
    }
    for (size_t w = 0; w < count; w++) {
        if (!c->writes[w].digest[0]) {
            bind_text(&c->remove, 1, cover_tables[c->writes[w].table].name);
            bind_text(&c->remove, 2, c->writes[w].key);
            run(c->conn, &c->remove);
        }
    }
    return id;
}

/* PostgresConnection's check before COMMIT: every touched row was taken by an audit row. */
static void pg_cover_check(struct pg_cover *c) {
    run(c->conn, &c->untaken);
    if (last_rows) die("touched rows without an audit row before COMMIT");
}

/* Frees what pg_cover_install made (the connection is the caller's). */
static void pg_cover_free(struct pg_cover *c) {
    if (!c) return;
    free(c->writes);
    free(c->rows.data);
    free(c->hashed.data);
    free(c->keys.data);
    cover_group_free(&c->group);
    free(c);
}

#endif /* BENCH_PG_COVERAGE_H */
