"""Small helpers shared by the test modules (pytest puts this directory on sys.path)."""

# 2024-01-01T10:30:00+08:00
START = 1704076200
DAY = 86_400

# The cheapest argon2id costs the library accepts; set first in every test that hashes.
FAST_HASHING = {"password_hash_ops_limit": 1, "password_hash_memory_bytes": 8192}


def event_count(engine):
    return sum(1 for _ in engine.iter_events(limit=1000))


def audit_count(engine):
    return sum(1 for _ in engine.iter_audit(limit=1000))


def snapshot(engine):
    """Everything a failed write must leave unchanged."""
    return engine.config(), event_count(engine), audit_count(engine)


def account_event_count(engine, account_id):
    return sum(1 for _ in engine.iter_events(limit=1000, account_id=account_id))
