"""Customer accounts, top-ups, the ledger, renewal settings and coupons, through Python.

Every test uses `fast_engine` (cheap argon2id costs set first), so snapshots taken in a
test already include that configuration change.
"""

import random
import threading

import pytest

from billing import errors
from helpers import (DAY, START, account, account_event_count, audit_count, event_count, snapshot,
                     put_account as put)


def state(engine, account_id=None):
    """Everything a refused account write must leave unchanged."""
    try:
        stored = account(engine, account_id) if account_id else None
    except errors.NotFound:
        stored = None
    return snapshot(engine), stored


# -- accounts -------------------------------------------------------------------------

def test_put_creates_and_updates_with_events(fast_engine):
    engine = fast_engine
    created = put(engine, "hw-001", realname=False, level="V2")["account"]
    assert created["account_id"] == "hw-001"
    assert created["type"] == "ENTERPRISE"
    assert created["realname_verified"] is False
    assert created["restricted"] is False
    assert created["freeze"] == "NONE"
    assert created["level"] == "V2"
    assert created["currency"] == "CNY"
    assert created["deduction_days"] == 7
    assert created["unified_expiry_day"] == 1
    for money in ("cash_balance_fen", "arrears_fen", "credit_limit_fen", "credit_used_fen",
                  "credit_available_fen"):
        assert created[money] == 0
    assert created["created_at"] == created["updated_at"] == START
    assert account(engine, "hw-001") == created

    engine.advance_clock(60)
    updated = engine.account_put("kyc", "hw-001", realname_verified=True, freeze="VIOLATION")["account"]
    assert updated["realname_verified"] is True
    assert updated["freeze"] == "VIOLATION"
    assert updated["level"] == "V2"  # absent fields keep their value
    assert updated["type"] == "ENTERPRISE"
    assert updated["created_at"] == START and updated["updated_at"] == START + 60
    assert account(engine, "hw-001") == updated

    events = list(engine.iter_events(account_id="hw-001"))
    assert [e["type"] for e in events] == ["account.created", "account.updated"]
    assert events[1]["data"]["changed"] == ["freeze", "realname_verified"]
    assert all(e["account_id"] == "hw-001" for e in events)

    # Nothing changed: audited, but no event.
    audits = audit_count(engine)
    engine.account_put("kyc", "hw-001", freeze="VIOLATION")
    assert account_event_count(engine, "hw-001") == 2
    assert audit_count(engine) == audits + 1


def test_put_credit_limit(fast_engine):
    put(fast_engine, "a1", credit_limit_fen=100_000)
    stored = account(fast_engine, "a1")
    assert stored["credit_limit_fen"] == stored["credit_available_fen"] == 100_000
    assert stored["credit_used_fen"] == 0


def test_put_idempotency_key(fast_engine):
    first = put(fast_engine, "a1", idempotency_key="put-1")
    fast_engine.advance_clock(5)
    assert put(fast_engine, "a1", idempotency_key="put-1") == first
    with pytest.raises(errors.Conflict) as info:
        put(fast_engine, "a1", level="V4", idempotency_key="put-1")
    assert info.value.reason == "idempotency_key_reused"
    assert account(fast_engine, "a1")["level"] == "V3"


NEW_ACCOUNT_ERRORS = [
    pytest.param({}, "missing_field", id="type-missing"),
    pytest.param({"type": "COMPANY"}, "unknown_value", id="unknown-type"),
    pytest.param({"type": "ENTERPRISE", "level": "V6"}, "unknown_value", id="level-V6"),
    pytest.param({"type": "ENTERPRISE", "freeze": "FROZEN"}, "unknown_value", id="unknown-freeze"),
    pytest.param({"type": "ENTERPRISE", "realname_verified": "yes"}, "wrong_type", id="bool-as-string"),
    pytest.param({"type": "ENTERPRISE", "credit_limit_fen": -1}, "negative_amount", id="negative-credit"),
    pytest.param({"type": "ENTERPRISE", "credit_limit_fen": 10.5}, "not_an_integer", id="fractional-credit"),
    pytest.param({"type": "ENTERPRISE", "nickname": "x"}, "unknown_field", id="unknown-field"),
]


@pytest.mark.parametrize("fields, reason", NEW_ACCOUNT_ERRORS)
def test_bad_new_account_changes_nothing(fast_engine, fields, reason):
    before = state(fast_engine, "a")
    with pytest.raises(errors.InvalidArgument) as info:
        fast_engine.account_put("host", "a", **fields)
    assert info.value.reason == reason and info.value.message
    assert state(fast_engine, "a") == before
    with pytest.raises(errors.NotFound):
        fast_engine.account_get("a")


@pytest.mark.parametrize("fields, reason", [
    pytest.param({"type": "COMPANY"}, "unknown_value", id="unknown-type"),
    pytest.param({"level": "V6"}, "unknown_value", id="level-V6"),
    pytest.param({"credit_limit_fen": -1}, "negative_amount", id="negative-credit"),
    pytest.param({"credit_limit_fen": 10.5}, "not_an_integer", id="fractional-credit"),
    pytest.param({"credit_limit_fen": "100"}, "wrong_type", id="credit-as-string"),
    pytest.param({"restricted": 1}, "wrong_type", id="bool-as-number"),
    pytest.param({"level": "V4", "nickname": "x"}, "unknown_field", id="unknown-field"),
])
def test_bad_update_changes_nothing(fast_engine, fields, reason):
    put(fast_engine, "a1", credit_limit_fen=500)
    before = state(fast_engine, "a1")
    with pytest.raises(errors.InvalidArgument) as info:
        fast_engine.account_put("host", "a1", **fields)
    assert info.value.reason == reason
    assert state(fast_engine, "a1") == before


def test_fractional_credit_limit_as_exact_text(fast_engine):
    # Python would round 1000.9999999999999999 to 1001.0 before sending; send the text.
    text = ('{"actor": "h", "account_id": "a1", "type": "ENTERPRISE", '
            '"credit_limit_fen": 1000.9999999999999999}')
    with pytest.raises(errors.InvalidArgument) as info:
        fast_engine.call("account_put", text)
    assert info.value.reason == "not_an_integer"


def test_empty_account_id(fast_engine):
    before = snapshot(fast_engine)
    with pytest.raises(errors.InvalidArgument) as info:
        fast_engine.account_put("host", "", type="ENTERPRISE")
    assert info.value.reason == "empty_string"
    assert snapshot(fast_engine) == before


def test_unknown_account_is_not_found(fast_engine):
    put(fast_engine, "a1")
    before = snapshot(fast_engine)
    calls = [
        lambda: fast_engine.account_get("nobody"),
        lambda: fast_engine.topup("pay", "nobody", 5, "x"),
        lambda: fast_engine.account_settings_update("c", "nobody", deduction_days=3),
        lambda: fast_engine.coupon_issue("o", "nobody", "VOUCHER", START, START + DAY,
                                         face_value_fen=1),
        lambda: fast_engine.platform_eligibility("nobody"),
    ]
    for call in calls:
        with pytest.raises(errors.NotFound) as info:
            call()
        assert info.value.reason and info.value.message
    assert snapshot(fast_engine) == before


# -- top-ups and the ledger -----------------------------------------------------------

def test_topup_is_idempotent_by_external_reference(fast_engine):
    engine = fast_engine
    put(engine, "a1")
    first = engine.topup("pay", "a1", 10_000, "alipay-1")
    assert first["replayed"] is False
    assert first["account"]["cash_balance_fen"] == 10_000
    assert first["arrears_settled_fen"] == 0
    entry = first["topup"]
    assert (entry["account_id"], entry["fund"], entry["amount_fen"], entry["balance_after_fen"],
            entry["reference"]) == ("a1", "CASH", 10_000, 10_000, "alipay-1")
    [event] = [e for e in engine.iter_events(account_id="a1") if e["type"] == "account.topped_up"]
    assert event["data"]["amount_fen"] == 10_000

    before = snapshot(engine)
    engine.advance_clock(30)
    again = engine.topup("pay", "a1", 10_000, "alipay-1")
    assert again["replayed"] is True
    assert again["topup"] == first["topup"]
    assert again["account"]["cash_balance_fen"] == 10_000
    assert snapshot(engine)[1] == before[1]  # no second event

    with pytest.raises(errors.Conflict) as info:
        engine.topup("pay", "a1", 9_000, "alipay-1")
    assert info.value.reason == "topup_reference_reused"
    assert account(engine, "a1")["cash_balance_fen"] == 10_000
    assert [e["amount_fen"] for e in engine.iter_ledger("a1")] == [10_000]


@pytest.mark.parametrize("amount, reason", [
    (0, "non_positive_amount"),
    (-5, "negative_amount"),
    (10.5, "not_an_integer"),
    ("100", "wrong_type"),
    (True, "wrong_type"),
    (2 ** 63, "not_an_integer"),
])
def test_bad_topup_amounts(fast_engine, amount, reason):
    put(fast_engine, "a1")
    fast_engine.topup("pay", "a1", 100, "first")
    before = state(fast_engine, "a1")
    with pytest.raises(errors.InvalidArgument) as info:
        fast_engine.topup("pay", "a1", amount, "x")
    assert info.value.reason == reason
    assert state(fast_engine, "a1") == before
    # The refused reference stays free.
    assert fast_engine.topup("pay", "a1", 5, "x")["replayed"] is False


def test_topup_needs_a_reference(fast_engine):
    put(fast_engine, "a1")
    with pytest.raises(errors.InvalidArgument) as info:
        fast_engine.call("account_topup", {"actor": "pay", "account_id": "a1", "amount_fen": 100})
    assert info.value.reason == "missing_field"
    assert account(fast_engine, "a1")["cash_balance_fen"] == 0


def ledger_sum(engine, account_id, limit=50):
    return sum(e["amount_fen"] for e in engine.iter_ledger(account_id, limit=limit)
               if e["fund"] == "CASH")


def test_ledger_sums_to_the_balance_after_random_topups(fast_engine):
    engine = fast_engine
    put(engine, "a1")
    put(engine, "a2")
    rng = random.Random(20240101)
    expected = {"a1": 0, "a2": 0}
    previous = None
    for index in range(200):
        account_id = rng.choice(["a1", "a2"])
        amount = rng.randint(1, 10_000_000)
        request = ("pay", account_id, amount, f"ref-{index}")
        assert engine.topup(*request)["replayed"] is False
        expected[account_id] += amount
        # Every fifth request is retried once: it must not count twice.
        if index % 5 == 4:
            assert engine.topup(*previous)["replayed"] is True
        previous = request
        if index % 50 == 0:
            engine.advance_clock(rng.randint(0, 3600))

    for account_id, total in expected.items():
        stored = account(engine, account_id)
        assert stored["cash_balance_fen"] == total
        assert ledger_sum(engine, account_id) == total
        entries = list(engine.iter_ledger(account_id, limit=7))
        assert entries == list(engine.iter_ledger(account_id, limit=1000))
        assert entries[-1]["balance_after_fen"] == total
        assert [e["id"] for e in entries] == sorted(e["id"] for e in entries)
        assert {e["account_id"] for e in entries} == {account_id}
        assert sum(1 for e in entries if e["kind"] == "TOPUP") == len(entries)


def test_ledger_paging(fast_engine):
    put(fast_engine, "a1")
    for i in range(5):
        fast_engine.topup("pay", "a1", i + 1, f"r{i}")
    first = fast_engine.ledger("a1", limit=2)
    assert [e["amount_fen"] for e in first["entries"]] == [1, 2] and first["has_more"] is True
    rest = fast_engine.ledger("a1", after=first["next_cursor"])
    assert [e["amount_fen"] for e in rest["entries"]] == [3, 4, 5] and rest["has_more"] is False
    with pytest.raises(errors.InvalidArgument):
        fast_engine.ledger("a1", limit=0)


def test_topups_from_threads(fast_engine):
    engine = fast_engine
    put(engine, "a1")
    threads, per_thread = 8, 25
    failures, amounts = [], [[] for _ in range(threads)]
    barrier = threading.Barrier(threads)

    def work(worker):
        rng = random.Random(worker)
        try:
            barrier.wait()
            for i in range(per_thread):
                amount = rng.randint(1, 1_000_000)
                engine.topup(f"thread-{worker}", "a1", amount, f"t{worker}-{i}")
                amounts[worker].append(amount)
        except Exception as exc:  # pytest cannot see failures in threads
            failures.append(exc)

    pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert failures == []
    total = sum(map(sum, amounts))
    assert account(engine, "a1")["cash_balance_fen"] == total
    entries = list(engine.iter_ledger("a1", limit=100))
    assert len(entries) == threads * per_thread
    assert sum(e["amount_fen"] for e in entries) == total
    assert entries[-1]["balance_after_fen"] == total


# -- renewal settings -----------------------------------------------------------------

def test_settings_update(fast_engine):
    put(fast_engine, "a1")
    updated = fast_engine.account_settings_update("c", "a1", deduction_days=3, unified_expiry_day=-1)
    assert updated["account"]["deduction_days"] == 3
    assert updated["account"]["unified_expiry_day"] == -1
    assert account(fast_engine, "a1") == updated["account"]
    types = [e["type"] for e in fast_engine.iter_events(account_id="a1")]
    assert types == ["account.created", "account.settings_changed"]
    # One setting alone keeps the other; the boundaries are accepted.
    for days, day in [(2, None), (7, None), (None, 1), (None, 28)]:
        stored = fast_engine.account_settings_update("c", "a1", deduction_days=days,
                                                     unified_expiry_day=day)["account"]
        if days is not None:
            assert stored["deduction_days"] == days
        if day is not None:
            assert stored["unified_expiry_day"] == day
    assert account(fast_engine, "a1")["deduction_days"] == 7
    assert account(fast_engine, "a1")["unified_expiry_day"] == 28


@pytest.mark.parametrize("fields, reason", [
    ({"deduction_days": 1}, "out_of_range"),
    ({"deduction_days": 8}, "out_of_range"),
    ({"unified_expiry_day": 0}, "out_of_range"),
    ({"unified_expiry_day": 29}, "out_of_range"),
    ({"unified_expiry_day": -2}, "out_of_range"),
    ({"deduction_days": 3, "unified_expiry_day": 29}, "out_of_range"),
    ({"deduction_days": 3.5}, "not_an_integer"),
    ({"deduction_days": "3"}, "wrong_type"),
    ({}, "missing_field"),
])
def test_bad_settings_change_nothing(fast_engine, fields, reason):
    put(fast_engine, "a1")
    before = state(fast_engine, "a1")
    with pytest.raises(errors.InvalidArgument) as info:
        fast_engine.account_settings_update("c", "a1", **fields)
    assert info.value.reason == reason
    assert state(fast_engine, "a1") == before


# -- coupons --------------------------------------------------------------------------

FROM, TO = START, START + 30 * DAY


def test_every_kind_with_scopes_and_the_usable_filter(fast_engine):
    engine = fast_engine
    put(engine, "a1")
    voucher = engine.coupon_issue(
        "ops", "a1", "VOUCHER", FROM, TO, face_value_fen=2000, min_spend_fen=10_000,
        scope={"products": ["ECS"], "order_types": ["NEW", "RENEW"],
               "billing_modes": ["PREPAID_MONTHLY", "ON_DEMAND"]})
    assert voucher["replayed"] is False
    coupon = voucher["coupon"]
    assert coupon["kind"] == "VOUCHER" and coupon["account_id"] == "a1"
    assert coupon["face_value_fen"] == coupon["balance_fen"] == 2000
    assert coupon["exclusive_with_discounts"] is True
    assert coupon["min_spend_fen"] == 10_000
    assert coupon["scope"]["products"] == ["ECS"]
    assert coupon["scope"]["order_types"] == ["NEW", "RENEW"]
    assert coupon["scope"]["regions"] == []
    assert coupon["status"] == "USABLE"

    discount = engine.coupon_issue("ops", "a1", "DISCOUNT_COUPON", FROM, TO, discount_bp=1500,
                                   max_discount_fen=5000)["coupon"]
    assert discount["discount_bp"] == 1500 and discount["max_discount_fen"] == 5000
    assert discount["exclusive_with_discounts"] is False
    cash = engine.coupon_issue("ops", "a1", "CASH_COUPON", FROM + DAY, TO,
                               face_value_fen=500)["coupon"]
    assert cash["status"] == "NOT_YET_VALID"
    card = engine.coupon_issue("ops", "a1", "STORED_VALUE_CARD", FROM - 100, FROM + 60,
                               face_value_fen=100_000,
                               scope={"regions": ["cn-north-4"],
                                      "excluded_products": ["OBS"]})["coupon"]
    assert card["exclusive_with_discounts"] is False

    ids = [voucher["coupon"]["coupon_id"], discount["coupon_id"], cash["coupon_id"], card["coupon_id"]]
    assert len(set(ids)) == 4
    assert [c["coupon_id"] for c in engine.iter_coupons("a1")] == ids  # issue order
    assert [c["coupon_id"] for c in engine.coupons("a1", status="ALL")["coupons"]] == ids
    usable = engine.coupons("a1", status="USABLE")["coupons"]
    assert [c["coupon_id"] for c in usable] == [ids[0], ids[1], ids[3]]  # cash not yet valid
    assert [c["kind"] for c in engine.coupons("a1", kind="CASH_COUPON")["coupons"]] == ["CASH_COUPON"]
    issued = [e for e in engine.iter_events(account_id="a1") if e["type"] == "coupon.issued"]
    assert [e["subject_id"] for e in issued] == ids

    # valid_from <= t < valid_to: at FROM + 60 the card has expired.
    engine.advance_clock(60)
    assert engine.coupons("a1", status="USABLE", kind="STORED_VALUE_CARD")["coupons"] == []
    statuses = {c["coupon_id"]: c["status"] for c in engine.iter_coupons("a1")}
    assert statuses[card["coupon_id"]] == "EXPIRED"
    engine.advance_clock(DAY)
    usable = [c["coupon_id"] for c in engine.iter_coupons("a1", status="USABLE")]
    assert usable == [ids[0], ids[1], ids[2]]
    engine.set_clock(TO)
    assert list(engine.iter_coupons("a1", status="USABLE")) == []


WINDOW = {"valid_from": FROM, "valid_to": TO}
BAD_COUPONS = [
    ({"kind": "GIFT", "face_value_fen": 1}, "unknown_value"),
    ({"face_value_fen": 1}, "missing_field"),
    ({"kind": "VOUCHER"}, "missing_field"),
    # Zero is reported as "missing_field" (message: "face_value_fen (> 0) is required"),
    # unlike a zero top-up ("non_positive_amount"); only the status is pinned here.
    ({"kind": "VOUCHER", "face_value_fen": 0}, None),
    ({"kind": "VOUCHER", "face_value_fen": -1}, "negative_amount"),
    ({"kind": "VOUCHER", "face_value_fen": 0.5}, "not_an_integer"),
    ({"kind": "VOUCHER", "face_value_fen": 100, "discount_bp": 10}, "invalid_field"),
    ({"kind": "DISCOUNT_COUPON"}, "missing_field"),
    ({"kind": "DISCOUNT_COUPON", "discount_bp": 0}, "out_of_range"),
    ({"kind": "DISCOUNT_COUPON", "discount_bp": 10_000}, "out_of_range"),
    ({"kind": "DISCOUNT_COUPON", "discount_bp": 100, "face_value_fen": 5}, "invalid_field"),
    ({"kind": "VOUCHER", "face_value_fen": 100, "valid_from": TO, "valid_to": FROM}, "invalid_window"),
    ({"kind": "VOUCHER", "face_value_fen": 100, "valid_from": -1}, "out_of_range"),
    ({"kind": "VOUCHER", "face_value_fen": 100, "scope": {"order_types": ["REFUND"]}}, "unknown_value"),
    ({"kind": "VOUCHER", "face_value_fen": 100, "scope": {"billing_modes": ["WEEKLY"]}}, "unknown_value"),
    ({"kind": "VOUCHER", "face_value_fen": 100, "scope": {"colour": ["red"]}}, "unknown_field"),
    ({"kind": "VOUCHER", "face_value_fen": 100, "scope": {"products": [1]}}, "wrong_type"),
    ({"kind": "VOUCHER", "face_value_fen": 100, "scope": {"products": "ECS"}}, "wrong_type"),
    ({"kind": "VOUCHER", "face_value_fen": 100, "scope": []}, "wrong_type"),
    ({"kind": "VOUCHER", "face_value_fen": 100, "colour": "red"}, "unknown_field"),
]


@pytest.mark.parametrize("fields, reason", BAD_COUPONS)
def test_bad_coupons_change_nothing(fast_engine, fields, reason):
    put(fast_engine, "a1")
    before = snapshot(fast_engine)
    request = {"actor": "o", "account_id": "a1", **WINDOW, **fields}
    with pytest.raises(errors.InvalidArgument) as info:
        fast_engine.call("coupon_issue", request)
    if reason:
        assert info.value.reason == reason
    assert snapshot(fast_engine) == before
    assert fast_engine.coupons("a1")["coupons"] == []


def test_external_reference_issues_once(fast_engine):
    put(fast_engine, "a1")
    first = fast_engine.coupon_issue("o", "a1", "VOUCHER", FROM, TO, face_value_fen=100,
                                     external_reference="campaign-7")
    events = event_count(fast_engine)
    second = fast_engine.coupon_issue("o", "a1", "VOUCHER", FROM, TO, face_value_fen=100,
                                      external_reference="campaign-7")
    assert first["replayed"] is False and second["replayed"] is True
    assert second["coupon"]["coupon_id"] == first["coupon"]["coupon_id"]
    assert second["coupon"]["external_reference"] == "campaign-7"
    assert event_count(fast_engine) == events
    assert len(fast_engine.coupons("a1")["coupons"]) == 1


def test_external_references_belong_to_one_account(fast_engine):
    put(fast_engine, "a1")
    put(fast_engine, "a2")
    first = fast_engine.coupon_issue("o", "a1", "VOUCHER", FROM, TO, face_value_fen=100,
                                     external_reference="campaign-7")["coupon"]
    other = fast_engine.coupon_issue("o", "a2", "VOUCHER", FROM, TO, face_value_fen=100,
                                     external_reference="campaign-7")
    assert other["replayed"] is False
    assert other["coupon"]["coupon_id"] != first["coupon_id"]
    assert other["coupon"]["account_id"] == "a2"
    # As documented, a repeated reference returns the first coupon even when the rest of
    # the request differs (top-ups refuse that with topup_reference_reused instead).
    again = fast_engine.coupon_issue("o", "a1", "CASH_COUPON", FROM, TO, face_value_fen=999,
                                     external_reference="campaign-7")
    assert again["replayed"] is True and again["coupon"] == first
    # Top-up references are per account as well.
    assert fast_engine.topup("p", "a1", 5, "pay-1")["replayed"] is False
    assert fast_engine.topup("p", "a2", 7, "pay-1")["replayed"] is False


def test_another_account_sees_none_of_the_coupons(fast_engine):
    put(fast_engine, "a1")
    put(fast_engine, "a2")
    for kind, extra in [("VOUCHER", {"face_value_fen": 100}), ("CASH_COUPON", {"face_value_fen": 50}),
                        ("DISCOUNT_COUPON", {"discount_bp": 500}),
                        ("STORED_VALUE_CARD", {"face_value_fen": 1000})]:
        fast_engine.coupon_issue("o", "a1", kind, FROM, TO, **extra)
    assert len(fast_engine.coupons("a1")["coupons"]) == 4
    for status in (None, "ALL", "USABLE"):
        assert fast_engine.coupons("a2", status=status)["coupons"] == []
    assert [e["type"] for e in fast_engine.iter_events(account_id="a2")] == ["account.created"]


def test_coupon_list_filters_are_checked(fast_engine):
    put(fast_engine, "a1")
    for bad in ({"status": "USED"}, {"kind": "GIFT"}, {"limit": 0}, {"after": "nope"}):
        with pytest.raises(errors.InvalidArgument):
            fast_engine.call("coupons_list", {"account_id": "a1", **bad})
