"""billing_resources_list (issue 16): the account page's resources, ended ones included, newest
first, keyset-paged like the other lists, with counts per status from one grouped read."""

import pytest

from billing import errors
from helpers import START, at, buy, customer, invalid, prepaid, resource, run

STATUSES = ["PENDING_PROVISION", "PROVISION_FAILED", "PENDING_EFFECTIVE", "IN_USE", "EXPIRED",
            "FROZEN", "RELEASED", "UNSUBSCRIBED", "DELETED"]


def on_demand(engine, product_id, account_id="a1"):
    """A pay-per-use resource (nothing to pay), reported provisioned now."""
    placed = engine.order_create("buyer", account_id, [{"product_id": product_id}])["order"]
    [rid] = [r["resource_id"] for r in placed["resources"]]
    engine.resource_report("host", account_id, [{"resource_id": rid, "outcome": "SUCCEEDED"}])
    return rid


@pytest.fixture
def account_page(engine):
    """Account a1 with a resource in each ended status and live ones; a2 with one of its own.
    Returns (engine, {name: resource id}) where names say what happened to each."""
    customer(engine)
    customer(engine, "a2")
    prepaid(engine, "evs")
    prepaid(engine, "ecs", product_type="ECS", monthly=5_000)
    engine.product_put("ops", {"product_id": "vm", "product_type": "ECS", "billing_mode": "ON_DEMAND",
                               "hourly_price_microfen": 1_000_000_000})
    ids = {}
    [ids["released"]] = buy(engine, "evs")
    [ids["unsubscribed"]] = buy(engine, "evs")
    [ids["expired"]] = buy(engine, "ecs")
    ids["deleted"] = on_demand(engine, "vm")
    [ids["pending"]] = buy(engine, "evs", provision=False)
    [ids["other"]] = buy(engine, "evs", account_id="a2")
    engine.resources_unsubscribe("customer", "a1", [ids["unsubscribed"]])
    engine.resources_delete("host", "a1", [ids["deleted"]])
    run(engine, at(2024, 2, 2, 3))  # past the first month's expiry: into grace
    engine.resources_release("customer", "a1", [ids["released"]])
    [ids["in_use"]] = buy(engine, "evs", period={"unit": "MONTH", "count": 3})
    return engine, ids


def test_lists_every_status_newest_first(account_page):
    engine, ids = account_page
    page = engine.resources("a1", limit=100)
    rows = page["resources"]
    order = [ids[name] for name in ("in_use", "pending", "deleted", "expired", "unsubscribed", "released")]
    assert [r["resource_id"] for r in rows] == order
    assert {r["resource_id"]: r["status"] for r in rows} == {
        ids["in_use"]: "IN_USE", ids["pending"]: "PENDING_PROVISION", ids["deleted"]: "DELETED",
        ids["expired"]: "EXPIRED", ids["unsubscribed"]: "UNSUBSCRIBED", ids["released"]: "RELEASED"}
    # Each row is the resource as billing_resource_get shows it.
    for row in rows:
        assert row == resource(engine, row["resource_id"])
    assert page["has_more"] is False and "counts" not in page
    assert ids["other"] not in [r["resource_id"] for r in rows]


def test_status_and_other_filters(account_page):
    engine, ids = account_page

    def listed(**filters):
        return [r["resource_id"] for r in engine.iter_resources("a1", limit=2, **filters)]

    assert listed(status="RELEASED") == [ids["released"]]
    assert listed(status=["RELEASED", "UNSUBSCRIBED", "DELETED"]) == [
        ids["deleted"], ids["unsubscribed"], ids["released"]]
    assert listed(status="FROZEN") == []
    assert listed(billing_mode="ON_DEMAND") == [ids["deleted"]]
    assert listed(billing_mode=["ON_DEMAND", "PREPAID"], product_type="ECS") == [ids["deleted"], ids["expired"]]
    assert listed(product_type=["EVS"], status="IN_USE") == [ids["in_use"]]
    assert listed(product_type="GPU") == []  # a product type is any identifier


def test_counts_per_status_under_the_other_filters(account_page):
    engine, ids = account_page
    counts = engine.resources("a1", limit=1, status="RELEASED", with_counts=True)["counts"]
    assert counts == {**{s: 0 for s in STATUSES}, "ALL": 6, "IN_USE": 1, "PENDING_PROVISION": 1,
                      "DELETED": 1, "EXPIRED": 1, "UNSUBSCRIBED": 1, "RELEASED": 1}
    ecs = engine.resources("a1", product_type="ECS", with_counts=True)["counts"]
    assert ecs == {**{s: 0 for s in STATUSES}, "ALL": 2, "DELETED": 1, "EXPIRED": 1}
    assert engine.resources("a2", with_counts=True)["counts"]["ALL"] == 1


def test_keyset_pages_follow_the_cursor(account_page):
    engine, ids = account_page
    everything = [r["resource_id"] for r in engine.resources("a1", limit=100)["resources"]]
    seen, cursor, pages = [], None, 0
    while True:
        page = engine.resources("a1", after=cursor, limit=4)
        seen += [r["resource_id"] for r in page["resources"]]
        pages += 1
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert seen == everything and pages == 2
    # A new resource does not shift the pages already handed out.
    first = engine.resources("a1", limit=3)
    [newest] = buy(engine, "evs")
    rest = engine.resources("a1", after=first["next_cursor"], limit=100)["resources"]
    assert [r["resource_id"] for r in rest] == everything[3:]
    assert engine.resources("a1", limit=1)["resources"][0]["resource_id"] == newest
    # The last page's cursor leads to an empty page, with no cursor.
    last = engine.resources("a1", after=engine.resources("a1", limit=100)["next_cursor"])
    assert (last["resources"], last["next_cursor"], last["has_more"]) == ([], None, False)
    # The C name is the same method.
    assert engine.resources_list("a1", limit=1)["resources"][0]["resource_id"] == newest


def test_another_account_is_isolated(account_page):
    engine, ids = account_page
    assert [r["resource_id"] for r in engine.resources("a2")["resources"]] == [ids["other"]]
    # a2's cursor is not a position in a1's list, and the other way round.
    cursor_of_a2 = engine.resources("a2", limit=1)["next_cursor"]
    invalid(lambda: engine.resources("a1", after=cursor_of_a2), "invalid_cursor")
    cursor_of_a1 = engine.resources("a1", limit=1)["next_cursor"]
    invalid(lambda: engine.resources("a2", after=cursor_of_a1), "invalid_cursor")
    with pytest.raises(errors.NotFound) as unknown:
        engine.resources("nobody")
    assert unknown.value.reason == "account_not_found"


@pytest.mark.parametrize("fields, reason", [
    ({}, "missing_field"),
    ({"status": "GONE"}, "unknown_value"),
    ({"status": ["RELEASED", "GONE"]}, "unknown_value"),
    ({"billing_mode": "FREE"}, "unknown_value"),
    ({"status": []}, "empty_list"),
    ({"status": ["IN_USE", 3]}, "wrong_type"),
    ({"product_type": 5}, "wrong_type"),
    ({"limit": 0}, "out_of_range"),
    ({"limit": 101}, "out_of_range"),
    ({"with_counts": 1}, "wrong_type"),
    ({"after": "abc"}, "invalid_cursor"),
    ({"after": "-1"}, "invalid_cursor"),
    ({"after": "0"}, "invalid_cursor"),
    ({"after": "99999999"}, "invalid_cursor"),
    ({"actor": "x"}, "unknown_field"),
])
def test_bad_input_is_refused(account_page, fields, reason):
    engine, _ = account_page
    request = fields if fields == {} else {"account_id": "a1", **fields}
    with pytest.raises(errors.InvalidArgument) as info:
        engine.call("billing_resources_list", request)
    assert info.value.reason == reason, info.value


def test_start_is_the_fixture_clock(engine):
    # An account with no resources: an empty page, counts all zero.
    customer(engine)
    assert engine.now() == START
    page = engine.resources("a1", with_counts=True)
    assert page["resources"] == [] and page["next_cursor"] is None and page["has_more"] is False
    assert page["counts"] == {**{s: 0 for s in STATUSES}, "ALL": 0}
