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
from helpers import DAY, START, new_database, sql_execute

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
    for word in ("scheduler-run", "verify", "backup", "copy", "events tail", "export-step", "config get", "config set",
                 "audit-head", "--audit-head", "Exit status", "--json"):
        assert word in result.stdout
    for command in ("scheduler-run", "verify", "backup", "copy", "events", "export-step", "config", "audit-head"):
        text = run(command, "--help", check=0).stdout
        assert text.startswith("usage: billingctl " + command), text


@pytest.mark.parametrize("arguments", [
    (), ("bogus",), ("verify", "--bogus"), ("--db",), ("events", "list"), ("events",), ("config",),
    ("config", "set", "auto_renew_hour"), ("backup",), ("backup", "a", "b"), ("copy",), ("copy", "a", "b"),
    ("copy", "a", "--limit", "5"), ("export-step", "--account", "acme"),
    ("scheduler-run", "--limit", "0"), ("scheduler-run", "--limit", "x"), ("events", "tail", "--limit", "1001"),
    ("verify", "--clock", "manual"), ("verify", "--now", "5"), ("verify", "--clock", "atomic", "--now", "5"),
])
def test_usage_errors(db_path, engine, arguments):
    assert run(*arguments, db=db_path).returncode == 2


def test_usage_error_as_json(db_path, engine):
    document = run_json("scheduler-run", "--limit", "0", db=db_path, check=2)
    assert document["error"]["reason"] == "usage_error" and "--limit" in document["error"]["message"]
    assert run_json("events", "tail", "--follow", db=db_path, check=2)["error"]["reason"] == "usage_error"


@pytest.mark.sqlite_only("a missing file is never created")
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


@pytest.mark.sqlite_only("a foreign SQLite file")
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
    sql_execute(db_path, "UPDATE accounts SET cash_balance = cash_balance + 1 WHERE id = 'acme'")
    document = run_json("verify", db=db_path, check=1)
    assert any(b["check"] == "cash_ledger" and b["subject"] == "acme" for b in document["result"]["breaches"])
    text = run("verify", db=db_path, check=1).stdout
    assert "breach cash_ledger acme:" in text and "breaches" in text.splitlines()[-1]


@pytest.mark.sqlite_only("the older copy is a backup file")
def test_verify_with_a_kept_audit_head_finds_a_cut_chain(shop, db_path, tmp_path):
    """`audit-head` prints the chain's head for the host to keep elsewhere; `verify --audit-head
    FILE` checks the chain against it, so a file whose chain lost its last rows (here an older
    copy put in its place) is found although it passes every other check."""
    older = tmp_path / "older.sqlite"
    run("backup", older, db=db_path, check=0)
    shop.topup("payments", "acme", amount_fen=500, external_reference="later")
    head_file = tmp_path / "head.json"
    result = run("audit-head", db=db_path, check=0)
    head_file.write_text(result.stdout)
    head = json.loads(result.stdout)
    assert head == {key: value for key, value in shop.audit_head().items()}
    assert head["position"] > 0 and head["digest"]
    assert run_json("audit-head", db=db_path)["result"] == head
    # The file as it is reaches the kept head.
    assert run("verify", "--audit-head", head_file, db=db_path, check=0).stdout == "verify: ok\n"
    # The older copy: no other check fails, the kept head does.
    run("verify", db=older, check=0)
    document = run_json("verify", "--audit-head", head_file, "--integrity", "full", db=older, check=1)
    assert [b["check"] for b in document["result"]["breaches"]] == ["audit_head"], document
    assert document["result"]["breaches"][0]["subject"] == str(head["position"])
    assert "breach audit_head" in run("verify", f"--audit-head={head_file}", db=older, check=1).stdout
    # Rows deleted at the chain's end of the file itself.
    connection = sqlite3.connect(db_path)
    connection.execute("DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)")
    connection.commit()
    connection.close()
    document = run_json("verify", "--audit-head", head_file, db=db_path, check=1)
    assert any(b["check"] == "audit_head" for b in document["result"]["breaches"]), document


def test_verify_audit_head_file_errors(shop, db_path, tmp_path):
    """A head file that cannot be read is exit 3 and one that holds no head a usage error (exit
    2), both before the database is opened; a head the library refuses is exit 11."""
    missing = tmp_path / "missing.json"
    document = run_json("verify", "--audit-head", missing, db=db_path, check=3)
    assert document["error"]["reason"] == "audit_head_file_error" and "missing.json" in document["error"]["message"]
    assert run("verify", "--audit-head", tmp_path, db=db_path).returncode == 3  # a directory
    # Checked before the database is opened: a missing database does not hide it.
    assert run("verify", "--audit-head", missing, db=str(tmp_path / "no.sqlite")).returncode == 3
    bad = tmp_path / "bad.json"
    for text in ("", "not json", "[1, 2]", '{"position": 1}', '{"digest": "x"}', '{"position": -1, "digest": "x"}',
                 '{"position": 1, "digest": 5}', '{"position": 1, "digest": "x"} trailing', '{"position": 1, "digest": "x"',
                 '{"position": 1, "digest": "x"}\n' + " " * 5000):
        bad.write_text(text)
        document = run_json("verify", "--audit-head", bad, db=db_path, check=2)
        assert document["error"]["reason"] == "usage_error" and "does not hold an audit head" in document["error"]["message"], text
    bad.write_bytes(b'{"position": 1, "digest": "\xff"}')
    assert run("verify", "--audit-head", bad, db=db_path).returncode == 2
    assert run("verify", "--audit-head=", db=db_path).returncode == 2
    # Well formed, refused by the library: a member it does not know.
    bad.write_text('{"position": 1, "digest": "x", "more": 1}')
    assert run_json("verify", "--audit-head", bad, db=db_path, check=11)["error"]["status_name"]
    # The option belongs to verify; audit-head takes no arguments.
    assert run("backup", tmp_path / "c.sqlite", "--audit-head", bad, db=db_path).returncode == 2
    assert run("audit-head", "extra", db=db_path).returncode == 2


# ---- backup -------------------------------------------------------------------------------------

@pytest.mark.sqlite_only("a backup is VACUUM INTO a file (pg_dump on PostgreSQL)")
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
    printed = lines(run("events", "tail", "--cursor-file", cursor, "--limit", "2", "--max-pages", "100", db=db_path, check=0))
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
    path = new_database(tmp_path, "keyed")
    key = "5a" * 32
    with billing.Engine(path, audit_key=key) as engine:
        engine.account_put("kyc", "a1", type="PERSONAL")
    env = {k: v for k, v in os.environ.items() if k != "BILLING_AUDIT_KEY"}
    refused = run_json("config", "set", "auto_renew_hour", "4", db=path, env=env, check=14)
    assert refused["error"]["reason"] == "audit_key_required"
    run_json("config", "set", "auto_renew_hour", "4", db=path, env=dict(env, BILLING_AUDIT_KEY=key))
    assert run_json("verify", db=path, env=dict(env, BILLING_AUDIT_KEY=key))["result"]["breaches"] == []


# ---- hardening: the findings of the code review, one regression test each -------------------------

def run_raw(*arguments, db=None, stdin=None, stdout=subprocess.PIPE, env=None, timeout=60):
    """Runs billingctl with arguments that may be bytes (not UTF-8); returns the process with
    stdout and stderr as bytes, so that a test can insist that they decode as UTF-8."""
    command = [BILLINGCTL] + (["--db", db] if db is not None else [])
    command += [a if isinstance(a, bytes) else str(a) for a in arguments]
    return subprocess.run(command, stdout=stdout, stderr=subprocess.PIPE, env=env, timeout=timeout)


def one_document(stdout):
    """The single JSON document --json promises: valid UTF-8, one line, nothing else."""
    text = stdout.decode("utf-8")  # strict: invalid UTF-8 raises
    assert text.endswith("\n") and text.count("\n") == 1, text
    return json.loads(text)


# 1. config set: every VALUE reaches the request as JSON, never spliced raw.

def test_config_set_encodes_text_with_quotes_and_backslashes(engine, db_path):
    awkward = '/srv/exports "quoted" \\back\\slash\\ é, {"not": "json"}'
    run("config", "set", "export_directory", awkward, db=db_path, check=0)
    assert engine.config()["export_directory"] == awkward  # arrived as exactly this string


def test_config_set_sends_json_values_as_json(engine, db_path):
    run("config", "set", "expiry_reminder_days", ' {"MANUAL": [9, 2]} ', "auto_renew_hour", "4", db=db_path, check=0)
    configuration = engine.config()
    assert configuration["expiry_reminder_days"]["MANUAL"] == [9, 2] and configuration["auto_renew_hour"] == 4
    # A quoted number is a string, which the library refuses for an integer key: it was not unquoted.
    document = run_json("config", "set", "auto_renew_hour", '"5"', db=db_path, check=11)
    assert document["error"]["status"] == 1 and engine.config()["auto_renew_hour"] == 4
    # A negative number is a value, not an unknown option, and reaches the library as a number.
    document = run_json("config", "set", "auto_renew_hour", "-1", db=db_path, check=11)
    assert document["error"]["reason"] == "out_of_range"


@pytest.mark.parametrize("value", ['"unterminated', '{"MANUAL": [7, 1],}', "[1, 2", '{"a" 1}', '"bad \\q escape"'])
def test_config_set_refuses_malformed_json(engine, db_path, value):
    before = engine.config()
    document = run_json("config", "set", "expiry_reminder_days", value, db=db_path, check=2)
    assert "not valid JSON" in document["error"]["message"] and value in document["error"]["message"]
    assert engine.config() == before


def test_config_set_refuses_bad_keys_and_values(engine, db_path):
    before = engine.config()
    result = run_raw("--json", "config", "set", "export_directory", b"/srv/\xff\xfe", db=db_path)
    assert result.returncode == 2
    document = one_document(result.stdout)
    assert "not valid UTF-8" in document["error"]["message"] and "\\xff\\xfe" in document["error"]["message"]
    result.stderr.decode("utf-8")
    assert run_raw("config", "set", b"currency\xc3", "USD", db=db_path).returncode == 2
    assert run("config", "set", "auto_renew_hour", "1", "auto_renew_hour", "2", db=db_path).returncode == 2
    assert run("config", "set", "", "1", db=db_path).returncode == 2
    assert engine.config() == before


# 2. --json covers the errors met before any command runs.

@pytest.mark.parametrize("arguments, words", [
    (("--bogus", "--json", "verify"), "unknown option --bogus"),
    (("--json", "bogus"), "unknown command bogus"),
    (("--json",), "no command"),
    (("verify", "--limit", "5", "--json"), "--limit does not apply to verify"),
    (("scheduler-run", "--limit", "--json"), "--limit needs a value"),
    (("verify", "--json=yes"), "--json takes no value"),
    (("events", "tail", "--max-pages", "x", "--json"), "--max-pages must be an integer"),
])
def test_json_covers_early_errors(db_path, engine, arguments, words):
    result = run_raw(*arguments, db=db_path)
    assert result.returncode == 2
    document = one_document(result.stdout)
    assert document["ok"] is False and document["exit_status"] == 2
    assert document["error"]["reason"] == "usage_error" and words in document["error"]["message"]
    assert words in result.stderr.decode("utf-8")  # the message also goes to standard error


@pytest.mark.sqlite_only("a missing file")
def test_json_covers_open_failures(tmp_path):
    result = run_raw("--json", "events", "tail", db=str(tmp_path / "missing.sqlite"))
    document = one_document(result.stdout)
    assert result.returncode == 15 == document["exit_status"] and document["command"] == "events tail"
    assert document["error"]["status_name"] and document["error"]["reason"] == "cannot_open"


def test_json_help_is_a_document(db_path):
    document = one_document(run_raw("--json", "--help").stdout)
    assert document["ok"] is True and "Exit status" in document["result"]["help"]
    document = one_document(run_raw("backup", "--help", "--json").stdout)
    assert document["command"] == "backup" and document["result"]["help"].startswith("usage: billingctl backup")


# 3. events tail: one page by default, says whether more remain; --max-pages; --follow.

def test_events_tail_reads_one_page_and_says_more_remain(shop, db_path, tmp_path):
    everything = list(shop.iter_events())
    assert len(everything) >= 3
    cursor = tmp_path / "page.cursor"
    result = run("events", "tail", "--cursor-file", cursor, "--limit", "1", db=db_path, check=0)
    assert lines(result) == everything[:1]
    assert "more events remain" in result.stderr and cursor.read_text() == f"{everything[0]['seq']}\n"
    result = run("events", "tail", "--cursor-file", cursor, "--limit", "1", "--max-pages", "2", db=db_path, check=0)
    assert lines(result) == everything[1:3]
    # --json: has_more and the cursor to continue from.
    document = run_json("events", "tail", "--limit", "1", "--max-pages", "2", db=db_path)["result"]
    assert document["events"] == everything[:2] and document["pages"] == 2
    assert document["has_more"] is True and document["next_cursor"] == str(everything[1]["seq"])
    document = run_json("events", "tail", "--after", everything[-2]["seq"], "--max-pages", "5", db=db_path)["result"]
    assert document["events"] == everything[-1:] and document["has_more"] is False and document["pages"] == 1
    result = run("events", "tail", "--after", everything[-2]["seq"], db=db_path, check=0)
    assert "more events remain" not in result.stderr


BUSY_SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
typedef struct billing_engine billing_engine;
/* Answers BILLING_E_BUSY (6) to the 2nd .. (1 + SHIM_BUSY_CALLS)th billing_events_list call:
   the state a reader meets while another process holds the file beyond the busy timeout. */
int billing_call(billing_engine *engine, const char *function, const char *request, char **out) {
    static int calls;
    int (*real)(billing_engine *, const char *, const char *, char **) =
        (int (*)(billing_engine *, const char *, const char *, char **))dlsym(RTLD_NEXT, "billing_call");
    const char *busy = getenv("SHIM_BUSY_CALLS");
    if (strcmp(function, "billing_events_list") == 0 && ++calls >= 2 && calls < 2 + atoi(busy ? busy : "0")) {
        *out = NULL;
        return 6;
    }
    return real(engine, function, request, out);
}
"""


@pytest.fixture(scope="module")
def busy_shim(tmp_path_factory):
    """A preloaded billing_call that answers busy for a while (built with the C compiler the
    C tests use), so the retry is tested without racing another process for a lock."""
    directory = tmp_path_factory.mktemp("shim")
    (directory / "shim.c").write_text(BUSY_SHIM)
    compiler = os.environ.get("CC", "cc")
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(directory / "shim.so"), str(directory / "shim.c"), "-ldl"],
                   check=True)
    return str(directory / "shim.so")


def test_events_tail_follow_retries_a_busy_database(shop, db_path, tmp_path, busy_shim):
    cursor = tmp_path / "busy.cursor"
    env = dict(os.environ, LD_PRELOAD=busy_shim, SHIM_BUSY_CALLS="3")
    process = subprocess.Popen([BILLINGCTL, "--db", db_path, "events", "tail", "--cursor-file", str(cursor), "--follow",
                                "--interval", "0.05"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = [json.loads(process.stdout.readline()) for _ in shop.iter_events()]
        assert "the database is busy; retrying" in process.stderr.readline()
        shop.topup("payments", "acme", amount_fen=3, external_reference="after-busy")
        assert json.loads(process.stdout.readline())["type"] == "account.topped_up"  # still following
        assert first == list(shop.iter_events())[:-1]
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    assert process.returncode == 0
    # Without --follow a busy answer ends the run: exit 16, retry later.
    env["SHIM_BUSY_CALLS"] = "1"
    result = subprocess.run([BILLINGCTL, "--db", db_path, "events", "tail", "--limit", "1", "--max-pages", "2"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 16 and len(result.stdout.splitlines()) == 1


@pytest.mark.sqlite_only("SQLite's exclusive locking mode")
def test_events_tail_follow_waits_for_a_locked_file(tmp_path):
    """A file held in SQLite's exclusive locking mode refuses every other connection, at open
    too: a follower started meanwhile waits instead of exiting 16."""
    path = str(tmp_path / "locked.sqlite")
    with billing.Engine(path, clock="manual", now=START) as engine:
        engine.account_put("kyc", "acme", type="PERSONAL")
    holder = sqlite3.connect(path, isolation_level=None)  # the only connection: it can take the file
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    process = subprocess.Popen([BILLINGCTL, "--db", path, "--busy-timeout", "0", "events", "tail", "--follow",
                                "--interval", "0.05"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "the database is busy; retrying" in process.stderr.readline()
        assert run("--busy-timeout", "0", "events", "tail", db=path).returncode == 16  # without --follow
        holder.execute("COMMIT")
        holder.close()
        assert json.loads(process.stdout.readline())["type"] == "account.created"
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    assert process.returncode == 0


# 4. A reader that goes away: no SIGPIPE death, no message, status 0, cursor not advanced.

def test_events_tail_into_a_closed_pipe(shop, db_path, tmp_path):
    cursor = tmp_path / "pipe.cursor"
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write
    try:
        result = run_raw("events", "tail", "--cursor-file", cursor, db=db_path, stdout=write_end)
    finally:
        os.close(write_end)
    assert result.returncode == 0 and result.stderr == b""
    assert not cursor.exists()  # nothing was delivered, so the position did not move
    # The same with --follow and nothing new to print: it notices and stops by itself.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = run_raw("events", "tail", "--after", list(shop.iter_events())[-1]["seq"], "--follow", "--interval", "0.05",
                         db=db_path, stdout=write_end, timeout=30)
    finally:
        os.close(write_end)
    assert result.returncode == 0 and result.stderr == b""


def test_events_tail_piped_into_head(shop, db_path):
    for n in range(300):  # more than a pipe holds
        shop.topup("payments", "acme", amount_fen=1, external_reference=f"many-{n}")
    script = f'"{BILLINGCTL}" --db "{db_path}" events tail --limit 1000 --max-pages 10 | head -1; echo "status=${{PIPESTATUS[0]}}"'
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    first, status = result.stdout.splitlines()
    assert json.loads(first)["seq"] == 1 and status == "status=0"
    assert result.stderr == ""


def test_a_full_standard_output_is_a_local_error(shop, db_path):
    with open("/dev/full", "wb") as full:
        result = run_raw("verify", db=db_path, stdout=full)
    assert result.returncode == 3 and b"cannot write to standard output" in result.stderr


# 5. verify --integrity passes through.

@pytest.mark.parametrize("mode", ["quick", "FULL", "none"])
def test_verify_integrity_modes(shop, db_path, mode):
    assert run_json("verify", "--integrity", mode, db=db_path)["result"]["integrity"] == mode.upper()


def test_verify_integrity_is_checked(shop, db_path):
    document = run_json("verify", "--integrity", "thorough", db=db_path, check=2)
    assert "--integrity is quick, full or none" in document["error"]["message"]
    assert run_json("verify", db=db_path)["result"]["integrity"] == "QUICK"  # the library's default


# 6. Option values: digits only, in range; unknown options and missing values refused.

@pytest.mark.parametrize("arguments", [
    ("scheduler-run", "--limit", "-5"), ("scheduler-run", "--limit", "5x"), ("scheduler-run", "--limit", " 5"),
    ("scheduler-run", "--limit", "+5"), ("scheduler-run", "--limit", "0x10"), ("scheduler-run", "--limit", ""),
    ("scheduler-run", "--limit", "99999999999999999999999"), ("scheduler-run", "--limit", "10001"),
    ("scheduler-run", "--max-batches", "1e3"), ("scheduler-run", "--max-batches", "-1"),
    ("events", "tail", "--limit", "-1"), ("events", "tail", "--max-pages", "0"), ("events", "tail", "--max-pages", "1.5"),
    ("events", "tail", "--follow", "--interval", "-1"), ("events", "tail", "--follow", "--interval", "nan"),
    ("events", "tail", "--follow", "--interval", "inf"), ("events", "tail", "--follow", "--interval", "1e2"),
    ("events", "tail", "--follow", "--interval", "0.001"), ("events", "tail", "--follow", "--interval", "1."),
    ("events", "tail", "--follow", "--interval", "86401"), ("events", "tail", "--interval", "1"),
    ("export-step", "--account", "acme", "--export", "EX1", "--max-rows", "-3"),
    ("export-step", "--account", "acme", "--export", "EX1", "--max-rows", "3rows"),
    ("verify", "--busy-timeout", "-1"), ("verify", "--busy-timeout", "600001"), ("verify", "--busy-timeout", "5s"),
    ("verify", "--clock", "manual", "--now", "-5"), ("verify", "--clock", "manual", "--now", "1e9"),
    ("verify", "--clock", "manual", "--now", "99999999999999999999"),
    ("verify", "--max-pages", "2"), ("backup", "x.sqlite", "--follow"), ("config", "get", "--export", "EX1"),
    ("verify", "--verbose"), ("verify", "-x"), ("verify", "--limits=5"),
    ("scheduler-run", "--limit"), ("verify", "--actor"), ("events", "tail", "--cursor-file", "--follow"),
    ("verify", "--actor", ""), ("events", "tail", "--account", ""),
])
def test_option_values_are_checked(db_path, engine, arguments):
    result = run(*arguments, db=db_path)
    assert result.returncode == 2, (arguments, result.stderr)
    assert result.stderr.startswith("billingctl") and result.stdout == ""


def test_option_forms(shop, db_path):
    # --NAME=VALUE, and -- to end the options.
    assert run_json("events", "tail", "--limit=1", "--max-pages=2", db=db_path)["result"]["pages"] == 2
    assert run("--json", "--", "verify", db=db_path, check=0)


# 7. What is echoed is valid UTF-8, free of control characters, and bounded.

def test_echoed_input_is_safe_and_bounded(db_path, engine):
    hostile = b"\xff\xfe\x1b[31mred\x07" + b"x" * 5000
    for arguments in [(hostile,), ("verify", b"--" + hostile), ("config", "get", hostile)]:
        result = run_raw("--json", *arguments, db=db_path)
        assert result.returncode == 2
        message = one_document(result.stdout)["error"]["message"]
        stderr = result.stderr.decode("utf-8")
        for text in (message, stderr):
            assert "\x1b" not in text and "\x07" not in text and "\\x1b" in text and "\\xff" in text
            assert len(text.encode()) < 600 and "…" in text


def test_library_messages_are_shown_safely(db_path, engine):
    for after in ["é" * 400, "not-a-cursor"]:
        result = run_raw("events", "tail", "--after", after, db=db_path)
        assert result.returncode == 11
        stderr = result.stderr.decode("utf-8")
        assert stderr.startswith("billingctl events tail: invalid argument (") and len(stderr.encode()) < 1500


def test_cursor_file_that_holds_no_cursor(shop, db_path, tmp_path):
    for content in [b"1" * 500, b"\xff\xfe\n", b"12\n34\n", b"1\x002\n"]:
        bad = tmp_path / "bad.cursor"
        bad.write_bytes(content)
        result = run_raw("--json", "events", "tail", "--cursor-file", bad, db=db_path)
        assert result.returncode == 3, content
        assert one_document(result.stdout)["error"]["reason"] == "cursor_file_error"
        assert bad.read_bytes() == content  # left as it was


# 8. backup never overwrites, and says so.

@pytest.mark.sqlite_only("a backup is VACUUM INTO a file (pg_dump on PostgreSQL)")
def test_backup_never_overwrites_and_says_so(shop, db_path, tmp_path):
    text = run("backup", "--help", check=0).stdout
    assert "never overwrites" in text and "left exactly as it was" in text and "13" in text
    assert "never" in run("--help", check=0).stdout.split("backup DESTINATION")[1].split("\n  events")[0]
    existing = tmp_path / "existing.sqlite"
    existing.write_bytes(b"")
    document = run_json("backup", existing, db=db_path, check=13)
    assert document["error"]["reason"] == "destination_exists" and existing.read_bytes() == b""


# ---- copy -------------------------------------------------------------------------------

def copy_source(tmp_path):
    """An SQLite file with an account, a product and an unpaid order: what `copy` moves."""
    path = str(tmp_path / "source.sqlite")
    with billing.Engine(path, clock="manual", now=START) as engine:
        engine.account_put("kyc", "acme", type="ENTERPRISE", realname_verified=True, level="V3")
        engine.topup("payments", "acme", amount_fen=100000, external_reference="seed")
        engine.product_put("catalog", {"product_id": "ecs.c1", "product_type": "ECS", "billing_mode": "PREPAID",
                                       "monthly_price_fen": 5000})
        unpaid_order(engine)
        account = engine.account_get("acme")
    return path, account


def test_copy_verifies_the_copy_as_the_source(tmp_path):
    """`copy` moves every row of an SQLite file into an empty database (a file, or a
    PostgreSQL schema under BILLING_TEST_DATABASE_URL) and passes only when the copy verifies
    as the source does; a destination that holds rows is refused, untouched."""
    source, account = copy_source(tmp_path)
    destination = new_database(tmp_path, "copy")
    document = run_json("copy", destination, db=source)
    result = document["result"]
    assert result["same"] is True and result["copy"]["rows"] > 0
    assert result["verify"]["copy"]["checked"] == result["verify"]["source"]["checked"]
    assert result["verify"]["copy"]["ok"] is True
    with billing.Engine(destination, create=False) as copy:
        assert copy.account_get("acme") == account
    # A relative destination is taken from the current directory.
    text = run("copy", "relative.sqlite", db=source, cwd=tmp_path, check=0).stdout
    assert f"into {tmp_path}/relative.sqlite" in text and "verify: the copy is ok, holding what was copied" in text
    refused = run_json("copy", destination, db=source, check=13)
    assert refused["error"]["reason"] == "destination_not_empty"


def test_copy_of_a_database_with_a_breach_is_not_a_success(tmp_path):
    """The copy holds the rows as they are: a breach in the source is in the copy too, and the
    command says no."""
    source, _ = copy_source(tmp_path)
    connection = sqlite3.connect(source)
    with connection:
        connection.execute("UPDATE accounts SET cash_balance = cash_balance + 1 WHERE id = 'acme'")
    connection.close()
    document = run_json("copy", new_database(tmp_path, "copy"), db=source, check=1)
    assert document["result"]["same"] is False
    assert document["result"]["verify"]["copy"]["breaches"]
