#!/usr/bin/env python3
"""Bug 4 (minor): a retry that spells an absent optional field as null is refused as another
request. billing.h: "A field given as null counts as absent" and "repeating a key with the
same request returns the first response". But the idempotency comparison uses the request
text with nulls kept (Engine.perform's canonical form drops only idempotency_key), so a host
whose retry serializer writes {"scope": null} gets BILLING_E_CONFLICT
"idempotency_key_reused" for what is the same request.

    BILLING_LIBRARY=dist/lib/libbilling.so python3 stress/repro/idempotency_null_field.py

Exit status 1 while the bug is present, 0 once fixed.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "python"))
import billing  # noqa: E402
from billing import errors  # noqa: E402

e = billing.Engine(":memory:", clock="manual", now=1704076200)
e.account_put("kyc", "a1", type="ENTERPRISE", realname_verified=True, level="V3")
request = {"actor": "ops", "idempotency_key": "k1", "account_id": "a1", "kind": "VOUCHER",
           "face_value_fen": 100, "valid_from": 1704076200, "valid_to": 1804076200}
first = e.call("billing_coupon_issue", request)
try:
    again = e.call("billing_coupon_issue", dict(request, scope=None))
    print("retry with \"scope\": null returned the first response:", again == first)
    sys.exit(0 if again == first else 1)
except errors.BillingError as exc:
    print(f"retry with \"scope\": null: {type(exc).__name__} {exc.reason}: {exc.message}")
    sys.exit(1)
