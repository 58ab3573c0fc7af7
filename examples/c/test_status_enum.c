/*
 * test_status_enum.c — the billing_status enum and the BILLING_OK / BILLING_E_* macros of
 * billing.h name the same codes (the enum is for FFI generators that drop #defines), and the
 * library names each of them.
 */
#include "check.h"

/* Compile-time agreement (C99 has no _Static_assert): a negative array size fails the build. */
#define SAME(a, b) typedef char same_##a[((int)(a) == (int)(b)) ? 1 : -1]
SAME(BILLING_STATUS_OK, BILLING_OK);
SAME(BILLING_STATUS_INVALID, BILLING_E_INVALID);
SAME(BILLING_STATUS_NOT_FOUND, BILLING_E_NOT_FOUND);
SAME(BILLING_STATUS_CONFLICT, BILLING_E_CONFLICT);
SAME(BILLING_STATUS_REFUSED, BILLING_E_REFUSED);
SAME(BILLING_STATUS_STORAGE, BILLING_E_STORAGE);
SAME(BILLING_STATUS_BUSY, BILLING_E_BUSY);
SAME(BILLING_STATUS_SCHEMA, BILLING_E_SCHEMA);
SAME(BILLING_STATUS_INTERNAL, BILLING_E_INTERNAL);
SAME(BILLING_STATUS_AUTH, BILLING_E_AUTH);

int main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    static const struct { billing_status status; int macro; } pairs[] = {
        {BILLING_STATUS_OK, BILLING_OK},           {BILLING_STATUS_INVALID, BILLING_E_INVALID},
        {BILLING_STATUS_NOT_FOUND, BILLING_E_NOT_FOUND}, {BILLING_STATUS_CONFLICT, BILLING_E_CONFLICT},
        {BILLING_STATUS_REFUSED, BILLING_E_REFUSED}, {BILLING_STATUS_STORAGE, BILLING_E_STORAGE},
        {BILLING_STATUS_BUSY, BILLING_E_BUSY},     {BILLING_STATUS_SCHEMA, BILLING_E_SCHEMA},
        {BILLING_STATUS_INTERNAL, BILLING_E_INTERNAL}, {BILLING_STATUS_AUTH, BILLING_E_AUTH},
    };
    size_t count = sizeof pairs / sizeof pairs[0];
    for (size_t i = 0; i < count; i++) {
        CHECK((int)pairs[i].status == pairs[i].macro);
        /* codes are dense from 0: the enum covers every code the library knows, and no more */
        CHECK((int)pairs[i].status == (int)i);
        CHECK(strcmp(billing_status_string((int)pairs[i].status), "unknown status") != 0);
    }
    CHECK_STR(billing_status_string((int)count), "unknown status");

    /* A failing call reports a code that compares equal to the enum constant. */
    billing_engine *engine = NULL;
    int status = billing_engine_open(":memory:", "{\"no_such_option\": 1}", &engine);
    CHECK(status == BILLING_STATUS_INVALID);
    CHECK(billing_last_error_code() == (int)BILLING_STATUS_INVALID);
    CHECK(engine == NULL);
    billing_engine_close(engine);
    return check_summary();
}
