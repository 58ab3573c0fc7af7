"""Pay-per-use usage and packages (billing_usage_report, billing_usage_list,
billing_packages_list) through Python against the real library: per-second rating settled
per business hour, duplicates and reused usage ids, the OBS example of section 2.4 with two
capacity packages, the deduction order, arrears with grace, freezing and a settling top-up,
and two processes reporting the same records.

Times are business times (+08:00) written with `at()`. Tests start at their own instant on
a second handle of `fast_engine`'s database (`engine_at`): a clock belongs to its handle and
never moves backwards.
"""

import multiprocessing

import pytest

import billing
from billing import errors
from helpers import (DAY, HOUR, M1, M2, START, account, assert_verified, at, audit_count, customer,
                     event_count, events, resource)

# -- helpers --------------------------------------------------------------------------

def product(engine, product_id, product_type, billing_mode="ON_DEMAND", **fields):
    return engine.product_put("catalog", {"product_id": product_id, "product_type": product_type,
                                          "billing_mode": billing_mode, **fields})["product"]


def on_demand(engine, product_id):
    """Orders a pay-per-use resource (nothing to pay) and reports it provisioned now."""
    order = engine.order_create("buyer", "a1", [{"product_id": product_id}])["order"]
    assert order["status"] == "PROCESSING"
    [rid] = [r["resource_id"] for r in order["resources"]]
    engine.resource_report("host", "a1", [{"resource_id": rid, "outcome": "SUCCEEDED"}])
    return rid


def package(engine, product_id, period=M1, **item):
    """Buys a package (auto-paid): it needs no provisioning. Returns its resource id."""
    order = engine.order_create("buyer", "a1", [{"product_id": product_id, "period": period, **item}],
                                auto_pay=True)["order"]
    [rid] = [r["resource_id"] for r in order["resources"]]
    return rid


def record(usage_id, resource_id, quantity, start, end):
    return {"usage_id": usage_id, "resource_id": resource_id, "quantity": quantity,
            "start": start, "end": end}


def lines(engine, resource_id):
    """The resource's usage lines, oldest first."""
    return list(reversed(list(engine.iter_usage("a1", resource_id, limit=1000))))


def world(engine):
    return {"account": account(engine), "ledger": list(engine.iter_ledger("a1")),
            "usage": list(engine.iter_usage("a1")), "coupons": list(engine.iter_coupons("a1", status="ALL")),
            "events": event_count(engine), "audit": audit_count(engine)}


# -- §2.3: per second, settled per hour -----------------------------------------------

def test_per_second_usage_settled_on_the_hour(engine_at):
    """Deployed 08:45:30, deleted 09:30:00 at 12.345678 fen an hour: 870 s in the 08:00 hour
    (2.98 → 3 fen) and 1,800 s in the 09:00 hour (6.17 → 6 fen), each line rounded once."""
    engine = customer(engine_at(at(2023, 3, 10, 8, 45, 30)))
    product(engine, "bw", "EIP", hourly_price_microfen=12_345_678)
    eip = on_demand(engine, "bw")
    assert resource(engine, eip)["billing_mode"] == "ON_DEMAND"
    assert resource(engine, eip)["provisioned_at"] == at(2023, 3, 10, 8, 45, 30)
    engine.set_clock(at(2023, 3, 10, 10))
    cash_before = account(engine)["cash_balance_fen"]
    usage = record("u1", eip, 1, at(2023, 3, 10, 8, 45, 30), at(2023, 3, 10, 9, 30))
    response = engine.usage_report("meter", "a1", [usage])
    assert response["charged_fen"] == 9
    [result] = response["results"]
    assert result["usage_id"] == "u1" and result["status"] == "RATED"
    assert [(l["hour_start"], l["units"], l["covered"], l["overage"], l["charged_fen"])
            for l in result["lines"]] == [(at(2023, 3, 10, 8), 870, 0, 870, 3),
                                          (at(2023, 3, 10, 9), 1_800, 0, 1_800, 6)]
    assert response["account"]["cash_balance_fen"] == cash_before - 9

    settled = lines(engine, eip)
    assert [(l["resource_id"], l["hour_start"], l["unit"], l["units"], l["price_microfen"],
             l["charged_fen"]) for l in settled] == [
        (eip, at(2023, 3, 10, 8), "UNIT_SECONDS", 870, 12_345_678, 3),
        (eip, at(2023, 3, 10, 9), "UNIT_SECONDS", 1_800, 12_345_678, 6)]
    assert [l["paid_by"] for l in settled] == [[{"source": "CASH", "coupon_id": None, "amount_fen": 3}],
                                               [{"source": "CASH", "coupon_id": None, "amount_fen": 6}]]
    usage_entries = [(e["kind"], e["amount_fen"]) for e in engine.iter_ledger("a1") if e["kind"] == "USAGE"]
    assert usage_entries == [("USAGE", -3), ("USAGE", -6)]
    assert account(engine)["cash_balance_fen"] == cash_before - 9

    # A retried report counts once.
    before = world(engine)
    again = engine.usage_report("meter", "a1", [usage])
    assert again["charged_fen"] == 0
    assert [(r["usage_id"], r["status"]) for r in again["results"]] == [("u1", "DUPLICATE")]
    assert list(engine.iter_usage("a1")) == before["usage"]
    assert list(engine.iter_ledger("a1")) == before["ledger"]
    # Another record under the same id is refused and changes nothing.
    before = world(engine)
    with pytest.raises(errors.Conflict) as info:
        engine.usage_report("meter", "a1", [dict(usage, quantity=2)])
    assert info.value.reason == "usage_id_reused"
    with pytest.raises(errors.Conflict):
        engine.usage_report("meter", "a1", [record("u-new", eip, 1, at(2023, 3, 10, 9, 40),
                                                   at(2023, 3, 10, 9, 41)), dict(usage, end=at(2023, 3, 10, 9, 31))])
    assert world(engine) == before

    # More usage in an hour already settled re-rates the whole line, rounded once:
    # 2,700 s ⇒ 9.26 → 9 fen, 3 more than before.
    more = engine.usage_report("meter", "a1", [record("u2", eip, 1, at(2023, 3, 10, 9, 30),
                                                      at(2023, 3, 10, 9, 45))])
    assert more["charged_fen"] == 3
    assert [(l["units"], l["charged_fen"]) for l in lines(engine, eip)] == [(870, 3), (2_700, 9)]
    assert account(engine)["cash_balance_fen"] == cash_before - 12
    assert_verified(engine)


def test_counted_usage_is_rated_per_unit_in_the_hour_of_its_end(engine_at):
    engine = customer(engine_at(at(2024, 2, 20, 9)))
    product(engine, "api", "APIG", unit_price_microfen=50_000)  # 0.05 fen a call
    gateway = on_demand(engine, "api")
    engine.set_clock(at(2024, 2, 20, 12))
    response = engine.usage_report("meter", "a1", [
        record("c1", gateway, 1_000, at(2024, 2, 20, 9, 50), at(2024, 2, 20, 10, 10)),
        record("c2", gateway, 30, at(2024, 2, 20, 10, 20), at(2024, 2, 20, 10, 30))])
    # 1,030 calls in the 10:00 hour: 51.5 → 52 fen, rounded once for the line.
    assert response["charged_fen"] == 52
    [line] = lines(engine, gateway)
    assert (line["hour_start"], line["unit"], line["units"], line["charged_fen"]) == (
        at(2024, 2, 20, 10), "UNITS", 1_030, 52)


def test_usage_list_pages_and_filters(engine_at):
    engine = customer(engine_at(at(2024, 3, 1)))
    product(engine, "vm", "ECS", hourly_price_microfen=1_000_000_000)  # 10.00 an hour
    first, second = on_demand(engine, "vm"), on_demand(engine, "vm")
    engine.set_clock(at(2024, 3, 2))
    engine.usage_report("meter", "a1", [record("a", first, 1, at(2024, 3, 1), at(2024, 3, 1, 3)),
                                        record("b", second, 2, at(2024, 3, 1, 1), at(2024, 3, 1, 2))])
    every = list(engine.iter_usage("a1", limit=1))
    assert [(l["resource_id"], l["hour_start"]) for l in every] == [
        (first, at(2024, 3, 1, 2)), (second, at(2024, 3, 1, 1)), (first, at(2024, 3, 1, 1)),
        (first, at(2024, 3, 1, 0))]
    assert [l["charged_fen"] for l in every] == [1_000, 2_000, 1_000, 1_000]
    assert list(engine.iter_usage("a1", limit=1000)) == every
    page = engine.usage("a1", limit=3)
    assert page["has_more"] is True and len(page["lines"]) == 3
    rest = engine.usage("a1", after=page["next_cursor"], limit=3)
    assert rest["has_more"] is False and rest["lines"] == every[3:]
    assert [l["hour_start"] for l in engine.iter_usage("a1", first)] == [
        at(2024, 3, 1, 2), at(2024, 3, 1, 1), at(2024, 3, 1)]
    window = engine.usage("a1", from_=at(2024, 3, 1, 1), to=at(2024, 3, 1, 1))["lines"]
    assert {l["resource_id"] for l in window} == {first, second}
    assert engine.usage("a1", **{"from": at(2024, 3, 1, 2)})["lines"] == every[:1]
    with pytest.raises(errors.InvalidArgument) as info:
        engine.usage("a1", after="not-a-cursor")
    assert info.value.reason == "invalid_cursor"
    with pytest.raises(TypeError):
        engine.usage("a1", from_=1, **{"from": 2})


def test_bad_usage_is_refused(engine_at):
    engine = customer(engine_at(START))
    engine.account_put("kyc", "a2", type="ENTERPRISE")
    product(engine, "bw", "EIP", hourly_price_microfen=12_345_678)
    product(engine, "evs", "EVS", "PREPAID", monthly_price_fen=1_000)
    eip = on_demand(engine, "bw")
    order = engine.order_create("buyer", "a1", [{"product_id": "evs", "period": M1}], auto_pay=True)["order"]
    [disk] = [r["resource_id"] for r in order["resources"]]
    engine.resource_report("host", "a1", [{"resource_id": disk, "outcome": "SUCCEEDED"}])
    engine.set_clock(START + DAY)
    before = world(engine)
    with pytest.raises(errors.Refused) as info:
        engine.usage_report("meter", "a1", [record("x", disk, 1, START, START + 60)])
    assert info.value.reason == "not_pay_per_use"
    for bad, reason in [(record("x", eip, 1, START + 60, START), "invalid_window"),
                        (record("x", eip, 1, START - 60, START), "invalid_window"),
                        (record("x", eip, -1, START, START + 60), "out_of_range"),
                        (record("x", eip, 100_001, START, START + 60), "out_of_range"),
                        (record("x", eip, 1, START, START + 32 * DAY), "invalid_window")]:
        with pytest.raises(errors.InvalidArgument) as info:
            engine.usage_report("meter", "a1", [bad])
        assert info.value.reason == reason, bad
    with pytest.raises(errors.InvalidArgument) as info:
        engine.usage_report("meter", "a1", [record("x", eip, 1, START, START + 60)] * 2)
    assert info.value.reason == "duplicate_usage"
    with pytest.raises(errors.InvalidArgument):
        engine.usage_report("meter", "a1", [])
    with pytest.raises(errors.NotFound):
        engine.usage_report("meter", "a1", [record("x", "RS999999999999", 1, START, START + 60)])
    with pytest.raises(errors.NotFound):
        engine.usage_report("meter", "a2", [record("x", eip, 1, START, START + 60)])
    assert world(engine) == before


# -- §2.4: packages -------------------------------------------------------------------

def test_package_products_need_their_terms(fast_engine):
    engine = fast_engine
    base = {"product_id": "pk", "product_type": "OBS", "billing_mode": "PACKAGE", "monthly_price_fen": 900}
    terms = {"kind": "CAPACITY", "quota": 100, "applies_to": ["OBS"]}
    for bad, reason in [({}, "missing_field"),
                        ({"package": {**terms, "kind": "VOLUME"}}, "unknown_value"),
                        ({"package": {**terms, "applies_to": []}}, "missing_field"),
                        ({"package": {k: v for k, v in terms.items() if k != "applies_to"}}, "missing_field"),
                        ({"package": {k: v for k, v in terms.items() if k != "quota"}}, "missing_field"),
                        ({"package": {**terms, "quota": 0}}, "out_of_range"),
                        ({"package": {**terms, "reset_anchor": "WEEK"}}, "unknown_value"),
                        ({"package": {**terms, "colour": "red"}}, "unknown_field")]:
        with pytest.raises(errors.InvalidArgument) as info:
            engine.product_put("catalog", {**base, **bad})
        assert info.value.reason == reason, bad
    with pytest.raises(errors.NotFound):
        engine.product_get("pk")
    stored = engine.product_put("catalog", {**base, "package": terms})["product"]
    assert stored["package"] == {**terms, "resettable": False, "reset_anchor": "CALENDAR_MONTH"}
    monthly = engine.product_put("catalog", {**base, "product_id": "pk2", "package": {
        "kind": "AMOUNT", "quota": 10, "applies_to": ["cci"], "resettable": True,
        "reset_anchor": "PURCHASE_DAY"}})["product"]
    assert monthly["package"] == {"kind": "AMOUNT", "quota": 10, "applies_to": ["cci"],
                                  "resettable": True, "reset_anchor": "PURCHASE_DAY"}


def test_obs_two_capacity_packages(engine_at):
    """Package A (100) from 2020-10-01 for two months, B (500) from 2020-10-10 for two months,
    700 units stored for an hour: Oct 5 A only; Oct 15 A then B; Dec 5 B only; Dec 15 none."""
    engine = customer(engine_at(at(2020, 10, 1)), cash=100_000_000)
    product(engine, "obs.std", "OBS", hourly_price_microfen=1_000_000)  # 1 fen a unit-hour
    product(engine, "obs.100g", "OBS", "PACKAGE", monthly_price_fen=900,
            package={"kind": "CAPACITY", "quota": 100, "applies_to": ["OBS"]})
    product(engine, "obs.500g", "OBS", "PACKAGE", monthly_price_fen=4_500,
            package={"kind": "CAPACITY", "quota": 500, "applies_to": ["obs.std"]})
    a = package(engine, "obs.100g", M2)
    b = package(engine, "obs.500g", M2, effective_at=at(2020, 10, 10))
    assert resource(engine, a)["status"] == "IN_USE"
    assert resource(engine, a)["expire_at"] == at(2020, 12, 1, 23, 59, 59)
    assert resource(engine, b)["status"] == "PENDING_EFFECTIVE"
    assert resource(engine, b)["effective_at"] == at(2020, 10, 10)
    assert resource(engine, b)["expire_at"] == at(2020, 12, 10, 23, 59, 59)
    listed = {p["resource_id"]: p for p in engine.packages("a1")["packages"]}
    assert set(listed) == {a, b}
    assert (listed[a]["kind"], listed[a]["quota"], listed[a]["applies_to"]) == ("CAPACITY", 100, ["OBS"])
    assert (listed[b]["kind"], listed[b]["quota"], listed[b]["applies_to"]) == ("CAPACITY", 500, ["obs.std"])
    bucket = on_demand(engine, "obs.std")

    def stored_for_an_hour(month, day):
        engine.set_clock(at(2020, month, day, 13))
        while engine.scheduler_run("scheduler")["has_more"]:
            pass
        response = engine.usage_report("meter", "a1", [record(f"{month}-{day}", bucket, 700,
                                                              at(2020, month, day, 12),
                                                              at(2020, month, day, 13))])
        [line] = response["results"][0]["lines"]
        assert line["hour_start"] == at(2020, month, day, 12) and line["units"] == 700 * HOUR
        assert line["covered"] + line["overage"] == line["units"]
        assert response["charged_fen"] == line["overage"] // HOUR  # 1 fen a unit-hour
        return line["covered"] // HOUR, line["overage"] // HOUR

    assert stored_for_an_hour(10, 5) == (100, 600)
    assert stored_for_an_hour(10, 15) == (600, 100)
    assert resource(engine, b)["status"] == "IN_USE"
    # Packages in effect cannot be unsubscribed.
    assert {e["reason"] for e in engine.refund_quote("a1", [a, b])["resources"]} == {"PACKAGE_EFFECTIVE"}
    assert stored_for_an_hour(12, 5) == (500, 200)
    assert stored_for_an_hour(12, 15) == (0, 700)
    assert [(l["covered"] // HOUR, l["overage"] // HOUR, l["charged_fen"]) for l in lines(engine, bucket)] == [
        (100, 600, 600), (600, 100, 100), (500, 200, 200), (0, 700, 700)]
    assert_verified(engine)


def test_capacity_is_shared_by_records_of_one_hour(engine_at):
    engine = customer(engine_at(at(2024, 1, 1)), cash=100_000_000)
    product(engine, "obs.std", "OBS", hourly_price_microfen=1_000_000)
    product(engine, "obs.100g", "OBS", "PACKAGE", monthly_price_fen=900,
            package={"kind": "CAPACITY", "quota": 100, "applies_to": ["OBS"]})
    package(engine, "obs.100g")
    first, second = on_demand(engine, "obs.std"), on_demand(engine, "obs.std")
    engine.set_clock(at(2024, 1, 2))
    response = engine.usage_report("meter", "a1", [
        record("x", first, 80, at(2024, 1, 1, 5), at(2024, 1, 1, 6)),
        record("y", second, 80, at(2024, 1, 1, 5), at(2024, 1, 1, 6))])
    [x], [y] = (r["lines"] for r in response["results"])
    # 100 units throughout the hour: 80 for the first bucket, the 20 left for the second.
    assert (x["covered"] // HOUR, x["overage"] // HOUR) == (80, 0)
    assert (y["covered"] // HOUR, y["overage"] // HOUR) == (20, 60)
    assert response["charged_fen"] == 60


def test_amount_package_resets_monthly_and_runs_out(engine_at):
    engine = customer(engine_at(at(2024, 1, 1, 10)), cash=10_000_000)
    product(engine, "cci", "CCI", hourly_price_microfen=3_600_000_000)  # 1 fen a unit-second
    product(engine, "cci.pack", "CCI", "PACKAGE", monthly_price_fen=100,
            package={"kind": "AMOUNT", "quota": 10, "applies_to": ["cci"], "resettable": True})
    pack = package(engine, "cci.pack", {"unit": "MONTH", "count": 3})
    pod = on_demand(engine, "cci")
    engine.set_clock(at(2024, 1, 20))
    assert engine.usage_report("meter", "a1", [record("j1", pod, 8, at(2024, 1, 10, 9),
                                                      at(2024, 1, 10, 10))])["charged_fen"] == 0
    # 5 more unit-hours: 2 covered, 3 charged at 3,600 fen each.
    over = engine.usage_report("meter", "a1", [record("j2", pod, 5, at(2024, 1, 11, 9), at(2024, 1, 11, 10))])
    assert over["charged_fen"] == 3 * 3_600
    [listed] = engine.packages("a1")["packages"]
    assert (listed["resource_id"], listed["kind"], listed["quota"]) == (pack, "AMOUNT", 10)
    # The first window starts when the package takes effect (10:00), later ones on the 1st.
    assert (listed["window_start"], listed["used"]) == (at(2024, 1, 1, 10), 10 * HOUR)
    # February starts a new window.
    engine.set_clock(at(2024, 2, 20))
    assert engine.usage_report("meter", "a1", [record("f1", pod, 10, at(2024, 2, 3, 9),
                                                      at(2024, 2, 3, 10))])["charged_fen"] == 0
    [listed] = engine.packages("a1")["packages"]
    assert (listed["window_start"], listed["used"]) == (at(2024, 2, 1), 10 * HOUR)
    assert_verified(engine)


# -- deduction order and arrears -------------------------------------------------------

def test_usage_is_paid_in_the_deduction_order(engine_at):
    """10 hours at 10.00: 1.00 voucher, 2.00 cash coupon, 3.00 card, 10.00 cash, 5.00 credit,
    and the rest (79.00) is arrears."""
    start = at(2024, 1, 1)
    engine = customer(engine_at(start), cash=1_000, credit_limit_fen=500)
    product(engine, "vm", "ECS", hourly_price_microfen=1_000_000_000)
    for kind, fen in [("STORED_VALUE_CARD", 300), ("CASH_COUPON", 200), ("VOUCHER", 100)]:
        engine.coupon_issue("ops", "a1", kind, start - DAY, start + 30 * DAY, face_value_fen=fen)
    vm = on_demand(engine, "vm")
    engine.set_clock(start + 11 * HOUR)
    response = engine.usage_report("meter", "a1", [record("h", vm, 1, start, start + 10 * HOUR)])
    assert response["charged_fen"] == 10_000
    assert response["account"]["arrears_fen"] == 7_900
    assert response["account"]["credit_used_fen"] == 500
    paid = [(p["source"], p["amount_fen"]) for l in lines(engine, vm) for p in l["paid_by"]]
    totals = {}
    for source, fen in paid:
        totals[source] = totals.get(source, 0) + fen
    assert totals == {"VOUCHER": 100, "CASH_COUPON": 200, "STORED_VALUE_CARD": 300,
                      "CASH": 1_000 + 7_900, "CREDIT": 500}
    # The first hour is paid by the voucher, the cash coupon, the card and then cash.
    first = {p["source"]: p["amount_fen"] for p in lines(engine, vm)[0]["paid_by"]}
    assert first == {"VOUCHER": 100, "CASH_COUPON": 200, "STORED_VALUE_CARD": 300, "CASH": 400}
    assert {c["balance_fen"] for c in engine.iter_coupons("a1", status="ALL")} == {0}
    assert_verified(engine)


def test_arrears_grace_freeze_and_settling_top_up(engine_at):
    """V3: one day of pay-per-use grace after arrears start, then frozen; a top-up settles
    the arrears first and brings the resource back."""
    start = at(2024, 1, 1)
    engine = customer(engine_at(start), cash=1_000)
    product(engine, "vm", "ECS", hourly_price_microfen=1_000_000_000)  # 10.00 an hour
    vm = on_demand(engine, "vm")
    now = engine.advance_clock(11 * HOUR)
    response = engine.usage_report("meter", "a1", [record("h", vm, 1, start, start + 10 * HOUR)])
    assert response["charged_fen"] == 10_000
    owed = account(engine)
    assert owed["arrears_fen"] == 9_000 and owed["cash_balance_fen"] <= 0
    [started] = events(engine, "account.arrears_started")
    assert started["data"] == {"arrears_fen": 9_000, "grace_end": now + DAY}
    in_grace = resource(engine, vm)
    assert in_grace["status"] == "IN_USE" and in_grace["grace_end"] == now + DAY
    assert in_grace["retention_end"] == now + 8 * DAY
    # More usage while in arrears adds to them without a second "started" event.
    engine.usage_report("meter", "a1", [record("h2", vm, 1, start + 10 * HOUR, start + 11 * HOUR)])
    assert account(engine)["arrears_fen"] == 10_000
    assert len(events(engine, "account.arrears_started")) == 1

    engine.set_clock(now + DAY)
    engine.scheduler_run("scheduler")
    assert resource(engine, vm)["status"] == "IN_USE"  # the grace end itself is still grace
    engine.set_clock(now + DAY + 1)
    assert engine.scheduler_run("scheduler")["resources"]["frozen"] == 1
    frozen = resource(engine, vm)
    assert (frozen["status"], frozen["freeze_reason"]) == ("FROZEN", "ARREARS")
    [event] = events(engine, "resource.frozen", vm)
    assert event["data"]["reason"] == "ARREARS"

    # A top-up that does not clear the arrears leaves it frozen...
    partial = engine.topup("pay", "a1", 4_000, "partial")
    assert partial["arrears_settled_fen"] == 4_000 and partial["account"]["arrears_fen"] == 6_000
    assert resource(engine, vm)["status"] == "FROZEN"
    assert events(engine, "account.arrears_settled") == []
    # ...one that clears them brings it back.
    settled = engine.topup("pay", "a1", 10_000, "settle")
    assert settled["arrears_settled_fen"] == 6_000
    assert settled["account"]["arrears_fen"] == 0 and settled["account"]["cash_balance_fen"] == 4_000
    assert len(events(engine, "account.arrears_settled")) == 1
    back = resource(engine, vm)
    assert back["status"] == "IN_USE" and back["freeze_reason"] is None
    assert back["grace_end"] is None and back["retention_end"] is None
    [unfrozen] = events(engine, "resource.unfrozen", vm)
    assert unfrozen["data"]["reason"] == "ARREARS_SETTLED"
    assert account(engine)["cash_balance_fen"] == 4_000
    assert_verified(engine)


def test_arrears_cleared_by_a_refund_bring_the_resource_back(engine_at):
    start = at(2024, 1, 1)
    engine = customer(engine_at(start), cash=10_000)
    product(engine, "evs", "EVS", "PREPAID", monthly_price_fen=10_000)
    product(engine, "vm", "ECS", hourly_price_microfen=1_000_000_000)
    order = engine.order_create("buyer", "a1", [{"product_id": "evs", "period": M1}], auto_pay=True)["order"]
    [disk] = [r["resource_id"] for r in order["resources"]]
    engine.resource_report("host", "a1", [{"resource_id": disk, "outcome": "SUCCEEDED"}])
    vm = on_demand(engine, "vm")  # the cash is spent: usage goes into arrears
    engine.set_clock(start + 3 * HOUR)
    engine.usage_report("meter", "a1", [record("h", vm, 1, start, start + 2 * HOUR)])
    assert account(engine)["arrears_fen"] == 2_000
    engine.set_clock(start + 3 * HOUR + DAY + 1)
    engine.scheduler_run("scheduler")
    assert resource(engine, vm)["freeze_reason"] == "ARREARS"
    # A five-day refund of the disk gives back 100.00: more than the arrears.
    engine.resources_unsubscribe("customer", "a1", [disk])
    assert account(engine)["arrears_fen"] == 0 and account(engine)["cash_balance_fen"] == 8_000
    assert len(events(engine, "account.arrears_settled")) == 1
    assert resource(engine, vm)["status"] == "IN_USE"


def test_arrears_past_retention_release_the_resource(engine_at):
    start = at(2024, 1, 1)
    engine = customer(engine_at(start), cash=0)
    product(engine, "vm", "ECS", hourly_price_microfen=1_000_000_000)
    vm = on_demand(engine, "vm")
    engine.set_clock(start + 2 * HOUR)
    engine.usage_report("meter", "a1", [record("h", vm, 1, start, start + HOUR)])
    for day in range(1, 10):
        engine.set_clock(start + 2 * HOUR + day * DAY)
        engine.scheduler_run("scheduler")
    assert resource(engine, vm)["status"] == "RELEASED"
    assert account(engine)["arrears_fen"] == 1_000
    assert_verified(engine)


# -- two processes, one batch ---------------------------------------------------------

def _usage_worker(path, now, barrier, inbox, outbox):
    """A spawned process: for every batch it receives, opens its own engine at `now`, waits
    for its peer and reports the batch. Replies with the response (or the error)."""
    while True:
        batch = inbox.get()
        if batch is None:
            return
        try:
            with billing.Engine(path, clock="manual", now=now, busy_timeout_ms=60_000) as engine:
                barrier.wait(timeout=60)
                outbox.put(("ok", engine.usage_report("meter", "a1", batch)))
        except Exception as exc:  # reported to the parent
            outbox.put(("error", repr(exc)))


def test_two_processes_reporting_one_batch_rate_each_record_once(engine_at, db_path):
    start = at(2024, 1, 1)
    engine = customer(engine_at(start), cash=100_000_000)
    product(engine, "vm", "ECS", hourly_price_microfen=1_000_000_000)  # 5.00 a half hour
    machines = [on_demand(engine, "vm") for _ in range(3)]
    now = start + 10 * DAY
    engine.set_clock(now)
    cash_before = account(engine)["cash_balance_fen"]
    engine.close()
    # Each record is half an hour in an hour of its own: one line and one charge each.
    batches = [[record(f"b{b}-r{r}", machines[r % 3], 1, start + (b * 40 + r) * HOUR,
                       start + (b * 40 + r) * HOUR + HOUR // 2) for r in range(40)] for b in range(3)]

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    inboxes, outbox = [context.Queue() for _ in range(2)], context.Queue()
    workers = [context.Process(target=_usage_worker, args=(db_path, now, barrier, inbox, outbox),
                               daemon=True) for inbox in inboxes]
    for worker in workers:
        worker.start()
    responses = []
    try:
        for batch in batches:
            for inbox in inboxes:
                inbox.put(batch)
            replies = [outbox.get(timeout=120) for _ in workers]
            assert all(status == "ok" for status, _ in replies), replies
            responses.append([response for _, response in replies])
    finally:
        for inbox in inboxes:
            inbox.put(None)
        for worker in workers:
            worker.join(timeout=30)
    assert all(worker.exitcode == 0 for worker in workers)

    for batch, pair in zip(batches, responses):
        statuses = {}
        for response in pair:
            for result in response["results"]:
                statuses.setdefault(result["usage_id"], []).append(result["status"])
        # Each record is rated by one process and a duplicate for the other.
        assert {usage_id: sorted(s) for usage_id, s in statuses.items()} == {
            r["usage_id"]: ["DUPLICATE", "RATED"] for r in batch}
        assert sorted(r["charged_fen"] for r in pair) == [0, 500 * len(batch)]

    records = [r for batch in batches for r in batch]
    with billing.Engine(db_path) as engine:
        usage_lines = list(engine.iter_usage("a1", limit=1000))
        assert len(usage_lines) == len(records)
        assert {l["charged_fen"] for l in usage_lines} == {500}
        assert {l["units"] for l in usage_lines} == {HOUR // 2}
        assert sorted((l["resource_id"], l["hour_start"]) for l in usage_lines) == sorted(
            (r["resource_id"], r["start"]) for r in records)
        charges = [e for e in engine.iter_ledger("a1", limit=1000) if e["kind"] == "USAGE"]
        assert len(charges) == len(records) and {e["amount_fen"] for e in charges} == {-500}
        assert len({e["reference"] for e in charges}) == len(records)
        assert account(engine)["cash_balance_fen"] == cash_before - 500 * len(records)
        assert_verified(engine)


# -- issue 12 item 5: the host deletes a pay-per-use resource ---------------------------

def test_deleting_a_pay_per_use_resource_ends_its_billing(engine_at):
    """Usage before the deletion instant is rated even when reported later; usage after it
    is refused; the resource is in no live list, arrears no longer touch it; one event."""
    start = at(2024, 1, 1)
    engine = customer(engine_at(start), cash=100_000)
    product(engine, "vm", "ECS", hourly_price_microfen=1_000_000_000)  # 10.00 an hour
    product(engine, "disk", "EVS", "PREPAID", monthly_price_fen=1_000)
    vm = on_demand(engine, "vm")
    other = on_demand(engine, "vm")
    deleted_at = engine.advance_clock(2 * HOUR + 1_800)
    response = engine.resources_delete("host", "a1", [vm])
    [gone] = response["resources"]
    assert (gone["status"], gone["ended_at"]) == ("DELETED", deleted_at)
    assert resource(engine, vm)["status"] == "DELETED"
    [event] = events(engine, "resource.deleted", vm)
    assert event["data"] == {"deleted_at": deleted_at, "resource_ids": [vm]}

    # A report arriving an hour later for the time before the deletion is accepted...
    engine.advance_clock(HOUR)
    late = engine.usage_report("meter", "a1", [record("before", vm, 1, start, deleted_at)])
    assert late["results"][0]["status"] == "RATED" and late["charged_fen"] == 2_500
    # ...anything after it is refused with a clear reason, and changes nothing.
    before = world(engine)
    with pytest.raises(errors.Refused) as refused:
        engine.usage_report("meter", "a1", [record("after", vm, 1, deleted_at, deleted_at + 60)])
    assert refused.value.reason == "resource_deleted" and "deleted" in refused.value.message
    assert world(engine) == before

    # Not refundable (it ended), not deletable twice, prepaid resources are not deleted.
    quote = engine.refund_quote("a1", [vm])
    assert (quote["resources"][0]["class"], quote["resources"][0]["reason"]) == ("NOT_ALLOWED", "ENDED")
    with pytest.raises(errors.Refused) as again:
        engine.resources_delete("host", "a1", [vm])
    assert again.value.reason == "not_deletable"
    order = engine.order_create("buyer", "a1", [{"product_id": "disk", "period": M1}], auto_pay=True)["order"]
    [disk] = [r["resource_id"] for r in order["resources"]]
    engine.resource_report("host", "a1", [{"resource_id": disk, "outcome": "SUCCEEDED"}])
    with pytest.raises(errors.Refused) as prepaid:
        engine.resources_delete("host", "a1", [disk])
    assert prepaid.value.reason == "not_pay_per_use"
    assert all(r["resource_id"] != vm for tab in ("MANUAL", "AUTO_RENEW", "TO_ON_DEMAND", "NO_RENEW")
               for r in engine.iter_renewals("a1", tab))

    # Arrears put the other resource into grace, freeze and release it; never the deleted one.
    engine.usage_report("meter", "a1", [record("big", other, 100, start, start + HOUR)])
    assert account(engine)["arrears_fen"] > 0
    assert resource(engine, other)["grace_end"] is not None
    assert resource(engine, vm)["grace_end"] is None
    for day in range(1, 10):
        engine.set_clock(deleted_at + HOUR + day * DAY)
        engine.scheduler_run("scheduler")
    assert resource(engine, other)["status"] == "RELEASED"
    kept = resource(engine, vm)
    assert (kept["status"], kept["ended_at"], kept["freeze_reason"]) == ("DELETED", deleted_at, None)
    assert events(engine, "resource.frozen", vm) == [] and events(engine, "resource.released", vm) == []
    assert_verified(engine)


def test_a_police_freeze_forbids_deleting(engine_at):
    start = at(2024, 1, 1)
    engine = customer(engine_at(start))
    product(engine, "vm", "ECS", hourly_price_microfen=1_000_000_000)
    vm = on_demand(engine, "vm")
    for freeze in ("POLICE",):
        engine.account_put("kyc", "a1", freeze=freeze)
        before = world(engine)
        with pytest.raises(errors.Refused) as refused:
            engine.resources_delete("host", "a1", [vm])
        assert refused.value.reason == "police_frozen"
        assert world(engine) == before and resource(engine, vm)["status"] == "IN_USE"
    # Arrears and violation freezes allow it (§4.8).
    engine.account_put("kyc", "a1", freeze="VIOLATION")
    assert engine.resources_delete("host", "a1", [vm])["resources"][0]["status"] == "DELETED"
    with pytest.raises(errors.NotFound):
        engine.resources_delete("host", "a1", ["RS-nope"])
    assert_verified(engine)
