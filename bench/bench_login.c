/*
 * bench_login.c — what a successful billing_platform_login costs over the argon2id check it
 * is built around, measured in one run on the same machine, so only the ratios mean anything.
 *
 * library: billing_platform_login of one active platform account with its right password,
 *          again and again (each login reads the account, verifies the hash outside the engine
 *          lock, then writes the outcome and an audit row in one transaction).
 * raw:     the library's statements by hand in C with the same argon2id check, on the same file
 *          (LoginService.login): a read transaction (configuration revision, the identifier's
 *          throttle row, the platform account's id, status and hash by user name),
 *          crypto_pwhash_str_verify of the stored hash outside it, then a write transaction
 *          (revision, throttle, the whole account by id, the throttle row deleted if one was
 *          read, the chained audit row with row coverage as bench_coverage.h does it);
 *          billing_verify must accept the file afterwards. Before, the baseline was the hash
 *          alone (no statement at all), so the ratio held all the SQL; the hash alone is still
 *          timed and shown ("hash only").
 * Costs:   the defaults (password_hash_ops_limit 2, password_hash_memory_bytes 64 MiB,
 *          libsodium's "interactive") and the fastest the configuration allows (2, 19 MiB),
 *          the latter also with synchronous=NORMAL to show the share of the commit.
 * Beyond the hash: this program defines crypto_pwhash_str_verify itself, timing each call and
 *          passing it on to libsodium's (dlsym RTLD_NEXT). The library's call resolves to it
 *          too (the executable's symbols come first), so each side's time inside the verify is
 *          known and subtracted: what is left is a login's own work, the library's against the
 *          hand-written one's. The whole-login ratio cannot show it: the hash is ~98 % of a
 *          login and moves more from run to run than the rest costs.
 * Library and raw logins alternate, library, raw, raw, library, in rounds of a twentieth of the
 *          count (bench_alternate), as the other programs' sides do; each round starts with the
 *          shared file's WAL checkpointed, untimed (checkpoint_untimed).
 *
 *   usage: bench_login [LOGINS_DEFAULT [LOGINS_FAST]]   (defaults 20 300)
 */
#define _GNU_SOURCE /* RTLD_NEXT */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, clock_gettime, unlink, rmdir */
#define BENCH_NAME "bench_login"

#include "bench_common.h"
#include "bench_coverage.h"

#include <dlfcn.h>

static char database[PATH_MAX];

static const char *password = "Bench-Pass-2024";

static void set_costs(billing_engine *engine, int64_t ops, int64_t memory) {
    char request[200];
    snprintf(request, sizeof request,
             "{\"actor\": \"bench\", \"changes\": {\"password_hash_ops_limit\": %" PRId64 ", \"password_hash_memory_bytes\": %" PRId64 "}}",
             ops, memory);
    bench_call_free(engine, billing_config_update, request, "billing_config_update");
}

/* An active platform account "bench_user" whose password was hashed with the current costs. */
static void make_platform_account(billing_engine *engine) {
    char request[400], token[160], id[64], *response;
    bench_call_free(engine, billing_account_put,
                    "{\"actor\": \"bench\", \"account_id\": \"bench-account\", \"type\": \"ENTERPRISE\","
                    " \"realname_verified\": true}", "billing_account_put");
    response = bench_call(engine, billing_platform_apply,
                          "{\"actor\": \"bench\", \"account_id\": \"bench-account\", \"user_name\": \"bench_user\","
                          " \"email\": \"bench@example.com\", \"phone\": \"13800138000\"}", "billing_platform_apply");
    bench_json_string(response, "platform_account_id", id, sizeof id);
    billing_string_free(response);
    snprintf(request, sizeof request, "{\"actor\": \"bench\", \"platform_account_id\": \"%s\"}", id);
    response = bench_call(engine, billing_platform_approve, request, "billing_platform_approve");
    bench_json_string(response, "password_set_token", token, sizeof token);
    billing_string_free(response);
    snprintf(request, sizeof request, "{\"actor\": \"bench\", \"token\": \"%s\", \"password\": \"%s\"}", token, password);
    bench_call_free(engine, billing_platform_activate, request, "billing_platform_activate");
}

static const char *login_request = "{\"identifier\": \"bench_user\", \"password\": \"Bench-Pass-2024\"}";

/* Seconds spent inside crypto_pwhash_str_verify, added to by the definition below: each side
   points it at its own total while it runs. */
static double *verify_seconds;

/* Every verify of this process, the library's included, comes here first (see the header). */
int crypto_pwhash_str_verify(const char str[crypto_pwhash_STRBYTES], const char *const passwd, unsigned long long passwdlen) {
    static int (*libsodium)(const char *, const char *, unsigned long long);
    if (!libsodium) {
        *(void **)&libsodium = dlsym(RTLD_NEXT, "crypto_pwhash_str_verify");
        if (!libsodium) die("dlsym(crypto_pwhash_str_verify): %s", dlerror());
    }
    double start = support_seconds();
    int verdict = libsodium(str, passwd, passwdlen);
    if (verify_seconds) *verify_seconds += support_seconds() - start;
    return verdict;
}

/* One side of a comparison: its elapsed seconds and the seconds of it inside the verify. */
struct side {
    double seconds, verify;
};

/* Library logins: bench_alternate's library side (the engine's first login, which re-hashes
   the password when the costs changed since it was set, is made before the rounds). */
static struct side library_side;

/* The raw side's connection (open throughout a comparison, between raw_open and raw_close). */
static sqlite3 *raw;

/* Both sides log into one file, and the commit that takes the WAL past its 1,000 pages runs
   the checkpoint (tens of ms at NORMAL, its only syncs): whichever side's round that fell in
   paid for both, which moved the NORMAL difference beyond the hash from 35 to 200 us between
   runs. Each round therefore starts, untimed, with the WAL checkpointed and emptied, and no
   round writes enough to reach the threshold (a login writes a few pages). The checkpoint runs
   on a connection of its own: run on the baseline's, it left the baseline's page cache valid
   and made the library's next transaction read its pages again (until 2026-12-08). */
static sqlite3 *checkpointer;

static void checkpoint_untimed(void) {
    int code = sqlite3_wal_checkpoint_v2(checkpointer, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    if (code != SQLITE_OK) bench_must(checkpointer, code, "wal_checkpoint(TRUNCATE)");
}

static double library_logins(void *engine, int64_t from, int64_t n) {
    (void)from;
    checkpoint_untimed();
    verify_seconds = &library_side.verify;
    double start = support_seconds();
    for (int64_t i = 0; i < n; i++) bench_call_free(engine, billing_platform_login, login_request, "billing_platform_login");
    double elapsed = support_seconds() - start;
    verify_seconds = NULL;
    library_side.seconds += elapsed;
    return elapsed;
}

/* N verifications against a hash made with the given costs; *prefix receives the hash's
   parameter part ("$argon2id$v=19$m=…,t=…,p=1"). */
static double raw_verifies(int64_t ops, int64_t memory, int n, char *prefix, size_t size) {
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, password, strlen(password), (unsigned long long)ops, (size_t)memory) != 0) {
        die("crypto_pwhash_str failed (out of memory?)");
    }
    const char *end = strrchr(hash, '$');
    end = end && end > hash ? end : hash + strlen(hash);
    const char *salt = end;
    while (salt > hash && salt[-1] != '$') salt--; /* the salt sits before the last '$' */
    snprintf(prefix, size, "%.*s", (int)(salt > hash ? salt - hash - 1 : end - hash), hash);
    if (crypto_pwhash_str_verify(hash, password, strlen(password)) != 0) die("verify of the right password failed");
    double start = support_seconds();
    for (int i = 0; i < n; i++) {
        if (crypto_pwhash_str_verify(hash, password, strlen(password)) != 0) die("verify failed");
    }
    return support_seconds() - start;
}

/* ---- The library's statements by hand ---------------------------------------------------- */

enum { L_BEGIN, L_BEGIN_WRITE, L_COMMIT, L_REVISION, L_THROTTLE, L_FIND, L_LOAD, L_CLEAR, L_STATEMENTS };

#define PLATFORM_COLUMNS                                                                                                  \
    "id, account_id, status, user_name, email, phone, contact_name, password_hash, reject_reason, submitted_at,"        \
    " decided_at, activated_at, password_changed_at"

static const char *login_sql[L_STATEMENTS] = {
    [L_BEGIN] = "BEGIN",
    [L_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [L_COMMIT] = "COMMIT",
    [L_REVISION] = "SELECT revision FROM config WHERE id = 1",
    [L_THROTTLE] = "SELECT failures, retry_after FROM login_throttles WHERE key = ?",
    [L_FIND] = "SELECT id, status, password_hash FROM platform_accounts WHERE user_name = ? AND status != 'REJECTED'",
    [L_LOAD] = "SELECT " PLATFORM_COLUMNS " FROM platform_accounts WHERE id = ?",
    [L_CLEAR] = "DELETE FROM login_throttles WHERE key = ?",
};

static sqlite3_stmt *login_statements[L_STATEMENTS];

/* Runs a statement once (one step, as the library's `first`, or to its end for the others);
   returns whether it gave a row. */
static int once(int which, const char *argument) {
    sqlite3_stmt *statement = login_statements[which];
    if (argument) sqlite3_bind_text(statement, 1, argument, -1, SQLITE_STATIC);
    int code = sqlite3_step(statement);
    if (code == SQLITE_ROW) {
        for (int c = 0, n = sqlite3_column_count(statement); c < n; c++) {
            if (sqlite3_column_type(statement, c) == SQLITE_TEXT) (void)sqlite3_column_text(statement, c);
            else (void)sqlite3_column_int64(statement, c);
        }
    } else if (code != SQLITE_DONE) {
        bench_must(raw, code, login_sql[which]);
    }
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    return code == SQLITE_ROW;
}

/* The raw side's hash costs, between raw_open and raw_close. */
static int64_t raw_ops, raw_memory;

/* Engine.throttleKey: BLAKE2b-256 (hex) of "login-identifier:" and the normalized identifier,
   made for each login as the library makes it (it was made once, before the timer, until the
   evening of 2026-12-07). */
static void throttle_key(char key[65], const char *identifier) {
    char text[128];
    snprintf(text, sizeof text, "login-identifier:%s", identifier);
    unsigned char digest[32];
    crypto_generichash(digest, sizeof digest, (const unsigned char *)text, strlen(text), NULL, 0);
    sodium_bin2hex(key, 65, digest, sizeof digest);
}
static struct side raw_side;

static void raw_open(const char *synchronous, int64_t ops, int64_t memory) {
    raw = bench_sqlite_open(database, synchronous);
    checkpointer = bench_sqlite_open(database, synchronous);
    cover_install(raw);
    for (int i = 0; i < L_STATEMENTS; i++) {
        bench_must(raw, sqlite3_prepare_v3(raw, login_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &login_statements[i], NULL), login_sql[i]);
    }
    raw_ops = ops;
    raw_memory = memory;
}

static void raw_close(void) {
    for (int i = 0; i < L_STATEMENTS; i++) sqlite3_finalize(login_statements[i]);
    cover_close();
    sqlite3_close(raw);
    sqlite3_close(checkpointer);
    raw = checkpointer = NULL;
}

/* N logins of bench_user as the library does them, on the library's file: bench_alternate's
   raw side. */
static double raw_logins(void *unused, int64_t from, int64_t n) {
    (void)unused, (void)from;
    char key[65], id[64], account[64], hash[crypto_pwhash_STRBYTES];
    checkpoint_untimed();
    verify_seconds = &raw_side.verify;
    double start = support_seconds();
    for (int64_t i = 0; i < n; i++) {
        throttle_key(key, "bench_user");
        once(L_BEGIN, NULL);
        once(L_REVISION, NULL);
        once(L_THROTTLE, key);
        sqlite3_stmt *find = login_statements[L_FIND];
        sqlite3_bind_text(find, 1, "bench_user", -1, SQLITE_STATIC);
        if (sqlite3_step(find) != SQLITE_ROW) die("no platform account bench_user");
        snprintf(id, sizeof id, "%s", (const char *)sqlite3_column_text(find, 0));
        if (strcmp((const char *)sqlite3_column_text(find, 1), "ACTIVE") != 0) die("bench_user is not active");
        snprintf(hash, sizeof hash, "%s", (const char *)sqlite3_column_text(find, 2));
        sqlite3_reset(find);
        sqlite3_clear_bindings(find);
        once(L_COMMIT, NULL);
        /* Outside any transaction, as the library verifies outside its lock. */
        if (crypto_pwhash_str_verify(hash, password, strlen(password)) != 0) die("raw: the password does not verify");
        if (crypto_pwhash_str_needs_rehash(hash, (unsigned long long)raw_ops, (size_t)raw_memory) != 0) die("raw: the hash needs a rehash");
        int64_t now = (int64_t)time(NULL);
        once(L_BEGIN_WRITE, NULL);
        once(L_REVISION, NULL);
        int throttled = once(L_THROTTLE, key);
        /* The account as the answer gives it: its customer account for the audit row. */
        sqlite3_stmt *load = login_statements[L_LOAD];
        sqlite3_bind_text(load, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(load) != SQLITE_ROW) die("no platform account %s", id);
        snprintf(account, sizeof account, "%s", (const char *)sqlite3_column_text(load, 1));
        for (int c = 0; c < sqlite3_column_count(load); c++) {
            if (sqlite3_column_type(load, c) == SQLITE_TEXT) (void)sqlite3_column_text(load, c);
            else (void)sqlite3_column_int64(load, c);
        }
        sqlite3_reset(load);
        sqlite3_clear_bindings(load);
        if (throttled) once(L_CLEAR, key); /* as the library: no row read, none to delete */
        cover_audit_append(now, id, "platform.login", account, id, "{\"outcome\":\"success\"}");
        cover_check_taken();
        once(L_COMMIT, NULL);
    }
    double elapsed = support_seconds() - start;
    verify_seconds = NULL;
    raw_side.seconds += elapsed;
    return elapsed;
}

/* N logins on each side with the given costs, alternating: fills library_side and raw_side.
   The library's first login with new costs re-hashes the password: made before, untimed. */
static void compare(billing_engine *engine, const char *synchronous, int64_t ops, int64_t memory, int n) {
    bench_call_free(engine, billing_platform_login, login_request, "billing_platform_login");
    library_side = raw_side = (struct side){0, 0};
    raw_open(synchronous, ops, memory);
    double library_seconds, raw_seconds;
    bench_alternate(n, bench_round(n), 1, library_logins, engine, raw_logins, NULL, &library_seconds, &raw_seconds);
    raw_close();
}

/* billing_verify on the file both sides logged into. */
static void verify_file(billing_engine *engine) {
    char *response = NULL;
    if (billing_verify(engine, NULL, &response) != BILLING_OK) die_billing("billing_verify");
    if (!strstr(response, "\"ok\":true")) die("billing_verify after the raw logins: %.600s", response);
    billing_string_free(response);
}

static const struct bench_column columns[] = {
    {"scenario", 34, BENCH_TEXT, 0},     {"N", 5, BENCH_COUNT, 0},         {"library logins/s", 16, BENCH_REAL, 1},
    {"ms/login", 12, BENCH_REAL, 3},     {"raw logins/s", 14, BENCH_REAL, 1}, {"ms/login", 13, BENCH_REAL, 3},
    {"library/raw", 21, BENCH_RATIO, 0},
};

/* The second table: each side's time a login outside the verify, and the difference. */
static const struct bench_column beyond_columns[] = {
    {"beyond the hash", 34, BENCH_TEXT, 0}, {"N", 5, BENCH_COUNT, 0},   {"library us/login", 16, BENCH_REAL, 1},
    {"raw us/login", 14, BENCH_REAL, 1},    {"library - raw, us", 17, BENCH_REAL, 1}, {"library/raw", 21, BENCH_RATIO, 0},
};

/* One comparison's results, kept for the tables printed at the end. */
struct result {
    const char *scenario, *summary, *beyond_summary;
    int n;
    struct side library, raw;
    double hash_seconds; /* n verifies alone */
};

static void measure(struct result *result, billing_engine *engine, const char *synchronous, int64_t ops, int64_t memory,
                    char *prefix, size_t size) {
    compare(engine, synchronous, ops, memory, result->n);
    result->library = library_side;
    result->raw = raw_side;
    result->hash_seconds = raw_verifies(ops, memory, result->n, prefix, size);
}

int main(int argc, char **argv) {
    int slow = bench_count(argc, argv, 1, 20), fast = bench_count(argc, argv, 2, 300);
    if (sodium_init() < 0) die("sodium_init failed");
    bench_make_directory();
    bench_file(database, sizeof database, "login");

    printf("libbilling %s, libsodium %s, file in %s\n", billing_version(), sodium_version_string(), bench_directory);
    printf("library = successful billing_platform_login (same account); raw = its statements by hand + crypto_pwhash_str_verify, same costs\n\n");

    struct result results[3] = {
        {"default: ops 2, 64 MiB, sync=FULL", NULL, NULL, slow, {0, 0}, {0, 0}, 0},
        {"fast: ops 2, 19 MiB, sync=FULL", "login, cheap hash parameters, FULL", "login beyond the hash, cheap hash parameters, FULL",
         fast, {0, 0}, {0, 0}, 0},
        {"fast: ops 2, 19 MiB, sync=NORMAL", "login, cheap hash parameters, NORMAL",
         "login beyond the hash, cheap hash parameters, NORMAL", fast, {0, 0}, {0, 0}, 0},
    };
    char prefix[2][96];
    billing_engine *engine = bench_engine_open(database, NULL);
    set_costs(engine, 2, 64 * 1024 * 1024); /* the defaults, spelled out */
    make_platform_account(engine);
    measure(&results[0], engine, "FULL", 2, 64 * 1024 * 1024, prefix[0], sizeof prefix[0]);
    set_costs(engine, 2, 19922944);
    measure(&results[1], engine, "FULL", 2, 19922944, prefix[1], sizeof prefix[1]);
    billing_engine_close(engine);
    engine = bench_engine_open(database, "{\"synchronous\": \"NORMAL\"}");
    measure(&results[2], engine, "NORMAL", 2, 19922944, prefix[1], sizeof prefix[1]);
    verify_file(engine);
    billing_engine_close(engine);

    /* A library whose verify did not resolve to ours (libsodium linked in statically, or
       -Bsymbolic) would count the whole hash as its own work: refuse to report that. */
    for (int i = 0; i < 3; i++) {
        if (results[i].library.verify <= 0 || results[i].raw.verify <= 0) die("crypto_pwhash_str_verify was not interposed");
    }
    bench_table_header(columns, sizeof columns / sizeof *columns);
    for (int i = 0; i < 3; i++) {
        struct result *r = &results[i];
        bench_compare_row(columns, r->scenario, r->n, r->library.seconds, r->raw.seconds, 1e3);
        if (r->summary) bench_summary_times(r->summary, r->n, r->library.seconds, r->raw.seconds);
    }
    printf("\n");
    bench_table_header(beyond_columns, sizeof beyond_columns / sizeof *beyond_columns);
    for (int i = 0; i < 3; i++) {
        struct result *r = &results[i];
        double library = r->library.seconds - r->library.verify, raw_beyond = r->raw.seconds - r->raw.verify;
        bench_table_row(beyond_columns, 6, r->scenario, (int64_t)r->n, 1e6 * library / r->n, 1e6 * raw_beyond / r->n,
                        1e6 * (library - raw_beyond) / r->n, raw_beyond / library);
        /* Rates of logins per second of the work beyond the verify: 1e6 / rate is the time a login. */
        if (r->beyond_summary) bench_summary_times(r->beyond_summary, r->n, library, raw_beyond);
    }
    printf("\nraw hashes: %s (default), %s (fast); the hash alone (crypto_pwhash_str_verify): %.3f, %.3f, %.3f ms a verify"
           " in the three rows\n", prefix[0], prefix[1], 1e3 * results[0].hash_seconds / slow, 1e3 * results[1].hash_seconds / fast,
           1e3 * results[2].hash_seconds / fast);
    bench_cleanup();
    return 0;
}
