"""Loads libbilling and declares the C prototypes from billing.h.

Every function gets explicit argtypes/restype: without them ctypes assumes `int`
arguments and results, which silently truncates 64-bit pointers and int64_t values.

Owned output strings (`char **out_json`) are declared as `POINTER(c_void_p)` rather
than `POINTER(c_char_p)`: ctypes converts a `c_char_p` to `bytes` and drops the
pointer, so it could never be handed back to billing_string_free() and would leak.
Static strings (version, status and last-error texts) are not owned by us, so a
`c_char_p` restype is fine for them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from typing import Any, List, Optional, Tuple

# The ABI major version this binding was written against (BILLING_VERSION_MAJOR).
EXPECTED_MAJOR = 0


class LibraryNotFoundError(OSError):
    """libbilling could not be located or loaded."""


class engine_p(ctypes.c_void_p):
    """Opaque `billing_engine *`; a distinct type so other pointers are rejected."""


_HERE = os.path.dirname(os.path.abspath(__file__))
# A platform wheel (`make wheel`) carries the library inside the package.
_BUNDLED = os.path.join(_HERE, "_lib", "libbilling.so.0")
# Running from a source checkout after `make build`.
_REPO_DIST = os.path.normpath(os.path.join(_HERE, "..", "..", "..", "dist", "lib", "libbilling.so"))


def _candidates() -> List[Tuple[str, str]]:
    """Library locations in priority order, with a label used in error messages:
    BILLING_LIBRARY, the library bundled in the package, a source checkout's dist/,
    then the system's (ctypes.util.find_library)."""
    env = os.environ.get("BILLING_LIBRARY")
    if env:
        # An explicit path is authoritative: do not fall back if it is wrong.
        return [("BILLING_LIBRARY", env)]
    found = [(label, path) for label, path in (("bundled", _BUNDLED), ("repository dist", _REPO_DIST))
             if os.path.exists(path)]
    name = ctypes.util.find_library("billing")
    if name:
        found.append(("ctypes.util.find_library", name))
    return found


def _load() -> ctypes.CDLL:
    candidates = _candidates()
    if not candidates:
        raise LibraryNotFoundError(
            "libbilling not found: set BILLING_LIBRARY to the path of libbilling.so, "
            "install a wheel that bundles it, or install it where the linker finds it"
        )
    errors = []
    for label, path in candidates:
        try:
            return ctypes.CDLL(path)
        except OSError as exc:
            errors.append(f"{label} ({path}): {exc}")
    raise LibraryNotFoundError("cannot load libbilling: " + "; ".join(errors))


_lib: Optional[ctypes.CDLL] = None
_lib_lock = threading.Lock()


def library() -> ctypes.CDLL:
    """The loaded library, loaded (and its ABI major checked) on first use, so that
    importing the package never fails for want of the library."""
    global _lib
    if _lib is None:
        with _lib_lock:
            if _lib is None:
                loaded = _load()
                _check_version(loaded)
                _lib = loaded
    return _lib


_c_int64_p = ctypes.POINTER(ctypes.c_int64)
_out_string = ctypes.POINTER(ctypes.c_void_p)


class _Function:
    """A C function of billing.h, looked up and given its prototype on first call. Every
    function is required: a library without one fails at that first call with an
    AttributeError naming it, rather than later with a confusing error."""

    __slots__ = ("name", "restype", "argtypes", "_fn")

    def __init__(self, name: str, restype: Any, argtypes: List[Any]) -> None:
        self.name = name
        self.restype = restype
        self.argtypes = argtypes
        self._fn = None

    def bind(self) -> Any:
        if self._fn is None:
            fn = getattr(library(), self.name)
            fn.restype = self.restype
            fn.argtypes = self.argtypes
            self._fn = fn
        return self._fn

    def __call__(self, *args: Any) -> Any:
        return (self._fn or self.bind())(*args)


def _declare(name: str, restype: Any, *argtypes: Any) -> _Function:
    return _Function(name, restype, list(argtypes))


# Version
billing_version = _declare("billing_version", ctypes.c_char_p)
billing_version_number = _declare("billing_version_number", ctypes.c_int)

# Status codes and the per-thread last error
billing_status_string = _declare("billing_status_string", ctypes.c_char_p, ctypes.c_int)
billing_last_error_code = _declare("billing_last_error_code", ctypes.c_int)
billing_last_error_reason = _declare("billing_last_error_reason", ctypes.c_char_p)
billing_last_error_message = _declare("billing_last_error_message", ctypes.c_char_p)
billing_string_free = _declare("billing_string_free", None, ctypes.c_void_p)

# Engine handle
billing_engine_open = _declare(
    "billing_engine_open", ctypes.c_int,
    ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(engine_p))
billing_engine_close = _declare("billing_engine_close", None, engine_p)

# One call whose outcome, error included, comes back as one document (any thread)
billing_call = _declare(
    "billing_call", ctypes.c_int, engine_p, ctypes.c_char_p, ctypes.c_char_p, _out_string)

# Clock
billing_clock_now = _declare("billing_clock_now", ctypes.c_int, engine_p, _c_int64_p)
billing_clock_set = _declare("billing_clock_set", ctypes.c_int, engine_p, ctypes.c_int64)
billing_clock_advance = _declare(
    "billing_clock_advance", ctypes.c_int, engine_p, ctypes.c_int64, _c_int64_p)

# Configuration
billing_config_get = _declare("billing_config_get", ctypes.c_int, engine_p, _out_string)
billing_config_update = _declare(
    "billing_config_update", ctypes.c_int, engine_p, ctypes.c_char_p, _out_string)

# Events and audit
billing_events_list = _declare(
    "billing_events_list", ctypes.c_int, engine_p, ctypes.c_char_p, _out_string)
billing_audit_list = _declare(
    "billing_audit_list", ctypes.c_int, engine_p, ctypes.c_char_p, _out_string)
billing_audit_head = _declare(
    "billing_audit_head", ctypes.c_int, engine_p, ctypes.c_char_p, _out_string)


def _json_call(name: str) -> _Function:
    """Declares `int name(billing_engine *, const char *request_json, char **out_json)`."""
    return _declare(name, ctypes.c_int, engine_p, ctypes.c_char_p, _out_string)


# Accounts and money
billing_account_put = _json_call("billing_account_put")
billing_account_get = _json_call("billing_account_get")
billing_account_settings_update = _json_call("billing_account_settings_update")
billing_account_topup = _json_call("billing_account_topup")
billing_ledger_list = _json_call("billing_ledger_list")
billing_coupon_issue = _json_call("billing_coupon_issue")
billing_coupons_list = _json_call("billing_coupons_list")

# Platform accounts and login
billing_platform_eligibility = _json_call("billing_platform_eligibility")
billing_platform_apply = _json_call("billing_platform_apply")
billing_platform_approve = _json_call("billing_platform_approve")
billing_platform_reject = _json_call("billing_platform_reject")
billing_platform_resend_link = _json_call("billing_platform_resend_link")
billing_platform_activate = _json_call("billing_platform_activate")
billing_platform_get = _json_call("billing_platform_get")
billing_platform_accounts_list = _json_call("billing_platform_accounts_list")
billing_platform_login = _json_call("billing_platform_login")
billing_platform_reset_request = _json_call("billing_platform_reset_request")
billing_platform_reset_complete = _json_call("billing_platform_reset_complete")

# Catalog
billing_product_put = _json_call("billing_product_put")
billing_product_get = _json_call("billing_product_get")
billing_products_list = _json_call("billing_products_list")
billing_discount_set = _json_call("billing_discount_set")

# Orders
billing_order_quote = _json_call("billing_order_quote")
billing_order_create = _json_call("billing_order_create")
billing_order_pay = _json_call("billing_order_pay")
billing_order_pay_quote = _json_call("billing_order_pay_quote")
billing_orders_cancel = _json_call("billing_orders_cancel")
billing_order_review = _json_call("billing_order_review")
billing_order_confirm = _json_call("billing_order_confirm")
billing_order_get = _json_call("billing_order_get")
billing_orders_list = _json_call("billing_orders_list")

# Resources
billing_resource_report = _json_call("billing_resource_report")
billing_resource_get = _json_call("billing_resource_get")
billing_resources_list = _json_call("billing_resources_list")

# Scheduler
billing_scheduler_run = _json_call("billing_scheduler_run")

# Renewals and expiry policies
billing_resources_renew = _json_call("billing_resources_renew")
billing_resources_policy_set = _json_call("billing_resources_policy_set")
billing_resources_release = _json_call("billing_resources_release")
billing_renewals_list = _json_call("billing_renewals_list")
billing_renewal_quote = _json_call("billing_renewal_quote")

# Unsubscription and refunds
billing_refund_quote = _json_call("billing_refund_quote")
billing_resources_unsubscribe = _json_call("billing_resources_unsubscribe")
billing_resource_refund_blocks_set = _json_call("billing_resource_refund_blocks_set")
billing_unsubscriptions_list = _json_call("billing_unsubscriptions_list")

# Pay-per-use usage and packages
billing_usage_report = _json_call("billing_usage_report")
billing_usage_list = _json_call("billing_usage_list")
billing_resources_delete = _json_call("billing_resources_delete")
billing_packages_list = _json_call("billing_packages_list")

# Exports (no Engine methods yet: use Engine.call, e.g. engine.call("export_request", {...}))
billing_export_request = _json_call("billing_export_request")
billing_export_step = _json_call("billing_export_step")
billing_export_download = _json_call("billing_export_download")
billing_exports_list = _json_call("billing_exports_list")

# Verification
billing_verify = _json_call("billing_verify")

# Backup
billing_engine_backup = _json_call("billing_engine_backup")
billing_engine_copy = _json_call("billing_engine_copy")


def take_string(ptr: Optional[int]) -> Optional[str]:
    """Copies an owned `char *` into Python text and releases it; None for NULL."""
    if not ptr:
        return None
    try:
        return ctypes.string_at(ptr).decode("utf-8")
    finally:
        billing_string_free(ptr)


def _check_version(loaded: ctypes.CDLL) -> None:
    loaded.billing_version_number.restype = ctypes.c_int
    loaded.billing_version.restype = ctypes.c_char_p
    number = loaded.billing_version_number()
    major = number // 1_000_000
    if major != EXPECTED_MAJOR:
        raise LibraryNotFoundError(
            f"libbilling {loaded.billing_version().decode()} (number {number}) has ABI major "
            f"{major}; this binding needs major {EXPECTED_MAJOR}"
        )
