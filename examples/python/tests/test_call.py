"""billing_call (the outcome of a call, error included, in one document, readable on any
thread) and billing_engine_backup, through the release library."""

import ctypes
import json
import os
import sqlite3
import threading

import pytest

import billing
from billing import _native, errors
from helpers import ON_POSTGRES


def call(engine, function, request=None):
    """billing_call through ctypes: (status, decoded document)."""
    out = ctypes.c_void_p()
    encoded = None if request is None else (request if isinstance(request, str) else json.dumps(request)).encode()
    status = _native.billing_call(engine._live_handle(), function.encode() if function is not None else None,
                                  encoded, ctypes.byref(out))
    text = _native.take_string(out.value)
    return status, (json.loads(text) if text is not None else None)


def test_success_wraps_the_response(engine):
    engine.account_put("kyc", "acme", type="ENTERPRISE")
    status, document = call(engine, "billing_account_get", {"account_id": "acme"})
    assert status == 0
    assert document == {"ok": True, "result": engine.account_get("acme")}


def test_failure_carries_the_error(engine):
    status, document = call(engine, "billing_account_get", {"account_id": "nobody"})
    assert status == 2
    assert document["ok"] is False and "result" not in document
    error = document["error"]
    assert error["status"] == 2 and error["status_name"] == "not found"
    assert error["reason"] == "account_not_found" and "nobody" in error["message"]
    # The same error as the direct call raises, so a host can map it the same way.
    with pytest.raises(errors.NotFound) as raised:
        engine.account_get("nobody")
    assert raised.value.reason == error["reason"] and str(raised.value.message) == error["message"]


@pytest.mark.parametrize("function, reason", [
    ("billing_nope", "unknown_function"), ("account_get", "unknown_function"),
    ("billing_engine_open", "unknown_function"), ("billing_call", "unknown_function"),
    (None, "unknown_function"),
])
def test_unknown_functions(engine, function, reason):
    status, document = call(engine, function, {})
    assert status == 1
    assert document["error"]["reason"] == reason
    assert function is None or function in document["error"]["message"]


def test_clock_and_config_by_name(engine):
    now = engine.now()
    assert call(engine, "billing_clock_now")[1]["result"]["now"] == now
    assert call(engine, "billing_clock_advance", {"seconds": 10})[1]["result"]["now"] == now + 10
    assert call(engine, "billing_clock_set", {"now": now + 20})[1]["result"]["now"] == now + 20
    status, document = call(engine, "billing_clock_set", {"now": now})
    assert status == 1 and document["error"]["reason"] == "clock_backwards"
    assert call(engine, "billing_config_get")[1]["result"]["configuration"] == engine.config()


def test_document_read_on_another_thread(engine):
    """The call runs on a worker thread; the main thread learns its error from the document
    alone, and its own thread-local last error is not the worker's."""
    result = {}
    worker = threading.Thread(target=lambda: result.update(
        zip(("status", "document"), call(engine, "billing_account_get", {"account_id": "ghost"}))))
    worker.start()
    worker.join()
    assert result["status"] == 2 and result["document"]["error"]["reason"] == "account_not_found"
    assert _native.billing_last_error_code() == 0


# ---- backup ------------------------------------------------------------------------------

@pytest.mark.sqlite_only("a backup is VACUUM INTO a file (pg_dump on PostgreSQL)")
def test_backup_is_a_consistent_copy(engine, tmp_path):
    engine.account_put("kyc", "acme", type="ENTERPRISE")
    engine.topup("payments", "acme", amount_fen=500, external_reference="t-1")
    destination = tmp_path / "copy.sqlite"
    response = engine.backup(destination)
    assert response["backup"]["destination"] == str(destination)
    assert response["backup"]["bytes"] == os.path.getsize(destination) > 0
    assert response["backup"]["taken_at"] == engine.now()
    assert oct(os.stat(destination).st_mode & 0o777) == oct(0o600)
    with billing.Engine(str(destination), create=False) as copy:
        assert copy.account_get("acme")["account"]["cash_balance_fen"] == 500
        assert copy.verify()["ok"] is True
        assert list(copy.iter_events()) == list(engine.iter_events())
    # Later writes go to the source only.
    engine.topup("payments", "acme", amount_fen=1, external_reference="t-2")
    with billing.Engine(str(destination), create=False) as copy:
        assert copy.account_get("acme")["account"]["cash_balance_fen"] == 500


@pytest.mark.sqlite_only("a backup is VACUUM INTO a file (pg_dump on PostgreSQL)")
def test_backup_never_overwrites(engine, tmp_path):
    existing = tmp_path / "existing.sqlite"
    existing.write_bytes(b"")
    with pytest.raises(errors.Conflict) as raised:
        engine.backup(existing)
    assert raised.value.reason == "destination_exists"
    assert existing.read_bytes() == b""
    with pytest.raises(errors.Conflict):
        engine.backup(engine.path)
    with pytest.raises(errors.InvalidArgument) as raised:
        engine.backup("relative.sqlite")
    assert raised.value.reason == "destination_not_absolute"
    with pytest.raises(errors.StorageError) as raised:
        engine.backup(tmp_path / "missing" / "copy.sqlite")
    assert raised.value.reason == "backup_failed"
    assert not (tmp_path / "missing").exists()


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only: the backup of an SQLite file is tested above")
def test_backup_on_postgresql_is_refused_for_pg_dump(engine, tmp_path):
    with pytest.raises(errors.Refused) as raised:
        engine.backup(tmp_path / "copy.sqlite")
    assert raised.value.reason == "backup_needs_pg_dump" and raised.value.message
    assert not (tmp_path / "copy.sqlite").exists()


@pytest.mark.sqlite_only("a backup is VACUUM INTO a file, read held with the sqlite3 module")
def test_backup_while_another_connection_holds_a_read(engine, db_path, tmp_path):
    """Online: a reader in the middle of a transaction on the file does not stop the copy,
    and a write committed by another handle before the backup is in it."""
    engine.account_put("kyc", "acme", type="ENTERPRISE")
    reader = sqlite3.connect(db_path)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM accounts").fetchone()
        with billing.Engine(db_path, clock="manual", now=engine.now()) as other:
            other.topup("payments", "acme", amount_fen=7, external_reference="other")
        engine.backup(tmp_path / "online.sqlite")
    finally:
        reader.close()
    with billing.Engine(str(tmp_path / "online.sqlite"), create=False) as copy:
        assert copy.account_get("acme")["account"]["cash_balance_fen"] == 7
