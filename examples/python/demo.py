"""A tour of the libbilling Python binding.

    BILLING_LIBRARY=dist/lib/libbilling.so python3 examples/python/demo.py [DB_PATH]

Without DB_PATH the demo uses a fresh file in a temporary directory. An existing file is
reused: idempotency keys carry a per-run suffix and the event/audit listings start at
the cursor taken before this run's writes, so repeated runs stay readable; each run opens
its own customer account, since an account may hold only one platform account, and buys
one month of a product with its voucher.
"""

import argparse
import datetime
import os
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import billing  # noqa: E402  (the package lives next to this script)
from billing import errors  # noqa: E402

# 2024-01-01T10:30:00+08:00
START = 1704076200
PAGE_SIZE = 2  # small on purpose, to show paging


def business_time(seconds, offset):
    """Unix seconds as local time at the configured business UTC offset ("+08:00")."""
    sign = -1 if offset.startswith("-") else 1
    hours, minutes = map(int, offset[1:].split(":"))
    zone = datetime.timezone(sign * datetime.timedelta(hours=hours, minutes=minutes))
    return datetime.datetime.fromtimestamp(seconds, zone).isoformat()


def end_cursor(list_page):
    """The cursor after the newest item, found by paging to the end (None if empty)."""
    cursor = None
    while True:
        page = list_page(after=cursor, limit=1000)
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return cursor


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db_path", nargs="?", help="SQLite file (default: demo.sqlite in a temp dir)")
    args = parser.parse_args()
    path = args.db_path or os.path.join(tempfile.mkdtemp(prefix="billing-demo-"), "demo.sqlite")
    run = uuid.uuid4().hex[:8]

    print(f"libbilling {billing.version()} (version number {billing.version_number()})")
    print(f"database   {path}")

    with billing.Engine(path, clock="manual", now=START) as engine:
        config = engine.config()
        offset = config["business_utc_offset"]
        print(f"clock      {engine.now()} = {business_time(engine.now(), offset)} (manual)")
        print(f"config     offset {offset}, currency {config['currency']}, "
              f"five_day_quota_per_year {config['five_day_quota_per_year']}, "
              f"default_deduction_days {config['default_deduction_days']}")
        events_from = end_cursor(engine.events)
        audit_from = end_cursor(engine.audit)

        key = f"demo-quota-{run}"
        first = engine.update_config({"five_day_quota_per_year": 12}, actor="demo", idempotency_key=key)
        print(f"update     five_day_quota_per_year -> "
              f"{first['configuration']['five_day_quota_per_year']} "
              f"(changed: {', '.join(first['changed']) or 'nothing'}; key {key})")

        replay = engine.update_config({"five_day_quota_per_year": 12}, actor="demo", idempotency_key=key)
        print(f"replay     same key, same request -> identical response: {replay == first}")

        try:
            engine.update_config({"five_day_quota_per_year": 13}, actor="demo", idempotency_key=key)
        except errors.Conflict as exc:
            print(f"conflict   same key, other request -> {type(exc).__name__} "
                  f"({exc.reason}): {exc.message}")
        else:
            raise SystemExit("error: reusing an idempotency key for another request was accepted")

        try:
            engine.update_config({"five_day_quota_per_year": 1.5}, actor="demo")
        except errors.InvalidArgument as exc:
            print(f"invalid    fractional quota -> {type(exc).__name__} ({exc.reason})")
        else:
            raise SystemExit("error: a fractional quota was accepted")

        now = engine.advance_clock(24 * 3600)
        print(f"clock      advanced one day -> {business_time(now, offset)}")
        engine.update_config({"default_deduction_days": 5}, actor="demo",
                             idempotency_key=f"demo-deduction-{run}")
        now = engine.advance_clock(3600)
        engine.update_config({"five_day_quota_per_year": 10, "default_deduction_days": 7},
                             actor="demo", idempotency_key=f"demo-restore-{run}")

        print(f"events     this run's events, {PAGE_SIZE} per page:")
        cursor, number = events_from, 1
        while True:
            page = engine.events(after=cursor, limit=PAGE_SIZE)
            for event in page["events"]:
                print(f"  page {number}: #{event['seq']} {event['type']} at "
                      f"{business_time(event['occurred_at'], offset)} "
                      f"changed {', '.join(event['data'].get('changed', []))}")
            if not page["has_more"]:
                break
            cursor, number = page["next_cursor"], number + 1

        print("audit      this run's audit entries:")
        for entry in engine.iter_audit(after=audit_from):
            print(f"  #{entry['id']} {entry['operation']} by {entry['actor']} at "
                  f"{business_time(entry['recorded_at'], offset)}: {entry['detail'].get('changes')}")

        account_id, coupon = accounts_and_login(engine, run)
        orders_and_provisioning(engine, run, account_id, coupon)

    print("done")
    return 0


def accounts_and_login(engine, run):
    """An account, a top-up, a voucher, and a platform account from application to login."""
    # Cheap argon2id costs keep the demo fast; the previous values are restored at the end.
    # Never do this in production.
    fast = {"password_hash_ops_limit": 2, "password_hash_memory_bytes": 19 * 1024 * 1024}
    config = engine.config()
    previous = {name: config[name] for name in fast}
    engine.update_config(fast, actor="demo", idempotency_key=f"demo-fast-hash-{run}")

    # A fresh account per run: an account may hold only one platform account.
    account_id = f"demo-{run}"
    account = engine.account_put("demo", account_id, type="ENTERPRISE", realname_verified=True,
                                 level="V3")["account"]
    print(f"account    {account_id}: {account['type']}, {account['level']}, "
          f"balance {account['cash_balance_fen']} fen")

    topup = engine.topup("demo", account_id, 10_000, external_reference=f"pay-{run}")
    again = engine.topup("demo", account_id, 10_000, external_reference=f"pay-{run}")
    print(f"top-up     10000 fen -> balance {topup['account']['cash_balance_fen']} fen; "
          f"same reference again: replayed {again['replayed']}, "
          f"balance {again['account']['cash_balance_fen']} fen")

    now = engine.now()
    coupon = engine.coupon_issue("demo", account_id, "VOUCHER", now, now + 30 * 86_400,
                                 face_value_fen=2_000, scope={"products": ["ECS"]})["coupon"]
    print(f"coupon     {coupon['coupon_id']} {coupon['kind']} {coupon['face_value_fen']} fen "
          f"for {', '.join(coupon['scope']['products'])}: {coupon['status']}")

    eligibility = engine.platform_eligibility(account_id)
    user_name = f"demo_{run}"
    phone = f"139{int(run, 16) % 10 ** 8:08d}"
    applied = engine.platform_apply("demo", account_id, user_name, f"Demo.{run}@Example.COM",
                                    phone)["platform_account"]
    platform_id = applied["platform_account_id"]
    print(f"platform   eligible {eligibility['eligible']}; applied {platform_id} as {user_name}, "
          f"{applied['email']}, {applied['phone']} ({applied['status']})")
    approval = engine.platform_approve("demo", platform_id)
    token = approval["password_set_token"]
    print(f"approve    {approval['platform_account']['status']}; token {token[:8]}... valid until "
          f"{business_time(approval['token_expires_at'], engine.config()['business_utc_offset'])}")
    try:
        engine.platform_activate("demo", token, "password")
    except errors.InvalidArgument as exc:
        print(f"activate   weak password -> {type(exc).__name__} ({exc.reason})")
    else:
        raise SystemExit("error: a weak password was accepted")
    password = f"Demo-{run}-Passw0rd"
    activated = engine.platform_activate("demo", token, password)["platform_account"]
    print(f"activate   -> {activated['status']}")

    login = engine.login(applied["phone"], password)
    print(f"login      by phone -> {login['platform_account']['user_name']} of {login['account_id']}")
    try:
        engine.login(user_name, "Wrong-Passw0rd")
    except errors.AuthError as exc:
        print(f"login      wrong password -> {type(exc).__name__} ({exc.reason})")
    else:
        raise SystemExit("error: a wrong password was accepted")

    engine.update_config(previous, actor="demo", idempotency_key=f"demo-hash-restore-{run}")
    return account_id, coupon


def orders_and_provisioning(engine, run, account_id, coupon):
    """A product, an order paid with the voucher and cash, and the host's provisioning."""
    offset = engine.config()["business_utc_offset"]
    # product_put replaces the definition, so later runs on one file simply redefine it.
    product = engine.product_put("demo", {
        "product_id": "demo-ecs", "product_type": "ECS", "billing_mode": "PREPAID",
        "name": "ECS 2 vCPU 4 GiB", "monthly_price_fen": 5_000, "yearly_price_fen": 50_000,
    }, idempotency_key=f"demo-product-{run}")["product"]
    print(f"product    {product['product_id']} ({product['name']}): "
          f"{product['monthly_price_fen']} fen/month, {product['yearly_price_fen']} fen/year")

    items = [{"product_id": product["product_id"], "period": {"unit": "MONTH", "count": 1}}]
    due = engine.quote(account_id, items)["amounts"]["amount_due_fen"]
    order = engine.order_create("demo", account_id, items, expected_amount_due_fen=due,
                                idempotency_key=f"demo-order-{run}")["order"]
    print(f"order      {order['order_id']} {order['status']}: {due} fen due by "
          f"{business_time(order['pay_deadline'], offset)}")

    paid = engine.order_pay("demo", account_id, order["order_id"],
                            coupon_ids=[coupon["coupon_id"]])["order"]
    amounts = paid["amounts"]
    balance = engine.account_get(account_id)["account"]["cash_balance_fen"]
    [left] = [c["balance_fen"] for c in engine.iter_coupons(account_id)
              if c["coupon_id"] == coupon["coupon_id"]]
    print(f"pay        voucher {amounts['voucher_fen']} + cash {amounts['cash_fen']} fen -> "
          f"{paid['status']}; balance {balance} fen, voucher {left} fen left")

    # The host provisions what "resource.created" announced, then reports the outcome.
    [resource] = paid["resources"]
    [provisioned] = engine.resource_report("demo", account_id, [
        {"resource_id": resource["resource_id"], "outcome": "SUCCEEDED"}])["resources"]
    status = engine.order_get(account_id, order["order_id"])["order"]["status"]
    print(f"provision  {provisioned['resource_id']} {provisioned['status']} until "
          f"{provisioned['expire_at_local']}; order {status}")


if __name__ == "__main__":
    sys.exit(main())
