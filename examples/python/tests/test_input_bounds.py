"""Input the engine cannot keep or should not echo: numbers beyond 64 bits in free-form
fields, huge names quoted back in messages, and password-hash costs below the floors."""

import json

import pytest

import billing
from billing import errors
from helpers import snapshot, sql_execute, sql_rows, sql_text


def product(**fields):
    return {"product_id": "vm", "product_type": "ECS", "billing_mode": "PREPAID", "monthly_price_fen": 100, **fields}


@pytest.mark.parametrize("number", [2 ** 63, -(2 ** 63) - 1, 2 ** 64, 10 ** 32])
def test_a_free_form_number_beyond_64_bits_is_refused_not_nulled(engine, number):
    before = snapshot(engine)
    with pytest.raises(errors.InvalidArgument) as info:
        engine.product_put("ops", product(specs={"cpu": number}))
    assert info.value.reason == "out_of_range"
    assert "request.product.specs.cpu" in info.value.message
    with pytest.raises(errors.InvalidArgument) as info:
        engine.product_put("ops", product(specs={"disks": [{"size": 1}, {"size": number}]}))
    assert info.value.reason == "out_of_range"
    assert "request.product.specs.disks[1].size" in info.value.message
    assert snapshot(engine) == before


def test_free_form_numbers_at_the_64_bit_limits_are_kept_exactly(engine):
    specs = {"max": 2 ** 63 - 1, "min": -(2 ** 63), "nested": [{"zero": 0}]}
    assert engine.product_put("ops", product(specs=specs))["product"]["specs"] == specs
    assert engine.product_get("vm")["product"]["specs"] == specs


def test_an_error_message_quotes_at_most_a_little_of_the_input(engine):
    name = "x" * (10 * 1024 * 1024)
    with pytest.raises(errors.InvalidArgument) as info:
        engine.call("billing_account_put", {"actor": "kyc", "account_id": "a1", name: 1, "y" * 5000: 2})
    assert info.value.reason == "unknown_field"
    assert len(info.value.message) < 600
    assert "xxxxxxxx" in info.value.message and "bytes" in info.value.message
    with pytest.raises(errors.InvalidArgument) as info:
        engine.account_put("kyc", "a1", type="z" * 200)
    assert info.value.reason == "unknown_value"
    assert len(info.value.message) < 300


@pytest.mark.parametrize("changes", [
    {"password_hash_ops_limit": 1, "password_hash_memory_bytes": 8192},
    {"password_hash_ops_limit": 2, "password_hash_memory_bytes": 19 * 1024 * 1024 - 1},
    {"password_hash_ops_limit": 1, "password_hash_memory_bytes": 19 * 1024 * 1024},
    {"password_hash_ops_limit": 1, "password_hash_memory_bytes": 46 * 1024 * 1024 - 1},
])
def test_password_hash_costs_below_the_floors_are_refused(engine, changes):
    before = snapshot(engine)
    with pytest.raises(errors.InvalidArgument) as info:
        engine.update_config(changes, actor="ops")
    assert info.value.reason == "out_of_range"
    assert snapshot(engine) == before


@pytest.mark.parametrize("changes", [
    {"password_hash_ops_limit": 2, "password_hash_memory_bytes": 19 * 1024 * 1024},
    {"password_hash_ops_limit": 1, "password_hash_memory_bytes": 46 * 1024 * 1024},
])
def test_password_hash_costs_at_the_floors_are_accepted(engine, changes):
    configuration = engine.update_config(changes, actor="ops")["configuration"]
    assert {key: configuration[key] for key in changes} == changes


def test_costs_stored_below_the_floors_rise_to_them(db_path):
    with billing.Engine(db_path) as engine:
        engine.update_config({"password_hash_ops_limit": 1, "password_hash_memory_bytes": 64 * 1024 * 1024}, actor="ops")
    # A configuration an older library stored with its lowest costs.
    ((document,),) = sql_rows(db_path, "SELECT document FROM config")
    stored = dict(json.loads(document), password_hash_memory_bytes=8192)
    sql_execute(db_path, f"UPDATE config SET document = {sql_text(json.dumps(stored))}, revision = revision + 1")
    with billing.Engine(db_path) as engine:
        configuration = engine.config()
        assert configuration["password_hash_ops_limit"] == 1
        assert configuration["password_hash_memory_bytes"] == 46 * 1024 * 1024
