/*
 * billingctl — operate a libbilling database from a shell, cron or a systemd timer.
 *
 * A plain client of include/billing.h and the release library: every library call goes
 * through billing_call, so each outcome, error included, arrives as one document. `billingctl
 * --help` is the manual (the same text as `usage` below); README.md, "Operator CLI", shows
 * it in use. C99, no dependency beyond libbilling.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "billing.h"

/* ---- Exit statuses (documented in usage below) ------------------------------------------ */

enum {
    EXIT_OK = 0,
    EXIT_NO = 1,      /* the command ran and the answer is no: verify found breaches */
    EXIT_USAGE = 2,   /* unknown command or option, missing or malformed argument */
    EXIT_LOCAL = 3,   /* a local file (cursor file, stdout) could not be read or written */
    EXIT_LIBRARY = 10 /* + the library's status: 11 invalid … 16 busy, 17 schema, 19 auth */
};

static const char usage_text[] =
    "usage: billingctl [OPTIONS] COMMAND [ARGUMENTS]\n"
    "       billingctl COMMAND --help\n"
    "\n"
    "Operates a libbilling database file from a shell, cron or a systemd timer.\n"
    "\n"
    "Commands:\n"
    "  scheduler-run          do the scheduled work that is due now (run it from a timer)\n"
    "  verify                 recompute the invariants; exit status 1 on any breach\n"
    "  backup DESTINATION     write an online, consistent copy to a new file\n"
    "  events tail            print the events after a cursor file's position, then advance it\n"
    "  export-step            write the next rows of an export now\n"
    "  config get [KEY]       print the configuration, or one value\n"
    "  config set KEY VALUE…  change configuration values\n"
    "\n"
    "Options (before or after the command):\n"
    "  --db PATH              the database file (default: $BILLING_DB); never created here\n"
    "  --json                 print exactly one JSON document on stdout, also on failure:\n"
    "                         {\"ok\", \"command\", \"exit_status\", \"result\" or \"error\":\n"
    "                         {\"status\"?, \"status_name\"?, \"reason\", \"message\"}}\n"
    "  --actor NAME           who acts, for the audit log (default: billingctl)\n"
    "  --busy-timeout MS      how long to wait for another writer (default: 5000)\n"
    "  --clock manual --now T use a manual clock at Unix time T instead of the system's\n"
    "  $BILLING_AUDIT_KEY     the host's audit key (hex), when the file's chain is keyed\n"
    "  -h, --help             this text, or a command's with COMMAND --help\n"
    "\n"
    "Exit status:\n"
    "  0   success\n"
    "  1   the command ran and the answer is no (verify found breaches)\n"
    "  2   usage error: unknown command or option, missing or malformed argument\n"
    "  3   a local file could not be read or written (cursor file, standard output)\n"
    "  10+N  the library failed with status N: 11 invalid argument, 12 not found,\n"
    "      13 conflict (e.g. the backup destination exists), 14 refused by a rule,\n"
    "      15 storage (e.g. no such database file), 16 busy (retry later),\n"
    "      17 not a libbilling file or written by a newer library, 18 internal error\n";

struct command_help {
    const char *name, *text;
};

static const struct command_help command_help[] = {
    {"scheduler-run",
     "usage: billingctl scheduler-run [--limit N] [--max-batches N]\n"
     "\n"
     "Does the work due at the current time: cancels orders past their payment deadline,\n"
     "moves resources through effect, reminders, auto-renewal, expiry, freezing and release,\n"
     "steps exports and purges old ones. Runs batches of --limit items per job (1-10000,\n"
     "default 1000) while more work is due, at most --max-batches batches (default 100; the\n"
     "next run continues). Safe to run from several hosts or timers at once: the library\n"
     "does each piece of work once. Exit 16 when the database stayed busy: retry later.\n"
     "Text: one line per batch. JSON result: {\"batches\", \"has_more\", \"runs\": [each\n"
     "billing_scheduler_run response]}.\n"},
    {"verify",
     "usage: billingctl verify\n"
     "\n"
     "Recomputes the invariants from the stored facts (ledgers, coupons, orders, refunds,\n"
     "periods, the audit chain). Exit 0 when all hold, 1 when any breach is found (each is\n"
     "printed: check, subject, detail). JSON result: the billing_verify response.\n"},
    {"backup",
     "usage: billingctl backup DESTINATION\n"
     "\n"
     "Writes an online, consistent copy of the database to DESTINATION, a file that must\n"
     "not exist yet (a relative path is taken from the current directory). Other processes\n"
     "keep working meanwhile. Exit 13 when DESTINATION exists. JSON result: {\"backup\":\n"
     "{\"destination\", \"bytes\", \"taken_at\"}}.\n"},
    {"events",
     "usage: billingctl events tail [--cursor-file FILE] [--after CURSOR] [--account ID]\n"
     "                              [--limit N] [--follow [--interval SECONDS]]\n"
     "\n"
     "Prints the events after the position stored in FILE (from the first event when FILE\n"
     "does not exist yet), one JSON object per line, oldest first, then stores the new\n"
     "position in FILE: written to a temporary file, synced and renamed over FILE only after\n"
     "the events were written to standard output, so an interrupted run prints them again\n"
     "rather than losing them. Without --cursor-file it starts after --after (default: the\n"
     "beginning) and stores nothing. --account ID keeps one account's events; --limit N\n"
     "events per page (1-1000, default 100). --follow keeps polling every --interval\n"
     "seconds (default 1) until interrupted (SIGINT or SIGTERM: exit 0); not with --json.\n"
     "Use one cursor file per consumer. JSON result: {\"events\": [...], \"next_cursor\"}.\n"},
    {"export-step",
     "usage: billingctl export-step --account ID --export ID [--max-rows N]\n"
     "\n"
     "Writes the next rows of a GENERATING export now (the scheduler does this too) and\n"
     "prints its status. Exit 12 when the export does not exist for that account.\n"
     "JSON result: {\"export\": {...}}.\n"},
    {"config",
     "usage: billingctl config get [KEY]\n"
     "       billingctl config set KEY VALUE [KEY VALUE ...]\n"
     "\n"
     "get prints the configuration (JSON) or the value of one KEY; an unknown KEY is a\n"
     "usage error. set changes values in one request (all or nothing): VALUE is JSON when\n"
     "it parses as JSON (5, true, {\"V1\": {...}}, \"text\"), otherwise a string (USD).\n"
     "Exit 11 when the library refuses a value. JSON result: get: {\"configuration\"} or\n"
     "{\"key\", \"value\"}; set: the billing_config_update response.\n"},
};

/* ---- Text buffers ---------------------------------------------------------------------- */

struct text {
    char *data;
    size_t length, capacity;
};

static void out_of_memory(void) {
    fputs("billingctl: out of memory\n", stderr);
    exit(EXIT_LOCAL);
}

static void append(struct text *t, const char *bytes, size_t n) {
    if (t->length + n + 1 > t->capacity) {
        size_t capacity = t->capacity ? t->capacity : 256;
        while (capacity < t->length + n + 1) capacity *= 2;
        char *grown = realloc(t->data, capacity);
        if (!grown) out_of_memory();
        t->data = grown;
        t->capacity = capacity;
    }
    memcpy(t->data + t->length, bytes, n);
    t->length += n;
    t->data[t->length] = '\0';
}

static void appends(struct text *t, const char *s) { append(t, s, strlen(s)); }

static void appendf(struct text *t, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    int n = vsnprintf(NULL, 0, format, arguments);
    va_end(arguments);
    if (n <= 0) return;
    char *buffer = malloc((size_t)n + 1);
    if (!buffer) out_of_memory();
    va_start(arguments, format);
    vsnprintf(buffer, (size_t)n + 1, format, arguments);
    va_end(arguments);
    append(t, buffer, (size_t)n);
    free(buffer);
}

/* `s` as a JSON string, quotes included. */
static void append_quoted(struct text *t, const char *s) {
    appends(t, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char escaped[2] = {'\\', (char)*p};
            append(t, escaped, 2);
        } else if (*p < 0x20) {
            appendf(t, "\\u%04x", *p);
        } else {
            append(t, (const char *)p, 1);
        }
    }
    appends(t, "\"");
}

/* ---- Reading the library's JSON (compact, well-formed) ------------------------------- */

static const char *json_space(const char *at) {
    while (*at == ' ' || *at == '\n' || *at == '\r' || *at == '\t') at++;
    return at;
}

/* The character after the value at `at`, or NULL when it is not one well-formed value (only
   the structure is checked: strings, brackets, and the characters of literals and numbers). */
static const char *json_skip(const char *at) {
    int depth = 0;
    at = json_space(at);
    do {
        if (*at == '"') {
            for (at++; *at != '"'; at++) {
                if (*at == '\0' || (unsigned char)*at < 0x20) return NULL;
                if (*at == '\\' && *++at == '\0') return NULL;
            }
            at++;
        } else if (*at == '{' || *at == '[') {
            depth++, at++;
        } else if (*at == '}' || *at == ']') {
            if (--depth < 0) return NULL;
            at++;
        } else if (depth > 0 && (*at == ',' || *at == ':' || *at == ' ' || *at == '\n' || *at == '\r' || *at == '\t')) {
            at++;
        } else {
            size_t n = strspn(at, "-+.0123456789eEtruefalsn");
            if (n == 0) return NULL;
            at += n;
        }
    } while (depth > 0);
    return at;
}

/* The value of `key` among the members of the object at `object`, or NULL. */
static const char *json_member(const char *object, const char *key) {
    const char *at = object ? json_space(object) : NULL;
    if (!at || *at != '{') return NULL;
    at = json_space(at + 1);
    size_t length = strlen(key);
    while (*at == '"') {
        const char *name = at + 1, *colon = json_skip(at);
        if (!colon || *(colon = json_space(colon)) != ':') return NULL;
        const char *value = json_space(colon + 1);
        if (strncmp(name, key, length) == 0 && name[length] == '"') return value;
        const char *end = json_skip(value);
        if (!end) return NULL;
        at = json_space(end);
        at = *at == ',' ? json_space(at + 1) : at;
    }
    return NULL;
}

static int64_t json_integer(const char *value, int64_t fallback) {
    if (!value || !(*value == '-' || (*value >= '0' && *value <= '9'))) return fallback;
    return strtoll(value, NULL, 10);
}

static int json_true(const char *value) { return value && strncmp(value, "true", 4) == 0; }

/* A copy of the JSON string at `value` with its escapes left as written (ids, cursors). */
static char *json_copy_string(const char *value) {
    if (!value || *value != '"') return NULL;
    const char *end = json_skip(value);
    if (!end) return NULL;
    size_t n = (size_t)(end - value) - 2;
    char *copy = malloc(n + 1);
    if (!copy) out_of_memory();
    memcpy(copy, value + 1, n);
    copy[n] = '\0';
    return copy;
}

/* Appends the value at `value` as written. */
static void append_value(struct text *t, const char *value) {
    const char *end = value ? json_skip(value) : NULL;
    if (end) append(t, value, (size_t)(end - value));
    else appends(t, "null");
}

/* ---- Options and the run's state ------------------------------------------------------- */

static struct {
    const char *db, *actor, *clock, *now, *busy_timeout;
    int json, help;
    const char *command;       /* for messages and the JSON document: "verify", "events tail", … */
    const char *positional[64]; /* the command's words and arguments, options removed */
    int positionals;
    /* command options */
    const char *limit, *max_batches, *cursor_file, *after, *account, *export_id, *max_rows, *interval;
    int follow;
} options;

static billing_engine *engine;

/* Prints the run's one document (--json) or its text, and returns the exit status. */
static int finish_with_error(int exit_status, const char *error_json, const char *text_message) {
    if (options.json) {
        struct text document = {0};
        appends(&document, "{\"command\":");
        append_quoted(&document, options.command ? options.command : "");
        appendf(&document, ",\"error\":%s,\"exit_status\":%d,\"ok\":false}\n", error_json, exit_status);
        fputs(document.data, stdout);
        free(document.data);
    }
    fprintf(stderr, "billingctl%s%s: %s\n", options.command ? " " : "", options.command ? options.command : "", text_message);
    return exit_status;
}

/* A failure that is billingctl's own (usage, local files): {"reason", "message"}. */
static int fail(int exit_status, const char *reason, const char *format, ...) {
    char message[1024];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(message, sizeof message, format, arguments);
    va_end(arguments);
    struct text error = {0};
    appends(&error, "{\"message\":");
    append_quoted(&error, message);
    appends(&error, ",\"reason\":");
    append_quoted(&error, reason);
    appends(&error, "}");
    int status = finish_with_error(exit_status, error.data, message);
    free(error.data);
    if (exit_status == EXIT_USAGE && !options.json) fputs("Try 'billingctl --help'.\n", stderr);
    return status;
}

/* Success: {"command", "exit_status", "ok", "result"} with --json; text is printed by the
   command itself. `exit_status` may be EXIT_NO (verify): then "ok" is false. */
static int finish(int exit_status, const char *result_json) {
    if (options.json) {
        struct text document = {0};
        appends(&document, "{\"command\":");
        append_quoted(&document, options.command);
        appendf(&document, ",\"exit_status\":%d,\"ok\":%s,\"result\":", exit_status, exit_status == EXIT_OK ? "true" : "false");
        appends(&document, result_json);
        appends(&document, "}\n");
        fputs(document.data, stdout);
        free(document.data);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) return EXIT_LOCAL;
    return exit_status;
}

/* One library call through billing_call. Returns the status; on success *result points into
   *document at the response (free *document with billing_string_free). On failure prints the
   error (the document's "error") and sets *exit_status. */
static int call(const char *function, const char *request, char **document, const char **result, int *exit_status) {
    *document = NULL;
    *result = NULL;
    int status = billing_call(engine, function, request, document);
    if (status == BILLING_OK) {
        *result = json_member(*document, "result");
        return status;
    }
    const char *error = json_member(*document, "error");
    char *reason = json_copy_string(json_member(error, "reason"));
    char *message = json_copy_string(json_member(error, "message"));
    struct text text = {0}, error_json = {0};
    appendf(&text, "%s (%s): %s", billing_status_string(status), reason ? reason : billing_last_error_reason(),
            message ? message : billing_last_error_message());
    if (error) append_value(&error_json, error);
    else appendf(&error_json, "{\"status\":%d}", status);
    *exit_status = finish_with_error(EXIT_LIBRARY + status, error_json.data, text.data);
    free(reason);
    free(message);
    free(text.data);
    free(error_json.data);
    billing_string_free(*document);
    *document = NULL;
    return status;
}

/* ---- Commands ------------------------------------------------------------------------------ */

static int parse_count(const char *text, long low, long high, const char *name, long *value) {
    char *end = NULL;
    errno = 0;
    long parsed = text ? strtol(text, &end, 10) : 0;
    if (!text || !*text || *end || errno || parsed < low || parsed > high) {
        fail(EXIT_USAGE, "usage_error", "%s must be an integer from %ld to %ld", name, low, high);
        return 0;
    }
    *value = parsed;
    return 1;
}

static int command_scheduler_run(void) {
    long limit = 1000, max_batches = 100;
    if (options.limit && !parse_count(options.limit, 1, 10000, "--limit", &limit)) return EXIT_USAGE;
    if (options.max_batches && !parse_count(options.max_batches, 1, 1000000, "--max-batches", &max_batches)) return EXIT_USAGE;
    struct text request = {0}, runs = {0};
    appends(&request, "{\"actor\":");
    append_quoted(&request, options.actor);
    appendf(&request, ",\"limit\":%ld}", limit);
    int has_more = 1, exit_status = EXIT_OK;
    long batches = 0;
    appends(&runs, "[");
    while (has_more && batches < max_batches) {
        char *document;
        const char *result;
        if (call("billing_scheduler_run", request.data, &document, &result, &exit_status) != BILLING_OK) break;
        has_more = json_true(json_member(result, "has_more"));
        if (batches++ > 0) appends(&runs, ",");
        append_value(&runs, result);
        const char *resources = json_member(result, "resources");
        if (!options.json) {
            printf("scheduler-run batch %ld at %lld: cancelled_orders %lld, resources processed %lld (effective %lld, "
                   "reminders %lld, auto_renewed %lld, auto_renew_failed %lld, expired %lld, converted %lld, frozen %lld, "
                   "released %lld, failed %lld), exports stepped %lld, purged %lld%s\n",
                   batches, (long long)json_integer(json_member(result, "now"), 0),
                   (long long)json_integer(json_member(result, "cancelled_orders"), 0),
                   (long long)json_integer(json_member(resources, "processed"), 0),
                   (long long)json_integer(json_member(resources, "effective"), 0),
                   (long long)json_integer(json_member(resources, "reminders"), 0),
                   (long long)json_integer(json_member(resources, "auto_renewed"), 0),
                   (long long)json_integer(json_member(resources, "auto_renew_failed"), 0),
                   (long long)json_integer(json_member(resources, "expired"), 0),
                   (long long)json_integer(json_member(resources, "converted"), 0),
                   (long long)json_integer(json_member(resources, "frozen"), 0),
                   (long long)json_integer(json_member(resources, "released"), 0),
                   (long long)json_integer(json_member(resources, "failed"), 0),
                   (long long)json_integer(json_member(result, "exports_stepped"), 0),
                   (long long)json_integer(json_member(result, "exports_purged"), 0),
                   has_more ? "; more is due" : "");
        }
        billing_string_free(document);
    }
    appends(&runs, "]");
    if (exit_status == EXIT_OK) {
        struct text result = {0};
        appendf(&result, "{\"batches\":%ld,\"has_more\":%s,\"runs\":%s}", batches, has_more ? "true" : "false", runs.data);
        if (!options.json && has_more) printf("scheduler-run: stopped after %ld batches; the next run continues\n", batches);
        exit_status = finish(EXIT_OK, result.data);
        free(result.data);
    }
    free(request.data);
    free(runs.data);
    return exit_status;
}

static int command_verify(void) {
    char *document;
    const char *result;
    int exit_status = EXIT_OK;
    if (call("billing_verify", NULL, &document, &result, &exit_status) != BILLING_OK) return exit_status;
    int ok = json_true(json_member(result, "ok"));
    if (!options.json) {
        const char *breach = json_space(json_member(result, "breaches") ? json_member(result, "breaches") : "[]");
        long count = 0;
        for (breach = json_space(breach + 1); *breach == '{'; count++) {
            char *check = json_copy_string(json_member(breach, "check"));
            char *subject = json_copy_string(json_member(breach, "subject"));
            char *detail = json_copy_string(json_member(breach, "detail"));
            printf("breach %s %s: %s\n", check ? check : "?", subject ? subject : "?", detail ? detail : "?");
            free(check), free(subject), free(detail);
            const char *end = json_skip(breach);
            if (!end) break;
            breach = json_space(end);
            breach = *breach == ',' ? json_space(breach + 1) : breach;
        }
        printf(ok ? "verify: ok\n" : "verify: %ld breaches\n", count);
    }
    struct text copy = {0};
    append_value(&copy, result);
    billing_string_free(document);
    exit_status = finish(ok ? EXIT_OK : EXIT_NO, copy.data);
    free(copy.data);
    return exit_status;
}

static int command_backup(void) {
    if (options.positionals != 2) return fail(EXIT_USAGE, "usage_error", "backup takes one DESTINATION");
    const char *destination = options.positional[1];
    struct text path = {0}, request = {0};
    if (destination[0] != '/') {
        char directory[4096];
        if (!getcwd(directory, sizeof directory)) return fail(EXIT_LOCAL, "local_error", "cannot read the current directory: %s", strerror(errno));
        appends(&path, directory);
        appends(&path, "/");
    }
    appends(&path, destination);
    appends(&request, "{\"destination\":");
    append_quoted(&request, path.data);
    appends(&request, "}");
    char *document;
    const char *result;
    int exit_status = EXIT_OK;
    if (call("billing_engine_backup", request.data, &document, &result, &exit_status) == BILLING_OK) {
        const char *backup = json_member(result, "backup");
        if (!options.json)
            printf("backup: wrote %s (%lld bytes, a snapshot at %lld)\n", path.data,
                   (long long)json_integer(json_member(backup, "bytes"), 0), (long long)json_integer(json_member(backup, "taken_at"), 0));
        struct text copy = {0};
        append_value(&copy, result);
        billing_string_free(document);
        exit_status = finish(EXIT_OK, copy.data);
        free(copy.data);
    }
    free(path.data);
    free(request.data);
    return exit_status;
}

/* --follow stops at SIGINT or SIGTERM, between pages. */
static volatile sig_atomic_t stopping;
static void stop(int signal_number) { (void)signal_number, stopping = 1; }

/* The cursor stored in `path`: 1 with *cursor set (NULL when the file does not exist),
   0 after reporting an error. */
static int read_cursor(const char *path, char **cursor) {
    *cursor = NULL;
    FILE *file = fopen(path, "r");
    if (!file) {
        if (errno == ENOENT) return 1;
        fail(EXIT_LOCAL, "cursor_file_error", "cannot read the cursor file %s: %s", path, strerror(errno));
        return 0;
    }
    char line[128] = "";
    if (!fgets(line, sizeof line, file) && ferror(file)) {
        fclose(file);
        fail(EXIT_LOCAL, "cursor_file_error", "cannot read the cursor file %s", path);
        return 0;
    }
    fclose(file);
    line[strcspn(line, "\r\n")] = '\0';
    if (line[0] != '\0') {
        *cursor = strdup(line);
        if (!*cursor) out_of_memory();
    }
    return 1;
}

/* Replaces `path` with a file holding `cursor`: a temporary file beside it, synced, renamed
   over it, and the directory synced, so a crash leaves the old cursor or the new one. */
static int write_cursor(const char *path, const char *cursor) {
    struct text temporary = {0};
    appendf(&temporary, "%s.tmp.%ld", path, (long)getpid());
    int descriptor = open(temporary.data, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int ok = descriptor >= 0;
    if (ok) {
        size_t length = strlen(cursor);
        ok = write(descriptor, cursor, length) == (ssize_t)length && write(descriptor, "\n", 1) == 1 && fsync(descriptor) == 0;
        ok = close(descriptor) == 0 && ok;
        ok = ok && rename(temporary.data, path) == 0;
        if (!ok) unlink(temporary.data);
    }
    if (ok) {
        const char *slash = strrchr(path, '/');
        struct text directory = {0};
        if (slash) append(&directory, path, slash == path ? 1 : (size_t)(slash - path));
        else appends(&directory, ".");
        int handle = open(directory.data, O_RDONLY);
        if (handle >= 0) {
            fsync(handle); /* best effort: some file systems refuse to sync a directory */
            close(handle);
        }
        free(directory.data);
    }
    int saved = errno;
    free(temporary.data);
    if (!ok) fail(EXIT_LOCAL, "cursor_file_error", "cannot write the cursor file %s: %s", path, strerror(saved));
    return ok;
}

static int command_events_tail(void) {
    if (options.positionals != 2 || strcmp(options.positional[1], "tail") != 0)
        return fail(EXIT_USAGE, "usage_error", "the events command is 'events tail'");
    long limit = 100;
    double interval = 1.0;
    if (options.limit && !parse_count(options.limit, 1, 1000, "--limit", &limit)) return EXIT_USAGE;
    if (options.interval) {
        char *end = NULL;
        interval = strtod(options.interval, &end);
        if (!*options.interval || *end || !(interval >= 0.01 && interval <= 86400))
            return fail(EXIT_USAGE, "usage_error", "--interval must be a number of seconds from 0.01 to 86400");
    }
    if (options.follow && options.json) return fail(EXIT_USAGE, "usage_error", "--follow prints a stream: it cannot be used with --json");
    if (options.after && options.cursor_file) return fail(EXIT_USAGE, "usage_error", "--after and --cursor-file exclude each other");
    char *cursor = NULL;
    if (options.cursor_file && !read_cursor(options.cursor_file, &cursor)) return EXIT_LOCAL;
    if (options.after) {
        cursor = strdup(options.after);
        if (!cursor) out_of_memory();
    }
    if (options.follow) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = stop;
        sigaction(SIGINT, &action, NULL);
        sigaction(SIGTERM, &action, NULL);
    }
    struct text all = {0}; /* --json: every event of every page */
    appends(&all, "[");
    long printed = 0;
    int exit_status = EXIT_OK;
    while (!stopping) {
        struct text request = {0};
        appendf(&request, "{\"limit\":%ld", limit);
        if (cursor) appends(&request, ",\"after\":"), append_quoted(&request, cursor);
        if (options.account) appends(&request, ",\"account_id\":"), append_quoted(&request, options.account);
        appends(&request, "}");
        char *document;
        const char *result;
        int status = call("billing_events_list", request.data, &document, &result, &exit_status);
        free(request.data);
        if (status != BILLING_OK) break;
        const char *event = json_space(json_member(result, "events") ? json_member(result, "events") : "[]");
        long on_page = 0;
        for (event = json_space(event + 1); *event == '{'; on_page++) {
            const char *end = json_skip(event);
            if (!end) break;
            if (options.json) {
                if (printed + on_page > 0) appends(&all, ",");
                append(&all, event, (size_t)(end - event));
            } else {
                fwrite(event, 1, (size_t)(end - event), stdout);
                fputc('\n', stdout);
            }
            event = json_space(end);
            event = *event == ',' ? json_space(event + 1) : event;
        }
        printed += on_page;
        char *next = json_copy_string(json_member(result, "next_cursor"));
        int has_more = json_true(json_member(result, "has_more"));
        billing_string_free(document);
        /* The events are out (flushed, or kept for the one document) before the cursor moves. */
        if (!options.json && (fflush(stdout) != 0 || ferror(stdout))) {
            free(next);
            exit_status = fail(EXIT_LOCAL, "output_error", "cannot write to standard output; the cursor was not advanced");
            break;
        }
        if (next && (!cursor || strcmp(next, cursor) != 0)) {
            if (!options.json && options.cursor_file && !write_cursor(options.cursor_file, next)) {
                free(next);
                exit_status = EXIT_LOCAL;
                break;
            }
            free(cursor);
            cursor = next;
        } else {
            free(next);
        }
        if (has_more) continue;
        if (!options.follow) break;
        struct timespec pause = {(time_t)interval, (long)((interval - (double)(time_t)interval) * 1e9)};
        nanosleep(&pause, NULL);
    }
    appends(&all, "]");
    if (exit_status == EXIT_OK && options.json) {
        /* With --json the document is the output: the cursor moves once it is written. */
        struct text result = {0};
        appendf(&result, "{\"events\":%s,\"next_cursor\":", all.data);
        append_quoted(&result, cursor ? cursor : "0");
        appends(&result, "}");
        exit_status = finish(EXIT_OK, result.data);
        free(result.data);
        if (exit_status == EXIT_OK && options.cursor_file && cursor && !write_cursor(options.cursor_file, cursor))
            exit_status = EXIT_LOCAL;
    } else if (exit_status == EXIT_OK) {
        exit_status = finish(EXIT_OK, "");
    }
    free(all.data);
    free(cursor);
    return exit_status;
}

static int command_export_step(void) {
    if (options.positionals != 1) return fail(EXIT_USAGE, "usage_error", "export-step takes no arguments, only options");
    if (!options.account || !options.export_id) return fail(EXIT_USAGE, "usage_error", "export-step needs --account ID and --export ID");
    long max_rows = 0;
    if (options.max_rows && !parse_count(options.max_rows, 1, 1000000, "--max-rows", &max_rows)) return EXIT_USAGE;
    struct text request = {0};
    appends(&request, "{\"actor\":");
    append_quoted(&request, options.actor);
    appends(&request, ",\"account_id\":");
    append_quoted(&request, options.account);
    appends(&request, ",\"export_id\":");
    append_quoted(&request, options.export_id);
    if (max_rows) appendf(&request, ",\"max_rows\":%ld", max_rows);
    appends(&request, "}");
    char *document;
    const char *result;
    int exit_status = EXIT_OK;
    if (call("billing_export_step", request.data, &document, &result, &exit_status) == BILLING_OK) {
        const char *export = json_member(result, "export");
        char *status = json_copy_string(json_member(export, "status"));
        if (!options.json)
            printf("export %s: %s, %lld of %lld rows, %lld bytes\n", options.export_id, status ? status : "?",
                   (long long)json_integer(json_member(export, "rows_written"), 0),
                   (long long)json_integer(json_member(export, "rows_expected"), 0),
                   (long long)json_integer(json_member(export, "bytes"), 0));
        free(status);
        struct text copy = {0};
        append_value(&copy, result);
        billing_string_free(document);
        exit_status = finish(EXIT_OK, copy.data);
        free(copy.data);
    }
    free(request.data);
    return exit_status;
}

static int command_config(void) {
    const char *action = options.positionals >= 2 ? options.positional[1] : "";
    if (strcmp(action, "get") == 0) {
        if (options.positionals > 3) return fail(EXIT_USAGE, "usage_error", "config get takes at most one KEY");
        const char *key = options.positionals == 3 ? options.positional[2] : NULL;
        char *document;
        const char *result;
        int exit_status = EXIT_OK;
        if (call("billing_config_get", NULL, &document, &result, &exit_status) != BILLING_OK) return exit_status;
        const char *configuration = json_member(result, "configuration");
        const char *value = key ? json_member(configuration, key) : configuration;
        if (!value) {
            billing_string_free(document);
            return fail(EXIT_USAGE, "unknown_key", "no configuration value is named %s", key);
        }
        struct text shown = {0}, copy = {0};
        append_value(&shown, value);
        if (!options.json) printf("%s\n", shown.data);
        if (key) {
            appends(&copy, "{\"key\":");
            append_quoted(&copy, key);
            appendf(&copy, ",\"value\":%s}", shown.data);
        } else {
            appendf(&copy, "{\"configuration\":%s}", shown.data);
        }
        billing_string_free(document);
        exit_status = finish(EXIT_OK, copy.data);
        free(shown.data);
        free(copy.data);
        return exit_status;
    }
    if (strcmp(action, "set") == 0) {
        if (options.positionals < 4 || options.positionals % 2 != 0)
            return fail(EXIT_USAGE, "usage_error", "config set takes KEY VALUE pairs");
        struct text request = {0};
        appends(&request, "{\"actor\":");
        append_quoted(&request, options.actor);
        appends(&request, ",\"changes\":{");
        for (int i = 2; i + 1 < options.positionals; i += 2) {
            if (i > 2) appends(&request, ",");
            append_quoted(&request, options.positional[i]);
            appends(&request, ":");
            const char *value = options.positional[i + 1], *end = json_skip(value);
            if (end && *json_space(end) == '\0' && *json_space(value) != '\0') appends(&request, value);
            else append_quoted(&request, value);
        }
        appends(&request, "}}");
        char *document;
        const char *result;
        int exit_status = EXIT_OK;
        if (call("billing_config_update", request.data, &document, &result, &exit_status) == BILLING_OK) {
            struct text changed = {0}, copy = {0};
            append_value(&changed, json_member(result, "changed"));
            if (!options.json) printf("config set: changed %s\n", changed.data);
            append_value(&copy, result);
            billing_string_free(document);
            exit_status = finish(EXIT_OK, copy.data);
            free(changed.data);
            free(copy.data);
        }
        free(request.data);
        return exit_status;
    }
    return fail(EXIT_USAGE, "usage_error", "the config command is 'config get [KEY]' or 'config set KEY VALUE ...'");
}

/* ---- Main ------------------------------------------------------------------------------ */

static const struct {
    const char *name;
    int (*run)(void);
} commands[] = {
    {"scheduler-run", command_scheduler_run}, {"verify", command_verify},   {"backup", command_backup},
    {"events", command_events_tail},          {"export-step", command_export_step}, {"config", command_config},
};

/* Options with a value: the name and where it goes. */
static const struct {
    const char *name;
    const char **value;
} valued[] = {
    {"--db", &options.db},           {"--actor", &options.actor},         {"--clock", &options.clock},
    {"--now", &options.now},         {"--busy-timeout", &options.busy_timeout}, {"--limit", &options.limit},
    {"--max-batches", &options.max_batches}, {"--cursor-file", &options.cursor_file}, {"--after", &options.after},
    {"--account", &options.account}, {"--export", &options.export_id},    {"--max-rows", &options.max_rows},
    {"--interval", &options.interval},
};

static int parse_arguments(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *argument = argv[i];
        if (strcmp(argument, "--json") == 0) { options.json = 1; continue; }
        if (strcmp(argument, "--follow") == 0) { options.follow = 1; continue; }
        if (strcmp(argument, "-h") == 0 || strcmp(argument, "--help") == 0) { options.help = 1; continue; }
        if (strcmp(argument, "--") == 0) {
            while (++i < argc && options.positionals < 64) options.positional[options.positionals++] = argv[i];
            break;
        }
        int matched = 0;
        for (size_t k = 0; k < sizeof valued / sizeof *valued && !matched; k++) {
            size_t length = strlen(valued[k].name);
            if (strncmp(argument, valued[k].name, length) != 0) continue;
            if (argument[length] == '=') {
                *valued[k].value = argument + length + 1;
                matched = 1;
            } else if (argument[length] == '\0') {
                if (i + 1 >= argc) return fail(EXIT_USAGE, "usage_error", "%s needs a value", argument);
                *valued[k].value = argv[++i];
                matched = 1;
            }
        }
        if (matched) continue;
        if (argument[0] == '-' && argument[1] != '\0') return fail(EXIT_USAGE, "usage_error", "unknown option %s", argument);
        if (options.positionals >= 64) return fail(EXIT_USAGE, "usage_error", "too many arguments");
        options.positional[options.positionals++] = argument;
    }
    return EXIT_OK;
}

static int open_engine(void) {
    if (!options.db || !*options.db) return fail(EXIT_USAGE, "usage_error", "no database: give --db PATH or set BILLING_DB");
    struct text request = {0};
    appends(&request, "{\"create\":false");
    if (options.busy_timeout) {
        long timeout;
        if (!parse_count(options.busy_timeout, 0, 600000, "--busy-timeout", &timeout)) return free(request.data), EXIT_USAGE;
        appendf(&request, ",\"busy_timeout_ms\":%ld", timeout);
    }
    if (options.clock && strcmp(options.clock, "system") != 0) {
        long long now;
        char *end = NULL;
        if (strcmp(options.clock, "manual") != 0) return free(request.data), fail(EXIT_USAGE, "usage_error", "--clock is system or manual");
        errno = 0;
        now = options.now ? strtoll(options.now, &end, 10) : -1;
        if (!options.now || !*options.now || *end || errno || now < 0)
            return free(request.data), fail(EXIT_USAGE, "usage_error", "--clock manual needs --now with Unix seconds");
        appendf(&request, ",\"clock\":\"manual\",\"now\":%lld", now);
    } else if (options.now) {
        return free(request.data), fail(EXIT_USAGE, "usage_error", "--now needs --clock manual");
    }
    /* The audit key stays out of the command line (and so out of ps): only the environment. */
    const char *audit_key = getenv("BILLING_AUDIT_KEY");
    if (audit_key && *audit_key) {
        appends(&request, ",\"audit_key\":");
        append_quoted(&request, audit_key);
    }
    appends(&request, "}");
    int status = billing_engine_open(options.db, request.data, &engine);
    free(request.data);
    if (status == BILLING_OK) return EXIT_OK;
    /* The open's error is read on this thread right away (billingctl has one thread). */
    struct text error = {0}, text = {0};
    appendf(&error, "{\"message\":");
    append_quoted(&error, billing_last_error_message());
    appends(&error, ",\"reason\":");
    append_quoted(&error, billing_last_error_reason());
    appendf(&error, ",\"status\":%d,\"status_name\":", status);
    append_quoted(&error, billing_status_string(status));
    appends(&error, "}");
    appendf(&text, "cannot open %s: %s (%s): %s", options.db, billing_status_string(status), billing_last_error_reason(),
            billing_last_error_message());
    int exit_status = finish_with_error(EXIT_LIBRARY + status, error.data, text.data);
    free(error.data);
    free(text.data);
    return exit_status;
}

int main(int argc, char **argv) {
    options.actor = "billingctl";
    options.db = getenv("BILLING_DB");
    int status = parse_arguments(argc, argv);
    if (status != EXIT_OK) return status;
    if (options.positionals == 0) {
        if (options.help) return fputs(usage_text, stdout) == EOF ? EXIT_LOCAL : EXIT_OK;
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    const char *name = options.positional[0];
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        if (strcmp(name, commands[i].name) != 0) continue;
        if (options.help) {
            for (size_t h = 0; h < sizeof command_help / sizeof *command_help; h++)
                if (strcmp(command_help[h].name, name) == 0) fputs(command_help[h].text, stdout);
            return EXIT_OK;
        }
        options.command = strcmp(name, "events") == 0 ? "events tail"
                          : strcmp(name, "config") == 0 && options.positionals >= 2 && strcmp(options.positional[1], "set") == 0 ? "config set"
                          : strcmp(name, "config") == 0 ? "config get"
                          : name;
        status = open_engine();
        if (status != EXIT_OK) return status;
        status = commands[i].run();
        billing_engine_close(engine);
        return status;
    }
    return fail(EXIT_USAGE, "usage_error", "unknown command %s", name);
}
