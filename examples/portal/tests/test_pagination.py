"""A list page walks the library's cursor pages: the pending orders of an account with more
orders than a page, every order once, the badge from the list's own counts."""

from __future__ import annotations

from helpers import click, press, by_id, css, go, login, shot

M1 = {"unit": "MONTH", "count": 1}
PASSWORD = "Pages-Pass-2024"


def test_pending_orders_page_by_page(browser, portal):
    with portal.engine() as engine:
        engine.account_put("kyc", "hw-pages", type="ENTERPRISE", realname_verified=True, level="V3")
        platform = engine.platform_apply("web", "hw-pages", "pages", "pages@example.com", "13700137000")
        token = engine.platform_approve("ops", platform["platform_account"]["platform_account_id"])["password_set_token"]
        engine.platform_activate("web", token, PASSWORD)
        created = [engine.order_create("shop", "hw-pages", [{"product_id": "evs.100", "period": M1}])["order"]["order_id"]
                   for _ in range(13)]
    d = browser
    login(d, portal, "pages", PASSWORD)
    go(d, portal, "/orders/pending")
    assert by_id(d, "pending-count").text == "13"
    seen = []
    pages = 0
    while True:
        pages += 1
        seen += [row.get_attribute("id")[4:] for row in css(d, "#pending-orders tr[id^=row-]")]
        if pages == 1:
            shot(d, "pending-orders-page-1")
        following = css(d, "a.next-page")
        if not following:
            break
        click(d, following[0])
    assert pages == 2
    assert sorted(seen) == sorted(created) and len(seen) == len(set(seen))
    assert css(d, "a.first-page")
    # Tick two rows of the first page: export them, then cancel them; the badge follows.
    go(d, portal, "/orders/pending")
    picks = css(d, "#pending-orders input.pick")[:2]
    ticked = [p.get_attribute("value") for p in picks]
    for pick in picks:
        pick.click()
    press(d, "export-selected")
    assert "待支付订单" in css(d, "#exports tr[id^=row-]")[0].text
    go(d, portal, "/orders/pending")
    for pick in css(d, "#pending-orders input.pick"):
        if pick.get_attribute("value") in ticked:
            pick.click()
    press(d, "cancel-selected")
    assert by_id(d, "message").text == "已取消。"
    assert by_id(d, "pending-count").text == "11"
    go(d, portal, "/orders?status=CANCELLED")
    assert all(order in css(d, "#orders")[0].text for order in ticked)
