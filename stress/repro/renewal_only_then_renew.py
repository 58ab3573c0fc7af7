#!/usr/bin/env python3
"""Bug 2: after a RENEWAL_ONLY unsubscription, renewing the resource again fails with
BILLING_E_CONFLICT "constraint_violation" (UNIQUE constraint failed:
resource_periods.resource_id, resource_periods.start_at): the refunded period's row (status
REFUNDED) still holds the (resource_id, start_at) key the new period needs. With AUTO_RENEW
the failure is inside billing_scheduler_run, which then fails on every call: the scheduler
of the whole database is wedged (here: an order past its payment deadline is never
cancelled).

    BILLING_LIBRARY=dist/lib/libbilling.so python3 stress/repro/renewal_only_then_renew.py

Exit status 1 while the bug is present, 0 once fixed.
"""
import os
import sys

PYTHON = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "python")
sys.path[:0] = [PYTHON, os.path.join(PYTHON, "tests")]
import billing  # noqa: E402
from billing import errors  # noqa: E402
from helpers import DAY, M1, START, buy, customer  # noqa: E402  (START: 2024-01-01 10:30 +08:00)

e = billing.Engine(":memory:", clock="manual", now=START)
customer(e, cash=100_000)
e.product_put("ops", {"product_id": "disk", "product_type": "EVS", "billing_mode": "PREPAID",
                      "monthly_price_fen": 1000})
[disk] = buy(e, "disk", auto_pay=True)  # paid at creation and provisioned
e.resources_renew("buyer", "a1", [disk], period=M1, auto_pay=True)     # + [2024-02-01, 2024-03-01]
e.resources_unsubscribe("buyer", "a1", [disk], type="RENEWAL_ONLY")    # that period refunded
print("expiry back to", e.resource_get("a1", disk)["resource"]["expire_at_local"])
bug = False
try:
    e.resources_renew("buyer", "a1", [disk], period=M1, auto_pay=True)
    print("manual renewal again: ok")
except errors.BillingError as exc:
    bug = True
    print(f"manual renewal again: {type(exc).__name__} {exc.reason}: {exc.message}")

e.resources_policy_set("buyer", "a1", [disk], "AUTO_RENEW")
failures = 0
for day in range(1, 41):
    e.advance_clock(DAY)
    try:
        e.scheduler_run("scheduler")
    except errors.BillingError as exc:
        print(f"day {day}: scheduler_run: {type(exc).__name__} {exc.reason}: {exc.message}")
        failures += 1
        break
if failures:
    # From now on every run fails, so nothing else the scheduler does happens either.
    pending = e.order_create("buyer", "a1", [{"product_id": "disk", "period": M1}])["order"]
    e.advance_clock(8 * DAY)  # past the 7-day payment deadline
    for _ in range(5):
        try:
            e.scheduler_run("scheduler")
        except errors.BillingError:
            failures += 1
    status = e.order_get("a1", pending["order_id"])["order"]["status"]
    print(f"scheduler_run failed {failures} times; an order 8 days past its 7-day payment "
          f"deadline is still {status}")
sys.exit(1 if bug or failures else 0)
