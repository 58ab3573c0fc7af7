"""Platform accounts: eligibility, application, approval, activation, login, the login
throttle and password reset, through Python against the real library.

Every test uses `fast_engine`, which sets the cheapest argon2id costs first.
"""

import json
import re
import threading

import pytest

import billing
from billing import errors
from helpers import DAY, START, audit_count, event_count, snapshot, sql_execute, sql_rows, sql_text, put_account as put

PASSWORD = "Correct-Horse-9"
HEX64 = re.compile(r"[0-9a-f]{64}")


def apply(engine, account_id="hw-1", user="alice", email="Alice@Example.COM",
          phone="138 0013 8000", **kw):
    response = engine.platform_apply("applicant", account_id, user, email, phone,
                                     contact_name="Alice", **kw)
    return response["platform_account"]["platform_account_id"]


def approve(engine, platform_account_id, **kw):
    return engine.platform_approve("approver", platform_account_id, **kw)["password_set_token"]


def active_account(engine, password=PASSWORD):
    """Applies, approves and activates for hw-1; returns the platform account id."""
    platform_id = apply(engine)
    engine.platform_activate("applicant", approve(engine, platform_id), password)
    return platform_id


@pytest.fixture
def engine1(fast_engine):
    """Fast hashing and an eligible account hw-1."""
    put(fast_engine, "hw-1")
    return fast_engine


def reason_of(call):
    with pytest.raises(errors.BillingError) as info:
        call()
    return info.value.reason


# -- eligibility and application ------------------------------------------------------

def test_eligible_account(engine1):
    report = engine1.platform_eligibility("hw-1")
    assert report["account_id"] == "hw-1"
    assert report["eligible"] is True
    assert [(c["check"], c["passed"]) for c in report["checks"]] == \
        [("E1", True), ("E2", True), ("E3", True), ("E4", True)]


def test_all_four_failing_checks_are_reported(fast_engine):
    engine = fast_engine
    put(engine, "p1", type="PERSONAL", realname=False, restricted=True)
    # E4 needs a live application: make p1 eligible, apply, then degrade it on every count.
    engine.account_put("h", "p1", type="ENTERPRISE", realname_verified=True, restricted=False)
    apply(engine, "p1", user="bob", email="bob@example.com", phone="+8613900139000")
    engine.account_put("h", "p1", type="PERSONAL", realname_verified=False, freeze="ARREARS")

    report = engine.platform_eligibility("p1")
    assert report["eligible"] is False
    failed = [c for c in report["checks"] if not c["passed"]]
    assert [c["check"] for c in failed] == ["E1", "E2", "E3", "E4"]
    codes = [c["code"] for c in failed]
    assert codes == ["not_enterprise", "not_realname_verified", "restricted_or_frozen",
                     "not_first_activation"]
    assert all(c["message"] for c in failed)

    before = snapshot(engine)
    with pytest.raises(errors.Refused) as info:
        engine.platform_apply("a", "p1", "carol", "c@example.com", "+8613700137000")
    assert info.value.reason == "not_eligible"
    for code in codes:
        assert code in info.value.message
    assert snapshot(engine) == before


@pytest.mark.parametrize("fields, code", [
    ({"type": "PERSONAL"}, "not_enterprise"),
    ({"realname": False}, "not_realname_verified"),
    ({"restricted": True}, "restricted_or_frozen"),
    ({"freeze": "POLICE"}, "restricted_or_frozen"),
])
def test_single_failing_check(fast_engine, fields, code):
    put(fast_engine, "a1", **fields)
    report = fast_engine.platform_eligibility("a1")
    assert report["eligible"] is False
    assert [c["code"] for c in report["checks"] if not c["passed"]] == [code]
    with pytest.raises(errors.Refused) as info:
        apply(fast_engine, "a1")
    assert info.value.reason == "not_eligible" and code in info.value.message


def test_identifiers_are_normalised_and_unique(engine1):
    engine = engine1
    put(engine, "hw-2")
    platform_id = apply(engine)
    stored = engine.platform_get(platform_id)["platform_account"]
    assert stored["email"] == "alice@example.com"
    assert stored["phone"] == "+8613800138000"
    assert stored["user_name"] == "alice"
    assert stored["status"] == "SUBMITTED"
    assert stored["account_id"] == "hw-1"
    assert "password_hash" not in stored
    assert [e["type"] for e in engine.iter_events(account_id="hw-1")][-1] == \
        "platform.application_submitted"

    before = snapshot(engine)
    for user, email, phone, reason in [
        ("alice", "other@example.com", "+8613911112222", "user_name_taken"),
        ("alice2", "ALICE@example.com", "+8613911112222", "email_taken"),
        ("alice3", "x@example.com", "+86 138-0013-8000", "phone_taken"),
        ("alice4", "y@example.com", "13800138000", "phone_taken"),
    ]:
        with pytest.raises(errors.Conflict) as info:
            apply(engine, "hw-2", user=user, email=email, phone=phone)
        assert info.value.reason == reason, (user, email, phone)
    for user, email, phone, reason in [
        ("1abc", "a@b.co", "+8613911112222", "invalid_user_name"),
        ("ab", "a@b.co", "+8613911112222", "invalid_user_name"),
        ("a" * 33, "a@b.co", "+8613911112222", "string_too_long"),
        ("bob", "not-an-email", "+8613911112222", "invalid_email"),
        ("bob", "a@@b.co", "+8613911112222", "invalid_email"),
        ("bob", "a@b.co", "12345", "invalid_phone"),
        ("bob", "a@b.co", "+86abc", "invalid_phone"),
    ]:
        with pytest.raises(errors.InvalidArgument) as info:
            apply(engine, "hw-2", user=user, email=email, phone=phone)
        assert info.value.reason == reason, (user, email, phone)
    assert snapshot(engine) == before

    # A rejected application frees its identifiers and lets the account apply again.
    rejected = engine.platform_reject("approver", platform_id, "incomplete form")
    assert rejected["platform_account"]["status"] == "REJECTED"
    assert rejected["platform_account"]["reject_reason"] == "incomplete form"
    assert engine.platform_eligibility("hw-1")["eligible"] is True
    again = apply(engine)
    assert again != platform_id
    assert engine.platform_get(platform_id)["platform_account"]["status"] == "REJECTED"


def test_unknown_platform_account(engine1):
    for call in (lambda: engine1.platform_get("PA999"),
                 lambda: engine1.platform_approve("x", "PA999"),
                 lambda: engine1.platform_reject("x", "PA999", "no"),
                 lambda: engine1.platform_resend_link("x", "PA999")):
        with pytest.raises(errors.NotFound):
            call()


# -- approval, activation and login ---------------------------------------------------

def test_approval_activation_and_login(engine1):
    engine = engine1
    platform_id = apply(engine)
    approval = engine.platform_approve("approver", platform_id, idempotency_key="approve-1")
    token = approval["password_set_token"]
    assert HEX64.fullmatch(token)
    assert approval["token_expires_at"] == START + DAY
    assert approval["platform_account"]["status"] == "APPROVED_PENDING_PASSWORD"

    # A replay returns the first result, but the token is only ever shown once.
    events = event_count(engine)
    replay = engine.platform_approve("approver", platform_id, idempotency_key="approve-1")
    assert replay["password_set_token"] is None
    assert replay["platform_account"] == approval["platform_account"]
    assert event_count(engine) == events
    with pytest.raises(errors.Refused) as info:
        engine.platform_approve("approver", platform_id)
    assert info.value.reason == "not_submitted"
    with pytest.raises(errors.Refused):
        engine.platform_reject("approver", platform_id, "too late")

    # Weak passwords are refused with the rule they break, and nothing changes.
    before = snapshot(engine)
    for password, reason in [
        ("short1A", "password_too_short"),
        ("alllowercase", "password_too_simple"),
        ("12345678901", "password_too_simple"),
        ("ALICE@example.com", "password_equals_identifier"),
        ("+8613800138000", "password_equals_identifier"),
        ("", "empty_string"),
        ("aB3" * 50, "password_too_long"),
    ]:
        with pytest.raises(errors.InvalidArgument) as info:
            engine.platform_activate("a", token, password)
        assert info.value.reason == reason, password
    assert snapshot(engine) == before
    with pytest.raises(errors.AuthError):
        engine.login("alice", PASSWORD)  # not active yet

    activated = engine.platform_activate("a", token, PASSWORD)["platform_account"]
    assert activated["status"] == "ACTIVE"
    assert activated["activated_at"] == START
    assert "password_hash" not in activated
    assert "password_hash" not in engine.platform_get(platform_id)["platform_account"]
    # The token is single-use.
    with pytest.raises(errors.BillingError) as info:
        engine.platform_activate("a", token, PASSWORD)
    assert info.value.reason == "token_used"

    # Login by user name, e-mail (any case) and phone (any format).
    for identifier in ["alice", "ALICE@example.com", "alice@EXAMPLE.com", "13800138000",
                       "+86 138 0013 8000", "138-0013-8000", "+8613800138000"]:
        login = engine.login(identifier, PASSWORD)
        assert login["platform_account"]["platform_account_id"] == platform_id, identifier
        assert login["account_id"] == "hw-1"
        assert "password_hash" not in login["platform_account"]

    # Unknown identifier and wrong password get the very same answer.
    with pytest.raises(errors.AuthError) as unknown:
        engine.login("nobody", PASSWORD)
    with pytest.raises(errors.AuthError) as wrong:
        engine.login("alice", "Wrong-Horse-9")
    assert unknown.value.code == wrong.value.code == errors.AuthError.code == 9
    assert unknown.value.reason == wrong.value.reason == "invalid_credentials"
    assert unknown.value.message == wrong.value.message
    assert errors.status_string(9) == "authentication failed"

    # Login takes no actor or idempotency key (billing.h says so), and refusing them counts
    # toward nothing.
    for extra in ({"idempotency_key": "k"}, {"actor": "portal"}):
        with pytest.raises(errors.InvalidArgument) as info:
            engine.call("platform_login", {"identifier": "alice", "password": "x", **extra})
        assert info.value.reason == "unknown_field"


def test_set_password_tokens_expire_and_can_be_reissued(engine1):
    engine = engine1
    platform_id = apply(engine)
    first = approve(engine, platform_id)
    engine.advance_clock(DAY - 1)
    still_valid_until = engine.now()
    assert still_valid_until < START + DAY
    engine.advance_clock(1)  # valid for exactly 24 h
    with pytest.raises(errors.BillingError) as info:
        engine.platform_activate("a", first, PASSWORD)
    assert info.value.reason == "token_expired"

    second = engine.platform_resend_link("ops", platform_id)
    assert second["token_expires_at"] == engine.now() + DAY
    third = engine.platform_resend_link("ops", platform_id)["password_set_token"]
    assert HEX64.fullmatch(second["password_set_token"]) and HEX64.fullmatch(third)
    assert len({first, second["password_set_token"], third}) == 3
    # Only the newest link works.
    for old in (first, second["password_set_token"]):
        with pytest.raises(errors.BillingError) as info:
            engine.platform_activate("a", old, PASSWORD)
        assert info.value.reason in ("token_used", "token_expired"), old
    with pytest.raises(errors.BillingError) as info:
        engine.platform_activate("a", second["password_set_token"], PASSWORD)
    assert info.value.reason == "token_used"
    with pytest.raises(errors.BillingError) as info:
        engine.platform_activate("a", "nonsense", PASSWORD)
    assert info.value.reason == "invalid_token"
    engine.platform_activate("a", third, PASSWORD)
    with pytest.raises(errors.Refused) as info:
        engine.platform_resend_link("ops", platform_id)
    assert info.value.reason == "not_awaiting_password"
    assert engine.login("alice", PASSWORD)["account_id"] == "hw-1"


def test_set_password_token_works_just_before_expiry(engine1):
    platform_id = apply(engine1)
    token = approve(engine1, platform_id)
    engine1.advance_clock(DAY - 1)
    assert engine1.platform_activate("a", token, PASSWORD)["platform_account"]["status"] == "ACTIVE"


def login_error(engine, identifier, password):
    with pytest.raises(errors.AuthError) as info:
        engine.login(identifier, password)
    return info.value


def answer(error):
    return error.code, error.reason, error.message, error.retry_after


def test_throttle_and_its_end(engine1):
    """Failures past the threshold make the next attempt wait, doubling up to the cap; the
    right password is refused during a wait and works once it ends (no lock)."""
    engine = engine1
    active_account(engine)
    engine.update_config({"login_throttle_after_failures": 3, "login_throttle_base_seconds": 10,
                          "login_throttle_max_seconds": 35}, "ops")
    for _ in range(2):
        assert reason_of(lambda: engine.login("alice", "bad-Password-1")) == "invalid_credentials"
    engine.login("alice", PASSWORD)  # a success in between resets the count
    for _ in range(2):
        assert login_error(engine, "alice", "bad-Password-1").retry_after is None
    # The third failure in a row starts a 10 s wait and says so.
    third = login_error(engine, "alice", "bad-Password-1")
    assert third.reason == "invalid_credentials" and third.retry_after == engine.now() + 10
    # During the wait even the right password is refused, the same way as a wrong one, by
    # the identifier that failed.
    right = login_error(engine, "alice", PASSWORD)
    wrong = login_error(engine, "alice", "bad-Password-1")
    assert right.reason == "login_throttled" and answer(right) == answer(wrong)
    assert right.retry_after == START + 10 and right.message.endswith(f"(retry_after {START + 10})")
    assert "2024-01-01T10:30:10+08:00" in right.message
    # Each further failure doubles the wait, up to login_throttle_max_seconds.
    waits = []
    for _ in range(4):
        engine.set_clock(login_error(engine, "alice", PASSWORD).retry_after)
        failure = login_error(engine, "alice", "bad-Password-1")
        assert failure.reason == "invalid_credentials"
        waits.append(failure.retry_after - engine.now())
    assert waits == [20, 35, 35, 35]
    # Refused attempts during a wait do not count, and a wait ends on time: the right
    # password then succeeds (a stranger cannot lock the owner out).
    until = login_error(engine, "alice", PASSWORD).retry_after
    engine.set_clock(until - 1)
    assert reason_of(lambda: engine.login("alice", PASSWORD)) == "login_throttled"
    engine.set_clock(until)
    assert engine.login("alice", PASSWORD)["account_id"] == "hw-1"
    # The success cleared the failures.
    assert login_error(engine, "alice", "bad-Password-1").retry_after is None
    throttled = [e for e in engine.iter_events(account_id="hw-1") if e["type"] == "platform.login_throttled"]
    assert len(throttled) == 1
    assert throttled[0]["data"] == {"identifier_kind": "USER_NAME", "failures": 3, "retry_after": START + 10}
    assert "locked_until" not in engine.platform_get(throttled[0]["subject_id"])["platform_account"]
    # Every attempt is audited, never with the password.
    attempts = [e for e in engine.iter_audit() if e["operation"] == "platform.login"]
    assert len(attempts) == 2 + 1 + 3 + 2 + 4 * 2 + 1 + 1 + 1 + 1
    assert not any(PASSWORD in str(e) or "bad-Password-1" in str(e) for e in attempts)


def test_unknown_identifiers_get_the_answers_of_known_ones(engine1):
    """Issue 13 item 5: six wrong passwords locked a known account while an unknown
    identifier kept answering invalid_credentials, which told who exists."""
    engine = engine1
    active_account(engine)
    pairs = [("alice", "nobody"), ("ALICE@example.com", "nobody@example.com"),
             ("138 0013 8000", "+86 139 0000 0000")]
    for _ in range(12):
        for known, unknown in pairs:
            assert answer(login_error(engine, known, "bad-Password-1")) == \
                answer(login_error(engine, unknown, "bad-Password-1")), (known, unknown)
        engine.advance_clock(7)
    # A wait is per identifier, as login normalises it, known or not.
    assert login_error(engine, "+8613800138000", PASSWORD).reason == "login_throttled"
    assert login_error(engine, "+8613900000000", PASSWORD).reason == "login_throttled"
    assert login_error(engine, "Nobody@Example.com", PASSWORD).reason == "login_throttled"
    # Text that is no identifier at all is answered alike too.
    for _ in range(6):
        assert answer(login_error(engine, "x", "bad-Password-1")) == \
            answer(login_error(engine, "not-a-user", "bad-Password-1"))


def test_throttle_rows_are_forgotten_and_purged(engine1, db_path):
    """Failures at identifiers nobody holds must not pile up: they are forgotten
    login_throttle_forget_seconds after their wait ended, and the scheduler deletes them."""
    engine = engine1
    active_account(engine)
    engine.update_config({"login_throttle_forget_seconds": 3600}, "ops")
    for number in range(25):
        for _ in range(5):
            login_error(engine, f"stranger{number}", "bad-Password-1")
    login_error(engine, "alice", "bad-Password-1")
    assert sql_rows(db_path, "SELECT count(*) FROM login_throttles") == [(26,)]
    # Identifiers are kept only as digests.
    assert all(re.fullmatch(r"[0-9a-f]{64}", key) for (key,) in sql_rows(db_path, "SELECT key FROM login_throttles"))
    assert engine.scheduler_run("cron")["login_throttles_purged"] == 0
    engine.advance_clock(30 + 3600 - 1)
    assert engine.scheduler_run("cron")["login_throttles_purged"] == 1  # alice's, which had no wait
    engine.advance_clock(1)
    # Forgotten even before the scheduler deletes it: the count starts again.
    assert login_error(engine, "stranger0", "bad-Password-1").retry_after is None
    first = engine.scheduler_run("cron", limit=10)
    assert first["login_throttles_purged"] == 10 and first["has_more"] is True
    rest = engine.scheduler_run("cron")
    assert rest["login_throttles_purged"] == 14 and rest["has_more"] is False
    assert sql_rows(db_path, "SELECT count(*) FROM login_throttles") == [(1,)]


def test_throttle_configuration_replaces_the_lock(engine1, db_path):
    engine = engine1
    configuration = engine.config()
    assert {k: v for k, v in configuration.items() if k.startswith("login_")} == {
        "login_throttle_after_failures": 5, "login_throttle_base_seconds": 30,
        "login_throttle_max_seconds": 900, "login_throttle_forget_seconds": 86400}
    for old in ("login_max_failures", "login_lockout_seconds"):
        with pytest.raises(errors.InvalidArgument) as info:
            engine.update_config({old: 3}, "ops")
        assert info.value.reason == "unknown_field"
    for key, value in [("login_throttle_after_failures", 0), ("login_throttle_base_seconds", 0),
                       ("login_throttle_max_seconds", 0), ("login_throttle_forget_seconds", 59)]:
        with pytest.raises(errors.InvalidArgument) as info:
            engine.update_config({key: value}, "ops")
        assert info.value.reason == "out_of_range", key
    # A configuration stored by 0.1.0 is read under the new names.
    ((document,),) = sql_rows(db_path, "SELECT document FROM config WHERE id = 1")
    stored = json.loads(document)
    for key in list(stored):
        if key.startswith("login_"):
            del stored[key]
    stored.update(login_max_failures=3, login_lockout_seconds=600)
    sql_execute(db_path, f"UPDATE config SET document = {sql_text(json.dumps(stored))}, revision = revision + 1 WHERE id = 1")
    with billing.Engine(db_path, clock="manual", now=START) as reopened:
        configuration = reopened.config()
        assert configuration["login_throttle_after_failures"] == 3
        assert configuration["login_throttle_max_seconds"] == 600
        assert configuration["login_throttle_base_seconds"] == 30
        assert "login_max_failures" not in configuration and "login_lockout_seconds" not in configuration


def test_password_reset_by_every_channel(engine1):
    engine = engine1
    active_account(engine)
    password = PASSWORD
    for number, (identifier, channel) in enumerate([
            ("alice@example.com", "EMAIL"), ("ALICE@Example.com", "EMAIL"),
            ("+8613800138000", "PHONE"), ("138 0013 8000", "PHONE"), ("alice", "USER_NAME")]):
        request = engine.password_reset_request("user", identifier)
        assert request["channel"] == channel, identifier
        assert request["token_expires_at"] == engine.now() + DAY
        token = request["reset_token"]
        assert HEX64.fullmatch(token)
        new = f"New-Secret-{channel}-{number}"
        done = engine.password_reset_complete("user", token, new)
        assert done["platform_account"]["status"] == "ACTIVE"
        assert reason_of(lambda: engine.login("alice", password)) == "invalid_credentials"
        engine.login("alice", new)
        assert reason_of(lambda: engine.password_reset_complete("user", token, "Another-One-2")) == \
            "token_used"
        password = new

    # A newer reset token replaces an older one; reset tokens expire after 24 h.
    older = engine.password_reset_request("user", "alice")["reset_token"]
    newer = engine.password_reset_request("user", "alice")["reset_token"]
    assert reason_of(lambda: engine.password_reset_complete("user", older, "Another-One-2")) in \
        ("token_used", "token_expired")
    engine.advance_clock(DAY)
    assert reason_of(lambda: engine.password_reset_complete("user", newer, "Another-One-2")) == \
        "token_expired"
    # Weak passwords are refused for resets as well.
    fresh = engine.password_reset_request("user", "alice")["reset_token"]
    assert reason_of(lambda: engine.password_reset_complete("user", fresh, "alice")) in \
        ("password_too_short", "password_equals_identifier")
    engine.login("alice", password)


def test_reset_ends_a_wait(engine1):
    engine = engine1
    active_account(engine)
    for identifier in ("alice", "alice@example.com", "13800138000"):
        for _ in range(5):  # the default login_throttle_after_failures
            login_error(engine, identifier, "bad-Password-1")
        assert reason_of(lambda: engine.login(identifier, PASSWORD)) == "login_throttled"
    token = engine.password_reset_request("user", "alice")["reset_token"]
    engine.password_reset_complete("user", token, "Fresh-Start-7")
    # Every identifier of the account may try again at once.
    for identifier in ("alice", "alice@example.com", "13800138000"):
        assert engine.login(identifier, "Fresh-Start-7")["account_id"] == "hw-1"


def test_reset_request_does_not_tell_who_exists(engine1):
    """Issue 13 item 5: a reset request for an unknown identifier answered "not found"."""
    engine = engine1
    active_account(engine)
    put(engine, "hw-2")
    apply(engine, "hw-2", user="bob", email="bob@example.com", phone="+8613900139000")  # not active
    for known, unknown, channel in [("alice@example.com", "nobody@example.com", "EMAIL"),
                                    ("bob@example.com", "nobody2@example.com", "EMAIL"),
                                    ("13800138000", "+86 139 1111 2222", "PHONE"),
                                    ("alice", "nobody", "USER_NAME"),
                                    ("bob", "nobody3", "USER_NAME")]:
        events, audits = event_count(engine), audit_count(engine)
        found = engine.password_reset_request("user", known)
        missing = engine.password_reset_request("user", unknown)
        assert found.keys() == missing.keys() == \
            {"schema_version", "platform_account", "channel", "reset_token", "token_expires_at"}
        assert found["channel"] == missing["channel"] == channel
        assert found["token_expires_at"] == missing["token_expires_at"] == engine.now() + DAY
        assert missing["platform_account"] is None and missing["reset_token"] is None
        if known.startswith("bob"):  # an application that is not active is nobody yet
            assert found == missing
            assert event_count(engine) == events
        else:
            assert found["platform_account"]["email"] == "alice@example.com"
            assert HEX64.fullmatch(found["reset_token"])
            assert event_count(engine) == events + 1
        assert audit_count(engine) == audits + 2
    # A replay of an unknown identifier's request returns its first answer.
    first = engine.password_reset_request("user", "ghost@example.com", idempotency_key="r-1")
    engine.advance_clock(5)
    assert engine.password_reset_request("user", "ghost@example.com", idempotency_key="r-1") == first
    # A malformed identifier is refused for what it is, whoever exists.
    with pytest.raises(errors.InvalidArgument) as info:
        engine.password_reset_request("user", "a@@b")
    assert info.value.reason == "invalid_email"


def test_mutations_are_idempotent(engine1):
    engine = engine1
    platform_id = apply(engine, idempotency_key="apply-1")
    assert apply(engine, idempotency_key="apply-1") == platform_id
    with pytest.raises(errors.Conflict) as info:
        apply(engine, user="alice2", idempotency_key="apply-1")
    assert info.value.reason == "idempotency_key_reused"
    token = approve(engine, platform_id)
    engine.platform_activate("a", token, PASSWORD)

    events = event_count(engine)
    reset = engine.password_reset_request("u", "alice", idempotency_key="reset-1")
    replay = engine.password_reset_request("u", "alice", idempotency_key="reset-1")
    assert replay["reset_token"] is None  # tokens are stored only as digests
    assert replay["channel"] == reset["channel"] == "USER_NAME"
    assert replay["token_expires_at"] == reset["token_expires_at"]
    assert event_count(engine) == events + 1
    # The replay issued no new token, so the first one still works.
    engine.password_reset_complete("u", reset["reset_token"], "Second-One-22")
    engine.login("alice", "Second-One-22")


# Retrying activate/reset_complete with the same idempotency key after it succeeded
# returns the first response (once refused with token_used; fixed in the library).

def test_activate_replay_returns_the_first_response(engine1):
    token = approve(engine1, apply(engine1))
    first = engine1.platform_activate("a", token, PASSWORD, idempotency_key="act-1")
    assert engine1.platform_activate("a", token, PASSWORD, idempotency_key="act-1") == first


def test_reset_complete_replay_returns_the_first_response(engine1):
    active_account(engine1)
    token = engine1.password_reset_request("u", "alice")["reset_token"]
    first = engine1.password_reset_complete("u", token, "Second-One-22", idempotency_key="done-1")
    assert engine1.password_reset_complete("u", token, "Second-One-22",
                                           idempotency_key="done-1") == first


# -- secrets at rest ------------------------------------------------------------------

@pytest.mark.sqlite_only("scans the bytes of the database file and its WAL")
def test_neither_passwords_nor_tokens_are_stored(engine1, db_path):
    engine = engine1
    platform_id = apply(engine)
    set_token = approve(engine, platform_id, idempotency_key="k-approve")
    password = "Plaintext-Canary-4711"
    engine.platform_activate("a", set_token, password, idempotency_key="k-activate")
    wrong = "Wrong-Canary-0815"
    with pytest.raises(errors.AuthError):
        engine.login("alice", wrong)
    reset_token = engine.password_reset_request("u", "alice", idempotency_key="k-reset")["reset_token"]
    new_password = "Second-Canary-9999"
    engine.password_reset_complete("u", reset_token, new_password, idempotency_key="k-complete")
    engine.login("alice", new_password)

    data = b""
    for suffix in ("", "-wal"):
        try:
            with open(db_path + suffix, "rb") as f:
                data += f.read()
        except FileNotFoundError:
            pass
    assert len(data) > 4096
    assert b"alice@example.com" in data  # the scan does see stored text
    for secret in (password, new_password, wrong, set_token, reset_token):
        for encoded in (secret.encode(), secret.encode("utf-16-le"), secret.upper().encode()):
            assert encoded not in data, f"{secret[:8]}... found in the database file"


# -- threads --------------------------------------------------------------------------

def test_logins_from_threads(engine1):
    engine = engine1
    active_account(engine)
    failures = []
    barrier = threading.Barrier(4)

    def work(identifier):
        try:
            barrier.wait()
            for _ in range(5):
                assert engine.login(identifier, PASSWORD)["account_id"] == "hw-1"
        except Exception as exc:  # pytest cannot see failures in threads
            failures.append(exc)

    pool = [threading.Thread(target=work, args=(i,))
            for i in ("alice", "ALICE@example.com", "13800138000", "+86 138 0013 8000")]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert failures == []


# -- the approver's queue and the wait as a field (issue 16: what the portal needed) ------

def test_platform_accounts_list_by_status_in_application_order(fast_engine):
    """billing_platform_accounts_list: the operator page's queue of applications, paged by
    cursor in application order, filtered by one status or several."""
    engine = fast_engine
    ids = []
    for n in range(5):
        put(engine, f"hw-{n}")
        ids.append(apply(engine, f"hw-{n}", f"user{n}", f"u{n}@example.com", f"1380013800{n}"))
    engine.platform_activate("applicant", approve(engine, ids[1]), PASSWORD)
    approve(engine, ids[2])
    engine.platform_reject("approver", ids[3], "incomplete")
    before = snapshot(engine)

    def listed(**kw):
        return [row["platform_account_id"] for row in engine.iter_platform_accounts(limit=2, **kw)]

    assert listed() == ids
    assert listed(status="SUBMITTED") == [ids[0], ids[4]]
    assert listed(status=["ACTIVE", "REJECTED"]) == [ids[1], ids[3]]
    assert listed(status="APPROVED_PENDING_PASSWORD", account_id="hw-2") == [ids[2]]
    assert listed(account_id="hw-0", status="ACTIVE") == []
    first = engine.platform_accounts(status="SUBMITTED", limit=1)
    assert first["has_more"] is True and len(first["platform_accounts"]) == 1
    row = first["platform_accounts"][0]
    assert row == engine.platform_get(ids[0])["platform_account"]
    assert "password_hash" not in json.dumps(first)
    # The C name works too, and so does billing_call.
    assert engine.platform_accounts_list(status="REJECTED")["platform_accounts"][0]["reject_reason"] == "incomplete"
    for request, reason in [({"status": []}, "empty_list"), ({"status": "LOCKED"}, "unknown_value"),
                            ({"after": "x"}, "invalid_cursor"), ({"limit": 0}, "out_of_range"),
                            ({"statuses": "ACTIVE"}, "unknown_field")]:
        with pytest.raises(errors.InvalidArgument) as info:
            engine.call("billing_platform_accounts_list", request)
        assert info.value.reason == reason, request
    assert snapshot(engine) == before  # a read changes nothing


def call_document(engine, function, request):
    """billing_call through ctypes: the one document it hands back."""
    import ctypes
    from billing import _native
    out = ctypes.c_void_p()
    _native.billing_call(engine._live_handle(), function.encode(), json.dumps(request).encode(),
                         ctypes.byref(out))
    return json.loads(_native.take_string(out.value))


def test_billing_call_gives_the_end_of_a_login_wait_as_a_field(engine1):
    """The portal shows when a throttled login may try again: billing_call's error document
    carries it as "retry_after" (the Python exception as AuthError.retry_after)."""
    engine = engine1
    active_account(engine)
    engine.update_config({"login_throttle_after_failures": 1, "login_throttle_base_seconds": 30}, "ops")
    reply = call_document(engine, "billing_platform_login", {"identifier": "alice", "password": "bad-Password-1"})
    assert reply["ok"] is False and reply["error"]["reason"] == "invalid_credentials"
    assert reply["error"]["retry_after"] == engine.now() + 30
    reply = call_document(engine, "billing_platform_login", {"identifier": "alice", "password": PASSWORD})
    assert reply["error"]["reason"] == "login_throttled" and reply["error"]["retry_after"] == START + 30
    assert reply["error"]["message"].endswith(f"(retry_after {START + 30})")
    assert login_error(engine, "alice", PASSWORD).retry_after == START + 30
    # Other errors carry no such field.
    reply = call_document(engine, "billing_platform_get", {"platform_account_id": "PA-none"})
    assert reply["ok"] is False and "retry_after" not in reply["error"]
