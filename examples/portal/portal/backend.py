"""The one place the portal touches libbilling: a lazily opened engine per worker process.

A pre-fork server (gunicorn) forks its workers from a master that must never hold a handle
(a handle must not cross fork()), so each process opens its own engine on first use, keyed by
its pid. Threads of one worker share that handle (the library serializes calls on it).

In demo mode the engines run on a manual clock. Each handle has its own clock, so the demo's
"now" is kept in a small file beside the database that every worker follows forward before
each request; the operator page moves it (never backwards).
"""

from __future__ import annotations

import fcntl
import os
import threading
from typing import Optional

from billing import Engine

# 2024-01-01T10:30:00+08:00, where a fresh demo starts.
DEMO_START = 1704076200

_engine: Optional[Engine] = None
_engine_pid: Optional[int] = None
_lock = threading.Lock()
_settings: dict = {}


def configure(db_path: str, demo: bool) -> None:
    _settings.update(db_path=db_path, demo=demo)


def db_path() -> str:
    return _settings["db_path"]


def demo_mode() -> bool:
    return bool(_settings.get("demo"))


def after_fork() -> None:
    """gunicorn's post_fork hook: forget any engine object inherited from the parent (there
    should be none) without closing it, so this worker opens its own."""
    global _engine, _engine_pid
    _engine, _engine_pid = None, None


def clock_path() -> str:
    return db_path() + ".clock"


def demo_now() -> int:
    try:
        with open(clock_path()) as f:
            return int(f.read().strip() or DEMO_START)
    except FileNotFoundError:
        return DEMO_START


def move_demo_clock(seconds: int) -> int:
    """Moves the shared demo clock forward by `seconds` (>= 0) and returns the new instant."""
    if seconds < 0:
        raise ValueError("the clock only moves forward")
    with open(clock_path() + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        new = demo_now() + seconds
        temporary = clock_path() + ".tmp"
        with open(temporary, "w") as f:
            f.write(str(new))
        os.replace(temporary, clock_path())
    engine()  # follow it now
    return new


def engine() -> Engine:
    """This process's engine, opened on first use after the fork; in demo mode its manual
    clock is brought up to the shared demo time."""
    global _engine, _engine_pid
    if _engine is None or _engine_pid != os.getpid():
        with _lock:
            if _engine is None or _engine_pid != os.getpid():
                if demo_mode():
                    _engine = Engine(db_path(), clock="manual", now=demo_now())
                else:
                    _engine = Engine(db_path())
                _engine_pid = os.getpid()
    if demo_mode():
        target = demo_now()
        if target > _engine.now():
            try:
                _engine.set_clock(target)
            except Exception:  # another thread moved it further meanwhile
                pass
    return _engine


def run_scheduler(actor: str = "portal-scheduler") -> dict:
    """Runs the scheduler until nothing is due (bounded batches); totals of what it did."""
    totals: dict = {"batches": 0}
    for _ in range(100):
        result = engine().scheduler_run(actor)
        totals["batches"] += 1
        for key, value in (result.get("resources") or {}).items():
            if isinstance(value, int):
                totals[key] = totals.get(key, 0) + value
        totals["cancelled_orders"] = totals.get("cancelled_orders", 0) + (
            result.get("cancelled_orders") if isinstance(result.get("cancelled_orders"), int) else 0)
        if not result.get("has_more"):
            break
    return totals
