"""The operator page (its own login): what the host's other systems would do — create
customer accounts from KYC data, approve applications (the activation link goes to the demo
mailbox shown here, since no mail is sent), top up, issue coupons, publish products, and in
demo mode move the shared manual clock and run the scheduler."""

from __future__ import annotations

import functools
import hmac
import json
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from billing import errors

from . import backend, formatting, mailbox
from . import business_zone, error_message, idempotency_key, t

blueprint = Blueprint("operator", __name__, url_prefix="/operator")
APPLICATION_TABS = ["SUBMITTED", "APPROVED_PENDING_PASSWORD", "ACTIVE", "REJECTED"]


def operator_page(view):
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not session.get("operator"):
            return redirect(url_for("operator.login"))
        return view(*args, **kwargs)
    return wrapped


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    message = None
    if request.method == "POST":
        user_ok = hmac.compare_digest(request.form.get("user", ""), current_app.config["OPERATOR_USER"])
        password_ok = hmac.compare_digest(request.form.get("password", ""), current_app.config["OPERATOR_PASSWORD"])
        if user_ok and password_ok:
            lang = session.get("lang")
            session.clear()
            if lang:
                session["lang"] = lang
            session["operator"] = True
            return redirect(url_for("operator.dashboard"))
        message = t("operator_bad_login")
    return render_template("operator_login.html", message=message), (401 if message else 200)


@blueprint.route("/logout", methods=["POST"])
def logout():
    session.pop("operator", None)
    return redirect(url_for("operator.login"))


@blueprint.route("/")
@operator_page
def dashboard():
    tab = request.args.get("status", "SUBMITTED")
    if tab not in APPLICATION_TABS:
        tab = "SUBMITTED"
    applications = backend.engine().platform_accounts(status=tab, after=request.args.get("after") or None, limit=10)
    return render_template("operator.html", applications=applications, tab=tab, tabs=APPLICATION_TABS,
                           mail=mailbox.latest(), message=request.args.get("message"),
                           error=request.args.get("error"))


def done(message: str = "", error: bool = False):
    return redirect(url_for("operator.dashboard", **({"error": message} if error else {"message": message or t("done")})))


def attempt(action):
    try:
        return action()
    except ValueError:
        return done(t("bad_amount"), error=True)
    except errors.BillingError as failure:
        return done(error_message(failure), error=True)


@blueprint.route("/customers", methods=["POST"])
@operator_page
def create_customer():
    form = request.form

    def action():
        backend.engine().account_put(
            "operator", form.get("account_id", "").strip(), type=form.get("type", "ENTERPRISE"),
            realname_verified=form.get("realname_verified") == "1", level=form.get("level", "V3"),
            restricted=form.get("restricted") == "1", idempotency_key=idempotency_key("kyc"))
        return done()
    return attempt(action)


@blueprint.route("/applications/<platform_id>/approve", methods=["POST"])
@operator_page
def approve(platform_id: str):
    def action():
        result = backend.engine().platform_approve("operator", platform_id, idempotency_key=idempotency_key("approve"))
        if result.get("password_set_token"):
            mailbox.post("email", result["platform_account"]["email"],
                         url_for("auth.activate", token=result["password_set_token"], _external=True))
        return done()
    return attempt(action)


@blueprint.route("/applications/<platform_id>/reject", methods=["POST"])
@operator_page
def reject(platform_id: str):
    return attempt(lambda: (backend.engine().platform_reject(
        "operator", platform_id, request.form.get("reason") or "rejected",
        idempotency_key=idempotency_key("reject")), done())[1])


@blueprint.route("/topup", methods=["POST"])
@operator_page
def topup():
    def action():
        fen = formatting.parse_yuan(request.form.get("amount", ""))
        backend.engine().topup("operator", request.form.get("account_id", "").strip(), fen,
                               request.form.get("reference", "").strip() or idempotency_key("topup"))
        return done()
    return attempt(action)


@blueprint.route("/coupons", methods=["POST"])
@operator_page
def issue_coupon():
    def action():
        engine = backend.engine()
        fen = formatting.parse_yuan(request.form.get("amount", ""))
        days = int(request.form.get("days", "30"))
        if not 1 <= days <= 3650:
            raise ValueError("days")
        now = engine.now()
        engine.coupon_issue("operator", request.form.get("account_id", "").strip(), request.form.get("kind", "VOUCHER"),
                            now, now + days * 86400, face_value_fen=fen, idempotency_key=idempotency_key("coupon"))
        return done()
    return attempt(action)


@blueprint.route("/products", methods=["POST"])
@operator_page
def publish_product():
    def action():
        try:
            product = json.loads(request.form.get("product", ""))
        except json.JSONDecodeError:
            return done(t("bad_input") + "JSON", error=True)
        if not isinstance(product, dict):
            return done(t("bad_input") + "JSON", error=True)
        backend.engine().product_put("operator", product, idempotency_key=idempotency_key("product"))
        return done()
    return attempt(action)


@blueprint.route("/clock", methods=["POST"])
@operator_page
def clock():
    if not backend.demo_mode():
        return done("not in demo mode", error=True)
    try:
        days = int(request.form.get("days", "0") or 0)
        hours = int(request.form.get("hours", "0") or 0)
        if days < 0 or hours < 0 or days > 3650:
            raise ValueError
    except ValueError:
        return done(t("bad_input") + t("demo_clock"), error=True)
    backend.move_demo_clock(days * 86400 + hours * 3600)
    totals = backend.run_scheduler("operator-clock")
    return done(f"{t('done')} · {formatting.local_time(backend.engine().now(), business_zone())} · scheduler {totals}")


@blueprint.route("/scheduler", methods=["POST"])
@operator_page
def scheduler():
    totals = backend.run_scheduler("operator")
    return done(f"{t('done')} · scheduler {totals}")
