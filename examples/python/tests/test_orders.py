"""Catalog, orders, payment with coupons, provisioning and the scheduler, through Python
against the real library.

The manual clock starts at START = 2024-01-01 10:30 +08:00. Every test uses `fast_engine`;
`shop` adds two accounts (a1 with 10 000.00 yuan, a2 empty) and two prepaid products.
"""

import collections
import multiprocessing
import os
import random
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import billing
from billing import errors
from helpers import DAY, M1, START, account, assert_verified, refused, snapshot, sql_execute, sql_text, order as get

M3 = {"unit": "MONTH", "count": 3}
Y1 = {"unit": "YEAR", "count": 1}
WEEK = 7 * DAY
# 2024-02-01T23:59:59+08:00: a one-month period started at START ends at the end of that day.
END_OF_FIRST_MONTH = 1706803199

DISCOUNTS = ("commercial_discount_fen", "promotion_discount_fen", "discount_coupon_fen")
SOURCES = ("cash_coupon_fen", "stored_value_card_fen", "cash_fen", "credit_fen")
SOURCE_FIELDS = {"VOUCHER": "voucher_fen", "CASH_COUPON": "cash_coupon_fen",
                 "STORED_VALUE_CARD": "stored_value_card_fen", "CASH": "cash_fen",
                 "CREDIT": "credit_fen"}


# -- helpers --------------------------------------------------------------------------

def prepaid(engine, product_id, product_type="ECS", monthly=10_000, yearly=100_000, **fields):
    return engine.product_put("ops", {
        "product_id": product_id, "product_type": product_type, "billing_mode": "PREPAID",
        "monthly_price_fen": monthly, "yearly_price_fen": yearly, **fields})["product"]


def item(product_id, period=M1, **fields):
    return {"product_id": product_id, "period": period, **fields}


def create(engine, *items, account_id="a1", **options):
    return engine.order_create("buyer", account_id, list(items), **options)["order"]


def coupon_balances(engine, account_id="a1"):
    return {c["coupon_id"]: c["balance_fen"] for c in engine.iter_coupons(account_id)}


def voucher(engine, face, account_id="a1", valid_from=START, valid_to=START + 30 * DAY, **fields):
    return engine.coupon_issue("ops", account_id, "VOUCHER", valid_from, valid_to,
                               face_value_fen=face, **fields)["coupon"]


def world(engine, account_id="a1", audited=0):
    """Everything a refused order call must leave unchanged (for one account). A batch
    cancel that cancels nothing still succeeds, so it leaves an audit row: `audited` is
    subtracted from the audit count so such a state compares equal to the one before."""
    config, events, audits = snapshot(engine)
    return {"config": config, "events": events, "audit": audits - audited,
            "account": account(engine, account_id),
            "coupons": list(engine.iter_coupons(account_id)),
            "orders": [get(engine, o["order_id"], account_id)
                       for o in engine.iter_orders(account_id, limit=100)],
            "ledger": list(engine.iter_ledger(account_id))}


def assert_due_identity(amounts):
    assert all(value >= 0 for value in amounts.values()), amounts
    assert amounts["list_price_fen"] - sum(amounts[k] for k in DISCOUNTS) == amounts["amount_due_fen"]


def assert_paid_identities(amounts):
    assert_due_identity(amounts)
    paid = amounts["paid_amount_fen"]
    assert amounts["amount_due_fen"] - amounts["voucher_fen"] == paid
    assert paid == sum(amounts[k] for k in SOURCES), amounts


def assert_paid_order(order):
    """The documented identities, for the order, each line and each sub-order, and the
    lines adding up to the order; the payments match the amounts per source."""
    assert_paid_identities(order["amounts"])
    for line in order["lines"]:
        assert_paid_identities(line["amounts"])
    for sub in order["sub_orders"]:
        assert_paid_identities(sub["amounts"])
    for key, total in order["amounts"].items():
        assert sum(line["amounts"][key] for line in order["lines"]) == total, key
        if order["sub_orders"]:
            assert sum(sub["amounts"][key] for sub in order["sub_orders"]) == total, key
    per_source = collections.Counter()
    for payment in order["payments"]:
        assert payment["amount_fen"] > 0
        per_source[SOURCE_FIELDS[payment["source"]]] += payment["amount_fen"]
    for field in SOURCE_FIELDS.values():
        assert per_source[field] == order["amounts"][field], field


def cash_ledger_sum(engine, account_id="a1"):
    return sum(e["amount_fen"] for e in engine.iter_ledger(account_id, limit=100)
               if e["fund"] == "CASH")


@pytest.fixture
def shop(fast_engine):
    engine = fast_engine
    for account_id in ("a1", "a2"):
        engine.account_put("host", account_id, type="ENTERPRISE", realname_verified=True,
                           level="V3")
    engine.topup("pay", "a1", 1_000_000, "seed")
    prepaid(engine, "ecs-1", "ECS", 10_000, 100_000)
    prepaid(engine, "evs-1", "EVS", 3_000, 30_000)
    return engine


# -- catalog --------------------------------------------------------------------------

def test_product_put_get_and_list(fast_engine):
    engine = fast_engine
    ecs = prepaid(engine, "ecs-1", "ECS", 10_000, 100_000, name="ECS small", region="cn-north-4",
                  specs={"vcpus": 2, "memory_gib": 4})
    assert ecs["product_id"] == "ecs-1" and ecs["billing_mode"] == "PREPAID"
    assert (ecs["monthly_price_fen"], ecs["yearly_price_fen"]) == (10_000, 100_000)
    assert ecs["specs"] == {"vcpus": 2, "memory_gib": 4}
    assert ecs["on_sale"] is True and ecs["review_required"] is False
    assert ecs["bound_products"] == []
    # The default periods are 1-9 months and 1-3 years.
    assert ecs["allowed_periods"] == (
        [{"unit": "MONTH", "count": n} for n in range(1, 10)]
        + [{"unit": "YEAR", "count": n} for n in range(1, 4)])
    assert engine.product_get("ecs-1")["product"] == ecs

    prepaid(engine, "evs-1", "EVS", 3_000, 30_000)
    od = engine.product_put("ops", {"product_id": "aaa-od", "product_type": "ECS",
                                    "billing_mode": "ON_DEMAND",
                                    "hourly_price_microfen": 5_000_000})["product"]
    assert od["hourly_price_microfen"] == 5_000_000
    assert [p["product_id"] for p in engine.iter_products()] == ["aaa-od", "ecs-1", "evs-1"]
    assert [p["product_id"] for p in engine.iter_products(limit=1)] == ["aaa-od", "ecs-1", "evs-1"]
    assert [p["product_id"] for p in engine.iter_products(product_type="ECS")] == ["aaa-od", "ecs-1"]
    first = engine.products(limit=2)
    assert first["has_more"] is True and len(first["products"]) == 2

    # put replaces the product.
    engine.advance_clock(60)
    replaced = prepaid(engine, "ecs-1", "ECS", 12_000, 120_000)
    assert replaced["monthly_price_fen"] == 12_000 and replaced["updated_at"] == START + 60
    assert replaced["specs"] == {}  # replaced, not merged
    assert engine.product_get("ecs-1")["product"] == replaced
    assert len(list(engine.iter_products())) == 3


def test_prepaid_product_needs_a_price_for_every_allowed_period(fast_engine):
    engine = fast_engine
    before = snapshot(engine)
    with pytest.raises(errors.InvalidArgument) as info:
        engine.product_put("ops", {"product_id": "p", "product_type": "ECS",
                                   "billing_mode": "PREPAID", "monthly_price_fen": 10_000,
                                   "allowed_periods": [M1, Y1]})
    assert info.value.reason == "missing_price"
    with pytest.raises(errors.InvalidArgument) as info:
        engine.product_put("ops", {"product_id": "p", "product_type": "ECS",
                                   "billing_mode": "PREPAID", "yearly_price_fen": 10_000,
                                   "allowed_periods": [{"unit": "MONTH", "count": 1}, Y1]})
    assert info.value.reason == "missing_price"
    assert snapshot(engine) == before
    assert list(engine.iter_products()) == []
    with pytest.raises(errors.NotFound):
        engine.product_get("p")
    # Months only: no yearly price needed.
    monthly = engine.product_put("ops", {"product_id": "p", "product_type": "ECS",
                                         "billing_mode": "PREPAID", "monthly_price_fen": 10_000,
                                         "allowed_periods": [M1, M3]})["product"]
    assert monthly["allowed_periods"] == [M1, M3] and monthly["yearly_price_fen"] is None


def test_on_demand_product_needs_an_hourly_price(shop):
    engine = shop
    with pytest.raises(errors.InvalidArgument) as info:
        engine.product_put("ops", {"product_id": "od", "product_type": "ECS",
                                   "billing_mode": "ON_DEMAND"})
    assert info.value.reason == "missing_price"
    with pytest.raises(errors.NotFound):
        engine.product_get("od")
    engine.product_put("ops", {"product_id": "od", "product_type": "ECS",
                               "billing_mode": "ON_DEMAND", "hourly_price_microfen": 1_500_000})
    # Pay-per-use: nothing to pay, PROCESSING at once, the resource waits for provisioning.
    order = create(engine, {"product_id": "od"})
    assert order["status"] == "PROCESSING" and order["billing_mode"] == "ON_DEMAND"
    assert order["amounts"]["amount_due_fen"] == 0 and order["pay_deadline"] is None
    [resource] = order["resources"]
    assert resource["status"] == "PENDING_PROVISION" and resource["period"] is None
    assert account(engine)["cash_balance_fen"] == 1_000_000


# -- quote and create -----------------------------------------------------------------

def test_quote_then_create_with_the_expected_amount(shop):
    engine = shop
    engine.discount_set("sales", "a1", "EVS", 1_500)  # 15 % off EVS
    items = [item("ecs-1", M3), item("evs-1", Y1, quantity=2)]
    before = snapshot(engine)
    quote = engine.quote("a1", items)
    assert snapshot(engine) == before  # a quote creates nothing
    assert quote["priced_at"] == START
    assert quote["amounts"]["list_price_fen"] == 30_000 + 60_000
    assert quote["amounts"]["commercial_discount_fen"] == 9_000
    assert quote["amounts"]["amount_due_fen"] == 81_000
    for quoted in quote["items"]:
        assert_due_identity(quoted["amounts"])

    order = create(engine, *items, expected_amount_due_fen=quote["amounts"]["amount_due_fen"])
    assert order["is_combined"] is True and order["status"] == "PENDING_PAYMENT"
    assert order["amounts"] == quote["amounts"]
    assert [sub["amounts"] for sub in order["sub_orders"]] == [i["amounts"] for i in quote["items"]]
    assert [line["amounts"] for line in order["lines"]] == [
        line["amounts"] for quoted in quote["items"] for line in quoted["lines"]]
    assert get(engine, order["order_id"]) == order


def test_price_change_between_quote_and_create_is_refused(shop):
    engine = shop
    quote = engine.quote("a1", [item("ecs-1")])
    expected = quote["amounts"]["amount_due_fen"]
    assert expected == 10_000
    prepaid(engine, "ecs-1", "ECS", 11_000, 110_000)
    before = snapshot(engine)
    refused(lambda: create(engine, item("ecs-1"), expected_amount_due_fen=expected),
            "price_changed")
    assert snapshot(engine) == before
    assert list(engine.iter_orders("a1")) == []
    # The new price, quoted again, is accepted.
    order = create(engine, item("ecs-1"), expected_amount_due_fen=11_000)
    assert order["amounts"]["amount_due_fen"] == 11_000


def test_orders_keep_the_prices_they_were_made_with(shop):
    engine = shop
    order = create(engine, item("ecs-1"))
    prepaid(engine, "ecs-1", "ECS", 99_000, 990_000)
    paid = engine.order_pay("buyer", "a1", order["order_id"])["order"]
    assert paid["amounts"]["cash_fen"] == 10_000
    assert paid["lines"][0]["product"]["monthly_price_fen"] == 10_000
    assert account(engine)["cash_balance_fen"] == 990_000


def test_create_and_pay_are_idempotent(shop):
    engine = shop
    first = engine.order_create("buyer", "a1", [item("ecs-1")], idempotency_key="c-1")
    engine.advance_clock(5)
    assert engine.order_create("buyer", "a1", [item("ecs-1")], idempotency_key="c-1") == first
    assert len(list(engine.iter_orders("a1"))) == 1
    with pytest.raises(errors.Conflict) as info:
        engine.order_create("buyer", "a1", [item("ecs-1", M3)], idempotency_key="c-1")
    assert info.value.reason == "idempotency_key_reused"

    order_id = first["order"]["order_id"]
    paid = engine.order_pay("buyer", "a1", order_id, idempotency_key="p-1")
    assert engine.order_pay("buyer", "a1", order_id, idempotency_key="p-1") == paid
    assert account(engine)["cash_balance_fen"] == 990_000
    assert len([e for e in engine.iter_ledger("a1") if e["kind"] == "PAYMENT"]) == 1


# -- the order state machine ----------------------------------------------------------

def test_t1_pending_payment_with_a_deadline(shop):
    engine = shop
    engine.advance_clock(123)
    order = create(engine, item("ecs-1"))
    assert order["status"] == "PENDING_PAYMENT" and order["status_code"] == 6
    assert order["type"] == "NEW" and order["is_combined"] is False
    assert order["created_at"] == START + 123
    assert order["pay_deadline"] == order["created_at"] + WEEK
    assert engine.config()["pay_deadline_seconds"]["default"] == WEEK
    assert order["paid_at"] is None and order["payments"] == [] and order["resources"] == []
    assert_due_identity(order["amounts"])
    created = [e for e in engine.iter_events(account_id="a1") if e["type"] == "order.created"]
    assert [e["subject_id"] for e in created] == [order["order_id"]]


def test_t1_hardware_has_one_hour_to_pay(shop):
    engine = shop
    assert engine.config()["pay_deadline_seconds"]["hardware"] == 3600
    prepaid(engine, "box", "DEVICE", kind="hardware")
    order = create(engine, item("box"))
    assert order["pay_deadline"] == START + 3600
    engine.advance_clock(3600)
    refused(lambda: engine.order_pay("buyer", "a1", order["order_id"]), "order_payment_expired")
    assert engine.scheduler_run("scheduler")["cancelled_orders"] == 1
    assert get(engine, order["order_id"])["cancel_reason"] == "PAYMENT_EXPIRED"


def test_t2_t6_t7_review(shop):
    engine = shop
    prepaid(engine, "ecs-r", "ECS", review_required=True)
    approved = create(engine, item("ecs-r"))
    rejected = create(engine, item("ecs-r"))
    for order in (approved, rejected):
        assert order["status"] == "PENDING_REVIEW" and order["status_code"] == 1
        assert order["review_required"] is True
    # Not payable while under review.
    refused(lambda: engine.order_pay("buyer", "a1", approved["order_id"]), "order_not_payable")

    engine.advance_clock(3600)
    after_approval = engine.order_review("reviewer", "a1", approved["order_id"], "APPROVE",
                                         comment="looks fine")["order"]
    assert after_approval["status"] == "PENDING_PAYMENT"
    assert after_approval["pay_deadline"] == START + 3600 + WEEK  # a new deadline
    assert get(engine, approved["order_id"]) == after_approval

    after_rejection = engine.order_review("reviewer", "a1", rejected["order_id"], "REJECT")["order"]
    assert after_rejection["status"] == "CANCELLED" and after_rejection["status_code"] == 4
    assert after_rejection["cancel_reason"] == "REVIEW_REJECTED"
    assert after_rejection["cancelled_at"] == START + 3600

    # Decided orders cannot be reviewed again.
    for order_id in (approved["order_id"], rejected["order_id"]):
        before = world(engine)
        refused(lambda: engine.order_review("reviewer", "a1", order_id, "APPROVE"),
                "illegal_transition")
        assert world(engine) == before
    paid = engine.order_pay("buyer", "a1", approved["order_id"])["order"]
    assert paid["status"] == "PROCESSING"


def test_t3_t8_t9_placed_by_the_account_manager(shop):
    engine = shop
    prepaid(engine, "ecs-r", "ECS", review_required=True)
    confirmed = create(engine, item("ecs-1"), placed_by_manager=True, contract="C-2024-001")
    declined = create(engine, item("ecs-1"), placed_by_manager=True)
    reviewed = create(engine, item("ecs-r"), placed_by_manager=True)
    for order in (confirmed, declined, reviewed):
        assert order["status"] == "PENDING_CONFIRMATION" and order["status_code"] == 9
        assert order["placed_by_manager"] is True
    assert confirmed["contract"] == "C-2024-001"
    refused(lambda: engine.order_pay("buyer", "a1", confirmed["order_id"]), "order_not_payable")

    after = engine.order_confirm("customer", "a1", confirmed["order_id"], "CONFIRM")["order"]
    assert after["status"] == "PENDING_PAYMENT" and after["pay_deadline"] is not None
    # A product that needs review goes to review after the customer's confirmation.
    assert engine.order_confirm("customer", "a1", reviewed["order_id"],
                                "CONFIRM")["order"]["status"] == "PENDING_REVIEW"
    gone = engine.order_confirm("customer", "a1", declined["order_id"], "DECLINE")["order"]
    assert gone["status"] == "CANCELLED" and gone["cancel_reason"] == "DECLINED"

    before = world(engine)
    refused(lambda: engine.order_confirm("customer", "a1", declined["order_id"], "CONFIRM"),
            "illegal_transition")
    assert world(engine) == before
    assert engine.order_pay("buyer", "a1", confirmed["order_id"])["order"]["status"] == "PROCESSING"


def test_t8_confirmation_starts_a_new_payment_deadline(shop):
    engine = shop
    order = create(engine, item("ecs-1"), placed_by_manager=True)
    assert order["pay_deadline"] == START + WEEK  # the confirmation validity
    engine.advance_clock(6 * DAY)
    confirmed = engine.order_confirm("customer", "a1", order["order_id"], "CONFIRM")["order"]
    assert confirmed["pay_deadline"] == START + 6 * DAY + WEEK
    engine.advance_clock(2 * DAY)  # past the old date, within the new one
    assert engine.scheduler_run("scheduler")["cancelled_orders"] == 0
    assert engine.order_pay("buyer", "a1", order["order_id"])["order"]["status"] == "PROCESSING"


def test_t9_unanswered_confirmation_expires(shop):
    engine = shop
    prepaid(engine, "ecs-r", "ECS", review_required=True)
    unanswered = create(engine, item("ecs-1"), placed_by_manager=True)
    under_review = create(engine, item("ecs-r"))
    engine.advance_clock(WEEK - 1)
    assert engine.scheduler_run("scheduler")["cancelled_orders"] == 0
    engine.advance_clock(1)
    assert engine.scheduler_run("scheduler")["cancelled_orders"] == 1
    expired = get(engine, unanswered["order_id"])
    assert expired["status"] == "CANCELLED" and expired["cancel_reason"] == "CONFIRMATION_EXPIRED"
    refused(lambda: engine.order_confirm("customer", "a1", unanswered["order_id"], "CONFIRM"),
            "illegal_transition")
    # A review has no deadline.
    engine.advance_clock(90 * DAY)
    assert engine.scheduler_run("scheduler")["cancelled_orders"] == 0
    assert get(engine, under_review["order_id"])["status"] == "PENDING_REVIEW"


def test_confirmation_after_the_validity_is_refused(shop):
    engine = shop
    order = create(engine, item("ecs-1"), placed_by_manager=True)
    engine.advance_clock(30 * DAY)  # the scheduler has not run yet
    before = world(engine)
    with pytest.raises(errors.Refused):
        engine.order_confirm("customer", "a1", order["order_id"], "CONFIRM")
    assert world(engine) == before


def test_t4_auto_pay(shop):
    engine = shop
    response = engine.order_create("buyer", "a1", [item("ecs-1")], auto_pay=True)
    order = response["order"]
    assert response["payment"]["succeeded"] is True
    assert order["status"] == "PROCESSING" and order["status_code"] == 3
    assert order["paid_at"] == START
    assert_paid_order(order)
    assert order["amounts"]["cash_fen"] == 10_000
    assert account(engine)["cash_balance_fen"] == 990_000
    [resource] = order["resources"]
    assert resource["status"] == "PENDING_PROVISION"


def test_t5_auto_pay_without_funds(shop):
    engine = shop
    engine.topup("pay", "a2", 9_999, "a2-seed")
    response = engine.order_create("buyer", "a2", [item("ecs-1")], auto_pay=True)
    assert response["payment"]["succeeded"] is False
    assert response["payment"]["reason"] == "insufficient_funds"
    order = response["order"]
    assert order["status"] == "PENDING_PAYMENT" and order["pay_deadline"] == START + WEEK
    assert order["payments"] == [] and order["resources"] == []
    assert order["amounts"]["paid_amount_fen"] == 0
    assert account(engine, "a2")["cash_balance_fen"] == 9_999
    # Explicit payment is refused the same way, and works after a top-up.
    refused(lambda: engine.order_pay("buyer", "a2", order["order_id"]), "insufficient_funds")
    engine.topup("pay", "a2", 1, "a2-more")
    assert engine.order_pay("buyer", "a2", order["order_id"])["order"]["status"] == "PROCESSING"
    assert account(engine, "a2")["cash_balance_fen"] == 0


def test_t10_pay(shop):
    engine = shop
    order = create(engine, item("ecs-1", quantity=2))
    engine.advance_clock(600)
    paid = engine.order_pay("buyer", "a1", order["order_id"])["order"]
    assert paid["status"] == "PROCESSING" and paid["paid_at"] == START + 600
    assert paid["payments"] == [{"source": "CASH", "coupon_id": None, "amount_fen": 20_000}]
    assert_paid_order(paid)
    assert [r["status"] for r in paid["resources"]] == ["PENDING_PROVISION"] * 2
    assert {r["order_id"] for r in paid["resources"]} == {order["order_id"]}
    assert account(engine)["cash_balance_fen"] == 980_000
    payment = [e for e in engine.iter_ledger("a1") if e["kind"] == "PAYMENT"]
    assert [(e["amount_fen"], e["order_id"]) for e in payment] == [(-20_000, order["order_id"])]
    assert cash_ledger_sum(engine) == 980_000
    created = [e["subject_id"] for e in engine.iter_events(account_id="a1")
               if e["type"] == "resource.created"]
    assert sorted(created) == sorted(r["resource_id"] for r in paid["resources"])
    assert get(engine, order["order_id"]) == paid


def test_order_details_refuse_payments_too_large_to_add_up(shop, db_path):
    # The details sum each source's payments over the order's resources with checked
    # arithmetic: a total past the 64-bit range (here from a tampered file) is an
    # "amount_out_of_range" error, never a crash. The read runs in a child interpreter so
    # that a trap cannot take the test run down.
    engine = shop
    order = engine.order_create("buyer", "a1", [item("ecs-1", quantity=2)], auto_pay=True)["order"]
    assert len(order["resources"]) == 2
    sql_execute(db_path, f"UPDATE resource_funding SET amount = {2 ** 62} WHERE order_id = {sql_text(order['order_id'])}")
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        import billing
        from billing import errors
        with billing.Engine({db_path!r}, clock="manual", now={engine.now()}) as engine:
            try:
                engine.order_get("a1", {order["order_id"]!r})
                print("no error")
            except errors.InvalidArgument as error:
                print(error.reason)
    """)], capture_output=True, text=True, timeout=60,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["amount_out_of_range"]


def test_t11_cancel(shop):
    engine = shop
    first, second = create(engine, item("ecs-1")), create(engine, item("evs-1"))
    engine.advance_clock(60)
    result = engine.orders_cancel("buyer", "a1", [first["order_id"], second["order_id"]],
                                  reason="changed my mind")
    assert [(r["order_id"], r["cancelled"]) for r in result["results"]] == [
        (first["order_id"], True), (second["order_id"], True)]
    for order_id in (first["order_id"], second["order_id"]):
        order = get(engine, order_id)
        assert order["status"] == "CANCELLED" and order["cancelled_at"] == START + 60
        assert order["cancel_reason"]
    assert account(engine)["cash_balance_fen"] == 1_000_000
    # Cancelling again reports, per id, why not.
    [again] = engine.orders_cancel("buyer", "a1", [first["order_id"]])["results"]
    assert again["cancelled"] is False and again["reason"] and again["message"]


def test_t12_scheduler_cancels_expired_orders(shop):
    engine = shop
    expiring = create(engine, item("ecs-1"))
    paid_in_time = create(engine, item("evs-1"))
    # Readers ignore keys they do not know (newer builds also report resource jobs).
    run = engine.scheduler_run("scheduler")
    assert (run["schema_version"], run["now"], run["cancelled_orders"], run["has_more"]) == (
        1, START, 0, False)
    engine.advance_clock(WEEK - 1)
    engine.order_pay("buyer", "a1", paid_in_time["order_id"])
    engine.advance_clock(1)  # exactly at the deadline

    before = world(engine)
    refused(lambda: engine.order_pay("buyer", "a1", expiring["order_id"]), "order_payment_expired")
    assert world(engine) == before

    run = engine.scheduler_run("scheduler")
    assert (run["now"], run["cancelled_orders"], run["has_more"]) == (START + WEEK, 1, False)
    order = get(engine, expiring["order_id"])
    assert order["status"] == "CANCELLED" and order["cancel_reason"] == "PAYMENT_EXPIRED"
    assert get(engine, paid_in_time["order_id"])["status"] == "PROCESSING"
    # Running it again does nothing more.
    assert engine.scheduler_run("scheduler")["cancelled_orders"] == 0
    refused(lambda: engine.order_pay("buyer", "a1", expiring["order_id"]), "order_not_payable")


def test_scheduler_works_in_batches(shop):
    engine = shop
    for _ in range(5):
        create(engine, item("evs-1"))
    engine.advance_clock(WEEK)
    runs = [engine.scheduler_run("scheduler", limit=2) for _ in range(3)]
    assert sum(r["cancelled_orders"] for r in runs) == 5
    assert runs[0]["has_more"] is True and runs[-1]["has_more"] is False
    assert {o["status"] for o in engine.iter_orders("a1")} == {"CANCELLED"}


@pytest.mark.parametrize("due, expected", [(4, [True, False]), (2, [False])])
def test_scheduler_has_more_only_when_more_is_due(shop, due, expected):
    # A batch that takes exactly what is due says there is no more (on PostgreSQL the claim
    # takes `limit` rows and only a full claim looks at the row after them).
    engine = shop
    for _ in range(due):
        create(engine, item("evs-1"))
    engine.advance_clock(WEEK)
    runs = [engine.scheduler_run("scheduler", limit=2) for _ in expected]
    assert [r["has_more"] for r in runs] == expected
    assert sum(r["cancelled_orders"] for r in runs) == due


def test_t14_provisioning_completes_the_order(shop):
    engine = shop
    order = engine.order_create("buyer", "a1", [item("ecs-1", quantity=2)], auto_pay=True)["order"]
    first, second = (r["resource_id"] for r in order["resources"])
    report = engine.resource_report("host", "a1", [{"resource_id": first, "outcome": "SUCCEEDED"}])
    assert report["refund_orders"] == []
    assert get(engine, order["order_id"])["status"] == "PROCESSING"  # one still pending

    report = engine.resource_report("host", "a1", [{"resource_id": second, "outcome": "SUCCEEDED"}])
    [reported] = report["resources"]
    assert reported["resource_id"] == second
    completed = get(engine, order["order_id"])
    assert completed["status"] == "COMPLETED" and completed["status_code"] == 5
    assert completed["completed_at"] == START
    for resource_id in (first, second):
        resource = engine.resource_get("a1", resource_id)["resource"]
        assert resource["status"] == "IN_USE" and resource["order_id"] == order["order_id"]
        assert resource["provisioned_at"] == resource["effective_at"] == START
        assert resource["expire_at"] == END_OF_FIRST_MONTH
        assert resource["expire_at_local"] == "2024-02-01T23:59:59+08:00"
        assert resource["period"] == M1
    assert account(engine)["cash_balance_fen"] == 980_000


def test_t14_period_starts_when_provisioned(shop):
    engine = shop
    order = engine.order_create("buyer", "a1", [item("evs-1", M3)], auto_pay=True)["order"]
    engine.advance_clock(DAY)  # provisioned the next day: 2024-01-02 10:30
    [resource] = order["resources"]
    engine.resource_report("host", "a1", [{"resource_id": resource["resource_id"],
                                           "outcome": "SUCCEEDED"}])
    stored = engine.resource_get("a1", resource["resource_id"])["resource"]
    assert stored["effective_at"] == START + DAY
    assert stored["expire_at_local"] == "2024-04-02T23:59:59+08:00"


def test_t15_failed_resource_is_refunded_in_full(shop):
    engine = shop
    coupon = voucher(engine, 1_000)
    order = create(engine, item("evs-1", quantity=2))
    paid = engine.order_pay("buyer", "a1", order["order_id"], coupon_ids=[coupon["coupon_id"]])["order"]
    assert_paid_order(paid)
    assert paid["amounts"]["voucher_fen"] == 1_000 and paid["amounts"]["cash_fen"] == 5_000
    assert coupon_balances(engine) == {coupon["coupon_id"]: 0}
    good, bad = (r["resource_id"] for r in paid["resources"])

    report = engine.resource_report("host", "a1", [
        {"resource_id": good, "outcome": "SUCCEEDED"}, {"resource_id": bad, "outcome": "FAILED"}])
    [refund] = report["refund_orders"]
    assert refund["type"] == "UNSUBSCRIBE" and refund["status"] == "COMPLETED"
    assert refund["source_order_id"] == order["order_id"]
    assert get(engine, order["order_id"])["status"] == "COMPLETED"
    assert engine.resource_get("a1", bad)["resource"]["status"] == "PROVISION_FAILED"
    assert engine.resource_get("a1", good)["resource"]["status"] == "IN_USE"
    assert engine.resource_get("a1", good)["resource"]["expire_at"] == END_OF_FIRST_MONTH

    details = get(engine, refund["order_id"])
    assert {r["resource_id"] for r in details["refunds"]} == {bad}
    assert all(r["paid_by_order_id"] == order["order_id"] for r in details["refunds"])
    # In full: the resource's whole price, cash and voucher as they were paid.
    assert refund_by_source(details) == {"CASH": 2_500, "VOUCHER": 500}
    assert details["amounts"]["list_price_fen"] == details["amounts"]["amount_due_fen"] == 3_000
    assert (details["amounts"]["voucher_fen"], details["amounts"]["cash_fen"]) == (500, 2_500)
    assert_paid_identities(details["amounts"])
    # Cash went back to the balance, the voucher part back to the voucher.
    assert account(engine)["cash_balance_fen"] == 1_000_000 - 5_000 + 2_500
    assert coupon_balances(engine) == {coupon["coupon_id"]: 500}
    refund_entries = [e for e in engine.iter_ledger("a1") if e["kind"] == "REFUND"]
    assert [(e["amount_fen"], e["order_id"]) for e in refund_entries] == [(2_500, refund["order_id"])]
    assert cash_ledger_sum(engine) == account(engine)["cash_balance_fen"]
    # The refund order shows in the list as UNSUBSCRIBE.
    [listed] = engine.orders("a1", order_type="UNSUBSCRIBE")["orders"]
    assert listed["order_id"] == refund["order_id"]
    assert_verified(engine)


def refund_by_source(refund_order):
    totals = collections.Counter()
    for entry in refund_order["refunds"]:
        totals[entry["source"]] += entry["amount_fen"]
    return dict(totals)


def test_t15_every_failed_resource_refunded_together_returns_everything(shop):
    engine = shop
    coupon = voucher(engine, 1_001)
    paid = engine.order_create("buyer", "a1", [item("evs-1", quantity=2)], auto_pay=True,
                               coupon_ids=[coupon["coupon_id"]])["order"]
    assert (paid["amounts"]["voucher_fen"], paid["amounts"]["cash_fen"]) == (1_001, 4_999)
    report = engine.resource_report("host", "a1", [
        {"resource_id": r["resource_id"], "outcome": "FAILED"} for r in paid["resources"]])
    totals = collections.Counter()
    for refund in report["refund_orders"]:
        totals.update(refund_by_source(get(engine, refund["order_id"])))
    assert totals == {"CASH": 4_999, "VOUCHER": 1_001}
    assert account(engine)["cash_balance_fen"] == 1_000_000
    assert coupon_balances(engine) == {coupon["coupon_id"]: 1_001}
    assert get(engine, paid["order_id"])["status"] == "COMPLETED"
    assert_verified(engine)


@pytest.mark.parametrize("failed", [0, 1])
def test_t15_refund_is_the_resource_price_when_the_sources_split_unevenly(shop, failed):
    engine = shop
    coupon = voucher(engine, 1_001)
    paid = engine.order_create("buyer", "a1", [item("evs-1", quantity=2)], auto_pay=True,
                               coupon_ids=[coupon["coupon_id"]])["order"]
    outcomes = ["SUCCEEDED", "SUCCEEDED"]
    outcomes[failed] = "FAILED"
    report = engine.resource_report("host", "a1", [
        {"resource_id": r["resource_id"], "outcome": outcome}
        for r, outcome in zip(paid["resources"], outcomes)])
    [refund] = report["refund_orders"]
    assert sum(refund_by_source(get(engine, refund["order_id"])).values()) == 3_000


# -- illegal transitions --------------------------------------------------------------

def test_illegal_transitions_change_nothing(shop):
    engine = shop
    cancelled = create(engine, item("ecs-1"))
    engine.orders_cancel("buyer", "a1", [cancelled["order_id"]])
    paid = create(engine, item("evs-1"))
    engine.order_pay("buyer", "a1", paid["order_id"])
    pending = create(engine, item("ecs-1"))

    before = world(engine)
    refused(lambda: engine.order_pay("buyer", "a1", cancelled["order_id"]), "order_not_payable")
    refused(lambda: engine.order_pay("buyer", "a1", paid["order_id"]), "order_already_paid")
    refused(lambda: engine.order_review("r", "a1", pending["order_id"], "APPROVE"),
            "illegal_transition")
    refused(lambda: engine.order_review("r", "a1", pending["order_id"], "REJECT"),
            "illegal_transition")
    refused(lambda: engine.order_confirm("c", "a1", pending["order_id"], "DECLINE"),
            "illegal_transition")
    refused(lambda: engine.order_review("r", "a1", paid["order_id"], "REJECT"),
            "illegal_transition")
    assert world(engine) == before

    # Cancelling a PROCESSING (or cancelled) order is reported per id; nothing changes.
    results = engine.orders_cancel("buyer", "a1", [paid["order_id"], cancelled["order_id"]])["results"]
    assert [(r["order_id"], r["cancelled"]) for r in results] == [
        (paid["order_id"], False), (cancelled["order_id"], False)]
    assert all(r["reason"] and r["message"] for r in results)
    assert get(engine, paid["order_id"])["status"] == "PROCESSING"
    assert get(engine, cancelled["order_id"])["status"] == "CANCELLED"
    assert account(engine)["cash_balance_fen"] == 997_000


@pytest.mark.parametrize("decision", ["approve", "MAYBE", ""])
def test_unknown_decisions_are_invalid(shop, decision):
    engine = shop
    prepaid(engine, "ecs-r", "ECS", review_required=True)
    order = create(engine, item("ecs-r"))
    before = world(engine)
    with pytest.raises(errors.InvalidArgument):
        engine.order_review("r", "a1", order["order_id"], decision)
    assert world(engine) == before


def test_batch_cancel_limit(shop):
    engine = shop
    limit = engine.config()["max_batch_cancel"]
    assert limit == 30
    ids = [create(engine, item("evs-1"))["order_id"] for _ in range(limit + 1)]
    before = world(engine)
    with pytest.raises(errors.InvalidArgument) as info:
        engine.orders_cancel("buyer", "a1", ids)
    assert info.value.reason == "too_many_items"
    assert world(engine) == before
    results = engine.orders_cancel("buyer", "a1", ids[:limit])["results"]
    assert [r["cancelled"] for r in results] == [True] * limit


# -- combined orders ------------------------------------------------------------------

def test_combined_order_is_paid_as_a_whole(shop):
    engine = shop
    combined = create(engine, item("ecs-1"), item("evs-1", Y1))
    assert combined["is_combined"] is True
    subs = [s["order_id"] for s in combined["sub_orders"]]
    assert len(subs) == 2 and combined["order_id"] not in subs
    assert all(s["combined_order_id"] == combined["order_id"] for s in combined["sub_orders"])

    before = world(engine)
    for sub_id in subs:
        error = refused(lambda: engine.order_pay("buyer", "a1", sub_id), "use_combined_order")
        assert combined["order_id"] in error.message
    assert world(engine) == before
    [first, second] = engine.orders_cancel("buyer", "a1", subs)["results"]
    for sub_id, result in zip(subs, (first, second)):
        assert result["order_id"] == sub_id
        assert result["cancelled"] is False and result["reason"] == "use_combined_order"
        assert combined["order_id"] in result["message"]
    assert world(engine, audited=1) == before

    paid = engine.order_pay("buyer", "a1", combined["order_id"])["order"]
    assert paid["status"] == "PROCESSING"
    assert [s["status"] for s in paid["sub_orders"]] == ["PROCESSING", "PROCESSING"]
    assert_paid_order(paid)
    assert paid["amounts"]["cash_fen"] == 40_000
    assert account(engine)["cash_balance_fen"] == 960_000
    assert_verified(engine)
    for sub_id in subs:
        assert get(engine, sub_id)["status"] == "PROCESSING"
    assert {r["product_id"] for r in paid["resources"]} == {"ecs-1", "evs-1"}
    # Rows of the list are the sub-orders; asking for the combined id lists them.
    assert sorted(o["order_id"] for o in engine.iter_orders("a1")) == sorted(subs)
    assert sorted(o["order_id"] for o in engine.orders("a1", order_id=combined["order_id"])["orders"]) \
        == sorted(subs)


def test_combined_order_is_cancelled_as_a_whole(shop):
    engine = shop
    combined = create(engine, item("ecs-1"), item("evs-1"))
    [result] = engine.orders_cancel("buyer", "a1", [combined["order_id"]])["results"]
    assert result["cancelled"] is True
    cancelled = get(engine, combined["order_id"])
    assert cancelled["status"] == "CANCELLED"
    assert [s["status"] for s in cancelled["sub_orders"]] == ["CANCELLED", "CANCELLED"]
    for sub in cancelled["sub_orders"]:
        assert get(engine, sub["order_id"])["status"] == "CANCELLED"
    refused(lambda: engine.order_pay("buyer", "a1", combined["order_id"]), "order_not_payable")
    assert_verified(engine)


def test_combined_order_expires_as_a_whole(shop):
    engine = shop
    combined = create(engine, item("ecs-1"), item("evs-1"))
    engine.advance_clock(WEEK)
    engine.scheduler_run("scheduler")
    expired = get(engine, combined["order_id"])
    assert expired["status"] == "CANCELLED" and expired["cancel_reason"] == "PAYMENT_EXPIRED"
    assert {s["status"] for s in expired["sub_orders"]} == {"CANCELLED"}


# -- coupons at payment ---------------------------------------------------------------

def test_voucher_and_cash(shop):
    engine = shop
    coupon = voucher(engine, 5_000)
    combined = create(engine, item("ecs-1"), item("evs-1", quantity=3))  # 10 000 + 9 000
    paid = engine.order_pay("buyer", "a1", combined["order_id"],
                            coupon_ids=[coupon["coupon_id"]])["order"]
    assert_paid_order(paid)
    amounts = paid["amounts"]
    assert (amounts["list_price_fen"], amounts["amount_due_fen"]) == (19_000, 19_000)
    assert (amounts["voucher_fen"], amounts["paid_amount_fen"], amounts["cash_fen"]) == (5_000, 14_000, 14_000)
    assert sorted((p["source"], p["coupon_id"], p["amount_fen"]) for p in paid["payments"]) == [
        ("CASH", None, 14_000), ("VOUCHER", coupon["coupon_id"], 5_000)]
    assert coupon_balances(engine) == {coupon["coupon_id"]: 0}
    assert [c["status"] for c in engine.iter_coupons("a1")] == ["USED_UP"]
    assert account(engine)["cash_balance_fen"] == 986_000
    assert cash_ledger_sum(engine) == 986_000


def test_voucher_larger_than_the_order_keeps_its_rest(shop):
    engine = shop
    coupon = voucher(engine, 12_345)
    paid = engine.order_pay("buyer", "a1", create(engine, item("ecs-1"))["order_id"],
                            coupon_ids=[coupon["coupon_id"]])["order"]
    assert_paid_order(paid)
    assert paid["amounts"]["voucher_fen"] == 10_000 and paid["amounts"]["paid_amount_fen"] == 0
    assert coupon_balances(engine) == {coupon["coupon_id"]: 2_345}
    assert account(engine)["cash_balance_fen"] == 1_000_000


def test_every_source_in_the_documented_order(shop):
    engine = shop
    engine.account_put("host", "a2", credit_limit_fen=50_000)
    engine.topup("pay", "a2", 1_000, "a2-seed")
    window = (START, START + 30 * DAY)
    ids = {
        "discount": engine.coupon_issue("ops", "a2", "DISCOUNT_COUPON", *window, discount_bp=1000,
                                        max_discount_fen=100_000)["coupon"]["coupon_id"],
        "voucher": voucher(engine, 2_000, account_id="a2",
                           exclusive_with_discounts=False)["coupon_id"],
        "card": engine.coupon_issue("ops", "a2", "STORED_VALUE_CARD", *window,
                                    face_value_fen=3_000)["coupon"]["coupon_id"],
    }
    order = create(engine, item("ecs-1", M3), account_id="a2")  # 30 000
    paid = engine.order_pay("buyer", "a2", order["order_id"], coupon_ids=list(ids.values()))["order"]
    assert_paid_order(paid)
    amounts = paid["amounts"]
    assert amounts["discount_coupon_fen"] == 3_000 and amounts["amount_due_fen"] == 27_000
    assert amounts["voucher_fen"] == 2_000
    assert amounts["stored_value_card_fen"] == 3_000
    assert amounts["cash_fen"] == 1_000
    assert amounts["credit_fen"] == 27_000 - 2_000 - 3_000 - 1_000
    stored = account(engine, "a2")
    assert stored["cash_balance_fen"] == 0 and stored["credit_used_fen"] == 21_000
    balances = coupon_balances(engine, "a2")
    assert balances[ids["voucher"]] == balances[ids["card"]] == 0
    assert_verified(engine)


def test_cash_coupon_is_used_before_cash(shop):
    engine = shop
    cash_coupon = engine.coupon_issue("ops", "a1", "CASH_COUPON", START, START + DAY,
                                      face_value_fen=700)["coupon"]
    paid = engine.order_pay("buyer", "a1", create(engine, item("evs-1"))["order_id"],
                            coupon_ids=[cash_coupon["coupon_id"]])["order"]
    assert_paid_order(paid)
    assert (paid["amounts"]["cash_coupon_fen"], paid["amounts"]["cash_fen"]) == (700, 2_300)
    assert paid["amounts"]["paid_amount_fen"] == 3_000  # a cash coupon counts as paid


def test_discount_coupon_reduces_the_amount_due(shop):
    engine = shop
    capped = engine.coupon_issue("ops", "a1", "DISCOUNT_COUPON", START, START + DAY,
                                 discount_bp=2_500, max_discount_fen=2_000)["coupon"]
    plain = engine.coupon_issue("ops", "a1", "DISCOUNT_COUPON", START, START + DAY,
                                discount_bp=1_000)["coupon"]
    first = engine.order_pay("buyer", "a1", create(engine, item("ecs-1"))["order_id"],
                             coupon_ids=[plain["coupon_id"]])["order"]
    assert_paid_order(first)
    assert first["amounts"]["discount_coupon_fen"] == 1_000
    assert first["amounts"]["amount_due_fen"] == first["amounts"]["cash_fen"] == 9_000
    second = engine.order_pay("buyer", "a1", create(engine, item("ecs-1"))["order_id"],
                              coupon_ids=[capped["coupon_id"]])["order"]
    assert second["amounts"]["discount_coupon_fen"] == 2_000  # 25 % capped at 2 000
    assert second["amounts"]["amount_due_fen"] == 8_000
    assert account(engine)["cash_balance_fen"] == 1_000_000 - 9_000 - 8_000


def test_commercial_discount(shop):
    engine = shop
    engine.discount_set("sales", "a1", "*", 500)
    engine.discount_set("sales", "a1", "ECS", 2_000)
    order = create(engine, item("ecs-1"), item("evs-1"))
    ecs, evs = order["sub_orders"]
    assert ecs["amounts"]["commercial_discount_fen"] == 2_000  # the type's rate
    assert evs["amounts"]["commercial_discount_fen"] == 150  # "*"
    assert order["amounts"]["amount_due_fen"] == 8_000 + 2_850
    engine.discount_set("sales", "a1", "ECS", 0)  # removed: "*" applies again
    assert engine.quote("a1", [item("ecs-1")])["amounts"]["commercial_discount_fen"] == 500
    with pytest.raises(errors.InvalidArgument):
        engine.discount_set("sales", "a1", "ECS", 10_000)


def test_promotion_and_commercial_discount_are_not_combined(shop):
    engine = shop
    prepaid(engine, "promo", "ECS", promotion_discount_bp=1_000)
    engine.discount_set("sales", "a1", "ECS", 2_000)
    amounts = engine.quote("a1", [item("promo")])["amounts"]
    assert amounts["amount_due_fen"] == 8_000  # the better one, 20 %, alone
    assert amounts["commercial_discount_fen"] + amounts["promotion_discount_fen"] == 2_000
    engine.discount_set("sales", "a1", "ECS", 500)
    amounts = engine.quote("a1", [item("promo")])["amounts"]
    assert amounts["amount_due_fen"] == 9_000
    assert amounts["promotion_discount_fen"] == 1_000 and amounts["commercial_discount_fen"] == 0


def _coupon_refusals(engine):
    """(coupon ids, order id, expected reason) for each documented coupon refusal."""
    window = (START, START + 30 * DAY)
    order_id = create(engine, item("ecs-1"))["order_id"]
    cases = {
        "min_spend": ([voucher(engine, 100, min_spend_fen=20_000)["coupon_id"]],
                      "coupon_min_spend_not_met"),
        "expired": ([voucher(engine, 100, valid_from=START - 2 * DAY,
                             valid_to=START - DAY)["coupon_id"]], "coupon_not_usable"),
        "not_yet_valid": ([voucher(engine, 100, valid_from=START + DAY)["coupon_id"]],
                          "coupon_not_usable"),
        "scope_product": ([voucher(engine, 100, scope={"products": ["EVS"]})["coupon_id"]],
                          "coupon_not_applicable"),
        "scope_mode": ([voucher(engine, 100, scope={"billing_modes": ["PREPAID_YEARLY"]})["coupon_id"]],
                       "coupon_not_applicable"),
        "scope_excluded": ([voucher(engine, 100, scope={"excluded_products": ["ecs-1"]})["coupon_id"]],
                           "coupon_not_applicable"),
        "too_many": ([engine.coupon_issue("ops", "a1", "CASH_COUPON", *window,
                                          face_value_fen=10)["coupon"]["coupon_id"]
                      for _ in range(4)], "too_many_coupons"),
        "other_account": ([voucher(engine, 100, account_id="a2")["coupon_id"]], "coupon_not_found"),
        "unknown": (["CPN999999999999"], "coupon_not_found"),
        "duplicate": ([voucher(engine, 100)["coupon_id"]] * 2, "duplicate_coupon"),
    }
    return order_id, cases


@pytest.mark.parametrize("case", ["min_spend", "expired", "not_yet_valid", "scope_product",
                                  "scope_mode", "scope_excluded", "too_many", "other_account",
                                  "unknown", "duplicate"])
def test_coupon_refusals_change_nothing(shop, case):
    engine = shop
    order_id, cases = _coupon_refusals(engine)
    coupon_ids, reason = cases[case]
    before = world(engine)
    with pytest.raises(errors.BillingError) as info:
        engine.order_pay("buyer", "a1", order_id, coupon_ids=coupon_ids)
    # Another account's coupon is "not found" like an unknown one; a repeated id is bad input.
    kind = {"coupon_not_found": errors.NotFound,
            "duplicate_coupon": errors.InvalidArgument}.get(reason, errors.Refused)
    assert type(info.value) is kind and info.value.reason == reason, info.value
    assert world(engine) == before
    # The order stays payable without the coupons.
    assert engine.order_pay("buyer", "a1", order_id)["order"]["status"] == "PROCESSING"


def test_exclusive_voucher_with_a_commercial_discount(shop):
    engine = shop
    engine.discount_set("sales", "a1", "ECS", 1_000)
    exclusive = voucher(engine, 500)  # vouchers are exclusive by default
    assert exclusive["exclusive_with_discounts"] is True
    order_id = create(engine, item("ecs-1"))["order_id"]
    before = world(engine)
    refused(lambda: engine.order_pay("buyer", "a1", order_id, coupon_ids=[exclusive["coupon_id"]]),
            "coupon_excludes_discounts")
    assert world(engine) == before
    # A non-exclusive voucher combines with the discount.
    combinable = voucher(engine, 500, exclusive_with_discounts=False)
    paid = engine.order_pay("buyer", "a1", order_id, coupon_ids=[combinable["coupon_id"]])["order"]
    assert_paid_order(paid)
    assert (paid["amounts"]["commercial_discount_fen"], paid["amounts"]["voucher_fen"],
            paid["amounts"]["cash_fen"]) == (1_000, 500, 8_500)


def test_three_coupons_are_allowed(shop):
    engine = shop
    assert engine.config()["max_coupons_per_payment"] == 3
    ids = [voucher(engine, 1_000 + i)["coupon_id"] for i in range(3)]
    paid = engine.order_pay("buyer", "a1", create(engine, item("ecs-1"))["order_id"],
                            coupon_ids=ids)["order"]
    assert_paid_order(paid)
    assert paid["amounts"]["voucher_fen"] == 3_003
    assert set(coupon_balances(engine).values()) == {0}


# -- bound products -------------------------------------------------------------------

def test_bound_products(shop):
    engine = shop
    prepaid(engine, "ecs-b", "ECS", bound_products=["evs-1"])
    quote = engine.quote("a1", [item("ecs-b", M3)])
    [quoted] = quote["items"]
    assert [line["product_id"] for line in quoted["lines"]] == ["ecs-b", "evs-1"]
    assert quote["amounts"]["amount_due_fen"] == 30_000 + 9_000

    order = engine.order_create("buyer", "a1", [item("ecs-b", M3)], auto_pay=True)["order"]
    assert order["is_combined"] is False
    primary_line, bound_line = order["lines"]
    assert bound_line["relation"] == "BOUND" and bound_line["parent_line"] == primary_line["line_no"]
    assert bound_line["period"] == M3
    assert_paid_order(order)
    primary, bound = sorted(order["resources"], key=lambda r: r["relation"] or "")
    assert primary["product_id"] == "ecs-b" and primary["relation"] is None
    assert bound["product_id"] == "evs-1" and bound["relation"] == "BOUND"
    assert bound["primary_resource_id"] == primary["resource_id"]
    stored = engine.resource_get("a1", bound["resource_id"])["resource"]
    assert stored["primary_resource_id"] == primary["resource_id"]
    assert_verified(engine)


# -- account isolation ----------------------------------------------------------------

def test_another_accounts_orders_are_not_found(shop):
    engine = shop
    engine.topup("pay", "a2", 1_000_000, "a2-seed")
    pending = create(engine, item("ecs-1"))
    paid = engine.order_create("buyer", "a1", [item("evs-1")], auto_pay=True)["order"]
    resource_id = paid["resources"][0]["resource_id"]
    before = world(engine), world(engine, "a2")
    cancels = 0
    for order_id in (pending["order_id"], paid["order_id"]):
        for call in (lambda: engine.order_get("a2", order_id),
                     lambda: engine.order_pay("buyer", "a2", order_id),
                     lambda: engine.order_review("r", "a2", order_id, "APPROVE"),
                     lambda: engine.order_confirm("c", "a2", order_id, "CONFIRM")):
            with pytest.raises(errors.NotFound):
                call()
        [result] = engine.orders_cancel("buyer", "a2", [order_id])["results"]
        cancels += 1
        assert result["cancelled"] is False and result["reason"] == "order_not_found"
    with pytest.raises(errors.NotFound):
        engine.resource_get("a2", resource_id)
    with pytest.raises(errors.NotFound):
        engine.resource_report("host", "a2", [{"resource_id": resource_id, "outcome": "FAILED"}])
    assert list(engine.iter_orders("a2")) == []
    assert engine.orders("a2", order_id=pending["order_id"])["orders"] == []
    assert (world(engine, audited=cancels), world(engine, "a2", audited=cancels)) == before
    assert get(engine, pending["order_id"])["status"] == "PENDING_PAYMENT"


# -- the order list -------------------------------------------------------------------

def test_list_filters(shop):
    engine = shop
    engine.product_put("ops", {"product_id": "od", "product_type": "ECS",
                               "billing_mode": "ON_DEMAND", "hourly_price_microfen": 10})
    pending = create(engine, item("ecs-1"))
    engine.advance_clock(DAY)
    cancelled = create(engine, item("evs-1"))
    engine.orders_cancel("buyer", "a1", [cancelled["order_id"]])
    engine.advance_clock(DAY)
    paid = engine.order_create("buyer", "a1", [item("evs-1")], auto_pay=True)["order"]
    on_demand = create(engine, {"product_id": "od"})

    def ids(**filters):
        return [o["order_id"] for o in engine.iter_orders("a1", **filters)]

    assert ids() == [on_demand["order_id"], paid["order_id"], cancelled["order_id"],
                     pending["order_id"]]
    assert ids(status="PENDING_PAYMENT") == [pending["order_id"]]
    assert ids(status="CANCELLED") == [cancelled["order_id"]]
    assert ids(status="PROCESSING") == [on_demand["order_id"], paid["order_id"]]
    assert ids(product_type="EVS") == [paid["order_id"], cancelled["order_id"]]
    assert ids(billing_mode="ON_DEMAND") == [on_demand["order_id"]]
    assert ids(billing_mode="PREPAID") == [paid["order_id"], cancelled["order_id"], pending["order_id"]]
    assert ids(order_type="NEW") == ids()
    assert ids(order_type="UNSUBSCRIBE") == []
    assert ids(created_from=START + DAY) == [on_demand["order_id"], paid["order_id"],
                                             cancelled["order_id"]]
    assert ids(created_from=START, created_to=START + DAY - 1) == [pending["order_id"]]
    # created_to is inclusive.
    assert ids(created_from=START, created_to=START + DAY) == [cancelled["order_id"],
                                                                pending["order_id"]]
    assert ids(order_id=paid["order_id"]) == [paid["order_id"]]
    assert ids(status="CANCELLED", product_type="ECS") == []
    for status in ("PENDING_REVIEW", "COMPLETED", "REFUNDING", "PENDING_CONFIRMATION"):
        assert ids(status=status) == []


@pytest.mark.parametrize("filters, reason", [
    ({"created_from": START, "created_to": START + 367 * DAY}, "invalid_window"),
    ({"created_from": START + DAY, "created_to": START}, "invalid_window"),
    ({"status": "PAID"}, "unknown_value"),
    ({"billing_mode": "PREPAID_MONTHLY"}, "unknown_value"),
    ({"order_type": "REFUND"}, "unknown_value"),
    ({"limit": 0}, "out_of_range"),
    ({"limit": 101}, "out_of_range"),
    ({"after": "not-a-cursor"}, "invalid_cursor"),
    ({"colour": "red"}, "unknown_field"),
])
def test_list_refuses_bad_filters(shop, filters, reason):
    with pytest.raises(errors.InvalidArgument) as info:
        shop.orders("a1", **filters)
    assert info.value.reason == reason


def test_list_window_of_a_year_is_accepted(shop):
    create(shop, item("ecs-1"))
    # 2024 is a leap year: one year from START is 366 days.
    assert len(shop.orders("a1", created_from=START, created_to=START + 366 * DAY)["orders"]) == 1


def test_list_pages_newest_first_each_row_once(shop):
    engine = shop
    rng = random.Random(45)
    expected = []
    while len(expected) < 45:
        if rng.random() < 0.2:
            order = create(engine, item("ecs-1"), item("evs-1"))
            expected.extend(s["order_id"] for s in order["sub_orders"])
        else:
            order = create(engine, item(rng.choice(["ecs-1", "evs-1"])))
            expected.append(order["order_id"])
        if rng.random() < 0.3:
            engine.orders_cancel("buyer", "a1", [order["order_id"]])
        if rng.random() < 0.5:  # several orders share a second now and then
            engine.advance_clock(rng.randint(1, 3600))

    pages, cursor = [], None
    while True:
        page = engine.orders("a1", after=cursor, limit=10)
        pages.append(page["orders"])
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    rows = [o for page in pages for o in page]
    assert [len(p) for p in pages[:-1]] == [10] * (len(pages) - 1)
    assert len(rows) == len(expected)
    assert sorted(o["order_id"] for o in rows) == sorted(expected)
    assert len({o["order_id"] for o in rows}) == len(rows)
    created = [o["created_at"] for o in rows]
    assert created == sorted(created, reverse=True)
    assert [o["order_id"] for o in rows] == [o["order_id"] for o in engine.iter_orders("a1", limit=7)]
    # Filters combine with paging.
    cancelled = [o["order_id"] for o in rows if o["status"] == "CANCELLED"]
    assert [o["order_id"] for o in engine.iter_orders("a1", status="CANCELLED", limit=3)] == cancelled


# -- concurrency ----------------------------------------------------------------------

ALLOWED_REFUSALS = {"order_already_paid", "order_not_payable", "insufficient_funds",
                    "coupon_not_usable", "use_combined_order"}


def _order_worker(args):
    """Runs in a spawned child: threads on its own engine pay, cancel and create orders."""
    path, worker, order_ids, sub_ids, coupon_ids, threads, start_at = args
    outcomes, failures, created = collections.Counter(), [], collections.defaultdict(set)
    with billing.Engine(path, clock="manual", now=START, busy_timeout_ms=60_000) as engine:
        barrier = threading.Barrier(threads)

        def work(thread):
            rng = random.Random(worker * 100 + thread)
            targets = order_ids + sub_ids
            rng.shuffle(targets)
            barrier.wait()
            # Both processes start at the same wall-clock instant, so their calls overlap.
            time.sleep(max(0.0, start_at - time.time()))
            try:
                for index, order_id in enumerate(targets):
                    action = rng.random()
                    try:
                        if action < 0.55:
                            coupons = rng.sample(coupon_ids, rng.randint(0, 2))
                            engine.order_pay(f"w{worker}", "a1", order_id, coupon_ids=coupons or None)
                            outcomes["paid"] += 1
                        elif action < 0.8:
                            for result in engine.orders_cancel(f"w{worker}", "a1", [order_id])["results"]:
                                outcomes["cancelled" if result["cancelled"] else result["reason"]] += 1
                        else:
                            # The same key and request from every worker: one order.
                            items = [item("evs-1")] + ([item("ecs-1")] if index % 2 else [])
                            key = f"shared-{index}"
                            response = engine.order_create("shared", "a1", items, auto_pay=True,
                                                           idempotency_key=key)
                            created[key].add(response["order"]["order_id"])
                            outcomes["created"] += 1
                    except errors.Refused as exc:
                        if exc.reason not in ALLOWED_REFUSALS:
                            raise
                        outcomes[exc.reason] += 1
            except Exception as exc:  # reported to the parent
                failures.append(f"worker {worker} thread {thread}: {exc!r}")

        pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
    return dict(outcomes), failures, {key: sorted(ids) for key, ids in created.items()}


def test_processes_and_threads_pay_and_cancel_concurrently(fast_engine, db_path):
    engine = fast_engine
    engine.account_put("host", "a1", type="ENTERPRISE", realname_verified=True, level="V3",
                       credit_limit_fen=20_000)
    engine.topup("pay", "a1", 150_000, "seed")  # not enough for everything
    prepaid(engine, "ecs-1", "ECS", 10_000, 100_000)
    prepaid(engine, "evs-1", "EVS", 3_000, 30_000)
    coupon_ids = [voucher(engine, 2_500 + i)["coupon_id"] for i in range(6)]
    coupon_ids += [engine.coupon_issue("ops", "a1", "CASH_COUPON", START, START + DAY,
                                       face_value_fen=1_234)["coupon"]["coupon_id"]]
    order_ids, sub_ids = [], []
    for index in range(60):
        if index % 3 == 0:
            order = create(engine, item("ecs-1"), item("evs-1", quantity=2))
            sub_ids.append(order["sub_orders"][index % 2]["order_id"])
        else:
            order = create(engine, item("evs-1" if index % 2 else "ecs-1"))
        order_ids.append(order["order_id"])

    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        # Spawned children take a moment to import; all start together a little later.
        start_at = time.time() + 3
        results = pool.map(_order_worker, [(db_path, w, order_ids, sub_ids, coupon_ids, 4,
                                            start_at) for w in range(2)])
    failures = [f for _, worker_failures, _ in results for f in worker_failures]
    assert failures == []
    outcomes, created = collections.Counter(), collections.defaultdict(set)
    for worker_outcomes, _, worker_created in results:
        outcomes.update(worker_outcomes)
        for key, ids in worker_created.items():
            created[key].update(ids)
    assert outcomes["paid"] > 0 and outcomes["cancelled"] > 0

    # Every order row and container, as the library now sees them.
    containers = {}
    for row in engine.iter_orders("a1", limit=100):
        key = row["combined_order_id"] or row["order_id"]
        containers.setdefault(key, get(engine, key))
    for order_id in order_ids:
        assert order_id in containers
    orders = list(containers.values())
    # One order per shared idempotency key, however many threads and processes sent it.
    assert created and all(len(ids) == 1 for ids in created.values()), created
    new_ids = {order_id for ids in created.values() for order_id in ids}
    assert set(containers) == set(order_ids) | new_ids

    # Ledger payment entries name the plain order or, for a combined order, each sub-order.
    entries = collections.defaultdict(list)
    for entry in engine.iter_ledger("a1", limit=100):
        if entry["kind"] == "PAYMENT":
            entries[entry["fund"], entry["order_id"]].append(entry["amount_fen"])
    coupon_use = collections.Counter()
    for order in orders:
        units = order["sub_orders"] or [order]
        if order["is_combined"]:
            # Never half-paid or half-cancelled.
            assert {s["status"] for s in order["sub_orders"]} == {order["status"]}, order["order_id"]
            for sub in order["sub_orders"]:
                assert get(engine, sub["order_id"])["status"] == order["status"]
            assert not any(key[1] == order["order_id"] for key in entries)
        if order["status"] in ("PROCESSING", "COMPLETED"):
            assert_paid_order(order)
            sources = [(p["source"], p["coupon_id"]) for p in order["payments"]]
            assert len(sources) == len(set(sources)), f"{order['order_id']} paid twice: {sources}"
            for unit in units:
                for fund, field in (("CASH", "cash_fen"), ("CREDIT", "credit_fen")):
                    amounts = entries[fund, unit["order_id"]]
                    assert len(amounts) == (1 if unit["amounts"][field] else 0), (unit, amounts)
                    assert -sum(amounts) == unit["amounts"][field]
            for payment in order["payments"]:
                if payment["coupon_id"]:
                    coupon_use[payment["coupon_id"]] += payment["amount_fen"]
        else:
            assert order["status"] in ("PENDING_PAYMENT", "CANCELLED")
            assert order["payments"] == []
            for unit in units:
                assert not entries.get(("CASH", unit["order_id"]))
                assert not entries.get(("CREDIT", unit["order_id"]))

    stored = account(engine)
    assert cash_ledger_sum(engine) == stored["cash_balance_fen"] - stored["arrears_fen"]
    assert stored["cash_balance_fen"] >= 0
    assert 0 <= stored["credit_used_fen"] <= stored["credit_limit_fen"]
    assert stored["credit_used_fen"] == sum(o["amounts"]["credit_fen"] for o in orders
                                            if o["status"] in ("PROCESSING", "COMPLETED"))
    for coupon in engine.iter_coupons("a1"):
        assert coupon["balance_fen"] >= 0
        assert coupon["face_value_fen"] - coupon["balance_fen"] == coupon_use[coupon["coupon_id"]]
    assert_verified(engine)


# -- the payment before paying (billing_order_pay_quote, issue 16) ------------------------

def test_pay_quote_is_what_the_payment_takes(shop):
    """The pay dialog's amounts with the chosen coupons equal what order_pay then takes,
    source by source; the quote writes nothing, and its refusals are the payment's."""
    engine = shop
    coupon = voucher(engine, 5_000)
    combined = create(engine, item("ecs-1"), item("evs-1", quantity=3))  # 10 000 + 9 000
    before = world(engine)
    plain = engine.order_pay_quote("a1", combined["order_id"])
    assert plain["payment"] == {"payable": True} and plain["coupons"] == [] and plain["is_combined"] is True
    assert (plain["amounts"]["amount_due_fen"], plain["amounts"]["cash_fen"]) == (19_000, 19_000)
    assert [c["coupon_id"] for c in plain["applicable_coupons"]] == [coupon["coupon_id"]]
    quote = engine.order_pay_quote("a1", combined["order_id"], coupon_ids=[coupon["coupon_id"]])
    assert quote["coupons"] == [{"coupon_id": coupon["coupon_id"], "kind": "VOUCHER", "amount_fen": 5_000}]
    assert (quote["amounts"]["voucher_fen"], quote["amounts"]["paid_amount_fen"]) == (5_000, 14_000)
    assert quote["pay_deadline"] == combined["pay_deadline"] and quote["quoted_at"] == engine.now()
    assert world(engine) == before  # nothing written
    paid = engine.order_pay("buyer", "a1", combined["order_id"], coupon_ids=[coupon["coupon_id"]])["order"]
    assert paid["amounts"] == quote["amounts"]
    # The order itself cannot be paid any more: refused as order_pay refuses it.
    with pytest.raises(errors.Refused) as info:
        engine.order_pay_quote("a1", combined["order_id"])
    assert info.value.reason == "order_already_paid"


def test_pay_quote_refusals(shop):
    engine = shop
    combined = create(engine, item("ecs-1"), item("evs-1"))
    sub_order = get(engine, combined["order_id"])["sub_orders"][0]["order_id"]
    with pytest.raises(errors.Refused) as info:
        engine.order_pay_quote("a1", sub_order)
    assert info.value.reason == "use_combined_order" and combined["order_id"] in info.value.message
    with pytest.raises(errors.NotFound):  # another account's order is not found
        engine.order_pay_quote("a2", combined["order_id"])
    # a2 has no money: the price stands and the quote says why paying would fail now.
    poor = create(engine, item("evs-1"), account_id="a2")
    quote = engine.order_pay_quote("a2", poor["order_id"])
    assert quote["payment"]["payable"] is False and quote["payment"]["reason"] == "insufficient_funds"
    assert quote["amounts"]["amount_due_fen"] == 3_000
    # A coupon of another account, or an unknown one: the payment's own refusal.
    other = voucher(engine, 1_000, account_id="a2")
    quote = engine.order_pay_quote("a1", combined["order_id"], coupon_ids=[other["coupon_id"]])
    assert quote["payment"]["payable"] is False
    for request, reason in [({"account_id": "a1"}, "missing_field"),
                            ({"account_id": "a1", "order_id": combined["order_id"], "actor": "x"}, "unknown_field"),
                            ({"account_id": "a1", "order_id": combined["order_id"], "coupon_ids": "c"}, "wrong_type")]:
        with pytest.raises(errors.InvalidArgument) as info:
            engine.call("billing_order_pay_quote", request)
        assert info.value.reason == reason, request


def test_order_list_groups_combined_orders(shop):
    """group_combined: a combined order is one row with its sub-orders, never split across
    pages (the pending-orders page shows it as one), and the counts count rows as shown."""
    engine = shop
    first = create(engine, item("evs-1"))
    engine.advance_clock(60)
    combined = create(engine, item("ecs-1"), item("evs-1"), item("evs-1", quantity=2))
    engine.advance_clock(60)
    later = [create(engine, item("evs-1")) for _ in range(2)]
    engine.orders_cancel("buyer", "a1", [later[0]["order_id"]])

    def rows(**filters):
        pages, after = [], None
        while True:
            page = engine.orders("a1", after=after, limit=2, group_combined=True, **filters)
            pages.append([(o["order_id"], [s["order_id"] for s in o.get("sub_orders", [])]) for o in page["orders"]])
            if not page["has_more"]:
                return pages
            after = page["next_cursor"]

    subs = [s["order_id"] for s in get(engine, combined["order_id"])["sub_orders"]]
    pages = rows()
    assert [order for page in pages for order, _ in page] == [
        later[1]["order_id"], later[0]["order_id"], combined["order_id"], first["order_id"]]
    assert dict(row for page in pages for row in page)[combined["order_id"]] == sorted(subs, reverse=True)
    assert all(len(page) <= 2 for page in pages)
    # A page of one row ends after the whole combined order.
    one = engine.orders("a1", limit=1, group_combined=True, after=engine.orders(
        "a1", limit=2, group_combined=True)["next_cursor"])
    assert [o["order_id"] for o in one["orders"]] == [combined["order_id"]]
    assert one["orders"][0]["is_combined"] is True and len(one["orders"][0]["sub_orders"]) == 3
    # Filters apply to the sub-orders; the combined row keeps only those that match.
    ecs_rows = engine.orders("a1", group_combined=True, product_type="ECS")["orders"]
    assert [(o["order_id"], [s["product_type"] for s in o["sub_orders"]]) for o in ecs_rows] == [
        (combined["order_id"], ["ECS"])]
    # Counts of rows as shown: the combined order once; without grouping, its sub-orders.
    grouped = engine.orders("a1", group_combined=True, with_counts=True)["counts"]
    assert (grouped["ALL"], grouped["PENDING_PAYMENT"], grouped["CANCELLED"]) == (4, 3, 1)
    plain = engine.orders("a1", with_counts=True)["counts"]
    assert (plain["ALL"], plain["PENDING_PAYMENT"]) == (6, 5)
    pending = engine.orders("a1", group_combined=True, status="PENDING_PAYMENT")["orders"]
    assert [o["order_id"] for o in pending] == [later[1]["order_id"], combined["order_id"], first["order_id"]]
    with pytest.raises(errors.InvalidArgument) as info:
        engine.orders("a1", group_combined="yes")
    assert info.value.reason == "wrong_type"
