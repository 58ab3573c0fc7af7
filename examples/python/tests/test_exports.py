"""Exports: every produced file opened with Python's csv module and checked against the
orders and resources it lists (headers, row counts, escaping, amounts)."""

import base64
import csv
import datetime
import io
import os

import pytest

from billing import errors
from helpers import BUSINESS_TZ, DAY, START

TRICKY_TYPES = ["=HYPERLINK(\"http://x\")", "+1", "-cmd", "@SUM(A1)", "comma, inside",
                "quote \" inside", "semi;colon", "普通产品"]


def yuan(fen):
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def business(instant):
    return datetime.datetime.fromtimestamp(instant, BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S")


def run_to_end(engine, export_id, account="a1"):
    for _ in range(1000):
        record = engine.export_step("tester", account, export_id)["export"]
        if record["status"] != "GENERATING":
            return record
    raise AssertionError("export never finished")


def read_csv(engine, export_id, account="a1"):
    path = engine.export_download(account, export_id)["path"]
    with open(path, "rb") as handle:
        raw = handle.read()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark"
    assert b"\r\n" in raw
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


@pytest.fixture
def shop(fast_engine, tmp_path):
    engine = fast_engine
    engine.account_put("kyc", "a1", type="ENTERPRISE", realname_verified=True, level="V3")
    engine.account_put("kyc", "a2", type="ENTERPRISE", realname_verified=True, level="V3")
    engine.topup("pay", "a1", 100_000_000, "initial")
    for index, product_type in enumerate(TRICKY_TYPES):
        engine.product_put("catalog", {"product_id": f"p{index}", "product_type": product_type,
                                       "billing_mode": "PREPAID",
                                       "monthly_price_fen": 1_001 + index * 37,
                                       "yearly_price_fen": 10_010 + index * 370})
    # A named directory: a PostgreSQL database has no file to put the exports beside (the
    # default on SQLite, tested below).
    engine.update_config({"export_rows_per_step": 10, "export_directory": str(tmp_path / "exports")}, actor="test")
    return engine


@pytest.mark.sqlite_only("exports go beside the database file by default")
def test_exports_default_beside_the_database_file(fast_engine, db_path):
    engine = fast_engine
    engine.account_put("kyc", "a1", type="PERSONAL")
    export_id = engine.export_request("buyer", "a1", "ORDERS")["export"]["export_id"]
    run_to_end(engine, export_id)
    path = engine.export_download("a1", export_id)["path"]
    assert os.path.dirname(path) == db_path + "-exports" and os.path.exists(path)


def make_orders(engine, count=37):
    ids = []
    for index in range(count):
        product = f"p{index % len(TRICKY_TYPES)}"
        created = engine.order_create("buyer", "a1", [{"product_id": product,
                                                       "period": {"unit": "MONTH", "count": 1 + index % 3}}])
        order_id = created["order"]["order_id"]
        if index % 4 == 0:
            engine.order_pay("buyer", "a1", order_id)
        ids.append(order_id)
        engine.advance_clock(61)
    return ids


def test_order_export_matches_the_orders(shop):
    engine = shop
    ids = make_orders(engine)
    record = engine.export_request("buyer", "a1", "ORDERS", language="en")["export"]
    assert record["status"] == "GENERATING" and record["rows_expected"] == len(ids)
    done = run_to_end(engine, record["export_id"])
    assert done["status"] == "READY" and done["rows_written"] == len(ids)
    rows = read_csv(engine, record["export_id"])
    assert rows[0] == ["Order ID", "Combined order ID", "Order type", "Status", "Product type",
                       "Billing mode", "Created", "Paid", "List price", "Discount", "Amount due",
                       "Voucher", "Paid amount", "Cash", "Credit"]
    body = rows[1:]
    assert len(body) == len(ids)
    assert [row[0] for row in body] == list(reversed(ids))  # newest first
    for row in body:
        order = engine.order_get("a1", row[0])["order"]
        amounts = order["amounts"]
        expected_type = order["product_type"]
        if expected_type[0] in "=+-@":
            expected_type = "'" + expected_type  # defused, never a formula
        assert row[4] == expected_type
        assert row[3] == order["status"] and row[2] == "NEW" and row[5] == "PREPAID"
        assert row[6] == business(order["created_at"])
        assert row[7] == (business(order["paid_at"]) if order["paid_at"] else "")
        assert row[8:] == [yuan(amounts[k]) for k in ("list_price_fen", "discount_fen", "amount_due_fen",
                                                       "voucher_fen", "paid_amount_fen", "cash_fen", "credit_fen")]
    # Only cells starting with = + - @ were changed; the rest round-trip exactly.
    assert {row[4] for row in body} == {("'" + t if t[0] in "=+-@" else t) for t in TRICKY_TYPES}


def test_filters_language_and_every_kind(shop):
    engine = shop
    ids = make_orders(engine, 12)
    paid = [i for n, i in enumerate(ids) if n % 4 == 0]
    record = engine.export_request("buyer", "a1", "ORDERS", filter={"status": "PROCESSING"})["export"]
    run_to_end(engine, record["export_id"])
    rows = read_csv(engine, record["export_id"])
    assert rows[0][:2] == ["订单号", "组合交易订单号"]
    assert sorted(row[0] for row in rows[1:]) == sorted(paid)

    pending = [i for i in ids if i not in paid][:5]
    record = engine.export_request("buyer", "a1", "PENDING_ORDERS", order_ids=pending, language="en")["export"]
    run_to_end(engine, record["export_id"])
    rows = read_csv(engine, record["export_id"])
    assert rows[0][-1] == "Payment deadline"
    assert [row[0] for row in rows[1:]] == pending
    for row in rows[1:]:
        assert row[-1] == business(engine.order_get("a1", row[0])["order"]["pay_deadline"])
    with pytest.raises(errors.Refused) as refused:
        engine.export_request("buyer", "a1", "PENDING_ORDERS", order_ids=[paid[0]])
    assert refused.value.reason == "order_not_pending"

    resources = []
    for order_id in paid:
        detail = engine.order_get("a1", order_id)["order"]
        results = [{"resource_id": r["resource_id"], "outcome": "SUCCEEDED"} for r in detail["resources"]]
        resources += [r["resource_id"] for r in engine.resource_report("host", "a1", results)["resources"]]
    for kind, header in (("RENEWALS", ["Resource ID", "Product", "Product type", "Region", "Status",
                                       "Expiry policy", "Expires", "Auto-renew period", "Auto-renewals left"]),
                         ("RENEWAL_PRICES", ["Resource ID", "Product", "Expires", "Renewal period",
                                             "List price", "Discount", "Amount due"])):
        record = engine.export_request("buyer", "a1", kind, filter={"tab": "MANUAL"}, language="en")["export"]
        run_to_end(engine, record["export_id"])
        rows = read_csv(engine, record["export_id"])
        assert rows[0] == header
        assert sorted(row[0] for row in rows[1:]) == sorted(resources)
        if kind == "RENEWAL_PRICES":
            for row in rows[1:]:
                product = engine.resource_get("a1", row[0])["resource"]["product_id"]
                price = engine.product_get(product)["product"]["yearly_price_fen"]
                assert row[3] == "1 YEAR" and row[4] == yuan(price) and row[6] == yuan(price)


def test_private_to_the_owner_and_purged_after_three_days(shop):
    engine = shop
    make_orders(engine, 3)
    export_id = engine.export_request("buyer", "a1", "ORDERS")["export"]["export_id"]
    done = run_to_end(engine, export_id)
    path = engine.export_download("a1", export_id)["path"]
    assert os.path.exists(path)
    content = base64.b64decode(engine.export_download("a1", export_id, mode="BYTES")["content_base64"])
    assert content == open(path, "rb").read()
    with pytest.raises(errors.NotFound):
        engine.export_download("a2", export_id)
    assert engine.exports("a2")["exports"] == []
    with pytest.raises(errors.NotFound):
        engine.export_download("a1", "../" + export_id)
    engine.set_clock(done["purge_at"])
    summary = engine.scheduler_run("cron")
    assert summary["exports_purged"] == 1
    assert engine.exports("a1")["exports"] == []
    assert not os.path.exists(path)


def test_bad_export_requests(shop):
    engine = shop
    for kwargs, reason in ((dict(kind="EVERYTHING"), "unknown_value"),
                           (dict(kind="RENEWALS"), "missing_field"),
                           (dict(kind="ORDERS", filter={"status": "LOST"}), "unknown_value"),
                           (dict(kind="ORDERS", filter={"path": "/etc/passwd"}), "unknown_field"),
                           (dict(kind="PENDING_ORDERS"), "missing_field"),
                           (dict(kind="ORDERS", language="fr"), "unknown_value")):
        with pytest.raises(errors.InvalidArgument) as error:
            engine.export_request("buyer", "a1", **kwargs)
        assert error.value.reason == reason, kwargs
    with pytest.raises(errors.NotFound):
        engine.export_request("buyer", "nobody", "ORDERS")


def make_combined(engine, how="direct"):
    """A combined order of an ECS and an EVS (and its sub-orders), pending payment: created
    so ("direct"), after a review ("review"), after the customer confirmed an account
    manager's order ("manager"), or a batch renewal of two resources ("renewal")."""
    engine.product_put("catalog", {"product_id": "ecs", "product_type": "ECS", "billing_mode": "PREPAID",
                                   "monthly_price_fen": 5_000})
    engine.product_put("catalog", {"product_id": "evs", "product_type": "EVS", "billing_mode": "PREPAID",
                                   "monthly_price_fen": 1_000, "review_required": how == "review"})
    month = {"unit": "MONTH", "count": 1}
    items = [{"product_id": "ecs", "period": month}, {"product_id": "evs", "period": month}]
    if how == "renewal":
        bought = engine.order_create("buyer", "a1", items, auto_pay=True)["order"]
        resources = []
        for sub in bought["sub_orders"]:
            detail = engine.order_get("a1", sub["order_id"])["order"]
            results = [{"resource_id": r["resource_id"], "outcome": "SUCCEEDED"} for r in detail["resources"]]
            resources += [r["resource_id"] for r in engine.resource_report("cloud", "a1", results)["resources"]]
        assert len(resources) == 2
        return engine.resources_renew("buyer", "a1", resources, period=month)["order"]
    order = engine.order_create("buyer", "a1", items, placed_by_manager=how == "manager")["order"]
    if how == "review":
        engine.order_review("auditor", "a1", order["order_id"], "APPROVE")
    if how == "manager":
        engine.order_confirm("buyer", "a1", order["order_id"], "CONFIRM")
    return engine.order_get("a1", order["order_id"])["order"]


@pytest.mark.parametrize("how", ["direct", "review", "manager", "renewal"])
def test_pending_export_keeps_a_combined_orders_deadline(shop, how):
    """Issue 12 item 8: the combined order's row carries its payment deadline (and so do its
    sub-orders' rows), however the order came to wait for payment, read back with the csv
    module."""
    engine = shop
    combined = make_combined(engine, how)
    assert combined["is_combined"] and combined["status"] == "PENDING_PAYMENT" and combined["pay_deadline"]
    subs = [s["order_id"] for s in combined["sub_orders"]]
    for language, header in (("en", "Payment deadline"), ("zh", "支付截止时间")):
        record = engine.export_request("buyer", "a1", "PENDING_ORDERS", order_ids=[combined["order_id"]] + subs,
                                       language=language)["export"]
        run_to_end(engine, record["export_id"])
        rows = read_csv(engine, record["export_id"])
        assert rows[0][-1] == header and len(rows) == 4
        by_id = {row[0]: row for row in rows[1:]}
        for order_id in [combined["order_id"]] + subs:
            deadline = engine.order_get("a1", order_id)["order"]["pay_deadline"]
            assert deadline and by_id[order_id][-1] == business(deadline), (language, order_id)
    assert engine.verify()["ok"]


def test_chinese_exports_write_the_guides_labels(shop):
    """Issue 12 item 9: with language=zh the cells hold the guide's Chinese labels, and a
    combined order's product type lists every sub-order's type."""
    engine = shop
    combined = make_combined(engine)
    single = engine.order_create("buyer", "a1", [{"product_id": "ecs", "period": {"unit": "MONTH", "count": 1}}])["order"]
    engine.order_pay("buyer", "a1", single["order_id"])
    record = engine.export_request("buyer", "a1", "PENDING_ORDERS", order_ids=[combined["order_id"]])["export"]
    run_to_end(engine, record["export_id"])
    header, row = read_csv(engine, record["export_id"])
    cells = dict(zip(header, row))
    assert cells["订单类型"] == "新购" and cells["订单状态"] == "待支付" and cells["计费模式"] == "包年/包月"
    assert cells["产品类型"] == "弹性云服务器、云硬盘"
    # English keeps the codes, and lists both types too.
    record = engine.export_request("buyer", "a1", "PENDING_ORDERS", order_ids=[combined["order_id"]], language="en")["export"]
    run_to_end(engine, record["export_id"])
    header, row = read_csv(engine, record["export_id"])
    cells = dict(zip(header, row))
    assert (cells["Order type"], cells["Status"], cells["Billing mode"], cells["Product type"]) == \
        ("NEW", "PENDING_PAYMENT", "PREPAID", "ECS, EVS")

    record = engine.export_request("buyer", "a1", "ORDERS", filter={"status": "PROCESSING"})["export"]
    run_to_end(engine, record["export_id"])
    header, *rows = read_csv(engine, record["export_id"])
    assert [dict(zip(header, r))["订单状态"] for r in rows] == ["处理中"]
    assert dict(zip(header, rows[0]))["产品类型"] == "弹性云服务器"

    detail = engine.order_get("a1", single["order_id"])["order"]
    resource = detail["resources"][0]["resource_id"]
    engine.resource_report("host", "a1", [{"resource_id": resource, "outcome": "SUCCEEDED"}])
    engine.resources_policy_set("buyer", "a1", [resource], "AUTO_RENEW", auto_renew_times=2)
    record = engine.export_request("buyer", "a1", "RENEWALS", filter={"tab": "AUTO_RENEW"})["export"]
    run_to_end(engine, record["export_id"])
    header, row = read_csv(engine, record["export_id"])
    cells = dict(zip(header, row))
    assert (cells["产品类型"], cells["状态"], cells["到期策略"], cells["自动续费周期"]) == \
        ("弹性云服务器", "使用中", "自动续费", "1个月")
    record = engine.export_request("buyer", "a1", "RENEWAL_PRICES", filter={"tab": "AUTO_RENEW"})["export"]
    run_to_end(engine, record["export_id"])
    header, row = read_csv(engine, record["export_id"])
    assert dict(zip(header, row))["续费时长"] == "1个月"
    # No English code is left in any Chinese cell of these exports.
    codes = {"NEW", "PENDING_PAYMENT", "PROCESSING", "PREPAID", "IN_USE", "AUTO_RENEW", "MONTH", "ECS", "EVS"}
    assert not codes & {word for cell in row for word in cell.replace(",", " ").split()}
    assert engine.verify()["ok"]


def test_pending_orders_export_needs_its_order_ids_as_the_header_says(shop):
    """Issue 12 item 17: order_ids of a PENDING_ORDERS export is required (the header says so),
    and belongs to that kind only."""
    header = open(os.path.join(os.path.dirname(__file__), "..", "..", "..", "include", "billing.h"),
                  encoding="utf-8").read()
    doc = header[header.index("/* Requests an export:"):header.index("int billing_export_request")]
    assert '"order_ids"?' not in doc and '"order_ids" (PENDING_ORDERS only, and required there' in doc
    engine = shop
    for kwargs, reason in ((dict(kind="PENDING_ORDERS"), "missing_field"),
                           (dict(kind="PENDING_ORDERS", order_ids=[]), "missing_field"),
                           (dict(kind="ORDERS", order_ids=["CS1"]), "unknown_field")):
        with pytest.raises(errors.InvalidArgument) as error:
            engine.export_request("buyer", "a1", **kwargs)
        assert error.value.reason == reason, kwargs
