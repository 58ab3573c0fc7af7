"""Bad input through the raw ctypes functions: every case is a clean error, never a crash."""

import ctypes
import os
import subprocess
import sys
import textwrap

import pytest

from billing import _native as n
from billing import errors

VALID_UPDATE = b'{"actor": "alice", "changes": {"five_day_quota_per_year": 12}}'


def last_error():
    return n.billing_last_error_code(), n.billing_last_error_reason(), n.billing_last_error_message()


def assert_invalid(status, reason=None):
    code, got_reason, message = last_error()
    assert status == code == errors.InvalidArgument.code
    assert message, "an error must carry a message"
    if reason:
        assert got_reason.decode() == reason


@pytest.fixture
def handle(engine):
    return engine._handle


def out_string():
    # Pre-set to a non-NULL sentinel so we can see failures reset it to NULL.
    return ctypes.c_void_p(1)


def test_success_clears_the_last_error(handle):
    assert n.billing_config_update(handle, b"{", ctypes.byref(out_string())) == 1
    now = ctypes.c_int64()
    assert n.billing_clock_now(handle, ctypes.byref(now)) == 0
    assert last_error() == (0, b"", b"")


def test_null_engine():
    out, now = out_string(), ctypes.c_int64()
    calls = [
        lambda: n.billing_clock_now(None, ctypes.byref(now)),
        lambda: n.billing_clock_set(None, 1),
        lambda: n.billing_clock_advance(None, 1, None),
        lambda: n.billing_config_get(None, ctypes.byref(out)),
        lambda: n.billing_config_update(None, VALID_UPDATE, ctypes.byref(out)),
        lambda: n.billing_events_list(None, None, ctypes.byref(out)),
        lambda: n.billing_audit_list(None, None, ctypes.byref(out)),
    ]
    for call in calls:
        assert_invalid(call(), "null_argument")
    assert out.value is None
    n.billing_engine_close(None)  # documented no-op
    n.billing_string_free(None)  # documented no-op


def test_null_out_pointers(engine, handle):
    assert_invalid(n.billing_clock_now(handle, None), "null_argument")
    assert_invalid(n.billing_config_get(handle, None), "null_argument")
    assert_invalid(n.billing_config_update(handle, VALID_UPDATE, None), "null_argument")
    assert_invalid(n.billing_events_list(handle, None, None), "null_argument")
    assert_invalid(n.billing_audit_list(handle, None, None), "null_argument")
    # The refused update must not have been applied without a way to report it.
    assert engine.config()["five_day_quota_per_year"] == 10
    # out_now is optional for advance.
    assert n.billing_clock_advance(handle, 1, None) == 0


def test_open_bad_arguments(tmp_path):
    path = str(tmp_path / "x.sqlite").encode()
    engine = n.engine_p(1)
    assert_invalid(n.billing_engine_open(None, None, ctypes.byref(engine)), "null_argument")
    assert not engine
    assert_invalid(n.billing_engine_open(path, None, None), "null_argument")
    assert_invalid(n.billing_engine_open(b"/tmp/\xff.sqlite", None, ctypes.byref(engine)), "invalid_utf8")
    assert_invalid(n.billing_engine_open(path, b'{"clock": "\xff"}', ctypes.byref(engine)), "invalid_utf8")
    assert_invalid(n.billing_engine_open(path, b"{", ctypes.byref(engine)), "malformed_json")
    assert_invalid(n.billing_engine_open(path, b"[]", ctypes.byref(engine)), "wrong_type")
    assert not engine


def test_null_request_only_where_optional(engine, handle):
    out = out_string()
    assert_invalid(n.billing_config_update(handle, None, ctypes.byref(out)), "null_argument")
    assert out.value is None
    assert_invalid(n.billing_config_update(handle, b"", ctypes.byref(out)))
    # NULL (and "") mean {} for the list functions.
    for request in (None, ""):
        assert engine.call("events_list", request)["events"] == []
        assert engine.call("audit_list", request)["entries"] == []


BAD_REQUESTS = [
    pytest.param(b'{"actor": "\xff\xfe", "changes": {}}', "invalid_utf8", id="invalid-utf8"),
    pytest.param(b'{"actor": "\xed\xa0\x80", "changes": {}}', "invalid_utf8", id="utf8-surrogate"),
    pytest.param(b'{"actor": "alice", "changes": {', "malformed_json", id="truncated"),
    pytest.param(b'{"actor": "alice"} trailing', "malformed_json", id="trailing-garbage"),
    pytest.param(b"[]", "wrong_type", id="array"),
    pytest.param(b'"text"', "wrong_type", id="string"),
    pytest.param(b"42", "wrong_type", id="number"),
    pytest.param(b"null", None, id="null"),
    # Nesting deeper than 64 levels is refused before parsing goes any further.
    pytest.param(b"[" * 10000, "too_deep", id="10000-open-brackets"),
    pytest.param(b"[" * 10000 + b"]" * 10000, "too_deep", id="10000-nested-arrays"),
    pytest.param(b'{"actor": "a", "changes": ' + b'{"a": ' * 10000 + b"1" + b"}" * 10001,
                 "too_deep", id="10000-nested-objects"),
    pytest.param(b"[" * 65 + b"]" * 65, "too_deep", id="65-nested-arrays"),
    pytest.param(b"[" * 64 + b"]" * 64, "wrong_type", id="64-nested-arrays"),
]


@pytest.mark.parametrize("request_json, reason", BAD_REQUESTS)
@pytest.mark.parametrize("function", ["billing_config_update", "billing_events_list"])
def test_bad_request_json(engine, handle, function, request_json, reason):
    out = out_string()
    status = getattr(n, function)(handle, request_json, ctypes.byref(out))
    assert_invalid(status, reason)
    assert out.value is None
    assert engine.config()["five_day_quota_per_year"] == 10


def _run_isolated(code):
    """Runs `code` in a child interpreter, so a crash cannot take the test run down."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=60, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))


def test_json_ending_at_depth_513_does_not_crash():
    # Once a trap (SIGILL) in the JSON scanner; now refused by the depth limit.
    result = _run_isolated("""
        import ctypes
        from billing import _native as n
        engine = n.engine_p()
        status = n.billing_engine_open(b":memory:", b"[" * 513, ctypes.byref(engine))
        print(status, n.billing_last_error_reason().decode())
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "too_deep"]


def test_json_depth_limit(handle):
    # At most 64 levels of nesting; anything deeper is "too_deep", wherever the text ends.
    for text in (b"[" * 65, b"[" * 512, b"[" * 513, b"[" * 514, b"[" * 513 + b" ",
                 b"[" * 513 + b"]" * 513):
        assert_invalid(n.billing_events_list(handle, text, ctypes.byref(out_string())), "too_deep")
    # 64 levels parse (an array is then the wrong type); an unclosed one is malformed.
    assert_invalid(n.billing_events_list(handle, b"[" * 64 + b"]" * 64, ctypes.byref(out_string())),
                   "wrong_type")
    assert_invalid(n.billing_events_list(handle, b"[" * 64, ctypes.byref(out_string())),
                   "malformed_json")
