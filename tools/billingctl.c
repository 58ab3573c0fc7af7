/*
 * billingctl — operate a libbilling database from a shell, cron or a systemd timer.
 *
 * A plain client of include/billing.h and the release library: every library call goes
 * through billing_call, so each outcome, error included, arrives as one document. `billingctl
 * --help` is the manual (the same text as `usage_text` below); README.md, "Operator CLI", and
 * docs/rules-operations.md show it in use. C99, no dependency beyond libbilling.
 *
 * What it promises a script (and why the code below is careful):
 *   - every argument is checked before the database is opened, so a usage error is exit 2
 *     whatever state the database is in;
 *   - with --json, exactly one document on stdout for every outcome, a usage error in the
 *     first argument included (the arguments are read to the end before anything is reported);
 *   - nothing the user typed reaches a request without being encoded as JSON, and nothing
 *     echoed in a message is invalid UTF-8, a control character or unbounded;
 *   - a reader that goes away (`| head -1`) ends the run quietly: SIGPIPE is ignored and EPIPE
 *     is a normal stop, never a crash or an error message;
 *   - `backup` never overwrites: an existing destination is left untouched (exit 13);
 *   - `copy` succeeds only when the copy verifies exactly as the source does.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "billing.h"

/* ---- Exit statuses (documented in usage_text, README.md and docs/rules-operations.md) -- */

enum {
    EXIT_OK = 0,
    EXIT_NO = 1,      /* the command ran and the answer is no: verify found breaches */
    EXIT_USAGE = 2,   /* unknown command or option, missing or malformed argument */
    EXIT_LOCAL = 3,   /* a local file (cursor file, stdout) could not be read or written */
    EXIT_LIBRARY = 10 /* + the library's status: 11 invalid … 16 busy, 17 schema, 18 internal */
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
    "                         (--audit-head FILE: also against a head kept elsewhere)\n"
    "  audit-head             print the audit chain's head, to keep outside the file\n"
    "  backup DESTINATION     write an online, consistent copy to a new file; never\n"
    "                         overwrites (an existing DESTINATION: exit 13, left untouched)\n"
    "  copy DESTINATION       copy every row into an empty database (a file or a\n"
    "                         PostgreSQL connection string), then verify the copy\n"
    "  events tail            print a page of events after a cursor file's position, then\n"
    "                         advance it (--max-pages N, --follow)\n"
    "  export-step            write the next rows of an export now\n"
    "  config get [KEY]       print the configuration, or one value\n"
    "  config set KEY VALUE…  change configuration values (VALUE is JSON, else a string)\n"
    "\n"
    "Options (before or after the command; --NAME=VALUE also works, and is needed for a\n"
    "value that starts with --):\n"
    "  --db PATH              the database file (default: $BILLING_DB); never created here\n"
    "  --json                 print exactly one JSON document on stdout, also on failure\n"
    "                         (usage errors included): {\"ok\", \"command\", \"exit_status\",\n"
    "                         \"result\" or \"error\": {\"status\"?, \"status_name\"?, \"reason\",\n"
    "                         \"message\"}}; the message also goes to standard error\n"
    "  --actor NAME           who acts, for the audit log (default: billingctl)\n"
    "  --busy-timeout MS      how long to wait for another writer, 0-600000 (default: 5000)\n"
    "  --clock manual --now T use a manual clock at Unix time T instead of the system's\n"
    "  $BILLING_AUDIT_KEY     the host's audit key (hex), when the file's chain is keyed\n"
    "  -h, --help             this text, or a command's with COMMAND --help\n"
    "A command refuses the options of other commands. Numbers are plain decimal digits.\n"
    "\n"
    "Exit status:\n"
    "  0   success\n"
    "  1   the command ran and the answer is no (verify found breaches, or the\n"
    "      copy does not verify as the source does)\n"
    "  2   usage error: unknown command or option, missing or malformed argument\n"
    "  3   a local file could not be read or written (cursor file, audit head file,\n"
    "      standard output), or\n"
    "      memory ran out\n"
    "  10+N  the library failed with status N: 11 invalid argument, 12 not found,\n"
    "      13 conflict (e.g. the backup destination exists, the copy destination\n"
    "      holds rows), 14 refused by a rule,\n"
    "      15 storage (e.g. no such database file), 16 busy (retry later),\n"
    "      17 not a libbilling file or written by a newer library, 18 internal error\n"
    "A standard output whose reader went away (`billingctl ... | head -1`) is not an error:\n"
    "nothing more is printed, no message, and the status is the command's own (events tail\n"
    "stops with 0, its cursor file not advanced past what could not be written;\n"
    "scheduler-run still finishes its batches).\n";

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
    if (n) memcpy(t->data + t->length, bytes, n);
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

/* ---- UTF-8 ----------------------------------------------------------------------------- */

/* The length of the well-formed UTF-8 sequence at `p` (1 to 4), or 0 when the bytes there are
   not one (a stray continuation byte, an overlong form, a surrogate, beyond U+10FFFF, or a
   sequence cut by the end of the string: each test stops at the first byte that fails, so
   nothing past a NUL is read). */
static size_t utf8_sequence(const unsigned char *p) {
    if (p[0] < 0x80) return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF) return (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        if ((p[1] & 0xC0) != 0x80 || (p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0)) return 0;
        return (p[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        if ((p[1] & 0xC0) != 0x80 || (p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90)) return 0;
        if ((p[2] & 0xC0) != 0x80) return 0;
        return (p[3] & 0xC0) == 0x80 ? 4 : 0;
    }
    return 0;
}

static int is_utf8(const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = utf8_sequence(p);
        if (n == 0) return 0;
        p += n;
    }
    return 1;
}

/* `s` as a JSON string, quotes included; bytes that are not UTF-8 become U+FFFD, so the
   document stays valid whatever `s` holds. */
static void append_quoted(struct text *t, const char *s) {
    appends(t, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = utf8_sequence(p);
        if (n == 0) {
            appends(t, "\\ufffd");
            n = 1;
        } else if (*p == '"' || *p == '\\') {
            char escaped[2] = {'\\', (char)*p};
            append(t, escaped, 2);
        } else if (*p < 0x20) {
            appendf(t, "\\u%04x", *p);
        } else {
            append(t, (const char *)p, n);
        }
        p += n;
    }
    appends(t, "\"");
}

/* `s` for a message meant for people: at most `limit` bytes of it (then "…"), cut between
   characters; bytes that are not UTF-8 and control characters (a terminal's escape sequences
   among them) shown as \xNN. The result is valid UTF-8 whatever `s` holds. */
static void append_shown(struct text *t, const char *s, size_t limit) {
    size_t start = t->length;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = utf8_sequence(p);
        char piece[8];
        size_t k = n;
        if (n == 0 || *p < 0x20 || *p == 0x7f) {
            k = (size_t)snprintf(piece, sizeof piece, "\\x%02x", *p);
            n = 1;
        } else {
            memcpy(piece, p, n);
        }
        if (t->length - start + k > limit) {
            appends(t, "\xe2\x80\xa6"); /* … */
            return;
        }
        append(t, piece, k);
        p += n;
    }
}

/* `s` shown (see append_shown) and bounded to 120 bytes, for a message's format arguments;
   the result lives until the fourth call after this one. */
static const char *shown(const char *s) {
    static char buffers[4][160];
    static unsigned next;
    char *buffer = buffers[next++ % 4];
    struct text t = {0};
    append_shown(&t, s ? s : "", 120);
    snprintf(buffer, sizeof buffers[0], "%s", t.data ? t.data : "");
    free(t.data);
    return buffer;
}

/* ---- Reading the library's JSON (compact, well-formed) ------------------------------- */

static const char *json_space(const char *at) {
    while (*at == ' ' || *at == '\n' || *at == '\r' || *at == '\t') at++;
    return at;
}

/* The character after the value at `at`, or NULL when it is not one well-formed value (only
   the structure is checked: strings, brackets, and the characters of literals and numbers).
   For the library's own output; what a user typed goes through json_valid below. */
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

static int hex4(const char *p) {
    int value = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (digit < 0) return -1;
        value = value * 16 + digit;
    }
    return value;
}

static void append_code_point(struct text *t, unsigned long c) {
    char bytes[4];
    size_t n;
    if (c == 0 || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) c = 0xFFFD; /* NUL or a lone surrogate */
    if (c < 0x80) bytes[0] = (char)c, n = 1;
    else if (c < 0x800) bytes[0] = (char)(0xC0 | c >> 6), bytes[1] = (char)(0x80 | (c & 0x3F)), n = 2;
    else if (c < 0x10000)
        bytes[0] = (char)(0xE0 | c >> 12), bytes[1] = (char)(0x80 | (c >> 6 & 0x3F)), bytes[2] = (char)(0x80 | (c & 0x3F)), n = 3;
    else
        bytes[0] = (char)(0xF0 | c >> 18), bytes[1] = (char)(0x80 | (c >> 12 & 0x3F)), bytes[2] = (char)(0x80 | (c >> 6 & 0x3F)),
        bytes[3] = (char)(0x80 | (c & 0x3F)), n = 4;
    append(t, bytes, n);
}

/* The JSON string at `value` decoded (escapes resolved; NUL and lone surrogates become
   U+FFFD), in a new buffer; NULL when `value` is not a string. */
static char *json_string(const char *value) {
    if (!value || *value != '"') return NULL;
    struct text t = {0};
    appends(&t, "");
    for (const char *p = value + 1; *p && *p != '"'; p++) {
        if (*p != '\\') {
            append(&t, p, 1);
            continue;
        }
        char c = *++p;
        if (c == '\0') break;
        if (c == 'u') {
            int unit = hex4(p + 1);
            if (unit < 0) {
                append_code_point(&t, 0xFFFD);
                continue;
            }
            p += 4;
            unsigned long code = (unsigned long)unit;
            if (unit >= 0xD800 && unit <= 0xDBFF && p[1] == '\\' && p[2] == 'u') {
                int low = hex4(p + 3);
                if (low >= 0xDC00 && low <= 0xDFFF) {
                    code = 0x10000 + (((unsigned long)unit - 0xD800) << 10) + ((unsigned long)low - 0xDC00);
                    p += 6;
                }
            }
            append_code_point(&t, code);
            continue;
        }
        const char *plain = strchr("\"\\/bfnrt", c);
        append(&t, plain ? &"\"\\/\b\f\n\r\t"[plain - "\"\\/bfnrt"] : &c, 1);
    }
    return t.data;
}

/* Appends the value at `value` as written. */
static void append_value(struct text *t, const char *value) {
    const char *end = value ? json_skip(value) : NULL;
    if (end) append(t, value, (size_t)(end - value));
    else appends(t, "null");
}

/* ---- Checking JSON a user typed (config set) -------------------------------------------- */

/* The character after one JSON value (RFC 8259, strictly: no trailing commas, no leading
   zeros or '+', escapes and UTF-8 checked, at most 64 levels deep), or NULL. */
static const char *json_valid(const char *at, int depth) {
    at = json_space(at);
    if (*at == '{' || *at == '[') {
        char close = *at == '{' ? '}' : ']';
        if (depth >= 64) return NULL;
        at = json_space(at + 1);
        if (*at == close) return at + 1;
        for (;;) {
            if (close == '}') {
                if (*at != '"' || !(at = json_valid(at, depth + 1))) return NULL;
                at = json_space(at);
                if (*at++ != ':') return NULL;
            }
            if (!(at = json_valid(at, depth + 1))) return NULL;
            at = json_space(at);
            if (*at == close) return at + 1;
            if (*at != ',') return NULL;
            at = json_space(at + 1);
        }
    }
    if (*at == '"') {
        for (at++; *at != '"';) {
            if ((unsigned char)*at < 0x20) return NULL; /* NUL (the end) or a raw control character */
            if (*at == '\\') {
                at++;
                if (*at == 'u') {
                    if (hex4(at + 1) < 0) return NULL;
                    at += 5;
                } else if (*at && strchr("\"\\/bfnrt", *at)) {
                    at++;
                } else {
                    return NULL;
                }
                continue;
            }
            size_t n = utf8_sequence((const unsigned char *)at);
            if (n == 0) return NULL;
            at += n;
        }
        return at + 1;
    }
    if (*at == '-' || (*at >= '0' && *at <= '9')) {
        if (*at == '-') at++;
        if (*at == '0') at++;
        else if (*at >= '1' && *at <= '9') while (*at >= '0' && *at <= '9') at++;
        else return NULL;
        if (*at == '.') {
            if (!(*++at >= '0' && *at <= '9')) return NULL;
            while (*at >= '0' && *at <= '9') at++;
        }
        if (*at == 'e' || *at == 'E') {
            at++;
            if (*at == '+' || *at == '-') at++;
            if (!(*at >= '0' && *at <= '9')) return NULL;
            while (*at >= '0' && *at <= '9') at++;
        }
        return at;
    }
    static const char *const literals[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++)
        if (strncmp(at, literals[i], strlen(literals[i])) == 0) return at + strlen(literals[i]);
    return NULL;
}

/* ---- Options and the run's state ------------------------------------------------------- */

/* Commands, as bits: which options each one takes. */
enum {
    FOR_SCHEDULER = 1,
    FOR_VERIFY = 2,
    FOR_BACKUP = 4,
    FOR_EVENTS = 8,
    FOR_EXPORT = 16,
    FOR_CONFIG = 32,
    FOR_AUDIT_HEAD = 64,
    FOR_COPY = 128,
    FOR_ALL = 255
};

static struct {
    const char *db, *actor, *clock, *now, *busy_timeout;
    int json, help;
    const char *command;      /* for messages and the JSON document: "verify", "events tail", … */
    const char **positional;  /* the command's words and arguments, options removed */
    int positionals;
    /* command options */
    const char *limit, *max_batches, *cursor_file, *after, *account, *export_id, *max_rows, *interval, *max_pages,
        *integrity, *audit_head;
    int follow;
} options;

static billing_engine *engine;
/* The engine options the command opened `engine` with (copy opens its destination with them). */
static const char *open_options;

/* Standard output's reader went away (EPIPE): the run stops quietly, with its own status. */
static int output_closed;

/* Whether standard output is a pipe or socket whose reader went away (poll says POLLERR or
   POLLHUP at once, without waiting). */
static int reader_gone(void) {
    struct pollfd out = {.fd = STDOUT_FILENO, .events = 0, .revents = 0};
    return poll(&out, 1, 0) == 1 && (out.revents & (POLLERR | POLLHUP)) != 0;
}

/* Flushes standard output: 0 when written, 1 when its reader went away (EPIPE; the error may
   have been met by an earlier buffered write, whose errno is gone, hence the poll), -1 on
   another error (errno says which, or is 0). */
static int flush_output(void) {
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout)) return 0;
    if (errno == EPIPE || reader_gone()) {
        output_closed = 1;
        return 1;
    }
    return -1;
}

/* Prints the run's one document (--json) and the message on standard error; returns the exit
   status. `message` is already safe to show (see append_shown). */
static int finish_with_error(int exit_status, const char *error_json, const char *message) {
    if (options.json && !output_closed) {
        struct text document = {0};
        appends(&document, "{\"command\":");
        append_quoted(&document, options.command ? options.command : "");
        appendf(&document, ",\"error\":%s,\"exit_status\":%d,\"ok\":false}\n", error_json, exit_status);
        fputs(document.data, stdout);
        free(document.data);
        flush_output(); /* the failure's own status stands, whatever happens to the document */
    }
    fprintf(stderr, "billingctl%s%s: %s\n", options.command ? " " : "", options.command ? options.command : "", message);
    return exit_status;
}

/* A failure that is billingctl's own (usage, local files): {"reason", "message"}. Arguments
   that echo user input go through shown(). */
static int fail(int exit_status, const char *reason, const char *format, ...) {
    char formatted[2048];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(formatted, sizeof formatted, format, arguments);
    va_end(arguments);
    struct text message = {0}, error = {0};
    append_shown(&message, formatted, 1000); /* valid UTF-8 even if the line was cut above */
    appends(&error, "{\"message\":");
    append_quoted(&error, message.data ? message.data : "");
    appends(&error, ",\"reason\":");
    append_quoted(&error, reason);
    appends(&error, "}");
    int status = finish_with_error(exit_status, error.data, message.data ? message.data : "");
    free(error.data);
    free(message.data);
    if (exit_status == EXIT_USAGE && !options.json) fputs("Try 'billingctl --help'.\n", stderr);
    return status;
}

/* Standard output failed for another reason than a reader going away (a full disk, a closed
   descriptor): exit 3, said on standard error only, since standard output is what failed. */
static int output_failed(const char *what) {
    int saved = errno;
    fprintf(stderr, "billingctl%s%s: cannot write to standard output: %s%s\n", options.command ? " " : "",
            options.command ? options.command : "", saved ? strerror(saved) : "write error", what);
    return EXIT_LOCAL;
}

/* Success: {"command", "exit_status", "ok", "result"} with --json; text is printed by the
   command itself. `exit_status` may be EXIT_NO (verify): then "ok" is false. */
static int finish(int exit_status, const char *result_json) {
    if (options.json && !output_closed) {
        struct text document = {0};
        appends(&document, "{\"command\":");
        append_quoted(&document, options.command ? options.command : "");
        appendf(&document, ",\"exit_status\":%d,\"ok\":%s,\"result\":", exit_status, exit_status == EXIT_OK ? "true" : "false");
        appends(&document, result_json);
        appends(&document, "}\n");
        fputs(document.data, stdout);
        free(document.data);
    }
    if (flush_output() < 0) return output_failed("");
    return exit_status;
}

/* Reports a failed library call from its billing_call document (freed here) and returns the
   exit status, 10 + the status. */
static int report_call_error(int status, char *document) {
    const char *error = json_member(document, "error");
    char *reason = json_string(json_member(error, "reason"));
    char *message = json_string(json_member(error, "message"));
    struct text text = {0}, error_json = {0};
    appends(&text, billing_status_string(status));
    appends(&text, " (");
    append_shown(&text, reason ? reason : billing_last_error_reason(), 100);
    appends(&text, "): ");
    append_shown(&text, message ? message : billing_last_error_message(), 1000);
    if (error) {
        append_value(&error_json, error);
    } else {
        /* No document (an allocation failure): the thread's last error, which billingctl's one
           thread reads right after the call. */
        appends(&error_json, "{\"message\":");
        append_quoted(&error_json, billing_last_error_message());
        appends(&error_json, ",\"reason\":");
        append_quoted(&error_json, billing_last_error_reason());
        appendf(&error_json, ",\"status\":%d,\"status_name\":", status);
        append_quoted(&error_json, billing_status_string(status));
        appends(&error_json, "}");
    }
    int exit_status = finish_with_error(EXIT_LIBRARY + status, error_json.data, text.data);
    free(reason);
    free(message);
    free(text.data);
    free(error_json.data);
    billing_string_free(document);
    return exit_status;
}

/* One library call through billing_call. Returns the status; on success *result points into
   *document at the response (free *document with billing_string_free). On failure reports the
   error, sets *exit_status and leaves *document NULL. */
static int call(const char *function, const char *request, char **document, const char **result, int *exit_status) {
    *document = NULL;
    *result = NULL;
    int status = billing_call(engine, function, request, document);
    if (status == BILLING_OK) {
        *result = json_member(*document, "result");
        return status;
    }
    *exit_status = report_call_error(status, *document);
    *document = NULL;
    return status;
}

/* ---- Checking arguments ------------------------------------------------------------------ */

/* `text` as a decimal integer from `low` to `high`: digits only (no sign, space, prefix or
   suffix), checked for overflow. 0 after reporting a usage error. */
static int parse_count(const char *text, long long low, long long high, const char *name, long long *value) {
    long long parsed = 0;
    int ok = text && *text;
    for (const char *p = text; ok && *p; p++) {
        int digit = *p - '0';
        ok = *p >= '0' && *p <= '9' && parsed <= high / 10 && parsed * 10 <= high - digit;
        if (ok) parsed = parsed * 10 + digit;
    }
    if (!ok || parsed < low) {
        fail(EXIT_USAGE, "usage_error", "%s must be an integer from %lld to %lld, not '%s'", name, low, high, shown(text));
        return 0;
    }
    *value = parsed;
    return 1;
}

/* --interval: a number of seconds from 0.01 to 86400 with at most three decimals (0.05, 2,
   1.5), as milliseconds. */
static int parse_interval(const char *text, long long *ms) {
    long long whole = 0, fraction = 0;
    int decimals = 0, ok = text && *text >= '0' && *text <= '9';
    const char *p = text;
    for (; ok && *p >= '0' && *p <= '9'; p++) {
        whole = whole * 10 + (*p - '0');
        ok = whole <= 86400;
    }
    if (ok && *p == '.') {
        ok = p[1] >= '0' && p[1] <= '9';
        for (p++; ok && *p >= '0' && *p <= '9'; p++) fraction = fraction * 10 + (*p - '0'), ok = ++decimals <= 3;
    }
    while (decimals > 0 && decimals < 3) fraction *= 10, decimals++;
    long long total = whole * 1000 + fraction;
    if (!ok || *p || total < 10 || total > 86400000) {
        fail(EXIT_USAGE, "usage_error", "--interval must be a number of seconds from 0.01 to 86400 (at most 3 decimals), not '%s'",
             shown(text));
        return 0;
    }
    *ms = total;
    return 1;
}

/* A string the user gave that goes into a request: present, not empty, UTF-8. */
static int check_text(const char *value, const char *name) {
    if (!is_utf8(value)) {
        fail(EXIT_USAGE, "usage_error", "%s is not valid UTF-8: '%s'", name, shown(value));
        return 0;
    }
    if (!*value) {
        fail(EXIT_USAGE, "usage_error", "%s must not be empty", name);
        return 0;
    }
    return 1;
}

/* ---- Commands: each checks its arguments (before the database is opened), then runs ---- */

static struct {
    long long limit, max_batches, max_rows, max_pages, interval_ms;
    const char *integrity;
    struct text request; /* prepared request of backup, config set and verify */
} settings;

static int check_scheduler_run(void) {
    if (options.positionals != 1) return fail(EXIT_USAGE, "usage_error", "scheduler-run takes no arguments, only options");
    settings.limit = 1000, settings.max_batches = 100;
    if (options.limit && !parse_count(options.limit, 1, 10000, "--limit", &settings.limit)) return EXIT_USAGE;
    if (options.max_batches && !parse_count(options.max_batches, 1, 1000000, "--max-batches", &settings.max_batches))
        return EXIT_USAGE;
    return EXIT_OK;
}

static int run_scheduler_run(void) {
    struct text request = {0}, runs = {0};
    appends(&request, "{\"actor\":");
    append_quoted(&request, options.actor);
    appendf(&request, ",\"limit\":%lld}", settings.limit);
    int has_more = 1, exit_status = EXIT_OK;
    long long batches = 0;
    appends(&runs, "[");
    while (has_more && batches < settings.max_batches) {
        char *document;
        const char *result;
        if (call("billing_scheduler_run", request.data, &document, &result, &exit_status) != BILLING_OK) break;
        has_more = json_true(json_member(result, "has_more"));
        if (batches++ > 0) appends(&runs, ",");
        append_value(&runs, result);
        const char *resources = json_member(result, "resources");
        if (!options.json && !output_closed) {
            printf("scheduler-run batch %lld at %lld: cancelled_orders %lld, resources processed %lld (effective %lld, "
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
            /* Each batch is done and committed: say so now, so a log shows it even if a later
               batch fails. A reader that went away does not stop the work a timer asked for. */
            if (flush_output() < 0) {
                exit_status = output_failed("");
                billing_string_free(document);
                break;
            }
        }
        billing_string_free(document);
    }
    appends(&runs, "]");
    if (exit_status == EXIT_OK) {
        struct text result = {0};
        appendf(&result, "{\"batches\":%lld,\"has_more\":%s,\"runs\":%s}", batches, has_more ? "true" : "false", runs.data);
        if (!options.json && has_more && !output_closed)
            printf("scheduler-run: stopped after %lld batches; the next run continues\n", batches);
        exit_status = finish(EXIT_OK, result.data);
        free(result.data);
    }
    free(request.data);
    free(runs.data);
    return exit_status;
}

/* The head kept by the host in `path` (what `billingctl audit-head` or billing_audit_head
   printed: a JSON object with "position" and "digest"), appended to `head` as checked here
   (the library checks the members' values). EXIT_OK, or the exit status after reporting why
   not: 3 when the file cannot be read, 2 when it does not hold a head. */
static int read_audit_head(const char *path, struct text *head) {
    if (!*path) return fail(EXIT_USAGE, "usage_error", "--audit-head must not be empty");
    FILE *file = fopen(path, "r");
    if (!file)
        return fail(EXIT_LOCAL, "audit_head_file_error", "cannot read the audit head file %s: %s", shown(path), strerror(errno));
    char buffer[4097]; /* a head is a line of about 100 bytes */
    size_t n = fread(buffer, 1, sizeof buffer - 1, file);
    int failed = ferror(file);
    fclose(file);
    if (failed) return fail(EXIT_LOCAL, "audit_head_file_error", "cannot read the audit head file %s", shown(path));
    buffer[n] = '\0';
    /* Whole (not cut at the buffer's end), no NUL inside, strictly one JSON value. */
    const char *start = json_space(buffer), *end = n < sizeof buffer - 1 && strlen(buffer) == n ? json_valid(start, 0) : NULL;
    const char *position = end ? json_member(start, "position") : NULL, *digest = end ? json_member(start, "digest") : NULL;
    if (!end || *json_space(end) != '\0' || *start != '{' || !position || !digest || *digest != '"' ||
        !(*position >= '0' && *position <= '9'))
        return fail(EXIT_USAGE, "usage_error",
                    "the audit head file %s does not hold an audit head (a JSON object with \"position\" and \"digest\", "
                    "as billingctl audit-head prints it)",
                    shown(path));
    append(head, start, (size_t)(end - start));
    return EXIT_OK;
}

static int check_verify(void) {
    if (options.positionals != 1) return fail(EXIT_USAGE, "usage_error", "verify takes no arguments, only options");
    settings.integrity = NULL;
    if (options.integrity) {
        static const char *const modes[] = {"QUICK", "FULL", "NONE"};
        for (size_t i = 0; i < 3 && !settings.integrity; i++)
            if (strcasecmp(options.integrity, modes[i]) == 0) settings.integrity = modes[i];
        if (!settings.integrity)
            return fail(EXIT_USAGE, "usage_error", "--integrity is quick, full or none, not '%s'", shown(options.integrity));
    }
    settings.request.length = 0;
    appends(&settings.request, "{");
    if (settings.integrity) appendf(&settings.request, "\"integrity\":\"%s\"", settings.integrity);
    if (options.audit_head) {
        /* Read before the database is opened, like every argument. */
        appends(&settings.request, settings.integrity ? ",\"audit_head\":" : "\"audit_head\":");
        int status = read_audit_head(options.audit_head, &settings.request);
        if (status != EXIT_OK) return status;
    }
    appends(&settings.request, "}");
    return EXIT_OK;
}

static int run_verify(void) {
    char *document;
    const char *result;
    int exit_status = EXIT_OK;
    int status = call("billing_verify", settings.request.data, &document, &result, &exit_status);
    if (status != BILLING_OK) return exit_status;
    int ok = json_true(json_member(result, "ok"));
    if (!options.json) {
        const char *breach = json_space(json_member(result, "breaches") ? json_member(result, "breaches") : "[]");
        long count = 0;
        for (breach = json_space(breach + 1); *breach == '{'; count++) {
            char *fields[3] = {json_string(json_member(breach, "check")), json_string(json_member(breach, "subject")),
                               json_string(json_member(breach, "detail"))};
            struct text line = {0};
            appends(&line, "breach ");
            append_shown(&line, fields[0] ? fields[0] : "?", 200);
            appends(&line, " ");
            append_shown(&line, fields[1] ? fields[1] : "?", 200);
            appends(&line, ": ");
            append_shown(&line, fields[2] ? fields[2] : "?", 2000);
            printf("%s\n", line.data);
            free(line.data), free(fields[0]), free(fields[1]), free(fields[2]);
            const char *end = json_skip(breach);
            if (!end) break;
            breach = json_space(end);
            breach = *breach == ',' ? json_space(breach + 1) : breach;
        }
        if (ok) printf("verify: ok\n");
        else printf("verify: %ld breaches\n", count);
    }
    struct text copy = {0};
    append_value(&copy, result);
    billing_string_free(document);
    exit_status = finish(ok ? EXIT_OK : EXIT_NO, copy.data);
    free(copy.data);
    return exit_status;
}

static int check_audit_head(void) {
    if (options.positionals != 1) return fail(EXIT_USAGE, "usage_error", "audit-head takes no arguments, only options");
    return EXIT_OK;
}

/* Prints the head as billing_audit_head returns it, one line: the file `verify --audit-head`
   reads. */
static int run_audit_head(void) {
    char *document;
    const char *result;
    int exit_status = EXIT_OK;
    if (call("billing_audit_head", NULL, &document, &result, &exit_status) != BILLING_OK) return exit_status;
    struct text copy = {0};
    append_value(&copy, result);
    billing_string_free(document);
    if (!options.json) printf("%s\n", copy.data);
    exit_status = finish(EXIT_OK, copy.data);
    free(copy.data);
    return exit_status;
}

/* The request {"destination": DESTINATION} of backup and copy, in settings.request: a file
   made absolute from the current directory (the library refuses relative paths), or, when
   `as_given` says so (a PostgreSQL connection string), DESTINATION as it is. */
static int destination_request(const char *command, int (*as_given)(const char *)) {
    if (options.positionals != 2) return fail(EXIT_USAGE, "usage_error", "%s takes one DESTINATION", command);
    const char *destination = options.positional[1];
    if (!check_text(destination, "DESTINATION")) return EXIT_USAGE;
    struct text path = {0};
    if (destination[0] != '/' && !(as_given && as_given(destination))) {
        char directory[4096];
        if (!getcwd(directory, sizeof directory))
            return fail(EXIT_LOCAL, "local_error", "cannot read the current directory: %s", strerror(errno));
        if (!is_utf8(directory))
            return fail(EXIT_USAGE, "usage_error", "the current directory is not valid UTF-8: give DESTINATION as an absolute path");
        appends(&path, directory);
        if (path.data[path.length - 1] != '/') appends(&path, "/");
    }
    appends(&path, destination);
    settings.request.length = 0;
    appends(&settings.request, "{\"destination\":");
    append_quoted(&settings.request, path.data);
    appends(&settings.request, "}");
    free(path.data);
    return EXIT_OK;
}

static int check_backup(void) { return destination_request("backup", NULL); }

static int run_backup(void) {
    char *document;
    const char *result;
    int exit_status = EXIT_OK;
    if (call("billing_engine_backup", settings.request.data, &document, &result, &exit_status) == BILLING_OK) {
        const char *backup = json_member(result, "backup");
        char *destination = json_string(json_member(backup, "destination"));
        if (!options.json)
            printf("backup: wrote %s (%lld bytes, a snapshot at %lld)\n", shown(destination ? destination : "?"),
                   (long long)json_integer(json_member(backup, "bytes"), 0),
                   (long long)json_integer(json_member(backup, "taken_at"), 0));
        free(destination);
        struct text copy = {0};
        append_value(&copy, result);
        billing_string_free(document);
        exit_status = finish(EXIT_OK, copy.data);
        free(copy.data);
    }
    return exit_status;
}

/* A PostgreSQL connection string (a URL or libpq's key=value words) goes to the library as
   given; anything else is a file, made absolute from the current directory. */
static int names_server(const char *destination) {
    if (strncmp(destination, "postgresql://", 13) == 0 || strncmp(destination, "postgres://", 11) == 0) return 1;
    /* key=value words: the first is a libpq keyword followed by '=' (the library's rule). */
    static const char *const keywords[] = {"host", "hostaddr", "port", "dbname", "user", "password", "service",
                                           "sslmode", "application_name", "options", "connect_timeout"};
    for (size_t i = 0; i < sizeof keywords / sizeof *keywords; i++) {
        size_t n = strlen(keywords[i]);
        if (strncmp(destination, keywords[i], n) == 0 && destination[n] == '=') return 1;
    }
    return 0;
}

static int check_copy(void) { return destination_request("copy", names_server); }

/* billing_verify on one engine: the response document (free with billing_string_free) and its
   "result", or NULL after reporting the failure in *exit_status. */
static char *verify_on(billing_engine *on, const char **result, int *exit_status) {
    char *document = NULL;
    int status = billing_call(on, "billing_verify", NULL, &document);
    if (status != BILLING_OK) {
        *exit_status = report_call_error(status, document);
        return NULL;
    }
    *result = json_member(document, "result");
    return document;
}

/* Copies, then verifies the source and the copy: the copy is good when both verify alike
   (the same "ok" and the same counts of what was checked), which for a copy of a database
   without breaches means the copy has none either. */
static int run_copy(void) {
    char *document;
    const char *result;
    int exit_status = EXIT_OK;
    if (call("billing_engine_copy", settings.request.data, &document, &result, &exit_status) != BILLING_OK) return exit_status;
    const char *copied = json_member(result, "copy");
    char *destination = json_string(json_member(copied, "destination"));
    billing_engine *target = NULL;
    int status = billing_engine_open(destination ? destination : "", open_options, &target);
    if (status != BILLING_OK) {
        struct text error = {0}, text = {0};
        appends(&error, "{\"message\":");
        append_quoted(&error, billing_last_error_message());
        appends(&error, ",\"reason\":");
        append_quoted(&error, billing_last_error_reason());
        appendf(&error, ",\"status\":%d,\"status_name\":", status);
        append_quoted(&error, billing_status_string(status));
        appends(&error, "}");
        appendf(&text, "copied, but cannot open the copy to verify it: %s (", billing_status_string(status));
        append_shown(&text, billing_last_error_reason(), 100);
        appends(&text, ")");
        exit_status = finish_with_error(EXIT_LIBRARY + status, error.data, text.data);
        free(error.data), free(text.data), free(destination);
        billing_string_free(document);
        return exit_status;
    }
    const char *source_result = NULL, *copy_result = NULL;
    char *source_verify = verify_on(engine, &source_result, &exit_status);
    char *copy_verify = source_verify ? verify_on(target, &copy_result, &exit_status) : NULL;
    billing_engine_close(target);
    if (source_verify && copy_verify) {
        /* The copy is judged on its own: verify ok, and what verify counted in it is what the
           copy wrote. The source may have moved on since its snapshot (its verify is shown,
           not compared). */
        static const char *const counted[][2] = {
            {"accounts", "accounts"}, {"coupons", "coupons"}, {"orders", "orders"}, {"resources", "resources"},
            {"audit_rows", "audit_log"}};
        const char *checked = json_member(copy_result, "checked"), *tables = json_member(copied, "tables");
        int copy_ok = json_true(json_member(copy_result, "ok"));
        int same = copy_ok;
        for (size_t i = 0; i < sizeof counted / sizeof *counted; i++)
            if (json_integer(json_member(checked, counted[i][0]), -1) != json_integer(json_member(tables, counted[i][1]), -2)) same = 0;
        if (!options.json) {
            printf("copy: %lld rows into %s (a snapshot at %lld)\n", (long long)json_integer(json_member(copied, "rows"), 0),
                   shown(destination ? destination : "?"), (long long)json_integer(json_member(copied, "taken_at"), 0));
            printf("verify: the copy is %s%s\n", copy_ok ? "ok" : "not ok",
                   same ? ", holding what was copied" : "; see --json for its breaches and counts");
        }
        struct text out = {0};
        appends(&out, "{\"copy\":");
        append_value(&out, copied);
        appendf(&out, ",\"same\":%s,\"verify\":{\"copy\":", same && copy_ok ? "true" : "false");
        append_value(&out, copy_result);
        appends(&out, ",\"source\":");
        append_value(&out, source_result);
        appends(&out, "}}");
        exit_status = finish(same && copy_ok ? EXIT_OK : EXIT_NO, out.data);
        free(out.data);
    }
    billing_string_free(source_verify);
    billing_string_free(copy_verify);
    billing_string_free(document);
    free(destination);
    return exit_status;
}

/* --follow stops at SIGINT or SIGTERM, between pages. */
static volatile sig_atomic_t stopping;
static void stop(int signal_number) { (void)signal_number, stopping = 1; }

/* Waits `ms` milliseconds, less when a signal arrives; returns 1 when standard output's reader
   went away meanwhile (a pipe to `head` that exited), so that --follow stops even when no
   event comes to write. */
static int wait_ms(long long ms) {
    struct pollfd out = {.fd = STDOUT_FILENO, .events = 0, .revents = 0};
    int ready = poll(&out, 1, (int)ms);
    if (ready == 1 && (out.revents & (POLLERR | POLLHUP))) {
        output_closed = 1;
        return 1;
    }
    if (ready == 1) { /* POLLNVAL: no standard output at all; writing will say so */
        struct timespec pause = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
        nanosleep(&pause, NULL);
    }
    return 0;
}

/* --follow waits out a database that another process holds longer than the busy timeout
   (from 50 ms, doubling, at most 2 s between tries) instead of leaving its consumer without
   events; the first pause of a run of them is said on standard error. */
static long long busy_backoff_ms;

static void busy_pause(void) {
    if (busy_backoff_ms == 0) fputs("billingctl events tail: the database is busy; retrying\n", stderr);
    busy_backoff_ms = busy_backoff_ms == 0 ? 50 : busy_backoff_ms * 2 > 2000 ? 2000 : busy_backoff_ms * 2;
    wait_ms(busy_backoff_ms);
}

/* The cursor stored in `path`: 1 with *cursor set (NULL when the file does not exist or is
   empty), 0 after reporting an error. A cursor is one short line of printable ASCII; anything
   else is refused rather than cut or passed on. */
static int read_cursor(const char *path, char **cursor) {
    *cursor = NULL;
    FILE *file = fopen(path, "r");
    if (!file) {
        if (errno == ENOENT) return 1;
        fail(EXIT_LOCAL, "cursor_file_error", "cannot read the cursor file %s: %s", shown(path), strerror(errno));
        return 0;
    }
    char buffer[130];
    size_t n = fread(buffer, 1, sizeof buffer - 1, file);
    int failed = ferror(file);
    fclose(file);
    if (failed) {
        fail(EXIT_LOCAL, "cursor_file_error", "cannot read the cursor file %s", shown(path));
        return 0;
    }
    buffer[n] = '\0';
    size_t length = strcspn(buffer, "\r\n");
    int ok = n < sizeof buffer - 1 && strlen(buffer) == n; /* not longer than a cursor, no NUL */
    for (size_t i = 0; ok && i < length; i++) ok = buffer[i] > 0x20 && buffer[i] < 0x7f;
    for (size_t i = length; ok && i < n; i++) ok = buffer[i] == '\r' || buffer[i] == '\n';
    if (!ok) {
        fail(EXIT_LOCAL, "cursor_file_error", "the cursor file %s does not hold a cursor (one short line)", shown(path));
        return 0;
    }
    buffer[length] = '\0';
    if (length > 0) {
        *cursor = strdup(buffer);
        if (!*cursor) out_of_memory();
    }
    return 1;
}

/* Replaces `path` with a file holding `cursor`: a temporary file beside it, synced, renamed
   over it, and the directory synced, so a crash leaves the old cursor or the new one. */
static int write_cursor(const char *path, const char *cursor) {
    struct text temporary = {0};
    appendf(&temporary, "%s.tmp.%ld", path, (long)getpid());
    unlink(temporary.data); /* a leftover of an earlier process with this id */
    int saved = 0;
    int descriptor = open(temporary.data, O_WRONLY | O_CREAT | O_EXCL, 0644);
    int ok = descriptor >= 0;
    if (!ok) saved = errno;
    if (ok) {
        struct text line = {0};
        appends(&line, cursor);
        appends(&line, "\n");
        ok = write(descriptor, line.data, line.length) == (ssize_t)line.length && fsync(descriptor) == 0;
        if (!ok) saved = errno;
        free(line.data);
        if (close(descriptor) != 0 && ok) ok = 0, saved = errno;
        if (ok && rename(temporary.data, path) != 0) ok = 0, saved = errno;
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
    free(temporary.data);
    if (!ok) fail(EXIT_LOCAL, "cursor_file_error", "cannot write the cursor file %s: %s", shown(path), strerror(saved ? saved : EIO));
    return ok;
}

static int check_events_tail(void) {
    if (options.positionals != 2 || strcmp(options.positional[1], "tail") != 0)
        return fail(EXIT_USAGE, "usage_error", "the events command is 'events tail'");
    settings.limit = 100, settings.interval_ms = 1000;
    settings.max_pages = options.follow ? 0 : 1; /* 0: no bound */
    if (options.limit && !parse_count(options.limit, 1, 1000, "--limit", &settings.limit)) return EXIT_USAGE;
    if (options.max_pages && !parse_count(options.max_pages, 1, 1000000, "--max-pages", &settings.max_pages))
        return EXIT_USAGE;
    if (options.interval && !options.follow) return fail(EXIT_USAGE, "usage_error", "--interval needs --follow");
    if (options.interval && !parse_interval(options.interval, &settings.interval_ms))
        return EXIT_USAGE;
    if (options.follow && options.json)
        return fail(EXIT_USAGE, "usage_error", "--follow prints a stream: it cannot be used with --json");
    if (options.after && options.cursor_file) return fail(EXIT_USAGE, "usage_error", "--after and --cursor-file exclude each other");
    return EXIT_OK;
}

/* Writes one page's events (one JSON object per line, or into `all` for --json). Returns the
   number written, or -1 when the page cannot be read (nothing is then taken as delivered). */
static long print_events(const char *events, struct text *all, long printed) {
    if (!events || *events != '[') return -1;
    long on_page = 0;
    const char *event = json_space(events + 1);
    while (*event == '{') {
        const char *end = json_skip(event);
        if (!end) return -1;
        if (options.json) {
            if (printed + on_page > 0) appends(all, ",");
            append(all, event, (size_t)(end - event));
        } else if (!output_closed) {
            fwrite(event, 1, (size_t)(end - event), stdout);
            fputc('\n', stdout);
        }
        on_page++;
        event = json_space(end);
        event = *event == ',' ? json_space(event + 1) : event;
    }
    return *event == ']' ? on_page : -1;
}

static int run_events_tail(void) {
    char *cursor = NULL;
    if (options.cursor_file && !read_cursor(options.cursor_file, &cursor)) return EXIT_LOCAL;
    if (options.after) {
        cursor = strdup(options.after);
        if (!cursor) out_of_memory();
    }
    struct text all = {0}; /* --json: every event of every page */
    appends(&all, "[");
    long printed = 0;
    long long pages = 0;
    int exit_status = EXIT_OK, has_more = 0;
    while (!stopping && !output_closed && (settings.max_pages == 0 || pages < settings.max_pages)) {
        struct text request = {0};
        appendf(&request, "{\"limit\":%lld", settings.limit);
        if (cursor) appends(&request, ",\"after\":"), append_quoted(&request, cursor);
        if (options.account) appends(&request, ",\"account_id\":"), append_quoted(&request, options.account);
        appends(&request, "}");
        char *document = NULL;
        int status = billing_call(engine, "billing_events_list", request.data, &document);
        free(request.data);
        if (status == BILLING_E_BUSY && options.follow) {
            billing_string_free(document);
            busy_pause();
            continue;
        }
        if (status != BILLING_OK) {
            exit_status = report_call_error(status, document);
            break;
        }
        busy_backoff_ms = 0;
        pages++;
        const char *result = json_member(document, "result");
        long on_page = print_events(json_member(result, "events"), &all, printed);
        char *next = json_string(json_member(result, "next_cursor"));
        has_more = json_true(json_member(result, "has_more"));
        billing_string_free(document);
        if (on_page < 0 || !next) {
            free(next);
            exit_status = fail(EXIT_LIBRARY + BILLING_E_INTERNAL, "unreadable_response",
                               "the library's page of events could not be read; the cursor was not advanced");
            break;
        }
        printed += on_page;
        /* The events are out (flushed, or kept for the one document) before the cursor moves. */
        if (!options.json) {
            int flushed = flush_output();
            if (flushed != 0) {
                free(next);
                if (flushed < 0) exit_status = output_failed("; the cursor was not advanced");
                break; /* a reader that went away: a normal stop, the cursor stays */
            }
        }
        if (!cursor || strcmp(next, cursor) != 0) {
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
        wait_ms(settings.interval_ms);
    }
    appends(&all, "]");
    if (exit_status == EXIT_OK && options.json) {
        /* With --json the document is the output: the cursor moves once it is written. */
        struct text result = {0};
        appendf(&result, "{\"events\":%s,\"has_more\":%s,\"next_cursor\":", all.data, has_more ? "true" : "false");
        append_quoted(&result, cursor ? cursor : "0");
        appendf(&result, ",\"pages\":%lld}", pages);
        exit_status = finish(EXIT_OK, result.data);
        free(result.data);
        if (exit_status == EXIT_OK && !output_closed && options.cursor_file && cursor && !write_cursor(options.cursor_file, cursor))
            exit_status = EXIT_LOCAL;
    } else if (exit_status == EXIT_OK) {
        if (has_more && !stopping && !output_closed)
            fprintf(stderr, "billingctl events tail: more events remain after cursor %s; run again or raise --max-pages\n",
                    shown(cursor ? cursor : "0"));
        exit_status = finish(EXIT_OK, "");
    }
    free(all.data);
    free(cursor);
    return exit_status;
}

static int check_export_step(void) {
    if (options.positionals != 1) return fail(EXIT_USAGE, "usage_error", "export-step takes no arguments, only options");
    if (!options.account || !options.export_id) return fail(EXIT_USAGE, "usage_error", "export-step needs --account ID and --export ID");
    settings.max_rows = 0;
    if (options.max_rows && !parse_count(options.max_rows, 1, 1000000, "--max-rows", &settings.max_rows)) return EXIT_USAGE;
    return EXIT_OK;
}

static int run_export_step(void) {
    struct text request = {0};
    appends(&request, "{\"actor\":");
    append_quoted(&request, options.actor);
    appends(&request, ",\"account_id\":");
    append_quoted(&request, options.account);
    appends(&request, ",\"export_id\":");
    append_quoted(&request, options.export_id);
    if (settings.max_rows) appendf(&request, ",\"max_rows\":%lld", settings.max_rows);
    appends(&request, "}");
    char *document;
    const char *result;
    int exit_status = EXIT_OK;
    if (call("billing_export_step", request.data, &document, &result, &exit_status) == BILLING_OK) {
        const char *export = json_member(result, "export");
        char *status = json_string(json_member(export, "status"));
        if (!options.json) {
            printf("export %s: ", shown(options.export_id));
            printf("%s, %lld of %lld rows, %lld bytes\n", shown(status ? status : "?"),
                   (long long)json_integer(json_member(export, "rows_written"), 0),
                   (long long)json_integer(json_member(export, "rows_expected"), 0),
                   (long long)json_integer(json_member(export, "bytes"), 0));
        }
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

static int check_config(void) {
    const char *action = options.positionals >= 2 ? options.positional[1] : "";
    if (strcmp(action, "get") == 0) {
        if (options.positionals > 3) return fail(EXIT_USAGE, "usage_error", "config get takes at most one KEY");
        if (options.positionals == 3 && !check_text(options.positional[2], "KEY")) return EXIT_USAGE;
        return EXIT_OK;
    }
    if (strcmp(action, "set") != 0)
        return fail(EXIT_USAGE, "usage_error", "the config command is 'config get [KEY]' or 'config set KEY VALUE ...'");
    if (options.positionals < 4 || options.positionals % 2 != 0)
        return fail(EXIT_USAGE, "usage_error", "config set takes KEY VALUE pairs");
    /* Each VALUE is a JSON value when it is one, checked strictly and then copied as checked;
       otherwise it is sent as a JSON string, encoded here. Nothing typed is spliced unchecked. */
    settings.request.length = 0;
    appends(&settings.request, "{\"actor\":");
    append_quoted(&settings.request, options.actor);
    appends(&settings.request, ",\"changes\":{");
    for (int i = 2; i + 1 < options.positionals; i += 2) {
        const char *key = options.positional[i], *value = options.positional[i + 1];
        if (!check_text(key, "KEY")) return EXIT_USAGE;
        for (int j = 2; j < i; j += 2)
            if (strcmp(options.positional[j], key) == 0)
                return fail(EXIT_USAGE, "usage_error", "config set names %s twice", shown(key));
        if (!is_utf8(value))
            return fail(EXIT_USAGE, "usage_error", "the value of %s is not valid UTF-8: '%s'", shown(key), shown(value));
        if (i > 2) appends(&settings.request, ",");
        append_quoted(&settings.request, key);
        appends(&settings.request, ":");
        const char *start = json_space(value), *end = *start ? json_valid(start, 0) : NULL;
        if (end && *json_space(end) == '\0') {
            append(&settings.request, start, (size_t)(end - start));
        } else if (*start == '{' || *start == '[' || *start == '"') {
            return fail(EXIT_USAGE, "usage_error",
                        "the value of %s starts like JSON (%c) but is not valid JSON: '%s'; write valid JSON, or "
                        "text as a JSON string ('\"...\"', with \\\" and \\\\ inside)",
                        shown(key), *start, shown(value));
        } else {
            append_quoted(&settings.request, value);
        }
    }
    appends(&settings.request, "}}");
    return EXIT_OK;
}

static int run_config(void) {
    int exit_status = EXIT_OK;
    char *document;
    const char *result;
    if (strcmp(options.positional[1], "get") == 0) {
        const char *key = options.positionals == 3 ? options.positional[2] : NULL;
        if (call("billing_config_get", NULL, &document, &result, &exit_status) != BILLING_OK) return exit_status;
        const char *configuration = json_member(result, "configuration");
        const char *value = key ? json_member(configuration, key) : configuration;
        if (!value) {
            billing_string_free(document);
            return fail(EXIT_USAGE, "unknown_key", "no configuration value is named %s", shown(key));
        }
        struct text shown_value = {0}, copy = {0};
        append_value(&shown_value, value);
        if (!options.json) printf("%s\n", shown_value.data);
        if (key) {
            appends(&copy, "{\"key\":");
            append_quoted(&copy, key);
            appendf(&copy, ",\"value\":%s}", shown_value.data);
        } else {
            appendf(&copy, "{\"configuration\":%s}", shown_value.data);
        }
        billing_string_free(document);
        exit_status = finish(EXIT_OK, copy.data);
        free(shown_value.data);
        free(copy.data);
        return exit_status;
    }
    if (call("billing_config_update", settings.request.data, &document, &result, &exit_status) == BILLING_OK) {
        struct text changed = {0}, copy = {0};
        append_value(&changed, json_member(result, "changed"));
        if (!options.json) printf("config set: changed %s\n", changed.data);
        append_value(&copy, result);
        billing_string_free(document);
        exit_status = finish(EXIT_OK, copy.data);
        free(changed.data);
        free(copy.data);
    }
    return exit_status;
}

/* ---- The command table -------------------------------------------------------------------- */

static const struct command {
    const char *name;
    unsigned bit;
    int (*check)(void), (*run)(void);
    const char *help;
} commands[] = {
    {"scheduler-run", FOR_SCHEDULER, check_scheduler_run, run_scheduler_run,
     "usage: billingctl scheduler-run [--limit N] [--max-batches N]\n"
     "\n"
     "Does the work due at the current time: cancels orders past their payment deadline,\n"
     "moves resources through effect, reminders, auto-renewal, expiry, freezing and release,\n"
     "steps exports and purges old ones. Runs batches of --limit items per job (1-10000,\n"
     "default 1000) while more work is due, at most --max-batches batches (1-1000000, default\n"
     "100; the next run continues). Safe to run from several hosts or timers at once: the\n"
     "library does each piece of work once. Exit 16 when the database stayed busy: retry\n"
     "later. Text: one line per batch. JSON result: {\"batches\", \"has_more\", \"runs\": [each\n"
     "billing_scheduler_run response]}.\n"},
    {"verify", FOR_VERIFY, check_verify, run_verify,
     "usage: billingctl verify [--integrity quick|full|none] [--audit-head FILE]\n"
     "\n"
     "Checks the file itself first (--integrity: quick, the default, runs SQLite's\n"
     "quick_check; full its integrity_check, which also compares every index with its table;\n"
     "none skips it), then recomputes the invariants from the stored facts (ledgers, coupons,\n"
     "orders, refunds, periods, the audit chain). Exit 0 when all hold, 1 when any breach is\n"
     "found (each is printed: check, subject, detail). --audit-head FILE also checks the\n"
     "chain against the head kept in FILE (what `billingctl audit-head` printed earlier,\n"
     "stored outside the database): rows cut from the chain's end, or a chain recomputed\n"
     "after an edit, are the breach audit_head. A FILE that cannot be read is exit 3, one\n"
     "that does not hold a head exit 2. JSON result: the billing_verify response ({\"ok\",\n"
     "\"integrity\", \"checked\", \"breaches\"}).\n"},
    {"audit-head", FOR_AUDIT_HEAD, check_audit_head, run_audit_head,
     "usage: billingctl audit-head\n"
     "\n"
     "Prints the head of the audit chain (the last audit row's position and hash) as one\n"
     "line of JSON, the billing_audit_head response. Keep it outside the database (after\n"
     "each batch of work, or periodically, e.g. billingctl audit-head > /elsewhere/head.json)\n"
     "and pass it back to `billingctl verify --audit-head FILE`: a chain cut at its end or\n"
     "rewritten since is found. JSON result: {\"position\", \"digest\", ...}.\n"},
    {"backup", FOR_BACKUP, check_backup, run_backup,
     "usage: billingctl backup DESTINATION\n"
     "\n"
     "Writes an online, consistent copy of the database to DESTINATION, a new file (a\n"
     "relative path is taken from the current directory), created with mode 0600 and synced.\n"
     "Other processes keep working meanwhile. It never overwrites: when DESTINATION exists\n"
     "(even as an empty file) nothing is written, the existing file is left exactly as it was,\n"
     "and the exit status is 13 (reason destination_exists); choose a new name, e.g. with the\n"
     "date in it. A missing directory is exit 15 (backup_failed). JSON result: {\"backup\":\n"
     "{\"destination\", \"bytes\", \"taken_at\"}}.\n"},
    {"copy", FOR_COPY, check_copy, run_copy,
     "usage: billingctl copy DESTINATION\n"
     "\n"
     "Copies every row of the database, one consistent snapshot, into DESTINATION: a new or\n"
     "empty database, a file (a relative path is taken from the current directory) or a\n"
     "PostgreSQL connection string (postgresql://..., or libpq's key=value words), which is\n"
     "how a portal moves to PostgreSQL. The copy is one snapshot: stop the portal's writers\n"
     "(or make it read-only) from the copy until it uses the copy, or later writes are not\n"
     "in it. Then it runs verify on the copy (and, for information, on the source): exit 0\n"
     "when the copy verifies ok and holds what was copied, 1 when not. A DESTINATION that\n"
     "holds rows is exit 13 (destination_not_empty), nothing written; one of another\n"
     "schema version exit 14 (copy_version_mismatch), left as it is; a copy that fails\n"
     "leaves the destination empty. Keyed\n"
     "chains: the copy is verified with $BILLING_AUDIT_KEY too. JSON result: {\"copy\":\n"
     "{\"destination\", \"taken_at\", \"rows\", \"tables\"}, \"same\", \"verify\": {\"copy\",\n"
     "\"source\"}}.\n"},
    {"events", FOR_EVENTS, check_events_tail, run_events_tail,
     "usage: billingctl events tail [--cursor-file FILE | --after CURSOR] [--account ID]\n"
     "                              [--limit N] [--max-pages N]\n"
     "                              [--follow [--interval SECONDS]]\n"
     "\n"
     "Prints the events after the position stored in FILE (from the first event when FILE\n"
     "does not exist yet), one JSON object per line, oldest first, then stores the new\n"
     "position in FILE: written to a temporary file, synced and renamed over FILE only after\n"
     "the events were written to standard output, so an interrupted run prints them again\n"
     "rather than losing them. Without --cursor-file it starts after --after (default: the\n"
     "beginning) and stores nothing. --account ID keeps one account's events; --limit N\n"
     "events per page (1-1000, default 100).\n"
     "\n"
     "One page per run by default: when more events remain, a note on standard error says so\n"
     "(with --json: \"has_more\": true); run again, or read up to --max-pages N pages\n"
     "(1-1000000). --follow keeps polling every --interval seconds (0.01-86400, default 1)\n"
     "until interrupted (SIGINT or SIGTERM: exit 0), reading every page (or --max-pages);\n"
     "a database that stays busy is retried after a short pause instead of ending the run;\n"
     "not with --json. When standard output's reader goes away (| head -1), the run ends\n"
     "quietly with status 0 and the cursor is not advanced past what was not written.\n"
     "Use one cursor file per consumer. JSON result: {\"events\": [...], \"has_more\",\n"
     "\"next_cursor\", \"pages\"}.\n"},
    {"export-step", FOR_EXPORT, check_export_step, run_export_step,
     "usage: billingctl export-step --account ID --export ID [--max-rows N]\n"
     "\n"
     "Writes the next rows of a GENERATING export now (the scheduler does this too; at most\n"
     "--max-rows rows, 1-1000000) and prints its status. Exit 12 when the export does not\n"
     "exist for that account. JSON result: {\"export\": {...}}.\n"},
    {"config", FOR_CONFIG, check_config, run_config,
     "usage: billingctl config get [KEY]\n"
     "       billingctl config set KEY VALUE [KEY VALUE ...]\n"
     "\n"
     "get prints the configuration (JSON) or the value of one KEY; an unknown KEY is a\n"
     "usage error (reason unknown_key). set changes values in one request (all or nothing).\n"
     "VALUE is sent as JSON when it is a valid JSON value (5, true, null, {\"V1\": {...}},\n"
     "[7, 1], \"text\"), otherwise as a JSON string (USD, or text with quotes and\n"
     "backslashes, which are escaped). A VALUE that starts with {, [ or \" but is not valid\n"
     "JSON, a VALUE or KEY that is not UTF-8, and a KEY named twice are usage errors. To set\n"
     "a string that looks like JSON, quote it: '\"5\"'. A negative number may be given as is\n"
     "(-1). Exit 11 when the library refuses a value. JSON result: get: {\"configuration\"}\n"
     "or {\"key\", \"value\"}; set: the billing_config_update response.\n"},
};

static const struct command *find_command(const char *name) {
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(name, commands[i].name) == 0) return &commands[i];
    return NULL;
}

/* Options: the name, where a value goes (or the flag it sets), and the commands taking it. */
static const struct option {
    const char *name;
    const char **value;
    int *flag;
    unsigned commands;
} option_table[] = {
    {"--db", &options.db, NULL, FOR_ALL},
    {"--actor", &options.actor, NULL, FOR_ALL},
    {"--clock", &options.clock, NULL, FOR_ALL},
    {"--now", &options.now, NULL, FOR_ALL},
    {"--busy-timeout", &options.busy_timeout, NULL, FOR_ALL},
    {"--json", NULL, &options.json, FOR_ALL},
    {"--help", NULL, &options.help, FOR_ALL},
    {"-h", NULL, &options.help, FOR_ALL},
    {"--limit", &options.limit, NULL, FOR_SCHEDULER | FOR_EVENTS},
    {"--max-batches", &options.max_batches, NULL, FOR_SCHEDULER},
    {"--integrity", &options.integrity, NULL, FOR_VERIFY},
    {"--audit-head", &options.audit_head, NULL, FOR_VERIFY},
    {"--cursor-file", &options.cursor_file, NULL, FOR_EVENTS},
    {"--after", &options.after, NULL, FOR_EVENTS},
    {"--account", &options.account, NULL, FOR_EVENTS | FOR_EXPORT},
    {"--max-pages", &options.max_pages, NULL, FOR_EVENTS},
    {"--follow", NULL, &options.follow, FOR_EVENTS},
    {"--interval", &options.interval, NULL, FOR_EVENTS},
    {"--export", &options.export_id, NULL, FOR_EXPORT},
    {"--max-rows", &options.max_rows, NULL, FOR_EXPORT},
};

/* Which options were given, to refuse one the command does not take. */
static char option_given[sizeof option_table / sizeof *option_table];

/* The first usage error met while reading the arguments: reported only once all of them
   were read, so that a --json after the mistake still shapes the report. */
static struct {
    int found;
    char message[512];
} argument_error;

static void argument_problem(const char *format, ...) {
    if (argument_error.found) return;
    argument_error.found = 1;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(argument_error.message, sizeof argument_error.message, format, arguments);
    va_end(arguments);
}

static void parse_arguments(int argc, char **argv) {
    options.positional = calloc((size_t)argc + 1, sizeof *options.positional);
    if (!options.positional) out_of_memory();
    for (int i = 1; i < argc; i++) {
        const char *argument = argv[i];
        if (strcmp(argument, "--") == 0) {
            while (++i < argc) options.positional[options.positionals++] = argv[i];
            break;
        }
        /* Words, "-" and negative numbers (config set KEY -1) are arguments; no option
           starts with a digit. */
        if (argument[0] != '-' || argument[1] == '\0' || (argument[1] >= '0' && argument[1] <= '9')) {
            options.positional[options.positionals++] = argument;
            continue;
        }
        const struct option *option = NULL;
        size_t length = 0;
        for (size_t k = 0; k < sizeof option_table / sizeof *option_table && !option; k++) {
            length = strlen(option_table[k].name);
            if (strncmp(argument, option_table[k].name, length) == 0 && (argument[length] == '\0' || argument[length] == '='))
                option = &option_table[k];
        }
        if (!option) {
            argument_problem("unknown option %s", shown(argument));
            continue;
        }
        if (option->flag) {
            *option->flag = 1; /* even "--json=yes", refused below, asked for JSON */
            if (argument[length] == '=') argument_problem("%s takes no value", option->name);
        } else if (argument[length] == '=') {
            *option->value = argument + length + 1;
        } else if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0) {
            /* "--limit --json" is a forgotten value, not a limit named "--json". */
            argument_problem("%s needs a value (write %s=VALUE for one that starts with --)", option->name, option->name);
        } else {
            *option->value = argv[++i];
        }
        option_given[option - option_table] = 1;
    }
}

/* Engine options from --busy-timeout, --clock and --now, checked. */
static int check_engine_options(struct text *request) {
    appends(request, "{\"create\":false");
    if (options.busy_timeout) {
        long long timeout;
        if (!parse_count(options.busy_timeout, 0, 600000, "--busy-timeout", &timeout)) return EXIT_USAGE;
        appendf(request, ",\"busy_timeout_ms\":%lld", timeout);
    }
    if (options.clock && strcmp(options.clock, "system") != 0) {
        if (strcmp(options.clock, "manual") != 0)
            return fail(EXIT_USAGE, "usage_error", "--clock is system or manual, not '%s'", shown(options.clock));
        if (!options.now) return fail(EXIT_USAGE, "usage_error", "--clock manual needs --now with Unix seconds");
        long long now;
        /* Up to the last second of year 9999, as the library's clock reads it. */
        if (!parse_count(options.now, 0, 253402300799LL, "--now", &now)) return EXIT_USAGE;
        appendf(request, ",\"clock\":\"manual\",\"now\":%lld", now);
    } else if (options.now) {
        return fail(EXIT_USAGE, "usage_error", "--now needs --clock manual");
    }
    /* The audit key stays out of the command line (and so out of ps): only the environment. */
    const char *audit_key = getenv("BILLING_AUDIT_KEY");
    if (audit_key && *audit_key) {
        appends(request, ",\"audit_key\":");
        append_quoted(request, audit_key);
    }
    appends(request, "}");
    if (!options.db || !*options.db) return fail(EXIT_USAGE, "usage_error", "no database: give --db PATH or set BILLING_DB");
    if (!is_utf8(options.db)) return fail(EXIT_USAGE, "usage_error", "the database path is not valid UTF-8: '%s'", shown(options.db));
    const struct {
        const char *value, *name;
    } texts[] = {{options.actor, "--actor"}, {options.account, "--account"}, {options.export_id, "--export"},
                 {options.after, "--after"}};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        if (texts[i].value && !check_text(texts[i].value, texts[i].name)) return EXIT_USAGE;
    /* A local path, never sent to the library: any bytes, but something. */
    if (options.cursor_file && !*options.cursor_file) return fail(EXIT_USAGE, "usage_error", "--cursor-file must not be empty");
    return EXIT_OK;
}

/* Opens the engine: EXIT_OK, or the exit status after reporting why not. Under --follow a
   busy database is waited out here too; an interruption meanwhile leaves `engine` NULL. */
static int open_engine(const char *request) {
    int status;
    while ((status = billing_engine_open(options.db, request, &engine)) == BILLING_E_BUSY && options.follow && !stopping &&
           !output_closed)
        busy_pause();
    busy_backoff_ms = 0;
    if (status == BILLING_OK || (status == BILLING_E_BUSY && (stopping || output_closed))) return EXIT_OK;
    /* The open's error is read on this thread right away (billingctl has one thread). */
    struct text error = {0}, text = {0};
    appendf(&error, "{\"message\":");
    append_quoted(&error, billing_last_error_message());
    appends(&error, ",\"reason\":");
    append_quoted(&error, billing_last_error_reason());
    appendf(&error, ",\"status\":%d,\"status_name\":", status);
    append_quoted(&error, billing_status_string(status));
    appends(&error, "}");
    appendf(&text, "cannot open %s: %s (", shown(options.db), billing_status_string(status));
    append_shown(&text, billing_last_error_reason(), 100);
    appends(&text, "): ");
    append_shown(&text, billing_last_error_message(), 1000);
    int exit_status = finish_with_error(EXIT_LIBRARY + status, error.data, text.data);
    free(error.data);
    free(text.data);
    return exit_status;
}

/* --help: the text, or with --json a document holding it. */
static int print_help(const char *text) {
    if (!options.json) {
        fputs(text, stdout);
        return finish(EXIT_OK, "");
    }
    struct text result = {0};
    appends(&result, "{\"help\":");
    append_quoted(&result, text);
    appends(&result, "}");
    int status = finish(EXIT_OK, result.data);
    free(result.data);
    return status;
}

static int run(int argc, char **argv) {
    options.actor = "billingctl";
    options.db = getenv("BILLING_DB");
    parse_arguments(argc, argv);
    const struct command *command = options.positionals > 0 ? find_command(options.positional[0]) : NULL;
    if (command) {
        const char *name = command->name;
        const char *action = options.positionals >= 2 ? options.positional[1] : "";
        options.command = strcmp(name, "events") == 0 ? (strcmp(action, "tail") == 0 ? "events tail" : "events")
                          : strcmp(name, "config") == 0 ? (strcmp(action, "set") == 0   ? "config set"
                                                           : strcmp(action, "get") == 0 ? "config get"
                                                                                        : "config")
                          : name;
    }
    if (argument_error.found) return fail(EXIT_USAGE, "usage_error", "%s", argument_error.message);
    if (options.help && options.positionals == 0) return print_help(usage_text);
    if (options.positionals == 0) {
        if (options.json) return fail(EXIT_USAGE, "usage_error", "no command given");
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    if (!command) return fail(EXIT_USAGE, "usage_error", "unknown command %s", shown(options.positional[0]));
    if (options.help) return print_help(command->help);
    for (size_t i = 0; i < sizeof option_table / sizeof *option_table; i++)
        if (option_given[i] && !(option_table[i].commands & command->bit))
            return fail(EXIT_USAGE, "usage_error", "%s does not apply to %s", option_table[i].name, command->name);
    int status = command->check();
    if (status != EXIT_OK) return status;
    struct text request = {0};
    status = check_engine_options(&request);
    if (status == EXIT_OK && options.follow) {
        /* --follow runs until SIGINT or SIGTERM, which end it between pages with status 0. */
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = stop;
        sigaction(SIGINT, &action, NULL);
        sigaction(SIGTERM, &action, NULL);
    }
    open_options = request.data;
    if (status == EXIT_OK) status = open_engine(request.data);
    if (status != EXIT_OK || !engine) { /* no engine: interrupted while the file was busy */
        free(request.data);
        return status;
    }
    status = command->run();
    billing_engine_close(engine);
    free(request.data);
    return status;
}

int main(int argc, char **argv) {
    /* A reader that goes away makes writes fail with EPIPE, handled as a normal stop, instead
       of killing the process with SIGPIPE in the middle of a run. */
    signal(SIGPIPE, SIG_IGN);
    int status = run(argc, argv);
    free(settings.request.data);
    free(options.positional);
    return status;
}
