/*
 * fuzz_open.c — libFuzzer target for billing_engine_open's options_json.
 *
 * Input: the options text (copied into a buffer of exactly its size plus a NUL; an empty
 * input passes NULL). The path is always ":memory:", so every successful open creates a
 * fresh schema and nothing touches the disk. Checks: the ABI contract (fuzz_common.h),
 * *out_engine NULL exactly on failure, and a handle that opened answers billing_clock_now
 * and billing_config_get before it is closed.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *options = size > 0 ? fuzz_copy_string(data, size) : NULL;
    billing_engine *engine = (billing_engine *)0x1; /* must be overwritten */
    int status = billing_engine_open(":memory:", options, &engine);
    fuzz_check_contract("billing_engine_open", status, 0, NULL);
    if (status != BILLING_OK) {
        if (engine != NULL) FUZZ_FAIL("billing_engine_open failed with %d but *out_engine is not NULL", status);
    } else {
        if (engine == NULL) FUZZ_FAIL("billing_engine_open succeeded but *out_engine is NULL");
        int64_t now = -1;
        status = billing_clock_now(engine, &now);
        fuzz_check_contract("billing_clock_now", status, 0, NULL);
        if (status != BILLING_OK || now < 0 || now > 253402300799LL)
            FUZZ_FAIL("billing_clock_now after opening with %s: status %d, now %lld", options ? options : "NULL", status, (long long)now);
        char *out = NULL;
        status = billing_config_get(engine, &out);
        fuzz_check_contract("billing_config_get", status, 1, out);
        billing_string_free(out);
        billing_engine_close(engine);
    }
    free(options);
    return 0;
}
