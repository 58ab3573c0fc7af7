"""What the billing-center pages need from lists (issue 12, items 13–16), through Python
against the release library: the unsubscription page's tabs (billing_unsubscriptions_list),
per-tab counts in the same call ("with_counts"), filters taking several values (order
statuses and product types, up to 200 instance ids and an ALL tab on the renewal view), and
the same cursor convention on every list (billing_packages_list is paged; a cursor not handed
out is "invalid_cursor").

Each test fails against a library without the item: the requests use keys or values that
library refuses ("unknown_field", "unknown_value", "wrong_type") or the function is missing.
"""

import pytest

from billing import errors
from helpers import DAY, M1, START, assert_verified, at, buy, customer, invalid

PRODUCTS = [
    {"product_id": "evs.100", "product_type": "EVS", "billing_mode": "PREPAID",
     "monthly_price_fen": 10_000, "yearly_price_fen": 100_000, "hourly_price_microfen": 20_000_000},
    {"product_id": "evs.sys40", "product_type": "EVS", "billing_mode": "PREPAID",
     "monthly_price_fen": 1_000, "yearly_price_fen": 10_000},
    {"product_id": "ecs.s6", "product_type": "ECS", "billing_mode": "PREPAID",
     "monthly_price_fen": 10_000, "yearly_price_fen": 100_000, "bound_products": ["evs.sys40"]},
    {"product_id": "norefund", "product_type": "SSL", "billing_mode": "PREPAID",
     "monthly_price_fen": 100, "refundable": False},
    {"product_id": "bw", "product_type": "EIP", "billing_mode": "ON_DEMAND",
     "hourly_price_microfen": 12_345_678},
    {"product_id": "obs.100g", "product_type": "OBS", "billing_mode": "PACKAGE",
     "monthly_price_fen": 900, "package": {"kind": "CAPACITY", "quota": 100, "applies_to": ["OBS"]}},
]


def shop(engine):
    customer(engine, cash=10_000_000)
    for product in PRODUCTS:
        engine.product_put("catalog", product)
    return engine


def rows_of(engine, **filters):
    return {row["resource_id"]: row for row in engine.iter_unsubscriptions("a1", **filters)}


# -- item 13: the unsubscription page --------------------------------------------------

def test_unsubscription_tabs_agree_with_quote_and_unsubscribe(engine_at):
    engine = shop(engine_at(at(2024, 1, 1, 10, 30)))
    [old_disk] = buy(engine, "evs.100")                       # past its five days below
    [renewed] = buy(engine, "evs.100")                        # renewed: periods to come
    [unrefundable] = buy(engine, "norefund")
    [meter] = buy(engine, "bw", period=None)                  # pay-per-use
    [busy] = buy(engine, "evs.100")                           # a renewal order waits
    engine.set_clock(at(2024, 1, 10, 9))
    engine.resources_renew("customer", "a1", [renewed], period=M1, auto_pay=True)
    engine.resources_renew("customer", "a1", [busy], period=M1)
    [fresh] = buy(engine, "evs.100")                          # inside its five days
    server, system_disk = buy(engine, "ecs.s6")               # a bound group: one row
    [later] = buy(engine, "obs.100g", provision=False, effective_at=at(2024, 3, 1))
    [failed] = buy(engine, "evs.100", provision=False)
    engine.resource_report("host", "a1", [{"resource_id": failed, "outcome": "FAILED"}])

    rows = rows_of(engine)
    # Live resources only, a bound disk rides on its primary, newest purchase first.
    assert set(rows) == {old_disk, renewed, unrefundable, meter, busy, fresh, server, later}
    assert [r["resource_id"] for r in engine.unsubscriptions("a1", limit=100)["resources"]][:3] == [later, server, fresh]
    assert rows[server]["resource_ids"] == [server, system_disk]
    expected = {old_disk: ("NON_FIVE_DAY", None), renewed: ("NON_FIVE_DAY", None),
                unrefundable: ("NOT_ALLOWED", "PRODUCT_NOT_REFUNDABLE"), meter: ("NOT_ALLOWED", "PAY_PER_USE"),
                busy: ("NOT_ALLOWED", "TRANSACTION_IN_PROGRESS"), fresh: ("FIVE_DAY", None),
                server: ("FIVE_DAY", None), later: ("INACTIVE", None)}
    assert {rid: (row["class"], row["reason"]) for rid, row in rows.items()} == expected
    assert rows[unrefundable]["message"]

    # One classification: every row is what a quote of that resource alone says now.
    for rid, row in rows.items():
        [quoted] = engine.refund_quote("a1", [rid])["resources"]
        assert (quoted["class"], quoted["reason"], quoted["refund_fen"], quoted["resource_ids"]) == (
            row["class"], row["reason"], row["refund_fen"], row["resource_ids"]), rid
    assert rows[fresh]["refund_fen"] == 10_000 and rows[server]["refund_fen"] == 11_000

    # 可退订 / 不可退订: one call each, and their counts in the same call.
    refundable = engine.unsubscriptions("a1", **{"class": "REFUNDABLE", "limit": 100, "with_counts": True})
    assert {r["resource_id"] for r in refundable["resources"]} == {old_disk, renewed, fresh, server, later}
    assert refundable["has_more"] is False
    assert refundable["counts"] == {"ALL": 8, "REFUNDABLE": 5, "NOT_ALLOWED": 3, "FIVE_DAY": 2,
                                    "NON_FIVE_DAY": 2, "RENEWAL_ONLY": 0, "INACTIVE": 1}
    blocked = engine.unsubscriptions("a1", **{"class": "NOT_ALLOWED", "limit": 100})
    assert {(r["resource_id"], r["reason"]) for r in blocked["resources"]} == {
        (unrefundable, "PRODUCT_NOT_REFUNDABLE"), (meter, "PAY_PER_USE"), (busy, "TRANSACTION_IN_PROGRESS")}
    assert set(rows_of(engine, class_=["FIVE_DAY", "INACTIVE"])) == {fresh, server, later}
    # The renewal-periods tab: only the resource with a period still to come can go back.
    periods = engine.unsubscriptions("a1", type="RENEWAL_ONLY", **{"class": "RENEWAL_ONLY", "with_counts": True})
    assert [r["resource_id"] for r in periods["resources"]] == [renewed]
    assert periods["resources"][0]["refund_fen"] == 10_000
    assert periods["counts"]["RENEWAL_ONLY"] == 1 and periods["counts"]["ALL"] == 8
    assert rows_of(engine, type="RENEWAL_ONLY")[old_disk]["reason"] == "NO_INACTIVE_PERIOD"
    # Other filters narrow the rows and the counts alike.
    narrowed = engine.unsubscriptions("a1", product_type=["EVS", "ECS"], resource_ids=[fresh, server, busy, meter],
                                      with_counts=True)
    assert {r["resource_id"] for r in narrowed["resources"]} == {fresh, server, busy}
    assert narrowed["counts"]["ALL"] == 3 and narrowed["counts"]["FIVE_DAY"] == 2

    # What the row said is what the unsubscription then does.
    for rid in (fresh, old_disk, later):
        done = engine.resources_unsubscribe("customer", "a1", [rid])
        assert done["quote"]["resources"][0]["class"] == rows[rid]["class"]
        assert done["quote"]["total_refund_fen"] == rows[rid]["refund_fen"]
        assert done["order"]["status"] == "COMPLETED"
    with pytest.raises(errors.Refused) as info:
        engine.resources_unsubscribe("customer", "a1", [unrefundable])
    assert info.value.reason == "not_refundable"
    engine.resources_unsubscribe("customer", "a1", [renewed], type="RENEWAL_ONLY")
    after = rows_of(engine)
    assert set(after) == {renewed, unrefundable, meter, busy, server}  # the ended ones left
    assert after[renewed]["class"] == "NON_FIVE_DAY"
    assert rows_of(engine, type="RENEWAL_ONLY", **{"class": "RENEWAL_ONLY"}) == {}
    assert_verified(engine)


def test_unsubscription_list_pages_and_quota(engine_at):
    engine = shop(engine_at(START))
    disks = [buy(engine, "evs.100")[0] for _ in range(7)]
    engine.update_config({"five_day_quota_per_year": 1}, actor="ops")
    seen = []
    page = engine.unsubscriptions("a1", limit=3)
    while True:
        assert len(page["resources"]) <= 3
        seen += [r["resource_id"] for r in page["resources"]]
        if not page["has_more"]:
            break
        page = engine.unsubscriptions("a1", limit=3, after=page["next_cursor"])
    assert seen == disks[::-1]
    # Each row is classified alone: with one unit left every disk shows FIVE_DAY …
    assert {r["class"] for r in engine.iter_unsubscriptions("a1")} == {"FIVE_DAY"}
    # … and once it is used, the others fall back to the formula.
    engine.resources_unsubscribe("customer", "a1", [disks[0]])
    counts = engine.unsubscriptions("a1", with_counts=True, **{"class": "FIVE_DAY"})
    assert counts["resources"] == [] and counts["counts"]["NON_FIVE_DAY"] == 6
    # A class filter may leave a page short, never skips a row.
    assert len(list(engine.iter_unsubscriptions("a1", limit=2, **{"class": "NON_FIVE_DAY"}))) == 6
    invalid(lambda: engine.unsubscriptions("a1", after="abc"), "invalid_cursor")
    invalid(lambda: engine.unsubscriptions("a1", **{"class": "MAYBE"}), "unknown_value")
    with pytest.raises(errors.NotFound):
        engine.unsubscriptions("nobody")
    assert_verified(engine)


# -- item 14 and 15: counts and several values on the order list -------------------------

def test_order_list_counts_and_several_values(engine_at, tmp_path):
    engine = shop(engine_at(START))
    pending_evs = engine.order_create("buyer", "a1", [{"product_id": "evs.100", "period": M1}])["order"]["order_id"]
    pending_ecs = engine.order_create("buyer", "a1", [{"product_id": "ecs.s6", "period": M1}])["order"]["order_id"]
    cancelled = engine.order_create("buyer", "a1", [{"product_id": "evs.100", "period": M1}])["order"]["order_id"]
    engine.orders_cancel("buyer", "a1", [cancelled])
    buy(engine, "evs.100")
    buy(engine, "norefund")
    buy(engine, "bw", period=None)

    def tally(**filters):
        counts = {}
        for order in engine.iter_orders("a1", **filters):
            counts[order["status"]] = counts.get(order["status"], 0) + 1
        return counts

    listed = engine.orders("a1", limit=1, with_counts=True)
    counts = listed["counts"]
    assert len(listed["orders"]) == 1 and listed["has_more"] is True
    truth = tally()
    assert counts["ALL"] == sum(truth.values()) == 6
    assert {k: v for k, v in counts.items() if k != "ALL" and v} == truth
    assert counts["PENDING_PAYMENT"] == 2 and counts["CANCELLED"] == 1 and counts["REFUNDING"] == 0
    # The status filter is the tab: counts ignore it; every other filter applies to both.
    pending = engine.orders("a1", status="PENDING_PAYMENT", product_type="EVS", with_counts=True)
    assert [o["order_id"] for o in pending["orders"]] == [pending_evs]
    assert pending["counts"]["PENDING_PAYMENT"] == 1 and pending["counts"]["ALL"] == sum(tally(product_type="EVS").values())
    # Several values: any of them; the single-value forms still work.
    both = engine.orders("a1", status=["PENDING_PAYMENT", "CANCELLED"], limit=100)
    assert {o["order_id"] for o in both["orders"]} == {pending_evs, pending_ecs, cancelled}
    mixed = engine.orders("a1", status=["PENDING_PAYMENT"], product_type=["ECS", "SSL"], limit=100)
    assert [o["order_id"] for o in mixed["orders"]] == [pending_ecs]
    kinds = {o["product_type"] for o in engine.iter_orders("a1", product_type=["EIP", "SSL"])}
    assert kinds == {"EIP", "SSL"}
    assert len(list(engine.iter_orders("a1", billing_mode=["ON_DEMAND", "PREPAID"]))) == 6
    invalid(lambda: engine.orders("a1", status=[]), "empty_list")
    invalid(lambda: engine.orders("a1", status=["PENDING_PAYMENT", "LOST"]), "unknown_value")
    # An export takes the same filters and finds as many rows.
    engine.update_config({"export_directory": str(tmp_path / "exports")}, "test")  # no file on PostgreSQL
    export = engine.export_request("portal", "a1", "ORDERS", filter={"status": ["PENDING_PAYMENT", "CANCELLED"]})
    assert export["export"]["rows_expected"] == 3
    assert_verified(engine)


# -- items 14 and 15: the renewal view ------------------------------------------------------

def test_renewal_view_all_tab_ids_and_counts(engine_at, tmp_path):
    engine = shop(engine_at(START))
    disks = [buy(engine, "evs.100")[0] for _ in range(6)]
    engine.set_clock(START + DAY)
    [server, _] = buy(engine, "ecs.s6")
    engine.resources_policy_set("customer", "a1", disks[:2], "AUTO_RENEW")
    engine.resources_policy_set("customer", "a1", disks[2:3], "NO_RENEW")
    engine.resources_policy_set("customer", "a1", disks[3:4], "TO_ON_DEMAND")

    every = engine.renewals("a1", "ALL", limit=100, with_counts=True)
    ids = [r["resource_id"] for r in every["resources"]]
    assert ids == disks + [server]  # soonest expiry first across every policy
    assert every["counts"] == {"ALL": 7, "MANUAL": 3, "AUTO_RENEW": 2, "TO_ON_DEMAND": 1, "NO_RENEW": 1}
    for tab in ("MANUAL", "AUTO_RENEW", "TO_ON_DEMAND", "NO_RENEW"):
        assert every["counts"][tab] == len(list(engine.iter_renewals("a1", tab)))
    # Paging the ALL tab keeps the order.
    paged = [r["resource_id"] for r in engine.iter_renewals("a1", "ALL", limit=2)]
    assert paged == ids
    # The search box: up to 200 ids, any tab; counts follow the search.
    found = engine.renewals("a1", "AUTO_RENEW", resource_ids=[disks[0], disks[3], server], with_counts=True)
    assert [r["resource_id"] for r in found["resources"]] == [disks[0]]
    assert found["counts"] == {"ALL": 3, "MANUAL": 1, "AUTO_RENEW": 1, "TO_ON_DEMAND": 1, "NO_RENEW": 0}
    assert [r["resource_id"] for r in engine.renewals("a1", "MANUAL", resource_id=server)["resources"]] == [server]
    many = [disks[0]] + [f"RS-missing-{i}" for i in range(199)]
    assert [r["resource_id"] for r in engine.renewals("a1", "ALL", resource_ids=many)["resources"]] == [disks[0]]
    invalid(lambda: engine.renewals("a1", "ALL", resource_ids=many + ["one-more"]), "too_many_items")
    invalid(lambda: engine.renewals("a1", "ALL", resource_ids=[]), "empty_list")
    # Other filters apply to the counts too.
    expiring = engine.renewals("a1", "ALL", expire_to=every["resources"][0]["expire_at"], with_counts=True)
    assert expiring["counts"]["ALL"] == 6
    engine.update_config({"export_directory": str(tmp_path / "exports")}, "test")  # no file on PostgreSQL
    export = engine.export_request("portal", "a1", "RENEWALS", filter={"tab": "ALL", "resource_ids": [disks[1], server]})
    assert export["export"]["rows_expected"] == 2
    assert_verified(engine)


# -- item 16: every list is paged ------------------------------------------------------------

def test_packages_list_pages_like_every_list(engine_at):
    engine = shop(engine_at(START))
    packages = [buy(engine, "obs.100g", provision=False)[0] for _ in range(5)]
    first = engine.packages("a1", limit=2)
    assert [p["resource_id"] for p in first["packages"]] == packages[:2] and first["has_more"] is True
    assert [p["resource_id"] for p in engine.iter_packages("a1", limit=2)] == packages
    assert [p["resource_id"] for p in engine.packages("a1")["packages"]] == packages
    last = engine.packages("a1", after=first["next_cursor"], limit=10)
    assert [p["resource_id"] for p in last["packages"]] == packages[2:] and last["has_more"] is False
    assert all(p["kind"] == "CAPACITY" and p["quota"] == 100 for p in last["packages"])
    invalid(lambda: engine.packages("a1", after="x"), "invalid_cursor")
    invalid(lambda: engine.packages("a1", limit=0), "out_of_range")
    invalid(lambda: engine.call("billing_products_list", {"after": "no-such-product"}), "invalid_cursor")
    assert_verified(engine)
