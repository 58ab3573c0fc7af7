#ifndef BILLING_CSQLITE_SHIM_H
#define BILLING_CSQLITE_SHIM_H
#include <sqlite3.h>

/* SQLITE_TRANSIENT is a cast macro that Swift cannot import; this gives it a name. */
static inline sqlite3_destructor_type billing_sqlite_transient(void) {
    return SQLITE_TRANSIENT;
}
#endif
