"""A Pythonic wrapper around a `billing_engine *` handle."""

from __future__ import annotations

import ctypes
import json
import operator
import os
import threading
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Union

from . import _native
from .errors import InternalError, last_error

#: A decoded response document (a JSON object).
Response = Dict[str, Any]
#: A request: a dict (serialized), exact JSON text, or None (NULL).
Request = Union[Mapping[str, Any], str, bytes, None]
#: A list cursor as the library hands it out in "next_cursor" (a number or a string).
Cursor = Union[int, str]
#: A file system path.
StrPath = Union[str, "os.PathLike[str]"]

_INT64_MIN = -(2 ** 63)
_INT64_MAX = 2 ** 63 - 1


def version() -> str:
    """The loaded library's version string, e.g. "0.2.0"."""
    return _native.billing_version().decode("utf-8")


def version_number() -> int:
    """The loaded library's BILLING_VERSION_NUMBER (MAJOR * 1000000 + MINOR * 1000 + PATCH)."""
    return _native.billing_version_number()


def _encode_request(request: Request) -> Optional[bytes]:
    """JSON text for a request argument: dicts are serialized, str/bytes pass through
    (so callers and tests can send exact text), None stays NULL."""
    if request is None:
        return None
    if isinstance(request, bytes):
        return request
    if isinstance(request, str):
        return request.encode("utf-8")
    # allow_nan=False: NaN/Infinity are not JSON; fail here with a clear Python error.
    return json.dumps(request, ensure_ascii=False, allow_nan=False).encode("utf-8")


def _int64(value: int, name: str) -> int:
    # operator.index refuses floats and other non-integers instead of truncating them,
    # and the range check stops ctypes from silently wrapping large values.
    value = operator.index(value)
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise OverflowError(f"{name} {value} does not fit in int64_t")
    return value


def _page_request(after: Optional[Cursor], limit: Optional[int],
                  account_id: Optional[str]) -> Dict[str, Any]:
    # Omit unset keys: the library refuses unknown keys and we want its defaults.
    request = {}
    if after is not None:
        request["after"] = after
    if limit is not None:
        request["limit"] = limit
    if account_id is not None:
        request["account_id"] = account_id
    return request


def _write_request(actor: str, idempotency_key: Optional[str], **fields: Any) -> Dict[str, Any]:
    """A mutating request: actor, the optional idempotency key, and the fields that are
    not None (the library treats an absent field as "keep" / "use the default")."""
    request = {"actor": actor}
    if idempotency_key is not None:
        request["idempotency_key"] = idempotency_key
    request.update((k, v) for k, v in fields.items() if v is not None)
    return request


def _read_request(**fields: Any) -> Dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


class Engine:
    """An open libbilling database.

    Create with ``Engine(path, **options)`` or ``Engine.open(path, **options)``;
    options are those of billing_engine_open (create, synchronous, busy_timeout_ms,
    clock, now) and are validated by the library. Use as a context manager or call
    close(). One Engine may be shared by threads (the library serializes calls on a
    handle), but it must not be closed while another thread is using it.
    """

    def __init__(self, path: StrPath, **options: Any) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()  # guards only the handle swap in close()
        self._handle = None
        encoded_path = self.path if isinstance(self.path, bytes) else self.path.encode("utf-8")
        handle = _native.engine_p()
        status = _native.billing_engine_open(
            encoded_path, _encode_request(options) if options else None, ctypes.byref(handle))
        if status != 0:
            raise last_error(status)
        self._handle = handle

    @classmethod
    def open(cls, path: StrPath, **options: Any) -> "Engine":
        return cls(path, **options)

    # -- lifetime ---------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._handle is None

    def close(self) -> None:
        """Closes the handle; calling it again is a no-op."""
        with self._lock:
            handle, self._handle = self._handle, None
        if handle is not None:
            _native.billing_engine_close(handle)

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close()

    def __del__(self) -> None:
        # A safety net for engines that were never closed; `_handle` may be missing if
        # __init__ failed before setting it.
        if getattr(self, "_handle", None) is not None:
            self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<billing.Engine {self.path!r} {state}>"

    def _live_handle(self) -> _native.engine_p:
        handle = self._handle
        if handle is None:
            raise ValueError("operation on a closed billing Engine")
        return handle

    # -- generic call -----------------------------------------------------------------

    def call(self, function_name: str, request: Request = None) -> Response:
        """Calls ``int f(billing_engine *, const char *request_json, char **out_json)``
        by name ("billing_events_list" or just "events_list") and returns the decoded
        response. `request` may be a dict, JSON text (str/bytes) or None (NULL)."""
        name = function_name if function_name.startswith("billing_") else "billing_" + function_name
        function = getattr(_native, name)
        return self._invoke(function, _encode_request(request))

    def _invoke(self, function: Any, *args: Any) -> Response:
        out = ctypes.c_void_p()
        status = function(self._live_handle(), *args, ctypes.byref(out))
        if status != 0:
            # Read the last error before any other libbilling call (even the free
            # below) replaces it.
            error = last_error(status)
            _native.take_string(out.value)  # documented to be NULL; free defensively
            raise error
        text = _native.take_string(out.value)
        if text is None:
            raise InternalError(8, "null_output", f"{function.__name__} succeeded without output")
        return json.loads(text)

    # -- clock ------------------------------------------------------------------------

    def now(self) -> int:
        """The handle's current time in Unix seconds."""
        now = ctypes.c_int64()
        status = _native.billing_clock_now(self._live_handle(), ctypes.byref(now))
        if status != 0:
            raise last_error(status)
        return now.value

    def set_clock(self, now: int) -> None:
        """Sets a manual clock; it may not move backwards."""
        status = _native.billing_clock_set(self._live_handle(), _int64(now, "now"))
        if status != 0:
            raise last_error(status)

    def advance_clock(self, seconds: int) -> int:
        """Advances a manual clock by `seconds` (>= 0) and returns the new time."""
        now = ctypes.c_int64()
        status = _native.billing_clock_advance(
            self._live_handle(), _int64(seconds, "seconds"), ctypes.byref(now))
        if status != 0:
            raise last_error(status)
        return now.value

    # -- configuration ----------------------------------------------------------------

    def config(self) -> Response:
        """The current configuration values (the response's "configuration" object)."""
        return self._invoke(_native.billing_config_get)["configuration"]

    def update_config(self, changes: Mapping[str, Any], actor: str,
                      idempotency_key: Optional[str] = None) -> Response:
        """Changes configuration values; returns the full response
        ({"schema_version", "configuration", "changed"})."""
        request = {"actor": actor, "changes": changes}
        if idempotency_key is not None:
            request["idempotency_key"] = idempotency_key
        return self.call("billing_config_update", request)

    # -- events and audit -------------------------------------------------------------

    def events(self, after: Optional[Cursor] = None, limit: Optional[int] = None,
               account_id: Optional[str] = None) -> Response:
        """One page of the event outbox: {"events", "next_cursor", "has_more", ...}."""
        return self.call("billing_events_list", _page_request(after, limit, account_id))

    def events_end(self) -> Cursor:
        """The outbox's current end cursor: pass it as `after` to see only events appended
        from now on (billing_events_list with {"from": "end"})."""
        cursor: Cursor = self.call("billing_events_list", {"from": "end"})["next_cursor"]
        return cursor

    def iter_events(self, after: Optional[Cursor] = None, limit: Optional[int] = None,
                    account_id: Optional[str] = None) -> Iterator[Response]:
        """Yields every event after `after`, following next_cursor page by page."""
        return self._iterate(self.events, "events", after, limit, account_id)

    def audit(self, after: Optional[Cursor] = None, limit: Optional[int] = None,
              account_id: Optional[str] = None) -> Response:
        """One page of the audit log: {"entries", "next_cursor", "has_more", ...}."""
        return self.call("billing_audit_list", _page_request(after, limit, account_id))

    def audit_head(self) -> Response:
        """The head of the audit chain, {"position", "digest"}: keep it outside the database
        file and pass it to `verify(audit_head=...)` to detect a cut or rewritten chain."""
        return self.call("billing_audit_head", None)

    def iter_audit(self, after: Optional[Cursor] = None, limit: Optional[int] = None,
                   account_id: Optional[str] = None) -> Iterator[Response]:
        """Yields every audit entry after `after`, following next_cursor."""
        return self._iterate(self.audit, "entries", after, limit, account_id)

    @staticmethod
    def _iterate(fetch: Callable[..., Response], key: str, after: Optional[Cursor],
                 limit: Optional[int], account_id: Optional[str]) -> Iterator[Response]:
        while True:
            page = fetch(after=after, limit=limit, account_id=account_id)
            items = page[key]
            yield from items
            # Also stop on an empty page so a misbehaving has_more cannot loop forever.
            if not page.get("has_more") or not items:
                return
            after = page["next_cursor"]

    @staticmethod
    def _iterate_pages(fetch: Callable[[Optional[Cursor]], Response], key: str,
                       after: Optional[Cursor]) -> Iterator[Response]:
        """Yields the items of `key` page after page; `fetch(after)` returns one page."""
        while True:
            page = fetch(after)
            yield from page[key]
            # Unlike events, filtered lists may return a short (even empty) page while
            # has_more is true, so only has_more ends the walk; a cursor that does not
            # move would loop forever, so that is treated as the end as well.
            if not page.get("has_more") or page.get("next_cursor") in (None, after):
                return
            after = page["next_cursor"]

    # -- accounts and money -----------------------------------------------------------
    #
    # Every mutating method takes `actor` and an optional `idempotency_key`; every method
    # returns the library's parsed response dict.

    def account_put(self, actor: str, account_id: str, idempotency_key: Optional[str] = None,
                    **fields: Any) -> Response:
        """Creates or updates a customer account. `fields`: type, realname_verified,
        restricted, freeze, level, credit_limit_fen (None = keep)."""
        return self.call("billing_account_put",
                         _write_request(actor, idempotency_key, account_id=account_id, **fields))

    def account_get(self, account_id: str) -> Response:
        """{"account": {...}}."""
        return self.call("billing_account_get", {"account_id": account_id})

    def account_settings_update(self, actor: str, account_id: str,
                                deduction_days: Optional[int] = None,
                                unified_expiry_day: Optional[int] = None,
                                idempotency_key: Optional[str] = None) -> Response:
        """Changes the renewal settings (at least one of them); {"account": {...},
        "rescheduled_resource_ids": [...]} (auto-renewals moved by a new deduction day)."""
        return self.call("billing_account_settings_update", _write_request(
            actor, idempotency_key, account_id=account_id, deduction_days=deduction_days,
            unified_expiry_day=unified_expiry_day))

    def topup(self, actor: str, account_id: str, amount_fen: int, external_reference: str,
              idempotency_key: Optional[str] = None) -> Response:
        """Records money received: {"topup", "account", "arrears_settled_fen", "replayed"}."""
        return self.call("billing_account_topup", _write_request(
            actor, idempotency_key, account_id=account_id, amount_fen=amount_fen,
            external_reference=external_reference))

    def ledger(self, account_id: str, after: Optional[Cursor] = None,
               limit: Optional[int] = None) -> Response:
        """One page of the account's ledger: {"entries", "next_cursor", "has_more"}."""
        return self.call("billing_ledger_list",
                         _read_request(account_id=account_id, after=after, limit=limit))

    def iter_ledger(self, account_id: str, after: Optional[Cursor] = None,
                    limit: Optional[int] = None) -> Iterator[Response]:
        """Yields every ledger entry of the account after `after`, oldest first."""
        return self._iterate_pages(
            lambda cursor: self.ledger(account_id, after=cursor, limit=limit), "entries", after)

    def coupon_issue(self, actor: str, account_id: str, kind: str, valid_from: int, valid_to: int,
                     idempotency_key: Optional[str] = None, **fields: Any) -> Response:
        """Issues a coupon. `fields`: face_value_fen, discount_bp, max_discount_fen, scope,
        min_spend_fen, exclusive_with_discounts, external_reference.
        Returns {"coupon", "replayed"}."""
        return self.call("billing_coupon_issue", _write_request(
            actor, idempotency_key, account_id=account_id, kind=kind, valid_from=valid_from,
            valid_to=valid_to, **fields))

    def coupons(self, account_id: str, status: Optional[str] = None, kind: Optional[str] = None,
                after: Optional[Cursor] = None, limit: Optional[int] = None) -> Response:
        """One page of the account's coupons: {"coupons", "next_cursor", "has_more"}.
        Filters apply within the page, so a page may be short while has_more is true."""
        return self.call("billing_coupons_list", _read_request(
            account_id=account_id, status=status, kind=kind, after=after, limit=limit))

    def iter_coupons(self, account_id: str, status: Optional[str] = None,
                     kind: Optional[str] = None, after: Optional[Cursor] = None,
                     limit: Optional[int] = None) -> Iterator[Response]:
        """Yields every matching coupon, following next_cursor."""
        return self._iterate_pages(
            lambda cursor: self.coupons(account_id, status=status, kind=kind, after=cursor,
                                        limit=limit), "coupons", after)

    # -- platform accounts and login --------------------------------------------------

    def platform_eligibility(self, account_id: str) -> Response:
        """{"account_id", "eligible", "checks": [{"check", "passed", "code"?, "message"?}]}."""
        return self.call("billing_platform_eligibility", {"account_id": account_id})

    def platform_apply(self, actor: str, account_id: str, user_name: str, email: str, phone: str,
                       contact_name: Optional[str] = None,
                       idempotency_key: Optional[str] = None) -> Response:
        """Submits an application: {"platform_account": {...}}."""
        return self.call("billing_platform_apply", _write_request(
            actor, idempotency_key, account_id=account_id, user_name=user_name, email=email,
            phone=phone, contact_name=contact_name))

    def platform_approve(self, actor: str, platform_account_id: str,
                         idempotency_key: Optional[str] = None) -> Response:
        """{"platform_account", "password_set_token", "token_expires_at"}; the token is
        None in an idempotent replay."""
        return self.call("billing_platform_approve", _write_request(
            actor, idempotency_key, platform_account_id=platform_account_id))

    def platform_reject(self, actor: str, platform_account_id: str, reason: str,
                        idempotency_key: Optional[str] = None) -> Response:
        """Rejects a submitted application, freeing its identifiers."""
        return self.call("billing_platform_reject", _write_request(
            actor, idempotency_key, platform_account_id=platform_account_id, reason=reason))

    def platform_resend_link(self, actor: str, platform_account_id: str,
                             idempotency_key: Optional[str] = None) -> Response:
        """A new password-set token (earlier ones stop working); shaped like approve."""
        return self.call("billing_platform_resend_link", _write_request(
            actor, idempotency_key, platform_account_id=platform_account_id))

    def platform_activate(self, actor: str, token: str, password: str,
                          idempotency_key: Optional[str] = None) -> Response:
        """Sets the first password: {"platform_account": {...}} (ACTIVE)."""
        return self.call("billing_platform_activate", _write_request(
            actor, idempotency_key, token=token, password=password))

    def platform_get(self, platform_account_id: str) -> Response:
        """{"platform_account": {...}}."""
        return self.call("billing_platform_get", {"platform_account_id": platform_account_id})

    def platform_accounts(self, status: Union[str, Sequence[str], None] = None,
                          account_id: Optional[str] = None, after: Optional[Cursor] = None,
                          limit: Optional[int] = None) -> Response:
        """One page of platform accounts in application order (the approver's queue):
        {"platform_accounts", "next_cursor", "has_more"}. `status` is one of, or a list of,
        "SUBMITTED", "APPROVED_PENDING_PASSWORD", "ACTIVE", "REJECTED"."""
        return self.call("billing_platform_accounts_list", _read_request(
            status=status if status is None or isinstance(status, str) else list(status),
            account_id=account_id, after=after, limit=limit))

    def iter_platform_accounts(self, status: Union[str, Sequence[str], None] = None,
                               account_id: Optional[str] = None, after: Optional[Cursor] = None,
                               limit: Optional[int] = None) -> Iterator[Response]:
        """Yields every matching platform account in application order, following next_cursor."""
        return self._iterate_pages(
            lambda cursor: self.platform_accounts(status, account_id, after=cursor, limit=limit),
            "platform_accounts", after)

    def login(self, identifier: str, password: str) -> Response:
        """{"platform_account", "account_id"}; raises errors.AuthError on failure
        ("invalid_credentials" or "login_throttled", with `retry_after`)."""
        return self.call("billing_platform_login", {"identifier": identifier, "password": password})

    def password_reset_request(self, actor: str, identifier: str,
                               idempotency_key: Optional[str] = None) -> Response:
        """{"platform_account", "channel", "reset_token", "token_expires_at"}, for any
        well-formed identifier: platform_account and reset_token are None unless an active
        account holds it (never show them to the caller)."""
        return self.call("billing_platform_reset_request", _write_request(
            actor, idempotency_key, identifier=identifier))

    def password_reset_complete(self, actor: str, token: str, password: str,
                                idempotency_key: Optional[str] = None) -> Response:
        """Sets a new password with a reset token: {"platform_account": {...}}."""
        return self.call("billing_platform_reset_complete", _write_request(
            actor, idempotency_key, token=token, password=password))

    # -- catalog ----------------------------------------------------------------------

    def product_put(self, actor: str, product: Mapping[str, Any],
                    idempotency_key: Optional[str] = None) -> Response:
        """Defines or replaces a product from a dict with the fields of billing_product_put
        (product_id, product_type, billing_mode, prices, allowed_periods, ...).
        Returns {"product": {...}}."""
        return self.call("billing_product_put",
                         _write_request(actor, idempotency_key, product=product))

    def product_get(self, product_id: str) -> Response:
        """{"product": {...}}."""
        return self.call("billing_product_get", {"product_id": product_id})

    def products(self, product_type: Optional[str] = None, after: Optional[Cursor] = None,
                 limit: Optional[int] = None) -> Response:
        """One page of the catalog in id order: {"products", "next_cursor", "has_more"}."""
        return self.call("billing_products_list", _read_request(
            product_type=product_type, after=after, limit=limit))

    def iter_products(self, product_type: Optional[str] = None, after: Optional[Cursor] = None,
                      limit: Optional[int] = None) -> Iterator[Response]:
        """Yields every product (of `product_type`), following next_cursor."""
        return self._iterate_pages(
            lambda cursor: self.products(product_type=product_type, after=cursor, limit=limit),
            "products", after)

    def discount_set(self, actor: str, account_id: str, product_type: str, rate_bp: int,
                     idempotency_key: Optional[str] = None) -> Response:
        """Sets the account's commercial discount for a product type ("*" for all);
        rate_bp 0 removes it."""
        return self.call("billing_discount_set", _write_request(
            actor, idempotency_key, account_id=account_id, product_type=product_type,
            rate_bp=rate_bp))

    # -- orders -----------------------------------------------------------------------
    #
    # `items` is a list of {"product_id", "period"?: {"unit", "count"}, "quantity"?,
    # "effective_at"?} dicts, passed through unchanged.

    def quote(self, account_id: str, items: Sequence[Mapping[str, Any]]) -> Response:
        """Prices a purchase without creating anything: {"items", "amounts", "priced_at"}."""
        return self.call("billing_order_quote", {"account_id": account_id, "items": items})

    def order_create(self, actor: str, account_id: str, items: Sequence[Mapping[str, Any]],
                     idempotency_key: Optional[str] = None, **options: Any) -> Response:
        """Creates an order. `options`: auto_pay, coupon_ids, placed_by_manager, contract,
        expected_amount_due_fen (None = absent). Returns {"order", "payment"}."""
        return self.call("billing_order_create", _write_request(
            actor, idempotency_key, account_id=account_id, items=items, **options))

    def order_pay(self, actor: str, account_id: str, order_id: str,
                  coupon_ids: Optional[Sequence[str]] = None,
                  idempotency_key: Optional[str] = None) -> Response:
        """Pays a PENDING_PAYMENT order (plain or combined): {"order": {...}}."""
        return self.call("billing_order_pay", _write_request(
            actor, idempotency_key, account_id=account_id, order_id=order_id,
            coupon_ids=coupon_ids))

    def order_pay_quote(self, account_id: str, order_id: str,
                        coupon_ids: Optional[Sequence[str]] = None) -> Response:
        """What order_pay with these coupons would take now, without paying: {"quoted_at",
        "order_id", "is_combined", "pay_deadline", "amounts", "coupons" (what each chosen
        coupon takes), "applicable_coupons", "payment": {"payable", "reason"?, "message"?}}."""
        return self.call("billing_order_pay_quote", _read_request(
            account_id=account_id, order_id=order_id,
            coupon_ids=None if coupon_ids is None else list(coupon_ids)))

    def orders_cancel(self, actor: str, account_id: str, order_ids: Sequence[str],
                      reason: Optional[str] = None,
                      idempotency_key: Optional[str] = None) -> Response:
        """Cancels PENDING_PAYMENT orders: {"results": [{"order_id", "cancelled",
        "reason"?, "message"?}]} (one result per id; refusals are reported, not raised)."""
        return self.call("billing_orders_cancel", _write_request(
            actor, idempotency_key, account_id=account_id, order_ids=list(order_ids),
            reason=reason))

    def order_review(self, actor: str, account_id: str, order_id: str, decision: str,
                     comment: Optional[str] = None,
                     idempotency_key: Optional[str] = None) -> Response:
        """Decides a PENDING_REVIEW order ("APPROVE" or "REJECT"): {"order": {...}}."""
        return self.call("billing_order_review", _write_request(
            actor, idempotency_key, account_id=account_id, order_id=order_id,
            decision=decision, comment=comment))

    def order_confirm(self, actor: str, account_id: str, order_id: str, decision: str,
                      idempotency_key: Optional[str] = None) -> Response:
        """Answers a PENDING_CONFIRMATION order ("CONFIRM" or "DECLINE"): {"order": {...}}."""
        return self.call("billing_order_confirm", _write_request(
            actor, idempotency_key, account_id=account_id, order_id=order_id,
            decision=decision))

    def order_get(self, account_id: str, order_id: str) -> Response:
        """{"order": {... "amounts", "lines", "sub_orders", "resources", "payments",
        "refunds"}}."""
        return self.call("billing_order_get", {"account_id": account_id, "order_id": order_id})

    def orders(self, account_id: str, after: Optional[Cursor] = None, limit: Optional[int] = None,
               **filters: Any) -> Response:
        """One page of the order list, newest first: {"orders", "next_cursor", "has_more",
        "counts"?}. `filters`: order_id, created_from, created_to, product_type, order_type,
        status, billing_mode (each of the last four one value or a list of values),
        with_counts (True: "counts" per status tab under the other filters; None = absent),
        group_combined (True: a combined order is one row with its "sub_orders")."""
        return self.call("billing_orders_list", _read_request(
            account_id=account_id, after=after, limit=limit, **filters))

    def iter_orders(self, account_id: str, after: Optional[Cursor] = None,
                    limit: Optional[int] = None, **filters: Any) -> Iterator[Response]:
        """Yields every matching order row, newest first, following next_cursor."""
        return self._iterate_pages(
            lambda cursor: self.orders(account_id, after=cursor, limit=limit, **filters),
            "orders", after)

    # -- resources --------------------------------------------------------------------

    def resource_report(self, actor: str, account_id: str, results: Sequence[Mapping[str, Any]],
                        idempotency_key: Optional[str] = None) -> Response:
        """The host's provisioning results, a list of {"resource_id", "outcome":
        "SUCCEEDED"|"FAILED"}: {"resources", "refund_orders"}."""
        return self.call("billing_resource_report", _write_request(
            actor, idempotency_key, account_id=account_id, results=list(results)))

    def resource_get(self, account_id: str, resource_id: str) -> Response:
        """{"resource": {...}}."""
        return self.call("billing_resource_get",
                         {"account_id": account_id, "resource_id": resource_id})

    def resources(self, account_id: str, after: Optional[Cursor] = None, limit: Optional[int] = None,
                  status: Union[str, Sequence[str], None] = None,
                  billing_mode: Union[str, Sequence[str], None] = None,
                  product_type: Union[str, Sequence[str], None] = None,
                  with_counts: Optional[bool] = None) -> Response:
        """One page of the account's resources, ended ones included, newest first:
        {"resources", "next_cursor", "has_more", "counts"?}. status, billing_mode and
        product_type each take one value or a list; with_counts=True adds "counts" per status
        under the other filters ("ALL" is their sum)."""
        def several(value: Union[str, Sequence[str], None]) -> Union[str, List[str], None]:
            return value if value is None or isinstance(value, str) else list(value)
        return self.call("billing_resources_list", _read_request(
            account_id=account_id, after=after, limit=limit, status=several(status),
            billing_mode=several(billing_mode), product_type=several(product_type),
            with_counts=with_counts))

    def iter_resources(self, account_id: str, after: Optional[Cursor] = None,
                       limit: Optional[int] = None, status: Union[str, Sequence[str], None] = None,
                       billing_mode: Union[str, Sequence[str], None] = None,
                       product_type: Union[str, Sequence[str], None] = None) -> Iterator[Response]:
        """Yields every matching resource of the account, newest first, following next_cursor."""
        return self._iterate_pages(
            lambda cursor: self.resources(account_id, after=cursor, limit=limit, status=status,
                                          billing_mode=billing_mode, product_type=product_type),
            "resources", after)

    # -- scheduler --------------------------------------------------------------------

    def scheduler_run(self, actor: str, limit: Optional[int] = None,
                      idempotency_key: Optional[str] = None) -> Response:
        """Does the work due at the handle's now, one bounded batch per job:
        {"now", "cancelled_orders", "resources": {"processed", "effective", "reminders",
        "auto_renewed", "auto_renew_failed", "expired", "converted", "frozen", "released"},
        "has_more"}; call again while has_more is true."""
        return self.call("billing_scheduler_run", _write_request(
            actor, idempotency_key, limit=limit))

    # -- renewals and expiry policies -------------------------------------------------
    #
    # `resource_ids` lists primary resources (1–max_batch_renew for a renewal: 10 by default,
    # configurable up to 1000); a period is
    # a {"unit": "MONTH"|"YEAR", "count"} dict.

    def resources_renew(self, actor: str, account_id: str, resource_ids: Sequence[str],
                        period: Optional[Mapping[str, Any]] = None,
                        unified_expiry: Optional[bool] = None, auto_pay: Optional[bool] = None,
                        coupon_ids: Optional[Sequence[str]] = None,
                        idempotency_key: Optional[str] = None) -> Response:
        """Renews primary yearly/monthly resources (their bound resources come along) with a
        RENEW order pending payment, or paid at once with auto_pay: {"order", "payment"}."""
        return self.call("billing_resources_renew", _write_request(
            actor, idempotency_key, account_id=account_id, resource_ids=list(resource_ids),
            period=period, unified_expiry=unified_expiry, auto_pay=auto_pay,
            coupon_ids=None if coupon_ids is None else list(coupon_ids)))

    def renewal_quote(self, account_id: str, resource_ids: Sequence[str],
                      period: Optional[Mapping[str, Any]] = None, unified_expiry: Optional[bool] = None,
                      coupon_ids: Optional[Sequence[str]] = None) -> Response:
        """Prices a renewal as resources_renew + order_pay would charge it, creating nothing:
        {"quoted_at", "period", "resources": [{"resource_id", "expire_at", "new_expire_at",
        "amounts", ...}], "amounts", "coupons", "applicable_coupons", "payment"}."""
        return self.call("billing_renewal_quote", _read_request(
            account_id=account_id, resource_ids=list(resource_ids), period=period,
            unified_expiry=unified_expiry,
            coupon_ids=None if coupon_ids is None else list(coupon_ids)))

    def resources_policy_set(self, actor: str, account_id: str, resource_ids: Sequence[str],
                             policy: str, auto_renew_period: Optional[Mapping[str, Any]] = None,
                             auto_renew_times: Optional[int] = None,
                             idempotency_key: Optional[str] = None) -> Response:
        """Sets the expiry policy ("MANUAL", "AUTO_RENEW", "TO_ON_DEMAND", "NO_RENEW") of
        primary resources, all or nothing; auto_renew_times 0–99 (0 = unlimited, None =
        unlimited when enabling, unchanged when modifying). Returns {"resources"}."""
        return self.call("billing_resources_policy_set", _write_request(
            actor, idempotency_key, account_id=account_id, resource_ids=list(resource_ids),
            policy=policy, auto_renew_period=auto_renew_period, auto_renew_times=auto_renew_times))

    def resources_release(self, actor: str, account_id: str, resource_ids: Sequence[str],
                          idempotency_key: Optional[str] = None) -> Response:
        """Releases EXPIRED or FROZEN primary resources with their bound resources:
        {"resources"} (every resource released, bound ones included)."""
        return self.call("billing_resources_release", _write_request(
            actor, idempotency_key, account_id=account_id, resource_ids=list(resource_ids)))

    def renewals(self, account_id: str, tab: str, after: Optional[Cursor] = None,
                 limit: Optional[int] = None, **filters: Any) -> Response:
        """One page of the renewal-management view of one policy tab (or "ALL"), soonest
        expiry first: {"resources": [{..., "bound_resources", "pending_order_id"}],
        "next_cursor", "has_more", "counts"?}. `filters`: expire_from, expire_to, resource_id,
        resource_ids (up to 200), order_id, status, hide_pending_orders, with_counts (True:
        "counts" per tab under the other filters; None = absent)."""
        return self.call("billing_renewals_list", _read_request(
            account_id=account_id, tab=tab, after=after, limit=limit, **filters))

    def iter_renewals(self, account_id: str, tab: str, after: Optional[Cursor] = None,
                      limit: Optional[int] = None, **filters: Any) -> Iterator[Response]:
        """Yields every matching resource of the tab, soonest expiry first, following
        next_cursor."""
        return self._iterate_pages(
            lambda cursor: self.renewals(account_id, tab, after=cursor, limit=limit, **filters),
            "resources", after)

    # -- unsubscription and refunds ---------------------------------------------------
    #
    # `type` is "RESOURCE" (default: the resource and its periods to come) or
    # "RENEWAL_ONLY" (the periods not yet started; `fallback_expiry` picks the expiry to fall
    # back to). Bound resources come with their primary.

    def refund_quote(self, account_id: str, resource_ids: Sequence[str], type: Optional[str] = None,
                     fallback_expiry: Optional[str] = None) -> Response:
        """Quotes an unsubscription without changing anything: {"quote_id", "computed_at",
        "type", "refundable", "total_refund_fen", "review_required", "five_day_quota",
        "resources": [{"resource_id", "resource_ids", "class", "reason", "refund_fen",
        "periods", ...}]}."""
        return self.call("billing_refund_quote", _read_request(
            account_id=account_id, resource_ids=list(resource_ids), type=type,
            fallback_expiry=fallback_expiry))

    def resources_unsubscribe(self, actor: str, account_id: str, resource_ids: Sequence[str],
                              type: Optional[str] = None, fallback_expiry: Optional[str] = None,
                              quote_id: Optional[str] = None, reason_type: Optional[str] = None,
                              reason: Optional[str] = None,
                              idempotency_key: Optional[str] = None) -> Response:
        """Unsubscribes, all or nothing: {"order" (UNSUBSCRIBE: COMPLETED, or PENDING_REVIEW
        above the large-refund threshold), "quote"}. With `quote_id` it is refused as
        "quote_stale" unless the execution reproduces that quote exactly."""
        return self.call("billing_resources_unsubscribe", _write_request(
            actor, idempotency_key, account_id=account_id, resource_ids=list(resource_ids),
            type=type, fallback_expiry=fallback_expiry, quote_id=quote_id,
            reason_type=reason_type, reason=reason))

    def unsubscriptions(self, account_id: str, after: Optional[Cursor] = None,
                        limit: Optional[int] = None, **filters: Any) -> Response:
        """One page of the unsubscription page's list: the account's live resources, newest
        purchase first, each with the class and reason a quote of it alone gives:
        {"resources": [{..., "resource_ids", "class", "reason", "message", "refund_fen"}],
        "next_cursor", "has_more", "counts"?}. `filters`: type ("RESOURCE"|"RENEWAL_ONLY"),
        class (one of, or a list of, "REFUNDABLE", "NOT_ALLOWED", "FIVE_DAY",
        "NON_FIVE_DAY", "RENEWAL_ONLY", "INACTIVE"), resource_ids, product_type,
        with_counts (None = absent); `class` is a Python keyword, so class_ is accepted for
        it. With a class filter a page may be short while has_more is true."""
        filters = dict(filters)
        if "class_" in filters:
            if filters.get("class") is not None:
                raise TypeError("give either class_ or class, not both")
            filters["class"] = filters.pop("class_")
        return self.call("billing_unsubscriptions_list", _read_request(
            account_id=account_id, after=after, limit=limit, **filters))

    def iter_unsubscriptions(self, account_id: str, after: Optional[Cursor] = None,
                             limit: Optional[int] = None, **filters: Any) -> Iterator[Response]:
        """Yields every matching row of the unsubscription list, following next_cursor."""
        return self._iterate_pages(
            lambda cursor: self.unsubscriptions(account_id, after=cursor, limit=limit, **filters),
            "resources", after)

    def refund_blocks_set(self, actor: str, account_id: str, resource_id: str,
                          blocks: Sequence[str], idempotency_key: Optional[str] = None) -> Response:
        """Replaces the host's refund blocks on a resource: `blocks` is a list of
        "INVOICED_MARKETPLACE", "ARCHIVED", "SUPPORT_BENEFIT_USED" ([] clears them)."""
        return self.call("billing_resource_refund_blocks_set", _write_request(
            actor, idempotency_key, account_id=account_id, resource_id=resource_id,
            blocks=list(blocks)))

    # -- pay-per-use usage and packages -------------------------------------------------

    def resources_delete(self, actor: str, account_id: str, resource_ids: Sequence[str],
                         idempotency_key: Optional[str] = None) -> Response:
        """Tells the engine the host deleted pay-per-use resources now: they become DELETED,
        usage up to now is still rated, later usage is refused ("resource_deleted").
        Returns {"resources"}."""
        return self.call("billing_resources_delete", _write_request(
            actor, idempotency_key, account_id=account_id, resource_ids=list(resource_ids)))

    def usage_report(self, actor: str, account_id: str, records: Sequence[Mapping[str, Any]],
                     idempotency_key: Optional[str] = None) -> Response:
        """Rates usage records, a list of {"usage_id", "resource_id", "quantity", "start",
        "end"} (1–1000): {"results": [{"usage_id", "status": "RATED"|"DUPLICATE",
        "lines"}], "charged_fen", "account"}."""
        return self.call("billing_usage_report", _write_request(
            actor, idempotency_key, account_id=account_id, records=list(records)))

    @staticmethod
    def _usage_filters(filters: Mapping[str, Any]) -> Dict[str, Any]:
        # "from" is a Python keyword: accept from_ as well as **{"from": ...}.
        filters = dict(filters)
        if "from_" in filters:
            if filters.get("from") is not None:
                raise TypeError("give either from_ or from, not both")
            filters["from"] = filters.pop("from_")
        return filters

    def usage(self, account_id: str, resource_id: Optional[str] = None, **filters: Any) -> Response:
        """One page of settled hourly usage lines, newest first: {"lines": [{"resource_id",
        "hour_start", "unit", "units", "covered", "overage", "price_microfen",
        "charged_fen", "paid_by"}], "next_cursor", "has_more"}. `filters`: from_ (or
        "from"), to, after, limit (None = absent)."""
        return self.call("billing_usage_list", _read_request(
            account_id=account_id, resource_id=resource_id, **self._usage_filters(filters)))

    def iter_usage(self, account_id: str, resource_id: Optional[str] = None,
                   after: Optional[Cursor] = None, limit: Optional[int] = None,
                   **filters: Any) -> Iterator[Response]:
        """Yields every matching usage line, newest first, following next_cursor."""
        filters = self._usage_filters(filters)
        return self._iterate_pages(
            lambda cursor: self.usage(account_id, resource_id, after=cursor, limit=limit,
                                      **filters), "lines", after)

    def packages(self, account_id: str, after: Optional[Cursor] = None,
                 limit: Optional[int] = None) -> Response:
        """One page of the account's packages in purchase order: {"packages": [{resource
        fields, "kind", "quota", "applies_to", "window_start", "used"}], "next_cursor",
        "has_more"} (timed quotas in unit-seconds; limit 1–1000, default 100)."""
        return self.call("billing_packages_list", _read_request(
            account_id=account_id, after=after, limit=limit))

    def iter_packages(self, account_id: str, after: Optional[Cursor] = None,
                      limit: Optional[int] = None) -> Iterator[Response]:
        """Yields every package of the account in purchase order, following next_cursor."""
        return self._iterate_pages(
            lambda cursor: self.packages(account_id, after=cursor, limit=limit), "packages", after)

    # -- exports ----------------------------------------------------------------------

    def export_request(self, actor: str, account_id: str, kind: str,
                       filter: Optional[Mapping[str, Any]] = None,
                       order_ids: Optional[Sequence[str]] = None, language: Optional[str] = None,
                       idempotency_key: Optional[str] = None) -> Response:
        """Requests an export ("ORDERS", "PENDING_ORDERS", "RENEWALS", "RENEWAL_PRICES"):
        {"export": {"export_id", "status": "GENERATING", "rows_expected", ...}}."""
        return self.call("billing_export_request", _write_request(
            actor, idempotency_key, account_id=account_id, kind=kind, filter=filter,
            order_ids=order_ids, language=language))

    def export_step(self, actor: str, account_id: str, export_id: str,
                    max_rows: Optional[int] = None,
                    idempotency_key: Optional[str] = None) -> Response:
        """Writes the next rows of an export now: {"export"} with its progress."""
        return self.call("billing_export_step", _write_request(
            actor, idempotency_key, account_id=account_id, export_id=export_id,
            max_rows=max_rows))

    def export_download(self, account_id: str, export_id: str,
                        mode: Optional[str] = None) -> Response:
        """A READY export's file: {"export", "path"} (default) or, with mode="BYTES",
        {"export", "content_base64"}."""
        return self.call("billing_export_download", _read_request(
            account_id=account_id, export_id=export_id, mode=mode))

    def exports(self, account_id: str, after: Optional[Cursor] = None,
                limit: Optional[int] = None) -> Response:
        """One page of the account's export records, newest first."""
        return self.call("billing_exports_list", _read_request(
            account_id=account_id, after=after, limit=limit))

    # -- verification -----------------------------------------------------------------

    def verify(self, request: Request = None, *, audit_head: Optional[Dict[str, Any]] = None) -> Response:
        """Recomputes the invariants from the stored facts: {"ok", "integrity", "checked",
        "breaches"}. `request` may name {"integrity": "QUICK" (default) | "FULL" | "NONE"};
        `audit_head` is a head kept from `audit_head()` that the chain must still reach."""
        if audit_head is not None:
            if request is None:
                request = {}
            if not isinstance(request, dict):
                raise TypeError("audit_head needs the request as a dict")
            request = {**request, "audit_head": audit_head}
        return self.call("billing_verify", request)

    # -- backup -----------------------------------------------------------------------

    def backup(self, destination: StrPath) -> Response:
        """Writes an online, consistent copy of the database to `destination`, an absolute
        path that must not exist yet (a backup never overwrites): {"backup": {"destination",
        "bytes", "taken_at"}}. Raises Conflict ("destination_exists"), InvalidArgument
        ("destination_not_absolute") or StorageError ("backup_failed")."""
        return self.call("billing_engine_backup", {"destination": os.fspath(destination)})

    def copy(self, destination: StrPath) -> Response:
        """Copies the database, one read snapshot of it, into another, empty database: a path
        or a PostgreSQL connection string, as `Engine` opens (how a portal moves from its
        SQLite file to PostgreSQL). Every row goes in as stored, in one transaction:
        {"copy": {"destination", "taken_at", "rows", "tables": {table: rows}}}. Open the copy
        with the same audit key and `verify()` it. Raises Conflict ("destination_not_empty"),
        Refused ("copy_version_mismatch", "copy_foreign_value"), InvalidArgument
        ("destination_not_absolute"), SchemaError or StorageError ("cannot_open")."""
        return self.call("billing_engine_copy", {"destination": os.fspath(destination)})

    # -- names of the C functions -------------------------------------------------------
    #
    # The methods above use short names where the C name repeats its noun; these aliases
    # carry the C names, so code can be written from billing.h directly.
    account_topup = topup
    platform_login = login
    platform_accounts_list = platform_accounts
    platform_reset_request = password_reset_request
    platform_reset_complete = password_reset_complete
    order_quote = quote
    resource_refund_blocks_set = refund_blocks_set
    resources_list = resources
    config_get = config
    config_update = update_config
    events_list = events
    audit_list = audit
