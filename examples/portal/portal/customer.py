"""The customer's pages of the billing center: buying, pending orders, my orders, renewals,
unsubscription, export records and the account. Every list is one page of the library's
list (cursor paging) with the tab counts the same call returns; nothing reads a whole list."""

from __future__ import annotations

import base64
import functools
from typing import Any, Dict, List, Optional

from flask import Blueprint, Response, abort, redirect, render_template, request, session, url_for

from billing import errors

from . import backend, formatting
from . import business_zone, error_message, idempotency_key, t

blueprint = Blueprint("customer", __name__)

PAGE = 10
ORDER_TABS = ["ALL", "PENDING_PAYMENT", "PENDING_REVIEW", "PROCESSING", "COMPLETED", "CANCELLED",
              "PENDING_CONFIRMATION"]
RENEWAL_TABS = ["MANUAL", "AUTO_RENEW", "TO_ON_DEMAND", "NO_RENEW"]
PRODUCT_TYPES = ["ECS", "EVS", "EIP", "OBS", "SSL"]
MAX_SELECTED = 30


def customer_page(view):
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not session.get("account_id"):
            return redirect(url_for("auth.login"))
        return view(session["account_id"], *args, **kwargs)
    return wrapped


def selected(name: str = "ids", maximum: int = MAX_SELECTED) -> List[str]:
    # A form posted to a URL with a query string carries its values twice: once each.
    values = list(dict.fromkeys(v for v in request.values.getlist(name) if v))
    if not values:
        raise UserError(t("select_something"))
    if len(values) > maximum:
        raise UserError(t("too_many", n=maximum))
    return values


class UserError(Exception):
    pass


def date_filter(name: str, end: bool = False) -> Optional[int]:
    try:
        return formatting.local_date_to_instant(request.args.get(name, ""), business_zone(), end_of_day=end)
    except ValueError:
        raise UserError(t("bad_input") + name)


def after_arg() -> Optional[str]:
    return request.args.get("after") or None


def provision(account: str, order: Dict[str, Any]) -> None:
    """The host's side of a payment: provision the new resources (the demo succeeds at once)
    and tell the engine, which starts their periods."""
    waiting = [r["resource_id"] for r in order.get("resources", []) if r.get("status") == "PENDING_PROVISION"]
    if waiting:
        backend.engine().resource_report("portal-provisioner", account,
                                         [{"resource_id": rid, "outcome": "SUCCEEDED"} for rid in waiting])


def request_export(account: str, kind: str, back: str, **request: Any):
    """Asks the library for an export of `kind` in the page's language and answers with a
    redirect: to the export records (small exports are written at once, larger ones are left
    to the scheduler), or back to the page `back` with the library's message."""
    engine = backend.engine()
    try:
        export = engine.export_request("portal", account, kind, language=session.get("lang", "zh"),
                                       idempotency_key=idempotency_key("export"), **request)["export"]
        for _ in range(3):
            if export["status"] != "GENERATING":
                break
            export = engine.export_step("portal", account, export["export_id"])["export"]
    except errors.BillingError as error:
        return redirect(url_for(back, message=error_message(error)))
    return redirect(url_for("customer.exports", message=t("export_requested")))


# -- buying ---------------------------------------------------------------------------------

@blueprint.route("/buy", methods=["GET", "POST"])
@customer_page
def buy(account: str):
    engine = backend.engine()
    products = engine.products(limit=50)["products"]
    items, quote, message = [], None, None
    for product in products:
        pid = product["product_id"]
        if request.values.get("p_" + pid):
            item: Dict[str, Any] = {"product_id": pid}
            if product["billing_mode"] in ("PREPAID", "PACKAGE"):
                unit = request.values.get("unit_" + pid, "MONTH")
                count = request.values.get("count_" + pid, "1")
                if unit not in ("MONTH", "YEAR") or not count.isdigit() or not 1 <= int(count) <= 9:
                    message = t("bad_input") + pid
                    break
                item["period"] = {"unit": unit, "count": int(count)}
            quantity = request.values.get("qty_" + pid, "1")
            if not quantity.isdigit() or not 1 <= int(quantity) <= 100:
                message = t("bad_input") + t("quantity")
                break
            item["quantity"] = int(quantity)
            items.append(item)
    if items and message is None:
        try:
            quote = engine.quote(account, items)
            if request.method == "POST":
                expected = int(request.form.get("expected_due", "-1"))
                created = engine.order_create("portal", account, items, expected_amount_due_fen=expected,
                                              idempotency_key=idempotency_key("buy"))
                return redirect(url_for("customer.pay", order_id=created["order"]["order_id"]))
        except errors.BillingError as error:
            message = t("price_changed") if error.reason == "price_changed" else error_message(error)
        except ValueError:
            message = t("bad_input")
    elif request.method == "POST" and message is None:
        message = t("select_something")
    return render_template("buy.html", products=products, quote=quote, message=message), (400 if message else 200)


# -- pending orders ----------------------------------------------------------------------------

def order_filters() -> Dict[str, Any]:
    filters: Dict[str, Any] = {}
    if request.args.get("order_id"):
        filters["order_id"] = request.args["order_id"].strip()
    if request.args.get("product_type") in PRODUCT_TYPES:
        filters["product_type"] = request.args["product_type"]
    created_from, created_to = date_filter("from"), date_filter("to", end=True)
    if created_from is not None:
        filters["created_from"] = created_from
    if created_to is not None:
        filters["created_to"] = created_to
    return filters


@blueprint.route("/orders/pending")
@customer_page
def pending_orders(account: str):
    message = request.args.get("message")
    try:
        filters = order_filters()
        # group_combined: a combined order is one row with its sub-orders, never cut by a page.
        page = backend.engine().orders(account, after=after_arg(), limit=PAGE, status="PENDING_PAYMENT",
                                       with_counts=True, group_combined=True, **filters)
    except (UserError, errors.InvalidArgument) as error:
        message = str(error) if isinstance(error, UserError) else error_message(error)
        page = backend.engine().orders(account, limit=PAGE, status="PENDING_PAYMENT", with_counts=True,
                                       group_combined=True)
    return render_template("pending_orders.html", page=page, message=message, product_types=PRODUCT_TYPES)


@blueprint.route("/orders/cancel", methods=["POST"])
@customer_page
def cancel_orders(account: str):
    try:
        ids = selected()
        results = backend.engine().orders_cancel("portal", account, ids, reason="customer",
                                                 idempotency_key=idempotency_key("cancel"))["results"]
    except UserError as error:
        return redirect(url_for("customer.pending_orders", message=str(error)))
    except errors.BillingError as error:
        return redirect(url_for("customer.pending_orders", message=error_message(error)))
    refused = [f"{r['order_id']}: {r.get('message') or r.get('reason')}" for r in results if not r["cancelled"]]
    return redirect(url_for("customer.pending_orders", message="; ".join(refused) or t("cancelled")))


@blueprint.route("/orders/export-selected", methods=["POST"])
@customer_page
def export_selected(account: str):
    try:
        ids = selected(maximum=1000)
    except UserError as error:
        return redirect(url_for("customer.pending_orders", message=str(error)))
    return request_export(account, "PENDING_ORDERS", "customer.pending_orders", order_ids=ids)


@blueprint.route("/orders/<order_id>/pay", methods=["GET", "POST"])
@customer_page
def pay(account: str, order_id: str):
    engine = backend.engine()
    order = engine.order_get(account, order_id)["order"]  # another account's id: 404
    coupon_ids = list(dict.fromkeys(c for c in request.values.getlist("coupon_ids") if c))
    message, quote = None, None
    try:
        quote = engine.order_pay_quote(account, order_id, coupon_ids=coupon_ids or None)
    except errors.NotFound:
        raise
    except errors.BillingError as error:
        message = error_message(error)
        if coupon_ids:  # show the order without the coupons that were refused
            try:
                quote = engine.order_pay_quote(account, order_id)
            except errors.BillingError:
                quote = None
    if request.method == "POST" and quote is not None and message is None:
        expected = request.form.get("expected_paid", "")
        if expected != str(quote["amounts"]["paid_amount_fen"]):
            message = t("price_changed")  # the quote the customer saw is stale: nothing paid
        elif not quote["payment"]["payable"]:
            message = f"{quote['payment']['message']} ({quote['payment']['reason']})"
        else:
            try:
                paid = engine.order_pay("portal", account, order_id, coupon_ids=coupon_ids or None,
                                        idempotency_key=idempotency_key("pay"))["order"]
                provision(account, paid)
                return redirect(url_for("customer.order_detail", order_id=order_id, message=t("pay_done")))
            except errors.BillingError as error:
                message = error_message(error)
    return render_template("pay.html", order=order, quote=quote, chosen=coupon_ids, message=message), \
        (400 if message else 200)


# -- my orders -------------------------------------------------------------------------------------

@blueprint.route("/orders")
@customer_page
def my_orders(account: str):
    tab = request.args.get("status", "ALL")
    if tab not in ORDER_TABS:
        tab = "ALL"
    message = request.args.get("message")
    try:
        filters = order_filters()
        if tab != "ALL":
            filters["status"] = tab
        page = backend.engine().orders(account, after=after_arg(), limit=PAGE, with_counts=True,
                                       group_combined=True, **filters)
    except (UserError, errors.InvalidArgument) as error:
        message = str(error) if isinstance(error, UserError) else error_message(error)
        page = backend.engine().orders(account, limit=PAGE, with_counts=True, group_combined=True)
    return render_template("my_orders.html", page=page, tab=tab, tabs=ORDER_TABS, message=message,
                           product_types=PRODUCT_TYPES)


@blueprint.route("/orders/export", methods=["POST"])
@customer_page
def export_orders(account: str):
    filters: Dict[str, Any] = {}
    for key in ("order_id", "product_type", "status"):
        value = request.form.get(key)
        if value and value != "ALL":
            filters[key] = value
    return request_export(account, "ORDERS", "customer.my_orders", filter=filters or None)


@blueprint.route("/orders/<order_id>")
@customer_page
def order_detail(account: str, order_id: str):
    order = backend.engine().order_get(account, order_id)["order"]
    return render_template("order_detail.html", order=order, message=request.args.get("message"))


# -- renewals ----------------------------------------------------------------------------------------

def renewal_filters() -> Dict[str, Any]:
    filters: Dict[str, Any] = {}
    expire_from, expire_to = date_filter("from"), date_filter("to", end=True)
    if expire_from is not None:
        filters["expire_from"] = expire_from
    if expire_to is not None:
        filters["expire_to"] = expire_to
    search = request.args.get("resource_id", "").replace(",", " ").split()
    if len(search) == 1:
        filters["resource_id"] = search[0]
    elif search:
        filters["resource_ids"] = search
    if request.args.get("order_id"):
        filters["order_id"] = request.args["order_id"].strip()
    return filters


@blueprint.route("/renewals")
@customer_page
def renewals(account: str):
    tab = request.args.get("tab", "MANUAL")
    if tab not in RENEWAL_TABS + ["ALL"]:
        tab = "MANUAL"
    message = request.args.get("message")
    engine = backend.engine()
    try:
        page = engine.renewals(account, tab, after=after_arg(), limit=PAGE, with_counts=True, **renewal_filters())
    except (UserError, errors.InvalidArgument) as error:
        message = str(error) if isinstance(error, UserError) else error_message(error)
        page = engine.renewals(account, tab, limit=PAGE, with_counts=True)
    settings = engine.account_get(account)["account"]
    return render_template("renewals.html", page=page, tab=tab, tabs=RENEWAL_TABS, message=message,
                           settings=settings)


def period_arg() -> Optional[Dict[str, Any]]:
    value = request.values.get("period", "")
    if not value:
        return None
    unit, _, count = value.partition(":")
    if unit not in ("MONTH", "YEAR") or not count.isdigit():
        raise UserError(t("bad_input") + t("period"))
    return {"unit": unit, "count": int(count)}


@blueprint.route("/renewals/renew", methods=["GET", "POST"])
@customer_page
def renew(account: str):
    engine = backend.engine()
    message, quote = None, None
    unified = request.values.get("unified") == "1"
    coupon_ids = list(dict.fromkeys(c for c in request.values.getlist("coupon_ids") if c))
    try:
        ids = selected(maximum=10)
        period = period_arg()
        quote = engine.renewal_quote(account, ids, period=period, unified_expiry=unified or None,
                                     coupon_ids=coupon_ids or None)
    except UserError as error:
        return redirect(url_for("customer.renewals", message=str(error)))
    except errors.NotFound:
        raise
    except errors.BillingError as error:
        return redirect(url_for("customer.renewals", message=error_message(error)))
    if request.method == "POST":
        if request.form.get("expected_paid") != str(quote["amounts"]["paid_amount_fen"]):
            message = t("price_changed")
        elif not quote["payment"]["payable"]:
            message = f"{quote['payment']['message']} ({quote['payment']['reason']})"
        else:
            try:
                result = engine.resources_renew("portal", account, ids, period=period, unified_expiry=unified or None,
                                                auto_pay=True, coupon_ids=coupon_ids or None,
                                                idempotency_key=idempotency_key("renew"))
                order_id = result["order"]["order_id"]
                if result.get("payment") and result["payment"].get("succeeded") is False:
                    return redirect(url_for("customer.pay", order_id=order_id))
                return redirect(url_for("customer.order_detail", order_id=order_id, message=t("pay_done")))
            except errors.BillingError as error:
                message = error_message(error)
    return render_template("renew.html", quote=quote, ids=ids, unified=unified, chosen=coupon_ids,
                           period=request.values.get("period", ""), message=message), (400 if message else 200)


@blueprint.route("/renewals/policy", methods=["POST"])
@customer_page
def set_policy(account: str):
    policy = request.form.get("policy")
    try:
        ids = selected(maximum=100)
        if policy not in RENEWAL_TABS:
            raise UserError(t("bad_input") + t("policy"))
        backend.engine().resources_policy_set("portal", account, ids, policy,
                                              idempotency_key=idempotency_key("policy"))
    except UserError as error:
        return redirect(url_for("customer.renewals", message=str(error)))
    except errors.NotFound:
        raise
    except errors.BillingError as error:
        return redirect(url_for("customer.renewals", message=error_message(error)))
    return redirect(url_for("customer.renewals", tab=policy, message=t("done")))


@blueprint.route("/renewals/release", methods=["POST"])
@customer_page
def release(account: str):
    try:
        backend.engine().resources_release("portal", account, selected(maximum=100),
                                           idempotency_key=idempotency_key("release"))
    except UserError as error:
        return redirect(url_for("customer.renewals", message=str(error)))
    except errors.NotFound:
        raise
    except errors.BillingError as error:
        return redirect(url_for("customer.renewals", message=error_message(error)))
    return redirect(url_for("customer.renewals", tab="ALL", message=t("done")))


@blueprint.route("/renewals/unified-day", methods=["POST"])
@customer_page
def unified_day(account: str):
    value = request.form.get("day", "")
    try:
        day = int(value)
        backend.engine().account_settings_update("portal", account, unified_expiry_day=day,
                                                 idempotency_key=idempotency_key("unified"))
    except ValueError:
        return redirect(url_for("customer.renewals", message=t("bad_input") + t("unified_expiry")))
    except errors.BillingError as error:
        return redirect(url_for("customer.renewals", message=error_message(error)))
    return redirect(url_for("customer.renewals", message=t("done")))


@blueprint.route("/renewals/export", methods=["POST"])
@customer_page
def export_renewals(account: str):
    tab = request.form.get("tab", "ALL")
    return request_export(account, "RENEWALS", "customer.renewals", filter={"tab": tab})


# -- unsubscription --------------------------------------------------------------------------------

@blueprint.route("/unsubscribe")
@customer_page
def unsubscribe(account: str):
    kind = request.args.get("type", "RESOURCE")
    if kind not in ("RESOURCE", "RENEWAL_ONLY"):
        kind = "RESOURCE"
    tab = request.args.get("class", "REFUNDABLE")
    if tab not in ("REFUNDABLE", "NOT_ALLOWED"):
        tab = "REFUNDABLE"
    page = backend.engine().unsubscriptions(account, after=after_arg(), limit=PAGE, type=kind, class_=tab,
                                            with_counts=True)
    return render_template("unsubscribe.html", page=page, kind=kind, tab=tab, message=request.args.get("message"))


@blueprint.route("/unsubscribe/quote", methods=["GET", "POST"])
@customer_page
def unsubscribe_quote(account: str):
    engine = backend.engine()
    kind = request.values.get("type", "RESOURCE")
    if kind not in ("RESOURCE", "RENEWAL_ONLY"):
        kind = "RESOURCE"
    try:
        ids = selected(maximum=100)
        quote = engine.refund_quote(account, ids, type=kind)
    except UserError as error:
        return redirect(url_for("customer.unsubscribe", message=str(error)))
    except errors.NotFound:
        raise
    except errors.BillingError as error:
        return redirect(url_for("customer.unsubscribe", message=error_message(error)))
    message = None
    if request.method == "POST":
        try:
            result = engine.resources_unsubscribe("portal", account, ids, type=kind,
                                                  quote_id=request.form.get("quote_id"),
                                                  reason_type=request.form.get("reason_type") or None,
                                                  reason=request.form.get("reason") or None,
                                                  idempotency_key=idempotency_key("unsubscribe"))
            return redirect(url_for("customer.order_detail", order_id=result["order"]["order_id"], message=t("done")))
        except errors.BillingError as error:
            message = t("price_changed") if error.reason == "quote_stale" else error_message(error)
    return render_template("unsubscribe_quote.html", quote=quote, ids=ids, kind=kind, message=message), \
        (400 if message else 200)


# -- export records -----------------------------------------------------------------------------------

@blueprint.route("/exports")
@customer_page
def exports(account: str):
    page = backend.engine().exports(account, after=after_arg(), limit=PAGE)
    return render_template("exports.html", page=page, message=request.args.get("message"))


@blueprint.route("/exports/<export_id>/download")
@customer_page
def download(account: str, export_id: str):
    try:
        result = backend.engine().export_download(account, export_id, mode="BYTES")
    except errors.Refused as error:
        return redirect(url_for("customer.exports", message=error_message(error)))
    data = base64.b64decode(result["content_base64"])
    name = result["export"].get("file_name") or f"{export_id}.csv"
    return Response(data, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# -- account ---------------------------------------------------------------------------------------------

# The account page's resource tabs: always the four (in use, grace, frozen, released),
# the other statuses when the account has resources in them.
RESOURCE_STATUSES = ["ALL", "IN_USE", "EXPIRED", "FROZEN", "RELEASED", "UNSUBSCRIBED", "DELETED", "PENDING_PROVISION",
                     "PENDING_EFFECTIVE", "PROVISION_FAILED"]
RESOURCE_TABS = {"ALL", "IN_USE", "EXPIRED", "FROZEN", "RELEASED"}


@blueprint.route("/account")
@customer_page
def account_page(account: str):
    engine = backend.engine()
    details = engine.account_get(account)["account"]
    coupons = engine.coupons(account, after=request.args.get("coupons_after") or None, limit=PAGE)
    ledger = engine.ledger(account, after=request.args.get("ledger_after") or None, limit=PAGE)
    # Every resource, ended ones included, one status tab at a time; the tab counts come from
    # the same call (one grouped read in the library).
    status = request.args.get("resource_status", "ALL")
    if status not in RESOURCE_STATUSES:
        status = "ALL"
    resources = engine.resources(account, after=request.args.get("resources_after") or None, limit=PAGE,
                                 status=None if status == "ALL" else status, with_counts=True)
    tabs = [s for s in RESOURCE_STATUSES if s in RESOURCE_TABS or resources["counts"].get(s) or s == status]
    return render_template("account.html", account=details, coupons=coupons, ledger=ledger, resources=resources,
                           resource_status=status, resource_tabs=tabs)
