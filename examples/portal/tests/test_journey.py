"""The whole customer journey of issue 16 in a real browser: register, be approved, activate,
log in, receive a top-up and a coupon, buy a combined order and pay it with the coupon, see it
in my orders, renew with the price shown, turn on auto-renew, run the scheduler past expiry by
moving the demo clock, unsubscribe with the quote shown, export orders and download the CSV,
log out. A screenshot of each page goes to build/portal-screenshots/."""

from __future__ import annotations

import re

from helpers import click, press, body, by_id, css, fetch, go, login, logout, message, operator_login, shot, type_into, yuan_text
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

ACCOUNT = "hw-journey"
PASSWORD = "Journey-Pass-77"


def test_customer_journey(browser, portal):
    d = browser
    # -- the operator creates the customer account from KYC data --------------------------
    operator_login(d, portal)
    type_into(d, "kyc-account", ACCOUNT)
    press(d, "kyc-submit")
    assert "操作成功" in message(d)
    shot(d, "operator")

    # -- registration: eligibility (E1–E4 all pass), application --------------------------
    go(d, portal, "/register")
    type_into(d, "account-id", ACCOUNT)
    press(d, "check")
    assert len(css(d, "#eligibility tr.check-passed")) == 4
    type_into(d, "user-name", "journey")
    type_into(d, "email", "Journey@Example.com")
    type_into(d, "phone", "139 0013 9000")
    type_into(d, "contact-name", "旅程")
    shot(d, "register")
    press(d, "apply")
    assert by_id(d, "applied").text

    # -- the operator approves; the activation link appears in the demo mailbox -------------
    operator_login(d, portal)
    row = by_id(d, f"app-{ACCOUNT}")
    click(d, row.find_element(By.CSS_SELECTOR, "button.approve"))
    link = css(d, "#mailbox a.mail-link")[0].get_attribute("href")
    assert "/activate?token=" in link
    press(d, "operator-logout")

    # -- activation (a weak password is refused with the rule it breaks) ------------------------
    d.get(link)
    type_into(d, "new-password", "short")
    press(d, "set-password")
    assert "password_too_short" in message(d)
    type_into(d, "new-password", PASSWORD)
    press(d, "set-password")
    assert "账号已激活" in message(d)

    # -- the operator tops up 1,000.00 and issues a 50.00 voucher ------------------------------
    operator_login(d, portal)
    type_into(d, "topup-account", ACCOUNT)
    type_into(d, "topup-amount", "1000.00")
    type_into(d, "topup-reference", "bank-journey-1")
    press(d, "topup-submit")
    assert "操作成功" in message(d)
    type_into(d, "coupon-account", ACCOUNT)
    type_into(d, "coupon-amount", "50")
    press(d, "coupon-submit")
    assert "操作成功" in message(d)
    press(d, "operator-logout")

    # -- log in by phone in another format, see the account ----------------------------------------
    login(d, portal, "+86 139-0013-9000", PASSWORD)
    assert by_id(d, "who").text.startswith("journey")
    go(d, portal, "/account")
    assert by_id(d, "cash-balance").text == "¥1,000.00"
    assert "代金券" in by_id(d, "coupons").text
    shot(d, "account")

    # -- buy an ECS (with its bound system disk) and an EVS together: a combined order -----------
    go(d, portal, "/buy")
    by_id(d, "p-ecs.s6").click()
    by_id(d, "p-evs.100").click()
    press(d, "quote")
    # ECS 100.00 + bound disk 10.00 + EVS 30.00 a month
    assert by_id(d, "amount-due").text == "¥140.00"
    shot(d, "buy")
    press(d, "create-order")
    order_id = by_id(d, "order-id").text
    assert "组合交易订单" in body(d) and len(css(d, "#sub-orders tr")) == 2

    # -- pending orders: the combined order as one row with its sub-orders -------------------
    go(d, portal, "/orders/pending")
    assert by_id(d, "pending-count").text == "1"  # one combined order, listed as one row
    assert by_id(d, f"row-{order_id}") and len(css(d, "#pending-orders tr.sub")) == 2
    shot(d, "pending-orders")
    click(d, by_id(d, f"row-{order_id}").find_element(By.CSS_SELECTOR, "a.pay-link"))

    # -- pay with the coupon: the amount due and what is paid shown before paying ---------------
    assert by_id(d, "paid-amount").text == "¥140.00"
    css(d, "input.coupon")[0].click()
    press(d, "preview")
    assert by_id(d, "amount-due").text == "¥140.00"
    assert by_id(d, "voucher").text == "¥50.00"
    assert by_id(d, "paid-amount").text == "¥90.00"
    shot(d, "pay")
    press(d, "confirm-pay")
    assert "支付成功" in message(d)
    shot(d, "order-detail")

    # -- my orders: tabs with counts, the paid sub-orders listed --------------------------------
    go(d, portal, "/orders")
    counts = {a.get_attribute("id")[4:]: int(a.find_element(By.CLASS_NAME, "count").text) for a in css(d, "#order-tabs a")}
    assert counts["ALL"] == 1 and counts["PENDING_PAYMENT"] == 0
    assert counts["COMPLETED"] + counts["PROCESSING"] >= 1
    assert len(css(d, "#orders tr.order-row")) == 1 and len(css(d, "#orders tr.sub")) == 2
    shot(d, "my-orders")

    # -- renewals: renew the EVS for a month with the price shown first --------------------------
    go(d, portal, "/renewals")
    assert css(d, "#tab-MANUAL .count")[0].text == "2"
    shot(d, "renewals")
    rows = {r.get_attribute("id")[4:]: r for r in css(d, "#renewals tr.renewal-row")}
    evs = next(rid for rid, r in rows.items() if "evs.100" in r.text)
    ecs = next(rid for rid, r in rows.items() if "ecs.s6" in r.text)
    rows[evs].find_element(By.CSS_SELECTOR, "input.pick").click()
    Select(by_id(d, "renew-period")).select_by_value("MONTH:1")
    press(d, "renew-selected")
    assert by_id(d, "paid-amount").text == "¥30.00"
    assert css(d, "#renew-quote td.new-expiry")[0].text
    shot(d, "renew-quote")
    press(d, "confirm-renew")
    assert by_id(d, "order-type").text == "续费" and "支付成功" in message(d)

    # -- auto-renew on for the ECS ----------------------------------------------------------------
    go(d, portal, "/renewals")
    by_id(d, f"row-{ecs}").find_element(By.CSS_SELECTOR, "input.pick").click()
    Select(by_id(d, "policy-choice")).select_by_value("AUTO_RENEW")
    press(d, "set-policy")
    assert css(d, "#tab-AUTO_RENEW .count")[0].text == "1" and by_id(d, f"row-{ecs}")
    logout(d)

    # -- the operator moves the demo clock 62 days: the scheduler auto-renews the ECS and the
    #    EVS (renewed once, two months in all) expires into its grace --------------------
    operator_login(d, portal)
    for days in ("25", "25", "12"):  # 62 days in three steps, the scheduler run after each
        type_into(d, "advance-days", days)
        press(d, "advance-clock")
        assert "scheduler" in message(d)
    login(d, portal, "journey", PASSWORD)
    go(d, portal, "/account")
    assert "已过期" in by_id(d, f"res-{evs}").text
    assert "使用中" in by_id(d, f"res-{ecs}").text
    go(d, portal, "/orders?status=COMPLETED")
    assert "续费" in by_id(d, "orders").text

    # -- unsubscribe the ECS with the refund quote shown before confirming -----------------------
    go(d, portal, "/unsubscribe")
    shot(d, "unsubscribe")
    by_id(d, f"row-{ecs}").find_element(By.CSS_SELECTOR, "input.pick").click()
    press(d, "unsubscribe-selected")
    refund = by_id(d, "total-refund").text
    assert re.fullmatch(r"¥[\d,]+\.\d\d", refund)
    assert css(d, "#refund-quote td.consumed")[0].text.startswith("¥")
    shot(d, "refund-quote")
    press(d, "confirm-unsubscribe")
    assert by_id(d, "order-type").text == "退订"

    # -- release the EVS (in its grace) on the renewals page; the account page still lists it,
    #    released, beside the unsubscribed ECS (billing_resources_list, every status) ----------
    go(d, portal, "/renewals?tab=ALL")
    by_id(d, f"row-{evs}").find_element(By.CSS_SELECTOR, "input.pick").click()
    press(d, "release")
    assert not css(d, f"#row-{evs}")
    go(d, portal, "/account")
    assert "已释放" in by_id(d, f"res-{evs}").text
    assert "已退订" in by_id(d, f"res-{ecs}").text
    assert css(d, "#resource-tab-RELEASED .count")[0].text == "1"
    click(d, by_id(d, "resource-tab-RELEASED"))
    assert [r.get_attribute("id") for r in css(d, "#resources tr[id^=res-]")] == [f"res-{evs}"]
    shot(d, "account-released")
    click(d, by_id(d, "resource-tab-IN_USE"))
    assert not css(d, f"#res-{evs}")

    # -- export my orders and download the CSV -----------------------------------------------------
    go(d, portal, "/orders")
    press(d, "export-all")
    assert "导出请求已提交" in message(d)
    row = css(d, "#exports tr[id^=row-]")[0]
    assert "可下载" in row.text
    shot(d, "exports")
    status, data = fetch(d, row.find_element(By.CSS_SELECTOR, "a.download").get_attribute("href"))
    text = data.decode("utf-8-sig")
    assert status == 200 and "订单" in text.splitlines()[0] and order_id in text

    # -- English, then log out ------------------------------------------------------------------------
    press(d, "lang-switch")
    assert "Export records" in body(d)
    shot(d, "exports-en")
    press(d, "lang-switch")
    logout(d)
    assert d.current_url.endswith("/login")
    go(d, portal, "/orders")
    assert d.current_url.endswith("/login")
    shot(d, "login")
