"""One engine shared by threads; several processes on one file."""

import multiprocessing
import threading

import billing
from helpers import QUOTA, START, audit_count

def test_threads_share_one_engine(engine):
    threads, per_thread = 8, 25
    failures = []
    # All threads start together so their calls really overlap.
    barrier = threading.Barrier(threads)

    def work(worker):
        try:
            barrier.wait()
            for i in range(per_thread):
                # The last error is per thread: a failure here must describe this call.
                engine.update_config({QUOTA: worker * 100 + i}, f"thread-{worker}",
                                     idempotency_key=f"thread-{worker}-{i}")
        except Exception as exc:  # collected, because pytest cannot see thread failures
            failures.append(exc)

    pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()

    assert failures == []
    events = list(engine.iter_events(limit=1000))
    assert len(events) == threads * per_thread
    assert all(e["type"] == "config.changed" for e in events)
    assert len({e["seq"] for e in events}) == len(events)
    assert audit_count(engine) == threads * per_thread


def _process_worker(args):
    """Runs in a spawned child: its own engine on the shared file."""
    path, worker, count = args
    with billing.Engine(path, clock="manual", now=START, busy_timeout_ms=30_000) as engine:
        for i in range(count):
            engine.update_config({QUOTA: worker * 1000 + i}, f"process-{worker}",
                                 idempotency_key=f"process-{worker}-{i}")
    return count


def test_processes_share_one_file(db_path):
    billing.Engine(db_path).close()  # create the schema once, before the race
    # spawn, not fork: a forked child would inherit a copy of the parent's library state.
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        done = pool.map(_process_worker, [(db_path, w, 50) for w in range(2)])
    assert done == [50, 50]

    with billing.Engine(db_path) as engine:
        events = list(engine.iter_events(limit=1000))
        assert len(events) == 100
        assert len({e["seq"] for e in events}) == 100
        actors = [e["actor"] for e in engine.iter_audit(limit=1000)]
        assert actors.count("process-0") == actors.count("process-1") == 50


def test_last_error_is_per_thread(engine):
    # Each thread fails in its own way; a shared (not per-thread) last error would let
    # one thread report another's reason.
    cases = {
        "invalid_cursor": lambda: engine.events(after="not-a-cursor"),
        "out_of_range": lambda: engine.events(limit=0),
        "unknown_field": lambda: engine.call("audit_list", {"bogus": 1}),
        "clock_backwards": lambda: engine.set_clock(START - 1),
    }
    mismatches = []
    barrier = threading.Barrier(len(cases) + 1)

    def fail_repeatedly(expected, call):
        barrier.wait()
        for _ in range(200):
            try:
                call()
            except billing.BillingError as exc:
                if exc.reason != expected:
                    mismatches.append((expected, exc.reason))
            else:
                mismatches.append((expected, "no error"))

    def succeed_repeatedly():
        barrier.wait()
        for _ in range(200):
            engine.config()

    pool = [threading.Thread(target=fail_repeatedly, args=item) for item in cases.items()]
    pool.append(threading.Thread(target=succeed_repeatedly))
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert mismatches == []
