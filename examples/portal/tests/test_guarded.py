"""The guarded paths: another account's ids are a 404, a reused form (CSRF) is refused, bad
amounts are a message on the page and change nothing, and a login that failed too often is
throttled with the instant it may try again."""

from __future__ import annotations

from helpers import click, press, body, by_id, css, fetch, go, login, message, operator_login, shot, type_into

from portal.demo import DEMO_PASSWORD

M1 = {"unit": "MONTH", "count": 1}


def other_account(portal):
    """hw-other, set up by the host's other systems: a pending order, an in-use resource."""
    with portal.engine() as engine:
        try:
            engine.account_get("hw-other")
        except Exception:
            engine.account_put("kyc", "hw-other", type="ENTERPRISE", realname_verified=True, level="V3")
            engine.topup("pay", "hw-other", 100_000, "other-1")
        pending = engine.order_create("shop", "hw-other", [{"product_id": "evs.100", "period": M1}])["order"]["order_id"]
        paid = engine.order_create("shop", "hw-other", [{"product_id": "evs.100", "period": M1}], auto_pay=True)["order"]
        resources = engine.order_get("hw-other", paid["order_id"])["order"]["resources"]
        engine.resource_report("host", "hw-other", [{"resource_id": r["resource_id"], "outcome": "SUCCEEDED"} for r in resources])
        export = engine.export_request("x", "hw-other", "ORDERS")["export"]["export_id"]
        return pending, resources[0]["resource_id"], export


def test_another_accounts_ids_are_not_found(browser, portal):
    pending, resource, export = other_account(portal)
    d = browser
    login(d, portal, "demo", DEMO_PASSWORD)
    for path in (f"/orders/{pending}", f"/orders/{pending}/pay", f"/renewals/renew?ids={resource}",
                 f"/unsubscribe/quote?ids={resource}", f"/exports/{export}/download"):
        status, data = fetch(d, portal.url + path)
        assert status == 404, path
        assert "页面不存在或无权访问" in data.decode(), path
    go(d, portal, f"/orders/{pending}")
    assert "页面不存在或无权访问" in body(d)
    shot(d, "not-found")
    # Nothing of hw-other's leaks into the lists either.
    go(d, portal, "/orders")
    assert pending not in body(d)


def test_a_reused_form_is_refused(browser, portal):
    d = browser
    login(d, portal, "demo", DEMO_PASSWORD)
    go(d, portal, "/renewals")
    token = css(d, "#unified-form input[name=csrf_token]")[0].get_attribute("value")
    press(d, "save-unified")
    assert "操作成功" in message(d)
    # The same form (its token) submitted again is refused and changes nothing.
    go(d, portal, "/renewals")
    d.execute_script("document.querySelector('#unified-form input[name=csrf_token]').value = arguments[0];"
                     "document.querySelector('#unified-day').value = '15';", token)
    with portal.engine() as engine:
        before = engine.account_get("hw-demo")["account"]["unified_expiry_day"]
    press(d, "save-unified")
    assert "表单已失效" in message(d)
    shot(d, "csrf-refused")
    # A forged token, and none at all, are refused too.
    go(d, portal, "/renewals")
    d.execute_script("document.querySelector('#unified-form input[name=csrf_token]').value = 'abc.def';"
                     "document.querySelector('#unified-day').value = '15';")
    press(d, "save-unified")
    assert "表单已失效" in message(d)
    with portal.engine() as engine:
        assert engine.account_get("hw-demo")["account"]["unified_expiry_day"] == before


def test_bad_amounts_are_a_message_and_change_nothing(browser, portal):
    d = browser
    operator_login(d, portal)
    with portal.engine() as engine:
        before = engine.account_get("hw-demo")["account"]["cash_balance_fen"]
    for amount in ("-5", "0", "1.234", "abc", "1e3", "", "99999999999999999"):
        type_into(d, "topup-account", "hw-demo")
        type_into(d, "topup-amount", amount)
        press(d, "topup-submit")
        assert by_id(d, "operator-error").text, amount
    shot(d, "bad-amount")
    with portal.engine() as engine:
        assert engine.account_get("hw-demo")["account"]["cash_balance_fen"] == before
    # A customer's bad quantity on the buy page: a message, no order.
    login(d, portal, "demo", DEMO_PASSWORD)
    go(d, portal, "/buy?p_evs.100=1&unit_evs.100=MONTH&count_evs.100=1&qty_evs.100=-1")
    assert "输入有误" in message(d)
    go(d, portal, "/buy?p_evs.100=1&unit_evs.100=MONTH&count_evs.100=1&qty_evs.100=1.5")
    assert "输入有误" in message(d)


def test_a_login_failing_too_often_is_throttled(browser, portal):
    d = browser
    seen = []
    for _ in range(8):
        login(d, portal, "nobody-or-somebody", "Wrong-Pass-1")
        seen.append(message(d))
        if "登录失败次数过多" in seen[-1]:
            break
    assert seen[0] == "账号或密码错误。"
    assert "登录失败次数过多" in seen[-1] and "请在 2" in seen[-1], seen
    shot(d, "login-throttled")


def test_password_reset_by_email_through_the_mailbox(browser, portal):
    """A reset is asked for by e-mail; the page says the same whoever asks; the link (in the
    demo mailbox the operator page shows) sets a new password, and login by e-mail works."""
    with portal.engine() as engine:
        engine.account_put("kyc", "hw-reset", type="ENTERPRISE", realname_verified=True, level="V3")
        platform = engine.platform_apply("web", "hw-reset", "resetter", "reset@example.com", "13600136000")
        token = engine.platform_approve("ops", platform["platform_account"]["platform_account_id"])["password_set_token"]
        engine.platform_activate("web", token, "First-Pass-123")
    d = browser
    answers = []
    for identifier in ("Reset@Example.com", "nobody@example.com"):
        go(d, portal, "/reset")
        type_into(d, "reset-identifier", identifier)
        press(d, "reset-submit")
        answers.append(message(d))
    assert answers[0] == answers[1] and "重置链接" in answers[0]
    operator_login(d, portal)
    link = next(a.get_attribute("href") for a in css(d, "#mailbox a.mail-link") if "/reset/complete" in a.get_attribute("href"))
    press(d, "operator-logout")
    d.get(link)
    type_into(d, "new-password", "Second-Pass-456")
    press(d, "set-password")
    login(d, portal, "reset@example.com", "Second-Pass-456")
    assert by_id(d, "who").text.startswith("resetter")
