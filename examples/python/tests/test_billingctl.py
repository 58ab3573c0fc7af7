"""billingctl, the operator CLI (tools/billingctl.c, built by `make build` into dist/bin): every
subcommand, its --json document and its exit status, against databases prepared through the
Python binding. BILLINGCTL overrides the program's path."""

import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest

import billing
from helpers import DAY, START

HERE = os.path.dirname(os.path.abspath(__file__))
BILLINGCTL = os.environ.get("BILLINGCTL") or os.path.normpath(
    os.path.join(HERE, "..", "..", "..", "dist", "bin", "billingctl"))


def run(*arguments, db=None, now=None, check=None, env=None, cwd=None, timeout=60):
    """Runs billingctl; `now` selects a manual clock. Returns the CompletedProcess."""
    command = [BILLINGCTL]
    if db is not None:
        command += ["--db", db]
    if now is not None:
        command += ["--clock", "manual", "--now", str(now)]
    command += [str(a) for a in arguments]
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)
    if check is not None:
        assert result.returncode == check, (command, result.returncode, result.stdout, result.stderr)
    return result


def run_json(*arguments, check=0, **options):
    """Runs with --json: stdout must be exactly one JSON document."""
    result = run("--json", *arguments, check=check, **options)
    document = json.loads(result.stdout)
    assert document["exit_status"] == check and document["ok"] is (check == 0)
    return document


@pytest.fixture
def shop(engine):
    """An account with cash and a prepaid product."""
    engine.account_put("kyc", "acme", type="ENTERPRISE", realname_verified=True, level="V3")
    engine.topup("payments", "acme", amount_fen=100000, external_reference="seed")
    engine.product_put("catalog", {"product_id": "ecs.c1", "product_type": "ECS", "billing_mode": "PREPAID",
                                   "monthly_price_fen": 5000})
    return engine


def unpaid_order(engine):
    order = engine.order_create("buyer", "acme", [{"product_id": "ecs.c1", "period": {"unit": "MONTH", "count": 1}}])
    return order["order"]["order_id"]


# ---- help and usage -------------------------------------------------------------------------

def test_program_is_built():
    assert os.access(BILLINGCTL, os.X_OK), f"{BILLINGCTL} is missing: run make build"


def test_help():
    result = run("--help", check=0)
    for word in ("scheduler-run", "verify", "backup", "events tail", "export-step", "config get", "config set",
                 "Exit status", "--json"):
        assert word in result.stdout
    for command in ("scheduler-run", "verify", "backup", "events", "export-step", "config"):
        text = run(command, "--help", check=0).stdout
        assert text.startswith("usage: billingctl " + command), text


@pytest.mark.parametrize("arguments", [
    (), ("bogus",), ("verify", "--bogus"), ("--db",), ("events", "list"), ("events",), ("config",),
    ("config", "set", "auto_renew_hour"), ("backup",), ("backup", "a", "b"), ("export-step", "--account", "acme"),
    ("scheduler-run", "--limit", "0"), ("scheduler-run", "--limit", "x"), ("events", "tail", "--limit", "1001"),
    ("verify", "--clock", "manual"), ("verify", "--now", "5"), ("verify", "--clock", "atomic", "--now", "5"),
])
def test_usage_errors(db_path, engine, arguments):
    assert run(*arguments, db=db_path).returncode == 2


def test_usage_error_as_json(db_path, engine):
    document = run_json("scheduler-run", "--limit", "0", db=db_path, check=2)
    assert document["error"]["reason"] == "usage_error" and "--limit" in document["error"]["message"]
    assert run_json("events", "tail", "--follow", db=db_path, check=2)["error"]["reason"] == "usage_error"


def test_no_database(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "BILLING_DB"}
    assert run("verify", env=env).returncode == 2
    missing = str(tmp_path / "missing.sqlite")
    document = run_json("verify", db=missing, check=15)
    assert document["error"]["status"] == 5 and document["error"]["reason"] == "cannot_open"
    assert not os.path.exists(missing)  # never created
    # BILLING_DB is the default database.
    env["BILLING_DB"] = missing
    assert run("verify", env=env).returncode == 15


def test_not_a_billing_file(tmp_path):
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    assert run_json("verify", db=str(other), check=17)["error"]["status"] == 7


# ---- scheduler-run -------------------------------------------------------------------------------

def test_scheduler_run_cancels_overdue_orders_once(shop, db_path):
    order_id = unpaid_order(shop)
    later = START + 8 * DAY
    document = run_json("scheduler-run", db=db_path, now=later)
    assert document["command"] == "scheduler-run"
    result = document["result"]
    assert result["batches"] == 1 and result["has_more"] is False
    assert result["runs"][0]["cancelled_orders"] == 1 and result["runs"][0]["now"] == later
    assert shop.order_get("acme", order_id)["order"]["status"] == "CANCELLED"
    # Again: nothing left to do. Text mode says what it did.
    text = run("scheduler-run", db=db_path, now=later, check=0).stdout
    assert "cancelled_orders 0" in text


def test_scheduler_run_in_batches(shop, db_path):
    orders = [unpaid_order(shop) for _ in range(5)]
    result = run_json("scheduler-run", "--limit", "2", db=db_path, now=START + 8 * DAY)["result"]
    assert [r["cancelled_orders"] for r in result["runs"]] == [2, 2, 1]
    assert result["has_more"] is False
    assert {shop.order_get("acme", o)["order"]["status"] for o in orders} == {"CANCELLED"}


def test_scheduler_run_stops_after_max_batches(shop, db_path):
    for _ in range(4):
        unpaid_order(shop)
    later = START + 8 * DAY
    result = run_json("scheduler-run", "--limit", "1", "--max-batches", "2", db=db_path, now=later)["result"]
    assert result["batches"] == 2 and result["has_more"] is True
    assert sum(r["cancelled_orders"] for r in result["runs"]) == 2
    text = run("scheduler-run", "--limit=1", "--max-batches=1", db=db_path, now=later, check=0).stdout
    assert "cancelled_orders 1" in text and "the next run continues" in text
    assert run("scheduler-run", "--max-batches", "0", db=db_path).returncode == 2


def test_scheduler_run_from_several_hosts_at_once(shop, db_path):
    """Timers on several hosts fire together: every overdue order is cancelled exactly once."""
    orders = [unpaid_order(shop) for _ in range(12)]
    command = [BILLINGCTL, "--db", db_path, "--clock", "manual", "--now", str(START + 8 * DAY), "--json",
               "scheduler-run", "--limit", "3"]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    cancelled = 0
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
        cancelled += sum(run["cancelled_orders"] for run in json.loads(stdout)["result"]["runs"])
    assert cancelled == len(orders)
    assert shop.verify()["ok"] is True


# ---- verify ----------------------------------------------------------------------------------------

def test_verify(shop, db_path):
    document = run_json("verify", db=db_path)
    assert document["result"]["ok"] is True and document["result"]["breaches"] == []
    assert run("verify", db=db_path, check=0).stdout == "verify: ok\n"
    # A balance changed behind the library's back is a breach: exit 1, each one printed.
    connection = sqlite3.connect(db_path)
    connection.execute("UPDATE accounts SET cash_balance = cash_balance + 1 WHERE id = 'acme'")
    connection.commit()
    connection.close()
    document = run_json("verify", db=db_path, check=1)
    assert any(b["check"] == "cash_ledger" and b["subject"] == "acme" for b in document["result"]["breaches"])
    text = run("verify", db=db_path, check=1).stdout
    assert "breach cash_ledger acme:" in text and "breaches" in text.splitlines()[-1]


# ---- backup -------------------------------------------------------------------------------------

def test_backup(shop, db_path, tmp_path):
    destination = tmp_path / "copy.sqlite"
    document = run_json("backup", destination, db=db_path)
    assert document["result"]["backup"]["destination"] == str(destination)
    assert document["result"]["backup"]["bytes"] == os.path.getsize(destination)
    with billing.Engine(str(destination), create=False) as copy:
        assert copy.account_get("acme")["account"]["cash_balance_fen"] == 100000
        assert copy.verify()["ok"] is True
    # Never over an existing file.
    document = run_json("backup", destination, db=db_path, check=13)
    assert document["error"]["reason"] == "destination_exists"
    # A relative destination is taken from the current directory.
    result = run("backup", "relative.sqlite", db=db_path, cwd=str(tmp_path), check=0)
    assert (tmp_path / "relative.sqlite").exists() and "relative.sqlite" in result.stdout
    assert run("backup", tmp_path / "missing" / "x.sqlite", db=db_path).returncode == 15


# ---- events tail ----------------------------------------------------------------------------------

def lines(result):
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_events_tail_with_a_cursor_file(shop, db_path, tmp_path):
    cursor = tmp_path / "events.cursor"
    everything = list(shop.iter_events())
    printed = lines(run("events", "tail", "--cursor-file", cursor, "--limit", "2", db=db_path, check=0))
    assert printed == everything  # all pages, oldest first, one JSON object per line
    assert cursor.read_text() == f"{everything[-1]['seq']}\n"
    # Nothing new: nothing printed, the cursor stays.
    assert run("events", "tail", "--cursor-file", cursor, db=db_path, check=0).stdout == ""
    # Only what came after.
    shop.topup("payments", "acme", amount_fen=1, external_reference="later")
    printed = lines(run("events", "tail", "--cursor-file", cursor, db=db_path, check=0))
    assert [e["type"] for e in printed] == ["account.topped_up"]
    assert cursor.read_text() == f"{printed[-1]['seq']}\n"
    assert not [p for p in os.listdir(tmp_path) if ".tmp." in p]


def test_events_tail_json_and_filters(shop, db_path, tmp_path):
    cursor = tmp_path / "json.cursor"
    document = run_json("events", "tail", "--cursor-file", cursor, db=db_path)
    events = document["result"]["events"]
    assert events == list(shop.iter_events())
    assert document["result"]["next_cursor"] == str(events[-1]["seq"]) == cursor.read_text().strip()
    assert run_json("events", "tail", "--cursor-file", cursor, db=db_path)["result"]["events"] == []
    # Without a cursor file: from --after (or the start), nothing stored.
    after = run_json("events", "tail", "--after", events[0]["seq"], db=db_path)["result"]["events"]
    assert after == events[1:]
    shop.account_put("kyc", "other", type="PERSONAL")
    only = run_json("events", "tail", "--account", "other", db=db_path)["result"]["events"]
    assert only and {e["account_id"] for e in only} == {"other"}


def test_events_tail_cursor_errors(shop, db_path, tmp_path):
    bad = tmp_path / "bad.cursor"
    bad.write_text("not-a-cursor\n")
    assert run_json("events", "tail", "--cursor-file", bad, db=db_path, check=11)["error"]["reason"] == "invalid_cursor"
    # A cursor that cannot be stored: the events were printed, the exit status says so.
    unwritable = tmp_path / "no-such-directory" / "x.cursor"
    result = run("events", "tail", "--cursor-file", unwritable, db=db_path)
    assert result.returncode == 3 and "cursor file" in result.stderr
    directory = tmp_path / "a-directory"
    directory.mkdir()
    assert run("events", "tail", "--cursor-file", directory, db=db_path).returncode == 3


def test_events_tail_follow(shop, db_path, tmp_path):
    cursor = tmp_path / "follow.cursor"
    run("events", "tail", "--cursor-file", cursor, db=db_path, check=0)
    process = subprocess.Popen([BILLINGCTL, "--db", db_path, "events", "tail", "--cursor-file", str(cursor),
                                "--follow", "--interval", "0.05"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        shop.topup("payments", "acme", amount_fen=2, external_reference="followed")
        line = process.stdout.readline()
        assert json.loads(line)["type"] == "account.topped_up"
        deadline = time.time() + 10
        while cursor.read_text().strip() != str(json.loads(line)["seq"]) and time.time() < deadline:
            time.sleep(0.05)
        assert cursor.read_text().strip() == str(json.loads(line)["seq"])
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    assert process.returncode == 0


# ---- export-step ------------------------------------------------------------------------------------

def test_export_step(shop, db_path, tmp_path):
    shop.update_config({"export_directory": str(tmp_path / "exports"), "export_rows_per_step": 10}, actor="test")
    for _ in range(12):
        unpaid_order(shop)
    export_id = shop.export_request("buyer", "acme", "ORDERS", language="en")["export"]["export_id"]
    document = run_json("export-step", "--account", "acme", "--export", export_id, "--max-rows", "2", db=db_path)
    assert document["result"]["export"]["rows_written"] == 2
    text = run("export-step", "--account", "acme", "--export", export_id, db=db_path, check=0).stdout
    assert f"export {export_id}: READY, 12 of 12 rows" in text
    assert shop.export_download("acme", export_id)["export"]["status"] == "READY"
    assert run_json("export-step", "--account", "acme", "--export", "EX999", db=db_path, check=12)["error"]["status"] == 2
    assert run("export-step", "--account", "someone-else", "--export", export_id, db=db_path).returncode == 12


# ---- config ------------------------------------------------------------------------------------------

def test_config_get_and_set(engine, db_path):
    whole = run_json("config", "get", db=db_path)["result"]["configuration"]
    assert whole == engine.config()
    assert run("config", "get", "auto_renew_hour", db=db_path, check=0).stdout == f"{whole['auto_renew_hour']}\n"
    document = run_json("config", "get", "currency", db=db_path)
    assert document["command"] == "config get" and document["result"] == {"key": "currency", "value": "CNY"}
    assert run_json("config", "get", "no_such_key", db=db_path, check=2)["error"]["reason"] == "unknown_key"

    # Several values in one request: JSON values as JSON, anything else as a string.
    document = run_json("config", "set", "auto_renew_hour", "5", "currency", "USD",
                        "expiry_reminder_days", '{"MANUAL": [7, 1]}', "--actor", "ops-team", db=db_path)
    assert document["command"] == "config set"
    assert sorted(document["result"]["changed"]) == ["auto_renew_hour", "currency", "expiry_reminder_days"]
    configuration = engine.config()
    assert configuration["auto_renew_hour"] == 5 and configuration["currency"] == "USD"
    assert configuration["expiry_reminder_days"]["MANUAL"] == [7, 1]
    assert list(engine.iter_audit())[-1]["actor"] == "ops-team"
    # All or nothing: one bad value changes nothing.
    document = run_json("config", "set", "auto_renew_hour", "6", "max_batch_cancel", "0", db=db_path, check=11)
    assert document["error"]["status"] == 1 and engine.config()["auto_renew_hour"] == 5
    assert run("config", "set", "auto_renew_hour", "24", db=db_path).returncode == 11


def test_audit_key_from_the_environment(tmp_path):
    """A keyed file: billingctl writes only with the key in BILLING_AUDIT_KEY."""
    path = str(tmp_path / "keyed.sqlite")
    key = "5a" * 32
    with billing.Engine(path, audit_key=key) as engine:
        engine.account_put("kyc", "a1", type="PERSONAL")
    env = {k: v for k, v in os.environ.items() if k != "BILLING_AUDIT_KEY"}
    refused = run_json("config", "set", "auto_renew_hour", "4", db=path, env=env, check=14)
    assert refused["error"]["reason"] == "audit_key_required"
    run_json("config", "set", "auto_renew_hour", "4", db=path, env=dict(env, BILLING_AUDIT_KEY=key))
    assert run_json("verify", db=path, env=dict(env, BILLING_AUDIT_KEY=key))["result"]["breaches"] == []
