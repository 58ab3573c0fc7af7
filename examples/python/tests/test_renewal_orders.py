"""Renewal orders as a page shows them, through Python against the real library: an
automatic renewal pays with the account's coupons as a manual payment would, a new
deduction day moves auto-renewals at once, RENEW orders name their resources, periods and
payments, a unified expiry day is refused for NO_RENEW resources, and a conversion to
pay-per-use at expiry is a PREPAID_TO_ONDEMAND order in "My orders".

The helpers and the business-time `at()` come from helpers.py, the auto-paid purchase and
the renewal world from test_renewals (V3 customer "a1", the manual clock moved forward to
the times of the examples).
"""

from helpers import (DAY, M1, assert_verified, at, cash, coupon, customer, events, order, prepaid,
                     refused, resource, run)
from test_renewals import buy, world


def balances(engine):
    return {c["coupon_id"]: c["balance_fen"] for c in engine.iter_coupons("a1", status="ALL")}


def auto_renew(engine, rid, **settings):
    [enabled] = engine.resources_policy_set("customer", "a1", [rid], "AUTO_RENEW", **settings)["resources"]
    return enabled


# -- §3.5, §4.5: an automatic renewal pays like a manual payment ------------------------

def test_auto_renewal_takes_vouchers_by_balance_then_cash_coupons_then_cash(fast_engine):
    engine = fast_engine
    customer(engine, cash=3_000)
    prepaid(engine, "evs-1")  # 30.00 a month
    engine.set_clock(at(2024, 5, 30, 10))
    [rid] = buy(engine, "evs-1")
    assert cash(engine) == 0
    small = coupon(engine, "VOUCHER", 500, valid_to=at(2024, 7, 1))  # sooner to expire
    big = coupon(engine, "VOUCHER", 1_500)
    cash_coupon = coupon(engine, "CASH_COUPON", 600)
    card = coupon(engine, "STORED_VALUE_CARD", 1_000)
    engine.topup("pay", "a1", 400, "a1-top")
    auto_renew(engine, rid)

    assert run(engine, at(2024, 6, 23, 3))["auto_renewed"] == 1
    assert resource(engine, rid)["expire_at"] == at(2024, 7, 30, 23, 59, 59)
    # The vouchers, largest balance first, then the cash coupon: three coupons (the most one
    # payment takes), and the 4.00 left from cash; the stored-value card is not needed.
    assert balances(engine) == {small: 0, big: 0, cash_coupon: 0, card: 1_000}
    assert cash(engine) == 0
    assert [(e["kind"], e["amount_fen"]) for e in engine.iter_ledger("a1")][-1] == ("AUTO_RENEWAL", -400)
    [renewed] = events(engine, "resource.auto_renewed", rid)
    details = order(engine, renewed["data"]["order_id"])
    assert details["type"] == "RENEW" and details["status"] == "COMPLETED"
    amounts = details["amounts"]
    assert (amounts["amount_due_fen"], amounts["voucher_fen"], amounts["cash_coupon_fen"],
            amounts["stored_value_card_fen"], amounts["cash_fen"]) == (3_000, 2_000, 600, 0, 400)
    assert sorted((p["source"], p["coupon_id"], p["amount_fen"]) for p in details["payments"]) == sorted([
        ("VOUCHER", big, 1_500), ("VOUCHER", small, 500), ("CASH_COUPON", cash_coupon, 600),
        ("CASH", None, 400)])
    assert_verified(engine)


def test_auto_renewal_skips_coupons_the_payment_rules_refuse(fast_engine):
    engine = fast_engine
    customer(engine, cash=3_000)
    prepaid(engine, "evs-1")
    engine.set_clock(at(2024, 5, 30, 10))
    [rid] = buy(engine, "evs-1")
    # A 10 % commercial discount: the renewal costs 27.00, and vouchers (exclusive with
    # discounts by default) cannot pay it; a cash coupon for another product cannot either.
    engine.discount_set("sales", "a1", "EVS", 1_000)
    voucher = coupon(engine, "VOUCHER", 5_000)
    elsewhere = coupon(engine, "CASH_COUPON", 5_000, scope={"products": ["ecs-1"]})
    card = coupon(engine, "STORED_VALUE_CARD", 5_000)
    auto_renew(engine, rid)
    assert run(engine, at(2024, 6, 23, 3))["auto_renewed"] == 1
    assert balances(engine) == {voucher: 5_000, elsewhere: 5_000, card: 2_300}
    assert cash(engine) == 0
    [renewed] = events(engine, "resource.auto_renewed", rid)
    assert [(p["source"], p["coupon_id"], p["amount_fen"]) for p in order(engine, renewed["data"]["order_id"])["payments"]] == [
        ("STORED_VALUE_CARD", card, 2_700)]
    assert_verified(engine)


def coupon_status(engine):
    return {c["coupon_id"]: c["status"] for c in engine.iter_coupons("a1", status="ALL")}


def discount_coupon(engine, bp):
    now = engine.now()
    return engine.coupon_issue("ops", "a1", "DISCOUNT_COUPON", now - DAY, now + 365 * DAY,
                               discount_bp=bp)["coupon"]["coupon_id"]


def test_auto_renewal_uses_a_discount_coupon_when_it_leaves_less_to_pay(fast_engine):
    engine = fast_engine
    customer(engine, cash=3_000)
    prepaid(engine, "evs-1")  # 30.00 a month
    engine.set_clock(at(2024, 5, 30, 10))
    [rid] = buy(engine, "evs-1")
    engine.topup("pay", "a1", 5_000, "a1-top")
    # 30 % off (9.00) with the 3.00 voucher that allows discount coupons leaves 18.00; the
    # vouchers alone (5.00 exclusive + 3.00) would leave 22.00. The weaker coupon is not used.
    exclusive = coupon(engine, "VOUCHER", 500)
    compatible = coupon(engine, "VOUCHER", 300, exclusive_with_discounts=False)
    thirty = discount_coupon(engine, 3_000)
    ten = discount_coupon(engine, 1_000)
    auto_renew(engine, rid)

    assert run(engine, at(2024, 6, 23, 3))["auto_renewed"] == 1
    [renewed] = events(engine, "resource.auto_renewed", rid)
    details = order(engine, renewed["data"]["order_id"])
    amounts = details["amounts"]
    assert (amounts["discount_coupon_fen"], amounts["amount_due_fen"], amounts["voucher_fen"],
            amounts["cash_fen"]) == (900, 2_100, 300, 1_800)
    assert details["payments"] == [{"source": "CASH", "coupon_id": None, "amount_fen": 1_800},
                                   {"source": "VOUCHER", "coupon_id": compatible, "amount_fen": 300}]
    assert coupon_status(engine) == {exclusive: "USABLE", compatible: "USED_UP", thirty: "USED_UP",
                                     ten: "USABLE"}
    assert balances(engine)[exclusive] == 500
    assert cash(engine) == 5_000 - 1_800
    assert_verified(engine)


def test_auto_renewal_keeps_the_discount_coupon_when_a_voucher_pays_more(fast_engine):
    engine = fast_engine
    customer(engine, cash=3_000)
    prepaid(engine, "evs-1")
    engine.set_clock(at(2024, 5, 30, 10))
    [rid] = buy(engine, "evs-1")
    engine.topup("pay", "a1", 5_000, "a1-top")
    # A 10.00 voucher (exclusive with discount coupons) leaves 20.00; 30 % off leaves 21.00.
    voucher = coupon(engine, "VOUCHER", 1_000)
    thirty = discount_coupon(engine, 3_000)
    auto_renew(engine, rid)

    assert run(engine, at(2024, 6, 23, 3))["auto_renewed"] == 1
    [renewed] = events(engine, "resource.auto_renewed", rid)
    amounts = order(engine, renewed["data"]["order_id"])["amounts"]
    assert (amounts["discount_coupon_fen"], amounts["voucher_fen"], amounts["cash_fen"]) == (0, 1_000, 2_000)
    assert coupon_status(engine) == {voucher: "USED_UP", thirty: "USABLE"}
    assert cash(engine) == 5_000 - 2_000
    assert_verified(engine)


# -- §4.5: the deduction day takes effect at once, account-wide -------------------------

def test_a_new_deduction_day_moves_every_auto_renewal(fast_engine):
    engine = fast_engine
    customer(engine)
    prepaid(engine, "evs-1")
    engine.set_clock(at(2024, 5, 30, 10))
    [first] = buy(engine, "evs-1")
    [second] = buy(engine, "evs-1")
    [manual] = buy(engine, "evs-1")
    for rid in (first, second):
        assert auto_renew(engine, rid)["auto_renew"]["next_attempt_at"] == at(2024, 6, 23, 3)

    changed = engine.account_settings_update("customer", "a1", deduction_days=3)
    for rid in (first, second):
        assert resource(engine, rid)["auto_renew"]["next_attempt_at"] == at(2024, 6, 27, 3)
    assert changed["rescheduled_resource_ids"] == [first, second]
    assert resource(engine, manual)["auto_renew"] is None
    counts = run(engine, at(2024, 6, 23, 3))
    assert (counts["auto_renewed"], counts["auto_renew_failed"]) == (0, 0)

    # Moved into the past: the same-day rule renews at once, in the settings call.
    engine.set_clock(at(2024, 6, 26, 10))
    before = engine.account_get("a1")["account"]
    changed = engine.account_settings_update("customer", "a1", deduction_days=5)
    assert changed["rescheduled_resource_ids"] == [first, second]
    # The answer shows the account after those renewals paid, as a read does.
    assert changed["account"] == engine.account_get("a1")["account"]
    assert changed["account"]["cash_balance_fen"] < before["cash_balance_fen"]
    for rid in (first, second):
        renewed = resource(engine, rid)
        assert renewed["expire_at"] == at(2024, 7, 30, 23, 59, 59)
        assert renewed["auto_renew"]["next_attempt_at"] == at(2024, 7, 25, 3)
        assert len(events(engine, "resource.auto_renewed", rid)) == 1
    # The same value again moves nothing.
    assert engine.account_settings_update("customer", "a1", deduction_days=5)["rescheduled_resource_ids"] == []
    assert_verified(engine)


# -- §3.7: RENEW order details ----------------------------------------------------------

def renewal_lines(details):
    return [(l["order_id"], l["resource_id"], l["period"], l["renew_from"], l["renew_to"]) for l in details["lines"]]


def test_renewal_orders_name_resources_periods_and_payments(fast_engine):
    engine = fast_engine
    customer(engine)
    prepaid(engine, "evs-1")
    engine.set_clock(at(2024, 5, 30, 10))
    [a] = buy(engine, "evs-1")
    [b] = buy(engine, "evs-1")
    end = at(2024, 6, 30, 23, 59, 59)

    # Manual, pending payment: the resource and the period it would add, nothing paid yet.
    pending = engine.resources_renew("customer", "a1", [a], period=M1)["order"]
    details = order(engine, pending["order_id"])
    assert renewal_lines(details) == [(pending["order_id"], a, M1, end, at(2024, 7, 30, 23, 59, 59))]
    assert [r["resource_id"] for r in details["resources"]] == [a]
    assert details["payments"] == []
    voucher = coupon(engine, "VOUCHER", 1_000)
    paid = engine.order_pay("customer", "a1", pending["order_id"], coupon_ids=[voucher])["order"]
    assert sorted((p["source"], p["coupon_id"], p["amount_fen"]) for p in paid["payments"]) == [
        ("CASH", None, 2_000), ("VOUCHER", voucher, 1_000)]
    assert [r["resource_id"] for r in paid["resources"]] == [a]

    # Batch: a combined order whose details name both resources, each on its sub-order.
    combined = engine.resources_renew("customer", "a1", [a, b], period=M1, auto_pay=True)["order"]
    details = order(engine, combined["order_id"])
    subs = [s["order_id"] for s in details["sub_orders"]]
    assert renewal_lines(details) == [
        (subs[0], a, M1, at(2024, 7, 30, 23, 59, 59), at(2024, 8, 30, 23, 59, 59)),
        (subs[1], b, M1, end, at(2024, 7, 30, 23, 59, 59))]
    assert sorted(r["resource_id"] for r in details["resources"]) == sorted([a, b])
    assert details["payments"] == [{"source": "CASH", "coupon_id": None, "amount_fen": 6_000}]
    assert [(l["resource_id"], l["renew_to"]) for l in order(engine, subs[1])["lines"]] == [
        (b, at(2024, 7, 30, 23, 59, 59))]

    # Unified expiry day (the 1st by default): the stretched period.
    unified = engine.resources_renew("customer", "a1", [b], period=M1, unified_expiry=True,
                                     auto_pay=True)["order"]
    details = order(engine, unified["order_id"])
    assert renewal_lines(details) == [(unified["order_id"], b, M1, at(2024, 7, 30, 23, 59, 59),
                                       at(2024, 9, 1, 23, 59, 59))]
    assert details["payments"] == [{"source": "CASH", "coupon_id": None,
                                    "amount_fen": details["amounts"]["paid_amount_fen"]}]
    assert [r["resource_id"] for r in details["resources"]] == [b]
    assert_verified(engine)


# -- §4.4: the unified expiry day serves the manual and auto-renew tabs -----------------

def test_unified_expiry_is_refused_for_no_renew_resources(fast_engine):
    engine = fast_engine
    customer(engine)
    prepaid(engine, "evs-1")
    engine.set_clock(at(2024, 5, 30, 10))
    [rid] = buy(engine, "evs-1")
    engine.resources_policy_set("customer", "a1", [rid], "NO_RENEW")
    before = world(engine, [rid])
    refused(lambda: engine.resources_renew("customer", "a1", [rid], period=M1, unified_expiry=True),
            "unified_requires_renewal_policy")
    assert world(engine, [rid]) == before
    # Auto-renew resources may use it.
    auto_renew(engine, rid)
    renewed = engine.resources_renew("customer", "a1", [rid], period=M1, unified_expiry=True,
                                     auto_pay=True)["order"]
    assert renewed["lines"][0]["renew_to"] == at(2024, 8, 1, 23, 59, 59)
    assert_verified(engine)


# -- §3.1: conversion to pay-per-use is an order ----------------------------------------

def test_conversion_at_expiry_is_a_prepaid_to_ondemand_order(fast_engine):
    engine = fast_engine
    customer(engine)
    prepaid(engine, "evs-1")
    engine.set_clock(at(2024, 5, 30, 10))
    [rid] = buy(engine, "evs-1")
    engine.resources_policy_set("customer", "a1", [rid], "TO_ON_DEMAND")
    assert run(engine, at(2024, 7, 1, 0, 30))["converted"] == 1
    [converted] = events(engine, "resource.converted", rid)
    order_id = converted["data"]["order_id"]
    listed = engine.orders("a1", order_type="PREPAID_TO_ONDEMAND")["orders"]
    assert [o["order_id"] for o in listed] == [order_id]
    assert [o["type"] for o in engine.iter_orders("a1")] == ["PREPAID_TO_ONDEMAND", "NEW"]
    details = order(engine, order_id)
    assert (details["type"], details["type_code"], details["status"]) == ("PREPAID_TO_ONDEMAND", 10, "COMPLETED")
    assert details["billing_mode"] == "ON_DEMAND" and details["product_type"] == "EVS"
    assert (details["created_at"], details["completed_at"], details["paid_at"]) == (
        at(2024, 7, 1, 0, 30), at(2024, 7, 1, 0, 30), None)
    assert details["amounts"]["amount_due_fen"] == 0 and details["amounts"]["paid_amount_fen"] == 0
    [line] = details["lines"]
    assert (line["resource_id"], line["billing_mode"], line["effective_at"]) == (rid, "ON_DEMAND", at(2024, 7, 1))
    assert [r["resource_id"] for r in details["resources"]] == [rid]
    assert details["resources"][0]["billing_mode"] == "ON_DEMAND"
    assert details["payments"] == []
    assert_verified(engine)
