"""Shared fixtures. `make test` runs the suite against the package installed in a venv
(build/venv); without an installed package it falls back to the source tree, so the suite
also runs straight from a checkout. BILLING_LIBRARY selects the library under test.

One suite, two backends: with BILLING_TEST_DATABASE_URL set (a base postgresql:// URL,
as `make test-pg` sets it) every database a test makes through `db_path` or
helpers.new_database is a fresh PostgreSQL schema instead of an SQLite file. A test that is
about SQLite files by nature (backups by VACUUM INTO, damaged or foreign files, the file's
geometry, WAL, file permissions, rows edited with the sqlite3 module) says so once with
`@pytest.mark.sqlite_only("why")` (or `pytestmark` for a module), and is skipped on
PostgreSQL with that reason; everything else runs on both."""

import os
import sys

import pytest

try:
    import billing
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import billing  # noqa: E402  (needs the path set above)
from helpers import FAST_HASHING, ON_POSTGRES, START, new_database  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "sqlite_only(reason): the test is about SQLite files by nature; skipped, with "
                   "the reason, when BILLING_TEST_DATABASE_URL selects PostgreSQL")


# Tests that fail on PostgreSQL because of a known engine defect (issue 18, reported to the
# engine's owner), in this one place: expected to fail there (non-strict: an XPASS says the
# defect is gone and the entry can go), never skipped, so they keep running.
POSTGRES_KNOWN_FAILURES = {
    # Several processes writing one hot row (the configuration): SERIALIZABLE conflicts
    # exhaust the 8 attempts (BILLING_E_BUSY serialization_failure) where SQLite waits up to
    # busy_timeout_ms for its turn.
    "test_concurrency.py::test_processes_share_one_file":
        "engine: serialization_failure after 8 attempts under concurrent writers from several processes",
    "test_orders.py::test_processes_and_threads_pay_and_cancel_concurrently":
        "engine: serialization_failure after 8 attempts under concurrent writers from several processes",
}


def pytest_collection_modifyitems(config, items):
    if not ON_POSTGRES:
        return
    for item in items:
        known = POSTGRES_KNOWN_FAILURES.get(item.nodeid.split("/")[-1])
        if known:
            item.add_marker(pytest.mark.xfail(reason=f"known on PostgreSQL: {known}", strict=False))
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            reason = marker.args[0] if marker.args else marker.kwargs.get("reason", "")
            if not reason:
                raise pytest.UsageError(f"{item.nodeid}: sqlite_only needs a reason")
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))


@pytest.fixture
def db_path(tmp_path):
    """A new database: an SQLite file in tmp_path, or a fresh PostgreSQL schema's URL."""
    return new_database(tmp_path)


@pytest.fixture
def engine(db_path):
    """A fresh database file with a manual clock at START."""
    with billing.Engine(db_path, clock="manual", now=START) as engine:
        yield engine


@pytest.fixture
def fast_engine(engine):
    """`engine` with the cheapest argon2id costs, so password hashing stays fast. (This
    first update leaves one config.changed event and one audit row behind.)"""
    engine.update_config(FAST_HASHING, actor="test")
    return engine


@pytest.fixture
def engine_at(fast_engine, db_path):
    """Opens another handle on fast_engine's database with its manual clock at `now` (a
    handle's clock cannot go back, so a test that needs an earlier time opens a second one)."""
    opened = []

    def open_at(now):
        engine = billing.Engine(db_path, clock="manual", now=now)
        opened.append(engine)
        return engine

    yield open_at
    for engine in opened:
        engine.close()
