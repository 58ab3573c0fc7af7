"""Shared parts of the stress drivers (crash_test.py, hammer.py).

* `billing` import: the ctypes binding in examples/python, with BILLING_LIBRARY defaulting
  to the release library in dist/lib.
* `setup_world`: the catalog, the accounts and the configuration every run starts from,
  each written with an idempotency key (so every audit row of a stress database has an
  idempotency record: see `check_audit_matches_idempotency`).
* `Workload`: a random mix of the mutating calls (top-ups, coupons, orders, payments,
  cancellations, reviews, provisioning reports, renewals, expiry policies, releases,
  unsubscriptions, usage, scheduler runs), every call carrying a unique idempotency key,
  with the candidates (pending orders, resources, coupons) kept in a small cache seeded from
  the database through the public API.
* `check_database`: the invariants checked after a crash or a hammer run, through the API
  (billing_verify, ledgers, order details) and read-only SQL on the file (tables named in
  Sources/BillingStorage/Schema.swift).
* Databases: an SQLite file, or with `--database-url` (a base postgresql:// URL, as
  `scripts/pg-cluster.sh url` prints) a fresh PostgreSQL schema of that database
  (`database_path`); the read-only SQL then goes through psql (`sql_connect`), in the
  subset both dialects share.
"""

import collections
import json
import os
import sqlite3
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
os.environ.setdefault("BILLING_LIBRARY", os.path.join(REPO, "dist", "lib", "libbilling.so"))
sys.path.insert(0, os.path.join(REPO, "examples", "python"))
# The Python tests' helpers (no pytest needed to import them): the constants and set-up the
# drivers share with the tests.
sys.path.insert(0, os.path.join(REPO, "examples", "python", "tests"))

import billing  # noqa: E402
from billing import errors  # noqa: E402
from helpers import DAY, HOUR, START  # noqa: E402,F401  (START: 2024-01-01T10:30:00+08:00)
from helpers import schema_url, sql_rows  # noqa: E402

# The C function each workload operation calls, and the operation name the library records
# in the audit log and the idempotency table for it.
OPERATIONS = {
    "billing_account_topup": "account.topup",
    "billing_account_put": "account.put",
    "billing_account_settings_update": "account.settings",
    "billing_coupon_issue": "coupon.issue",
    "billing_config_update": "config.update",
    "billing_product_put": "product.put",
    "billing_order_create": "order.create",
    "billing_order_pay": "order.pay",
    "billing_orders_cancel": "order.cancel",
    "billing_order_review": "order.review",
    "billing_resource_report": "resource.provisioned",
    "billing_resources_renew": "resource.renew",
    "billing_resources_policy_set": "resource.policy",
    "billing_resources_release": "resource.release",
    "billing_resources_unsubscribe": "resource.unsubscribe",
    "billing_usage_report": "usage.report",
    "billing_scheduler_run": "scheduler.run",
}

# Refusals a random workload runs into legitimately: counted, never a failure.
LEGITIMATE = (errors.Refused, errors.NotFound, errors.Conflict, errors.Busy)
# ...except these reasons, which name no business rule: a raw SQLite constraint surfacing as
# CONFLICT is a defect (the header reserves CONFLICT for requests that collide with stored
# state, such as a reused idempotency key). Counted, and reported as failures.
SUSPICIOUS_REASONS = ("constraint_violation",)

PRODUCTS = [
    {"product_id": "disk", "product_type": "EVS", "billing_mode": "PREPAID",
     "monthly_price_fen": 1_000, "yearly_price_fen": 10_000, "hourly_price_microfen": 2_000_000},
    {"product_id": "vm", "product_type": "ECS", "billing_mode": "PREPAID",
     "monthly_price_fen": 3_000, "yearly_price_fen": 30_000, "hourly_price_microfen": 5_000_000,
     "bound_products": ["disk"]},
    {"product_id": "hw", "product_type": "DEH", "billing_mode": "PREPAID", "kind": "hardware",
     "monthly_price_fen": 20_000, "hourly_price_microfen": 30_000_000},
    {"product_id": "rev", "product_type": "DCC", "billing_mode": "PREPAID",
     "review_required": True, "monthly_price_fen": 9_000, "yearly_price_fen": 90_000},
    {"product_id": "od", "product_type": "OBS", "billing_mode": "ON_DEMAND",
     "hourly_price_microfen": 3_000_000},
    {"product_id": "pkg", "product_type": "OBSPKG", "billing_mode": "PACKAGE",
     "monthly_price_fen": 500,
     "package": {"kind": "AMOUNT", "quota": 20, "applies_to": ["OBS"], "resettable": True}},
]

# Small enough that some unsubscriptions wait for a review (order.review is in the mix).
CONFIG = {"large_refund_threshold_fen": 25_000}


# What a call in flight may fail with when the database server restarts or a connection
# drops (issue 18): BILLING_E_STORAGE or BILLING_E_BUSY, always with a reason. Only the
# fault test (hammer.py --restart-server-after) allows them; the next calls must reconnect.
TRANSIENT = (errors.StorageError, errors.Busy)


def is_url(path):
    return str(path).startswith(("postgresql://", "postgres://"))


def database_path(workdir, name, url=None):
    """Where a driver's database `name` lives: `workdir`/`name`.sqlite, or with `url` (a base
    postgresql:// URL) a schema of that database no earlier run used (the engine creates it)."""
    if not url:
        return os.path.join(workdir, f"{name}.sqlite")
    word = "".join(c if c.isalnum() else "_" for c in name.lower())[:24]
    return schema_url(url, f"s{os.getpid()}_{int(time.time()) % 100000}_{word}")


def remove_database(path):
    """Removes a database file and what SQLite keeps beside it; nothing for a PostgreSQL
    schema (it goes with the throwaway cluster, and a fresh one has a new name)."""
    if is_url(path):
        return
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass


def open_engine(path, now, busy_timeout_ms=10_000, synchronous="FULL"):
    # synchronous is SQLite's (a PostgreSQL server's durability is its own configuration).
    options = {} if is_url(path) else {"synchronous": synchronous}
    return billing.Engine(path, clock="manual", now=now, busy_timeout_ms=busy_timeout_ms, **options)


def setup_world(engine, accounts, prefix="setup"):
    """The configuration, catalog and accounts, every write with an idempotency key (a
    replay of the setup on an existing file changes nothing)."""
    engine.update_config(CONFIG, actor="stress", idempotency_key=f"{prefix}-config")
    for product in PRODUCTS:
        engine.product_put("stress", product, idempotency_key=f"{prefix}-product-{product['product_id']}")
    for index, account in enumerate(accounts):
        engine.account_put("stress", account, idempotency_key=f"{prefix}-account-{account}",
                           type="ENTERPRISE", realname_verified=True, level="V3",
                           credit_limit_fen=50_000 if index % 2 else None)
        engine.topup("stress", account, 2_000_000, f"{prefix}-seed-{account}",
                     idempotency_key=f"{prefix}-seed-{account}")


class State:
    """What a workload may act on, per account. Only a cache of candidates: a stale entry
    makes a call fail with a legitimate refusal, never a wrong check."""

    def __init__(self, accounts):
        self.lock = threading.Lock()
        self.accounts = list(accounts)
        self.coupons = {a: [] for a in accounts}        # usable coupon ids
        self.pending = {a: set() for a in accounts}     # PENDING_PAYMENT root order ids
        self.review = {a: set() for a in accounts}      # PENDING_REVIEW order ids
        self.provisioning = {a: set() for a in accounts}  # PENDING_PROVISION resource ids
        self.group_of = {}                              # resource id -> its primary's id
        self.prepaid = {a: set() for a in accounts}     # primary prepaid resource ids
        self.ended = {a: set() for a in accounts}       # primaries maybe EXPIRED/FROZEN
        self.ondemand = {a: {} for a in accounts}       # resource id -> effective_at

    def pick(self, rng, collection, count=1):
        with self.lock:
            items = sorted(set(collection))  # a list may hold an id twice (a seed racing an append)
        if not items:
            return []
        return rng.sample(items, min(count, len(items)))

    def seed(self, engine):
        """Fills the cache from the database through the public API, bounded: the first
        page of each listing. Reads first, then updates the cache under the lock (other
        threads may be using it)."""
        for a in self.accounts:
            pending = [row.get("combined_order_id") or row["order_id"] for row in
                       engine.orders(a, status="PENDING_PAYMENT", limit=100)["orders"]]
            review = [row.get("combined_order_id") or row["order_id"] for row in
                      engine.orders(a, status="PENDING_REVIEW", limit=50)["orders"]]
            resources = []
            for row in (engine.orders(a, status="PROCESSING", limit=30)["orders"]
                        + engine.orders(a, billing_mode="ON_DEMAND", limit=20)["orders"]):
                try:
                    resources += engine.order_get(a, row["order_id"])["order"].get("resources") or []
                except errors.NotFound:
                    continue
            renewable = []
            for tab in ("MANUAL", "AUTO_RENEW", "TO_ON_DEMAND", "NO_RENEW"):
                renewable += engine.renewals(a, tab, limit=100)["resources"]
            coupons = [c["coupon_id"] for c in engine.coupons(a, status="USABLE", limit=100)["coupons"]]
            with self.lock:
                self.pending[a].update(pending)
                self.review[a].update(review)
                for r in resources:
                    self.absorb_resource(a, r)
                for r in renewable:
                    if r["status"] == "IN_USE":
                        self.prepaid[a].add(r["resource_id"])
                    else:
                        self.ended[a].add(r["resource_id"])
                self.coupons[a] = coupons

    def absorb_order(self, account, order):
        """Learns from an order document (create, pay, renew responses)."""
        with self.lock:
            root = order["order_id"]
            if order["status"] == "PENDING_PAYMENT":
                self.pending[account].add(root)
            elif order["status"] == "PENDING_REVIEW":
                self.review[account].add(root)
            else:
                self.pending[account].discard(root)
                self.review[account].discard(root)
            for r in order.get("resources") or []:
                self.absorb_resource(account, r)

    def absorb_resource(self, account, r):
        rid = r["resource_id"]
        status = r["status"]
        if r.get("primary_resource_id"):
            self.group_of[rid] = r["primary_resource_id"]
        if status == "PENDING_PROVISION":
            self.provisioning[account].add(rid)
            return
        self.provisioning[account].discard(rid)
        if r["billing_mode"] == "ON_DEMAND":
            if status in ("IN_USE", "EXPIRED", "FROZEN") and r.get("effective_at"):
                self.ondemand[account][rid] = r["effective_at"]
            else:
                self.ondemand[account].pop(rid, None)
        elif r["billing_mode"] == "PREPAID" and not r.get("primary_resource_id"):
            if status == "IN_USE":
                self.prepaid[account].add(rid)
            elif status in ("EXPIRED", "FROZEN"):
                self.prepaid[account].add(rid)
                self.ended[account].add(rid)
            else:
                self.prepaid[account].discard(rid)
                self.ended[account].discard(rid)


class Workload:
    """Random mutating calls with unique idempotency keys.

    `record(key, function, request)` is called before each call (an intent), and
    `done(key, operation, response)` after it returned OK. Legitimate refusals are counted in
    `refusals`; anything else propagates to the caller."""

    WEIGHTS = {
        "topup": 8, "topup_same_reference": 2, "coupon": 6, "create": 14, "pay": 10,
        "cancel": 4, "review": 2, "report": 10, "renew": 6, "policy": 5, "release": 2,
        "unsubscribe": 4, "usage": 8, "scheduler": 8, "settings": 1, "replay": 3,
    }

    def __init__(self, engine, rng, key_prefix, state, actor="stress", clock=None,
                 record=None, done=None, weights=None, known_bugs=False, on_refusal=None,
                 on_transient=None):
        self.engine = engine
        self.rng = rng
        self.prefix = key_prefix
        self.state = state
        self.actor = actor
        self.clock = clock  # callable(workload) -> None, moves time before a scheduler run
        self.record = record
        self.done = done
        self.on_refusal = on_refusal  # callable(key, kind, message) for each refusal
        # callable(key, function, request, exc) for a storage failure with a reason (a server
        # restart, a dropped connection): counted in `transients` instead of raised. None: raised.
        self.on_transient = on_transient
        self.transients = collections.Counter()
        self.counter = 0
        self.refusals = collections.Counter()
        self.refusal_messages = {}  # the first message of each refusal kind
        self.calls = collections.Counter()
        self.last = None  # (function, request, response) of the last success, for replays
        # False: steer clear of the triggers of the library bugs the stress runs found (see
        # README.md): a primary and its bound resources are reported provisioned together,
        # with one outcome (bug 1), and no RENEWAL_ONLY unsubscription (bug 2). True: do both.
        self.known_bugs = known_bugs
        weights = weights or self.WEIGHTS
        self.ops = list(weights)
        self.op_weights = [weights[o] for o in self.ops]

    # -- plumbing ---------------------------------------------------------------------

    def next_key(self):
        self.counter += 1
        return f"{self.prefix}-{self.counter}"

    def call(self, function, request, key=None, actor=None):
        """One keyed write; None when refused legitimately."""
        key = key or self.next_key()
        request = dict(request, actor=actor or self.actor, idempotency_key=key)
        if self.record:
            self.record(key, function, request)
        self.calls[function] += 1
        try:
            response = self.engine.call(function, request)
        except errors.StorageError as exc:
            if not self.transient(exc, key, function, request):
                raise
            return None
        except LEGITIMATE as exc:
            kind = f"{OPERATIONS[function]}:{type(exc).__name__}:{exc.reason}"
            self.refusals[kind] += 1
            self.refusal_messages.setdefault(kind, exc.message)
            if self.on_refusal:
                self.on_refusal(key, kind, exc.message)
            return None
        if self.done:
            self.done(key, OPERATIONS[function], response)
        self.last = (function, request, response)
        return response

    def transient(self, exc, key, function, request):
        """Whether a storage failure is one the fault test allows (then counted): only with
        on_transient, and only with a reason."""
        if self.on_transient is None or not exc.reason:
            return False
        self.transients[f"{OPERATIONS[function]}:{type(exc).__name__}:{exc.reason}"] += 1
        self.on_transient(key, function, request, exc)
        return True

    def step(self):
        op = self.rng.choices(self.ops, self.op_weights)[0]
        getattr(self, "op_" + op)()
        return op

    def account(self):
        return self.rng.choice(self.state.accounts)

    # -- operations -------------------------------------------------------------------

    def op_topup(self):
        a = self.account()
        key = self.next_key()
        self.call("billing_account_topup", {"account_id": a,
                                            "amount_fen": self.rng.randint(1, 40_000),
                                            "external_reference": f"ref-{key}"}, key=key)

    def op_topup_same_reference(self):
        """A new key for a reference already used with the same amount: replayed by
        reference ("replayed": true), no second ledger entry."""
        last = self.last
        if not last or last[0] != "billing_account_topup":
            return self.op_topup()
        request = {k: v for k, v in last[1].items() if k not in ("actor", "idempotency_key")}
        response = self.call("billing_account_topup", request)
        if response is not None and not response["replayed"]:
            raise AssertionError(f"top-up reference {request['external_reference']} was "
                                 f"credited twice: {response}")

    def op_coupon(self):
        a = self.account()
        now = self.engine.now()
        kind = self.rng.choice(["VOUCHER", "VOUCHER", "CASH_COUPON", "STORED_VALUE_CARD",
                                "DISCOUNT_COUPON"])
        request = {"account_id": a, "kind": kind, "valid_from": now - HOUR,
                   "valid_to": now + self.rng.choice([2 * DAY, 30 * DAY, 400 * DAY])}
        if kind == "DISCOUNT_COUPON":
            request["discount_bp"] = self.rng.choice([500, 1000, 2000])
        else:
            request["face_value_fen"] = self.rng.choice([100, 500, 2_000, 10_000])
        if self.rng.random() < 0.2:
            request["scope"] = {"products": [self.rng.choice(["vm", "disk", "od", "hw"])]}
        if self.rng.random() < 0.2:
            request["min_spend_fen"] = self.rng.choice([1_000, 5_000])
        response = self.call("billing_coupon_issue", request)
        if response is not None:
            with self.state.lock:
                self.state.coupons[a].append(response["coupon"]["coupon_id"])

    def _items(self):
        r = self.rng.random()
        period = self.rng.choice([{"unit": "MONTH", "count": 1}, {"unit": "MONTH", "count": 1},
                                  {"unit": "MONTH", "count": 2}, {"unit": "YEAR", "count": 1}])
        quantity = self.rng.choice([1, 1, 1, 2])
        if r < 0.30:
            return [{"product_id": "vm", "period": period, "quantity": quantity}]
        if r < 0.45:
            return [{"product_id": "disk", "period": period}]
        if r < 0.55:  # a combined order
            return [{"product_id": "vm", "period": {"unit": "MONTH", "count": 1}},
                    {"product_id": "disk", "period": period, "quantity": quantity}]
        if r < 0.70:
            return [{"product_id": "od", "quantity": quantity}]
        if r < 0.80:
            return [{"product_id": "pkg", "period": {"unit": "MONTH", "count": 1}}]
        if r < 0.90:
            return [{"product_id": "hw", "period": {"unit": "MONTH", "count": 1}}]
        return [{"product_id": "rev", "period": {"unit": "MONTH", "count": 1}}]

    def _coupon_ids(self, a, chance=0.4):
        if self.rng.random() >= chance:
            return None
        return self.state.pick(self.rng, self.state.coupons[a], self.rng.randint(1, 2)) or None

    def op_create(self):
        a = self.account()
        items = self._items()
        request = {"account_id": a, "items": items}
        paid_mode = items[0]["product_id"] != "od"
        if paid_mode and self.rng.random() < 0.35:
            request["auto_pay"] = True
            coupons = self._coupon_ids(a)
            if coupons:
                request["coupon_ids"] = coupons
        response = self.call("billing_order_create", request)
        if response is not None:
            self.state.absorb_order(a, response["order"])

    def op_pay(self):
        a = self.account()
        [order_id] = self.state.pick(self.rng, self.state.pending[a]) or [None]
        if order_id is None:
            return self.op_create()
        request = {"account_id": a, "order_id": order_id}
        coupons = self._coupon_ids(a, 0.5)
        if coupons:
            request["coupon_ids"] = coupons
        response = self.call("billing_order_pay", request)
        if response is not None:
            self.state.absorb_order(a, response["order"])
        else:
            with self.state.lock:
                if self.rng.random() < 0.3:
                    self.state.pending[a].discard(order_id)

    def op_cancel(self):
        a = self.account()
        ids = self.state.pick(self.rng, self.state.pending[a], self.rng.randint(1, 3))
        if not ids:
            return self.op_create()
        response = self.call("billing_orders_cancel", {"account_id": a, "order_ids": ids})
        if response is not None:
            with self.state.lock:
                for result in response["results"]:
                    self.state.pending[a].discard(result["order_id"])

    def op_review(self):
        a = self.account()
        [order_id] = self.state.pick(self.rng, self.state.review[a]) or [None]
        if order_id is None:
            return self.op_create()
        response = self.call("billing_order_review", {
            "account_id": a, "order_id": order_id,
            "decision": self.rng.choice(["APPROVE", "APPROVE", "REJECT"])})
        with self.state.lock:
            self.state.review[a].discard(order_id)
        if response is not None:
            self.state.absorb_order(a, response["order"])

    def op_report(self):
        a = self.account()
        ids = self.state.pick(self.rng, self.state.provisioning[a], self.rng.randint(1, 3))
        if not ids:
            return self.op_pay()
        if self.known_bugs:
            results = [{"resource_id": rid,
                        "outcome": "FAILED" if self.rng.random() < 0.12 else "SUCCEEDED"} for rid in ids]
        else:
            with self.state.lock:
                groups = {self.state.group_of.get(rid, rid) for rid in ids}
                members = sorted(rid for rid in self.state.provisioning[a]
                                 if self.state.group_of.get(rid, rid) in groups)
            outcome = {g: "FAILED" if self.rng.random() < 0.12 else "SUCCEEDED" for g in groups}
            ids = members or ids
            results = [{"resource_id": rid, "outcome": outcome.get(self.state.group_of.get(rid, rid), "SUCCEEDED")}
                       for rid in ids]
        response = self.call("billing_resource_report", {"account_id": a, "results": results})
        with self.state.lock:
            for rid in ids:
                self.state.provisioning[a].discard(rid)
            for r in (response or {}).get("resources", []):
                self.state.absorb_resource(a, r)

    def op_renew(self):
        a = self.account()
        ids = self.state.pick(self.rng, self.state.prepaid[a], self.rng.choice([1, 1, 2]))
        if not ids:
            return self.op_report()
        request = {"account_id": a, "resource_ids": ids}
        if self.rng.random() < 0.5:
            request["period"] = self.rng.choice([{"unit": "MONTH", "count": 1},
                                                 {"unit": "MONTH", "count": 3}])
        if self.rng.random() < 0.5:
            request["auto_pay"] = True
            coupons = self._coupon_ids(a, 0.3)
            if coupons:
                request["coupon_ids"] = coupons
        response = self.call("billing_resources_renew", request)
        if response is not None:
            self.state.absorb_order(a, response["order"])

    def op_policy(self):
        a = self.account()
        ids = self.state.pick(self.rng, self.state.prepaid[a])
        if not ids:
            return self.op_report()
        request = {"account_id": a, "resource_ids": ids,
                   "policy": self.rng.choice(["AUTO_RENEW", "AUTO_RENEW", "MANUAL", "NO_RENEW",
                                              "TO_ON_DEMAND"])}
        if request["policy"] == "AUTO_RENEW" and self.rng.random() < 0.5:
            request["auto_renew_times"] = self.rng.randint(0, 3)
        self.call("billing_resources_policy_set", request)

    def op_release(self):
        a = self.account()
        ids = self.state.pick(self.rng, self.state.ended[a])
        if not ids:
            # Expiry happens in scheduler runs: look for expired or frozen resources.
            tab = self.rng.choice(["MANUAL", "AUTO_RENEW", "NO_RENEW"])
            found = self.engine.renewals(a, tab, status=self.rng.choice(["EXPIRED", "FROZEN"]),
                                         limit=20)["resources"]
            ids = [self.rng.choice(found)["resource_id"]] if found else []
        if not ids:
            return self.op_scheduler()
        response = self.call("billing_resources_release", {"account_id": a, "resource_ids": ids})
        with self.state.lock:
            for rid in ids:
                self.state.ended[a].discard(rid)
                if response is not None:
                    self.state.prepaid[a].discard(rid)

    def op_unsubscribe(self):
        a = self.account()
        with self.state.lock:
            pool = set(self.state.prepaid[a] if self.rng.random() < 0.85 else self.state.ondemand[a])
        ids = self.state.pick(self.rng, pool)
        if not ids:
            return self.op_report()
        request = {"account_id": a, "resource_ids": ids}
        if self.known_bugs and self.rng.random() < 0.2:
            request["type"] = "RENEWAL_ONLY"
        response = self.call("billing_resources_unsubscribe", request)
        if response is not None:
            order = response["order"]
            with self.state.lock:
                if order["status"] == "PENDING_REVIEW":
                    self.state.review[a].add(order["order_id"])
                elif request.get("type") != "RENEWAL_ONLY":
                    for rid in ids:
                        self.state.prepaid[a].discard(rid)
                        self.state.ondemand[a].pop(rid, None)

    def op_usage(self):
        a = self.account()
        with self.state.lock:
            candidates = sorted(self.state.ondemand[a].items())
        if not candidates:
            return self.op_create()
        now = self.engine.now()
        records = []
        for rid, effective in self.rng.sample(candidates, min(len(candidates), self.rng.randint(1, 3))):
            end = now - self.rng.randint(0, 2 * HOUR)
            start = max(effective, end - self.rng.randint(0, 3 * HOUR))
            if end < start:
                continue
            records.append({"usage_id": f"{self.prefix}-u{self.counter + 1}-{len(records)}",
                            "resource_id": rid, "quantity": self.rng.randint(0, 50),
                            "start": start, "end": end})
        if not records:
            return
        self.call("billing_usage_report", {"account_id": a, "records": records})

    def op_scheduler(self):
        if self.clock:
            self.clock(self)
        request = {}
        if self.rng.random() < 0.3:
            request["limit"] = self.rng.randint(1, 20)
        self.call("billing_scheduler_run", request)

    def op_settings(self):
        self.call("billing_account_settings_update", {"account_id": self.account(),
                                                      "deduction_days": self.rng.randint(2, 7)})

    def op_replay(self):
        """The last successful request again with its key: the stored response, unchanged."""
        if not self.last:
            return self.op_topup()
        function, request, response = self.last
        try:
            again = self.engine.call(function, request)
        except TRANSIENT as exc:
            # A replay cut off by a server restart says nothing about the stored response.
            if isinstance(exc, errors.StorageError) and self.transient(exc, request["idempotency_key"],
                                                                      function, request):
                return
            if isinstance(exc, errors.Busy) and self.on_transient is not None and exc.reason:
                self.transients[f"replay:Busy:{exc.reason}"] += 1
                return
            raise AssertionError(f"replay of {request['idempotency_key']} ({function}) failed: "
                                 f"{exc!r}") from exc
        except errors.BillingError as exc:  # even a "legitimate" code is wrong for a replay
            raise AssertionError(f"replay of {request['idempotency_key']} ({function}) failed: "
                                 f"{exc!r}") from exc
        if again != response:
            raise AssertionError(f"replay of {request['idempotency_key']} ({function}) returned "
                                 f"another response:\n first {json.dumps(response)[:400]}\n "
                                 f"again {json.dumps(again)[:400]}")


# -- checks -------------------------------------------------------------------------------

class PostgresReader:
    """sqlite3's execute/fetchone/iteration over psql (helpers.sql_rows), read-only, enough
    for the checks below; each query is its own snapshot (the checks run after the writers
    stopped)."""

    def __init__(self, url):
        self.url = url

    def execute(self, query):
        return _Rows(sql_rows(self.url, query))

    def close(self):
        pass


class _Rows(list):
    def fetchone(self):
        return self[0] if self else None


def sql_connect(path):
    """A read-only SQL view of the database, for the checks the API cannot express directly."""
    if is_url(path):
        return PostgresReader(path)
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    db.execute("PRAGMA query_only = 1")
    return db


def check_audit_matches_idempotency(db):
    """Every write of a stress run carries an idempotency key, and each write commits its
    effect, its audit row and its idempotency record in one transaction; so, per operation,
    the audit log and the idempotency table hold the same number of rows. A torn or doubled
    write breaks the equality."""
    failures = []
    audit = dict(db.execute("SELECT operation, count(*) FROM audit_log GROUP BY operation"))
    keyed = dict(db.execute("SELECT operation, count(*) FROM idempotency GROUP BY operation"))
    for operation in sorted(set(audit) | set(keyed)):
        if audit.get(operation, 0) != keyed.get(operation, 0):
            failures.append(f"audit/idempotency mismatch for {operation}: "
                            f"{audit.get(operation, 0)} audit rows, {keyed.get(operation, 0)} keyed")
    return failures


def check_structure(db):
    """Half-done writes, read from the stored facts (set-based queries: linear in the size
    of the file)."""
    failures = []

    def fail(message):
        if len(failures) < 50:
            failures.append(message)

    debits = collections.defaultdict(lambda: [0, 0])  # (order, fund) -> [entries, sum]
    for oid, fund, n, total in db.execute("""
            SELECT order_id, fund, count(*), sum(amount) FROM ledger
            WHERE order_id IS NOT NULL AND kind != 'REFUND' GROUP BY order_id, fund"""):
        debits[(oid, fund)] = [n, total]
    refunds = {(oid, fund): total for oid, fund, total in db.execute("""
            SELECT order_id, fund, sum(amount) FROM ledger
            WHERE order_id IS NOT NULL AND kind = 'REFUND' GROUP BY order_id, fund""")}
    ordered = dict(db.execute("SELECT order_id, sum(quantity) FROM order_lines GROUP BY order_id"))
    made = dict(db.execute("SELECT order_id, count(*) FROM resources GROUP BY order_id"))
    sub_orders = {oid: (n, unpaid) for oid, n, unpaid in db.execute("""
            SELECT combined_id, count(*), sum(CASE WHEN paid_at IS NULL THEN 1 ELSE 0 END) FROM orders
            WHERE combined_id IS NOT NULL GROUP BY combined_id""")}
    periods = collections.Counter((oid, rid) for oid, rid in db.execute(
        "SELECT order_id, resource_id FROM resource_periods"))
    renew_lines = collections.defaultdict(list)
    for oid, line_no, rid in db.execute("""
            SELECT l.order_id, l.line_no, l.resource_id FROM order_lines l JOIN orders o ON o.id = l.order_id
            WHERE o.type = 'RENEW' AND o.paid_at IS NOT NULL"""):
        renew_lines[oid].append((line_no, rid))

    for oid, otype, status, cash, credit, combined, paid_at, mode in db.execute("""
            SELECT id, type, status, cash, credit, is_combined, paid_at, billing_mode FROM orders"""):
        if otype == "UNSUBSCRIBE":
            # Completed refund orders: the cash and credit they give back are in the ledger.
            if status == "COMPLETED" and not combined:
                for fund, amount in (("CASH", cash), ("CREDIT", credit)):
                    got = refunds.get((oid, fund), 0)
                    if got != amount:
                        fail(f"refund order {oid} gives back {fund} {amount} but the ledger credits {got}")
            continue
        if combined:
            if paid_at is not None:
                n, unpaid = sub_orders.get(oid, (0, 0))
                if not n or unpaid:
                    fail(f"combined order {oid} paid but {unpaid} of {n} sub-orders unpaid")
            continue
        if paid_at is not None:
            # Paid orders: their ledger debits (one per fund), their resources or periods.
            for fund, amount in (("CASH", cash), ("CREDIT", credit)):
                n, total = debits.get((oid, fund), (0, 0))
                if total != -amount or n > 1:
                    fail(f"paid order {oid} ({otype}) has {fund} {amount} but the ledger shows "
                         f"{n} debit(s) summing to {total}")
            if otype == "NEW" and ordered.get(oid, 0) != made.get(oid, 0):
                fail(f"paid order {oid} ordered {ordered.get(oid, 0)} resources but has {made.get(oid, 0)}")
            if otype == "RENEW":
                for line_no, rid in renew_lines[oid]:
                    if periods[(oid, rid)] != 1:
                        fail(f"paid renewal {oid} line {line_no} gave resource {rid} "
                             f"{periods[(oid, rid)]} periods")
        else:
            # Unpaid orders: no money moved, no resources (pay-per-use orders are never paid
            # and create their resources at once).
            n = debits.get((oid, "CASH"), (0, 0))[0] + debits.get((oid, "CREDIT"), (0, 0))[0]
            if n:
                fail(f"unpaid order {oid} has {n} ledger entries")
            if mode != "ON_DEMAND" and made.get(oid):
                fail(f"unpaid order {oid} has {made[oid]} resources")
    for cid, oid in db.execute("""
            SELECT c.coupon_id, c.order_id FROM coupon_ledger c JOIN orders o ON o.id = c.order_id
            WHERE c.kind = 'USE' AND o.paid_at IS NULL"""):
        fail(f"coupon {cid} used by order {oid}, which is not paid")
    # Each payment is taken once: one USE per coupon and order, one order.paid event.
    for cid, oid, n in db.execute("""
            SELECT coupon_id, order_id, count(*) FROM coupon_ledger
            WHERE kind = 'USE' AND order_id IS NOT NULL GROUP BY coupon_id, order_id HAVING count(*) > 1"""):
        fail(f"coupon {cid} used {n} times by order {oid}")
    for subject, n in db.execute("""
            SELECT subject_id, count(*) FROM events WHERE type = 'order.paid'
            GROUP BY subject_id HAVING count(*) > 1"""):
        fail(f"order {subject} has {n} order.paid events")
    # Top-up references: once each.
    for account, reference, n in db.execute("""
            SELECT account_id, reference, count(*) FROM ledger WHERE kind = 'TOPUP'
            GROUP BY account_id, reference HAVING count(*) > 1"""):
        fail(f"top-up reference {reference} of {account} is in the ledger {n} times")
    return failures


def check_ledgers_through_api(engine, accounts):
    """Ledger = balance through the API: the CASH entries sum to the cash position and the
    CREDIT entries to minus the credit used; every top-up reference appears once. Returns
    (failures, {account: {reference: amount}})."""
    failures = []
    topups = {}
    for a in accounts:
        try:
            account = engine.account_get(a)["account"]
        except errors.NotFound:
            continue  # a fresh file killed before the account was created
        cash = credit = 0
        refs = collections.Counter()
        amounts = {}
        for entry in engine.iter_ledger(a, limit=1000):
            if entry["fund"] == "CASH":
                cash += entry["amount_fen"]
            else:
                credit += entry["amount_fen"]
            if entry["kind"] == "TOPUP":
                refs[entry["reference"]] += 1
                amounts[entry["reference"]] = entry["amount_fen"]
        position = account["cash_balance_fen"] - account["arrears_fen"]
        if cash != position:
            failures.append(f"{a}: CASH ledger sums to {cash}, cash position is {position}")
        if -credit != account["credit_used_fen"]:
            failures.append(f"{a}: CREDIT ledger sums to {credit}, credit used is "
                            f"{account['credit_used_fen']}")
        for ref, n in refs.items():
            if n != 1:
                failures.append(f"{a}: top-up reference {ref} appears {n} times")
        topups[a] = amounts
    return failures, topups


def check_verify(engine):
    report = engine.verify()
    if report["ok"]:
        return []
    return [f"verify breach: {b['check']} {b['subject']}: {b['detail']}" for b in report["breaches"][:20]]


def integrity(db):
    # PostgreSQL has no integrity_check to run from outside: billing_verify's storage check
    # (amcheck's B-tree checks, when the extension is installed) covers what it can.
    if isinstance(db, PostgresReader):
        return []
    rows = [r[0] for r in db.execute("PRAGMA integrity_check")]
    return [] if rows == ["ok"] else [f"integrity_check: {rows[:5]}"]
