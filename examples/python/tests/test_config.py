"""Configuration defaults, updates, validation and idempotency."""

import pytest

import billing
from billing import errors
from helpers import QUOTA, START, audit_count, event_count, snapshot

def test_defaults(engine):
    config = engine.config()
    assert config["business_utc_offset"] == "+08:00"
    assert config["currency"] == "CNY"
    assert config[QUOTA] == 10
    assert config["default_deduction_days"] == 7
    assert config["large_refund_threshold_fen"] == 5_000_000
    assert set(config["grace_and_retention"]) == {"V0", "V1", "V2", "V3", "V4", "V5"}
    for name in ("pay_deadline_seconds", "handling_fee_rates_bp", "five_day_refund_hours",
                 "default_unified_expiry_day", "auto_renew_hour", "expiry_reminder_days"):
        assert name in config


def test_update_response_event_and_audit(engine):
    response = engine.update_config({QUOTA: 12}, actor="alice")
    assert response["schema_version"] >= 1
    assert response["changed"] == [QUOTA]
    assert response["configuration"][QUOTA] == 12
    assert engine.config()[QUOTA] == 12

    [event] = engine.events()["events"]
    assert event["type"] == "config.changed"
    assert event["occurred_at"] == START
    [entry] = engine.audit()["entries"]
    assert entry["actor"] == "alice"
    assert entry["recorded_at"] == START


def test_update_keeps_unnamed_fields(engine):
    before = engine.config()
    engine.update_config({"default_deduction_days": 5, "business_utc_offset": "-03:30"}, "alice")
    after = engine.config()
    assert after["default_deduction_days"] == 5
    assert after["business_utc_offset"] == "-03:30"
    assert {k: v for k, v in after.items() if k not in ("default_deduction_days", "business_utc_offset")} == \
        {k: v for k, v in before.items() if k not in ("default_deduction_days", "business_utc_offset")}


def test_update_persists_and_is_shared(db_path):
    with billing.Engine(db_path) as first, billing.Engine(db_path) as second:
        first.update_config({QUOTA: 12}, "alice")
        assert second.config()[QUOTA] == 12
    with billing.Engine(db_path) as reopened:
        assert reopened.config()[QUOTA] == 12


@pytest.mark.parametrize("changes, reason", [
    ({QUOTA: 1.5}, "not_an_integer"),
    ({QUOTA: -1}, "out_of_range"),
    ({QUOTA: 10 ** 9}, "out_of_range"),
    ({QUOTA: "12"}, "wrong_type"),
    ({QUOTA: True}, "wrong_type"),
    ({"large_refund_threshold_fen": -1}, "negative_amount"),
    ({"large_refund_threshold_fen": 5_000_000.5}, "not_an_integer"),
    ({"large_refund_threshold_fen": 2 ** 63}, "not_an_integer"),
    ({"default_deduction_days": 0}, "out_of_range"),
    ({"bogus_field": 1}, "unknown_field"),
    ({"business_utc_offset": "+8"}, "invalid_offset"),
    ({"business_utc_offset": "+15:00"}, "invalid_offset"),
    ({QUOTA: 12, "business_utc_offset": "+8"}, "invalid_offset"),  # one bad field fails all
])
def test_invalid_values_change_nothing(engine, changes, reason):
    before = snapshot(engine)
    with pytest.raises(errors.InvalidArgument) as info:
        engine.update_config(changes, "alice")
    assert info.value.message
    if reason:
        assert info.value.reason == reason
    assert snapshot(engine) == before


@pytest.mark.parametrize("number", ["1234567.9999999999", "5000000.0000000001", "0.5e0"])
def test_fraction_close_to_an_integer_is_refused(engine, number):
    # Sent as text: Python's float would already round 1234567.9999999999 to 1234568.0.
    before = snapshot(engine)
    text = '{"actor": "alice", "changes": {"large_refund_threshold_fen": %s}}' % number
    with pytest.raises(errors.InvalidArgument) as info:
        engine.call("config_update", text)
    assert info.value.reason == "not_an_integer"
    assert snapshot(engine) == before


def test_update_that_changes_nothing_is_audited_without_an_event(engine):
    response = engine.update_config({QUOTA: 10}, "alice")  # already the default
    assert response["changed"] == []
    assert event_count(engine) == 0
    [entry] = engine.audit()["entries"]
    assert entry["operation"] == "config.update" and entry["actor"] == "alice"
    engine.update_config({QUOTA: 12}, "alice")
    assert event_count(engine) == 1


def test_missing_actor(engine):
    before = snapshot(engine)
    with pytest.raises(errors.InvalidArgument) as info:
        engine.call("config_update", {"changes": {QUOTA: 12}})
    assert info.value.reason == "missing_field"
    assert snapshot(engine) == before


def test_empty_actor_and_bad_keys(engine):
    before = snapshot(engine)
    with pytest.raises(errors.InvalidArgument):
        engine.update_config({QUOTA: 12}, "")
    with pytest.raises(errors.InvalidArgument):
        engine.update_config({QUOTA: 12}, "alice", idempotency_key="")
    with pytest.raises(errors.InvalidArgument):
        engine.update_config({QUOTA: 12}, "alice", idempotency_key="k" * 129)
    assert snapshot(engine) == before
    engine.update_config({QUOTA: 12}, "alice", idempotency_key="k" * 128)


def test_idempotent_replay(engine):
    first = engine.update_config({QUOTA: 12}, "alice", idempotency_key="key-1")
    engine.advance_clock(60)
    again = engine.update_config({QUOTA: 12}, "alice", idempotency_key="key-1")
    assert again == first
    assert event_count(engine) == 1
    assert audit_count(engine) == 1


def test_replay_returns_the_first_response_even_after_later_changes(engine):
    first = engine.update_config({QUOTA: 12}, "alice", idempotency_key="key-1")
    engine.update_config({QUOTA: 13}, "bob")
    assert engine.update_config({QUOTA: 12}, "alice", idempotency_key="key-1") == first
    assert engine.config()[QUOTA] == 13


def test_replay_ignores_json_spelling(engine):
    first = engine.update_config({QUOTA: 12}, "alice", idempotency_key="key-1")
    text = '{ "changes": {"five_day_quota_per_year": 12}, "idempotency_key": "key-1", "actor": "alice" }'
    assert engine.call("config_update", text) == first
    assert event_count(engine) == 1


def test_key_reused_for_another_request(engine):
    engine.update_config({QUOTA: 12}, "alice", idempotency_key="key-1")
    before = snapshot(engine)
    with pytest.raises(errors.Conflict) as info:
        engine.update_config({QUOTA: 13}, "alice", idempotency_key="key-1")
    assert info.value.reason == "idempotency_key_reused"
    assert snapshot(engine) == before


def test_keys_of_account_less_requests_are_scoped_to_the_actor(engine):
    """Since 0.2.0 (issue 13 item 7): bob's key-1 is not alice's; it neither conflicts nor
    answers with alice's response."""
    first = engine.update_config({QUOTA: 12}, "alice", idempotency_key="key-1")
    other = engine.update_config({QUOTA: 12}, "bob", idempotency_key="key-1")
    assert other != first and other["changed"] == []
    assert engine.update_config({QUOTA: 13}, "bob", idempotency_key="key-2")["changed"] == [QUOTA]


def test_failed_request_does_not_consume_its_key(engine):
    with pytest.raises(errors.InvalidArgument):
        engine.update_config({QUOTA: -1}, "alice", idempotency_key="key-1")
    assert engine.update_config({QUOTA: 12}, "alice", idempotency_key="key-1")["changed"] == [QUOTA]
