"""Exceptions raised for libbilling status codes.

Each BILLING_E_* code has its own subclass so callers can catch by kind; the
machine-readable `reason` distinguishes cases within a kind (e.g. Conflict with
reason "idempotency_key_reused").
"""

from __future__ import annotations

import re
from typing import Any, Dict, Optional, Tuple, Type

from . import _native


class BillingError(Exception):
    """A libbilling call failed. `code` is the BILLING_E_* status, `reason` the
    snake_case reason and `message` the human-readable text."""

    code: Optional[int] = None  # overridden by the subclasses; set per instance as well

    def __init__(self, code: int, reason: str = "", message: str = "") -> None:
        self.code = code
        self.reason = reason
        self.message = message
        super().__init__(f"{message or status_string(code)} [{reason or 'no reason'}; code {code}]")

    def __reduce__(self) -> Tuple[Any, Tuple[Optional[int], str, str]]:
        # Pickled with the constructor's arguments, not the formatted text: an error raised in
        # a multiprocessing worker must reach the parent as the same error (unpickling from
        # the text alone failed, and a Pool then hung instead of raising).
        return (type(self), (self.code, self.reason, self.message))


class InvalidArgument(BillingError):
    code = 1


class NotFound(BillingError):
    code = 2


class Conflict(BillingError):
    code = 3


class Refused(BillingError):
    code = 4


class StorageError(BillingError):
    code = 5


class Busy(BillingError):
    code = 6


class SchemaError(BillingError):
    code = 7


class InternalError(BillingError):
    code = 8


class AuthError(BillingError):
    """Login failed: reason "invalid_credentials" (unknown identifier or wrong password,
    deliberately indistinguishable) or "login_throttled" (the identifier must wait, known
    or not). `retry_after` is the Unix second the wait ends, or None when none applies."""
    code = 9

    @property
    def retry_after(self) -> Optional[int]:
        match = re.search(r"\(retry_after (\d+)\)$", self.message or "")
        return int(match.group(1)) if match else None


_BY_CODE: Dict[Optional[int], Type[BillingError]] = {cls.code: cls for cls in (
    InvalidArgument, NotFound, Conflict, Refused, StorageError, Busy, SchemaError, InternalError,
    AuthError)}


def status_string(code: int) -> str:
    """The library's name for a status code ("invalid argument", ...)."""
    return _native.billing_status_string(code).decode("utf-8", "replace")


def error_from_code(code: int, reason: str = "", message: str = "") -> BillingError:
    """The exception instance for `code`; codes newer than this binding map to BillingError."""
    return _BY_CODE.get(code, BillingError)(code, reason, message)


def last_error(status: int) -> BillingError:
    """Builds the exception for a call that just returned `status`.

    Must run on the failing call's thread before any other libbilling call: the
    last error is per thread and is cleared by every call.
    """
    code = _native.billing_last_error_code()
    # The reason/message pointers are valid only until the next libbilling call; the
    # c_char_p restype copies each into bytes as soon as its function returns.
    reason = (_native.billing_last_error_reason() or b"").decode("utf-8", "replace")
    message = (_native.billing_last_error_message() or b"").decode("utf-8", "replace")
    if code == 0:
        # Should not happen; keep the returned status rather than reporting "ok".
        code = status
    return error_from_code(code, reason, message)


def check(status: int) -> None:
    """Raises the matching exception unless `status` is BILLING_OK."""
    if status != 0:
        raise last_error(status)
