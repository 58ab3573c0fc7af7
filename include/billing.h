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
 *           Every function that takes an engine or returns a status clears it on entry
 *           (billing_version*, billing_status_string, billing_string_free and the
 *           last-error getters leave it alone). The strings stay valid until the next
 *           libbilling call on the same thread. A failed call changes nothing, with one
 *           exception: a failed billing_platform_login writes its audit row and counts
 *           toward the identifier's login throttle. Hosts that may change OS threads
 *           between calls use billing_call, whose document carries the error (Since 0.2.0).
 * Strings.  Input strings are borrowed for the call and must be NUL-terminated UTF-8;
 *           invalid UTF-8 is refused with BILLING_E_INVALID. Output JSON comes through
 *           `char **out_json`, is owned by the caller and released with
 *           billing_string_free(); on failure *out_json is set to NULL.
 * JSON.     Records and lists cross the boundary as JSON objects carrying
 *           "schema_version". Readers must ignore keys they do not know; requests with a
 *           key the engine does not know are refused (reason "unknown_field").
 * Money.    An integer count of minor units (fen for CNY), in fields named *_fen; the
 *           currency is the platform's (see the configuration). Every number in a request
 *           is an integer written without a decimal point or exponent ("1.0" and "1e3" are
 *           refused as "not_an_integer"); nothing is ever rounded. An integer beyond 64 bits
 *           in a free-form object (a product's "specs") is refused as "out_of_range" with
 *           its path (e.g. "request.product.specs.cpu"). Nesting deeper than 64
 *           levels ("too_deep") and trailing commas are refused. With duplicate keys in one
 *           object, the first one counts. Messages quote at most 64 characters of any
 *           input (a longer name or value is cut and its size given).
 * Time.     Unix seconds (UTC), years 1970–9999. Business dates use the configured UTC
 *           offset (default +08:00).
 * Writes.   Every mutating request is a JSON object with "actor" (who asks; recorded in the
 *           audit log; billing_platform_login alone takes none, see there) and an optional
 *           "idempotency_key" (1–128 characters; not for login either): repeating a
 *           key with the same request returns the first response; with another request it
 *           fails with BILLING_E_CONFLICT. Keys are scoped (since 0.2.0): to the
 *           request's "account_id", or to its "actor" when it names no account; the same
 *           key in another scope is another key. Secret fields (passwords, tokens) are never
 *           stored, so they are not compared on a replay, and a token in a response comes
 *           back as null on a replay. Each write is one SQLite transaction holding its
 *           effect, its audit row, its events and its idempotency record; the audit row
 *           lists the digest of every row the write changed (see billing_audit_head and
 *           billing_verify). A field given as null counts as absent.
 * Lists.    Every *_list function returns one page: the request takes "limit" and "after"
 *           (the opaque "next_cursor" of the previous page; absent for the first page) and
 *           the response carries "next_cursor" and "has_more". A cursor that is not of the
 *           form the list hands out (for the catalog: not a product id) is refused with
 *           BILLING_E_INVALID ("invalid_cursor"). Lists shown as tabs
 *           (orders, renewals, unsubscriptions) take "with_counts": true for every tab's
 *           total in the same call (since 0.2.0).
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
#define BILLING_VERSION_MINOR 2
#define BILLING_VERSION_PATCH 0
#define BILLING_VERSION_STRING "0.2.0"
/* MAJOR * 1000000 + MINOR * 1000 + PATCH */
#define BILLING_VERSION_NUMBER 2000

/* The library's version string, e.g. "0.2.0"; static storage. Since 0.1.0. */
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
/* SQLite I/O error, full disk ("disk_full"), corrupt ("database_corrupt") or unopenable
   file, or a stored value the library cannot read back ("stored_value_unreadable": the
   message names the record, e.g. "the stored product document of order line 1 of order
   O…"; the file was damaged or edited outside the library — never returned as null). */
#define BILLING_E_STORAGE 5
/* The database stayed locked by another writer beyond the busy timeout; retry later. */
#define BILLING_E_BUSY 6
/* The file is not a libbilling database, or a newer library wrote it (left untouched). */
#define BILLING_E_SCHEMA 7
/* A defect in the library; nothing was changed. Please report it. */
#define BILLING_E_INTERNAL 8
/* Login failed: unknown identifier or wrong password ("invalid_credentials", one answer for
   both), or the identifier is waiting after repeated failures ("login_throttled"; known and
   unknown identifiers alike). See billing_platform_login. */
#define BILLING_E_AUTH 9

/* The same codes as an enum, for FFI generators that drop preprocessor lines (the macros
   above stay; each BILLING_STATUS_X equals BILLING_X / BILLING_E_X). Functions still return
   int. Every reason each status comes with is listed in docs/catalogue.md. Since 0.2.0. */
typedef enum billing_status {
    BILLING_STATUS_OK = 0,
    BILLING_STATUS_INVALID = 1,
    BILLING_STATUS_NOT_FOUND = 2,
    BILLING_STATUS_CONFLICT = 3,
    BILLING_STATUS_REFUSED = 4,
    BILLING_STATUS_STORAGE = 5,
    BILLING_STATUS_BUSY = 6,
    BILLING_STATUS_SCHEMA = 7,
    BILLING_STATUS_INTERNAL = 8,
    BILLING_STATUS_AUTH = 9
} billing_status;

/* ---- Reasons (generated by python3 scripts/catalogue.py from BillingDomain/Values/Reasons.swift) ---- */

/* The reasons billing_last_error_reason() and billing_call's error document can carry, by
   status. A reason is stable (never renamed, never reused); treat one you do not know by
   its status. Each reason's meaning and the functions that return it: docs/catalogue.md.

   BILLING_E_INVALID: amount_out_of_range clock_backwards conflicting_fields
      control_character destination_not_absolute duplicate_coupon duplicate_resource
      duplicate_usage empty_list empty_string instant_out_of_range invalid_currency
      invalid_cursor invalid_email invalid_fallback_expiry invalid_field invalid_key
      invalid_offset invalid_option invalid_path invalid_period invalid_phone
      invalid_user_name invalid_utf8 invalid_window malformed_json missing_field
      missing_price negative_amount non_positive_amount not_an_integer null_argument
      out_of_range password_control_character password_equals_identifier password_too_long
      password_too_short password_too_simple string_too_long too_deep too_many_items
      unknown_field unknown_function unknown_value value_not_storable value_too_big
      wrong_type
   BILLING_E_NOT_FOUND: account_not_found coupon_not_found export_not_found order_not_found
      platform_account_not_found product_not_found resource_not_found
   BILLING_E_CONFLICT: constraint_violation destination_exists destination_not_empty
      email_taken idempotency_key_reused phone_taken topup_reference_reused usage_id_reused
      user_name_taken
   BILLING_E_REFUSED: account_frozen account_in_arrears already_refunded audit_key_mismatch
      audit_key_required auto_renew_not_supported backup_needs_pg_dump bound_mode_mismatch
      clock_not_manual confirmation_expired converting_to_on_demand copy_foreign_value
      copy_source_not_sqlite copy_version_mismatch coupon_excludes_discounts
      coupon_min_spend_not_met coupon_not_applicable coupon_not_usable
      credit_limit_below_used discount_no_longer_valid export_directory_required
      export_not_ready illegal_transition insufficient_funds invalid_token
      mixed_billing_modes no_monthly_price no_period no_usage_price not_active
      not_awaiting_password not_deletable not_eligible not_pay_per_use
      not_pending_provision not_prepaid not_primary not_realname_verified not_refundable
      not_releasable not_renewable_status not_submitted order_already_paid
      order_not_cancellable order_not_payable order_not_pending order_payment_expired
      order_processing pending_order_exists period_not_allowed police_frozen
      policy_not_applicable price_changed product_off_sale quote_stale resource_deleted
      resource_not_in_use review_required stale_renewal supplements_provisioning
      to_on_demand_not_supported token_expired token_used too_many_coupons
      too_many_discount_coupons too_many_rows unified_requires_in_use
      unified_requires_renewal_policy use_combined_order
   BILLING_E_STORAGE: backup_failed cannot_open commit_outcome_unknown connection_lost
      database_corrupt disk_full export_directory export_missing export_read export_write
      postgres_error read_only rollback_failed sqlite_error stored_value_unreadable
   BILLING_E_BUSY: database_busy deadlock_detected serialization_failure
   BILLING_E_SCHEMA: invalid_schema_version not_a_billing_database not_a_database
      schema_damaged schema_too_new
   BILLING_E_INTERNAL: bad_request (retired) crypto_unavailable empty_allocation
      negative_weight nested_transaction not_an_object out_of_memory password_hash_failed
      transaction_aborted unaudited_write uncovered_table unexpected_error zero_denominator
   BILLING_E_AUTH: invalid_credentials login_throttled */

/* ---- End of reasons ---- */

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
   Since 0.2.0 a "postgresql://" or "postgres://" URL, or a libpq key=value string
   ("host=... dbname=..."), opens a PostgreSQL database instead (docs/postgresql.md): the engine's tables live in the schema the connection's
   search_path names first (e.g. "?options=-csearch_path%3Dshop_a"), created when missing
   and "create" is true (BILLING_E_STORAGE "cannot_open" when it is false); "synchronous"
   does not apply, "busy_timeout_ms" is the lock timeout, and a server that cannot be
   reached is BILLING_E_STORAGE "cannot_open".
   `options_json` may be NULL or "" for the defaults, or an object with:
     "create":          bool, create the file if missing (default true)
     "synchronous":     "FULL" (default; every commit durable) or "NORMAL" (WAL: survives
                        process crashes, may lose the last commits on power loss)
     "busy_timeout_ms": 0–600000, how long a write waits for another writer (default 5000)
     "clock":           "system" (default) or "manual"
     "now":             with "manual": the clock's start, Unix seconds
     "audit_key":       since 0.2.0: 32–128 hex digits (16–64 bytes) the host keeps outside
                        the file (BILLING_E_INVALID "invalid_option" otherwise). The audit
                        rows this handle appends link with keyed BLAKE2b (their hash reads
                        "k:<hex>"), so nobody without the key can recompute the chain after
                        an edit. Once the chain is keyed, a handle without the key may not
                        write (BILLING_E_REFUSED "audit_key_required"; reads and verify work,
                        verify counting the links it could not check), nor one with another
                        key ("audit_key_mismatch", checked at its first write against the
                        chain's last row). Give every handle on a file the same key.
   A file the library will not use fails with BILLING_E_SCHEMA, and neither the file nor
   its directory is modified (no -wal or -shm is left behind). Reasons:
     "schema_too_new"          written by a newer libbilling (version beyond this one's)
     "invalid_schema_version"  a negative schema version, which no libbilling writes
     "not_a_billing_database"  another application's file, or tables without a version
     "not_a_database"          not an SQLite file at all
     "schema_damaged"          tables, columns, indexes, triggers or views differ from what
                               the file's version defines (the message names them, e.g.
                               "table five_day_units is missing"); checked at every open
   A full disk fails with BILLING_E_STORAGE "disk_full", at open as in every call.
   On failure *out_engine is NULL. Since 0.1.0. */
int billing_engine_open(const char *path, const char *options_json, billing_engine **out_engine);

/* Closes a handle and frees it. NULL is a no-op. Since 0.1.0. */
void billing_engine_close(billing_engine *engine);

/* Writes an online, consistent copy of the database to a new file: other threads, handles and
   processes keep reading and writing while it runs (the copy is one read snapshot, taken with
   SQLite's VACUUM INTO, so it is also compacted). Request: {"destination": an absolute path
   naming a file that does not exist yet}. Response: {"backup": {"destination", "bytes",
   "taken_at"}}. The file is created with mode 0600 (it holds password hashes) and synced to
   disk, with its directory, before the call returns; the copy opens with
   billing_engine_open like any database file. A read: no "actor", no audit row, no event;
   ":memory:" databases can be copied too. Errors: BILLING_E_INVALID "destination_not_absolute";
   BILLING_E_CONFLICT "destination_exists" (never overwritten, not even an empty file);
   BILLING_E_STORAGE "backup_failed" (cannot create or sync the file: missing directory, no
   permission), "disk_full", … A failed backup removes the file it created. Export files are
   not part of the copy. Since 0.2.0. */
int billing_engine_backup(billing_engine *engine, const char *request_json, char **out_json);

/* Copies the database, one read snapshot of it, into another, empty database of either backend:
   how a portal moves its SQLite file to PostgreSQL when it grows to several hosts. Request:
   {"destination": a database path or a PostgreSQL connection string, as billing_engine_open
   takes}. The destination is opened (created and migrated when new); it must hold no row. Every
   row goes in as stored (ids, documents, the audit chain and its row digests) in one
   transaction, all or none; into PostgreSQL two things differ: the file's id_sequences
   counters go into PostgreSQL's sequences (id_sequences stays empty there, with its rows'
   digests; the response counts 0 rows for it) and the event positions the file gave are
   recorded in outbox_seals (one record more than the source holds); other handles and processes keep working on the source, but
   what they write after the snapshot is not in the copy (stop writers until the cutover). Response:
   {"copy": {"destination", "taken_at", "rows", "tables": {table: rows copied}}}. Then open the
   copy (with the same audit key) and run billing_verify on it: it checks the same chain over
   the same rows and names any row that did not arrive exactly. A read of the source: no
   "actor", no audit row, no event on either side. Errors: BILLING_E_INVALID
   "destination_not_absolute" (a relative path or ":memory:");
   BILLING_E_CONFLICT "destination_not_empty"; BILLING_E_REFUSED "audit_key_required" (a keyed
   source copied into PostgreSQL by a handle without its audit key: the position records are
   keyed), "copy_version_mismatch" (the
   destination is of another schema version), "copy_foreign_value" (the source holds a value
   the library never writes), "copy_source_not_sqlite" (this engine's database is a PostgreSQL
   one: its copy is pg_dump); BILLING_E_SCHEMA when the destination belongs to another
   application or a newer library; BILLING_E_STORAGE "cannot_open", … A failed copy leaves the
   destination empty. Export files are not part of the copy. Since 0.2.0. */
int billing_engine_copy(billing_engine *engine, const char *request_json, char **out_json);

/* ---- Calls whose error travels with the result (any thread) ---------------------------- */

/* The last error above belongs to the calling OS thread. Hosts whose code may move to another
   thread between two C calls (Go goroutines, Java virtual threads, async Node or .NET) cannot
   rely on reading it afterwards. billing_call runs one function and returns its outcome,
   error included, in one document, so nothing has to be read later:

     function      the name of a function of this header taking (engine, request_json,
                   out_json), e.g. "billing_account_topup" — every such function is reachable,
                   billing_engine_backup included — or one of "billing_config_get" (request
                   NULL or {}), "billing_clock_now" (request NULL or {}), "billing_clock_set"
                   ({"now": t}), "billing_clock_advance" ({"seconds": n}); the three clock
                   names answer {"now": t, "schema_version"}.
     request_json  passed on unchanged (NULL where the function allows it).
     *out_json     ALWAYS a document when out_json is not NULL and memory could be allocated,
                   released with billing_string_free:
                     success  {"ok": true, "result": <the function's response>}
                     failure  {"error": {"status": N, "status_name": billing_status_string(N),
                               "reason": "...", "message": "..."}, "ok": false}
   Returns the call's status, as the named function would. An unknown or NULL function name
   is BILLING_E_INVALID "unknown_function"; a name that is not UTF-8, "invalid_utf8". The
   thread's last error is also set as for any call, so C callers may use either. Only a NULL
   out_json (BILLING_E_INVALID "null_argument") or an allocation failure (BILLING_E_INTERNAL)
   leave *out_json NULL. billing_engine_open has no handle to call through: hosts that need
   its error off-thread keep that one call on one thread (in Go, runtime.LockOSThread) or
   retry the open. Since 0.2.0. */
int billing_call(billing_engine *engine, const char *function, const char *request_json, char **out_json);

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
   auto_renew_hour, expiry_reminder_days, the batch and export limits (max_batch_renew:
   1–1000, default 10; a larger value is refused with BILLING_E_INVALID "out_of_range"
   naming the field), the password rules
   and the login throttle (login_throttle_*, see billing_platform_login). The
   configuration is stored in the database: every handle on the file shares it.
   Password hashes (argon2id): "password_hash_ops_limit" (passes, 1–20, default 2) and
   "password_hash_memory_bytes" (default 64 MiB, at most 1 GiB) have floors after OWASP's
   argon2id minimums: at least 19 MiB (19922944) with 2 passes or more, at least 46 MiB
   (48234496) with 1 pass; lower values are refused with BILLING_E_INVALID "out_of_range",
   and lower costs stored by an older library are raised to the floor when read.
   Since 0.1.0. */
int billing_config_get(billing_engine *engine, char **out_json);

/* Changes configuration values. Request:
     {"actor": "...", "idempotency_key": "..."?, "changes": {"field": value, ...}}
   Fields not named keep their values; one invalid field fails the whole request.
   Response: {"schema_version", "configuration": {...}, "changed": ["field", ...]}.
   Emits the event "config.changed" when a value changed. Since 0.1.0. */
int billing_config_update(billing_engine *engine, const char *request_json, char **out_json);

/* ---- Events and audit -------------------------------------------------------------- */

/* A page of the event outbox, oldest first. Request (NULL means {}):
     {"after": "<cursor>"?, "limit": 1–1000 (default 100)?, "account_id": "..."?,
      "from"?: "start" (default) | "end"}
   Response: {"schema_version", "events": [{"seq", "type", "account_id", "subject_id",
   "occurred_at", "data"}], "next_cursor": "...", "has_more": bool}. Pass next_cursor back
   as "after". "seq" is the event's position in the outbox, given only to committed events
   in the order they became visible (on PostgreSQL this call first numbers the events
   committed since the last call and records which event got which position, a chain
   billing_verify checks, keyed whenever the handle has the audit_key; it needs the key —
   BILLING_E_REFUSED "audit_key_required" — when the last record is keyed or an event to
   number was written by a keyed audit row; a stored position too near the greatest integer
   (edited outside the library) is refused BILLING_E_STORAGE "stored_value_unreadable"),
   so a host that remembers its cursor sees every event
   exactly once in commit order, whatever order concurrent writers began in; cursors kept
   from 0.1 stay valid. "from": "end" (since 0.2.0) returns no events, the
   outbox's current end as next_cursor (the whole outbox's, whatever "account_id" says) and
   has_more false: a host that starts listening now passes that cursor as "after" and sees
   exactly the events committed after the call, without paging through the history. With
   "after" it is refused (BILLING_E_INVALID, "conflicting_fields"). Since 0.1.0. */
int billing_events_list(billing_engine *engine, const char *request_json, char **out_json);

/* A page of the append-only audit log, paged like billing_events_list. Response entries:
   {"id", "recorded_at", "actor", "operation", "account_id", "subject_id", "detail"}.
   Since 0.1.0. */
int billing_audit_list(billing_engine *engine, const char *request_json, char **out_json);

/* The head of the audit chain: request NULL or {} -> {"schema_version", "position": the
   last seal's number (0 for an empty log), "digest": its hash in hex ("" for an empty
   log)}. Every write appends one audit row whose hash covers the previous row of its scope
   (its account, else its actor) and the digests of every row the write changed. This call
   first seals: it appends a seal listing the last row of every scope written since the
   previous seal, linked to that seal, so the head commits to the whole history of every
   scope (since 0.2.0's per-scope chains; before, the position was the last audit row's id).
   A host that keeps the head outside the database file (after its writes, or periodically)
   and passes it back as billing_verify's "audit_head" learns when the chain was cut (rows or
   seals deleted at its end: "the seal chain does not reach position N", or a sealed row
   gone) or rewritten (every hash recomputed after an edit). Writes only the seal, and only
   when audit rows were added since the last one; errors: BILLING_E_INVALID for a request
   that is not {} ("unknown_field"); with a keyed chain, a handle without the key cannot
   seal new rows (BILLING_E_REFUSED "audit_key_required"). Since 0.2.0. */
int billing_audit_head(billing_engine *engine, const char *request_json, char **out_json);

/* ---- Accounts and money ------------------------------------------------------------ */
/*
 * Every function below has the shape
 *     int f(billing_engine *engine, const char *request_json, char **out_json);
 * request_json is required. Ids of another account's records are "not found".
 */

/* Creates or updates a customer account (the owning cloud account) from the host's KYC data.
   Request: {"actor", "account_id", "type"?: "ENTERPRISE"|"PERSONAL" (required when new),
   "realname_verified"?: bool, "restricted"?: bool,
   "freeze"?: "NONE"|"ARREARS"|"VIOLATION"|"POLICE", "level"?: "V0".."V5",
   "credit_limit_fen"?: int >= credit used}. Absent or null fields keep their value; a new
   account starts unverified, unrestricted, unfrozen, V0, with zero balances.
   Response: {"account": {...}}. Emits "account.created" or "account.updated" (with
   "changed"). Since 0.1.0. */
int billing_account_put(billing_engine *engine, const char *request_json, char **out_json);

/* Request {"account_id"} -> {"account": {"account_id", "type", "realname_verified",
   "restricted", "freeze", "level", "currency", "cash_balance_fen", "arrears_fen",
   "credit_limit_fen", "credit_used_fen", "credit_available_fen", "deduction_days",
   "unified_expiry_day", "created_at", "updated_at"}}. Since 0.1.0. */
int billing_account_get(billing_engine *engine, const char *request_json, char **out_json);

/* The customer's renewal settings. Request: {"actor", "account_id", "deduction_days"?: 2–7
   (auto-renew deduction, days before expiry), "unified_expiry_day"?: 1–28 or -1 (last day
   of the month)}; at least one. A new deduction day takes effect at once, account-wide:
   every AUTO_RENEW primary still IN_USE has its next attempt moved to auto_renew_hour on the
   new deduction day, and one whose new attempt has already come (or that expires before the
   next auto_renew_hour) is attempted within this call (the same-day rule, with the events of
   an attempt); expired and frozen resources keep their daily retries. Response {"account",
   "rescheduled_resource_ids": the resources moved (empty when the value did not change),
   since 0.2.0}. Emits "account.settings_changed". Since 0.1.0. */
int billing_account_settings_update(billing_engine *engine, const char *request_json, char **out_json);

/* Records money the host received. Request: {"actor", "account_id", "amount_fen": > 0,
   "external_reference": the payment's id at the host}. The same reference and amount return
   the first top-up ("replayed": true); the same reference with another amount fails with
   BILLING_E_CONFLICT ("topup_reference_reused"). Arrears are settled first. Response:
   {"topup": ledger entry, "account", "arrears_settled_fen", "replayed"}. Emits
   "account.topped_up" and, when arrears end, "account.arrears_settled". Since 0.1.0. */
int billing_account_topup(billing_engine *engine, const char *request_json, char **out_json);

/* A page of an account's ledger, oldest first. Request: {"account_id", "after"?, "limit"?}.
   Response: {"entries": [{"id", "account_id", "fund": "CASH"|"CREDIT", "kind", "amount_fen",
   "balance_after_fen", "reference", "order_id", "recorded_at"}], "next_cursor", "has_more"}.
   The CASH entries always sum to the cash position (balance minus arrears). Since 0.1.0. */
int billing_ledger_list(billing_engine *engine, const char *request_json, char **out_json);

/* Issues a coupon. Request: {"actor", "account_id",
   "kind": "VOUCHER"|"CASH_COUPON"|"DISCOUNT_COUPON"|"STORED_VALUE_CARD",
   "face_value_fen": > 0 (all kinds but DISCOUNT_COUPON),
   "discount_bp": 1–9999 and "max_discount_fen"? (DISCOUNT_COUPON only; 1000 = 10 % off),
   "valid_from", "valid_to" (Unix seconds; usable while valid_from <= t < valid_to),
   "scope"?: {"products", "excluded_products", "order_types" (NEW, RENEW, CHANGE,
   ONDEMAND_TO_PREPAID, TRIAL_TO_COMMERCIAL), "billing_modes" (PREPAID_MONTHLY,
   PREPAID_YEARLY, ON_DEMAND, PACKAGE, ONE_OFF), "regions"} (empty = unrestricted),
   "min_spend_fen"?: the eligible amount due must exceed it,
   "exclusive_with_discounts"?: bool (default true for vouchers, false otherwise),
   "external_reference"?: a repeated reference returns the coupon issued first}.
   Response: {"coupon": {..., "status": "USABLE"|"USED_UP"|"EXPIRED"|"NOT_YET_VALID"},
   "replayed"}. Emits "coupon.issued". Since 0.1.0. */
int billing_coupon_issue(billing_engine *engine, const char *request_json, char **out_json);

/* An account's coupons in issue order. Request: {"account_id", "status"?: "USABLE"|"ALL",
   "kind"?, "after"?, "limit"?}. Response: {"coupons": [...], "next_cursor", "has_more"}
   (filters apply within each page, so a page may be short while has_more is true).
   Since 0.1.0. */
int billing_coupons_list(billing_engine *engine, const char *request_json, char **out_json);

/* ---- Platform accounts and login ----------------------------------------------------- */

/* The eligibility checks for opening a platform account, all evaluated together.
   Request {"account_id"} -> {"account_id", "eligible", "checks": [{"check": "E1".."E4",
   "passed", "code"?, "message"?}]}: E1 not_enterprise, E2 not_realname_verified,
   E3 restricted_or_frozen, E4 not_first_activation. Since 0.1.0. */
int billing_platform_eligibility(billing_engine *engine, const char *request_json, char **out_json);

/* Submits an application. Request: {"actor", "account_id", "user_name" (3–32 letters,
   digits, _ - ., starting with a letter), "email", "phone" (+<country><number>, or an
   11-digit mainland mobile number), "contact_name"?}. E-mail is lower-cased and the phone
   normalised to +<digits>. Fails with BILLING_E_REFUSED "not_eligible" (message lists every
   failing check, nothing created) or BILLING_E_CONFLICT "user_name_taken" / "email_taken" /
   "phone_taken". Response {"platform_account": {"platform_account_id", "account_id",
   "status": "SUBMITTED", ...}}. Since 0.1.0. */
int billing_platform_apply(billing_engine *engine, const char *request_json, char **out_json);

/* Approves a SUBMITTED application. Request {"actor", "platform_account_id"}. Response:
   {"platform_account" (APPROVED_PENDING_PASSWORD), "password_set_token", "token_expires_at"}.
   The host mails the token as the password-set link. Tokens are single-use, valid
   token_ttl_seconds (24 h), and stored only as digests: an idempotent replay returns null
   for the token. Since 0.1.0. */
int billing_platform_approve(billing_engine *engine, const char *request_json, char **out_json);

/* Rejects a SUBMITTED application: {"actor", "platform_account_id", "reason"}. Its
   identifiers are freed and the account may apply again. Since 0.1.0. */
int billing_platform_reject(billing_engine *engine, const char *request_json, char **out_json);

/* Issues a new password-set token for an approved application (earlier ones stop working).
   Request and response as billing_platform_approve. Since 0.1.0. */
int billing_platform_resend_link(billing_engine *engine, const char *request_json, char **out_json);

/* Sets the first password and activates. Request: {"actor", "token", "password"}. The
   password must meet the policy (password_min_length.., password_min_classes, not the user
   name, e-mail or phone); errors: "invalid_token", "token_used", "token_expired",
   "password_too_short", "password_too_simple", "password_equals_identifier", …
   Response {"platform_account" (ACTIVE)}. Since 0.1.0. */
int billing_platform_activate(billing_engine *engine, const char *request_json, char **out_json);

/* Request {"platform_account_id"} -> {"platform_account"} (never the password hash).
   Since 0.1.0. */
int billing_platform_get(billing_engine *engine, const char *request_json, char **out_json);

/* The approver's queue and the operator's view of platform accounts, in application order
   (oldest first), a page at a time. Request {"status"?: one of, or a list of, "SUBMITTED",
   "APPROVED_PENDING_PASSWORD", "ACTIVE", "REJECTED" (an empty list is "empty_list", another
   value "unknown_value"), "account_id"?, "after"?, "limit"?: 1–100 (default 20)} ->
   {"platform_accounts": [platform_account (as billing_platform_get, never the password
   hash)], "next_cursor", "has_more"}. A cursor that is not one handed out is
   "invalid_cursor". Each status is read from its own index range. Since 0.2.0. */
int billing_platform_accounts_list(billing_engine *engine, const char *request_json, char **out_json);

/* Logs in. Request: {"identifier": phone, e-mail or user name, "password"}, nothing else:
   no "actor" (who asks is what login finds out; the audit row names the platform account,
   or "anonymous") and no "idempotency_key" (each attempt counts); both are refused as
   "unknown_field". Response: {"platform_account", "account_id"}.
   Failure is BILLING_E_AUTH, with the same reasons, messages and cost for an identifier no
   active account holds as for a known one:
     "invalid_credentials"  the identifier or the password is wrong;
     "login_throttled"      the identifier is waiting after failed logins: the password is
                            not checked, so even the right one is refused until the wait ends.
   Both messages end with "(retry_after <Unix seconds>)" when a wait applies (for
   invalid_credentials: the wait this failure started); an attempt from that instant on is
   checked again, and the right password then succeeds.
   The throttle is kept per identifier as login normalises it (e-mail lower-cased, phone as
   +<digits>), held by an account or not: after login_throttle_after_failures (default 5)
   failures in a row, each further failure makes the next attempt wait
   login_throttle_base_seconds (30) · 2^k, k = 0, 1, 2, …, at most login_throttle_max_seconds
   (900). Attempts refused during a wait do not count. A success ends its identifier's
   failures, a password set with a token (billing_platform_activate,
   billing_platform_reset_complete) those of all three of the account's identifiers;
   otherwise they are forgotten login_throttle_forget_seconds (86400) after their wait
   ended, and billing_scheduler_run deletes them then. No failure locks an account for good: a stranger can make its owner
   wait at most login_throttle_max_seconds per attempt, and a reset ends the wait at once.
   So a failed login does change something: its audit row and its count. Every attempt is
   audited, never with the password. Emits "platform.login_throttled" {"identifier_kind":
   "EMAIL"|"PHONE"|"USER_NAME", "failures", "retry_after"} when an identifier of an active
   account begins waiting (for the host, e.g. to warn the owner; callers never see events).
   The throttle knows identifiers, not callers: the host can and should add its own limits
   per client address (attempts per address, and identifiers tried per address) in front of
   this call and of billing_platform_reset_request; the engine never sees addresses. (What
   remains observable: the owner's successful login ends its identifier's count, which a
   caller probing that identifier for hours could notice; such limits bound that too.)
   Since 0.1.0. Changed in 0.2.0: the throttle replaced the hard lock ("account_locked",
   "platform.locked", the platform account's "locked_until"); the configuration keys
   login_max_failures and login_lockout_seconds became login_throttle_after_failures and
   login_throttle_max_seconds (stored configurations are read under the new names;
   billing_config_update refuses the old ones as "unknown_field"). */
int billing_platform_login(billing_engine *engine, const char *request_json, char **out_json);

/* Starts a password reset. Request: {"actor", "identifier": e-mail, phone or user name}.
   Response, with status BILLING_OK and the same keys whether or not an active platform
   account holds the identifier: {"platform_account": {...} | null, "channel": "EMAIL" |
   "PHONE" | "USER_NAME" (the identifier's kind), "reset_token": "..." | null,
   "token_expires_at"}.
   - An active account: reset_token is a new token (earlier reset tokens stop working;
     emits "platform.password_reset_requested" with the account's e-mail and phone). The
     host delivers it to platform_account.email (channel EMAIL), platform_account.phone
     (PHONE), or either, its choice (USER_NAME).
   - Anyone else (no account, or an application not active yet): platform_account and
     reset_token are null; nothing is issued and only the audit row is written.
   The response is for the host, not for its caller: answer the caller the same way in both
   cases (e.g. "if an account holds this identifier, a message is on its way") and never
   forward platform_account or reset_token (the token belongs to the account's channel).
   channel and token_expires_at are the only fields that do not depend on existence. A
   malformed identifier fails with BILLING_E_INVALID ("invalid_email", "invalid_phone",
   "invalid_user_name"), which depends on the text alone. Per-address limits are the host's,
   as for login. Since 0.1.0. Changed in 0.2.0: an unknown identifier answered
   BILLING_E_NOT_FOUND, which told who exists. */
int billing_platform_reset_request(billing_engine *engine, const char *request_json, char **out_json);

/* Completes a reset: {"actor", "token", "password"} -> {"platform_account"}. Ends the login
   throttle's failures and waits on all three of the account's identifiers. Since 0.1.0. */
int billing_platform_reset_complete(billing_engine *engine, const char *request_json, char **out_json);

/* ---- Catalog ------------------------------------------------------------------------ */

/* Defines or replaces a product. Request: {"actor", "product": {"product_id", "product_type"
   (ECS, EVS, VPC …), "billing_mode": "PREPAID"|"ON_DEMAND"|"PACKAGE"|"ONE_OFF",
   "kind"? (selects the payment deadline: "hardware" gets 1 hour, see pay_deadline_seconds),
   "name"?, "region"?, "specs"?: {free-form}, "allowed_periods"?: [{"unit": "MONTH"|"YEAR",
   "count"}] (default 1–9 months with a monthly price, 1–3 years with a yearly one), "monthly_price_fen"?, "yearly_price_fen"?
   (a period of n units costs n times the unit price), "hourly_price_microfen"? (pay-per-use,
   millionths of a fen per unit-hour; also the price after converting to pay-per-use),
   "unit_price_microfen"? (pay-per-use counted per unit), "package"? (PACKAGE products:
   {"kind": "AMOUNT"|"CAPACITY", "quota", "applies_to": [product ids or types],
   "resettable"?, "reset_anchor"?: "CALENDAR_MONTH"|"PURCHASE_DAY"}), "one_off_price_fen"?, "promotion_discount_bp"?,
   "refundable"?, "per_resource_refund"?, "five_day_eligible"?, "auto_renew_supported"?,
   "to_on_demand_supported"?, "on_sale"? (default true), "review_required"? (default false),
   "trial"?, "promotion_forbids_refund"?,
   "bound_products"?: [product ids bought, renewed, refunded and released with this one]}}.
   Every allowed period needs its price. Orders keep the prices they were made with.
   Response {"product"}. Since 0.1.0. */
int billing_product_put(billing_engine *engine, const char *request_json, char **out_json);

/* Request {"product_id"} -> {"product"}. Since 0.1.0. */
int billing_product_get(billing_engine *engine, const char *request_json, char **out_json);

/* The catalog in id order: {"product_type"?, "after"?, "limit"?} -> {"products",
   "next_cursor", "has_more"}. Since 0.1.0. */
int billing_products_list(billing_engine *engine, const char *request_json, char **out_json);

/* An account's commercial discount for a product type ("*" for every type):
   {"actor", "account_id", "product_type", "rate_bp": 0–9999 (0 removes it)}. A line gets the
   better of this and the product's promotion discount, never both. Since 0.1.0. */
int billing_discount_set(billing_engine *engine, const char *request_json, char **out_json);

/* ---- Orders ------------------------------------------------------------------------- */
/*
 * Order statuses (code): PENDING_PAYMENT (6), PENDING_REVIEW (1), PROCESSING (3),
 * COMPLETED (5), CANCELLED (4), PENDING_CONFIRMATION (9), REFUNDING (2). REFUNDING is never
 * a resting status: an unsubscription is refunded (balances credited, coupons returned) in
 * the same transaction that moves it to REFUNDING and on to COMPLETED, either at once or
 * when billing_order_review approves it, so no call ever reads an order in REFUNDING; it
 * shows only in the "order.status_changed" events ("PENDING_REVIEW" -> "REFUNDING" ->
 * "COMPLETED") and is kept for API compatibility (§3.2, decision 7).
 * Order types (code): NEW (1), RENEW (2, manual, batch, unified-expiry and automatic
 * renewals), UNSUBSCRIBE (4), PREPAID_TO_ONDEMAND (10, recorded COMPLETED with nothing to pay
 * when a TO_ON_DEMAND resource converts at expiry; since 0.2.0).
 * Amounts of an order or line: list_price_fen − commercial/promotion/discount-coupon
 * discounts = amount_due_fen; amount_due_fen − voucher_fen = paid_amount_fen =
 * cash_coupon_fen + stored_value_card_fen + cash_fen + credit_fen. For an UNSUBSCRIBE order
 * the amounts are what went back, per source.
 * Every order call names the "account_id"; another account's order is "not found".
 */

/* Prices a purchase without creating anything. Request: {"account_id", "items": [{"product_id",
   "period"?: {"unit", "count"} (prepaid and packages), "quantity"?: 1–100,
   "effective_at"? (packages only, a later start)}]}. Products listed in a product's
   bound_products are added as bound lines. Response: {"items": [{"product_id", "lines",
   "amounts"}], "amounts", "priced_at"}. Since 0.1.0. */
int billing_order_quote(billing_engine *engine, const char *request_json, char **out_json);

/* Creates an order: the quote request plus "actor", "auto_pay"? with "coupon_ids"?,
   "placed_by_manager"? with "contract"?, and "expected_amount_due_fen"? (refused as
   "price_changed" if the price moved since the quote). One item makes a plain order; several
   make a combined order (paid and cancelled only as a whole) with one sub-order per item.
   Status: PENDING_PAYMENT with a deadline (T1), PENDING_REVIEW when a product needs review
   (T2), PENDING_CONFIRMATION when placed by the account manager (T3); with auto_pay, paid at
   once (T4) or left PENDING_PAYMENT with "payment": {"succeeded": false, "reason"} (T5).
   Pay-per-use products have nothing to pay: their order is PROCESSING at once and their
   resources wait for provisioning. Response {"order": details, "payment"}. Emits
   "order.created". Since 0.1.0. */
int billing_order_create(billing_engine *engine, const char *request_json, char **out_json);

/* Pays a PENDING_PAYMENT order (T10): {"actor", "account_id", "order_id", "coupon_ids"?: at
   most max_coupons_per_payment (3)}. Checks in order: status ("order_not_payable",
   "order_already_paid"), deadline ("order_payment_expired"), combined order
   ("use_combined_order" names the combined order to use), account ("account_frozen",
   "account_in_arrears"), coupons ("coupon_not_usable", "coupon_not_applicable",
   "coupon_min_spend_not_met", "coupon_excludes_discounts", "too_many_coupons"), prices
   ("discount_no_longer_valid"), funds ("insufficient_funds"). Funds are taken in the order
   discount coupon, vouchers (scoped ones first, then soonest to expire), cash coupons,
   stored-value cards (soonest to expire first), cash balance, credit line. The order moves
   to PROCESSING and its resources are created PENDING_PROVISION ("resource.created" events
   tell the host what to provision); packages take effect at once. Response {"order"}.
   Since 0.1.0. */
int billing_order_pay(billing_engine *engine, const char *request_json, char **out_json);

/* What paying a PENDING_PAYMENT order with the chosen coupons would take, before paying it:
   {"account_id", "order_id", "coupon_ids"?} (as billing_order_pay, without "actor") ->
   {"quoted_at", "order_id", "is_combined", "pay_deadline", "amounts" (the order's, after the
   coupons: amount_due_fen, voucher_fen, cash_coupon_fen, stored_value_card_fen, cash_fen,
   credit_fen, paid_amount_fen), "coupons": [{"coupon_id", "kind", "amount_fen"}] (what each
   chosen coupon would take), "applicable_coupons": [coupon] (the account's usable coupons
   this payment would accept, each on its own), "payment": {"payable": true} or {"payable":
   false, "reason", "message"} ("account_frozen", "account_in_arrears", a coupon's refusal,
   "insufficient_funds": the amounts without the coupons stand)}. It is billing_order_pay's
   own payment plan made without writing anything, so paying at the same instant with the
   same coupons charges exactly this. Refused as the payment would be when the order itself
   cannot be paid: "order_not_found", "use_combined_order", "order_not_payable",
   "order_already_paid", "order_payment_expired". Since 0.2.0. */
int billing_order_pay_quote(billing_engine *engine, const char *request_json, char **out_json);

/* Cancels PENDING_PAYMENT orders (T11), at most max_batch_cancel (30):
   {"actor", "account_id", "order_ids": [...], "reason"?} -> {"results": [{"order_id",
   "cancelled", "reason"?, "message"?}]}: each order that can be cancelled is, the others say
   why. A combined order is cancelled with all its sub-orders. Since 0.1.0. */
int billing_orders_cancel(billing_engine *engine, const char *request_json, char **out_json);

/* Decides a PENDING_REVIEW order: {"actor", "account_id", "order_id", "decision":
   "APPROVE"|"REJECT", "comment"?}. Approve -> PENDING_PAYMENT with a new deadline (T6);
   reject -> CANCELLED, reason REVIEW_REJECTED (T7). Response {"order"}. Since 0.1.0. */
int billing_order_review(billing_engine *engine, const char *request_json, char **out_json);

/* The customer's answer to a PENDING_CONFIRMATION order: {"actor", "account_id", "order_id",
   "decision": "CONFIRM"|"DECLINE"}. Confirm -> PENDING_PAYMENT (or PENDING_REVIEW) (T8);
   decline -> CANCELLED, reason DECLINED (T9). Response {"order"}. Since 0.1.0. */
int billing_order_confirm(billing_engine *engine, const char *request_json, char **out_json);

/* Order details: {"account_id", "order_id"} -> {"order": {..., "amounts", "lines",
   "sub_orders", "resources", "payments": [{"source", "coupon_id", "amount_fen"}], "refunds"
   (UNSUBSCRIBE orders)}}. A NEW order's "resources" are those it created (after payment); a
   RENEW or PREPAID_TO_ONDEMAND order's are the existing resources its lines name, from its
   creation; an UNSUBSCRIBE order's are the resources it gives money back for (a combined one:
   those of all its sub-orders, whose "refunds" it lists too; since 0.2.0). Each line carries
   "order_id" (its sub-order), "resource_id", "renew_from" and "renew_to" (a renewal line:
   the period it adds, from the old expiry to the new one; null elsewhere; since 0.2.0). "payments" sums what funded the order's resources, per source and
   coupon (a sum past the 64-bit range is BILLING_E_INVALID "amount_out_of_range", never a
   crash). Since 0.1.0. */
int billing_order_get(billing_engine *engine, const char *request_json, char **out_json);

/* The order list, newest first: {"account_id", "order_id"?, "created_from"?, "created_to"?
   (at most a year apart), "product_type"?, "order_type"?, "status"?, "billing_mode"?,
   "after"?, "limit"?: 1–100 (default 20), "with_counts"?: bool} -> {"orders", "next_cursor",
   "has_more", "counts"?}. Rows are plain orders and sub-orders (each names its
   "combined_order_id"); asking for a combined order's id lists its sub-orders.
   Several values (since 0.2.0): "product_type", "order_type", "status" and "billing_mode"
   each take one value (a string, as before) or a non-empty list of up to 100 (an order
   matching any of them), e.g. "status": ["PENDING_PAYMENT", "PENDING_REVIEW"]; an empty list
   is refused ("empty_list"), an unknown value too ("unknown_value").
   Tab counts (since 0.2.0): with "with_counts": true the response adds "counts": {"ALL",
   "PENDING_PAYMENT", "PENDING_REVIEW", "PROCESSING", "COMPLETED", "CANCELLED",
   "PENDING_CONFIRMATION", "REFUNDING"}: how many rows each status tab holds under every
   other filter of the request (the "status" filter itself is left out; "ALL" is their sum),
   whatever the page. The pending-orders badge is counts.PENDING_PAYMENT. One indexed,
   grouped read of the account's orders; no other account's rows are read.
   Combined orders as one row (since 0.2.0): with "group_combined": true each combined order
   is one row (its details, with its sub-orders that match the filters under "sub_orders")
   in place of its sub-orders, never split across two pages, and the counts count rows as
   shown (a combined order once per status tab its matching sub-orders are in; once in ALL).
   Since 0.1.0. */
int billing_orders_list(billing_engine *engine, const char *request_json, char **out_json);

/* ---- Resources ---------------------------------------------------------------------- */

/* The host's provisioning results: {"actor", "account_id", "results": [{"resource_id",
   "outcome": "SUCCEEDED"|"FAILED"}]} (1–100). Success starts the first period at this
   instant (expiry at 23:59:59 of the day the period reaches); failure refunds the resource
   in full through an automatic UNSUBSCRIBE order, coupons included (T15). An order whose
   resources are all settled is COMPLETED (T14). Response {"resources", "refund_orders"}.
   Since 0.1.0. */
int billing_resource_report(billing_engine *engine, const char *request_json, char **out_json);

/* Request {"account_id", "resource_id"} -> {"resource": {"resource_id", "status",
   "status_code", "order_id", "product_id", "primary_resource_id", "relation", "period",
   "provisioned_at", "effective_at", "expire_at", "expire_at_local", "expiry_policy", ...}}.
   Since 0.1.0. */
int billing_resource_get(billing_engine *engine, const char *request_json, char **out_json);

/* The account page's resources ("资源", issue 16): every resource of the account, the ended
   ones included (RELEASED, UNSUBSCRIBED, DELETED, PROVISION_FAILED), newest first (the
   renewal and unsubscription lists show live resources only). Request: {"account_id",
   "status"?, "billing_mode"?, "product_type"? (each one value or a list of them; a status or
   billing mode the library does not know is "unknown_value"), "after"?, "limit"?: 1–100
   (default 20), "with_counts"?: bool}. Response: {"resources": [each as billing_resource_get
   shows it], "next_cursor" (null on an empty page), "has_more", "counts"?}. With
   "with_counts": true, "counts": {"ALL", "PENDING_PROVISION", "PROVISION_FAILED",
   "PENDING_EFFECTIVE", "IN_USE", "EXPIRED", "FROZEN", "RELEASED", "UNSUBSCRIBED", "DELETED"}
   holds each status tab's total under the other filters (the "status" filter itself is left
   out; "ALL" is their sum): one indexed, grouped read of the account's rows. Bound resources
   are rows of their own (their "primary_resource_id" names the primary). The cursor is the
   last row's sequence number: a malformed cursor, or one that is not one of this account's
   resources, is "invalid_cursor". An unknown account is "account_not_found". Since 0.2.0. */
int billing_resources_list(billing_engine *engine, const char *request_json, char **out_json);

/* ---- Scheduler ---------------------------------------------------------------------- */

/* Does the work due at the handle's now, in bounded batches: {"actor", "limit"?: 1–10000 per
   job (default 1000)} -> {"now", "cancelled_orders", "exports_stepped", "exports_purged",
   "resources": {"processed",
   "effective", "reminders", "auto_renewed", "auto_renew_failed", "expired", "converted",
   "frozen", "released", "failed"}, "login_throttles_purged", "has_more"}. Jobs: cancel orders past their payment deadline (T12)
   or confirmation validity (T9); for each resource whose next instant has come: packages
   taking effect, auto-renew attempts (each a RENEW order paid with the account's discount
   coupons, vouchers, cash coupons and stored-value cards, then cash and credit, as described
   at billing_resources_policy_set), expiry reminders (15/7/3/1 days before for MANUAL,
   3 for NO_RENEW, 7/3/1 for TO_ON_DEMAND; one notice per run, never a backlog), expiry into
   grace (or conversion to pay-per-use, recorded as a PREPAID_TO_ONDEMAND order named by the
   "resource.converted" event's "order_id"), freezing at the end of grace, release at the end
   of retention (a resource that cannot advance is set aside for a day with a
   "scheduler.resource_failed" event, so it never stops the rest); a step of each export being generated, and the purge of export records
   past their time, and of login-throttle rows forgotten (see billing_platform_login). Its cost follows the due work, not the number of resources. Running it
   twice, or from two processes at once, has the effect of running it once. Call again
   while has_more is true. Since 0.1.0. */
int billing_scheduler_run(billing_engine *engine, const char *request_json, char **out_json);

/* ---- Renewals and expiry policies -------------------------------------------------- */
/*
 * Resource statuses (code): PENDING_PROVISION, PROVISION_FAILED, PENDING_EFFECTIVE (packages),
 * IN_USE (2), EXPIRED (5, the grace period: still working), FROZEN (4, the retention
 * period: data kept), RELEASED, UNSUBSCRIBED, DELETED (a pay-per-use resource the host
 * deleted, billing_resources_delete; since 0.2.0). A period starts at provisioning or at the
 * previous expiry and ends at 23:59:59 business time; grace = expiry + grace days,
 * retention = grace end + retention days, by customer level (configuration).
 */

/* Renews primary yearly/monthly resources by hand: {"actor", "account_id", "resource_ids":
   [1–max_batch_renew primary ids (default 10, configurable up to 1000; more than
   max_batch_renew is refused with "too_many_items")], "period"?: {"unit", "count"} (default: 1 year when
   all offer it, else the shortest common length), "unified_expiry"?: bool (stretch to the
   account's unified expiry day; the extra days cost the monthly price pro rata),
   "auto_pay"?, "coupon_ids"?}. Bound resources are renewed with their primary. The new
   period starts at the current expiry even in grace or retention. Refused: "not_primary",
   "not_prepaid", "not_renewable_status", "not_realname_verified", "pending_order_exists",
   "converting_to_on_demand", "product_off_sale", "supplements_provisioning",
   "period_not_allowed", "unified_requires_in_use", "unified_requires_renewal_policy" (a
   unified expiry day serves MANUAL and AUTO_RENEW resources only, §4.4; since 0.2.0).
   Creates a RENEW order (combined for
   several resources) pending payment; paying it applies the renewal at once.
   Response {"order", "payment"}. Since 0.1.0. */
int billing_resources_renew(billing_engine *engine, const char *request_json, char **out_json);

/* Prices a renewal without making it, for the renew dialog and the "renewal price" column:
   the request of billing_resources_renew without "actor", "idempotency_key" and "auto_pay":
   {"account_id", "resource_ids": [1–max_batch_renew primary ids (up to 1000)], "period"?: {"unit",
   "count"}, "unified_expiry"?: bool, "coupon_ids"?}. Response: {"quoted_at", "period",
   "unified_expiry", "resources": [{"resource_id", "primary_resource_id" (null for a primary,
   its primary for a bound resource renewed with it), "product_id", "product_type",
   "expire_at" (now), "new_expire_at", "new_expire_at_local", "amounts"}], "amounts" (the
   total), "coupons": [{"coupon_id", "kind", "amount_fen"}] (what the given coupon_ids would
   take), "applicable_coupons": [coupon] (the account's usable coupons — in their validity
   window, with a balance left or not yet used — that the payment's own coupon checks accept
   for this renewal, each on its own: scope, minimum spend, exclusivity with discounts,
   max_coupons_per_payment; so paying the renewal with any one of them is never refused for
   that coupon. Whether the funds suffice and the account may pay now is "payment";
   since 0.2.0), "payment": {"payable": true} or {"payable":
   false, "reason", "message"} (e.g. "insufficient_funds", "account_in_arrears",
   "coupon_not_applicable": the price stands, paying it now would be refused)}. "amounts"
   are an order's (list_price_fen − discounts = amount_due_fen; after the coupons and
   funds: voucher_fen, cash_coupon_fen, stored_value_card_fen, cash_fen, credit_fen,
   paid_amount_fen). The quote runs the renew path itself (the RENEW order and its payment
   plan) in a write transaction that is rolled back whole, so billing_resources_renew with the same
   request and billing_order_pay with the same coupon_ids at the same instant charge exactly
   this, line by line; nothing is created, no resource is blocked, no identifier is used,
   no event, audit row or idempotency record is written (a rollback that fails is
   BILLING_E_STORAGE "rollback_failed", never a quote). It takes the write lock for its duration (it may fail
   with BILLING_E_BUSY like a write). Refused as billing_resources_renew is ("not_primary",
   "not_prepaid", "not_renewable_status", "pending_order_exists", "period_not_allowed", …).
   Since 0.2.0. */
int billing_renewal_quote(billing_engine *engine, const char *request_json, char **out_json);

/* Sets the expiry policy: {"actor", "account_id", "resource_ids", "policy": "MANUAL"|
   "AUTO_RENEW"|"TO_ON_DEMAND"|"NO_RENEW", "auto_renew_period"?: {"unit", "count"} (default
   one unit of the purchase period), "auto_renew_times"?: 0–99 (0 = unlimited; enabling
   without it = unlimited; modifying without it keeps the count)}. Bound resources follow
   their primary. All or nothing. Auto-renew first tries at auto_renew_hour (03:00) on the
   account's deduction day (deduction_days before the expiry date), at once when that has
   passed or the resource expires before the next 03:00, then daily at 03:00 while in use,
   expired or frozen; each try is an event ("resource.auto_renewed" or
   "resource.auto_renew_failed" with "notice" on the notice days), and the count falls back
   to MANUAL at zero. An automatic renewal pays as billing_order_pay would (same checks and
   allocation), with coupons the engine picks from the account's usable ones: vouchers by
   largest remaining balance, then cash coupons, then stored-value cards (largest balance,
   then soonest to expire), at most max_coupons_per_payment, each only if it pays part of
   what is still owed and its scope, minimum spend and exclusivity allow it (a voucher
   exclusive with discounts is skipped when the line has a commercial or promotion
   discount; the line keeps the better of the two). The engine also tries the discount
   coupon that takes the most off (within its cap, scope and minimum spend) with the
   balance coupons compatible with it, and keeps whichever choice leaves less to pay from
   cash and credit; on a tie the one with fewer coupons, then the one without the discount
   coupon (the customer keeps it). The discount coupon counts toward
   max_coupons_per_payment. Then cash, then credit. Since 0.2.0 (0.1.0 paid from cash and
   credit only).
   TO_ON_DEMAND converts the resource to pay-per-use at expiry and cancels
   its pending orders. Response {"resources"}. Since 0.1.0. */
int billing_resources_policy_set(billing_engine *engine, const char *request_json, char **out_json);

/* Releases EXPIRED or FROZEN resources: {"actor", "account_id", "resource_ids"}. Bound
   resources go with their primary. Refused under a police freeze, while an order is
   processing, or without real-name verification. Response {"resources"}. Since 0.1.0. */
int billing_resources_release(billing_engine *engine, const char *request_json, char **out_json);

/* The renewal-management view, soonest expiry first: {"account_id", "tab": "ALL"|"MANUAL"|
   "AUTO_RENEW"|"TO_ON_DEMAND"|"NO_RENEW", "expire_from"?, "expire_to"?, "resource_id"?,
   "resource_ids"?, "order_id"?, "status"?: "IN_USE"|"EXPIRED"|"FROZEN",
   "hide_pending_orders"?: bool, "after"?, "limit"?: 1–100, "with_counts"?: bool} ->
   {"resources": [{..., "bound_resources", "pending_order_id"}], "next_cursor", "has_more",
   "counts"?}. Since 0.2.0: tab "ALL" lists every policy at once; "resource_ids" (a list, or
   one string) searches for up to 200 instance ids at once (the guide's search box; together
   with "resource_id" at most 200, else "too_many_items"; an empty list is "empty_list");
   with "with_counts": true, "counts": {"ALL", "MANUAL", "AUTO_RENEW", "TO_ON_DEMAND",
   "NO_RENEW"} holds each tab's total under every other filter of the request, whatever the
   page (one indexed, grouped read of the account's resources). The renewal exports take
   the same filters. Since 0.1.0. */
int billing_renewals_list(billing_engine *engine, const char *request_json, char **out_json);

/* ---- Unsubscription and refunds --------------------------------------------------- */
/*
 * Classes (first match wins): NOT_ALLOWED with a reason (FREE_SERVICE, TRIAL, ONE_OFF,
 * PACKAGE_EFFECTIVE, TRANSACTION_IN_PROGRESS, EXPIRED, POLICE_FROZEN, PROMOTION_NO_REFUND,
 * INVOICED_MARKETPLACE, ARCHIVED, SUPPORT_BENEFIT_USED, PRODUCT_NOT_REFUNDABLE,
 * MUST_BE_WHOLE, and the engine's PAY_PER_USE, ENDED, NO_INACTIVE_PERIOD);
 * FAILED_CREATION (already refunded in full when it failed); INACTIVE (a package not yet in
 * effect: full refund); RENEWAL_ONLY (periods not yet started: full refund); FIVE_DAY (new
 * purchase within five_day_refund_hours of provisioning, quota left: full refund with
 * vouchers, one quota unit per bound group, or per order for products not refundable per
 * resource; the quota resets on 1 January business time); NON_FIVE_DAY (the current period
 * by the formula, periods to come in full). Formula: hours from the period start floored
 * to the hour to expiry + 1 s, used hours to now floored to the hour; consumed = paid ×
 * used / total and fee = paid × rate (handling_fee_rates_bp by term and used-year bracket),
 * each rounded half-up once; refund = max(0, paid − consumed − fee), split over the paid
 * sources by largest remainder; vouchers of that period are forfeited. The fee kept (the
 * quote's "fee_fen") is min(formula fee, paid − consumed), so refund + consumed + fee = paid
 * always, in total and per source ("by_source"): e.g. 100.00 paid for 758 hours, 700 used ⇒
 * consumed 92.35; the formula fee 10.00 exceeds the 7.65 left, so fee_fen is 765 and the
 * refund 0 ("fee_rate_bp" still shows the table's rate).
 */

/* Quotes an unsubscription: {"account_id", "resource_ids": [1–100], "type"?: "RESOURCE"
   (default: the resource and its periods to come) | "RENEWAL_ONLY" (periods not yet
   started), "fallback_expiry"? (RENEWAL_ONLY: the expiry to fall back to; every later period
   goes)}. Bound resources come with their primary. Response: {"quote_id", "computed_at",
   "type", "refundable", "total_refund_fen", "review_required", "five_day_quota": {"year",
   "limit", "used_before", "used_after"}, "resources": [{"resource_id", "resource_ids",
   "class", "reason", "message", "refund_fen", "refund_by_source", "coupons_returned_fen",
   "coupons_forfeited_fen", "periods": [{"resource_id", "paid_by_order_id", "method":
   "FULL"|"FORMULA", "start", "end", "paid", "paid_amount_fen", "total_units", "used_units",
   "consumed_fen", "fee_rate_bp", "fee_bracket", "fee_fen", "refund_fen", "refund",
   "forfeited"}]}]}. Every period carries every one of these fields. A FULL period gives back
   everything that paid it: consumed_fen, fee_rate_bp and fee_fen are 0, total_units,
   used_units and fee_bracket are null (no duration is counted), forfeited is [], refund_fen
   is the whole of "paid" (vouchers included) and paid_amount_fen its paid money (vouchers
   excluded); start and end are null only for a resource that never started (no period).
   FORMULA periods add "duration_unit" and "by_source". Since 0.1.0. */
int billing_refund_quote(billing_engine *engine, const char *request_json, char **out_json);

/* Unsubscribes: the quote request plus "actor", "quote_id"? (refused as "quote_stale" unless
   the execution reproduces that quote exactly), "reason_type"?: 1–5, "reason"?. All or
   nothing ("not_refundable", "already_refunded"). One UNSUBSCRIBE order per group (combined
   for several): above large_refund_threshold_fen it waits in PENDING_REVIEW for
   billing_order_review (approve: refunded and completed; reject: cancelled, resources
   untouched); otherwise refunded and completed at once. Cash goes back to the balance,
   credit to the credit line, coupons to their balance (void when expired), in the same
   transaction that completes the order (never left REFUNDING). The resources
   end (UNSUBSCRIBED) or, for RENEWAL_ONLY, fall back to the chosen expiry. Response
   {"order", "quote"}. Since 0.1.0. */
int billing_resources_unsubscribe(billing_engine *engine, const char *request_json, char **out_json);

/* The host's refund blocks on a resource: {"actor", "account_id", "resource_id", "blocks": []
   or any of "INVOICED_MARKETPLACE", "ARCHIVED", "SUPPORT_BENEFIT_USED"}. Since 0.1.0. */
int billing_resource_refund_blocks_set(billing_engine *engine, const char *request_json, char **out_json);

/* The unsubscription page ("云服务退订"): the account's live resources, newest purchase first,
   each with the class and reason billing_refund_quote gives it when quoted alone at this
   instant (the same classification: an unsubscription of the resource then does what the
   row says). Request: {"account_id", "type"?: "RESOURCE" (default; the "in-use resources"
   tab) | "RENEWAL_ONLY" (the "renewal periods" tab), "class"?: one of, or a list of,
   "REFUNDABLE" (可退订: every class below but NOT_ALLOWED), "NOT_ALLOWED" (不可退订),
   "FIVE_DAY", "NON_FIVE_DAY", "RENEWAL_ONLY", "INACTIVE", "resource_ids"?: up to 200 ids,
   "product_type"?: one or a list, "after"?, "limit"?: 1–100 (default 20),
   "with_counts"?: bool}. Live: IN_USE, EXPIRED, FROZEN and PENDING_EFFECTIVE packages, in
   every billing mode (pay-per-use ones are NOT_ALLOWED, PAY_PER_USE); not those waiting for
   provisioning, failed or ended. Bound resources are not rows of their own: they come with
   their primary (its "resource_ids"). Response: {"resources": [{resource fields (as
   billing_resource_get), "resource_ids", "class", "reason" (a NOT_ALLOWED reason, else
   null), "message", "refund_fen" (the refund a quote of it alone gives now)}],
   "next_cursor", "has_more", "counts"?}. With "with_counts": true, "counts": {"ALL",
   "REFUNDABLE", "NOT_ALLOWED", "FIVE_DAY", "NON_FIVE_DAY", "RENEWAL_ONLY", "INACTIVE"}
   holds each tab's total under the other filters ("type", "resource_ids", "product_type").
   Each resource is classified alone: with one five-day quota unit left, two resources
   inside their five days both show FIVE_DAY, while quoting them together gives one of them
   NON_FIVE_DAY. The class is computed, not stored: a page classifies at most 1,000
   resources, so with a "class" filter it may hold fewer than "limit" rows while "has_more"
   is true (follow next_cursor); counts classify every live resource of the account that
   the other filters keep (a few indexed reads each; no other account's rows). A malformed
   cursor is "invalid_cursor". Since 0.2.0. */
int billing_unsubscriptions_list(billing_engine *engine, const char *request_json, char **out_json);

/* ---- Pay-per-use usage and packages ------------------------------------------------- */

/* Rates usage of pay-per-use resources (also those converted at expiry): {"actor",
   "account_id", "records": [{"usage_id" (the host's id: each counts once per account),
   "resource_id", "quantity" (0–100000 units of the product's measure), "start", "end"}]}
   (1–1000). Timed usage (products with hourly_price_microfen) is split into business hours
   and rated per second: quantity × seconds × hourly price; counted usage (products with
   unit_price_microfen) is quantity × unit price in the hour of "end". Matching packages
   (their "applies_to" names the product or its type) cover usage first, earliest expiry
   first, then earliest effective, then earliest bought; AMOUNT packages use up their quota
   (unit-hours, or units) per reset window, CAPACITY packages cover up to their quota of
   units throughout each hour. Coverage is decided by the usage's own time: a package covers
   usage between its effective time and its expiry whenever that usage is reported, even
   after the scheduler has marked the package EXPIRED (since 0.2.0). The rest is charged on one line per resource and hour,
   rounded half-up to the fen once per line, and paid from auto-applied vouchers (scoped ones
   first, then the soonest to expire; none with a minimum spend), cash coupons, stored-value
   cards, cash, credit; what is left is arrears (the cash balance below zero), which start
   the account's pay-per-use resources' grace and retention ("account.arrears_started"); a
   top-up that clears the arrears brings them back. A repeated record is reported as
   "DUPLICATE"; a different record under a used id fails with BILLING_E_CONFLICT
   ("usage_id_reused"). A resource deleted with billing_resources_delete still takes records
   that end by its deletion; one that ends later fails with BILLING_E_REFUSED
   ("resource_deleted", since 0.2.0). Response {"results": [{"usage_id", "status": "RATED"|"DUPLICATE",
   "lines"}], "charged_fen", "account"}. Since 0.1.0. */
int billing_usage_report(billing_engine *engine, const char *request_json, char **out_json);

/* The host deleted pay-per-use resources in its cloud; billing ends at this instant (§2.3):
   {"actor", "account_id", "resource_ids": [1–200 primary ids]}. Each resource and its bound
   resources become DELETED with "ended_at" = now. Usage that ends at or before ended_at is
   still rated when it is reported later (settlement lags the hour); a record that ends after
   it is refused (BILLING_E_REFUSED "resource_deleted"). A deleted resource is in no list of
   live resources (renewals, unsubscription, packages' coverage), is quoted NOT_ALLOWED
   "ENDED" for unsubscription, and arrears no longer put it in grace, freeze or release it.
   Allowed while in use, in arrears grace, and frozen for arrears or a violation (§4.8).
   Refused, all or nothing: "police_frozen" (the account or the resource is frozen by public
   security), "not_pay_per_use" (prepaid resources are released or unsubscribed),
   "not_primary" (a bound resource goes with its primary), "not_deletable" (not live: pending
   provisioning, already ended). Open orders on the resources are cancelled
   (RESOURCE_DELETED). A call of its own rather than billing_resources_release: release is
   the customer's request on an expired prepaid resource (real-name verified, no processing
   order), a deletion reports what the host did to a pay-per-use resource in any live state
   and keeps its past rateable. Response {"resources"}. Emits "resource.deleted" {"deleted_at",
   "resource_ids"} per primary. Since 0.2.0. */
int billing_resources_delete(billing_engine *engine, const char *request_json, char **out_json);

/* Settled hourly lines, newest first: {"account_id", "resource_id"?, "from"?, "to"?, "after"?,
   "limit"?} -> {"lines": [{"resource_id", "hour_start", "unit": "UNIT_SECONDS"|"UNITS",
   "units", "covered", "overage", "price_microfen", "charged_fen", "paid_by": [{"source",
   "coupon_id", "amount_fen"}]}], "next_cursor", "has_more"}. Since 0.1.0. */
int billing_usage_list(billing_engine *engine, const char *request_json, char **out_json);

/* The account's packages in purchase order, a page at a time: {"account_id", "after"?,
   "limit"?: 1–1000 (default 100)} -> {"packages": [{resource fields, "kind", "quota",
   "applies_to", "window_start", "used"}], "next_cursor", "has_more"} (timed quotas are
   counted in unit-seconds: an AMOUNT quota of q unit-hours holds q × 3600). Paged since
   0.2.0 like every other list: pass next_cursor back as "after" while has_more is true (a
   request with only "account_id" gets the first 100); a malformed cursor is
   "invalid_cursor". Since 0.1.0. */
int billing_packages_list(billing_engine *engine, const char *request_json, char **out_json);

/* ---- Exports ----------------------------------------------------------------------- */
/*
 * Export records belong to the account that asked; another account's are "not found".
 * Files are CSV for spreadsheets: UTF-8 with a byte-order mark, RFC 4180 quoting, CRLF,
 * text cells starting with = + - @ (or a tab or carriage return) prefixed with an
 * apostrophe so they never run as formulas, numbers left as numbers, amounts in yuan with
 * two decimals, times in business time ("2024-02-01 23:59:59"). With "language": "zh" the
 * headers and the coded cells are Chinese, as the platform guide writes them: order types
 * (新购, 续费, 变更, 退订, 包年/包月转按需, …), order statuses (待支付, 待审核, 处理中, 已完成,
 * 已取消, 待确认, 退款中), billing modes (包年/包月, 按需, 套餐包, 一次性), resource statuses
 * (使用中, 已过期, 已冻结, …), expiry policies (手动续费, 自动续费, 到期转按需, 到期不续费),
 * periods ("1年", "3个月") and the usual product types (ECS 弹性云服务器, EVS 云硬盘, VPC
 * 虚拟私有云, EIP 弹性公网IP, OBS 对象存储服务, RDS 云数据库RDS, CCE 云容器引擎, SFS 弹性文件
 * 服务; any other type as the host named it); "en" keeps the codes (since 0.2.0). A combined
 * order's row lists every product type and billing mode of its sub-orders, each once
 * ("ECS, EVS"; "弹性云服务器、云硬盘"). Files are named by the
 * engine in the export_directory configuration (default: "<database file>-exports"); no
 * request names a path.
 */

/* Requests an export: {"actor", "account_id", "kind": "ORDERS" | "PENDING_ORDERS" |
   "RENEWALS" | "RENEWAL_PRICES", "filter"? (ORDERS: the billing_orders_list filters;
   RENEWALS and RENEWAL_PRICES: the billing_renewals_list filters, tab required),
   "order_ids" (PENDING_ORDERS only, and required there: the 1–1000 ticked orders, each
   PENDING_PAYMENT, written in the order given; missing or empty is BILLING_E_INVALID
   "missing_field", an order not pending is BILLING_E_REFUSED "order_not_pending"; with
   another kind it is refused as "unknown_field"), "language"?: "zh" (default) | "en"}.
   A renewal price list holds at most max_renewal_price_export_rows (10,000) rows
   ("too_many_rows"); its price is that of billing_renewal_quote for the resource alone at its
   default length (the same renewal-line pricing as billing_resources_renew: commercial
   discount or promotion per line, bound resources included), so it is what renewing
   charges; a resource that cannot be renewed for that length has empty price cells. The record starts GENERATING and is written in steps of
   export_rows_per_step by billing_scheduler_run or billing_export_step, to READY or FAILED
   (with "failure_reason"); it and its file are purged export_retention_hours (72) after the
   request. Each step is one write transaction: a large export_rows_per_step (at most
   100,000) holds the write lock longer. Response {"export": {"export_id", "kind", "status", "rows_expected",
   "rows_written", "bytes", "created_at", "purge_at", "completed_at", "failure_reason",
   "file_name", ...}}. Emits "export.ready" when done. Since 0.1.0. */
int billing_export_request(billing_engine *engine, const char *request_json, char **out_json);

/* Writes the next rows of an export now: {"actor", "account_id", "export_id", "max_rows"?}
   -> {"export"}. Since 0.1.0. */
int billing_export_step(billing_engine *engine, const char *request_json, char **out_json);

/* A READY export's file for its owner: {"account_id", "export_id", "mode"?: "PATH" (default)
   | "BYTES"} -> {"export", "path"} or {"export", "content_base64"}. Since 0.1.0. */
int billing_export_download(billing_engine *engine, const char *request_json, char **out_json);

/* An account's export records, newest first: {"account_id", "after"?, "limit"?} ->
   {"exports", "next_cursor", "has_more"}. Since 0.1.0. */
int billing_exports_list(billing_engine *engine, const char *request_json, char **out_json);

/* ---- Verification ------------------------------------------------------------------- */

/* Recomputes the invariants from the stored facts; request_json may be NULL. Request:
     {"integrity": "QUICK" (default) | "FULL" | "NONE"}?   how the file itself is checked
   first: QUICK runs SQLite's PRAGMA quick_check (every page and record readable), FULL its
   PRAGMA integrity_check (also every index agrees with its table; slower), both also check
   that the file is a whole number of pages (breach "file_size": cut or extended outside
   SQLite) and that every stored JSON document parses (breach "stored_document", subject
   "<table> <key>"). SQLite's findings are breaches "sqlite_integrity" (subject
   "database"). When the file is damaged, the response holds only those breaches and
   "checked" is empty: invariants read from a damaged file would mislead. NONE skips the
   step. Response: {"ok", "integrity": the mode run, "checked": {counts},
   "breaches": [{"check", "subject", "detail"}]}. Checks: cash
   balance = cash ledger sum and credit used = credit drawn per account; coupon balance =
   its ledger sum and never negative; order amounts = the sum of their lines, and the
   amount identities on paid orders; a combined order's status agrees with its sub-orders';
   what resources were funded with under an order = what the order was paid; no refund
   beyond what was paid; paid periods of a resource never overlap.
   Since 0.2.0 also, against changes made outside the library:
     {"audit_head": {"position": <int>, "digest": "<hex>"}}?   a head the host kept from
   billing_audit_head (its response may be passed as it came, "schema_version" included):
   the chain must reach that row with that hash (breach "audit_head", subject the
   position). Every audit row must have a hash and follow from the one before
   it (breach "audit_chain", subject the first bad row's id). Every row the library writes
   (every table except the audit log itself and the digests) must match the digest of its
   last write, listed by the audit row of that write: a row edited, inserted or deleted
   outside the library is a breach "row_tampered" with "table" and "key" (the array of the
   row's key values; subject "<table> <key>"), and so is a recorded digest the chain does
   not list, and an event whose outbox position was cleared, swapped or moved ("events";
   on PostgreSQL checked against the sealer's chained records of the positions it gave, a
   record edited or removed being "outbox_seals"; events not yet numbered are no breach).
   With a keyed chain ("audit_key"), a handle opened with the key checks every
   keyed link, and reports an unkeyed row after keyed ones, or an unkeyed last row, as
   "audit_chain" (a chain recomputed without the key); a handle without it cannot check
   keyed links and counts them in "checked": {"audit_links_unchecked"}. Money is reconciled across tables (breach "ledger_reconciliation", with
   "table" and "key"): every top-up ledger row has its reference and its audited top-up,
   every payment and refund ledger row names an order of its account that could cause it,
   each order's cash and credit equal what the ledger took for it, each completed refund
   order's cash and credit refunds equal what the ledger credited, each pay-per-use hour's
   cash and credit funding equals its ledger rows. What verify cannot detect: see the
   README's Reliability section (a whole file replaced by an older copy, or a chain
   recomputed after an edit when the host kept no head). Breaches may carry keys beyond
   "check", "subject" and "detail"; readers ignore those they do not know.
   Since 0.1.0. */
int billing_verify(billing_engine *engine, const char *request_json, char **out_json);

#ifdef __cplusplus
}
#endif

#endif /* BILLING_H */
