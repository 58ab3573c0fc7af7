"""Paging the event outbox and the audit log."""

import multiprocessing
import os
import time

import pytest

import billing
from billing import errors
from helpers import QUOTA, START

@pytest.fixture
def engine25(engine):
    """An engine with 25 config.changed events (and 25 audit rows)."""
    for i in range(25):
        engine.update_config({QUOTA: 11 + i}, "alice", idempotency_key=f"change-{i}")
        engine.advance_clock(1)
    return engine


def _pages(fetch, key, limit):
    pages, after = [], None
    while True:
        page = fetch(after=after, limit=limit)
        pages.append(page)
        if not page["has_more"]:
            return pages
        after = page["next_cursor"]


def test_events_paging(engine25):
    pages = _pages(engine25.events, "events", 10)
    assert [len(p["events"]) for p in pages] == [10, 10, 5]
    assert [p["has_more"] for p in pages] == [True, True, False]
    seqs = [e["seq"] for p in pages for e in p["events"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == 25
    # Cursors are opaque: only check that each page moves past the previous one.
    cursors = [p["next_cursor"] for p in pages]
    assert len(set(cursors)) == 3
    assert all(e["type"] == "config.changed" for p in pages for e in p["events"])

    # The last cursor, passed back, yields nothing new until something happens.
    tail = engine25.events(after=cursors[-1])
    assert tail["events"] == [] and tail["has_more"] is False
    engine25.update_config({QUOTA: 99}, "bob")
    [new] = engine25.events(after=cursors[-1])["events"]
    assert new["seq"] > seqs[-1]


def test_iter_events(engine25):
    events = list(engine25.iter_events(limit=10))
    assert len(events) == 25
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == 25
    assert [e["occurred_at"] for e in events] == sorted(e["occurred_at"] for e in events)
    # Resuming from a page's cursor continues exactly where that page ended.
    first_page = engine25.events(limit=7)
    rest = list(engine25.iter_events(after=first_page["next_cursor"], limit=4))
    assert first_page["events"] + rest == events


def test_default_limit_returns_everything_here(engine25):
    page = engine25.events()
    assert len(page["events"]) == 25 and page["has_more"] is False


def test_audit_paging(engine25):
    pages = _pages(engine25.audit, "entries", 10)
    assert [len(p["entries"]) for p in pages] == [10, 10, 5]
    entries = list(engine25.iter_audit(limit=10))
    assert [e["id"] for e in entries] == [e["id"] for p in pages for e in p["entries"]]
    assert {e["actor"] for e in entries} == {"alice"}
    assert {e["operation"] for e in entries} == {"config.update"}


def test_account_filter(engine25):
    # Configuration changes belong to no account.
    assert engine25.events(account_id="acct-1")["events"] == []
    assert engine25.audit(account_id="acct-1")["entries"] == []


@pytest.mark.parametrize("request_", [
    {"after": "not-a-cursor"},
    {"after": "-1"},
    {"after": 10},
    {"limit": 0},
    {"limit": 1001},
    {"limit": "10"},
    {"bogus": 1},
])
def test_invalid_page_requests(engine25, request_):
    for function in ("events_list", "audit_list"):
        with pytest.raises(errors.InvalidArgument) as info:
            engine25.call(function, request_)
        assert info.value.reason and info.value.message


def test_tailing_from_the_end(engine25):
    """A host that starts listening now asks for the end cursor once and then sees exactly
    the events appended after it: none of the history, every later one, in order."""
    history = [e["seq"] for e in engine25.iter_events(limit=1000)]
    page = engine25.call("billing_events_list", {"from": "end"})
    assert page["events"] == [] and page["has_more"] is False
    end = page["next_cursor"]
    assert end == engine25.events_end()
    # The end of the whole outbox even when filtered by an account.
    assert engine25.call("billing_events_list", {"from": "end", "account_id": "nobody"})["next_cursor"] == end
    assert engine25.events(after=end)["events"] == []
    for i in range(3):
        engine25.update_config({QUOTA: 50 + i}, "carol")
    appended = list(engine25.iter_events(after=end, limit=2))
    assert [e["type"] for e in appended] == ["config.changed"] * 3
    everything = [e["seq"] for e in engine25.iter_events(limit=1000)]
    assert [e["seq"] for e in appended] == everything[len(history):]
    assert all(seq > max(history) for seq in (e["seq"] for e in appended))
    # A later "end" moves past them; "from" with "after" is refused; unknown values too.
    assert int(engine25.events_end()) >= everything[-1]
    with pytest.raises(errors.InvalidArgument) as error:
        engine25.call("billing_events_list", {"from": "end", "after": end})
    assert error.value.reason == "conflicting_fields"
    with pytest.raises(errors.InvalidArgument) as error:
        engine25.call("billing_events_list", {"from": "middle"})
    assert error.value.reason == "unknown_value"
    # "start" is the default: the whole history again.
    assert engine25.call("billing_events_list", {"from": "start", "limit": 1000})["events"][0]["seq"] == history[0]


def _topup_worker(args):
    """Runs in a spawned child: its own engine, top-ups to its own account, each one event
    whose subject is its reference."""
    path, worker, count = args
    with billing.Engine(path, clock="manual", now=START, busy_timeout_ms=30_000) as engine:
        for i in range(count):
            engine.topup("pay", f"w{worker}", 100 + i, f"ref-{worker}-{i}")
    return count


def _backends():
    yield pytest.param("sqlite", id="sqlite")
    url = os.environ.get("BILLING_TEST_POSTGRES_URL")
    yield pytest.param(url, id="postgresql", marks=pytest.mark.skipif(
        not url, reason="BILLING_TEST_POSTGRES_URL is not set (make test-pg starts a throwaway cluster)"))


@pytest.mark.parametrize("backend", _backends())
def test_concurrent_writers_and_a_paging_reader(backend, db_path):
    """Issue 18 item 4: processes append events while a reader pages with a small limit; the
    reader sees exactly the committed events, each once, in cursor order. On PostgreSQL a
    sequence number taken at insert is not commit order; positions given to committed events
    are (docs/rules-operations.md, "The event outbox")."""
    path = db_path if backend == "sqlite" else backend
    writers, count = 3, 20
    with billing.Engine(path, clock="manual", now=START, busy_timeout_ms=30_000) as engine:
        for worker in range(writers):
            engine.account_put("kyc", f"w{worker}", type="PERSONAL")
        start = engine.events_end()
        context = multiprocessing.get_context("spawn")
        seen, cursor = [], start
        with context.Pool(writers) as pool:
            running = pool.map_async(_topup_worker, [(path, w, count) for w in range(writers)])
            while True:
                finished = running.ready()
                while True:  # read to the end, a few events at a time
                    page = engine.events(after=cursor, limit=3)
                    seen += page["events"]
                    cursor = page["next_cursor"]
                    if not page["has_more"]:
                        break
                if finished:
                    break
                time.sleep(0.01)
            assert running.get() == [count] * writers
        committed = {f"ref-{w}-{i}" for w in range(writers) for i in range(count)}
        subjects = [e["subject_id"] for e in seen if e["type"] == "account.topped_up"]
        assert len(subjects) == len(set(subjects)) == writers * count, "an event was missed or seen twice"
        assert set(subjects) == committed
        positions = [e["seq"] for e in seen]
        assert positions == sorted(positions) and len(set(positions)) == len(positions)
        # Read again from the same start: the same events in the same order.
        assert [e["seq"] for e in engine.iter_events(after=start, limit=1000)] == positions
        # Each writer's top-ups in the order it made them.
        for worker in range(writers):
            assert [s for s in subjects if s.startswith(f"ref-{worker}-")] == [f"ref-{worker}-{i}" for i in range(count)]
        assert engine.verify()["breaches"] == []
