"""Shared fixtures. `make test` runs the suite against the package installed in a venv
(build/venv); without an installed package it falls back to the source tree, so the suite
also runs straight from a checkout. BILLING_LIBRARY selects the library under test."""

import os
import sys

import pytest

try:
    import billing
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import billing  # noqa: E402  (needs the path set above)
from helpers import FAST_HASHING, START  # noqa: E402


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "billing.sqlite")


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
