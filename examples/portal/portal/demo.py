"""Demo data, loaded on first start (gunicorn's on_starting hook runs this module in a child
process, so the master never opens an engine):

    python -m portal.demo DB_PATH

An operator login (from the environment, see README), a catalog, an active customer
`hw-demo` (user name `demo`, password `Demo-Pass-2024`) with money and a coupon, an eligible
enterprise account `hw-new` with no platform account yet (for registration) and a personal,
unverified account `hw-personal` (failing E1 and E2). Loading twice changes nothing."""

from __future__ import annotations

import os
import sys

from billing import Engine, errors

from .backend import DEMO_START

PRODUCTS = [
    {"product_id": "ecs.s6", "product_type": "ECS", "billing_mode": "PREPAID", "monthly_price_fen": 10000,
     "yearly_price_fen": 100000, "bound_products": ["evs.sys40"]},
    {"product_id": "evs.sys40", "product_type": "EVS", "billing_mode": "PREPAID", "monthly_price_fen": 1000,
     "yearly_price_fen": 10000},
    {"product_id": "evs.100", "product_type": "EVS", "billing_mode": "PREPAID", "monthly_price_fen": 3000,
     "yearly_price_fen": 30000},
    {"product_id": "ssl.dv", "product_type": "SSL", "billing_mode": "PREPAID", "monthly_price_fen": 500,
     "refundable": False},
    {"product_id": "eip.bw", "product_type": "EIP", "billing_mode": "ON_DEMAND", "hourly_price_microfen": 12_000_000},
]
DEMO_PASSWORD = "Demo-Pass-2024"


def load(path: str) -> None:
    demo = os.environ.get("PORTAL_DEMO", "1") == "1"
    with (Engine(path, clock="manual", now=DEMO_START) if demo else Engine(path)) as engine:
        try:
            engine.account_get("hw-demo")
            return  # loaded before
        except errors.NotFound:
            pass
        if os.environ.get("PORTAL_FAST_HASHING") == "1":
            # The library's floor costs: the browser tests log in many times.
            engine.update_config({"password_hash_ops_limit": 2, "password_hash_memory_bytes": 19 * 1024 * 1024}, "demo")
        for product in PRODUCTS:
            engine.product_put("demo", product)
        engine.account_put("demo", "hw-demo", type="ENTERPRISE", realname_verified=True, level="V3")
        engine.topup("demo", "hw-demo", 500_000, "demo-seed-1")
        now = engine.now()
        engine.coupon_issue("demo", "hw-demo", "VOUCHER", now, now + 90 * 86400, face_value_fen=2_000)
        platform = engine.platform_apply("demo", "hw-demo", "demo", "demo@example.com", "13800138000",
                                         contact_name="演示用户")["platform_account"]["platform_account_id"]
        token = engine.platform_approve("demo", platform)["password_set_token"]
        engine.platform_activate("demo", token, DEMO_PASSWORD)
        order = engine.order_create("demo", "hw-demo", [{"product_id": "evs.100", "period": {"unit": "MONTH", "count": 1}}],
                                    auto_pay=True)["order"]
        resources = engine.order_get("hw-demo", order["order_id"])["order"]["resources"]
        engine.resource_report("demo", "hw-demo", [{"resource_id": r["resource_id"], "outcome": "SUCCEEDED"}
                                                   for r in resources])
        engine.account_put("demo", "hw-new", type="ENTERPRISE", realname_verified=True, level="V3")
        engine.account_put("demo", "hw-personal", type="PERSONAL", realname_verified=False, level="V1")


if __name__ == "__main__":
    load(os.path.abspath(sys.argv[1]))
