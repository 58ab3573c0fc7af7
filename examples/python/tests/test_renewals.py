"""Renewals, expiry policies, release, the renewal view and the resource jobs of the
scheduler, through Python against the real library.

Every test uses `fast_engine` (manual clock, starting at START = 2024-01-01 10:30 +08:00)
and moves the clock forward to the business times of the examples; `at()` turns a +08:00
business time into Unix seconds. The customer is level V3: 7 days of grace and 7 of
retention for yearly/monthly resources.
"""

import collections
import datetime
import multiprocessing

import pytest

import billing
from billing import errors
from helpers import (BUSINESS_TZ, DAY, M1, M2, assert_verified, at, customer, events, order,
                     prepaid, refused, resource, run, snapshot, buy as buy_item)

M3 = {"unit": "MONTH", "count": 3}
Y1 = {"unit": "YEAR", "count": 1}
POLICIES = ("MANUAL", "AUTO_RENEW", "TO_ON_DEMAND", "NO_RENEW")


# -- helpers --------------------------------------------------------------------------

def buy(engine, product_id, **options):
    """Buys one resource, paid at creation (auto_pay), and reports it provisioned now: the
    ids, primary first."""
    return buy_item(engine, product_id, auto_pay=True, **options)


def world(engine, resource_ids, account_id="a1"):
    """Everything a refused call must leave unchanged."""
    return {"snapshot": snapshot(engine),
            "account": engine.account_get(account_id)["account"],
            "resources": [resource(engine, rid, account_id) for rid in resource_ids],
            "orders": [order(engine, o["order_id"], account_id)
                       for o in engine.iter_orders(account_id, limit=100)],
            "ledger": list(engine.iter_ledger(account_id))}


# -- §4.2: expiry, grace, retention and renewal ---------------------------------------

def test_expiry_grace_retention_and_renewal_in_retention(fast_engine):
    engine = fast_engine
    customer(engine)
    prepaid(engine, "evs-1")
    engine.set_clock(at(2024, 3, 31, 10))
    new = engine.order_create("buyer", "a1", [{"product_id": "evs-1", "period": M1}])["order"]
    paid = engine.order_pay("buyer", "a1", new["order_id"])["order"]
    [rid] = [r["resource_id"] for r in paid["resources"]]
    engine.resource_report("host", "a1", [{"resource_id": rid, "outcome": "SUCCEEDED"}])
    bought = resource(engine, rid)
    # A month from 03-31 ends on the last day of April (the 31st does not exist).
    assert bought["status"] == "IN_USE" and bought["expiry_policy"] == "MANUAL"
    assert bought["expire_at"] == at(2024, 4, 30, 23, 59, 59)
    assert bought["expire_at_local"] == "2024-04-30T23:59:59+08:00"
    assert bought["grace_end"] is None and bought["retention_end"] is None

    # Still in use during its last second.
    assert run(engine, at(2024, 4, 30, 23, 59, 59))["expired"] == 0
    counts = run(engine, at(2024, 5, 1, 3))
    assert counts["expired"] == 1 and counts["processed"] == 1
    expired = resource(engine, rid)
    assert (expired["status"], expired["status_code"]) == ("EXPIRED", 5)
    assert expired["grace_end"] == at(2024, 5, 7, 23, 59, 59)
    assert expired["retention_end"] == at(2024, 5, 14, 23, 59, 59)
    [event] = events(engine, "resource.expired", rid)
    assert event["data"] == {"expire_at": at(2024, 4, 30, 23, 59, 59),
                             "grace_end": expired["grace_end"],
                             "retention_end": expired["retention_end"]}
    assert run(engine, at(2024, 5, 1, 3))["expired"] == 0  # once

    assert run(engine, at(2024, 5, 7, 23, 59, 59))["frozen"] == 0  # grace ends inclusive
    assert run(engine, at(2024, 5, 8))["frozen"] == 1
    frozen = resource(engine, rid)
    assert (frozen["status"], frozen["status_code"], frozen["freeze_reason"]) == ("FROZEN", 4, "EXPIRY")
    [event] = events(engine, "resource.frozen", rid)
    assert event["data"]["reason"] == "EXPIRY"

    # Renewed in retention: the new period starts at the old expiry.
    engine.set_clock(at(2024, 5, 10))
    response = engine.resources_renew("customer", "a1", [rid], period=M1)
    renewal = response["order"]
    assert response["payment"] is None
    assert renewal["type"] == "RENEW" and renewal["status"] == "PENDING_PAYMENT"
    assert renewal["is_combined"] is False
    assert renewal["amounts"]["list_price_fen"] == renewal["amounts"]["amount_due_fen"] == 3_000
    assert [(line["product_id"], line["period"]) for line in renewal["lines"]] == [("evs-1", M1)]
    assert resource(engine, rid)["status"] == "FROZEN"  # nothing happens before payment
    [row] = engine.renewals("a1", "MANUAL")["resources"]
    assert row["resource_id"] == rid and row["pending_order_id"] == renewal["order_id"]

    completed = engine.order_pay("customer", "a1", renewal["order_id"])["order"]
    assert completed["status"] == "COMPLETED" and completed["completed_at"] == at(2024, 5, 10)
    renewed = resource(engine, rid)
    assert (renewed["status"], renewed["status_code"]) == ("IN_USE", 2)
    assert renewed["expire_at"] == at(2024, 5, 31, 23, 59, 59)
    assert renewed["grace_end"] is None and renewed["retention_end"] is None
    assert renewed["freeze_reason"] is None
    [event] = events(engine, "resource.renewed", rid)
    assert event["data"] == {"order_id": renewal["order_id"], "from": at(2024, 4, 30, 23, 59, 59),
                             "expire_at": at(2024, 5, 31, 23, 59, 59)}
    assert engine.renewals("a1", "MANUAL")["resources"][0]["pending_order_id"] is None
    # The old retention end passes without effect.
    counts = run(engine, at(2024, 5, 15, 3))
    assert counts["released"] == 0 and resource(engine, rid)["status"] == "IN_USE"
    assert [e["kind"] for e in engine.iter_ledger("a1")] == ["TOPUP", "PAYMENT", "PAYMENT"]
    assert_verified(engine)


def test_released_at_the_end_of_retention_cancelling_its_renewal(fast_engine):
    engine = fast_engine
    customer(engine)
    prepaid(engine, "evs-1")
    engine.set_clock(at(2024, 3, 31, 10))
    [rid] = buy(engine, "evs-1")
    run(engine, at(2024, 5, 1, 3))
    run(engine, at(2024, 5, 8, 3))
    engine.set_clock(at(2024, 5, 14, 10))  # in retention, a renewal pending payment
    pending = engine.resources_renew("customer", "a1", [rid], period=M1)["order"]
    assert run(engine, at(2024, 5, 14, 23, 59, 59))["released"] == 0
    counts = run(engine, at(2024, 5, 15))
    assert counts["released"] == 1
    released = resource(engine, rid)
    assert released["status"] == "RELEASED" and released["ended_at"] == at(2024, 5, 15)
    [event] = events(engine, "resource.released", rid)
    assert event["data"]["reason"] == "RETENTION_ENDED" and event["data"]["resource_ids"] == [rid]
    cancelled = order(engine, pending["order_id"])
    assert cancelled["status"] == "CANCELLED" and cancelled["cancel_reason"] == "RESOURCE_DELETED"
    assert counts["cancelled_orders"] == 0  # cancelled by the release, not by its deadline
    assert run(engine, at(2024, 6, 1))["processed"] == 0
    assert all(engine.renewals("a1", tab)["resources"] == [] for tab in POLICIES)


def test_expiry_reminders_by_policy(fast_engine):
    engine = fast_engine
    customer(engine)
    prepaid(engine, "evs-1")
    engine.set_clock(at(2024, 3, 1, 10))  # each expires 2024-04-01 23:59:59
    ids = {policy: buy(engine, "evs-1")[0] for policy in POLICIES}
    for policy, rid in ids.items():
        if policy != "MANUAL":
            engine.resources_policy_set("customer", "a1", [rid], policy)
    for day in range(3, 33):  # 03-03 .. 04-01, each day at 09:00
        run(engine, at(2024, 3, 1, 9) + (day - 1) * DAY)
    sent = {policy: [e["data"]["days_before"] for e in events(engine, "resource.expiry_reminder", rid)]
            for policy, rid in ids.items()}
    assert sent == {"MANUAL": [15, 7, 3, 1], "NO_RENEW": [3], "TO_ON_DEMAND": [7, 3, 1],
                    "AUTO_RENEW": []}
    [first] = events(engine, "resource.expiry_reminder", ids["MANUAL"])[:1]
    assert first["occurred_at"] == at(2024, 3, 17, 9)
    assert first["data"]["expire_at"] == at(2024, 4, 1, 23, 59, 59)


def test_a_late_run_sends_one_reminder_not_a_backlog(fast_engine):
    engine = fast_engine
    customer(engine)
    prepaid(engine, "evs-1")
    engine.set_clock(at(2024, 3, 1, 10))
    [rid] = buy(engine, "evs-1")
    assert run(engine, at(2024, 3, 30, 3))["reminders"] == 1  # 15, 7 and 3 days have passed
    [event] = events(engine, "resource.expiry_reminder", rid)
    assert event["data"]["days_before"] == 3
    assert run(engine, at(2024, 3, 30, 4))["reminders"] == 0
    assert run(engine, at(2024, 3, 31, 3))["reminders"] == 1
    assert [e["data"]["days_before"] for e in events(engine, "resource.expiry_reminder", rid)] == [3, 1]


# -- §4.4: unified expiry -------------------------------------------------------------

def test_unified_expiry(fast_engine):
    engine = fast_engine
    customer(engine)
    prepaid(engine, "ecs-1", monthly=30_000, product_type="ECS")
    engine.account_settings_update("customer", "a1", unified_expiry_day=1)
    engine.set_clock(at(2024, 8, 10, 10))
    [rid] = buy(engine, "ecs-1")
    assert resource(engine, rid)["expire_at"] == at(2024, 9, 10, 23, 59, 59)

    renewal = engine.resources_renew("customer", "a1", [rid], period=M1, unified_expiry=True)["order"]
    # A month to 10-10, then 22 days to 11-01 at 30 000 × 22 / 31 (October), rounded once.
    assert renewal["amounts"]["list_price_fen"] == 51_290
    assert renewal["amounts"]["amount_due_fen"] == 51_290
    engine.order_pay("customer", "a1", renewal["order_id"])
    renewed = resource(engine, rid)
    assert renewed["expire_at"] == at(2024, 11, 1, 23, 59, 59)
    assert renewed["expire_at_local"] == "2024-11-01T23:59:59+08:00"
    # Later renewals keep the unified day.
    response = engine.resources_renew("customer", "a1", [rid], period=M1, auto_pay=True)
    assert response["payment"]["succeeded"] is True
    assert response["order"]["status"] == "COMPLETED"
    assert response["order"]["amounts"]["cash_fen"] == 30_000
    assert resource(engine, rid)["expire_at"] == at(2024, 12, 1, 23, 59, 59)
    assert engine.account_get("a1")["account"]["cash_balance_fen"] == 1_000_000 - 30_000 - 51_290 - 30_000
    assert_verified(engine)


# -- §4.5: auto-renewal ---------------------------------------------------------------

def test_auto_renew_retries_daily_and_counts_down(fast_engine):
    engine = fast_engine
    customer(engine, cash=5_000)
    prepaid(engine, "evs-1")
    engine.set_clock(at(2024, 5, 30, 10))
    [rid] = buy(engine, "evs-1")  # 2 000 left: too little for a renewal
    assert resource(engine, rid)["expire_at"] == at(2024, 6, 30, 23, 59, 59)

    [enabled] = engine.resources_policy_set("customer", "a1", [rid], "AUTO_RENEW",
                                            auto_renew_times=2)["resources"]
    assert enabled["expiry_policy"] == "AUTO_RENEW"
    # Seven days (the default deduction days) before the expiry date, at 03:00.
    assert enabled["auto_renew"] == {"period": M1, "remaining": 2,
                                     "next_attempt_at": at(2024, 6, 23, 3)}
    [changed] = events(engine, "resource.policy_changed", rid)
    assert changed["data"]["from"] == "MANUAL" and changed["data"]["to"] == "AUTO_RENEW"
    assert run(engine, at(2024, 6, 23, 2, 59, 59))["processed"] == 0

    counts = run(engine, at(2024, 6, 23, 3))
    assert (counts["auto_renew_failed"], counts["auto_renewed"]) == (1, 0)
    [failed] = events(engine, "resource.auto_renew_failed", rid)
    assert failed["data"]["reason"] == "insufficient_funds"
    assert failed["data"]["next_attempt_at"] == at(2024, 6, 24, 3)
    assert failed["data"]["notice"] is False and failed["data"]["message"]
    # A failed attempt leaves no order behind.
    assert [o["type"] for o in engine.iter_orders("a1")] == ["NEW"]
    assert resource(engine, rid)["auto_renew"]["remaining"] == 2

    engine.topup("pay", "a1", 100_000, "a1-more")
    assert run(engine, at(2024, 6, 23, 23))["processed"] == 0  # only at 03:00
    counts = run(engine, at(2024, 6, 24, 3))
    assert counts["auto_renewed"] == 1
    once = resource(engine, rid)
    assert once["expire_at"] == at(2024, 7, 30, 23, 59, 59)
    assert once["expiry_policy"] == "AUTO_RENEW"
    assert once["auto_renew"] == {"period": M1, "remaining": 1,
                                  "next_attempt_at": at(2024, 7, 23, 3)}
    [renewed] = events(engine, "resource.auto_renewed", rid)
    assert renewed["data"]["remaining"] == 1 and renewed["data"]["policy"] == "AUTO_RENEW"
    assert renewed["data"]["expire_at"] == at(2024, 7, 30, 23, 59, 59)
    assert order(engine, renewed["data"]["order_id"])["status"] == "COMPLETED"
    assert order(engine, renewed["data"]["order_id"])["type"] == "RENEW"

    assert run(engine, at(2024, 7, 23, 3))["auto_renewed"] == 1
    twice = resource(engine, rid)
    assert twice["expire_at"] == at(2024, 8, 30, 23, 59, 59)
    assert twice["expiry_policy"] == "MANUAL" and twice["auto_renew"] is None
    assert events(engine, "resource.auto_renewed", rid)[-1]["data"]["remaining"] is None
    assert events(engine, "resource.auto_renewed", rid)[-1]["data"]["policy"] == "MANUAL"
    assert [r["resource_id"] for r in engine.iter_renewals("a1", "MANUAL")] == [rid]
    assert engine.renewals("a1", "AUTO_RENEW")["resources"] == []
    # Back to manual: nothing more is deducted.
    assert run(engine, at(2024, 8, 23, 3))["auto_renewed"] == 0
    entries = [(e["kind"], e["amount_fen"]) for e in engine.iter_ledger("a1")]
    assert entries == [("TOPUP", 5_000), ("PAYMENT", -3_000), ("TOPUP", 100_000),
                       ("AUTO_RENEWAL", -3_000), ("AUTO_RENEWAL", -3_000)]
    assert_verified(engine)


def test_deduction_days_move_the_first_attempt(fast_engine):
    engine = fast_engine
    customer(engine)
    prepaid(engine, "evs-1")
    engine.account_settings_update("customer", "a1", deduction_days=3)
    engine.set_clock(at(2024, 5, 30, 10))
    [rid] = buy(engine, "evs-1")
    [enabled] = engine.resources_policy_set("customer", "a1", [rid], "AUTO_RENEW")["resources"]
    assert enabled["auto_renew"] == {"period": M1, "remaining": None,
                                     "next_attempt_at": at(2024, 6, 27, 3)}
    assert run(engine, at(2024, 6, 26, 3))["processed"] == 0
    assert run(engine, at(2024, 6, 27, 3))["auto_renewed"] == 1
    renewed = resource(engine, rid)
    assert renewed["expire_at"] == at(2024, 7, 30, 23, 59, 59)
    assert renewed["auto_renew"]["remaining"] is None  # unlimited
    assert renewed["auto_renew"]["next_attempt_at"] == at(2024, 7, 27, 3)


def test_auto_renew_enabled_on_the_expiry_day_renews_at_once(fast_engine):
    engine = fast_engine
    customer(engine)
    prepaid(engine, "evs-1")
    engine.set_clock(at(2024, 5, 30, 10))
    [rid] = buy(engine, "evs-1")
    engine.set_clock(at(2024, 6, 30, 10))  # expires tonight, before the next 03:00
    [enabled] = engine.resources_policy_set("customer", "a1", [rid], "AUTO_RENEW")["resources"]
    assert enabled["expire_at"] == at(2024, 7, 30, 23, 59, 59)
    assert enabled["auto_renew"]["next_attempt_at"] == at(2024, 7, 23, 3)
    assert len(events(engine, "resource.auto_renewed", rid)) == 1


def test_auto_renew_in_grace_brings_the_resource_back(fast_engine):
    engine = fast_engine
    customer(engine, cash=3_000)
    prepaid(engine, "evs-1")
    engine.set_clock(at(2024, 5, 30, 10))
    [rid] = buy(engine, "evs-1")
    engine.resources_policy_set("customer", "a1", [rid], "AUTO_RENEW")
    for day in range(23, 31):
        assert run(engine, at(2024, 6, day, 3))["auto_renew_failed"] == 1
    counts = run(engine, at(2024, 7, 1, 3))
    assert (counts["auto_renew_failed"], counts["expired"]) == (1, 1)
    assert resource(engine, rid)["status"] == "EXPIRED"
    notices = [e["data"]["notice"] for e in events(engine, "resource.auto_renew_failed", rid)]
    # Notices go out 5 and 2 days before the expiry and on its day (06-25, 06-28, 06-30).
    assert notices == [False, False, True, False, False, True, False, True, False]
    engine.topup("pay", "a1", 3_000, "a1-more")
    assert run(engine, at(2024, 7, 2, 3))["auto_renewed"] == 1
    back = resource(engine, rid)
    assert back["status"] == "IN_USE" and back["grace_end"] is None
    assert back["expire_at"] == at(2024, 7, 30, 23, 59, 59)  # from the old expiry
    assert_verified(engine)


def test_scheduler_works_through_resources_in_batches(fast_engine):
    engine = fast_engine
    customer(engine)
    prepaid(engine, "evs-1")
    ids = [buy(engine, "evs-1")[0] for _ in range(5)]
    engine.resources_policy_set("customer", "a1", ids[:2], "AUTO_RENEW")
    engine.account_put("kyc", "a1", freeze="ARREARS")  # auto-renewal cannot pay
    engine.set_clock(at(2024, 2, 2, 3))
    responses = [engine.scheduler_run("scheduler", limit=2) for _ in range(3)]
    assert [r["has_more"] for r in responses] == [True, True, False]
    assert [r["resources"]["processed"] for r in responses] == [2, 2, 1]
    totals = collections.Counter()
    for response in responses:
        totals.update(response["resources"])
    assert (totals["expired"], totals["auto_renew_failed"], totals["auto_renewed"]) == (5, 2, 0)
    assert {e["data"]["reason"] for e in events(engine, "resource.auto_renew_failed")} == {"account_frozen"}
    assert {resource(engine, rid)["status"] for rid in ids} == {"EXPIRED"}
    assert engine.scheduler_run("scheduler")["resources"]["processed"] == 0


# -- §4.6: policies -------------------------------------------------------------------

TRANSITIONS = [(a, b) for a in POLICIES for b in POLICIES if a != b] + [("AUTO_RENEW", "AUTO_RENEW")]


@pytest.fixture
def bundle(fast_engine):
    """a1 with an ECS that has a bound EVS, bought 2024-01-01 10:30 (expires 02-01)."""
    engine = fast_engine
    customer(engine)
    prepaid(engine, "evs-1")
    prepaid(engine, "ecs-b", monthly=10_000, product_type="ECS", bound_products=["evs-1"])
    primary, bound = buy(engine, "ecs-b")
    assert resource(engine, bound)["primary_resource_id"] == primary
    assert resource(engine, bound)["relation"] == "BOUND"
    return engine, primary, bound


@pytest.mark.parametrize("source, target", TRANSITIONS)
def test_policy_transitions(bundle, source, target):
    engine, primary, bound = bundle
    if source != "MANUAL":
        options = {"auto_renew_times": 3} if source == "AUTO_RENEW" else {}
        engine.resources_policy_set("customer", "a1", [primary], source, **options)
    options = {"auto_renew_period": M2} if target == "AUTO_RENEW" else {}
    [changed] = engine.resources_policy_set("customer", "a1", [primary], target, **options)["resources"]
    assert changed["resource_id"] == primary and changed["expiry_policy"] == target
    assert resource(engine, primary) == changed
    assert resource(engine, bound)["expiry_policy"] == target  # follows its primary
    assert events(engine, "resource.policy_changed", primary)[-1]["data"]["from"] == source
    assert events(engine, "resource.policy_changed", primary)[-1]["data"]["to"] == target
    if target == "AUTO_RENEW":
        # Modifying without a count keeps it; enabling without one means unlimited.
        remaining = 3 if source == "AUTO_RENEW" else None
        assert changed["auto_renew"] == {"period": M2, "remaining": remaining,
                                         "next_attempt_at": at(2024, 1, 25, 3)}
    else:
        assert changed["auto_renew"] is None
    assert [r["resource_id"] for r in engine.iter_renewals("a1", target)] == [primary]
    assert all(engine.renewals("a1", tab)["resources"] == [] for tab in POLICIES if tab != target)
    assert resource(engine, primary)["status"] == "IN_USE"  # a policy changes no period


def test_auto_renew_settings(bundle):
    engine, primary, bound = bundle
    [first] = engine.resources_policy_set("customer", "a1", [primary], "AUTO_RENEW",
                                          auto_renew_times=5)["resources"]
    assert first["auto_renew"]["period"] == M1  # one unit of the purchase period
    assert first["auto_renew"]["remaining"] == 5
    before = world(engine, [primary, bound])
    with pytest.raises(errors.InvalidArgument) as info:
        engine.resources_policy_set("customer", "a1", [primary], "AUTO_RENEW", auto_renew_times=100)
    assert info.value.reason == "out_of_range"
    with pytest.raises(errors.InvalidArgument):
        engine.resources_policy_set("customer", "a1", [primary], "AUTO_RENEW", auto_renew_times=-1)
    # Period and count belong to AUTO_RENEW only.
    with pytest.raises(errors.InvalidArgument):
        engine.resources_policy_set("customer", "a1", [primary], "MANUAL", auto_renew_times=1)
    with pytest.raises(errors.InvalidArgument):
        engine.resources_policy_set("customer", "a1", [primary], "NO_RENEW", auto_renew_period=M1)
    with pytest.raises(errors.InvalidArgument):
        engine.resources_policy_set("customer", "a1", [primary], "SOMETIMES")
    refused(lambda: engine.resources_policy_set("customer", "a1", [primary], "AUTO_RENEW",
                                                auto_renew_period=Y1), "period_not_allowed")
    refused(lambda: engine.resources_policy_set("customer", "a1", [bound], "NO_RENEW"), "not_primary")
    assert world(engine, [primary, bound]) == before

    modified = engine.resources_policy_set("customer", "a1", [primary], "AUTO_RENEW",
                                           auto_renew_period=M3)["resources"][0]["auto_renew"]
    assert (modified["period"], modified["remaining"]) == (M3, 5)
    modified = engine.resources_policy_set("customer", "a1", [primary], "AUTO_RENEW",
                                           auto_renew_times=99)["resources"][0]["auto_renew"]
    assert (modified["period"], modified["remaining"]) == (M3, 99)
    unlimited = engine.resources_policy_set("customer", "a1", [primary], "AUTO_RENEW",
                                            auto_renew_times=0)["resources"][0]["auto_renew"]
    assert (unlimited["period"], unlimited["remaining"]) == (M3, None)
    # Turned off and on again: the defaults, not the old settings.
    engine.resources_policy_set("customer", "a1", [primary], "MANUAL")
    again = engine.resources_policy_set("customer", "a1", [primary], "AUTO_RENEW")["resources"][0]
    assert again["auto_renew"]["period"] == M1 and again["auto_renew"]["remaining"] is None


def test_policy_set_is_all_or_nothing_and_idempotent(bundle):
    engine, primary, bound = bundle
    prepaid(engine, "plain", auto_renew_supported=False, to_on_demand_supported=False)
    [other] = buy(engine, "plain")
    before = world(engine, [primary, bound, other])
    refused(lambda: engine.resources_policy_set("customer", "a1", [primary, other], "AUTO_RENEW"),
            "auto_renew_not_supported")
    refused(lambda: engine.resources_policy_set("customer", "a1", [primary, other], "TO_ON_DEMAND"),
            "to_on_demand_not_supported")
    with pytest.raises(errors.NotFound):
        engine.resources_policy_set("customer", "a1", [primary, "RS999999999999"], "NO_RENEW")
    assert world(engine, [primary, bound, other]) == before

    first = engine.resources_policy_set("customer", "a1", [primary, other], "NO_RENEW",
                                        idempotency_key="p-1")
    assert [r["expiry_policy"] for r in first["resources"]] == ["NO_RENEW", "NO_RENEW"]
    engine.advance_clock(60)
    assert engine.resources_policy_set("customer", "a1", [primary, other], "NO_RENEW",
                                       idempotency_key="p-1") == first
    assert len(events(engine, "resource.policy_changed")) == 2
    with pytest.raises(errors.Conflict):
        engine.resources_policy_set("customer", "a1", [primary, other], "MANUAL",
                                    idempotency_key="p-1")


def test_off_sale_rules(bundle):
    engine, primary, _ = bundle
    prepaid(engine, "evs-2")
    [auto] = buy(engine, "evs-2")
    [no_renew] = buy(engine, "evs-2")
    [manual] = buy(engine, "evs-2")
    engine.resources_policy_set("customer", "a1", [auto], "AUTO_RENEW")
    engine.resources_policy_set("customer", "a1", [no_renew], "NO_RENEW")
    prepaid(engine, "evs-2", on_sale=False)
    before = world(engine, [auto, no_renew, manual])
    # No new auto-renewal, no change to one, no leaving NO_RENEW for renewal, no renewal.
    refused(lambda: engine.resources_policy_set("customer", "a1", [manual], "AUTO_RENEW"),
            "product_off_sale")
    refused(lambda: engine.resources_policy_set("customer", "a1", [auto], "AUTO_RENEW",
                                                auto_renew_times=2), "product_off_sale")
    refused(lambda: engine.resources_policy_set("customer", "a1", [no_renew], "MANUAL"),
            "product_off_sale")
    refused(lambda: engine.resources_policy_set("customer", "a1", [no_renew], "AUTO_RENEW"),
            "product_off_sale")
    refused(lambda: engine.resources_renew("customer", "a1", [manual]), "product_off_sale")
    assert world(engine, [auto, no_renew, manual]) == before
    # Giving up renewal is still possible...
    assert engine.resources_policy_set("customer", "a1", [manual], "NO_RENEW")["resources"][0][
        "expiry_policy"] == "NO_RENEW"
    # ...and an auto-renewal enabled before keeps working.
    assert run(engine, at(2024, 1, 25, 3))["auto_renewed"] == 1
    assert resource(engine, auto)["expire_at"] == at(2024, 3, 1, 23, 59, 59)


# -- TO_ON_DEMAND ---------------------------------------------------------------------

def test_conversion_at_expiry_cancels_the_pending_renewal(bundle):
    engine, primary, bound = bundle
    engine.set_clock(at(2024, 1, 28, 10))
    pending = engine.resources_renew("customer", "a1", [primary], period=M1)["order"]
    engine.resources_policy_set("customer", "a1", [primary], "TO_ON_DEMAND")
    refused(lambda: engine.resources_renew("customer", "a1", [primary]), "pending_order_exists")
    assert run(engine, at(2024, 2, 1, 23, 59, 59))["converted"] == 0
    counts = run(engine, at(2024, 2, 2, 0))
    assert counts["converted"] == 1 and counts["expired"] == 0
    cancelled = order(engine, pending["order_id"])
    assert cancelled["status"] == "CANCELLED" and cancelled["cancel_reason"] == "RESOURCE_CONVERTED"
    for rid in (primary, bound):
        converted = resource(engine, rid)
        assert converted["status"] == "IN_USE" and converted["billing_mode"] == "ON_DEMAND"
        assert converted["expire_at"] is None
    [event] = events(engine, "resource.converted", primary)
    assert event["data"] == {"converted_at": at(2024, 2, 2), "billing_mode": "ON_DEMAND",
                             "order_id": event["data"]["order_id"]}
    conversion = order(engine, event["data"]["order_id"])
    assert conversion["type"] == "PREPAID_TO_ONDEMAND"
    assert [line["resource_id"] for line in conversion["lines"]] == [primary, bound]
    # Pay-per-use now: off the renewal view, not renewable, no further jobs.
    assert engine.renewals("a1", "TO_ON_DEMAND")["resources"] == []
    refused(lambda: engine.resources_renew("customer", "a1", [primary]), "not_prepaid")
    assert run(engine, at(2024, 3, 1))["processed"] == 0
    assert engine.account_get("a1")["account"]["cash_balance_fen"] == 1_000_000 - 13_000
    assert_verified(engine)


def test_to_on_demand_needs_a_resource_in_use(bundle):
    engine, primary, _ = bundle
    run(engine, at(2024, 2, 2, 3))
    assert resource(engine, primary)["status"] == "EXPIRED"
    refused(lambda: engine.resources_policy_set("customer", "a1", [primary], "TO_ON_DEMAND"),
            "policy_not_applicable")


def test_to_on_demand_needs_a_pay_per_use_price(bundle):
    engine, primary, bound = bundle
    prepaid(engine, "no-price", hourly=None)
    [unpriced] = buy(engine, "no-price")
    before = world(engine, [primary, bound, unpriced])
    error = refused(lambda: engine.resources_policy_set("customer", "a1", [unpriced], "TO_ON_DEMAND"),
                    "to_on_demand_not_supported")
    assert "no-price" in error.message
    # All or nothing: the priced primary in the same request is not converted either.
    refused(lambda: engine.resources_policy_set("customer", "a1", [primary, unpriced], "TO_ON_DEMAND"),
            "to_on_demand_not_supported")
    assert world(engine, [primary, bound, unpriced]) == before
    # Every other policy is still open to it.
    for policy in ("AUTO_RENEW", "NO_RENEW", "MANUAL"):
        engine.resources_policy_set("customer", "a1", [unpriced], policy)
    # A price per unit (counted usage) is a pay-per-use price as well.
    prepaid(engine, "per-unit", hourly=None, unit_price_microfen=50_000)
    [counted] = buy(engine, "per-unit")
    [changed] = engine.resources_policy_set("customer", "a1", [counted], "TO_ON_DEMAND")["resources"]
    assert changed["expiry_policy"] == "TO_ON_DEMAND"


def test_converted_resources_are_rated_at_the_hourly_price(bundle):
    engine, primary, bound = bundle
    engine.resources_policy_set("customer", "a1", [primary], "TO_ON_DEMAND")
    assert run(engine, at(2024, 2, 2, 3))["converted"] == 1
    assert resource(engine, primary)["billing_mode"] == "ON_DEMAND"
    before = engine.account_get("a1")["account"]["cash_balance_fen"]
    # Two hours at 5 fen an hour after the conversion; usage before it is refused.
    response = engine.usage_report("meter", "a1", [{"usage_id": "after", "resource_id": primary,
                                                    "quantity": 1, "start": at(2024, 2, 2),
                                                    "end": at(2024, 2, 2, 2)}])
    assert response["charged_fen"] == 10
    assert engine.account_get("a1")["account"]["cash_balance_fen"] == before - 10
    [event] = events(engine, "resource.converted", primary)
    assert event["data"]["converted_at"] == at(2024, 2, 2)
    # Usage before the resource existed is refused.
    with pytest.raises(errors.InvalidArgument) as info:
        engine.usage_report("meter", "a1", [{"usage_id": "early", "resource_id": primary, "quantity": 1,
                                             "start": at(2023, 12, 1), "end": at(2023, 12, 1, 1)}])
    assert info.value.reason == "invalid_window"
    assert_verified(engine)


def test_usage_in_the_prepaid_period_of_a_converted_resource_is_not_charged(bundle):
    engine, primary, _ = bundle
    engine.resources_policy_set("customer", "a1", [primary], "TO_ON_DEMAND")
    run(engine, at(2024, 2, 2, 3))
    before = engine.account_get("a1")["account"]["cash_balance_fen"]
    try:  # refused (invalid_window) or rated at 0 would both be right
        engine.usage_report("meter", "a1", [{"usage_id": "paid-already", "resource_id": primary,
                                             "quantity": 1, "start": at(2024, 1, 20),
                                             "end": at(2024, 1, 20, 2)}])
    except errors.BillingError:
        pass
    # Today: charged 10 fen for two hours of January, which the monthly price paid.
    assert engine.account_get("a1")["account"]["cash_balance_fen"] == before


def test_to_on_demand_needs_a_price_for_bound_resources_too(fast_engine):
    engine = fast_engine
    customer(engine)
    prepaid(engine, "evs-np", hourly=None)
    prepaid(engine, "ecs-np", monthly=10_000, product_type="ECS", bound_products=["evs-np"])
    primary, bound = buy(engine, "ecs-np")
    before = world(engine, [primary, bound])
    try:
        engine.resources_policy_set("customer", "a1", [primary], "TO_ON_DEMAND")
        reason = None
    except errors.Refused as exc:
        reason = exc.reason
    # Today the policy is accepted, both resources convert at expiry, and the bound one's
    # usage cannot be rated.
    assert reason == "to_on_demand_not_supported"
    assert world(engine, [primary, bound]) == before


# -- bound resources ------------------------------------------------------------------

def test_bound_resources_follow_their_primary(bundle):
    engine, primary, bound = bundle
    before = world(engine, [primary, bound])
    refused(lambda: engine.resources_renew("customer", "a1", [bound]), "not_primary")
    refused(lambda: engine.resources_policy_set("customer", "a1", [bound], "AUTO_RENEW"), "not_primary")
    assert world(engine, [primary, bound]) == before

    renewal = engine.resources_renew("customer", "a1", [primary], period=M3)["order"]
    assert [(l["product_id"], l["relation"], l["period"]) for l in renewal["lines"]] == [
        ("ecs-b", None, M3), ("evs-1", "BOUND", M3)]
    assert renewal["amounts"]["amount_due_fen"] == 30_000 + 9_000
    engine.order_pay("customer", "a1", renewal["order_id"])
    for rid in (primary, bound):
        assert resource(engine, rid)["expire_at"] == at(2024, 5, 1, 23, 59, 59)
    # The bound resource is listed under its primary, never on its own.
    [row] = engine.renewals("a1", "MANUAL")["resources"]
    assert row["resource_id"] == primary
    assert [b["resource_id"] for b in row["bound_resources"]] == [bound]

    engine.resources_policy_set("customer", "a1", [primary], "AUTO_RENEW")
    assert run(engine, at(2024, 4, 24, 3))["auto_renewed"] == 1
    [auto] = events(engine, "resource.auto_renewed", primary)
    assert [l["product_id"] for l in order(engine, auto["data"]["order_id"])["lines"]] == ["ecs-b", "evs-1"]
    for rid in (primary, bound):
        assert resource(engine, rid)["expire_at"] == at(2024, 6, 1, 23, 59, 59)

    engine.resources_policy_set("customer", "a1", [primary], "NO_RENEW")
    run(engine, at(2024, 6, 2, 3))
    assert [resource(engine, rid)["status"] for rid in (primary, bound)] == ["EXPIRED", "EXPIRED"]
    assert len(events(engine, "resource.expired")) == 1  # one event for the group
    run(engine, at(2024, 6, 9, 3))
    assert [resource(engine, rid)["status"] for rid in (primary, bound)] == ["FROZEN", "FROZEN"]
    run(engine, at(2024, 6, 16, 3))
    assert [resource(engine, rid)["status"] for rid in (primary, bound)] == ["RELEASED", "RELEASED"]
    [released] = events(engine, "resource.released", primary)
    assert released["data"]["resource_ids"] == [primary, bound]
    assert_verified(engine)


def test_bound_resources_fall_back_to_manual_with_their_primary(bundle):
    engine, primary, bound = bundle
    engine.resources_policy_set("customer", "a1", [primary], "AUTO_RENEW", auto_renew_times=1)
    assert resource(engine, bound)["expiry_policy"] == "AUTO_RENEW"
    assert run(engine, at(2024, 1, 25, 3))["auto_renewed"] == 1
    assert resource(engine, primary)["expiry_policy"] == "MANUAL"
    assert resource(engine, bound)["expiry_policy"] == "MANUAL"


# -- release --------------------------------------------------------------------------

def test_release_expired_and_frozen_resources(bundle):
    engine, primary, bound = bundle
    prepaid(engine, "evs-2")
    [frozen] = buy(engine, "evs-2")
    [in_use] = buy(engine, "evs-2", period=M3)
    run(engine, at(2024, 2, 2, 3))
    engine.set_clock(at(2024, 2, 5))
    pending = engine.resources_renew("customer", "a1", [frozen], period=M1)["order"]
    run(engine, at(2024, 2, 9, 3))
    assert resource(engine, primary)["status"] == "FROZEN"
    assert resource(engine, frozen)["status"] == "FROZEN"
    ids = [primary, bound, frozen, in_use]

    before = world(engine, ids)
    refused(lambda: engine.resources_release("customer", "a1", [in_use]), "not_releasable")
    refused(lambda: engine.resources_release("customer", "a1", [primary, in_use]), "not_releasable")
    refused(lambda: engine.resources_release("customer", "a1", [bound]), "not_primary")
    with pytest.raises(errors.NotFound):
        engine.resources_release("customer", "a1", ["RS999999999999"])
    assert world(engine, ids) == before
    engine.account_put("kyc", "a1", freeze="POLICE")
    before = world(engine, ids)
    refused(lambda: engine.resources_release("customer", "a1", [primary]), "police_frozen")
    assert world(engine, ids) == before
    engine.account_put("kyc", "a1", freeze="NONE", realname_verified=False)
    before = world(engine, ids)
    refused(lambda: engine.resources_release("customer", "a1", [primary]), "not_realname_verified")
    assert world(engine, ids) == before
    engine.account_put("kyc", "a1", realname_verified=True)

    engine.advance_clock(60)
    released = engine.resources_release("customer", "a1", [primary, frozen])["resources"]
    assert sorted(r["resource_id"] for r in released) == sorted([primary, bound, frozen])
    for rid in (primary, bound, frozen):
        gone = resource(engine, rid)
        assert gone["status"] == "RELEASED" and gone["ended_at"] == at(2024, 2, 9, 3, 1)
    assert resource(engine, in_use)["status"] == "IN_USE"
    reasons = {e["subject_id"]: e["data"] for e in events(engine, "resource.released")}
    assert reasons[primary] == {"reason": "CUSTOMER", "resource_ids": [primary, bound]}
    assert reasons[frozen] == {"reason": "CUSTOMER", "resource_ids": [frozen]}
    cancelled = order(engine, pending["order_id"])
    assert cancelled["status"] == "CANCELLED" and cancelled["cancel_reason"] == "RESOURCE_DELETED"
    # Released resources need nothing more from the scheduler and cannot be released again.
    assert run(engine, at(2024, 3, 1))["released"] == 0
    refused(lambda: engine.resources_release("customer", "a1", [frozen]), "not_releasable")
    assert_verified(engine)


# -- refusals of renewal --------------------------------------------------------------

def _refusal_case(engine, case):
    """Sets up one refusal: (resource ids, renew options)."""
    prepaid(engine, "evs-1")
    if case == "not_primary":
        prepaid(engine, "ecs-b", monthly=10_000, product_type="ECS", bound_products=["evs-1"])
        return [buy(engine, "ecs-b")[1]], {}
    if case == "not_prepaid":
        engine.product_put("ops", {"product_id": "od", "product_type": "ECS",
                                   "billing_mode": "ON_DEMAND", "hourly_price_microfen": 10})
        [rid] = [r["resource_id"] for r in engine.order_create(
            "buyer", "a1", [{"product_id": "od"}])["order"]["resources"]]
        engine.resource_report("host", "a1", [{"resource_id": rid, "outcome": "SUCCEEDED"}])
        return [rid], {}
    if case == "not_renewable_status":
        return buy(engine, "evs-1", provision=False), {}
    if case == "supplements_provisioning":
        prepaid(engine, "ecs-b", monthly=10_000, product_type="ECS", bound_products=["evs-1"])
        primary, _ = buy(engine, "ecs-b", provision=False)
        engine.resource_report("host", "a1", [{"resource_id": primary, "outcome": "SUCCEEDED"}])
        return [primary], {}
    [rid] = buy(engine, "evs-1")
    if case == "pending_order_exists":
        engine.resources_renew("customer", "a1", [rid])
    elif case == "converting_to_on_demand":
        engine.resources_policy_set("customer", "a1", [rid], "TO_ON_DEMAND")
    elif case == "product_off_sale":
        prepaid(engine, "evs-1", on_sale=False)
    elif case == "not_realname_verified":
        engine.account_put("kyc", "a1", realname_verified=False)
    elif case == "period_not_allowed":
        return [rid], {"period": Y1}  # monthly prices only
    elif case == "unified_requires_in_use":
        run(engine, at(2024, 2, 2, 3))
        return [rid], {"unified_expiry": True}
    return [rid], {}


@pytest.mark.parametrize("case", [
    "not_primary", "not_prepaid", "not_renewable_status", "supplements_provisioning",
    "pending_order_exists", "converting_to_on_demand", "product_off_sale",
    "not_realname_verified", "period_not_allowed", "unified_requires_in_use"])
def test_renewal_refusals_change_nothing(fast_engine, case):
    engine = fast_engine
    customer(engine)
    ids, options = _refusal_case(engine, case)
    before = world(engine, ids)
    refused(lambda: engine.resources_renew("customer", "a1", ids, **options), case)
    # auto_pay does not turn a refusal into a failed payment.
    refused(lambda: engine.resources_renew("customer", "a1", ids, auto_pay=True, **options), case)
    assert world(engine, ids) == before


def test_renewal_bad_requests(fast_engine):
    engine = fast_engine
    customer(engine)
    customer(engine, "a2")
    prepaid(engine, "evs-1")
    ids = [buy(engine, "evs-1")[0] for _ in range(11)]
    before = world(engine, ids)
    assert engine.config()["max_batch_renew"] == 10
    with pytest.raises(errors.InvalidArgument) as info:
        engine.resources_renew("customer", "a1", ids)
    assert info.value.reason == "too_many_items"
    for bad in ([], [ids[0], ids[0]]):
        with pytest.raises(errors.InvalidArgument):
            engine.resources_renew("customer", "a1", bad)
    with pytest.raises(errors.InvalidArgument):
        engine.resources_renew("customer", "a1", ids[:1], period={"unit": "WEEK", "count": 1})
    with pytest.raises(errors.NotFound):
        engine.resources_renew("customer", "a2", ids[:1])  # another account's resource
    with pytest.raises(errors.NotFound):
        engine.resources_release("customer", "a2", ids[:1])
    with pytest.raises(errors.NotFound):
        engine.resources_policy_set("customer", "a2", ids[:1], "NO_RENEW")
    assert world(engine, ids) == before
    assert engine.renewals("a2", "MANUAL")["resources"] == []


def test_renewing_several_makes_one_combined_order(fast_engine):
    engine = fast_engine
    customer(engine)
    prepaid(engine, "evs-1", yearly=30_000)
    prepaid(engine, "ecs-1", monthly=10_000, yearly=100_000, product_type="ECS")
    prepaid(engine, "monthly-only", monthly=2_000)
    evs, ecs, monthly = buy(engine, "evs-1")[0], buy(engine, "ecs-1")[0], buy(engine, "monthly-only")[0]

    # The default length: a year when every product offers one...
    first = engine.resources_renew("customer", "a1", [evs, ecs], idempotency_key="r-1")
    combined = first["order"]
    assert combined["is_combined"] is True and len(combined["sub_orders"]) == 2
    assert {line["period"]["unit"] for line in combined["lines"]} == {"YEAR"}
    assert combined["amounts"]["amount_due_fen"] == 130_000
    engine.advance_clock(60)
    assert engine.resources_renew("customer", "a1", [evs, ecs], idempotency_key="r-1") == first
    with pytest.raises(errors.Conflict):
        engine.resources_renew("customer", "a1", [evs], idempotency_key="r-1")
    pending = {r["resource_id"]: r["pending_order_id"] for r in engine.iter_renewals("a1", "MANUAL")}
    assert pending[evs] in {s["order_id"] for s in combined["sub_orders"]}
    assert pending[ecs] in {s["order_id"] for s in combined["sub_orders"]}
    assert pending[monthly] is None
    engine.orders_cancel("customer", "a1", [combined["order_id"]])

    # ...else the shortest length they share.
    mixed = engine.resources_renew("customer", "a1", [evs, monthly], auto_pay=True)
    assert mixed["payment"]["succeeded"] is True
    assert {line["period"]["unit"] for line in mixed["order"]["lines"]} == {"MONTH"}
    assert mixed["order"]["status"] == "COMPLETED"
    assert {s["status"] for s in mixed["order"]["sub_orders"]} == {"COMPLETED"}
    assert resource(engine, evs)["expire_at"] == at(2024, 3, 1, 23, 59, 59)
    assert resource(engine, monthly)["expire_at"] == at(2024, 3, 1, 23, 59, 59)
    assert resource(engine, ecs)["expire_at"] == at(2024, 2, 1, 23, 59, 59)

    # auto_pay without the money leaves the order pending.
    engine.account_put("kyc", "a2", type="ENTERPRISE", realname_verified=True, level="V3")
    engine.topup("pay", "a2", 2_000, "a2-seed")
    [poor] = buy(engine, "monthly-only", account_id="a2")
    response = engine.resources_renew("customer", "a2", [poor], auto_pay=True)
    assert response["payment"]["succeeded"] is False
    assert response["payment"]["reason"] == "insufficient_funds"
    assert response["order"]["status"] == "PENDING_PAYMENT"
    assert_verified(engine)


# -- the renewal view -----------------------------------------------------------------

def test_renewal_view(fast_engine):
    engine = fast_engine
    customer(engine)
    prepaid(engine, "evs-1", yearly=30_000)
    prepaid(engine, "ecs-b", monthly=10_000, product_type="ECS", bound_products=["evs-1"])
    # Expiries: 02-01 (three, bought together), 03-01, 04-01, 2025-01-01.
    m1 = [buy(engine, "evs-1")[0] for _ in range(2)]
    primary, bound = buy(engine, "ecs-b")
    [m2] = buy(engine, "evs-1", period=M2)
    [m3] = buy(engine, "evs-1", period=M3)
    [y1] = buy(engine, "evs-1", period=Y1)
    [auto] = buy(engine, "evs-1")
    [no_renew] = buy(engine, "evs-1", period=M2)
    buy(engine, "evs-1", provision=False)  # pending provisioning: not in the view
    engine.resources_policy_set("customer", "a1", [auto], "AUTO_RENEW")
    engine.resources_policy_set("customer", "a1", [no_renew], "NO_RENEW")
    manual = m1 + [primary, m2, m3, y1]

    rows = list(engine.iter_renewals("a1", "MANUAL"))
    assert [r["resource_id"] for r in rows] == manual  # soonest expiry, then purchase order
    expiries = [r["expire_at"] for r in rows]
    assert expiries == sorted(expiries)
    assert [r["resource_id"] for r in engine.iter_renewals("a1", "AUTO_RENEW")] == [auto]
    assert [r["resource_id"] for r in engine.iter_renewals("a1", "NO_RENEW")] == [no_renew]
    assert engine.renewals("a1", "TO_ON_DEMAND") == {
        "schema_version": 1, "resources": [], "next_cursor": None, "has_more": False}
    assert [b["resource_id"] for b in rows[2]["bound_resources"]] == [bound]
    assert all(r["bound_resources"] == [] for r in rows if r["resource_id"] != primary)

    # Cursor paging: every row once, in order.
    pages, cursor = [], None
    while True:
        page = engine.renewals("a1", "MANUAL", after=cursor, limit=2)
        pages.append([r["resource_id"] for r in page["resources"]])
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert pages == [manual[0:2], manual[2:4], manual[4:6]]
    assert [r["resource_id"] for r in engine.iter_renewals("a1", "MANUAL", limit=1)] == manual
    assert [r["resource_id"] for r in engine.iter_renewals("a1", "MANUAL", limit=100)] == manual

    def ids(**filters):
        return [r["resource_id"] for r in engine.iter_renewals("a1", "MANUAL", **filters)]

    # The expiry window is inclusive at both ends.
    feb, mar, apr = at(2024, 2, 1, 23, 59, 59), at(2024, 3, 1, 23, 59, 59), at(2024, 4, 1, 23, 59, 59)
    assert ids(expire_from=mar, expire_to=apr) == [m2, m3]
    assert ids(expire_from=feb + 1, expire_to=apr - 1) == [m2]
    assert ids(expire_to=feb) == m1 + [primary]
    assert ids(expire_from=apr + 1) == [y1]
    assert ids(expire_from=at(2030, 1, 1)) == []
    assert ids(resource_id=m3) == [m3]
    assert ids(resource_id=bound) == []  # bound resources appear under their primary
    assert ids(resource_id=auto) == []  # another tab
    assert ids(order_id=resource(engine, m2)["order_id"]) == [m2]
    assert ids(status="IN_USE") == manual and ids(status="EXPIRED") == []

    # Pending renewal orders: shown, or hidden on request.
    renewal = engine.resources_renew("customer", "a1", [m2, y1], period=M1)["order"]
    rows = {r["resource_id"]: r for r in engine.iter_renewals("a1", "MANUAL")}
    assert rows[m2]["pending_order_id"] == renewal["sub_orders"][0]["order_id"]
    assert rows[y1]["pending_order_id"] == renewal["sub_orders"][1]["order_id"]
    assert [rid for rid, row in rows.items() if row["pending_order_id"]] == [m2, y1]
    assert ids(hide_pending_orders=True) == [rid for rid in manual if rid not in (m2, y1)]
    assert ids(hide_pending_orders=False) == manual
    assert ids(order_id=renewal["sub_orders"][0]["order_id"]) == [m2]
    engine.orders_cancel("customer", "a1", [renewal["order_id"]])
    assert ids(hide_pending_orders=True) == manual

    # Status: the first month's resources have expired.
    run(engine, at(2024, 2, 2, 3))
    assert ids(status="EXPIRED") == m1 + [primary]
    assert ids(status="IN_USE") == [m2, m3, y1]
    assert ids(status="FROZEN") == []
    assert ids(status="EXPIRED", limit=1) == m1 + [primary]


@pytest.mark.parametrize("request_fields, reason", [
    ({"tab": "SOMETIMES"}, "unknown_value"),
    ({"tab": "MANUAL", "status": "RELEASED"}, "unknown_value"),
    ({"tab": "MANUAL", "limit": 0}, "out_of_range"),
    ({"tab": "MANUAL", "limit": 101}, "out_of_range"),
    ({"tab": "MANUAL", "after": "not-a-cursor"}, "invalid_cursor"),
    ({"tab": "MANUAL", "colour": "red"}, "unknown_field"),
    ({}, "missing_field"),
])
def test_renewal_view_refuses_bad_requests(fast_engine, request_fields, reason):
    engine = fast_engine
    customer(engine)
    with pytest.raises(errors.InvalidArgument) as info:
        engine.call("renewals_list", {"account_id": "a1", **request_fields})
    assert info.value.reason == reason


# -- the scheduler from several processes ---------------------------------------------

SCHEDULER_START = (2024, 1, 21)  # the first scheduled day; purchases end the day before
SCHEDULER_DAYS = 100


def _scheduler_worker(path, barrier, inbox, outbox):
    """A long-lived spawned process: for every instant it receives, opens its own engine
    with a manual clock at that instant, waits for its peer, and runs the scheduler until
    nothing is left. Replies with the responses (or the error)."""
    while True:
        now = inbox.get()
        if now is None:
            return
        try:
            with billing.Engine(path, clock="manual", now=now, busy_timeout_ms=60_000) as engine:
                barrier.wait(timeout=60)
                responses = []
                while True:
                    responses.append(engine.scheduler_run("scheduler"))
                    if not responses[-1]["has_more"]:
                        break
            outbox.put(("ok", responses))
        except Exception as exc:  # reported to the parent
            outbox.put(("error", repr(exc)))


def _expected_auto_renewals(bought_day, last_run):
    """Renewals of a monthly resource bought 2024-01-<bought_day> with the default
    deduction days (7): one at 03:00 seven days before each expiry, up to `last_run`."""
    count, month = 0, 2
    while True:
        expiry = datetime.date(2024 + (month - 1) // 12, (month - 1) % 12 + 1, bought_day)
        attempt = datetime.datetime.combine(expiry - datetime.timedelta(days=7), datetime.time(3),
                                            tzinfo=BUSINESS_TZ)
        if attempt.timestamp() > last_run:
            return count
        count, month = count + 1, month + 1


def test_scheduler_from_two_processes_has_the_effect_of_one(fast_engine, db_path):
    engine = fast_engine
    customer(engine, cash=100_000_000)
    prepaid(engine, "evs-1")
    prepaid(engine, "ecs-b", monthly=10_000, product_type="ECS", bound_products=["evs-1"])
    bought = {}  # primary id -> (day of January, auto-renewing, bound id)
    for index in range(20):
        day = 1 + index
        engine.set_clock(at(2024, 1, day, 10, 30))
        ids = buy(engine, "ecs-b" if index % 5 == 0 else "evs-1")
        auto = index % 2 == 0
        if auto:
            engine.resources_policy_set("customer", "a1", [ids[0]], "AUTO_RENEW")
        bought[ids[0]] = (day, auto, ids[1] if len(ids) > 1 else None)
    engine.close()

    first = at(*SCHEDULER_START, 3)
    instants = [first + n * DAY for n in range(SCHEDULER_DAYS)]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    inboxes, outbox = [context.Queue() for _ in range(2)], context.Queue()
    workers = [context.Process(target=_scheduler_worker, args=(db_path, barrier, inbox, outbox),
                               daemon=True) for inbox in inboxes]
    for worker in workers:
        worker.start()
    reported = collections.Counter()
    try:
        for now in instants:
            for inbox in inboxes:
                inbox.put(now)
            for _ in workers:
                status, responses = outbox.get(timeout=120)
                assert status == "ok", responses
                for response in responses:
                    assert response["now"] == now
                    reported.update(response["resources"])
    finally:
        for inbox in inboxes:
            inbox.put(None)
        for worker in workers:
            worker.join(timeout=30)
    assert all(worker.exitcode == 0 for worker in workers)

    with billing.Engine(db_path) as engine:
        per_resource = collections.defaultdict(collections.Counter)
        reminders = collections.defaultdict(list)
        renewed_to = collections.defaultdict(list)
        for event in engine.iter_events(account_id="a1", limit=1000):
            per_resource[event["subject_id"]][event["type"]] += 1
            if event["type"] == "resource.expiry_reminder":
                reminders[event["subject_id"]].append(event["data"]["days_before"])
            if event["type"] == "resource.auto_renewed":
                renewed_to[event["subject_id"]].append(event["data"]["expire_at"])
        ledger = collections.Counter(e["kind"] for e in engine.iter_ledger("a1", limit=100))

        expected_renewals = 0
        for rid, (day, auto, bound) in bought.items():
            counts = per_resource[rid]
            if auto:
                cycles = _expected_auto_renewals(day, instants[-1])
                assert cycles >= 3
                expected_renewals += cycles
                # Once per cycle, each to the next month's expiry.
                assert counts["resource.auto_renewed"] == counts["resource.renewed"] == cycles, rid
                assert renewed_to[rid] == [at(2024, 2 + n, day, 23, 59, 59)
                                           for n in range(1, cycles + 1)], rid
                assert counts["resource.auto_renew_failed"] == 0
                assert reminders[rid] == []
                assert counts["resource.expired"] == counts["resource.released"] == 0
                assert resource(engine, rid)["status"] == "IN_USE"
                if bound:
                    assert resource(engine, bound)["expire_at"] == resource(engine, rid)["expire_at"]
            else:
                # Manual: every reminder once, then expired, frozen and released once.
                assert reminders[rid] == [15, 7, 3, 1], rid
                for kind in ("resource.expired", "resource.frozen", "resource.released"):
                    assert counts[kind] == 1, (rid, kind)
                assert counts["resource.auto_renewed"] == 0
                assert resource(engine, rid)["status"] == "RELEASED"
                if bound:
                    assert resource(engine, bound)["status"] == "RELEASED"
        assert ledger["AUTO_RENEWAL"] == expected_renewals
        renewal_orders = {o["combined_order_id"] or o["order_id"]
                          for o in engine.iter_orders("a1", limit=100) if o["type"] == "RENEW"}
        assert len(renewal_orders) == expected_renewals
        # What the processes reported adds up to what happened, so neither did it twice.
        assert reported["auto_renewed"] == expected_renewals
        assert reported["reminders"] == 40
        assert reported["expired"] == reported["frozen"] == reported["released"] == 10
        assert reported["auto_renew_failed"] == reported["converted"] == 0
        assert_verified(engine)


# -- issue 12 item 12: the renewal price before renewing ---------------------------------

AMOUNT_KEYS = ("list_price_fen", "commercial_discount_fen", "promotion_discount_fen", "discount_coupon_fen",
               "discount_fen", "amount_due_fen", "voucher_fen", "cash_coupon_fen", "stored_value_card_fen",
               "cash_fen", "credit_fen", "paid_amount_fen")


def test_renewal_quote_equals_what_renew_and_pay_charge(fast_engine):
    """The quote (per resource and in total, with the coupons it would take and the new
    expiry) is what billing_resources_renew + billing_order_pay then charge, line by line;
    the quote itself creates nothing and blocks nothing."""
    engine = fast_engine
    customer(engine)
    prepaid(engine, "sys-40", monthly=1_000, yearly=10_000)
    prepaid(engine, "ecs-1", monthly=10_000, yearly=100_000, product_type="ECS", bound_products=["sys-40"])
    prepaid(engine, "evs-1", monthly=3_333, yearly=33_330, promotion_discount_bp=500)
    engine.discount_set("sales", "a1", "ECS", 1_200)
    ecs, disk = buy(engine, "ecs-1")
    [evs] = buy(engine, "evs-1")
    now = engine.now()
    ticket = engine.coupon_issue("ops", "a1", "VOUCHER", now - DAY, now + 90 * DAY, face_value_fen=777,
                                 exclusive_with_discounts=False)["coupon"]["coupon_id"]
    card = engine.coupon_issue("ops", "a1", "CASH_COUPON", now - DAY, now + 90 * DAY,
                               face_value_fen=1_001)["coupon"]["coupon_id"]
    elsewhere = engine.coupon_issue("ops", "a1", "VOUCHER", now - DAY, now + 90 * DAY, face_value_fen=500,
                                    scope={"products": ["not-here"]})["coupon"]["coupon_id"]
    engine.set_clock(at(2024, 1, 20, 9))

    before = world(engine, [ecs, disk, evs])
    quote = engine.renewal_quote("a1", [ecs, evs], period=M2, coupon_ids=[ticket, card])
    assert world(engine, [ecs, disk, evs]) == before  # no order, no event, no audit row
    assert all(r["pending_order_id"] is None for r in engine.iter_renewals("a1", "MANUAL"))
    assert quote["payment"] == {"payable": True} and quote["period"] == M2
    assert [r["resource_id"] for r in quote["resources"]] == [ecs, disk, evs]
    assert [r["primary_resource_id"] for r in quote["resources"]] == [None, ecs, None]
    assert {c["coupon_id"]: c["amount_fen"] for c in quote["coupons"]} == {ticket: 777, card: 1_001}
    applicable = {c["coupon_id"] for c in quote["applicable_coupons"]}
    assert ticket in applicable and card in applicable and elsewhere not in applicable
    for line in quote["resources"]:
        assert line["expire_at"] == at(2024, 2, 1, 23, 59, 59)
        assert line["new_expire_at"] == at(2024, 4, 1, 23, 59, 59)
    total = quote["amounts"]
    assert total["list_price_fen"] == 2 * (10_000 + 1_000 + 3_333)
    assert total["commercial_discount_fen"] == 2_400 and total["promotion_discount_fen"] == 333
    assert total["voucher_fen"] == 777 and total["cash_coupon_fen"] == 1_001
    assert total["amount_due_fen"] - total["voucher_fen"] == total["paid_amount_fen"]
    # The same request again gives the same quote (nothing was used up).
    assert engine.renewal_quote("a1", [ecs, evs], period=M2, coupon_ids=[ticket, card]) == quote

    renewal = engine.resources_renew("customer", "a1", [ecs, evs], period=M2)["order"]
    paid = engine.order_pay("customer", "a1", renewal["order_id"], coupon_ids=[ticket, card])["order"]
    assert {k: paid["amounts"][k] for k in AMOUNT_KEYS} == {k: total[k] for k in AMOUNT_KEYS}
    assert len(paid["lines"]) == len(quote["resources"])
    for line, quoted in zip(paid["lines"], quote["resources"]):
        assert line["product_id"] == quoted["product_id"]
        assert {k: line["amounts"][k] for k in AMOUNT_KEYS} == {k: quoted["amounts"][k] for k in AMOUNT_KEYS}
    for quoted in quote["resources"]:
        assert resource(engine, quoted["resource_id"])["expire_at"] == quoted["new_expire_at"]
    assert_verified(engine)


def test_renewal_quote_for_the_unified_day_and_when_it_cannot_be_paid(fast_engine):
    engine = fast_engine
    customer(engine, cash=60_000)
    prepaid(engine, "ecs-1", monthly=30_000, product_type="ECS")
    engine.account_settings_update("customer", "a1", unified_expiry_day=1)
    engine.set_clock(at(2024, 8, 10, 10))
    [rid] = buy(engine, "ecs-1")
    quote = engine.renewal_quote("a1", [rid], period=M1, unified_expiry=True)
    # §4.4: a month to 10-10, then 22 days at 30 000 × 22 / 31, rounded once.
    [line] = quote["resources"]
    assert line["new_expire_at"] == at(2024, 11, 1, 23, 59, 59) and quote["unified_expiry"] is True
    assert quote["amounts"]["amount_due_fen"] == 51_290
    # 300.00 cash left after buying: the price stands, the payment would be refused.
    assert quote["payment"]["payable"] is False and quote["payment"]["reason"] == "insufficient_funds"
    assert quote["amounts"]["cash_fen"] == 0
    engine.topup("pay", "a1", 30_000, "more")
    payable = engine.renewal_quote("a1", [rid], period=M1, unified_expiry=True)
    assert payable["payment"] == {"payable": True} and payable["amounts"]["cash_fen"] == 51_290
    response = engine.resources_renew("customer", "a1", [rid], period=M1, unified_expiry=True, auto_pay=True)
    assert response["payment"]["succeeded"] is True
    assert {k: response["order"]["amounts"][k] for k in AMOUNT_KEYS} == \
        {k: payable["amounts"][k] for k in AMOUNT_KEYS}
    assert resource(engine, rid)["expire_at"] == line["new_expire_at"]
    # Refused as a renewal is: a pending order blocks the quote too; bad requests are invalid.
    engine.resources_renew("customer", "a1", [rid], period=M1)
    refused(lambda: engine.renewal_quote("a1", [rid]), "pending_order_exists")
    with pytest.raises(errors.InvalidArgument) as bad:
        engine.call("billing_renewal_quote", {"account_id": "a1", "resource_ids": [rid], "actor": "x"})
    assert bad.value.reason == "unknown_field"
    with pytest.raises(errors.NotFound):
        engine.renewal_quote("a1", ["RS-none"])
    assert_verified(engine)
