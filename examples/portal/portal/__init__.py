"""The billing center of the platform guide as a server-rendered Flask application on the
`billing` package (examples/python), the way a portal team embeds libbilling.

Configuration (environment):
  PORTAL_DB                 the SQLite file (created on first start)
  PORTAL_DEMO               "1": manual clock shared by the workers, demo data, operator clock
  PORTAL_SECRET_KEY         signs the session cookies; else a random key kept beside the DB
  PORTAL_OPERATOR_USER / PORTAL_OPERATOR_PASSWORD   the operator page's login
  PORTAL_SCHEDULER_SECONDS  how often gunicorn's master runs `billingctl scheduler-run`
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from typing import Any

from flask import Flask, abort, g, render_template, request, session

from billing import errors

from . import backend, formatting, labels

SESSION_USED_FORMS = 50


def secret_key(db_path: str) -> bytes:
    configured = os.environ.get("PORTAL_SECRET_KEY")
    if configured:
        return configured.encode()
    # Shared by every worker: written once (by the master's on_starting hook or the first
    # process), read by all.
    path = db_path + ".secret"
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        key = secrets.token_hex(32).encode()
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as f:
            f.write(key)
        return key


def create_app() -> Flask:
    db_path = os.path.abspath(os.environ.get("PORTAL_DB", "portal.sqlite"))
    backend.configure(db_path, demo=os.environ.get("PORTAL_DEMO", "1") == "1")
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key(db_path),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        OPERATOR_USER=os.environ.get("PORTAL_OPERATOR_USER", "operator"),
        OPERATOR_PASSWORD=os.environ.get("PORTAL_OPERATOR_PASSWORD", "Operator-Demo-1"),
    )

    @app.before_request
    def language_and_csrf() -> Any:
        chosen = request.args.get("lang")
        if chosen in labels.LANGUAGES:
            session["lang"] = chosen
        g.lang = session.get("lang", "zh")
        if request.method == "POST" and not check_form_token(request.form.get("csrf_token", "")):
            return render_template("message.html", message=t("form_expired"), error=True), 400
        return None

    @app.context_processor
    def helpers() -> dict:
        zone = business_zone()
        return {
            "t": t, "code": lambda value: labels.code(value, g.lang),
            "period_label": lambda value: labels.period(value, g.lang),
            "yuan": formatting.yuan, "when": lambda instant: formatting.local_time(instant, zone),
            "when_s": lambda instant: formatting.local_time(instant, zone, with_seconds=True),
            "csrf_token": form_token, "lang": g.get("lang", "zh"), "demo": backend.demo_mode(),
            "now": backend.engine().now(), "customer": session.get("account_id"),
            "operator_session": session.get("operator"),
            "with_args": with_args,
        }

    @app.errorhandler(404)
    def not_found(_: Any) -> Any:
        return render_template("message.html", message=t("not_found"), error=True), 404

    @app.errorhandler(errors.NotFound)
    def library_not_found(_: Any) -> Any:
        # Another account's order/resource/export id is "not found" in the library: a 404.
        return render_template("message.html", message=t("not_found"), error=True), 404

    from . import auth, customer, operator
    app.register_blueprint(auth.blueprint)
    app.register_blueprint(customer.blueprint)
    app.register_blueprint(operator.blueprint)
    return app


def t(key: str, **values: Any) -> str:
    return labels.text(key, g.get("lang", "zh"), **values)


def business_zone():
    if "zone" not in g:
        g.zone = formatting.parse_offset(backend.engine().config().get("business_utc_offset", "+08:00"))
    return g.zone


def with_args(**changes: Any) -> str:
    """The current URL with some query arguments changed (None removes one)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [value]
    from urllib.parse import urlencode
    query = urlencode([(k, v) for k, vs in args.items() for v in vs])
    return request.path + ("?" + query if query else "")


# -- CSRF: a token per rendered form, bound to the session, accepted once ----------------

def _session_secret() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_hex(16)
    return session["csrf"]


def form_token() -> str:
    nonce = secrets.token_urlsafe(12)
    mac = hmac.new(_session_secret().encode(), nonce.encode(), hashlib.sha256).hexdigest()[:24]
    return f"{nonce}.{mac}"


def check_form_token(token: str) -> bool:
    nonce, _, mac = token.partition(".")
    if not nonce or "csrf" not in session:
        return False
    expected = hmac.new(session["csrf"].encode(), nonce.encode(), hashlib.sha256).hexdigest()[:24]
    if not hmac.compare_digest(expected, mac):
        return False
    used = session.get("used_forms", [])
    if nonce in used:
        return False  # a form is submitted once: a reused (replayed) form is refused
    session["used_forms"] = (used + [nonce])[-SESSION_USED_FORMS:]
    g.form_nonce = nonce
    return True


def idempotency_key(purpose: str) -> str:
    """The submitted form's nonce as the library's idempotency key, so a request the browser
    resends (with its old cookie) does its work once."""
    return f"{purpose}-{g.get('form_nonce') or secrets.token_hex(8)}"


def error_message(error: errors.BillingError) -> str:
    return f"{t('bad_input')}{error.message} ({error.reason})"


def require_customer() -> str:
    account = session.get("account_id")
    if not account:
        abort(403)
    return account
