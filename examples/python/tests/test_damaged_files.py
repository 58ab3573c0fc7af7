"""Damaged and hostile database files: every one gets a status, none crashes the process,
and a refused open leaves the file's bytes and its directory exactly as they were."""

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import textwrap

import pytest

import billing
from billing import errors
from helpers import START, digest

pytestmark = pytest.mark.sqlite_only("damaged and hostile SQLite files, edited with the sqlite3 module")

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def state(path):
    """The file's bytes and its directory's listing."""
    return digest(path), sorted(os.listdir(os.path.dirname(path)))


def open_in_child(path):
    """Opens the file in a child process (a crash must not take the test run with it) and
    returns (status class, reason, message), or ("opened", "", "")."""
    script = textwrap.dedent("""
        import json, sys
        import billing
        try:
            billing.Engine(sys.argv[1]).close()
            print(json.dumps(["opened", "", ""]))
        except billing.errors.BillingError as error:
            print(json.dumps([type(error).__name__, error.reason, error.message]))
    """)
    env = dict(os.environ, PYTHONPATH=PACKAGE_DIR)
    child = subprocess.run([sys.executable, "-c", script, path], capture_output=True, text=True, env=env, timeout=120)
    assert child.returncode == 0, f"the open killed the process ({child.returncode}): {child.stderr[-2000:]}"
    return tuple(json.loads(child.stdout))


def refused_untouched(path, reason):
    before = state(path)
    kind, got, message = open_in_child(path)
    assert (kind, got) == ("SchemaError", reason), message
    assert state(path) == before
    return message


def populated(path):
    """A closed libbilling file with a product, an account and a paid order in it."""
    with billing.Engine(path, clock="manual", now=START) as engine:
        engine.product_put("ops", {"product_id": "vm", "product_type": "ECS", "billing_mode": "PREPAID",
                                   "monthly_price_fen": 10_000, "specs": {"cpu": 4, "note": "x" * 200}})
        engine.account_put("kyc", "a1", type="PERSONAL")
        engine.topup("pay", "a1", 100_000, "t-1")
        order = engine.order_create("buyer", "a1", [{"product_id": "vm", "period": {"unit": "MONTH", "count": 1}}],
                                    auto_pay=True)["order"]
    assert sorted(os.listdir(os.path.dirname(path))) == [os.path.basename(path)]
    return order["order_id"]


def edit(path, *statements):
    """Changes the file with SQLite directly, outside the library, and leaves no -wal behind."""
    db = sqlite3.connect(path)
    with db:
        for statement in statements:
            db.execute(statement)
    db.close()
    assert sorted(os.listdir(os.path.dirname(path))) == [os.path.basename(path)]


@pytest.mark.parametrize("version, reason", [
    (-1, "invalid_schema_version"),
    (-2_147_483_648, "invalid_schema_version"),
    (0, "not_a_billing_database"),
    (10_000, "schema_too_new"),
    (2_147_483_647, "schema_too_new"),
])
def test_every_schema_version_a_file_can_hold_gets_a_status(db_path, version, reason):
    populated(db_path)
    edit(db_path, f"PRAGMA user_version = {version}")
    refused_untouched(db_path, reason)


def test_a_negative_version_on_a_foreign_file_is_not_ours(db_path):
    edit(db_path, "CREATE TABLE t (x)", "PRAGMA user_version = -5")
    refused_untouched(db_path, "not_a_billing_database")


@pytest.mark.parametrize("damage, named", [
    (["DROP TABLE five_day_units"], "table five_day_units is missing"),
    (["DROP INDEX events_by_account"], "index events_by_account is missing"),
    (["ALTER TABLE accounts ADD COLUMN note TEXT"], "table accounts is not defined as version"),
    (["CREATE TABLE extra (x)"], "table extra is not part of the schema"),
    (["CREATE TRIGGER no_refunds BEFORE INSERT ON ledger BEGIN SELECT 1; END"], "trigger no_refunds is not part"),
])
def test_a_schema_that_is_not_the_one_its_version_promises_is_refused(db_path, damage, named):
    populated(db_path)
    edit(db_path, *damage)
    message = refused_untouched(db_path, "schema_damaged")
    assert named in message


def test_statistics_tables_do_not_count_as_damage(db_path):
    populated(db_path)
    edit(db_path, "ANALYZE")
    with billing.Engine(db_path) as engine:
        assert engine.verify()["ok"] is True


def test_an_unreadable_stored_document_is_a_storage_error_naming_the_record(db_path):
    order_id = populated(db_path)
    edit(db_path, "UPDATE order_lines SET product = substr(product, 1, length(product) - 1)")
    with billing.Engine(db_path) as engine:
        with pytest.raises(errors.StorageError) as info:
            engine.order_get("a1", order_id)
        assert info.value.reason == "stored_value_unreadable"
        assert f"order line 1 of order {order_id}" in info.value.message
        report = engine.verify()
        assert report["ok"] is False
        assert {"check": "stored_document", "subject": f"order_lines {order_id} line 1",
                "detail": "order_lines.product is not valid JSON"} in report["breaches"]


@pytest.mark.parametrize("statement, reason_in", [
    ("UPDATE events SET data = '{' WHERE seq = 1", "data of event 1"),
    ("UPDATE orders SET status = 'SHIPPED'", "status of order"),
    ("UPDATE accounts SET level = 'V9'", "level of account a1"),
])
def test_no_stored_value_reads_back_as_a_default(db_path, statement, reason_in):
    order_id = populated(db_path)
    edit(db_path, "PRAGMA ignore_check_constraints = ON", statement)
    with billing.Engine(db_path) as engine:
        with pytest.raises(errors.StorageError) as info:
            list(engine.iter_events(limit=1000))
            engine.order_get("a1", order_id)
            engine.account_get("a1")
        assert info.value.reason == "stored_value_unreadable"
        assert reason_in in info.value.message


def test_a_file_cut_by_one_byte_is_reported_by_verify(db_path):
    populated(db_path)
    # A file in use: its last pages hold rows, not the schema (a fresh file's last page can be
    # part of sqlite_schema, depending on how many migrations it ran, and a schema cut short
    # is refused at open as database_corrupt before verify could report the size).
    with billing.Engine(db_path) as engine:
        for n in range(200):
            engine.topup("pay", "a1", 100 + n, f"cut-{n}")
    with open(db_path, "r+b") as f:
        f.truncate(os.path.getsize(db_path) - 1)
    before = digest(db_path)
    with billing.Engine(db_path) as engine:
        for mode in ("QUICK", "FULL"):
            report = engine.verify({"integrity": mode})
            assert report["ok"] is False and report["integrity"] == mode
            assert [b["check"] for b in report["breaches"]] == ["file_size"]
    assert digest(db_path) == before


def test_a_page_of_random_bytes_is_reported_by_verify(db_path):
    with billing.Engine(db_path, clock="manual", now=START) as engine:
        engine.account_put("kyc", "a1", type="PERSONAL")
        for n in range(400):
            engine.topup("pay", "a1", 100 + n, f"t-{n}")
        assert engine.verify()["ok"] is True
    page_size = 4096
    pages = os.path.getsize(db_path) // page_size
    assert pages > 20
    with open(db_path, "r+b") as f:
        f.seek(page_size * (pages // 2))
        f.write(random.Random(13).randbytes(page_size))
    before = digest(db_path)
    with billing.Engine(db_path) as engine:
        for mode in ("QUICK", "FULL"):
            report = engine.verify({"integrity": mode})
            assert report["ok"] is False
            assert report["breaches"] and {b["check"] for b in report["breaches"]} == {"sqlite_integrity"}
        # The mode is optional (QUICK) and checked like every request field.
        assert engine.verify()["integrity"] == "QUICK"
        with pytest.raises(errors.InvalidArgument) as info:
            engine.verify({"integrity": "SOMETIMES"})
        assert info.value.reason == "unknown_value"
    assert digest(db_path) == before


def test_a_healthy_file_passes_every_integrity_mode(db_path):
    populated(db_path)
    with billing.Engine(db_path) as engine:
        for mode in ("QUICK", "FULL", "NONE"):
            report = engine.verify({"integrity": mode})
            assert report["ok"] is True and report["integrity"] == mode, report


FULL_DISK_CHILD = textwrap.dedent("""
    import json, os, subprocess, sys
    import billing
    directory, path = sys.argv[1], os.path.join(sys.argv[1], "billing.sqlite")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", directory], check=True)
    billing.Engine(path).close()
    with open(os.path.join(directory, "filler"), "wb", buffering=0) as filler:
        try:
            while True:
                filler.write(b"x" * 4096)
        except OSError:
            pass
    try:
        billing.Engine(path).close()
        print(json.dumps(["opened", ""]))
    except billing.errors.BillingError as error:
        print(json.dumps([type(error).__name__, error.reason]))
""")


def test_opening_on_a_full_disk_says_disk_full(tmp_path):
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        pytest.skip("needs unshare and mount")
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("cannot make a private mount namespace here (needs CAP_SYS_ADMIN)")
    directory = tmp_path / "small"
    directory.mkdir()
    env = dict(os.environ, PYTHONPATH=PACKAGE_DIR)
    # A private mount namespace: the small file system vanishes with the child.
    child = subprocess.run(["unshare", "--mount", "--propagation", "private", sys.executable, "-c", FULL_DISK_CHILD,
                            str(directory)], capture_output=True, text=True, env=env, timeout=120)
    assert child.returncode == 0, child.stderr[-2000:]
    assert json.loads(child.stdout) == ["StorageError", "disk_full"]
