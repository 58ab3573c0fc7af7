"""Unsubscription and refunds (billing_refund_quote, billing_resources_unsubscribe,
billing_resource_refund_blocks_set) through Python against the real library: the worked
examples of section 5 with their exact figures, the five-day quota, renewal periods, large
refunds under review, every reason a resource cannot be refunded, and two processes racing
to unsubscribe the same resource.

Times are business times (+08:00) written with `at()`. Tests that start at START
(2024-01-01 10:30) use `fast_engine` directly; the others open a second handle on the same
database with its manual clock at their own start (`engine_at`): a clock belongs to its
handle and never moves backwards.
"""

import multiprocessing

import pytest

import billing
from billing import errors
from helpers import (DAY, M1, M2, START, assert_verified, at, audit_count, buy, cash, customer,
                     event_count, events, refused, resource, coupon as balance_coupon)

Y1 = {"unit": "YEAR", "count": 1}

EVS = {"product_id": "evs.100", "product_type": "EVS", "billing_mode": "PREPAID",
       "monthly_price_fen": 10_000, "yearly_price_fen": 100_000,
       "hourly_price_microfen": 20_000_000}
SYSTEM_DISK = {"product_id": "evs.sys40", "product_type": "EVS", "billing_mode": "PREPAID",
               "monthly_price_fen": 1_000, "yearly_price_fen": 10_000}
ECS = {"product_id": "ecs.s6", "product_type": "ECS", "billing_mode": "PREPAID",
       "monthly_price_fen": 10_000, "yearly_price_fen": 100_000,
       "bound_products": ["evs.sys40"]}
VPC = {"product_id": "vpc.m", "product_type": "VPC", "billing_mode": "PREPAID",
       "monthly_price_fen": 100}


# -- helpers --------------------------------------------------------------------------

def shop(engine, cash=1_000_000, level="V3", products=(EVS, SYSTEM_DISK, ECS, VPC)):
    """The account a1 (verified enterprise) with `cash`, and the catalog."""
    customer(engine, cash=cash, level=level)
    for product in products:
        engine.product_put("catalog", product)
    return engine


def product(engine, product_id, product_type="X", billing_mode="PREPAID", **fields):
    engine.product_put("catalog", {"product_id": product_id, "product_type": product_type,
                                   "billing_mode": billing_mode, **fields})


def voucher(engine, fen, valid_to=None):
    """A voucher valid from a day ago until `valid_to` (default: a year from now)."""
    return balance_coupon(engine, "VOUCHER", fen, valid_to)


def coupon(engine, coupon_id):
    [found] = [c for c in engine.iter_coupons("a1", status="ALL") if c["coupon_id"] == coupon_id]
    return found


def entry(quote, index=0):
    return quote["resources"][index]


def period_of(quote, method="FORMULA"):
    [found] = [p for p in entry(quote)["periods"] if p["method"] == method]
    return found


def world(engine, resource_ids=()):
    """Everything a refused or rejected unsubscription must leave unchanged."""
    return {"account": engine.account_get("a1")["account"],
            "ledger": list(engine.iter_ledger("a1")),
            "coupons": list(engine.iter_coupons("a1", status="ALL")),
            "orders": [engine.order_get("a1", o["order_id"])["order"]
                       for o in engine.iter_orders("a1", limit=100)],
            "resources": [resource(engine, rid) for rid in resource_ids],
            "events": event_count(engine), "audit": audit_count(engine)}


# -- §5.7: the formula ----------------------------------------------------------------

def test_evs_non_five_day_formula(fast_engine):
    """Bought 2024-01-01 10:30, expiring 2024-02-01 23:59:59, unsubscribed 2024-01-15 18:40:
    758 hours, 344 used; 100.00 paid ⇒ consumed 45.38, fee 10.00, refund 44.62."""
    engine = shop(fast_engine)
    [disk] = buy(engine, "evs.100")
    assert resource(engine, disk)["expire_at"] == at(2024, 2, 1, 23, 59, 59)
    engine.set_clock(at(2024, 1, 15, 18, 40))
    before = world(engine, [disk])
    quote = engine.refund_quote("a1", [disk])
    assert world(engine, [disk]) == before  # a quote changes nothing
    assert quote["type"] == "RESOURCE" and quote["computed_at"] == at(2024, 1, 15, 18, 40)
    assert quote["refundable"] is True and quote["review_required"] is False
    assert quote["total_refund_fen"] == 4_462
    assert quote["five_day_quota"] == {"year": 2024, "limit": 10, "used_before": 0, "used_after": 0}
    disk_entry = entry(quote)
    assert disk_entry["class"] == "NON_FIVE_DAY" and disk_entry["reason"] is None
    assert disk_entry["resource_ids"] == [disk]
    assert disk_entry["refund_fen"] == 4_462 and disk_entry["refund_by_source"] == {"CASH": 4_462}
    [period] = disk_entry["periods"]
    assert period["method"] == "FORMULA"
    assert (period["start"], period["end"]) == (START, at(2024, 2, 1, 23, 59, 59))
    assert period["paid_amount_fen"] == 10_000
    assert (period["total_units"], period["used_units"]) == (758, 344)
    assert period["consumed_fen"] == 4_538
    assert (period["fee_rate_bp"], period["fee_bracket"], period["fee_fen"]) == (1_000, 0, 1_000)
    assert period["refund_fen"] == 4_462
    assert period["refund"] == [{"source": "CASH", "coupon_id": None, "amount_fen": 4_462}]
    assert period["forfeited"] == []
    assert engine.refund_quote("a1", [disk]) == quote  # same state, same quote

    cash_before = cash(engine)
    done = engine.resources_unsubscribe("customer", "a1", [disk], quote_id=quote["quote_id"],
                                        reason_type=2, reason="no longer needed")
    # The quote executed, exactly as quoted.
    assert done["quote"] == quote
    order = done["order"]
    assert order["type"] == "UNSUBSCRIBE" and order["status"] == "COMPLETED"
    assert order["completed_at"] == at(2024, 1, 15, 18, 40)
    assert order["source_order_id"] == resource(engine, disk)["order_id"]
    assert order["amounts"]["cash_fen"] == order["amounts"]["list_price_fen"] == 4_462
    assert order["amounts"]["voucher_fen"] == 0
    assert order["refunds"] == [{"resource_id": disk, "paid_by_order_id": order["source_order_id"],
                                 "source": "CASH", "coupon_id": None, "amount_fen": 4_462}]
    assert cash(engine) == cash_before + 4_462
    last = list(engine.iter_ledger("a1"))[-1]
    assert (last["kind"], last["fund"], last["amount_fen"], last["order_id"]) == (
        "REFUND", "CASH", 4_462, order["order_id"])
    gone = resource(engine, disk)
    assert gone["status"] == "UNSUBSCRIBED" and gone["ended_at"] == at(2024, 1, 15, 18, 40)
    [event] = events(engine, "resource.unsubscribed", disk)
    assert event["data"]["order_id"] == order["order_id"]
    assert engine.order_get("a1", order["order_id"])["order"]["status"] == "COMPLETED"
    assert_verified(engine)


def test_evs_formula_with_a_voucher_forfeits_the_voucher(fast_engine):
    """20.00 voucher + 80.00 cash: the formula runs on the 80.00 paid ⇒ consumed 36.31,
    fee 8.00, refund 35.69 in cash; the voucher is lost."""
    engine = shop(fast_engine)
    ticket = voucher(engine, 2_000)
    [disk] = buy(engine, "evs.100", coupon_ids=[ticket])
    assert coupon(engine, ticket)["balance_fen"] == 0
    engine.set_clock(at(2024, 1, 15, 18, 40))
    quote = engine.refund_quote("a1", [disk])
    period = period_of(quote)
    assert period["paid"] == [{"source": "CASH", "coupon_id": None, "amount_fen": 8_000},
                              {"source": "VOUCHER", "coupon_id": ticket, "amount_fen": 2_000}]
    assert period["paid_amount_fen"] == 8_000
    assert (period["total_units"], period["used_units"]) == (758, 344)
    assert (period["consumed_fen"], period["fee_fen"], period["refund_fen"]) == (3_631, 800, 3_569)
    assert period["forfeited"] == [{"source": "VOUCHER", "coupon_id": ticket, "amount_fen": 2_000}]
    assert entry(quote)["refund_by_source"] == {"CASH": 3_569}
    assert entry(quote)["coupons_returned_fen"] == 0
    cash_before = cash(engine)
    order = engine.resources_unsubscribe("customer", "a1", [disk])["order"]
    assert order["status"] == "COMPLETED"
    assert (order["amounts"]["cash_fen"], order["amounts"]["voucher_fen"]) == (3_569, 0)
    assert cash(engine) == cash_before + 3_569
    lost = coupon(engine, ticket)
    assert lost["balance_fen"] == 0 and lost["status"] == "USED_UP"
    assert_verified(engine)


# -- §5.3: five-day refunds -----------------------------------------------------------

def test_five_day_refund_returns_everything_and_uses_quota(engine_at):
    """Bought 2020-10-20 for 100.00 = 20.00 voucher + 80.00 cash, four five-day refunds
    already that year; unsubscribed 2020-10-22 ⇒ 80.00 cash and the voucher back, quota 4 → 5."""
    engine = shop(engine_at(at(2020, 10, 1, 9)))
    for _ in range(4):
        [early] = buy(engine, "evs.100")
        assert entry(engine.refund_quote("a1", [early]))["class"] == "FIVE_DAY"
        engine.resources_unsubscribe("customer", "a1", [early])
    engine.set_clock(at(2020, 10, 20, 10))
    ticket = voucher(engine, 2_000, valid_to=at(2020, 12, 31, 23, 59, 59))
    [disk] = buy(engine, "evs.100", coupon_ids=[ticket])
    engine.set_clock(at(2020, 10, 22, 15))
    quote = engine.refund_quote("a1", [disk])
    disk_entry = entry(quote)
    assert disk_entry["class"] == "FIVE_DAY"
    assert quote["five_day_quota"] == {"year": 2020, "limit": 10, "used_before": 4, "used_after": 5}
    assert disk_entry["five_day_quota_unit"] == disk
    assert quote["total_refund_fen"] == disk_entry["refund_fen"] == 10_000
    assert disk_entry["refund_by_source"] == {"CASH": 8_000, "VOUCHER": 2_000}
    assert disk_entry["coupons_returned_fen"] == 2_000
    assert disk_entry["coupons_forfeited_fen"] == 0
    assert [p["method"] for p in disk_entry["periods"]] == ["FULL"]

    cash_before = cash(engine)
    order = engine.resources_unsubscribe("customer", "a1", [disk], quote_id=quote["quote_id"])["order"]
    assert order["status"] == "COMPLETED"
    assert (order["amounts"]["cash_fen"], order["amounts"]["voucher_fen"]) == (8_000, 2_000)
    assert cash(engine) == cash_before + 8_000
    back = coupon(engine, ticket)
    assert back["balance_fen"] == 2_000 and back["status"] == "USABLE"
    assert resource(engine, disk)["status"] == "UNSUBSCRIBED"
    [another] = buy(engine, "evs.100")
    assert engine.refund_quote("a1", [another])["five_day_quota"]["used_before"] == 5
    assert_verified(engine)


def test_a_voucher_expired_by_the_refund_is_void(engine_at):
    """A five-day refund gives the voucher part back to the voucher; one that has expired
    meanwhile is void (reported as coupons_forfeited_fen), the cash still comes back."""
    engine = shop(engine_at(at(2020, 10, 20, 10)))
    ticket = voucher(engine, 2_000, valid_to=at(2020, 10, 21))
    [disk] = buy(engine, "evs.100", coupon_ids=[ticket])
    engine.set_clock(at(2020, 10, 22, 15))
    disk_entry = entry(engine.refund_quote("a1", [disk]))
    assert disk_entry["class"] == "FIVE_DAY"
    assert disk_entry["refund_by_source"] == {"CASH": 8_000, "VOUCHER": 2_000}
    assert (disk_entry["coupons_returned_fen"], disk_entry["coupons_forfeited_fen"]) == (0, 2_000)
    cash_before = cash(engine)
    order = engine.resources_unsubscribe("customer", "a1", [disk])["order"]
    assert cash(engine) == cash_before + 8_000
    void = coupon(engine, ticket)
    assert (void["balance_fen"], void["status"]) == (0, "EXPIRED")
    [completed] = [e for e in events(engine, "order.status_changed", order["order_id"])
                   if e["data"]["to"] == "COMPLETED"]
    assert completed["data"]["coupons_voided_fen"] == 2_000
    assert_verified(engine)


def test_five_day_window_is_strict(engine_at):
    """Provisioned 2022-11-24 14:30:30: five-day refunds until 2022-11-29 14:30:30, exclusive."""
    engine = shop(engine_at(at(2022, 11, 24, 14, 30, 30)))
    [disk] = buy(engine, "evs.100")
    assert resource(engine, disk)["provisioned_at"] == at(2022, 11, 24, 14, 30, 30)
    engine.set_clock(at(2022, 11, 29, 14, 30, 29))
    inside = engine.refund_quote("a1", [disk])
    assert entry(inside)["class"] == "FIVE_DAY" and inside["total_refund_fen"] == 10_000
    engine.set_clock(at(2022, 11, 29, 14, 30, 30))
    outside = engine.refund_quote("a1", [disk])
    assert entry(outside)["class"] == "NON_FIVE_DAY"
    assert outside["total_refund_fen"] < 10_000
    assert outside["five_day_quota"]["used_after"] == 0


def test_five_day_quota_counting(fast_engine):
    """Ten disks of one order count ten; an ECS with its bound disk plus a VPC count two;
    ten resources of a product not refundable per resource count one and go together."""
    engine = shop(fast_engine)
    engine.update_config({"five_day_quota_per_year": 100}, actor="ops")
    disks = buy(engine, "evs.100", quantity=10)
    assert len(disks) == 10
    quote = engine.refund_quote("a1", disks)
    assert quote["five_day_quota"] == {"year": 2024, "limit": 100, "used_before": 0, "used_after": 10}
    assert [e["resource_ids"] for e in quote["resources"]] == [[rid] for rid in disks]
    assert {e["class"] for e in quote["resources"]} == {"FIVE_DAY"}
    assert quote["total_refund_fen"] == 100_000

    ecs, system_disk = buy(engine, "ecs.s6")
    assert resource(engine, system_disk)["primary_resource_id"] == ecs
    [vpc] = buy(engine, "vpc.m")
    pair = engine.refund_quote("a1", [ecs, vpc])
    assert pair["five_day_quota"]["used_after"] == 2
    assert [e["resource_ids"] for e in pair["resources"]] == [[ecs, system_disk], [vpc]]
    assert pair["total_refund_fen"] == 10_000 + 1_000 + 100

    product(engine, "desk", "WORKSPACE", monthly_price_fen=100, per_resource_refund=False)
    desks = buy(engine, "desk", quantity=10)
    one = engine.refund_quote("a1", [desks[3]])
    assert one["five_day_quota"]["used_after"] == 1
    assert sorted(entry(one)["resource_ids"]) == sorted(desks)
    assert entry(one)["five_day_quota_unit"] == "order:" + resource(engine, desks[0])["order_id"]
    assert one["total_refund_fen"] == 1_000
    cash_before = cash(engine)
    order = engine.resources_unsubscribe("customer", "a1", [desks[0]])["order"]
    assert order["amounts"]["cash_fen"] == 1_000
    assert cash(engine) == cash_before + 1_000
    assert {resource(engine, rid)["status"] for rid in desks} == {"UNSUBSCRIBED"}
    assert engine.refund_quote("a1", disks)["five_day_quota"]["used_before"] == 1
    assert_verified(engine)


def test_five_day_quota_exhausted_falls_back_to_the_formula(fast_engine):
    engine = shop(fast_engine)
    engine.update_config({"five_day_quota_per_year": 1}, actor="ops")
    [first] = buy(engine, "evs.100")
    engine.resources_unsubscribe("customer", "a1", [first])
    [second] = buy(engine, "evs.100")
    quote = engine.refund_quote("a1", [second])
    assert entry(quote)["class"] == "NON_FIVE_DAY"
    assert entry(quote)["five_day_quota_exhausted"] is True
    assert quote["five_day_quota"] == {"year": 2024, "limit": 1, "used_before": 1, "used_after": 1}


# -- §5.5: renewal periods ------------------------------------------------------------

def test_renewal_period_refunded_in_full(fast_engine):
    """Bought 2024-01-01 for a month, renewed on 01-05 for a month paying 20.00 voucher +
    80.00 cash; RENEWAL_ONLY on 01-10 ⇒ 80.00 cash and 20.00 voucher back, the expiry stays
    2024-02-01 23:59:59."""
    engine = shop(fast_engine)
    [disk] = buy(engine, "evs.100")
    engine.set_clock(at(2024, 1, 5, 10))
    ticket = voucher(engine, 2_000)
    renewal = engine.resources_renew("customer", "a1", [disk], period=M1)["order"]
    paid = engine.order_pay("customer", "a1", renewal["order_id"], coupon_ids=[ticket])["order"]
    assert (paid["amounts"]["cash_fen"], paid["amounts"]["voucher_fen"]) == (8_000, 2_000)
    assert resource(engine, disk)["expire_at"] == at(2024, 3, 1, 23, 59, 59)

    engine.set_clock(at(2024, 1, 10, 10))
    quote = engine.refund_quote("a1", [disk], type="RENEWAL_ONLY")
    assert quote["type"] == "RENEWAL_ONLY"
    disk_entry = entry(quote)
    assert disk_entry["class"] == "RENEWAL_ONLY"
    assert disk_entry["fallback_expiry"] == at(2024, 2, 1, 23, 59, 59)
    assert quote["total_refund_fen"] == 10_000
    assert disk_entry["refund_by_source"] == {"CASH": 8_000, "VOUCHER": 2_000}
    [period] = disk_entry["periods"]
    assert period["method"] == "FULL" and period["paid_by_order_id"] == renewal["order_id"]
    assert quote["five_day_quota"]["used_after"] == 0

    cash_before = cash(engine)
    order = engine.resources_unsubscribe("customer", "a1", [disk], type="RENEWAL_ONLY",
                                         quote_id=quote["quote_id"])["order"]
    assert order["status"] == "COMPLETED"
    assert (order["amounts"]["cash_fen"], order["amounts"]["voucher_fen"]) == (8_000, 2_000)
    assert {r["paid_by_order_id"] for r in order["refunds"]} == {renewal["order_id"]}
    assert cash(engine) == cash_before + 8_000
    assert coupon(engine, ticket)["balance_fen"] == 2_000
    kept = resource(engine, disk)
    assert kept["status"] == "IN_USE" and kept["expire_at"] == at(2024, 2, 1, 23, 59, 59)
    [event] = events(engine, "resource.renewal_unsubscribed", disk)
    assert event["data"] == {"order_id": order["order_id"], "expire_at": at(2024, 2, 1, 23, 59, 59)}
    # Nothing is left to unsubscribe on its own.
    again = engine.refund_quote("a1", [disk], type="RENEWAL_ONLY")
    assert (entry(again)["class"], entry(again)["reason"]) == ("NOT_ALLOWED", "NO_INACTIVE_PERIOD")
    refused(lambda: engine.resources_unsubscribe("customer", "a1", [disk], type="RENEWAL_ONLY"),
            "not_refundable")
    assert_verified(engine)


def test_renewal_only_falls_back_to_a_chosen_expiry(fast_engine):
    engine = shop(fast_engine)
    [disk] = buy(engine, "evs.100")
    for _ in range(3):
        engine.resources_renew("customer", "a1", [disk], period=M1, auto_pay=True)
    assert resource(engine, disk)["expire_at"] == at(2024, 5, 1, 23, 59, 59)
    march = at(2024, 3, 1, 23, 59, 59)
    with pytest.raises(errors.InvalidArgument) as info:
        engine.refund_quote("a1", [disk], type="RENEWAL_ONLY", fallback_expiry=at(2024, 2, 15))
    assert info.value.reason == "invalid_fallback_expiry"
    with pytest.raises(errors.InvalidArgument):
        engine.refund_quote("a1", [disk], fallback_expiry=march)  # RENEWAL_ONLY only
    quote = engine.refund_quote("a1", [disk], type="RENEWAL_ONLY", fallback_expiry=march)
    assert quote["total_refund_fen"] == 20_000
    engine.resources_unsubscribe("customer", "a1", [disk], type="RENEWAL_ONLY", fallback_expiry=march)
    assert resource(engine, disk)["expire_at"] == march
    assert_verified(engine)


def test_current_period_by_formula_and_periods_to_come_in_full(fast_engine):
    engine = shop(fast_engine)
    [disk] = buy(engine, "evs.100")
    renewal = engine.resources_renew("customer", "a1", [disk], period=M2, auto_pay=True)["order"]
    engine.set_clock(at(2024, 1, 15, 18, 40))
    quote = engine.refund_quote("a1", [disk])
    assert entry(quote)["refund_fen"] == 4_462 + 20_000
    methods = {p["method"]: p["paid_by_order_id"] for p in entry(quote)["periods"]}
    assert methods == {"FORMULA": resource(engine, disk)["order_id"], "FULL": renewal["order_id"]}
    order = engine.resources_unsubscribe("customer", "a1", [disk])["order"]
    assert order["amounts"]["cash_fen"] == 24_462
    assert {r["paid_by_order_id"] for r in order["refunds"]} == set(methods.values())
    assert_verified(engine)


# -- §5.10: large refunds are reviewed ------------------------------------------------

def test_large_refunds_wait_for_review(fast_engine):
    """A yearly 100,000.00 server unsubscribed on 2024-02-10 10:30: 8,798 hours, 960 used ⇒
    consumed 1,091,157, fee 1,000,000, refund 7,908,843 fen, above the 5,000,000 threshold."""
    engine = shop(fast_engine, cash=50_000_000)
    product(engine, "ecs.big", "ECS", yearly_price_fen=10_000_000)
    [server] = buy(engine, "ecs.big", period=Y1)
    assert resource(engine, server)["expire_at"] == at(2025, 1, 1, 23, 59, 59)
    engine.set_clock(at(2024, 2, 10, 10, 30))
    quote = engine.refund_quote("a1", [server])
    period = period_of(quote)
    assert (period["total_units"], period["used_units"]) == (8_798, 960)
    assert (period["consumed_fen"], period["fee_fen"]) == (1_091_157, 1_000_000)
    assert quote["total_refund_fen"] == 7_908_843
    assert quote["review_required"] is True
    assert engine.config()["large_refund_threshold_fen"] == 5_000_000

    before = world(engine, [server])
    pending = engine.resources_unsubscribe("customer", "a1", [server], quote_id=quote["quote_id"])["order"]
    assert pending["status"] == "PENDING_REVIEW" and pending["review_required"] is True
    assert pending["amounts"]["cash_fen"] == 7_908_843
    assert resource(engine, server)["status"] == "IN_USE"
    assert cash(engine) == before["account"]["cash_balance_fen"]
    assert list(engine.iter_ledger("a1")) == before["ledger"]
    [event] = events(engine, "order.refund_review_required", pending["order_id"])
    assert event["data"]["total_refund_fen"] == 7_908_843
    # While it waits the resource is in a transaction: no second unsubscription, no renewal.
    assert entry(engine.refund_quote("a1", [server]))["reason"] == "TRANSACTION_IN_PROGRESS"
    refused(lambda: engine.resources_unsubscribe("customer", "a1", [server]), "not_refundable")

    rejected = engine.order_review("manager", "a1", pending["order_id"], "REJECT", comment="no")["order"]
    assert rejected["status"] == "CANCELLED" and rejected["cancel_reason"] == "REVIEW_REJECTED"
    after = world(engine, [server])
    assert after["account"] == before["account"] and after["ledger"] == before["ledger"]
    assert after["resources"] == before["resources"]
    assert resource(engine, server)["status"] == "IN_USE"

    again = engine.resources_unsubscribe("customer", "a1", [server])["order"]
    assert again["status"] == "PENDING_REVIEW" and again["order_id"] != pending["order_id"]
    engine.advance_clock(3_600)  # approval refunds what was computed when it was asked for
    approved = engine.order_review("manager", "a1", again["order_id"], "APPROVE")["order"]
    assert approved["status"] == "COMPLETED"
    assert cash(engine) == before["account"]["cash_balance_fen"] + 7_908_843
    assert resource(engine, server)["status"] == "UNSUBSCRIBED"
    refused(lambda: engine.resources_unsubscribe("customer", "a1", [server]), "not_refundable")
    assert_verified(engine)


def test_a_refund_at_the_threshold_is_not_reviewed(fast_engine):
    engine = shop(fast_engine, cash=50_000_000)
    product(engine, "ecs.big", "ECS", yearly_price_fen=10_000_000)
    [server] = buy(engine, "ecs.big", period=Y1)
    engine.set_clock(at(2024, 2, 10, 10, 30))
    engine.update_config({"large_refund_threshold_fen": 7_908_843}, actor="ops")
    quote = engine.refund_quote("a1", [server])
    assert quote["total_refund_fen"] == 7_908_843 and quote["review_required"] is False
    order = engine.resources_unsubscribe("customer", "a1", [server])["order"]
    assert order["status"] == "COMPLETED"


# -- §5.8: what cannot be refunded ----------------------------------------------------

def _not_refundable(engine, reason):
    """Sets up a resource that cannot be unsubscribed for `reason`; returns its id."""
    if reason == "FREE_SERVICE":
        product(engine, "free", monthly_price_fen=0)
        return buy(engine, "free")[0]
    if reason == "TRIAL":
        product(engine, "trial", monthly_price_fen=100, trial=True)
        return buy(engine, "trial")[0]
    if reason == "ONE_OFF":
        product(engine, "box.1", "HARDWARE", "ONE_OFF", kind="hardware", one_off_price_fen=50_000)
        return buy(engine, "box.1", period=None)[0]
    if reason == "PACKAGE_EFFECTIVE":
        product(engine, "obs.100g", "OBS", "PACKAGE", monthly_price_fen=900,
                package={"kind": "CAPACITY", "quota": 100, "applies_to": ["OBS"]})
        [package] = buy(engine, "obs.100g", provision=False)
        assert resource(engine, package)["status"] == "IN_USE"
        return package
    if reason == "PAY_PER_USE":
        product(engine, "bw", "EIP", "ON_DEMAND", hourly_price_microfen=12_345_678)
        return buy(engine, "bw", period=None)[0]
    if reason == "MUST_BE_WHOLE":
        return buy(engine, "ecs.s6")[1]
    if reason == "PROMOTION_NO_REFUND":
        product(engine, "promo", monthly_price_fen=100, promotion_discount_bp=1_000,
                promotion_forbids_refund=True)
        return buy(engine, "promo")[0]
    if reason == "PRODUCT_NOT_REFUNDABLE":
        product(engine, "norefund", monthly_price_fen=100, refundable=False)
        return buy(engine, "norefund")[0]
    [disk] = buy(engine, "evs.100")
    if reason == "TRANSACTION_IN_PROGRESS":
        engine.resources_renew("customer", "a1", [disk], period=M1)
    elif reason == "EXPIRED":
        engine.set_clock(at(2024, 2, 2, 3))
        engine.scheduler_run("scheduler")
        assert resource(engine, disk)["status"] == "EXPIRED"
    elif reason == "POLICE_FROZEN":
        engine.account_put("kyc", "a1", freeze="POLICE")
    elif reason in ("INVOICED_MARKETPLACE", "ARCHIVED", "SUPPORT_BENEFIT_USED"):
        response = engine.refund_blocks_set("host", "a1", disk, [reason])
        assert response["resource_id"] == disk and response["blocks"] == [reason]
        [event] = events(engine, "resource.refund_blocks_set", disk)
        assert event["data"] == {"blocks": [reason]}
    return disk


NOT_REFUNDABLE = ["FREE_SERVICE", "TRIAL", "ONE_OFF", "PACKAGE_EFFECTIVE", "TRANSACTION_IN_PROGRESS",
                  "EXPIRED", "POLICE_FROZEN", "PROMOTION_NO_REFUND", "INVOICED_MARKETPLACE",
                  "ARCHIVED", "SUPPORT_BENEFIT_USED", "PRODUCT_NOT_REFUNDABLE", "MUST_BE_WHOLE",
                  "PAY_PER_USE"]


@pytest.mark.parametrize("reason", NOT_REFUNDABLE)
def test_every_not_refundable_reason_is_reported(fast_engine, reason):
    engine = shop(fast_engine)
    rid = _not_refundable(engine, reason)
    quote = engine.refund_quote("a1", [rid])
    assert quote["refundable"] is False and quote["total_refund_fen"] == 0
    assert quote["review_required"] is False
    found = entry(quote)
    assert (found["resource_id"], found["class"], found["reason"]) == (rid, "NOT_ALLOWED", reason)
    assert found["message"] and found["refund_fen"] == 0
    # A refused unsubscription changes nothing, with or without the quote's id.
    before = world(engine, [rid])
    error = refused(lambda: engine.resources_unsubscribe("customer", "a1", [rid]), "not_refundable")
    assert reason in error.message
    refused(lambda: engine.resources_unsubscribe("customer", "a1", [rid], quote_id=quote["quote_id"]),
            "not_refundable")
    assert world(engine, [rid]) == before


def test_one_refused_resource_refuses_the_whole_request(fast_engine):
    engine = shop(fast_engine)
    [fine] = buy(engine, "evs.100")
    blocked = _not_refundable(engine, "ARCHIVED")
    quote = engine.refund_quote("a1", [fine, blocked])
    assert quote["refundable"] is False
    assert [e["class"] for e in quote["resources"]] == ["FIVE_DAY", "NOT_ALLOWED"]
    assert quote["total_refund_fen"] == 10_000  # what the refundable part would bring
    before = world(engine, [fine, blocked])
    refused(lambda: engine.resources_unsubscribe("customer", "a1", [fine, blocked]), "not_refundable")
    assert world(engine, [fine, blocked]) == before
    # The host lifts the block: both go, in one combined order.
    assert engine.refund_blocks_set("host", "a1", blocked, [])["blocks"] == []
    order = engine.resources_unsubscribe("customer", "a1", [fine, blocked])["order"]
    assert order["is_combined"] is True and len(order["sub_orders"]) == 2
    assert order["status"] == "COMPLETED" and order["amounts"]["cash_fen"] == 20_000
    assert {s["status"] for s in order["sub_orders"]} == {"COMPLETED"}
    assert_verified(engine)


def test_bad_refund_requests(fast_engine):
    engine = shop(fast_engine)
    engine.account_put("kyc", "a2", type="ENTERPRISE")
    [disk] = buy(engine, "evs.100")
    before = world(engine, [disk])
    for bad in ({"resource_ids": []}, {"resource_ids": [disk], "type": "SOMETIMES"},
                {"resource_ids": [disk], "colour": "red"}, {"resource_ids": [disk] * 101}):
        with pytest.raises(errors.InvalidArgument):
            engine.call("refund_quote", {"account_id": "a1", **bad})
    with pytest.raises(errors.InvalidArgument):
        engine.resources_unsubscribe("customer", "a1", [disk], reason_type=6)
    with pytest.raises(errors.NotFound):
        engine.refund_quote("a2", [disk])  # another account's resource
    with pytest.raises(errors.NotFound):
        engine.resources_unsubscribe("customer", "a1", ["RS999999999999"])
    with pytest.raises(errors.InvalidArgument) as info:
        engine.refund_blocks_set("host", "a1", disk, ["LOST"])
    assert info.value.reason == "unknown_value"
    with pytest.raises(errors.NotFound):
        engine.refund_blocks_set("host", "a2", disk, ["ARCHIVED"])
    assert world(engine, [disk]) == before


# -- once, and only on the state quoted -----------------------------------------------

def test_a_resource_is_refunded_once_and_only_as_quoted(fast_engine):
    engine = shop(fast_engine)
    [disk] = buy(engine, "evs.100")
    stale = engine.refund_quote("a1", [disk])
    engine.advance_clock(6 * DAY)  # out of the five-day window: another refund now
    before = world(engine, [disk])
    error = refused(lambda: engine.resources_unsubscribe("customer", "a1", [disk],
                                                         quote_id=stale["quote_id"]), "quote_stale")
    assert error.code == 4
    assert world(engine, [disk]) == before
    fresh = engine.refund_quote("a1", [disk])
    assert fresh["quote_id"] != stale["quote_id"]
    assert entry(fresh)["class"] == "NON_FIVE_DAY"

    first = engine.resources_unsubscribe("customer", "a1", [disk], quote_id=fresh["quote_id"],
                                         idempotency_key="u-1")
    engine.advance_clock(60)
    # The same request again is the first response; another one under the key conflicts.
    assert engine.resources_unsubscribe("customer", "a1", [disk], quote_id=fresh["quote_id"],
                                        idempotency_key="u-1") == first
    with pytest.raises(errors.Conflict):
        engine.resources_unsubscribe("customer", "a1", [disk], idempotency_key="u-1")
    before = world(engine, [disk])
    refused(lambda: engine.resources_unsubscribe("customer", "a1", [disk]), "not_refundable")
    assert world(engine, [disk]) == before
    assert entry(engine.refund_quote("a1", [disk]))["reason"] == "ENDED"
    refunds = [e for e in engine.iter_ledger("a1") if e["kind"] == "REFUND"]
    assert [e["amount_fen"] for e in refunds] == [entry(fresh)["refund_fen"]]
    assert_verified(engine)


def test_a_failed_creation_was_already_refunded(fast_engine):
    engine = shop(fast_engine)
    [disk] = buy(engine, "evs.100", provision=False)
    report = engine.resource_report("host", "a1", [{"resource_id": disk, "outcome": "FAILED"}])
    [refund] = report["refund_orders"]
    assert refund["type"] == "UNSUBSCRIBE" and refund["amounts"]["cash_fen"] == 10_000
    quote = engine.refund_quote("a1", [disk])
    assert entry(quote)["class"] == "FAILED_CREATION" and quote["refundable"] is False
    before = world(engine, [disk])
    refused(lambda: engine.resources_unsubscribe("customer", "a1", [disk]), "already_refunded")
    assert world(engine, [disk]) == before


def test_unsubscription_orders_name_their_resources(fast_engine):
    """billing_order_get of an UNSUBSCRIBE order names the resources it gives money back for,
    as NEW and RENEW orders name theirs: a primary with its bound disk, each part of a
    combined unsubscription (and all of them, with their refunds, on the combined order), a
    failed creation."""
    engine = shop(fast_engine)
    [server, system_disk] = buy(engine, "ecs.s6")
    [first] = buy(engine, "evs.100")
    [second] = buy(engine, "evs.100")

    def named(order):
        return [r["resource_id"] for r in order["resources"]]

    response = engine.resources_unsubscribe("customer", "a1", [server])["order"]
    order = engine.order_get("a1", response["order_id"])["order"]
    assert order["type"] == "UNSUBSCRIBE" and order["payments"] == []
    assert named(order) == named(response) == [server, system_disk]
    assert {r["status"] for r in order["resources"]} == {"UNSUBSCRIBED"}
    assert {r["resource_id"] for r in order["refunds"]} == {server, system_disk}

    combined = engine.resources_unsubscribe("customer", "a1", [first, second])["order"]
    assert combined["is_combined"] is True
    assert sorted(named(combined)) == sorted([first, second])
    assert sorted(r["resource_id"] for r in combined["refunds"]) == sorted([first, second])
    assert sorted(named(engine.order_get("a1", sub["order_id"])["order"])
                  for sub in combined["sub_orders"]) == sorted([[first], [second]])

    [failed] = buy(engine, "evs.100", provision=False)
    [refund] = engine.resource_report("host", "a1", [{"resource_id": failed, "outcome": "FAILED"}])["refund_orders"]
    assert named(engine.order_get("a1", refund["order_id"])["order"]) == [failed]
    assert_verified(engine)


def test_a_package_not_yet_in_effect_is_refunded_in_full(fast_engine):
    engine = shop(fast_engine)
    product(engine, "obs.100g", "OBS", "PACKAGE", monthly_price_fen=900,
            package={"kind": "CAPACITY", "quota": 100, "applies_to": ["OBS"]})
    [package] = buy(engine, "obs.100g", provision=False, effective_at=at(2024, 2, 1))
    assert resource(engine, package)["status"] == "PENDING_EFFECTIVE"
    quote = engine.refund_quote("a1", [package])
    assert entry(quote)["class"] == "INACTIVE" and quote["total_refund_fen"] == 900
    assert quote["five_day_quota"]["used_after"] == 0
    engine.resources_unsubscribe("customer", "a1", [package])
    assert cash(engine) == 1_000_000
    assert resource(engine, package)["status"] == "UNSUBSCRIBED"
    assert_verified(engine)


# -- two processes, one resource -------------------------------------------------------

def _unsubscribe_worker(path, now, barrier, inbox, outbox):
    """A spawned process: for every resource id it receives, opens its own engine at `now`,
    waits for its peer and tries to unsubscribe it. Replies with the outcome."""
    while True:
        resource_id = inbox.get()
        if resource_id is None:
            return
        try:
            with billing.Engine(path, clock="manual", now=now, busy_timeout_ms=60_000) as engine:
                barrier.wait(timeout=60)
                try:
                    order = engine.resources_unsubscribe("customer", "a1", [resource_id])["order"]
                    outbox.put(("ok", order["order_id"], order["amounts"]["cash_fen"]))
                except errors.BillingError as exc:
                    outbox.put(("refused", exc.code, exc.reason))
        except Exception as exc:  # reported to the parent
            outbox.put(("error", repr(exc), None))


def test_two_processes_unsubscribing_one_resource_refund_it_once(fast_engine, db_path):
    engine = shop(fast_engine)
    disks = buy(engine, "evs.100", quantity=4)
    now = at(2024, 1, 15, 18, 40)  # the §5.7 instant: 44.62 each
    engine.set_clock(now)
    assert {entry(engine.refund_quote("a1", [d]))["refund_fen"] for d in disks} == {4_462}
    cash_before = cash(engine)
    engine.close()

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    inboxes, outbox = [context.Queue() for _ in range(2)], context.Queue()
    workers = [context.Process(target=_unsubscribe_worker, args=(db_path, now, barrier, inbox, outbox),
                               daemon=True) for inbox in inboxes]
    for worker in workers:
        worker.start()
    outcomes = []
    try:
        for disk in disks:
            for inbox in inboxes:
                inbox.put(disk)
            outcomes.append(sorted((outbox.get(timeout=120) for _ in workers), key=lambda o: o[0]))
    finally:
        for inbox in inboxes:
            inbox.put(None)
        for worker in workers:
            worker.join(timeout=30)
    assert all(worker.exitcode == 0 for worker in workers)

    for (ok, order_id, refund), (status, code, reason) in outcomes:
        assert (ok, refund) == ("ok", 4_462), outcomes
        assert status == "refused" and code == 4, outcomes
        assert reason in ("not_refundable", "already_refunded"), outcomes
    with billing.Engine(db_path) as engine:
        refunds = [e for e in engine.iter_ledger("a1") if e["kind"] == "REFUND"]
        assert sorted(e["order_id"] for e in refunds) == sorted(o[0][1] for o in outcomes)
        assert [e["amount_fen"] for e in refunds] == [4_462] * len(disks)
        assert cash(engine) == cash_before + 4_462 * len(disks)
        unsubscribe_orders = [o for o in engine.iter_orders("a1", limit=100) if o["type"] == "UNSUBSCRIBE"]
        assert len(unsubscribe_orders) == len(disks)
        assert {resource(engine, d)["status"] for d in disks} == {"UNSUBSCRIBED"}
        assert all(len(events(engine, "resource.unsubscribed", d)) == 1 for d in disks)
        assert_verified(engine)


# -- issue 12 item 17: every period has the fields the header lists -----------------------

PERIOD_FIELDS = ("resource_id", "paid_by_order_id", "method", "start", "end", "paid", "paid_amount_fen",
                 "total_units", "used_units", "consumed_fen", "fee_rate_bp", "fee_bracket", "fee_fen",
                 "refund_fen", "refund", "forfeited")


def header_period_fields():
    import os
    header = open(os.path.join(os.path.dirname(__file__), "..", "..", "..", "include", "billing.h"),
                  encoding="utf-8").read()
    doc = header[header.index("/* Quotes an unsubscription:"):header.index("int billing_refund_quote")]
    listed = doc[doc.index('"periods": [{') + len('"periods": [{'):doc.index("}]}]}")]
    return [word.strip().strip('"') for word in listed.replace("\n", " ").split(",")]


def test_full_periods_carry_every_field_the_header_lists(fast_engine):
    """Five-day (whole resource), renewal-only and periods-to-come FULL periods, beside a
    FORMULA one: every period has every field of the header's list, with the FULL values the
    header states (nothing consumed, no fee, the whole payment back)."""
    listed = [field.split(":")[0].strip().strip('"') for field in header_period_fields()]
    assert [f for f in listed if f] == list(PERIOD_FIELDS)
    engine = shop(fast_engine)
    [fresh] = buy(engine, "evs.100")
    five_day = engine.refund_quote("a1", [fresh])
    assert entry(five_day)["class"] == "FIVE_DAY"
    [disk] = buy(engine, "evs.100")
    engine.set_clock(at(2024, 1, 10, 10))
    ticket = voucher(engine, 2_000)
    renewal = engine.resources_renew("customer", "a1", [disk], period=M1)["order"]
    engine.order_pay("customer", "a1", renewal["order_id"], coupon_ids=[ticket])
    renewal_only = engine.refund_quote("a1", [disk], type="RENEWAL_ONLY")
    whole = engine.refund_quote("a1", [disk])
    assert {p["method"] for p in entry(whole)["periods"]} == {"FULL", "FORMULA"}
    for quote in (five_day, renewal_only, whole):
        for period in entry(quote)["periods"]:
            missing = [f for f in PERIOD_FIELDS if f not in period]
            assert not missing, (period["method"], missing)
            if period["method"] == "FULL":
                assert (period["consumed_fen"], period["fee_fen"], period["fee_rate_bp"]) == (0, 0, 0)
                assert period["total_units"] is None and period["used_units"] is None and period["fee_bracket"] is None
                assert period["forfeited"] == [] and period["start"] is not None and period["end"] is not None
                assert period["refund_fen"] == sum(p["amount_fen"] for p in period["paid"])
                assert period["paid_amount_fen"] == sum(p["amount_fen"] for p in period["paid"] if p["source"] != "VOUCHER")
        assert sum(p["refund_fen"] for p in entry(quote)["periods"]) == entry(quote)["refund_fen"]
    full = [p for p in entry(renewal_only)["periods"] if p["method"] == "FULL"][0]
    assert (full["refund_fen"], full["paid_amount_fen"]) == (10_000, 8_000)
    engine.resources_unsubscribe("customer", "a1", [disk], quote_id=whole["quote_id"])
    assert_verified(engine)
