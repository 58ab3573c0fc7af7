"""Files libbilling must refuse without touching them."""

import os
import sqlite3

import pytest

import billing
from billing import errors
from helpers import digest

pytestmark = pytest.mark.sqlite_only("foreign and garbage SQLite files, user_version edited with the sqlite3 module")


def refuse_untouched(path, reason=None):
    before = digest(path)
    with pytest.raises(errors.SchemaError) as info:
        billing.Engine(path)
    assert info.value.message
    if reason:
        assert info.value.reason == reason
    assert digest(path) == before
    assert sorted(os.listdir(os.path.dirname(path))) == [os.path.basename(path)]


def test_newer_schema_is_refused(db_path):
    billing.Engine(db_path).close()
    with sqlite3.connect(db_path) as db:
        db.execute("PRAGMA user_version = 999")
    db.close()
    refuse_untouched(db_path, "schema_too_new")


def test_foreign_sqlite_file_is_refused(db_path):
    db = sqlite3.connect(db_path)
    with db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO customers (name) VALUES ('ada')")
    db.close()
    refuse_untouched(db_path)


def test_foreign_file_with_matching_user_version_is_refused(db_path):
    db = sqlite3.connect(db_path)
    with db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
        db.execute("PRAGMA user_version = 1")
    db.close()
    refuse_untouched(db_path, "not_a_billing_database")


@pytest.mark.parametrize("content", [
    pytest.param(b"this is not a database\n" * 200, id="text"),
    pytest.param(bytes(range(256)) * 64, id="binary"),
])
def test_garbage_file_is_refused(db_path, content):
    with open(db_path, "wb") as f:
        f.write(content)
    refuse_untouched(db_path, "not_a_database")
