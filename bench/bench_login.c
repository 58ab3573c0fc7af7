/*
 * bench_login.c — what a successful billing_platform_login costs over the argon2id check it
 * is built around, measured in one run on the same machine, so only the ratios mean anything.
 *
 * library: billing_platform_login of one active platform account with its right password,
 *          again and again (each login reads the account, verifies the hash outside the engine
 *          lock, then writes the outcome and an audit row in one transaction).
 * raw:     the library's statements by hand in C with the same argon2id check, on the same file
 *          (LoginService.login): a read transaction (configuration revision, the identifier's
 *          throttle row, the platform account by user name), crypto_pwhash_str_verify of the
 *          stored hash outside it, then a write transaction (revision, throttle, the account by
 *          id, the throttle row deleted, the chained audit row with row coverage as
 *          bench_coverage.h does it); billing_verify must accept the file afterwards. Before,
 *          the baseline was the hash alone (no statement at all), so the ratio held all the
 *          SQL; the hash alone is still timed and shown ("hash only").
 * Costs:   the defaults (password_hash_ops_limit 2, password_hash_memory_bytes 64 MiB,
 *          libsodium's "interactive") and the fastest the configuration allows (2, 19 MiB),
 *          the latter also with synchronous=NORMAL to show the share of the commit.
 *
 *   usage: bench_login [LOGINS_DEFAULT [LOGINS_FAST]]   (defaults 20 3000)
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, clock_gettime, unlink, rmdir */
#define BENCH_NAME "bench_login"

#include "bench_common.h"
#include "bench_coverage.h"

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

static double library_logins(billing_engine *engine, int n) {
    /* One login first: it re-hashes the password when the costs changed since it was set. */
    bench_call_free(engine, billing_platform_login, login_request, "billing_platform_login");
    double start = support_seconds();
    for (int i = 0; i < n; i++) bench_call_free(engine, billing_platform_login, login_request, "billing_platform_login");
    return support_seconds() - start;
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
    [L_FIND] = "SELECT " PLATFORM_COLUMNS " FROM platform_accounts WHERE user_name = ? AND status != 'REJECTED'",
    [L_LOAD] = "SELECT " PLATFORM_COLUMNS " FROM platform_accounts WHERE id = ?",
    [L_CLEAR] = "DELETE FROM login_throttles WHERE key = ?",
};

static sqlite3 *raw;
static sqlite3_stmt *login_statements[L_STATEMENTS];

/* Runs a statement once (one step, as the library's `first`, or to its end for the others). */
static void once(int which, const char *argument) {
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
}

/* N logins of bench_user as the library does them, on the library's file. */
static double raw_logins(const char *synchronous, int64_t ops, int64_t memory, int n) {
    raw = bench_sqlite_open(database, synchronous);
    cover_install(raw);
    for (int i = 0; i < L_STATEMENTS; i++) {
        bench_must(raw, sqlite3_prepare_v3(raw, login_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &login_statements[i], NULL), login_sql[i]);
    }
    /* Engine.throttleKey: BLAKE2b-256 (hex) of "login-identifier:" and the normalized identifier. */
    static const char identifier[] = "login-identifier:bench_user";
    unsigned char digest[32];
    char key[65];
    crypto_generichash(digest, sizeof digest, (const unsigned char *)identifier, strlen(identifier), NULL, 0);
    sodium_bin2hex(key, sizeof key, digest, sizeof digest);
    char id[64], account[64], hash[crypto_pwhash_STRBYTES];
    double start = support_seconds();
    for (int i = 0; i < n; i++) {
        once(L_BEGIN, NULL);
        once(L_REVISION, NULL);
        once(L_THROTTLE, key);
        sqlite3_stmt *find = login_statements[L_FIND];
        sqlite3_bind_text(find, 1, "bench_user", -1, SQLITE_STATIC);
        if (sqlite3_step(find) != SQLITE_ROW) die("no platform account bench_user");
        snprintf(id, sizeof id, "%s", (const char *)sqlite3_column_text(find, 0));
        snprintf(account, sizeof account, "%s", (const char *)sqlite3_column_text(find, 1));
        if (strcmp((const char *)sqlite3_column_text(find, 2), "ACTIVE") != 0) die("bench_user is not active");
        snprintf(hash, sizeof hash, "%s", (const char *)sqlite3_column_text(find, 7));
        for (int c = 3; c < sqlite3_column_count(find); c++) (void)sqlite3_column_text(find, c);
        sqlite3_reset(find);
        sqlite3_clear_bindings(find);
        once(L_COMMIT, NULL);
        /* Outside any transaction, as the library verifies outside its lock. */
        if (crypto_pwhash_str_verify(hash, password, strlen(password)) != 0) die("raw: the password does not verify");
        if (crypto_pwhash_str_needs_rehash(hash, (unsigned long long)ops, (size_t)memory) != 0) die("raw: the hash needs a rehash");
        int64_t now = (int64_t)time(NULL);
        once(L_BEGIN_WRITE, NULL);
        once(L_REVISION, NULL);
        once(L_THROTTLE, key);
        once(L_LOAD, id);
        once(L_CLEAR, key);
        cover_audit_append(now, id, "platform.login", account, id, "{\"outcome\":\"success\"}");
        cover_check_taken();
        once(L_COMMIT, NULL);
    }
    double elapsed = support_seconds() - start;
    for (int i = 0; i < L_STATEMENTS; i++) sqlite3_finalize(login_statements[i]);
    cover_close();
    sqlite3_close(raw);
    raw = NULL;
    return elapsed;
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

/* The hash alone, ms a verify, per row: shown under the table. */
static double hash_ms[3];
static int rows_done;

static void row(const char *scenario, int n, double library_seconds, double raw_seconds, double hash_seconds) {
    bench_compare_row(columns, scenario, n, library_seconds, raw_seconds, 1e3);
    if (rows_done < 3) hash_ms[rows_done++] = 1e3 * hash_seconds / n;
}

int main(int argc, char **argv) {
    int slow = bench_count(argc, argv, 1, 20), fast = bench_count(argc, argv, 2, 300);
    if (sodium_init() < 0) die("sodium_init failed");
    bench_make_directory();
    bench_file(database, sizeof database, "login");

    printf("libbilling %s, libsodium %s, file in %s\n", billing_version(), sodium_version_string(), bench_directory);
    printf("library = successful billing_platform_login (same account); raw = its statements by hand + crypto_pwhash_str_verify, same costs\n\n");
    bench_table_header(columns, sizeof columns / sizeof *columns);

    billing_engine *engine = bench_engine_open(database, NULL);
    set_costs(engine, 2, 64 * 1024 * 1024); /* the defaults, spelled out */
    make_platform_account(engine);

    char prefix[2][96];
    double overhead[2]; /* µs per login beyond the hand-written logins, FULL and NORMAL */
    double library_seconds = library_logins(engine, slow);
    double raw_seconds = raw_logins("FULL", 2, 64 * 1024 * 1024, slow);
    double hash_seconds = raw_verifies(2, 64 * 1024 * 1024, slow, prefix[0], sizeof prefix[0]);
    row("default: ops 2, 64 MiB, sync=FULL", slow, library_seconds, raw_seconds, hash_seconds);

    set_costs(engine, 2, 19922944);
    library_seconds = library_logins(engine, fast);
    raw_seconds = raw_logins("FULL", 2, 19922944, fast);
    hash_seconds = raw_verifies(2, 19922944, fast, prefix[1], sizeof prefix[1]);
    row("fast: ops 2, 19 MiB, sync=FULL", fast, library_seconds, raw_seconds, hash_seconds);
    bench_summary_times("login, cheap hash parameters, FULL", fast, library_seconds, raw_seconds);
    overhead[0] = 1e6 * (library_seconds - raw_seconds) / fast;
    billing_engine_close(engine);

    engine = bench_engine_open(database, "{\"synchronous\": \"NORMAL\"}");
    library_seconds = library_logins(engine, fast);
    raw_seconds = raw_logins("NORMAL", 2, 19922944, fast);
    hash_seconds = raw_verifies(2, 19922944, fast, prefix[1], sizeof prefix[1]);
    row("fast: ops 2, 19 MiB, sync=NORMAL", fast, library_seconds, raw_seconds, hash_seconds);
    bench_summary_times("login, cheap hash parameters, NORMAL", fast, library_seconds, raw_seconds);
    overhead[1] = 1e6 * (library_seconds - raw_seconds) / fast;
    verify_file(engine);
    billing_engine_close(engine);

    printf("\nraw hashes: %s (default), %s (fast); the hash alone (crypto_pwhash_str_verify): %.3f, %.3f, %.3f ms a verify"
           " in the three rows\n", prefix[0], prefix[1], hash_ms[0], hash_ms[1], hash_ms[2]);
    printf("library beyond the hand-written logins (fast costs): %.0f us per login at FULL, %.0f us at NORMAL\n", overhead[0], overhead[1]);
    bench_cleanup();
    return 0;
}
