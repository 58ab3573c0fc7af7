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
 *          libsodium's "interactive") and the fastest the configuration allows (1, 8 KiB),
 *          the latter also with synchronous=NORMAL to show the share of the commit.
 *
 *   usage: bench_login [LOGINS_DEFAULT [LOGINS_FAST]]   (defaults 20 3000)
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, clock_gettime, unlink, rmdir */

#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "billing.h"

static char directory[64];
static char database[PATH_MAX];

static void cleanup(void) {
    static const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
    char path[PATH_MAX + 16];
    if (!directory[0]) return;
    for (size_t s = 0; s < sizeof suffixes / sizeof *suffixes; s++) {
        snprintf(path, sizeof path, "%s%s", database, suffixes[s]);
        unlink(path);
    }
    rmdir(directory);
    directory[0] = '\0';
}

static void die(const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    fprintf(stderr, "bench_login: ");
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

static const char *password = "Bench-Pass-2024";

/* Calls a JSON function and returns its response (caller frees); dies on failure. */
static char *call(billing_engine *engine, int (*f)(billing_engine *, const char *, char **), const char *request,
                  const char *name) {
    char *response = NULL;
    if (f(engine, request, &response) != BILLING_OK) die_billing(name);
    return response;
}

static void copy_string(const char *json, const char *key, char *out, size_t size) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *at = strstr(json, pattern);
    if (!at) die("no %s in %.200s", key, json);
    at += strlen(pattern);
    snprintf(out, size, "%.*s", (int)strcspn(at, "\""), at);
}

static void set_costs(billing_engine *engine, int64_t ops, int64_t memory) {
    char request[200];
    snprintf(request, sizeof request,
             "{\"actor\": \"bench\", \"changes\": {\"password_hash_ops_limit\": %" PRId64 ", \"password_hash_memory_bytes\": %" PRId64 "}}",
             ops, memory);
    billing_string_free(call(engine, billing_config_update, request, "billing_config_update"));
}

/* An active platform account "bench_user" whose password was hashed with the current costs. */
static void make_platform_account(billing_engine *engine) {
    char request[400], token[160], id[64], *response;
    billing_string_free(call(engine, billing_account_put,
                             "{\"actor\": \"bench\", \"account_id\": \"bench-account\", \"type\": \"ENTERPRISE\","
                             " \"realname_verified\": true}", "billing_account_put"));
    response = call(engine, billing_platform_apply,
                    "{\"actor\": \"bench\", \"account_id\": \"bench-account\", \"user_name\": \"bench_user\","
                    " \"email\": \"bench@example.com\", \"phone\": \"13800138000\"}", "billing_platform_apply");
    copy_string(response, "platform_account_id", id, sizeof id);
    billing_string_free(response);
    snprintf(request, sizeof request, "{\"actor\": \"bench\", \"platform_account_id\": \"%s\"}", id);
    response = call(engine, billing_platform_approve, request, "billing_platform_approve");
    copy_string(response, "password_set_token", token, sizeof token);
    billing_string_free(response);
    snprintf(request, sizeof request, "{\"actor\": \"bench\", \"token\": \"%s\", \"password\": \"%s\"}", token, password);
    billing_string_free(call(engine, billing_platform_activate, request, "billing_platform_activate"));
}

static const char *login_request = "{\"identifier\": \"bench_user\", \"password\": \"Bench-Pass-2024\"}";

static double library_logins(billing_engine *engine, int n) {
    /* One login first: it re-hashes the password when the costs changed since it was set. */
    billing_string_free(call(engine, billing_platform_login, login_request, "billing_platform_login"));
    double start = seconds();
    for (int i = 0; i < n; i++) billing_string_free(call(engine, billing_platform_login, login_request, "billing_platform_login"));
    return seconds() - start;
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
    double start = seconds();
    for (int i = 0; i < n; i++) {
        if (crypto_pwhash_str_verify(hash, password, strlen(password)) != 0) die("verify failed");
    }
    return seconds() - start;
}

static void row(const char *scenario, int n, double library_seconds, double raw_seconds) {
    double library_rate = n / library_seconds, raw_rate = n / raw_seconds;
    double ratio = library_rate / raw_rate;
    char comparison[32];
    if (ratio < 1) snprintf(comparison, sizeof comparison, "%.2fx slower", 1 / ratio);
    else snprintf(comparison, sizeof comparison, "%.2fx faster", ratio);
    printf("| %-34s | %5d | %16.1f | %12.3f | %14.1f | %13.3f | %5.1f%% (%s) |\n", scenario, n, library_rate,
           1e3 / library_rate, raw_rate, 1e3 / raw_rate, 100 * ratio, comparison);
    fflush(stdout);
}

static int count(int argc, char **argv, int index, int fallback) {
    if (argc <= index) return fallback;
    long value = strtol(argv[index], NULL, 10);
    if (value < 1 || value > 10000000) die("counts must be 1–10000000, got '%s'", argv[index]);
    return (int)value;
}

int main(int argc, char **argv) {
    int slow = count(argc, argv, 1, 20), fast = count(argc, argv, 2, 3000);
    if (sodium_init() < 0) die("sodium_init failed");
    snprintf(directory, sizeof directory, "/tmp/bench_login.XXXXXX");
    if (!mkdtemp(directory)) {
        directory[0] = '\0';
        die("mkdtemp failed");
    }
    snprintf(database, sizeof database, "%s/login.sqlite", directory);

    printf("libbilling %s, libsodium %s, file in %s\n", billing_version(), sodium_version_string(), directory);
    printf("library = successful billing_platform_login (same account); raw = crypto_pwhash_str_verify, same costs\n\n");
    printf("| %-34s | %5s | %16s | %12s | %14s | %13s | %-21s |\n", "scenario", "N", "library logins/s",
           "ms/login", "raw hashes/s", "ms/hash", "library/raw");
    printf("|------------------------------------|-------|------------------|--------------|----------------|"
           "---------------|-----------------------|\n");
    fflush(stdout);

    billing_engine *engine = NULL;
    if (billing_engine_open(database, NULL, &engine) != BILLING_OK) die_billing("billing_engine_open");
    set_costs(engine, 2, 64 * 1024 * 1024); /* the defaults, spelled out */
    make_platform_account(engine);

    char prefix[2][96];
    double library_seconds = library_logins(engine, slow);
    double raw_seconds = raw_verifies(2, 64 * 1024 * 1024, slow, prefix[0], sizeof prefix[0]);
    row("default: ops 2, 64 MiB, sync=FULL", slow, library_seconds, raw_seconds);

    set_costs(engine, 1, 8192);
    library_seconds = library_logins(engine, fast);
    raw_seconds = raw_verifies(1, 8192, fast, prefix[1], sizeof prefix[1]);
    row("fast: ops 1, 8 KiB, sync=FULL", fast, library_seconds, raw_seconds);
    billing_engine_close(engine);

    if (billing_engine_open(database, "{\"synchronous\": \"NORMAL\"}", &engine) != BILLING_OK) die_billing("billing_engine_open");
    library_seconds = library_logins(engine, fast);
    raw_seconds = raw_verifies(1, 8192, fast, prefix[1], sizeof prefix[1]);
    row("fast: ops 1, 8 KiB, sync=NORMAL", fast, library_seconds, raw_seconds);
    billing_engine_close(engine);

    printf("\nraw hashes: %s (default), %s (fast)\n", prefix[0], prefix[1]);
    cleanup();
    return 0;
}
