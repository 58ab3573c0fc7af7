#!/usr/bin/env python3
"""Bug 3 (performance): billing_verify's "missing_audit" check is quadratic in the number of
keyed operations. Its query

    SELECT i.operation, count(*) FROM idempotency i WHERE NOT EXISTS (SELECT 1 FROM audit_log a
        WHERE a.operation = i.operation AND a.recorded_at = i.created_at) GROUP BY i.operation

has no index to use (audit_log is indexed by id and (account_id, id) only), so SQLite scans the
whole audit log once per idempotency record. Doubling the keyed operations quadruples the time
of billing_verify; on a 19k-operation hammer file it took 30 s (0.23 s after adding an index on
audit_log (operation, recorded_at) to a copy).

    BILLING_LIBRARY=dist/lib/libbilling.so python3 stress/repro/verify_quadratic.py

Exit status 1 when verify time grows clearly faster than linearly, 0 otherwise.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "python"))
import billing  # noqa: E402

START = 1704076200
e = billing.Engine(":memory:", clock="manual", now=START)
e.account_put("kyc", "a1", type="ENTERPRISE", realname_verified=True, level="V3",
              idempotency_key="account")
done = 0
timings = []
for target in (2_000, 4_000, 8_000):
    while done < target:
        done += 1
        e.advance_clock(1)  # distinct times, as in any real run: each probe scans further
        e.topup("pay", "a1", 1, f"ref-{done}", idempotency_key=f"key-{done}")
    started = time.perf_counter()
    assert e.verify()["ok"]
    timings.append(time.perf_counter() - started)
    print(f"{target:6} keyed operations: billing_verify {timings[-1]:.3f} s")
ratio = timings[-1] / max(timings[0], 1e-6)
print(f"4x the operations -> {ratio:.1f}x the time (linear would be about 4x)")
sys.exit(1 if ratio > 8 else 0)
