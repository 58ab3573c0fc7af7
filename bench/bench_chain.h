/*
 * bench_chain.h — the part of row coverage and the chained audit row that does not depend on
 * the database, shared by bench_coverage.h (SQLite) and bench_pg_coverage.h (PostgreSQL): the
 * covered tables (RowCoverage.tables), byte buffers, JSON strings as the library writes them,
 * a key's digest from its rows' canonical contents (RowCoverage.digest), the audit row's list
 * of writes (RowCoverage.listText), its scope (IdempotencyStore.scope) and its link
 * (AuditLog.chainLink, "libbilling audit row 2"). Each backend's header reads the rows and
 * makes their canonical contents; this one hashes them.
 *
 * Include bench_common.h first (die, libsodium).
 */
#ifndef BENCH_CHAIN_H
#define BENCH_CHAIN_H

/* RowCoverage.tables: name, key columns, covered columns (NULL: every column). */
static const struct cover_table { const char *name; const char *key[4]; const char *columns; } cover_tables[] = {
    {"config", {"id"}, NULL},
    {"events", {"seq"}, "seq, type, account_id, subject_id, occurred_at, data"},
    {"idempotency", {"scope", "key"}, NULL},
    {"accounts", {"id"}, NULL},
    {"ledger", {"id"}, NULL},
    {"coupons", {"id"}, NULL},
    {"coupon_ledger", {"id"}, NULL},
    {"platform_accounts", {"id"}, NULL},
    {"platform_tokens", {"token_hash"}, NULL},
    {"id_sequences", {"name"}, NULL},
    {"products", {"id"}, NULL},
    {"commercial_discounts", {"account_id", "product_type"}, NULL},
    {"orders", {"id"}, NULL},
    {"order_lines", {"order_id", "line_no"}, NULL},
    {"resources", {"id"}, NULL},
    {"resource_funding", {"resource_id", "order_id", "source", "coupon_id"}, NULL},
    {"resource_refunds", {"resource_id", "order_id", "source", "coupon_id"}, NULL},
    {"resource_periods", {"resource_id", "order_id", "start_at"}, NULL},
    {"resource_open_orders", {"resource_id"}, NULL},
    {"five_day_units", {"account_id", "year", "unit_key"}, NULL},
    {"refund_details", {"order_id", "resource_id"}, NULL},
    {"usage_records", {"account_id", "usage_id"}, NULL},
    {"usage_lines", {"resource_id", "hour_start"}, NULL},
    {"usage_funding", {"resource_id", "hour_start", "source", "coupon_id"}, NULL},
    {"package_usage", {"package_id", "window_start"}, NULL},
    {"package_deductions", {"package_id", "resource_id", "hour_start"}, NULL},
    {"exports", {"id"}, NULL},
    {"login_throttles", {"key"}, NULL},
};
#define COVER_TABLES (int)(sizeof cover_tables / sizeof *cover_tables)

/* A growing byte buffer. */
struct cover_bytes { unsigned char *data; size_t used, size; };

static inline void cover_put(struct cover_bytes *b, const void *data, size_t count) {
    if (b->used + count > b->size) {
        b->size = (b->used + count) * 2 + 256;
        b->data = realloc(b->data, b->size);
        if (!b->data) die("out of memory");
    }
    memcpy(b->data + b->used, data, count);
    b->used += count;
}

static inline void cover_put_text(struct cover_bytes *b, const char *text) { cover_put(b, text, strlen(text)); }

/* A non-negative number's digits. */
static inline void cover_put_number(struct cover_bytes *b, int64_t number) {
    char digits[24];
    int at = (int)sizeof digits;
    uint64_t rest = (uint64_t)number;
    do {
        digits[--at] = (char)('0' + rest % 10);
        rest /= 10;
    } while (rest);
    cover_put(b, digits + at, sizeof digits - (size_t)at);
}

/* A JSON string as the library writes it (RFC 8259 escapes, DEL as \u007f). */
static inline void cover_put_json(struct cover_bytes *b, const char *text) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *run = (const unsigned char *)text, *c = run;
    cover_put(b, "\"", 1);
    for (; *c; c++) {
        if (*c >= 0x20 && *c != '"' && *c != '\\' && *c != 0x7f) continue;
        cover_put(b, run, (size_t)(c - run));
        char escape[2] = {'\\', (char)*c};
        if (*c == '\n') escape[1] = 'n';
        else if (*c == '\r') escape[1] = 'r';
        else if (*c == '\t') escape[1] = 't';
        if (*c == '"' || *c == '\\' || *c == '\n' || *c == '\r' || *c == '\t') {
            cover_put(b, escape, 2);
        } else {
            char unicode[6] = {'\\', 'u', '0', '0', hex[*c >> 4], hex[*c & 15]};
            cover_put(b, unicode, 6);
        }
        run = c + 1;
    }
    cover_put(b, run, (size_t)(c - run));
    cover_put(b, "\"", 1);
}

/* BLAKE2b-256 in lowercase hex (Secrets.digest). */
static inline void cover_digest_hex(const struct cover_bytes *b, char hex[65]) {
    unsigned char digest[32];
    crypto_generichash(digest, sizeof digest, b->data, b->used, NULL, 0);
    sodium_bin2hex(hex, 65, digest, sizeof digest);
}

/* One written key and, once its rows were read, its digest ("" for a row gone). */
struct cover_write { int table; char *key; char digest[65]; };

static inline int cover_table_index(const char *name) {
    for (int t = 0; t < COVER_TABLES; t++) if (strcmp(cover_tables[t].name, name) == 0) return t;
    return -1;
}

static inline int cover_compare_bytes(const void *a, const void *b) {
    const struct cover_bytes *x = a, *y = b;
    size_t common = x->used < y->used ? x->used : y->used;
    int order = common ? memcmp(x->data, y->data, common) : 0;
    return order ? order : (x->used > y->used) - (x->used < y->used);
}

/* The canonical contents of the rows under one key, as they are read. */
struct cover_group { struct cover_bytes *rows; size_t used, size; };

/* An emptied buffer for the content of the next row under the key being read. */
static inline struct cover_bytes *cover_group_next(struct cover_group *group) {
    if (group->used == group->size) {
        group->size = group->size * 2 + 4;
        group->rows = realloc(group->rows, group->size * sizeof *group->rows);
        if (!group->rows) die("out of memory");
        for (size_t i = group->used; i < group->size; i++) group->rows[i] = (struct cover_bytes){0};
    }
    struct cover_bytes *b = &group->rows[group->used++];
    b->used = 0;
    return b;
}

/* RowCoverage.digest(table:key:contents:) of the group's rows into write->digest ("" when
   none); `hashed` is scratch. Several rows are sorted by their bytes (Swift's string order for
   the ASCII the baselines write). */
static inline void cover_group_digest(struct cover_group *group, struct cover_write *write, struct cover_bytes *hashed) {
    if (group->used == 0) {
        write->digest[0] = '\0';
        return;
    }
    if (group->used > 1) qsort(group->rows, group->used, sizeof *group->rows, cover_compare_bytes);
    hashed->used = 0;
    cover_put_text(hashed, cover_tables[write->table].name);
    cover_put(hashed, "\n", 1);
    cover_put_text(hashed, write->key);
    cover_put(hashed, "\n", 1);
    cover_put_number(hashed, (int64_t)group->used);
    cover_put(hashed, "\n", 1);
    for (size_t i = 0; i < group->used; i++) {
        cover_put(hashed, group->rows[i].data, group->rows[i].used);
        cover_put(hashed, "\n", 1);
    }
    cover_digest_hex(hashed, write->digest);
}

static inline void cover_group_free(struct cover_group *group) {
    for (size_t i = 0; i < group->size; i++) free(group->rows[i].data);
    free(group->rows);
    *group = (struct cover_group){0};
}

/* One column of a row's canonical content (RowCoverage.canonical): name=<kind><length>:<value>;
   kind "i" for an integer, "t" for text (the caller leaves NULL columns out). */
static inline void cover_put_column(struct cover_bytes *b, const char *name, const char *kind, const void *value, size_t length) {
    cover_put_text(b, name);
    cover_put(b, "=", 1);
    cover_put_text(b, kind);
    cover_put_number(b, (int64_t)length);
    cover_put(b, ":", 1);
    cover_put(b, value, length);
    cover_put(b, ";", 1);
}

/* The audit row's list of writes, [[table, key, digest or null], …], into `rows`. */
static inline void cover_list_text(struct cover_bytes *rows, const struct cover_write *writes, size_t count) {
    rows->used = 0;
    cover_put(rows, "[", 1);
    for (size_t w = 0; w < count; w++) {
        cover_put_text(rows, w ? ",[" : "[");
        cover_put_json(rows, cover_tables[writes[w].table].name);
        cover_put(rows, ",", 1);
        cover_put_json(rows, writes[w].key);
        cover_put(rows, ",", 1);
        if (writes[w].digest[0]) cover_put_json(rows, writes[w].digest);
        else cover_put_text(rows, "null");
        cover_put(rows, "]", 1);
    }
    cover_put(rows, "]", 1);
}

/* IdempotencyStore.scope: the account's chain, or the actor's for an operation about none. */
static inline void cover_scope(char *scope, size_t size, const char *account, const char *actor) {
    snprintf(scope, size, "%s%s", account ? "account:" : "actor:", account ? account : actor);
}

/* One hashed field of a link (AuditLog.chainLink): name=length:value, or name=- for null. */
static inline void cover_put_field(struct cover_bytes *b, const char *name, const char *value, size_t length) {
    cover_put_text(b, name);
    cover_put(b, "=", 1);
    if (value) {
        cover_put_number(b, (int64_t)length);
        cover_put(b, ":", 1);
        cover_put(b, value, length);
    } else {
        cover_put(b, "-", 1);
    }
    cover_put(b, "\n", 1);
}

/* AuditLog.link of a scoped row: its hash given the scope's previous hash ("" for the first). */
static inline void cover_link(struct cover_bytes *hashed, const char *scope, const char *previous, int64_t at, const char *actor,
                              const char *operation, const char *account, const char *subject, const char *detail,
                              const struct cover_bytes *rows, char hash[65]) {
    char at_text[24];
    snprintf(at_text, sizeof at_text, "%" PRId64, at);
    hashed->used = 0;
    cover_put_text(hashed, "libbilling audit row 2\n");
    cover_put_field(hashed, "scope", scope, strlen(scope));
    cover_put_field(hashed, "previous", previous, strlen(previous));
    cover_put_field(hashed, "at", at_text, strlen(at_text));
    cover_put_field(hashed, "actor", actor, strlen(actor));
    cover_put_field(hashed, "operation", operation, strlen(operation));
    cover_put_field(hashed, "account", account, account ? strlen(account) : 0);
    cover_put_field(hashed, "subject", subject, subject ? strlen(subject) : 0);
    cover_put_field(hashed, "detail", detail, strlen(detail));
    cover_put_field(hashed, "rows", (const char *)rows->data, rows->used);
    cover_digest_hex(hashed, hash);
}

#endif /* BENCH_CHAIN_H */
