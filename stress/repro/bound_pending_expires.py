#!/usr/bin/env python3
"""Bug 1: a bound resource still PENDING_PROVISION is carried through expiry with its
primary: EXPIRED -> FROZEN -> RELEASED with expire_at = NULL, and billing_verify reports a
resource_state breach while it is EXPIRED or FROZEN. Its order stays PROCESSING for good.

    BILLING_LIBRARY=dist/lib/libbilling.so python3 stress/repro/bound_pending_expires.py

    ... python3 stress/repro/bound_pending_expires.py failed   # the bound disk FAILED instead

With "failed" the bound disk is reported PROVISION_FAILED (and refunded in full) while the
primary succeeds: the same code path later turns the refunded disk EXPIRED/FROZEN/RELEASED.
Cause: ResourceLifecycle.advance applies every transition to [primary] + ResourceStore.bound
(primary), which does not filter the bound resources' own status.

Exit status 1 while the bug is present, 0 once fixed.
"""
import os
import sys

PYTHON = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "python")
sys.path[:0] = [PYTHON, os.path.join(PYTHON, "tests")]
import billing  # noqa: E402
from helpers import DAY, START, customer  # noqa: E402  (START: 2024-01-01 10:30 +08:00)

e = billing.Engine(":memory:", clock="manual", now=START)
customer(e, cash=100_000)
e.product_put("ops", {"product_id": "disk", "product_type": "EVS", "billing_mode": "PREPAID",
                      "monthly_price_fen": 1000})
e.product_put("ops", {"product_id": "vm", "product_type": "ECS", "billing_mode": "PREPAID",
                      "monthly_price_fen": 3000, "bound_products": ["disk"]})
order = e.order_create("buyer", "a1", [{"product_id": "vm", "period": {"unit": "MONTH", "count": 1}}],
                       auto_pay=True)["order"]
vm = next(r["resource_id"] for r in order["resources"] if r["relation"] is None)
disk = next(r["resource_id"] for r in order["resources"] if r["relation"] == "BOUND")
# The host reports the primary provisioned; the bound disk is still being provisioned.
results = [{"resource_id": vm, "outcome": "SUCCEEDED"}]
if sys.argv[1:] == ["failed"]:
    results.append({"resource_id": disk, "outcome": "FAILED"})
e.resource_report("host", "a1", results)
bug = False
for day in range(1, 61):  # past expiry (2024-02-01), 7 days of grace, 7 of retention
    e.advance_clock(DAY)
    e.scheduler_run("scheduler")
    report = e.verify()
    if not report["ok"]:
        d = e.resource_get("a1", disk)["resource"]
        print(f"day {day}: vm {e.resource_get('a1', vm)['resource']['status']}, bound disk "
              f"{d['status']} (provisioned_at {d['provisioned_at']}, expire_at {d['expire_at']})")
        print(f"  verify: {report['breaches']}")
        bug = True
        break
d = e.resource_get("a1", disk)["resource"]
print(f"end: bound disk {d['status']}, order {e.order_get('a1', order['order_id'])['order']['status']}")
sys.exit(1 if bug else 0)
