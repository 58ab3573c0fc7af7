"""Small helpers shared by the test modules (pytest puts this directory on sys.path)."""

import datetime

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
