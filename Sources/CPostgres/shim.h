#ifndef BILLING_CPOSTGRES_SHIM_H
#define BILLING_CPOSTGRES_SHIM_H
/* libpq from the system (Debian: libpq-dev; pkg-config libpq gives -I/usr/include/postgresql). */
#include <libpq-fe.h>

/* PG_DIAG_SQLSTATE is a character-literal macro, which Swift does not import: the five-character
   SQLSTATE of a failed result ("40001"), or NULL when the failure came from libpq itself (a
   connection that went away before the server could say why). */
static inline const char *billing_pq_sqlstate(const PGresult *result) {
    return result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : 0;
}

/* The server's primary message of a failed result, without libpq's "ERROR:  " prefix and
   trailing newline, or NULL. */
static inline const char *billing_pq_primary_message(const PGresult *result) {
    return result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : 0;
}
#endif
