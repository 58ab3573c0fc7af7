"""The package is typed (py.typed): its annotations must hold together, and the methods named
after the C functions must be the same methods as the short names."""

import os
import subprocess
import sys

import pytest

import billing


def test_the_package_type_checks(tmp_path):
    pytest.importorskip("mypy", reason="mypy is installed in the test venv (make test-deps)")
    package = os.path.dirname(billing.__file__)
    assert os.path.exists(os.path.join(package, "py.typed")), "py.typed is missing from the package"
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--disallow-untyped-defs", "--disallow-incomplete-defs",
         "--no-incremental", "--cache-dir", os.devnull, "-p", "billing"],
        # From an empty directory: mypy finds the installed package (py.typed) by itself, and a
        # source-tree package through MYPYPATH.
        cwd=tmp_path, env=dict(os.environ, **({} if "site-packages" in package
                                              else {"MYPYPATH": os.path.dirname(package)})),
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("c_name, short_name", [
    ("account_topup", "topup"), ("platform_login", "login"), ("order_quote", "quote"),
    ("platform_reset_request", "password_reset_request"),
    ("platform_reset_complete", "password_reset_complete"),
    ("resource_refund_blocks_set", "refund_blocks_set"), ("config_get", "config"),
    ("config_update", "update_config"), ("events_list", "events"), ("audit_list", "audit"),
    ("resources_list", "resources"),
])
def test_c_names_are_aliases(c_name, short_name):
    assert getattr(billing.Engine, c_name) is getattr(billing.Engine, short_name)


def test_aliases_call_the_library(engine):
    engine.account_put("kyc", "typed", type="ENTERPRISE", realname_verified=True, level="V1")
    result = engine.account_topup("payments", "typed", amount_fen=100, external_reference="t-1")
    assert result["account"]["cash_balance_fen"] == 100
