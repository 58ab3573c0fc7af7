"""Small helpers shared by the test modules (pytest puts this directory on sys.path).

The stress drivers (stress/) import it too, without pytest: only the refusal checks need it,
and they import it when called.

Set-up and checks that more than one module needs (accounts, products, purchases, reading
records back, scheduler runs, refusals, verify) live here, never as a copy in a module. A
module keeps what is its own; a companion module may import such a helper from it (the
refund quote readers of test_refunds, the renewal world of test_renewals)."""

import collections
import datetime
import hashlib
import itertools
import os
import re

from billing import errors

BUSINESS_TZ = datetime.timezone(datetime.timedelta(hours=8))

# 2024-01-01T10:30:00+08:00
START = 1704076200
DAY = 86_400

# The cheapest argon2id costs the library accepts (its floors: 2 passes, 19 MiB); set first
# in every test that hashes.
FAST_HASHING = {"password_hash_ops_limit": 2, "password_hash_memory_bytes": 19 * 1024 * 1024}


def event_count(engine):
    return sum(1 for _ in engine.iter_events(limit=1000))


def audit_count(engine):
    return sum(1 for _ in engine.iter_audit(limit=1000))


def snapshot(engine):
    """Everything a failed write must leave unchanged."""
    return engine.config(), event_count(engine), audit_count(engine)


def account_event_count(engine, account_id):
    return sum(1 for _ in engine.iter_events(limit=1000, account_id=account_id))


def at(y, m, d, h=0, mi=0, s=0):
    """Unix seconds of a business time (+08:00)."""
    return int(datetime.datetime(y, m, d, h, mi, s, tzinfo=BUSINESS_TZ).timestamp())


# -- Where a test's database lives -----------------------------------------------------------
# Without BILLING_TEST_DATABASE_URL a database is an SQLite file in the test's temporary
# directory. With it (`make test-pg` sets it to the throwaway cluster's base URL,
# scripts/pg-cluster.sh url) every database is a fresh PostgreSQL schema of that database: the
# engine names its database by the URL's search_path and creates the schema (create=true),
# so tests stay independent of each other without a cluster or a database per test. The
# schemas are left behind: the cluster is thrown away at the end of the run.

DATABASE_URL = os.environ.get("BILLING_TEST_DATABASE_URL") or None
ON_POSTGRES = DATABASE_URL is not None

_schemas = itertools.count(1)


def schema_url(base, schema):
    """`base` (a postgresql:// URL) naming `schema` as its search_path: the form
    billing_engine_open takes for a database inside a PostgreSQL database."""
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}"


def new_database(directory, name="billing"):
    """A path for a new database: `directory`/`name`.sqlite, or under BILLING_TEST_DATABASE_URL
    the URL of a schema no other test uses (unique per process, name and call)."""
    if not ON_POSTGRES:
        return str(directory / f"{name}.sqlite") if hasattr(directory, "joinpath") \
            else os.path.join(directory, f"{name}.sqlite")
    word = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:24] or "db"
    return schema_url(DATABASE_URL, f"t{os.getpid()}_{next(_schemas)}_{word}")


def _psql():
    """The psql of the newest Debian PostgreSQL (the cluster's own), else the one on PATH."""
    import glob
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return found[-1] if found else "psql"


def sql_rows(path, query):
    """The rows of one read-only query on a database made by new_database, as tuples, read
    outside the library: the sqlite3 module for a file, psql for a PostgreSQL URL (the row set
    comes back as JSON, so integers stay integers and NULL is None). For checks only."""
    if not str(path).startswith(("postgresql://", "postgres://")):
        import sqlite3
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            return [tuple(row) for row in db.execute(query)]
        finally:
            db.close()
    import json
    import subprocess
    wrapped = f"SELECT coalesce(json_agg(row_to_json(q)), '[]') FROM ({query}) q"
    result = subprocess.run([_psql(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                             "-c", "SET default_transaction_read_only = on", "-c", wrapped, path],
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"psql failed ({result.returncode}): {result.stderr.strip()}")
    rows = json.loads(result.stdout, object_pairs_hook=lambda pairs: tuple(v for _, v in pairs))
    return list(rows)


def sql_text(value):
    """A text literal for a statement of sql_execute (both dialects quote alike)."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_execute(path, *statements):
    """Runs statements in one transaction outside the library (an attacker's or an operator's
    write): the sqlite3 module for a file, psql for a PostgreSQL URL."""
    if not str(path).startswith(("postgresql://", "postgres://")):
        import sqlite3
        db = sqlite3.connect(path)
        with db:
            for statement in statements:
                db.execute(statement)
        db.close()
        return
    import subprocess
    command = [_psql(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1"]
    for statement in statements:
        command += ["-c", statement]
    result = subprocess.run(command + [path], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"psql failed ({result.returncode}): {result.stderr.strip()}")


# -- Shared set-up and checks ---------------------------------------------------------------
# What several test modules need alike, so that none keeps a copy of its own. The customer is
# account "a1" unless a test names another; helpers that read a record take the account id
# the same way.

M1 = {"unit": "MONTH", "count": 1}
M2 = {"unit": "MONTH", "count": 2}
HOUR = 3_600

# A configuration key whose changes are cheap and visible (events, audit rows, idempotency).
QUOTA = "five_day_quota_per_year"


def digest(path):
    """SHA-256 of a file's bytes (a file that must be left untouched)."""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def put_account(engine, account_id, type="ENTERPRISE", realname=True, level="V3", **fields):
    """account_put by the host, with the attributes tests usually vary."""
    return engine.account_put("host", account_id, type=type, realname_verified=realname,
                              level=level, **fields)


def customer(engine, account_id="a1", cash=1_000_000, level="V3", **fields):
    """A verified enterprise account with `cash` fen topped up (reference "<id>-seed"; no
    top-up when 0). Returns the engine, so a test can write `engine = customer(...)`."""
    engine.account_put("kyc", account_id, type="ENTERPRISE", realname_verified=True, level=level,
                       **fields)
    if cash:
        engine.topup("pay", account_id, cash, f"{account_id}-seed")
    return engine


def prepaid(engine, product_id, monthly=3_000, yearly=None, product_type="EVS", hourly=5_000_000,
            **fields):
    """Defines a prepaid product (an EVS at 30.00 a month, 0.05 an hour pay-per-use, by
    default); `hourly=None` leaves it without a pay-per-use price."""
    product = {"product_id": product_id, "product_type": product_type, "billing_mode": "PREPAID",
               "monthly_price_fen": monthly, **fields}
    if yearly is not None:
        product["yearly_price_fen"] = yearly
    if hourly is not None:
        product["hourly_price_microfen"] = hourly
    return engine.product_put("ops", product)["product"]


def buy(engine, product_id, period=M1, account_id="a1", provision=True, auto_pay=False,
        quantity=None, coupon_ids=None, **item):
    """Buys one item and reports its resources provisioned now (unless `provision` is
    False); returns the resource ids in the order's order (a primary before its bound
    resources). The order is paid by order_pay with `coupon_ids` after it is created, or at
    creation with `auto_pay` (then it must be PROCESSING); an order with nothing to pay is
    read back as it is."""
    item = {"product_id": product_id, **item}
    if period is not None:
        item["period"] = period
    if quantity is not None:
        item["quantity"] = quantity
    if auto_pay:
        placed = engine.order_create("buyer", account_id, [item], auto_pay=True)["order"]
        assert placed["status"] == "PROCESSING", placed
    else:
        placed = engine.order_create("buyer", account_id, [item])["order"]
        if placed["status"] == "PENDING_PAYMENT":
            placed = engine.order_pay("buyer", account_id, placed["order_id"], coupon_ids=coupon_ids)["order"]
        else:
            placed = engine.order_get(account_id, placed["order_id"])["order"]
    ids = [r["resource_id"] for r in placed["resources"]]
    if provision:
        engine.resource_report("host", account_id, [{"resource_id": rid, "outcome": "SUCCEEDED"}
                                                    for rid in ids])
    return ids


def coupon(engine, kind, fen, valid_to=None, account_id="a1", **fields):
    """A balance coupon valid from a day ago until `valid_to` (default: a year from now); its id."""
    now = engine.now()
    return engine.coupon_issue("ops", account_id, kind, now - DAY, valid_to or now + 365 * DAY,
                               face_value_fen=fen, **fields)["coupon"]["coupon_id"]


def account(engine, account_id="a1"):
    return engine.account_get(account_id)["account"]


def cash(engine, account_id="a1"):
    return account(engine, account_id)["cash_balance_fen"]


def resource(engine, resource_id, account_id="a1"):
    return engine.resource_get(account_id, resource_id)["resource"]


def order(engine, order_id, account_id="a1"):
    return engine.order_get(account_id, order_id)["order"]


def events(engine, event_type, subject_id=None, account_id="a1"):
    """The account's events of a type (about one subject when given), oldest first."""
    return [e for e in engine.iter_events(account_id=account_id, limit=1000)
            if e["type"] == event_type and subject_id in (None, e["subject_id"])]


def run(engine, now):
    """Sets the clock and runs the scheduler until nothing is left: the summed counts."""
    engine.set_clock(now)
    counts = collections.Counter()
    while True:
        response = engine.scheduler_run("scheduler")
        assert response["now"] == now
        counts.update(response["resources"])
        counts["cancelled_orders"] += response["cancelled_orders"]
        if not response["has_more"]:
            return counts


def refused(call, reason):
    """`call` is refused (errors.Refused) for `reason`, with a message; the error."""
    import pytest
    with pytest.raises(errors.Refused) as info:
        call()
    assert info.value.reason == reason, info.value
    assert info.value.message
    return info.value


def invalid(call, reason):
    """`call` is refused as an invalid argument for `reason`; the error."""
    import pytest
    with pytest.raises(errors.InvalidArgument) as info:
        call()
    assert info.value.reason == reason, info.value
    return info.value


def assert_verified(engine):
    """billing_verify finds no breach."""
    report = engine.verify()
    assert report["ok"] is True and report["breaches"] == [], report
