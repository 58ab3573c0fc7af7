/*
 * bench_pg_statements.h — bench_pg's connections and prepared statements, shared with
 * bench_pg_coverage.h: connecting as the library does, the session settings it makes, and
 * statements prepared once with "?" or ":name" placeholders, run with integers as binary int8
 * and text as text, results in binary, every column of every row read (as the library's row
 * reader does). A serialization failure or deadlock jumps to `retry_point` when one is set.
 *
 * Include bench_common.h and <libpq-fe.h>, <ctype.h>, <setjmp.h> first.
 */
#ifndef BENCH_PG_STATEMENTS_H
#define BENCH_PG_STATEMENTS_H

/* ---- Connection strings ---------------------------------------------------------------- */

static const char *base_url;

/* The base string with search_path set to `schema`: a URL gets "options=-csearch_path%3D…"
   as a query parameter, a key=value string " options=-csearch_path=…". */
static void schema_url(const char *schema, char *out, size_t size) {
    int url = strncmp(base_url, "postgresql://", 13) == 0 || strncmp(base_url, "postgres://", 11) == 0;
    if (url) snprintf(out, size, "%s%soptions=-csearch_path%%3D%s", base_url, strchr(base_url, '?') ? "&" : "?", schema);
    else snprintf(out, size, "%s options=-csearch_path=%s", base_url, schema);
}

/* Connects as the library does: the host's string expanded, UTF-8, named libbilling. */
static PGconn *pg_connect(const char *conninfo) {
    const char *keywords[] = {"dbname", "client_encoding", "fallback_application_name", NULL};
    const char *values[] = {conninfo, "UTF8", "libbilling", NULL};
    PGconn *conn = PQconnectdbParams(keywords, values, 1);
    if (!conn || PQstatus(conn) != CONNECTION_OK) die("cannot connect to %s: %s", conninfo, conn ? PQerrorMessage(conn) : "no memory");
    return conn;
}

/* Where the mixed load's baseline (12) starts an operation over when PostgreSQL fails its
   transaction with a serialization failure or a deadlock (SQLSTATE 40001, 40P01), as the
   library's PostgresConnection retries the whole transaction; NULL elsewhere, where such a
   failure dies like any other. */
static jmp_buf *retry_point;

static void retry_if_conflict(PGresult *result) {
    if (!retry_point) return;
    const char *state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)) {
        PQclear(result);
        longjmp(*retry_point, 1);
    }
}

/* A statement through the simple protocol (BEGIN, COMMIT, SET, DDL); dies on failure. */
static void pg_exec(PGconn *conn, const char *sql) {
    PGresult *result = PQexec(conn, sql);
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) retry_if_conflict(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) die("%.200s: %s", sql, PQerrorMessage(conn));
    PQclear(result);
}

/* What PostgresConnection.configureSession sets on every session. */
static void pg_session(PGconn *conn) {
    pg_exec(conn, "SET lock_timeout = 5000");
    pg_exec(conn, "SET client_min_messages = warning");
}

static void drop_schema(const char *schema) {
    PGconn *conn = pg_connect(base_url);
    char sql[128];
    pg_exec(conn, "SET client_min_messages = warning");
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", schema);
    pg_exec(conn, sql);
    PQfinish(conn);
}

/* ---- Prepared statements ------------------------------------------------------------- */

enum { MAX_PARAMS = 64, INT8_OID = 20 };

struct statement {
    char name[16];
    char sql[8192];
    int n;                            /* parameters */
    char names[MAX_PARAMS][48];       /* ":name" parameters by number; "" for "?" ones */
    Oid types[MAX_PARAMS];            /* as the server inferred them */
    const char *values[MAX_PARAMS];
    int lengths[MAX_PARAMS], formats[MAX_PARAMS];
    unsigned char ints[MAX_PARAMS][8]; /* binary int8 parameters */
    char numbers[MAX_PARAMS][24];      /* an integer parameter of another type, as text */
};

/* Rewrites "?" and ":name" placeholders to $n (a name used twice is one parameter), skipping
   string literals; the statements here hold no "::" casts. */
static void rewrite(struct statement *s, const char *source) {
    size_t used = 0;
    s->n = 0;
    for (const char *p = source; *p;) {
        if (used + 16 >= sizeof s->sql) die("statement too long: %.100s", source);
        if (*p == '\'') {
            const char *end = strchr(p + 1, '\'');
            if (!end) die("unterminated literal in %.100s", source);
            memcpy(s->sql + used, p, (size_t)(end - p + 1));
            used += (size_t)(end - p + 1);
            p = end + 1;
        } else if (*p == '?') {
            if (s->n >= MAX_PARAMS) die("too many parameters");
            s->names[s->n][0] = '\0';
            used += (size_t)sprintf(s->sql + used, "$%d", ++s->n);
            p++;
        } else if (*p == ':' && (isalpha((unsigned char)p[1]) || p[1] == '_')) {
            char name[48];
            size_t length = 0;
            p++;
            while ((isalnum((unsigned char)*p) || *p == '_') && length + 1 < sizeof name) name[length++] = *p++;
            name[length] = '\0';
            int index = 0;
            for (int i = 0; i < s->n; i++) {
                if (strcmp(s->names[i], name) == 0) index = i + 1;
            }
            if (!index) {
                if (s->n >= MAX_PARAMS) die("too many parameters");
                snprintf(s->names[s->n], sizeof s->names[0], "%s", name);
                index = ++s->n;
            }
            used += (size_t)sprintf(s->sql + used, "$%d", index);
        } else {
            s->sql[used++] = *p++;
        }
    }
    s->sql[used] = '\0';
}

static void prepare(PGconn *conn, struct statement *s, int number, const char *source) {
    snprintf(s->name, sizeof s->name, "s%d", number);
    rewrite(s, source);
    PGresult *result = PQprepare(conn, s->name, s->sql, 0, NULL);
    if (PQresultStatus(result) != PGRES_COMMAND_OK) die("prepare %.300s: %s", s->sql, PQerrorMessage(conn));
    PQclear(result);
    result = PQdescribePrepared(conn, s->name);
    if (PQresultStatus(result) != PGRES_COMMAND_OK || PQnparams(result) != s->n) die("describe %.200s: %s", s->sql, PQerrorMessage(conn));
    for (int i = 0; i < s->n; i++) {
        s->types[i] = PQparamtype(result, i);
        s->values[i] = NULL;
        s->formats[i] = 0;
        s->lengths[i] = 0;
    }
    PQclear(result);
}

static void bind_text(struct statement *s, int index, const char *value) {
    s->values[index - 1] = value;
    s->formats[index - 1] = 0;
}

static void bind_int(struct statement *s, int index, int64_t value) {
    int i = index - 1;
    if (s->types[i] == INT8_OID) {
        uint64_t bits = (uint64_t)value;
        for (int b = 7; b >= 0; b--, bits >>= 8) s->ints[i][b] = (unsigned char)bits;
        s->values[i] = (const char *)s->ints[i];
        s->lengths[i] = 8;
        s->formats[i] = 1;
    } else {
        snprintf(s->numbers[i], sizeof s->numbers[0], "%" PRId64, value);
        s->values[i] = s->numbers[i];
        s->formats[i] = 0;
    }
}

static void bind_null(struct statement *s, int index) { s->values[index - 1] = NULL; }

static int named(struct statement *s, const char *name) {
    for (int i = 0; i < s->n; i++) {
        if (strcmp(s->names[i], name) == 0) return i + 1;
    }
    die("%.200s has no parameter :%s", s->sql, name);
    return 0;
}

static void text_as(struct statement *s, const char *name, const char *value) { bind_text(s, named(s, name), value); }
static void integer_as(struct statement *s, const char *name, int64_t value) { bind_int(s, named(s, name), value); }

static int64_t binary_int(const PGresult *result, int row, int column) {
    const unsigned char *bytes = (const unsigned char *)PQgetvalue(result, row, column);
    int length = PQgetlength(result, row, column);
    uint64_t value = 0;
    for (int i = 0; i < length && i < 8; i++) value = value << 8 | bytes[i];
    if (length == 4) return (int32_t)(uint32_t)value;
    return (int64_t)value;
}

/* Runs a prepared statement (results in binary), touches every column of every row as the
   library's row reader does, clears the parameters; returns the first row's first column as
   an integer when it is an int8 (0 otherwise). With `text` non-NULL, copies the first row's
   first column there instead (dies without a row). */
static int last_rows; /* the rows the last execute returned */

static int64_t execute(PGconn *conn, struct statement *s, char *text, size_t size) {
    PGresult *result = PQexecPrepared(conn, s->name, s->n, s->values, s->lengths, s->formats, 1);
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        for (int i = 0; i < s->n; i++) s->values[i] = NULL;
        retry_if_conflict(result);
    }
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) die("%.300s: %s", s->sql, PQerrorMessage(conn));
    int64_t first = 0;
    int rows = PQntuples(result), columns = PQnfields(result);
    last_rows = rows;
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < columns; c++) {
            if (PQgetisnull(result, r, c)) continue;
            if (PQftype(result, c) == INT8_OID) {
                int64_t value = binary_int(result, r, c);
                if (r == 0 && c == 0) first = value;
            } else {
                (void)PQgetvalue(result, r, c);
            }
        }
    }
    if (text) {
        if (rows < 1) die("%.200s: no row", s->sql);
        snprintf(text, size, "%s", PQgetvalue(result, 0, 0));
    }
    PQclear(result);
    for (int i = 0; i < s->n; i++) s->values[i] = NULL;
    return first;
}

static int64_t run(PGconn *conn, struct statement *s) { return execute(conn, s, NULL, 0); }

#endif /* BENCH_PG_STATEMENTS_H */
