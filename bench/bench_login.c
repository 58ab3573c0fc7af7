/*
 * bench_login.c — what a successful billing_platform_login costs over the argon2id check it
 * is built around, measured in one run on the same machine, so only the ratios mean anything.
 *
 * library: billing_platform_login of one active platform account with its right password,
 *          again and again (each login reads the account, verifies the hash outside the engine
 *          lock, then writes the outcome and an audit row in one transaction).
 * raw:     libsodium crypto_pwhash_str_verify of the same password against an argon2id hash
 *          made by crypto_pwhash_str with the same costs.
 * Costs:   the defaults (password_hash_ops_limit 2, password_hash_memory_bytes 64 MiB,
 *          libsodium's "interactive") and the fastest the configuration allows (2, 19 MiB),
 *          the latter also with synchronous=NORMAL to show the share of the commit.
 *
 *   usage: bench_login [LOGINS_DEFAULT [LOGINS_FAST]]   (defaults 20 3000)
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, clock_gettime, unlink, rmdir */
#define BENCH_NAME "bench_login"

#include "bench_common.h"

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

static const struct bench_column columns[] = {
    {"scenario", 34, BENCH_TEXT, 0},     {"N", 5, BENCH_COUNT, 0},         {"library logins/s", 16, BENCH_REAL, 1},
    {"ms/login", 12, BENCH_REAL, 3},     {"raw hashes/s", 14, BENCH_REAL, 1}, {"ms/hash", 13, BENCH_REAL, 3},
    {"library/raw", 21, BENCH_RATIO, 0},
};

static void row(const char *scenario, int n, double library_seconds, double raw_seconds) {
    bench_compare_row(columns, scenario, n, library_seconds, raw_seconds, 1e3);
}

int main(int argc, char **argv) {
    int slow = bench_count(argc, argv, 1, 20), fast = bench_count(argc, argv, 2, 300);
    if (sodium_init() < 0) die("sodium_init failed");
    bench_make_directory();
    bench_file(database, sizeof database, "login");

    printf("libbilling %s, libsodium %s, file in %s\n", billing_version(), sodium_version_string(), bench_directory);
    printf("library = successful billing_platform_login (same account); raw = crypto_pwhash_str_verify, same costs\n\n");
    bench_table_header(columns, sizeof columns / sizeof *columns);

    billing_engine *engine = bench_engine_open(database, NULL);
    set_costs(engine, 2, 64 * 1024 * 1024); /* the defaults, spelled out */
    make_platform_account(engine);

    char prefix[2][96];
    double overhead[2]; /* µs per login beyond the hash, FULL and NORMAL: the target */
    double library_seconds = library_logins(engine, slow);
    double raw_seconds = raw_verifies(2, 64 * 1024 * 1024, slow, prefix[0], sizeof prefix[0]);
    row("default: ops 2, 64 MiB, sync=FULL", slow, library_seconds, raw_seconds);

    set_costs(engine, 2, 19922944);
    library_seconds = library_logins(engine, fast);
    raw_seconds = raw_verifies(2, 19922944, fast, prefix[1], sizeof prefix[1]);
    row("fast: ops 2, 19 MiB, sync=FULL", fast, library_seconds, raw_seconds);
    bench_summary_times("login, cheap hash parameters, FULL", fast, library_seconds, raw_seconds);
    overhead[0] = 1e6 * (library_seconds - raw_seconds) / fast;
    billing_engine_close(engine);

    engine = bench_engine_open(database, "{\"synchronous\": \"NORMAL\"}");
    library_seconds = library_logins(engine, fast);
    raw_seconds = raw_verifies(2, 19922944, fast, prefix[1], sizeof prefix[1]);
    row("fast: ops 2, 19 MiB, sync=NORMAL", fast, library_seconds, raw_seconds);
    bench_summary_times("login, cheap hash parameters, NORMAL", fast, library_seconds, raw_seconds);
    overhead[1] = 1e6 * (library_seconds - raw_seconds) / fast;
    billing_engine_close(engine);

    printf("\nraw hashes: %s (default), %s (fast)\n", prefix[0], prefix[1]);
    printf("overhead beyond the hash (fast costs): %.0f us per login at FULL, %.0f us at NORMAL\n", overhead[0], overhead[1]);
    bench_cleanup();
    return 0;
}
