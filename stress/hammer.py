#!/usr/bin/env python3
"""A concurrency hammer for libbilling: processes x threads on one database file.

    python3 stress/hammer.py                     # CI: 3 processes x 4 threads, 20 s
    python3 stress/hammer.py --seconds 120 -P 4 -T 6
    python3 stress/hammer.py --database-url "$(scripts/pg-cluster.sh url)"     # on PostgreSQL
    python3 stress/hammer.py --database-url "$(scripts/pg-cluster.sh url)" --restart-server-after 8

With --database-url (a base postgresql:// URL) the database is a fresh schema of that
PostgreSQL database instead of a file (the read-only SQL checks go through psql).

--restart-server-after S is the fault test of issue 18: S seconds into the run the parent
restarts the throwaway server (`scripts/pg-cluster.sh restart`: pg_ctl restart -m immediate,
every connection dropped mid-statement). Calls in flight may then fail with
BILLING_E_STORAGE or BILLING_E_BUSY, which must carry a reason (counted, not failures; any
other error still is); and the checks below gain: "reconnected" (every thread had a success
after its last such failure, so later calls reconnected by themselves) and the top-ups and
acknowledged keys of calls whose outcome the failure left unknown may be in the ledger or not.
Everything acknowledged must be there ("acknowledged": every key a worker was answered OK is
in the idempotency table), and the other checks hold as without the fault.

Each worker process opens one engine (file-backed, synchronous FULL, manual clock) shared by
its threads. Every thread runs the random workload of stresslib.Workload (buys, pays,
cancels, reviews, provisioning reports, renewals, expiry policies, releases,
unsubscriptions, usage, top-ups, scheduler runs), every call with an idempotency key; one
thread per process refreshes the candidate cache from the database every ~2 s, so
processes race for the same pending orders and resources. The clocks follow one shared
clock: a scheduler run moves it forward (0-6 h) and every thread brings its process's clock
up to it before each call.

On top of that, each thread interleaves "shared" operations: operation n of a deterministic
sequence, with the key "shared-<n>-<kind>" and the same request in every process (top-ups
with one reference, an order created and then paid, an auto-paid order and its provisioning
report, a voucher, a scheduler run), so the same key arrives from several processes and
threads at once, plus replays of older shared keys.

Legitimate refusals (BILLING_E_REFUSED, NOT_FOUND, CONFLICT, BUSY) are counted, not
failures; any other error (INTERNAL, STORAGE, INVALID, ...), an exception in a thread, or a
worker that crashes or hangs is a failure. Afterwards the parent checks:

  workers        every worker exited 0 without unexpected errors;
  refusal reasons no refusal names a raw storage constraint ("constraint_violation"): the
                 header reserves CONFLICT for requests colliding with stored state;
  shared keys    every successful call with one shared key returned the same response, in
                 every process;
  verify         billing_verify reports no breach;
  audit          per operation, audit rows = idempotency records (every write is keyed; a
                 key performed twice, or a write without its record, breaks this);
  orders per key each order.create key made exactly one order: top-level NEW orders =
                 order.create records, and their responses name distinct, existing orders;
  paid once      no order paid twice: at most one debit per fund and order, one order.paid
                 event, one coupon use per coupon and order; a paid order has its resources
                 or periods, an unpaid one has none (stresslib.check_structure);
  top-ups        each reference is in the ledger once, and the references and amounts in the
                 ledger are exactly those of the successful top-ups the workers saw;
  acknowledged   every key a worker was answered OK for is recorded in the database;
  ledger         ledger = balance for every account, through the API;
  integrity      PRAGMA integrity_check (SQLite only).

By default the workload avoids the triggers of the known library bugs (README.md);
--known-bugs runs them too.

Ends with "N passed, M failed" over these checks (exit status 1 if any failed).
"""

import argparse
import collections
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import stresslib
from stresslib import HOUR, START

M1 = {"unit": "MONTH", "count": 1}
SHARED_KINDS = 5


def shared_operation(n, accounts, lookup):
    """The n-th shared operation: a list of (key, function, request-or-callable) steps, the
    same in every process. A callable builds its request from an earlier step's response
    (found with lookup(key)); it returns None when that step did not succeed."""
    a = accounts[n % len(accounts)]
    kind = n % SHARED_KINDS
    if kind == 0:
        return [(f"shared-{n}-topup", "billing_account_topup",
                 {"account_id": a, "amount_fen": 100 + n, "external_reference": f"shared-ref-{n}"})]
    if kind == 1:
        def pay():
            created = lookup(f"shared-{n}-create")
            return created and {"account_id": a, "order_id": created["order"]["order_id"]}
        return [(f"shared-{n}-create", "billing_order_create",
                 {"account_id": a, "items": [{"product_id": "disk", "period": M1}]}),
                (f"shared-{n}-pay", "billing_order_pay", pay)]
    if kind == 2:
        return [(f"shared-{n}-coupon", "billing_coupon_issue",
                 {"account_id": a, "kind": "VOUCHER", "face_value_fen": 300,
                  "valid_from": START, "valid_to": START + 20 * 365 * 86_400})]
    if kind == 3:
        def report():
            created = lookup(f"shared-{n}-autopay")
            resources = created and created["order"].get("resources")
            return resources and {"account_id": a, "results": [
                {"resource_id": r["resource_id"], "outcome": "SUCCEEDED"} for r in resources]}
        return [(f"shared-{n}-autopay", "billing_order_create",
                 {"account_id": a, "items": [{"product_id": "vm", "period": M1}], "auto_pay": True}),
                (f"shared-{n}-report", "billing_resource_report", report)]
    return [(f"shared-{n}-sched", "billing_scheduler_run", {"limit": 50})]


# -- worker process -----------------------------------------------------------------------

def worker(index, args, db_path, accounts, shared_clock, out_path, seed, epoch):
    engine = stresslib.open_engine(db_path, START, busy_timeout_ms=args.busy_timeout_ms)
    clock_lock = threading.Lock()
    state = stresslib.State(accounts)
    state.seed(engine)
    responses = {}              # shared key -> response (first one this process saw)
    response_lock = threading.Lock()
    failures = []
    topups = []                 # (account, reference, amount, replayed) of successful top-ups
    uncertain = []              # (account, reference, amount) of top-ups cut off by a fault
    acknowledged = []           # keys answered OK
    # thread -> [wall time of its last success, of its last transient failure]
    last = {t: [0.0, 0.0] for t in range(args.threads)}
    transients = collections.Counter()
    stats = collections.Counter()
    refusals = collections.Counter()
    messages = {}
    deadline = time.monotonic() + args.seconds

    def sync_clock():
        target = shared_clock.value
        with clock_lock:
            if engine.now() < target:
                engine.set_clock(target)

    def advance(_workload):
        rng = random.Random()
        with shared_clock.get_lock():
            shared_clock.value += rng.choice([0, 600, HOUR, 3 * HOUR, 6 * HOUR])
        sync_clock()

    def lookup(key):
        with response_lock:
            return responses.get(key)

    def make_on_transient(t):
        def on_transient(key, function, request, exc):
            last[t][1] = time.time()
            if function == "billing_account_topup":
                uncertain.append((request["account_id"], request["external_reference"], request["amount_fen"]))
        return on_transient if args.restart_server_after is not None else None

    def make_done(thread_failures, t):
        def done(key, operation, response):
            last[t][0] = time.time()
            acknowledged.append(key)
            if operation == "account.topup":
                request_amount = response["topup"]["amount_fen"]
                topups.append((response["topup"]["account_id"], response["topup"]["reference"],
                               request_amount, response["replayed"]))
            if key.startswith("shared-"):
                text = json.dumps(response, sort_keys=True)
                with response_lock:
                    first = responses.setdefault(key, response)
                if json.dumps(first, sort_keys=True) != text:
                    thread_failures.append(f"shared key {key} answered differently within process "
                                           f"{index}: {json.dumps(first)[:300]} vs {text[:300]}")
        return done

    def run_shared(workload, n):
        for key, function, request in shared_operation(n, accounts, lookup):
            if callable(request):
                request = request()
                if not request:
                    return
            # One actor for every process: the actor is part of the request.
            workload.call(function, request, key=key, actor="shared")

    def thread_main(t):
        rng = random.Random(seed * 1000 + t)
        workload = stresslib.Workload(engine, rng, f"p{index}t{t}", state, actor=f"p{index}t{t}",
                                      clock=advance, done=make_done(failures, t),
                                      known_bugs=args.known_bugs, on_transient=make_on_transient(t))
        last_seed = time.monotonic()
        faults = args.restart_server_after is not None

        def going():
            now = time.monotonic()
            if now < deadline:
                return True
            # With the fault test a thread goes on past the deadline (at most 120 s) until it
            # has succeeded after its last storage failure: the server may still be coming back.
            return faults and last[t][1] >= last[t][0] and now < deadline + 120

        while going():
            failures_before = last[t][1]
            try:
                sync_clock()
                r = rng.random()
                # The shared operation of the current 100 ms slot of wall time: every
                # process and thread that gets here in the same slot sends the same key.
                slot = int((time.time() - epoch) * 10)
                if r < 0.12:
                    run_shared(workload, slot)
                    stats["shared"] += 1
                elif r < 0.16 and slot > 0:
                    run_shared(workload, rng.randrange(slot))  # an older shared key
                    stats["shared_replay"] += 1
                else:
                    op = workload.step()
                    stats[op] += 1
                if t == 0 and time.monotonic() - last_seed > 2:
                    state.seed(engine)
                    last_seed = time.monotonic()
            except stresslib.LEGITIMATE as exc:  # from the reads of a seed or a release lookup
                refusals[f"read:{type(exc).__name__}:{exc.reason}"] += 1
            except stresslib.errors.StorageError as exc:  # a read cut off by the fault test
                if args.restart_server_after is None or not exc.reason:
                    raise_failure = True
                else:
                    raise_failure = False
                    last[t][1] = time.time()
                    transients[f"read:StorageError:{exc.reason}"] += 1
                if raise_failure:
                    failures.append(f"process {index} thread {t}: {type(exc).__name__}: {exc}\n"
                                    + "".join(traceback.format_exc().splitlines(True)[-6:]))
                    if len(failures) > 200:
                        return
            except Exception as exc:  # noqa: BLE001 - every other error is a finding
                failures.append(f"process {index} thread {t}: {type(exc).__name__}: {exc}\n"
                                + "".join(traceback.format_exc().splitlines(True)[-6:]))
                if len(failures) > 200:
                    return
            if last[t][1] != failures_before:
                time.sleep(0.05)  # the server is away: retry at a bounded rate, not in a spin
        refusals.update(workload.refusals)
        transients.update(workload.transients)
        for kind, message in workload.refusal_messages.items():
            messages.setdefault(kind, message)
        stats["calls"] += sum(workload.calls.values())

    threads = [threading.Thread(target=thread_main, args=(t,)) for t in range(args.threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    engine.close()
    with open(out_path, "w") as f:
        json.dump({"failures": failures, "responses": responses, "topups": topups,
                   "stats": stats, "refusals": refusals, "messages": messages,
                   "uncertain": uncertain, "acknowledged": acknowledged,
                   "last": {str(t): v for t, v in last.items()}, "transients": transients}, f)


def worker_entry(index, args, db_path, accounts, shared_clock, out_path, seed, epoch):
    try:
        worker(index, args, db_path, accounts, shared_clock, out_path, seed, epoch)
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        sys.exit(3)


# -- parent -------------------------------------------------------------------------------

class Checks:
    def __init__(self):
        self.results = []

    def add(self, name, failures):
        failures = list(failures)
        self.results.append((name, failures))
        status = "ok" if not failures else f"FAILED ({len(failures)})"
        print(f"  {name:16} {status}", flush=True)
        for message in failures[:15]:
            print(f"      {message}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-P", "--processes", type=int, default=3)
    parser.add_argument("-T", "--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--accounts", type=int, default=3)
    parser.add_argument("--busy-timeout-ms", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--workdir", help="keep the files here (default: a temporary directory)")
    parser.add_argument("--database-url", default=None,
                        help="a base postgresql:// URL: the database is a fresh schema there")
    parser.add_argument("--restart-server-after", type=float, default=None, metavar="SECONDS",
                        help="restart the throwaway PostgreSQL server (scripts/pg-cluster.sh "
                             "restart) this long into the run; needs --database-url")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--known-bugs", action="store_true",
                        help="also run the triggers of the known library bugs (README.md): "
                             "split provisioning reports, RENEWAL_ONLY unsubscriptions")
    args = parser.parse_args()

    seed = args.seed if args.seed is not None else random.randrange(2 ** 32)
    workdir = args.workdir or tempfile.mkdtemp(prefix="billing-hammer-")
    os.makedirs(workdir, exist_ok=True)
    if args.restart_server_after is not None and not args.database_url:
        parser.error("--restart-server-after restarts the PostgreSQL server of --database-url")
    db_path = stresslib.database_path(workdir, "hammer", args.database_url)
    stresslib.remove_database(db_path)
    accounts = [f"h{i}" for i in range(1, args.accounts + 1)]
    print(f"hammer: seed {seed}, {args.processes} processes x {args.threads} threads, "
          f"{args.seconds:g} s, workdir {workdir}, library {os.environ['BILLING_LIBRARY']}, "
          f"{'PostgreSQL ' + db_path if args.database_url else 'SQLite ' + db_path}", flush=True)

    with stresslib.open_engine(db_path, START) as engine:
        stresslib.setup_world(engine, accounts)
        seeds = [(a, e["reference"], e["amount_fen"]) for a in accounts
                 for e in engine.iter_ledger(a) if e["kind"] == "TOPUP"]

    context = multiprocessing.get_context("spawn")
    shared_clock = context.Value("q", START)
    processes = []
    started = time.monotonic()
    epoch = time.time() + 1  # the workers need about a second to start
    for index in range(args.processes):
        out = os.path.join(workdir, f"worker-{index}.json")
        p = context.Process(target=worker_entry,
                            args=(index, args, db_path, accounts, shared_clock, out, seed + index, epoch))
        p.start()
        processes.append((p, out))
    restart = {}
    restarter = None
    if args.restart_server_after is not None:
        restarter = threading.Thread(target=restart_server, args=(args.restart_server_after, restart))
        restarter.start()
    checks = Checks()
    worker_failures = []
    results = []
    for index, (p, out) in enumerate(processes):
        grace = 120 + (120 if args.restart_server_after is not None else 0)
        p.join(timeout=max(0.0, started + args.seconds + grace - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join()
            worker_failures.append(f"worker {index} hung (killed after {args.seconds + 120:g} s)")
            continue
        if p.exitcode != 0:
            worker_failures.append(f"worker {index} exited with {p.exitcode}")
        if os.path.exists(out):
            with open(out) as f:
                result = json.load(f)
            results.append(result)
            worker_failures += result["failures"]
        else:
            worker_failures.append(f"worker {index} wrote no results")
    elapsed = time.monotonic() - started
    if restarter is not None:
        restarter.join()

    stats = collections.Counter()
    refusals = collections.Counter()
    messages = {}
    for result in results:
        stats.update(result["stats"])
        refusals.update(result["refusals"])
        for kind, message in result["messages"].items():
            messages.setdefault(kind, message)
    print(f"hammer: {stats['calls']} calls in {elapsed:.1f} s "
          f"({stats['calls'] / max(elapsed, 0.001):.0f}/s), {stats['shared']} shared operations, "
          f"{stats['shared_replay']} shared replays; clock reached {shared_clock.value - START} s "
          f"after the start", flush=True)
    print(f"hammer: legitimate refusals {sum(refusals.values())} (BUSY "
          f"{sum(v for k, v in refusals.items() if ':Busy:' in k)}); most common: "
          + ", ".join(f"{k} {v}" for k, v in refusals.most_common(6)), flush=True)

    if restarter is not None:
        transients = collections.Counter()
        for result in results:
            transients.update(result["transients"])
        print(f"hammer: server restarted {restart.get('outcome', 'never')} "
              f"({restart.get('seconds', 0):.1f} s down); calls cut off by it: {sum(transients.values())}: "
              + ", ".join(f"{k} {v}" for k, v in transients.most_common(8)), flush=True)
        fault = [] if restart.get("outcome") == "ok" else [f"the restart failed: {restart.get('error')}"]
        # Later calls reconnect by themselves: every thread succeeded after its last failure.
        for index, result in enumerate(results):
            for t, (success, failure) in result["last"].items():
                if failure and success <= failure:
                    fault.append(f"worker {index} thread {t}: no success after its last storage "
                                 f"failure (never reconnected?)")
        checks.add("reconnected", fault)
    checks.add("workers", worker_failures)
    # Legitimate codes with a reason that names no business rule (stresslib.SUSPICIOUS_REASONS).
    checks.add("refusal reasons", [f"{kind} x{refusals[kind]}: {messages.get(kind, '')}"
                                   for kind in sorted(refusals)
                                   if kind.rsplit(":", 1)[-1] in stresslib.SUSPICIOUS_REASONS])

    # Every successful call with one shared key answered the same, across processes.
    by_key = collections.defaultdict(set)
    for result in results:
        for key, response in result["responses"].items():
            by_key[key].add(json.dumps(response, sort_keys=True))
    shared_failures = [f"shared key {key} got {len(texts)} different responses: "
                       + " | ".join(t[:200] for t in texts)
                       for key, texts in by_key.items() if len(texts) > 1]
    multi = sum(1 for key in by_key if sum(key in r["responses"] for r in results) > 1)
    print(f"hammer: {len(by_key)} shared keys succeeded, {multi} of them in more than one process",
          flush=True)
    checks.add("shared keys", shared_failures)

    final_now = shared_clock.value
    with stresslib.open_engine(db_path, final_now) as engine:
        checks.add("verify", stresslib.check_verify(engine))
        db = stresslib.sql_connect(db_path)
        try:
            checks.add("audit", stresslib.check_audit_matches_idempotency(db))
            checks.add("orders per key", orders_per_key(db))
            checks.add("paid once", stresslib.check_structure(db))
            ledger_failures, ledger_topups = stresslib.check_ledgers_through_api(engine, accounts)
            checks.add("top-ups", topups_match(results, seeds, ledger_topups))
            checks.add("acknowledged", acknowledged_present(db, results))
            checks.add("ledger", ledger_failures)
            checks.add("integrity", stresslib.integrity(db))
        finally:
            db.close()

    passed = sum(1 for _, f in checks.results if not f)
    failed = len(checks.results) - passed
    if failed == 0 and not args.keep and not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"hammer: files kept in {workdir}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def restart_server(delay, outcome):
    """The fault test's fault: restarts the throwaway server `delay` seconds from now."""
    time.sleep(delay)
    began = time.monotonic()
    script = os.path.join(stresslib.REPO, "scripts", "pg-cluster.sh")
    done = subprocess.run([script, "restart"], capture_output=True, text=True, timeout=120)
    outcome["seconds"] = time.monotonic() - began
    outcome["outcome"] = "ok" if done.returncode == 0 else "failed"
    outcome["error"] = done.stderr.strip()[-500:]


def acknowledged_present(db, results):
    """Every key a worker was answered OK for is recorded: nothing acknowledged was lost."""
    stored = {key for (key,) in db.execute("SELECT key FROM idempotency")}
    missing = sorted({key for result in results for key in result["acknowledged"]} - stored)
    return [f"{len(missing)} acknowledged keys are not in the database, first: {missing[:10]}"] if missing else []


def orders_per_key(db):
    failures = []
    keyed = [json.loads(r)["order"]["order_id"] for (r,) in
             db.execute("SELECT response FROM idempotency WHERE operation = 'order.create'")]
    top_level = db.execute("""SELECT count(*) FROM orders
                              WHERE type = 'NEW' AND combined_id IS NULL""").fetchone()[0]
    if len(keyed) != top_level:
        failures.append(f"{len(keyed)} order.create keys but {top_level} top-level NEW orders")
    if len(set(keyed)) != len(keyed):
        dup = [o for o, n in collections.Counter(keyed).items() if n > 1]
        failures.append(f"orders named by two order.create keys: {dup[:10]}")
    existing = {o for (o,) in db.execute("SELECT id FROM orders")}
    missing = [o for o in keyed if o not in existing]
    if missing:
        failures.append(f"order.create responses name missing orders: {missing[:10]}")
    return failures


def topups_match(results, seeds, ledger_topups):
    """The ledger's top-ups are exactly the ones the workers saw succeed (plus the seeds)."""
    failures = []
    seen = {}
    for account, reference, amount in seeds:
        seen[(account, reference)] = amount
    for result in results:
        for account, reference, amount, _replayed in result["topups"]:
            if seen.setdefault((account, reference), amount) != amount:
                failures.append(f"top-up {reference} of {account} answered with amounts "
                                f"{seen[(account, reference)]} and {amount}")
    ledger = {(a, ref): amount for a, refs in ledger_topups.items() for ref, amount in refs.items()}
    # A top-up cut off by a fault (its commit's outcome unknown to the caller) may have
    # committed: in the ledger with its amount, or not at all.
    for result in results:
        for account, reference, amount in result.get("uncertain", []):
            if (account, reference) not in seen and ledger.get((account, reference)) == amount:
                seen[(account, reference)] = amount
    for key in sorted(set(seen) | set(ledger)):
        if seen.get(key) != ledger.get(key):
            failures.append(f"top-up {key[1]} of {key[0]}: workers saw {seen.get(key)}, "
                            f"ledger holds {ledger.get(key)}")
    return failures[:50]


if __name__ == "__main__":
    sys.exit(main())
