"""billing_engine_copy (issue 18, moving data): a database copied, one snapshot, into another,
empty one — the way a portal moves its SQLite file to PostgreSQL. The copy holds every row as
stored, so billing_verify on it checks the same audit chain over the same rows. The source is
always an SQLite file; the destination is a file, or under BILLING_TEST_DATABASE_URL a fresh
PostgreSQL schema (helpers.new_database)."""

import sqlite3

import pytest

import billing
from billing import errors
from helpers import ON_POSTGRES, START, digest, new_database, sql_execute, sql_rows
from test_tampering import populate

KEY = "0123456789abcdef0123456789abcdef"


def tables(path):
    """Each table's row count in an SQLite file."""
    db = sqlite3.connect(path)
    try:
        names = [row[0] for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {name: db.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in names}
    finally:
        db.close()


def counts(path, names):
    """The row counts of the named tables in a database of either backend."""
    return {name: sql_rows(path, f"SELECT count(*) FROM {name}")[0][0] for name in names}


def everything(engine):
    """What a host reads back: the chain's head, every event and audit row, the accounts."""
    return {
        "head": engine.audit_head(),
        "events": list(engine.iter_events(limit=1000)),
        "audit": list(engine.iter_audit(limit=1000)),
        "account": engine.account_get("a1"),
        "orders": engine.orders("a1", limit=100),
    }


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("copy") / "original.sqlite")
    populate(path)
    return path


def test_the_copy_holds_every_row_and_verifies_the_same(original, tmp_path):
    destination = new_database(tmp_path, "copy")
    with billing.Engine(original, clock="manual", now=START) as source:
        response = source.copy(destination)["copy"]
        before = everything(source)
    rows = tables(original)
    if destination.startswith("postgresql://"):
        # PostgreSQL keeps the identifier counters in its sequences: id_sequences stays empty
        # there, and so do its rows' digests (nothing left to go stale).
        counters = sql_rows(original, "SELECT count(*) FROM row_digests WHERE table_name = 'id_sequences'")[0][0]
        assert rows["id_sequences"] > 0 and counters > 0
        rows = dict(rows, id_sequences=0, row_digests=rows["row_digests"] - counters)
    assert response["destination"] == destination
    assert response["taken_at"] == START
    assert response["tables"] == rows
    assert response["rows"] == sum(rows.values()) > 0
    # Into PostgreSQL the copy also records the event positions it brought (outbox_seals,
    # one record for these few consecutive positions): there verify checks positions against
    # them. SQLite gives positions at insert and keeps no record.
    assert counts(destination, rows) == ({**rows, "outbox_seals": 1} if ON_POSTGRES else rows)
    with billing.Engine(destination, clock="manual", now=START, create=False) as copy:
        report = copy.verify({"integrity": "FULL"})
        assert report["ok"] is True and report["breaches"] == []
        assert everything(copy) == before
        # The copy goes on where the source stopped: new rows take new keys (on PostgreSQL the
        # identity columns and identifier sequences were moved past the copied ones).
        copy.topup("pay", "a1", 1, "after-the-copy")
        order = copy.order_create("buyer", "a1", [{"product_id": "evs.100", "period": {"unit": "MONTH", "count": 1}}],
                                  auto_pay=True)["order"]
        assert order["order_id"] not in {o["order_id"] for o in before["orders"]["orders"]}
        assert copy.verify()["ok"] is True
    if destination.startswith("postgresql://"):
        assert counts(destination, ["id_sequences"]) == {"id_sequences": 0}


def test_a_row_changed_in_the_copy_is_reported(original, tmp_path):
    """verify on the copy checks the rows it holds, not the source's."""
    destination = new_database(tmp_path, "copy")
    with billing.Engine(original, clock="manual", now=START) as source:
        source.copy(destination)
    sql_execute(destination, "UPDATE products SET document = replace(document, '\"monthly_price_fen\":10000', "
                             "'\"monthly_price_fen\":1') WHERE id = 'evs.100'")
    with billing.Engine(destination, clock="manual", now=START, create=False) as copy:
        found = copy.verify()["breaches"]
    assert any(b["check"] == "row_tampered" and "products" in b["subject"] for b in found), found


def test_a_keyed_chain_verifies_with_the_same_key(tmp_path):
    source_path, destination = str(tmp_path / "keyed.sqlite"), new_database(tmp_path, "copy")
    with billing.Engine(source_path, clock="manual", now=START, audit_key=KEY) as source:
        source.account_put("kyc", "a1", type="ENTERPRISE", realname_verified=True, level="V3")
        source.topup("pay", "a1", 500, "t-1")
        # The head kept before the copy: its seal is in the copy.
        head = source.audit_head()
        source.copy(destination)
    with billing.Engine(destination, clock="manual", now=START, create=False, audit_key=KEY) as copy:
        assert copy.verify(audit_head=head)["ok"] is True


def test_never_into_a_database_that_holds_rows(original, tmp_path):
    destination = new_database(tmp_path, "copy")
    with billing.Engine(original, clock="manual", now=START) as source:
        source.copy(destination)
        before = counts(destination, tables(original))
        with pytest.raises(errors.Conflict) as raised:
            source.copy(destination)
        assert raised.value.reason == "destination_not_empty"
        assert counts(destination, before) == before
        with pytest.raises(errors.Conflict) as raised:
            source.copy(original)
        assert raised.value.reason == "destination_not_empty"


def test_an_empty_engine_database_is_a_destination(original, tmp_path):
    """A database an engine created and never wrote to holds no row: a copy may go there."""
    destination = new_database(tmp_path, "opened")
    billing.Engine(destination).close()
    with billing.Engine(original, clock="manual", now=START) as source:
        copied = source.copy(destination)["copy"]["rows"]
    # Every row went in (into PostgreSQL, the identifier counters into its sequences instead,
    # and the copy records the event positions it brought: one outbox_seals row not copied).
    assert copied == sum(counts(destination, tables(original)).values()) - (1 if ON_POSTGRES else 0) > 0


def test_a_postgresql_source_is_refused(tmp_path):
    """Only an SQLite database is copied: PostgreSQL's identifier counters live in sequences
    (pg_dump copies a PostgreSQL database)."""
    source = new_database(tmp_path, "source")
    if not source.startswith("postgresql://"):
        pytest.skip("needs BILLING_TEST_DATABASE_URL (a PostgreSQL source)")
    with billing.Engine(source) as engine:
        with pytest.raises(errors.Refused) as raised:
            engine.copy(str(tmp_path / "copy.sqlite"))
    assert raised.value.reason == "copy_source_not_sqlite"


def test_a_destination_of_another_version_is_refused_untouched(original, tmp_path):
    """A copy never upgrades a database it would not go into: an older libbilling file that
    holds rows (a mistyped destination) is refused as it is."""
    older = str(tmp_path / "older.sqlite")
    with billing.Engine(older, clock="manual", now=START) as engine:
        engine.account_put("kyc", "z9", type="ENTERPRISE", realname_verified=True, level="V3")
    db = sqlite3.connect(older)
    db.execute("PRAGMA user_version = 5")
    db.close()
    before = digest(older)
    with billing.Engine(original, clock="manual", now=START) as source:
        with pytest.raises(errors.Refused) as raised:
            source.copy(older)
    assert raised.value.reason == "copy_version_mismatch"
    assert digest(older) == before


def test_bad_destinations_change_nothing(original, tmp_path):
    foreign = str(tmp_path / "foreign.sqlite")
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE mine (x)")
    db.close()
    with billing.Engine(original, clock="manual", now=START) as source:
        for relative in (":memory:", "copy.sqlite"):
            with pytest.raises(errors.InvalidArgument) as raised:
                source.copy(relative)
            assert raised.value.reason == "destination_not_absolute"
        with pytest.raises(errors.SchemaError) as raised:
            source.copy(foreign)
        assert raised.value.reason == "not_a_billing_database"
        with pytest.raises(errors.StorageError) as raised:
            source.copy(str(tmp_path / "missing" / "copy.sqlite"))
        assert raised.value.reason == "cannot_open"
        assert not (tmp_path / "missing").exists()
    assert tables(foreign) == {"mine": 0}
