/*
 * fuzz_common.h — checks shared by the libbilling fuzz targets: the ABI contract every call
 * must keep whatever the input (status range, *out_json NULL exactly on failure, output is
 * UTF-8 JSON, the thread's last error agrees with the status). A broken contract aborts, so
 * libFuzzer records the input as a crash.
 *
 * What the harnesses share with the C tests and the benchmarks (requests, JSON searching,
 * timing, scratch files) is examples/c/billing_test_support.h, included below (the Makefile
 * adds examples/c to the include path); a check it makes that fails aborts like the contract.
 */
#ifndef BILLING_FUZZ_COMMON_H
#define BILLING_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing.h"

/* Aborts with a message naming the broken rule; libFuzzer saves the input as crash-*. */
#define FUZZ_FAIL(...)                                                                      \
    do {                                                                                     \
        fprintf(stderr, "\n==FUZZ CONTRACT VIOLATION== " __VA_ARGS__);                       \
        fprintf(stderr, "\n");                                                               \
        abort();                                                                             \
    } while (0)

#define SUPPORT_CHECK(ok, what, detail, file, line)                                           \
    do {                                                                                     \
        if (!(ok)) FUZZ_FAIL("%s:%d: %s (%s)", (file), (line), (what), (detail) ? (const char *)(detail) : ""); \
    } while (0)
#include "billing_test_support.h"

/* Length of the valid UTF-8 sequence at s (strict: no overlongs, surrogates or > U+10FFFF),
   or 0 when it is not one. */
static size_t fuzz_utf8_sequence(const unsigned char *s, size_t left) {
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; }
    else return 0;
    if (left < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
    if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
    return n;
}

static int fuzz_valid_utf8(const char *text) {
    const unsigned char *s = (const unsigned char *)text;
    size_t left = strlen(text);
    while (left > 0) {
        size_t n = fuzz_utf8_sequence(s, left);
        if (n == 0) return 0;
        s += n;
        left -= n;
    }
    return 1;
}

/* ---- A strict RFC 8259 syntax check (no values kept) -------------------------------- */

typedef struct {
    const char *p;
    int depth;
} fuzz_json_cursor;

static void fuzz_json_ws(fuzz_json_cursor *c) {
    while (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r') c->p++;
}

static int fuzz_json_value(fuzz_json_cursor *c);

static int fuzz_json_string(fuzz_json_cursor *c) {
    if (*c->p != '"') return 0;
    c->p++;
    for (;;) {
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '"') { c->p++; return 1; }
        if (ch < 0x20) return 0; /* includes the terminating NUL */
        if (ch == '\\') {
            c->p++;
            switch (*c->p) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't': c->p++; break;
            case 'u':
                for (int i = 1; i <= 4; i++) {
                    char h = c->p[i];
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) return 0;
                }
                c->p += 5;
                break;
            default: return 0;
            }
            continue;
        }
        c->p++;
    }
}

static int fuzz_json_number(fuzz_json_cursor *c) {
    const char *p = c->p;
    if (*p == '-') p++;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') while (*p >= '0' && *p <= '9') p++;
    else return 0;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9')) return 0;
        while (*p >= '0' && *p <= '9') p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) return 0;
        while (*p >= '0' && *p <= '9') p++;
    }
    c->p = p;
    return 1;
}

static int fuzz_json_container(fuzz_json_cursor *c, char open, char close) {
    if (*c->p != open || ++c->depth > 512) return 0;
    c->p++;
    fuzz_json_ws(c);
    if (*c->p == close) { c->p++; c->depth--; return 1; }
    for (;;) {
        fuzz_json_ws(c);
        if (open == '{') {
            if (!fuzz_json_string(c)) return 0;
            fuzz_json_ws(c);
            if (*c->p != ':') return 0;
            c->p++;
            fuzz_json_ws(c);
        }
        if (!fuzz_json_value(c)) return 0;
        fuzz_json_ws(c);
        if (*c->p == ',') { c->p++; continue; }
        if (*c->p == close) { c->p++; c->depth--; return 1; }
        return 0;
    }
}

static int fuzz_json_value(fuzz_json_cursor *c) {
    switch (*c->p) {
    case '{': return fuzz_json_container(c, '{', '}');
    case '[': return fuzz_json_container(c, '[', ']');
    case '"': return fuzz_json_string(c);
    case 't': if (strncmp(c->p, "true", 4) == 0) { c->p += 4; return 1; } return 0;
    case 'f': if (strncmp(c->p, "false", 5) == 0) { c->p += 5; return 1; } return 0;
    case 'n': if (strncmp(c->p, "null", 4) == 0) { c->p += 4; return 1; } return 0;
    default: return fuzz_json_number(c);
    }
}

/* 1 when text is exactly one JSON object (surrounding whitespace allowed) in valid UTF-8. */
static int fuzz_valid_json_object(const char *text) {
    fuzz_json_cursor c = {text, 0};
    fuzz_json_ws(&c);
    if (*c.p != '{' || !fuzz_json_value(&c)) return 0;
    fuzz_json_ws(&c);
    return *c.p == '\0' && fuzz_valid_utf8(text);
}

/* reason: non-empty snake_case ASCII. */
static int fuzz_valid_reason(const char *reason) {
    if (!reason || !*reason) return 0;
    for (const char *p = reason; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) return 0;
    return 1;
}

/* Checks what every status-returning call promises. `out` is the call's *out_json (pass
   NULL and has_out = 0 for calls without one). */
static void fuzz_check_contract(const char *name, int status, int has_out, const char *out) {
    if (status < BILLING_OK || status > BILLING_E_AUTH) FUZZ_FAIL("%s returned status %d, outside 0..9", name, status);
    int code = billing_last_error_code();
    const char *reason = billing_last_error_reason();
    const char *message = billing_last_error_message();
    if (!reason || !message) FUZZ_FAIL("%s: last-error getters returned NULL", name);
    if (status == BILLING_OK) {
        if (has_out && out == NULL) FUZZ_FAIL("%s succeeded but *out_json is NULL", name);
        if (has_out && !fuzz_valid_json_object(out))
            FUZZ_FAIL("%s succeeded but *out_json is not one UTF-8 JSON object: %.400s", name, out);
        if (code != BILLING_OK || *reason || *message)
            FUZZ_FAIL("%s succeeded but the last error is %d \"%s\" \"%s\"", name, code, reason, message);
    } else {
        if (has_out && out != NULL) FUZZ_FAIL("%s failed with %d but *out_json is not NULL: %.400s", name, status, out);
        if (code != status) FUZZ_FAIL("%s failed with %d but billing_last_error_code() is %d", name, status, code);
        if (!fuzz_valid_reason(reason)) FUZZ_FAIL("%s failed with %d but the reason is not snake_case: \"%s\"", name, status, reason);
        if (!*message) FUZZ_FAIL("%s failed with %d (%s) but the message is empty", name, status, reason);
        if (!fuzz_valid_utf8(message)) FUZZ_FAIL("%s failed with %d (%s): the message is not UTF-8", name, status, reason);
    }
}

/* A malloc'ed NUL-terminated copy of data[0..size): exactly size + 1 bytes, so AddressSanitizer
   catches a read past the terminator. */
static char *fuzz_copy_string(const uint8_t *data, size_t size) {
    char *copy = malloc(size + 1);
    if (!copy) abort();
    if (size) memcpy(copy, data, size);
    copy[size] = '\0';
    return copy;
}

#endif
