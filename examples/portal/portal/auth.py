"""Sign-in and registration: eligibility (E1–E4, every failing check shown), application,
activation with the link the operator page shows (no mail is sent), login by phone, e-mail or
user name with the library's throttle, and password reset."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for

from billing import errors

from . import backend, formatting, mailbox
from . import business_zone, error_message, idempotency_key, t

blueprint = Blueprint("auth", __name__)


@blueprint.route("/")
def home():
    if session.get("account_id"):
        return redirect(url_for("customer.pending_orders"))
    return redirect(url_for("auth.login"))


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    message = None
    if request.method == "POST":
        identifier = request.form.get("identifier", "").strip()
        password = request.form.get("password", "")
        try:
            result = backend.engine().login(identifier, password)
        except errors.AuthError as error:
            if error.reason == "login_throttled" or error.retry_after:
                at = formatting.local_time(error.retry_after, business_zone(), with_seconds=True)
                message = t("login_throttled", at=at)
            else:
                message = t("login_failed")
        except errors.InvalidArgument as error:
            message = error_message(error)
        else:
            lang = session.get("lang")
            session.clear()  # a new session on login (no fixation)
            if lang:
                session["lang"] = lang
            session["account_id"] = result["account_id"]
            session["user_name"] = result["platform_account"]["user_name"]
            return redirect(url_for("customer.pending_orders"))
    return render_template("login.html", message=message), (200 if message is None else 401)


@blueprint.route("/logout", methods=["POST"])
def logout():
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"))


@blueprint.route("/register", methods=["GET", "POST"])
def register():
    account_id = (request.values.get("account_id") or "").strip()
    eligibility, message, done = None, None, False
    if account_id:
        try:
            eligibility = backend.engine().platform_eligibility(account_id)
        except errors.BillingError as error:
            message = error_message(error)
    if request.method == "POST" and eligibility and eligibility["eligible"]:
        form = request.form
        try:
            backend.engine().platform_apply(
                "portal", account_id, form.get("user_name", "").strip(), form.get("email", "").strip(),
                form.get("phone", "").strip(), contact_name=form.get("contact_name", "").strip() or None,
                idempotency_key=idempotency_key("apply"))
            done = True
        except errors.BillingError as error:
            message = error_message(error)
    return render_template("register.html", account_id=account_id, eligibility=eligibility,
                           message=message, done=done), (400 if message else 200)


def password_form(purpose: str, set_password):
    """The page that sets a password from a single-use link's token (activation or reset):
    `set_password(actor, token, password)` is the library call."""
    token = request.values.get("token", "")
    message = None
    if request.method == "POST":
        try:
            set_password("portal", token, request.form.get("password", ""))
            return render_template("message.html", message=t("activated"), link=url_for("auth.login"))
        except errors.BillingError as error:
            message = error_message(error)
    return render_template("activate.html", token=token, message=message, purpose=purpose)


@blueprint.route("/activate", methods=["GET", "POST"])
def activate():
    return password_form("activate", backend.engine().platform_activate)


@blueprint.route("/reset", methods=["GET", "POST"])
def reset_request():
    if request.method == "POST":
        identifier = request.form.get("identifier", "").strip()
        try:
            result = backend.engine().password_reset_request("portal", identifier)
            if result.get("reset_token"):
                # The host delivers it through the channel; the demo's mailbox shows it to the
                # operator, never to the person who asked.
                mailbox.post(result.get("channel") or "email", identifier,
                             url_for("auth.reset_complete", token=result["reset_token"], _external=True))
        except errors.BillingError:
            pass  # the same answer either way: nothing tells whether the identifier exists
        return render_template("message.html", message=t("reset_sent"))
    return render_template("reset.html")


@blueprint.route("/reset/complete", methods=["GET", "POST"])
def reset_complete():
    return password_form("reset", backend.engine().password_reset_complete)
