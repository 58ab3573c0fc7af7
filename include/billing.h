/*
 * billing.h — the C interface of libbilling, an embeddable billing-center engine.
 *
 * This header is the manual. It is C99 and valid C++.
 *
 * CONVENTIONS (they hold for every function below unless its comment says otherwise)
 *
 * Status.   Every fallible function returns an int: BILLING_OK (0) or one of the
 *           BILLING_E_* codes. Codes are append-only and never renumbered.
 * Errors.   On failure the calling thread's last error holds the code, a machine-readable
 *           reason (snake_case, e.g. "idempotency_key_reused") and a message for people.
 *           Every function clears it on entry. The strings stay valid until the next
 *           libbilling call on the same thread. A failed call changes nothing.
 * Strings.  Input strings are borrowed for the call and must be NUL-terminated UTF-8;
 *           invalid UTF-8 is refused with BILLING_E_INVALID. Output JSON comes through
 *           `char **out_json`, is owned by the caller and released with
 *           billing_string_free(); on failure *out_json is set to NULL.
 * JSON.     Records and lists cross the boundary as JSON objects carrying
 *           "schema_version". Readers must ignore keys they do not know; requests with a
 *           key the engine does not know are refused (reason "unknown_field").
 * Money.    An integer count of minor units (fen for CNY), in fields named *_fen; the
 *           currency is the platform's (see the configuration). A fractional or
 *           out-of-range number is refused, never rounded.
 * Time.     Unix seconds (UTC), years 1970–9999. Business dates use the configured UTC
 *           offset (default +08:00).
 * Writes.   Every mutating request is a JSON object with "actor" (who asks; recorded in the
 *           audit log) and an optional "idempotency_key" (1–128 characters): repeating a
 *           key with the same request returns the first response; with another request it
 *           fails with BILLING_E_CONFLICT. Each write is one SQLite transaction holding its
 *           effect, its audit row, its events and its idempotency record.
 * Threads.  A billing_engine may be used from several threads at once (calls on one handle
 *           are serialized). Several handles and processes may open one database file.
 *           Closing a handle while another thread uses it is undefined.
 * Versions. "Since" names the library version that added a function.
 */
#ifndef BILLING_H
#define BILLING_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Version ----------------------------------------------------------------------- */

#define BILLING_VERSION_MAJOR 0
#define BILLING_VERSION_MINOR 1
#define BILLING_VERSION_PATCH 0
#define BILLING_VERSION_STRING "0.1.0"
/* MAJOR * 1000000 + MINOR * 1000 + PATCH */
#define BILLING_VERSION_NUMBER 1000

/* The library's version string, e.g. "0.1.0"; static storage. Since 0.1.0. */
const char *billing_version(void);

/* The library's BILLING_VERSION_NUMBER, to compare with the header's. Since 0.1.0. */
int billing_version_number(void);

/* ---- Status codes ------------------------------------------------------------------ */

#define BILLING_OK 0
/* Bad input: NULL pointer, invalid UTF-8, malformed JSON, wrong type, missing, unknown or
   out-of-range field. */
#define BILLING_E_INVALID 1
/* An id that does not exist or belongs to another account. */
#define BILLING_E_NOT_FOUND 2
/* The request collides with stored state (an idempotency key reused for another request). */
#define BILLING_E_CONFLICT 3
/* A business rule refuses the operation in the current state; the reason says which. */
#define BILLING_E_REFUSED 4
/* SQLite I/O error, full disk, corrupt or unopenable file. */
#define BILLING_E_STORAGE 5
/* The database stayed locked by another writer beyond the busy timeout; retry later. */
#define BILLING_E_BUSY 6
/* The file is not a libbilling database, or a newer library wrote it (left untouched). */
#define BILLING_E_SCHEMA 7
/* A defect in the library; nothing was changed. Please report it. */
#define BILLING_E_INTERNAL 8

/* Static text naming a status code ("ok", "invalid argument", …; "unknown status" for
   codes this library does not know). Since 0.1.0. */
const char *billing_status_string(int status);

/* ---- Last error (per thread) ------------------------------------------------------- */

/* The status of this thread's last failed call, BILLING_OK after a successful one.
   Since 0.1.0. */
int billing_last_error_code(void);

/* The machine-readable reason of this thread's last failure ("" after success). Valid
   until the next libbilling call on this thread. Since 0.1.0. */
const char *billing_last_error_reason(void);

/* The message of this thread's last failure ("" after success). Valid until the next
   libbilling call on this thread. Since 0.1.0. */
const char *billing_last_error_message(void);

/* Releases a string returned through an out_json parameter. NULL is a no-op. Never use
   free() on these strings. Since 0.1.0. */
void billing_string_free(char *string);

/* ---- Engine handle ----------------------------------------------------------------- */

typedef struct billing_engine billing_engine;

/* Opens the database file at `path` (":memory:" for a private in-memory database),
   creating it and its schema when needed, and stores a new handle in *out_engine.
   `options_json` may be NULL or "" for the defaults, or an object with:
     "create":          bool, create the file if missing (default true)
     "synchronous":     "FULL" (default; every commit durable) or "NORMAL" (WAL: survives
                        process crashes, may lose the last commits on power loss)
     "busy_timeout_ms": 0–600000, how long a write waits for another writer (default 5000)
     "clock":           "system" (default) or "manual"
     "now":             with "manual": the clock's start, Unix seconds
   A file written by a newer libbilling, or by another application, fails with
   BILLING_E_SCHEMA and is not modified. On failure *out_engine is NULL.
   Since 0.1.0. */
int billing_engine_open(const char *path, const char *options_json, billing_engine **out_engine);

/* Closes a handle and frees it. NULL is a no-op. Since 0.1.0. */
void billing_engine_close(billing_engine *engine);

/* ---- Clock ------------------------------------------------------------------------- */

/* The handle's current time in Unix seconds. Since 0.1.0. */
int billing_clock_now(billing_engine *engine, int64_t *out_now);

/* Sets a manual clock to `now` (Unix seconds); it may not move backwards. Fails with
   BILLING_E_REFUSED ("clock_not_manual") on a handle using the system clock. The clock
   belongs to the handle, not to the database file. Since 0.1.0. */
int billing_clock_set(billing_engine *engine, int64_t now);

/* Advances a manual clock by `seconds` (>= 0); *out_now (may be NULL) receives the new
   time. Since 0.1.0. */
int billing_clock_advance(billing_engine *engine, int64_t seconds, int64_t *out_now);

/* ---- Configuration ----------------------------------------------------------------- */

/* The platform's policy values: {"schema_version", "configuration": {...}} with
   business_utc_offset, currency, pay_deadline_seconds, grace_and_retention (per level
   V0–V5), handling_fee_rates_bp, five_day_refund_hours, five_day_quota_per_year,
   default_deduction_days, default_unified_expiry_day, large_refund_threshold_fen,
   auto_renew_hour, expiry_reminder_days, and the batch and export limits. The
   configuration is stored in the database: every handle on the file shares it.
   Since 0.1.0. */
int billing_config_get(billing_engine *engine, char **out_json);

/* Changes configuration values. Request:
     {"actor": "...", "idempotency_key": "..."?, "changes": {"field": value, ...}}
   Fields not named keep their values; one invalid field fails the whole request.
   Response: {"schema_version", "configuration": {...}, "changed": ["field", ...]}.
   Emits the event "config.changed". Since 0.1.0. */
int billing_config_update(billing_engine *engine, const char *request_json, char **out_json);

/* ---- Events and audit -------------------------------------------------------------- */

/* A page of the event outbox, oldest first. Request (NULL means {}):
     {"after": "<cursor>"?, "limit": 1–1000 (default 100)?, "account_id": "..."?}
   Response: {"schema_version", "events": [{"seq", "type", "account_id", "subject_id",
   "occurred_at", "data"}], "next_cursor": "...", "has_more": bool}. Pass next_cursor back
   as "after"; sequence numbers only grow, so a host that remembers its cursor sees every
   event exactly once in commit order. Since 0.1.0. */
int billing_events_list(billing_engine *engine, const char *request_json, char **out_json);

/* A page of the append-only audit log, paged like billing_events_list. Response entries:
   {"id", "recorded_at", "actor", "operation", "account_id", "subject_id", "detail"}.
   Since 0.1.0. */
int billing_audit_list(billing_engine *engine, const char *request_json, char **out_json);

#ifdef __cplusplus
}
#endif

#endif /* BILLING_H */
