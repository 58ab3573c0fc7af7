"""Version, status strings, errors, engine lifetime, open options and the clock."""

import ctypes
import os
import pickle
import re
import subprocess
import sys
import time

import pytest

import billing
from billing import _native as n
from billing import errors
from helpers import START


def test_version_matches_header():
    assert re.fullmatch(r"\d+\.\d+\.\d+", billing.version())
    major, minor, patch = map(int, billing.version().split("."))
    assert billing.version_number() == major * 1_000_000 + minor * 1_000 + patch
    assert major == n.EXPECTED_MAJOR


def test_status_strings():
    assert errors.status_string(0) == "ok"
    assert errors.status_string(1) == "invalid argument"
    for code in range(1, 10):
        text = errors.status_string(code)
        assert text and text != "unknown status"
    assert errors.status_string(9) == "authentication failed"
    assert errors.status_string(10) == "unknown status"
    assert errors.status_string(-1) == "unknown status"


@pytest.mark.parametrize("code, cls", [
    (1, errors.InvalidArgument), (2, errors.NotFound), (3, errors.Conflict),
    (4, errors.Refused), (5, errors.StorageError), (6, errors.Busy),
    (7, errors.SchemaError), (8, errors.InternalError), (9, errors.AuthError),
])
def test_error_classes(code, cls):
    error = errors.error_from_code(code, "some_reason", "some message")
    assert type(error) is cls and isinstance(error, errors.BillingError)
    assert (error.code, error.reason, error.message) == (code, "some_reason", "some message")


@pytest.mark.parametrize("code", range(1, 10))
def test_errors_survive_pickling(code):
    """An error raised in a multiprocessing worker reaches the parent as the same error (a
    Pool whose result could not be unpickled hung instead of raising)."""
    error = errors.error_from_code(code, "some_reason", "some message (retry_after 5)")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and str(again) == str(error)
    assert (again.code, again.reason, again.message) == (error.code, error.reason, error.message)


def test_unknown_code_maps_to_base_class():
    error = errors.error_from_code(99, "new_reason", "from a newer library")
    assert type(error) is errors.BillingError and error.code == 99


def test_hosts_branch_on_the_published_reasons(engine):
    """billing.reasons (generated from the registry) names the reason and status a real failure
    carries, so a host compares with a constant rather than a string it typed."""
    from billing import reasons
    with pytest.raises(errors.NotFound) as caught:
        engine.order_get("nobody", "O-none")
    assert caught.value.reason == reasons.ORDER_NOT_FOUND
    published = reasons.REASONS[caught.value.reason]
    assert (published.name, published.status) == ("order_not_found", caught.value.code)
    assert published.meaning and published.retired is None
    assert all(r.status in range(1, 10) for r in reasons.REASONS.values())


def test_open_close(db_path):
    engine = billing.Engine.open(db_path)
    assert not engine.closed
    engine.close()
    assert engine.closed
    engine.close()  # idempotent
    with pytest.raises(ValueError):
        engine.now()


def test_context_manager(db_path):
    with billing.Engine(db_path) as engine:
        assert engine.config()["currency"] == "CNY"
    assert engine.closed
    engine.close()


def test_memory_database():
    with billing.Engine(":memory:") as engine:
        assert engine.config()["business_utc_offset"] == "+08:00"


def test_all_options_accepted(db_path):
    with billing.Engine(db_path, create=True, synchronous="NORMAL", busy_timeout_ms=100,
                        clock="manual", now=START) as engine:
        assert engine.now() == START


def test_unknown_option(db_path):
    with pytest.raises(errors.InvalidArgument) as info:
        billing.Engine(db_path, bogus=1)
    assert info.value.reason == "unknown_field"
    assert info.value.code == 1 and info.value.message


@pytest.mark.parametrize("options", [
    {"create": "yes"},
    {"synchronous": 1},
    {"synchronous": "OFF"},
    {"busy_timeout_ms": "5000"},
    {"busy_timeout_ms": 1.5},
    {"busy_timeout_ms": -1},
    {"busy_timeout_ms": 600_001},
    {"clock": 1},
    {"clock": "sundial"},
    {"clock": "manual", "now": "1704076200"},
    {"clock": "manual", "now": -1},
    {"now": START},  # "now" without a manual clock
])
def test_bad_options(db_path, options):
    with pytest.raises(errors.InvalidArgument) as info:
        billing.Engine(db_path, **options)
    assert info.value.reason and info.value.message


@pytest.mark.sqlite_only("a missing file stays missing")
def test_create_false_on_missing_file(tmp_path):
    with pytest.raises(errors.StorageError):
        billing.Engine(str(tmp_path / "missing.sqlite"), create=False)
    assert not (tmp_path / "missing.sqlite").exists()


def test_manual_clock(engine):
    assert engine.now() == START
    engine.set_clock(START + 60)
    assert engine.now() == START + 60
    engine.set_clock(START + 60)  # standing still is not moving backwards
    assert engine.advance_clock(3600) == START + 3660
    assert engine.advance_clock(0) == START + 3660
    assert engine.now() == START + 3660


def test_clock_cannot_move_backwards(engine):
    with pytest.raises(errors.BillingError) as info:
        engine.set_clock(START - 1)
    assert info.value.reason == "clock_backwards"
    with pytest.raises(errors.BillingError) as info:
        engine.advance_clock(-1)
    assert info.value.reason == "clock_backwards"
    assert engine.now() == START


def test_clock_stays_within_supported_years(engine):
    with pytest.raises(errors.InvalidArgument):
        engine.set_clock(253402300800)  # 10000-01-01
    with pytest.raises(OverflowError):
        engine.set_clock(2 ** 63)  # refused before it reaches ctypes
    with pytest.raises(TypeError):
        engine.advance_clock(1.5)
    assert engine.now() == START


def test_system_clock_cannot_be_set(db_path):
    with billing.Engine(db_path) as engine:
        assert abs(engine.now() - time.time()) < 60
        for change in (lambda: engine.set_clock(START), lambda: engine.advance_clock(1)):
            with pytest.raises(errors.Refused) as info:
                change()
            assert info.value.reason == "clock_not_manual"


def test_clock_belongs_to_the_handle(db_path):
    with billing.Engine(db_path, clock="manual", now=START) as first, \
            billing.Engine(db_path, clock="manual", now=START + 1000) as second:
        first.advance_clock(5)
        assert first.now() == START + 5
        assert second.now() == START + 1000
        second.set_clock(START + 2000)
        assert first.now() == START + 5


HEADER = os.path.join(os.path.dirname(__file__), "..", "..", "..", "include", "billing.h")


@pytest.mark.skipif(not os.path.exists(HEADER), reason="needs the repository's include/billing.h")
def test_every_header_function_is_declared():
    # A function added to billing.h without a prototype here would be called with
    # ctypes' int defaults, truncating pointers; catch that when the header grows.
    with open(HEADER) as f:
        names = set(re.findall(r"\b(billing_\w+)\s*\(", f.read()))
    assert names, "no prototypes found in billing.h"
    for name in sorted(names):
        function = getattr(n, name, None)
        assert function is not None, f"{name} is not declared in billing/_native.py"
        assert function.argtypes is not None, f"{name} has no argtypes"


@pytest.mark.skipif(not os.path.exists(HEADER), reason="needs the repository's include/billing.h")
def test_loaded_library_exports_every_header_function():
    # Declarations bind on first call; check every symbol directly, so that a library
    # missing one is named here rather than at some later call.
    with open(HEADER) as f:
        names = set(re.findall(r"\b(billing_\w+)\s*\(", f.read()))
    missing = sorted(name for name in names if not hasattr(n.library(), name))
    assert missing == [], f"the loaded library does not export {missing}"


def test_declaring_a_function_the_library_lacks_fails():
    # Declarations are required: no stand-in is made for a missing symbol; the first call
    # names it.
    with pytest.raises(AttributeError, match="billing_from_the_future"):
        n._declare("billing_from_the_future", ctypes.c_int)()


def _import_in_child(**env):
    code = "import billing; print(billing.version())"
    child_env = {k: v for k, v in os.environ.items() if k != "BILLING_LIBRARY"}
    child_env.update(env, PYTHONPATH=os.path.join(os.path.dirname(__file__), ".."))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=child_env, timeout=60)


def test_library_path_from_environment_must_exist(tmp_path):
    result = _import_in_child(BILLING_LIBRARY=str(tmp_path / "missing.so"))
    assert result.returncode != 0
    assert "LibraryNotFoundError" in result.stderr and "BILLING_LIBRARY" in result.stderr


def test_import_does_not_load_the_library(tmp_path):
    # The library is loaded on first use: importing the package (to read __version__, to
    # type-check, to configure BILLING_LIBRARY later) never fails for want of it.
    code = "import billing; print(billing.__version__)"
    env = {k: v for k, v in os.environ.items() if k != "BILLING_LIBRARY"}
    env.update(BILLING_LIBRARY=str(tmp_path / "missing.so"),
               PYTHONPATH=os.path.join(os.path.dirname(__file__), ".."))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == billing.__version__


def test_package_version_matches_the_library():
    assert billing.__version__ == billing.version()


@pytest.mark.skipif(not os.path.exists(n._REPO_DIST), reason="no dist/ build in this checkout")
def test_library_found_in_repository_dist():
    result = _import_in_child()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == billing.version()
