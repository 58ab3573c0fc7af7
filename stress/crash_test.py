#!/usr/bin/env python3
"""Crash consistency of libbilling under SIGKILL.

    python3 stress/crash_test.py                # CI: 40 rounds, about 30-40 s
    python3 stress/crash_test.py --rounds 500   # long (make stress)
    python3 stress/crash_test.py --rounds 10 --database-url "$(scripts/pg-cluster.sh url)"

With --database-url (a base postgresql:// URL) every database is a fresh schema of that
PostgreSQL database instead of a file, and the read-only SQL checks go through psql; a
killed client's transaction is rolled back by the server, and everything it was told had
committed must be there. PostgreSQL has no integrity_check (6. is skipped there).

Each round starts a child process (this script, mode "child") that opens a file-backed
engine (synchronous FULL, manual clock) on the shared database and runs a random workload
(stresslib.Workload: top-ups with unique external references, coupons, orders created and
paid with and without vouchers, cancellations, reviews, provisioning reports, renewals,
expiry policies, releases, unsubscriptions, usage, scheduler runs with the clock moving on).
Every call carries a unique idempotency key. Before a call the child appends
"<key>\t<function>\t<request JSON>" to the round's intent file; after the call returned OK
it appends "<key> <operation>" to the journal and flushes and fsyncs it. The parent kills
the child with SIGKILL after a random delay (a few ms to ~1 s after it is ready; one round
in ten kills it while it is still opening the file), then reopens the database itself and
checks:

  1. the file opens and billing_verify reports no breach;
  2. every journaled key is in the idempotency table under the same operation (read-only
     SQL), and replaying the journaled request with its key through the API returns the
     stored response without a new effect: the audit log and the event outbox do not grow
     (this round's keys and a sample of older ones);
  3. per operation, audit rows = idempotency records (every write of the run is keyed, and
     a write commits its effect, audit row and idempotency record together);
  4. no half-done operation: a paid order has its ledger debits (once), its resources (new
     purchases) or its periods (renewals); an unpaid order has neither; coupons are used
     only by paid orders and once per order; a completed refund order's money is in the
     ledger; each top-up reference is in the ledger once, and the in-flight top-up of the
     killed child is in the ledger exactly when its key was recorded;
  5. ledger = balance through the API, for every account;
  6. PRAGMA integrity_check every 10 rounds and at the end;
  7. no refusal whose reason names no business rule (a raw "constraint_violation").

By default the workload avoids the triggers of the known library bugs (README.md);
--known-bugs runs them too.

Every 8th round instead kills a child that creates a fresh database file (schema migration
and setup) and checks that file the same way. A new shared file starts every
--rounds-per-db (50) rounds, which keeps billing_verify (quadratic, see README.md) cheap.

Prints one line per failed round and ends with "N passed, M failed" (exit status 1 if any
round failed).
"""

import argparse
import collections
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

import stresslib
from stresslib import errors, DAY, HOUR

ACCOUNTS = ["c1", "c2"]


# -- child --------------------------------------------------------------------------------

def child(args):
    rng = random.Random(args.seed)
    journal = open(args.journal, "a", buffering=1)
    intents = open(args.intents, "a", buffering=1)

    def record(key, function, request):
        intents.write(f"{key}\t{function}\t{json.dumps(request, sort_keys=True)}\n")
        intents.flush()

    def done(key, operation, response):
        journal.write(f"{key} {operation}\n")
        journal.flush()
        os.fsync(journal.fileno())

    suspicious = open(args.journal + ".suspicious", "a", buffering=1)

    def on_refusal(key, kind, message):
        if kind.rsplit(":", 1)[-1] in stresslib.SUSPICIOUS_REASONS:
            suspicious.write(f"{key} {kind}: {message}\n")
            suspicious.flush()

    def clock(workload):
        workload.engine.advance_clock(rng.choice([0, 600, HOUR, 6 * HOUR, DAY, DAY, 3 * DAY, 8 * DAY]))

    engine = stresslib.open_engine(args.db, args.now)
    state = stresslib.State(ACCOUNTS)
    if args.fresh:
        # A new file: the setup itself is keyed and journaled like the workload.
        for function, request in setup_requests():
            record(request["idempotency_key"], function, request)
            engine.call(function, request)
            done(request["idempotency_key"], stresslib.OPERATIONS[function], None)
    else:
        state.seed(engine)
    print("ready", flush=True)
    workload = stresslib.Workload(engine, rng, f"r{args.round}", state, actor="crash",
                                  clock=clock, record=record, done=done,
                                  known_bugs=args.known_bugs, on_refusal=on_refusal)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the parent kills it long before
        workload.step()
    return 0


def setup_requests(prefix="setup"):
    """stresslib.setup_world as explicit requests, so a fresh-file child can journal them."""
    out = [("billing_config_update", {"actor": "stress", "idempotency_key": f"{prefix}-config",
                                      "changes": stresslib.CONFIG})]
    for product in stresslib.PRODUCTS:
        out.append(("billing_product_put", {"actor": "stress", "product": product,
                                            "idempotency_key": f"{prefix}-product-{product['product_id']}"}))
    for index, account in enumerate(ACCOUNTS):
        put = {"actor": "stress", "idempotency_key": f"{prefix}-account-{account}",
               "account_id": account, "type": "ENTERPRISE", "realname_verified": True, "level": "V3"}
        if index % 2:
            put["credit_limit_fen"] = 50_000
        out.append(("billing_account_put", put))
        out.append(("billing_account_topup", {
            "actor": "stress", "idempotency_key": f"{prefix}-seed-{account}", "account_id": account,
            "amount_fen": 2_000_000, "external_reference": f"{prefix}-seed-{account}"}))
    return out


# -- parent -------------------------------------------------------------------------------

def read_journal(path):
    """{key: operation} of complete journal lines."""
    keys = {}
    if not os.path.exists(path):
        return keys
    with open(path) as f:
        for line in f:
            if not line.endswith("\n"):
                continue  # a torn last line cannot happen with one write(), but never trust it
            key, operation = line.split()
            keys[key] = operation
    return keys


def read_intents(path):
    intents = collections.OrderedDict()
    if not os.path.exists(path):
        return intents
    with open(path) as f:
        for line in f:
            if not line.endswith("\n"):
                continue
            key, function, request = line.rstrip("\n").split("\t", 2)
            intents[key] = (function, json.loads(request))
    return intents


def counts(db):
    return (db.execute("SELECT count(*) FROM audit_log").fetchone()[0],
            db.execute("SELECT count(*) FROM events").fetchone()[0])


class Round:
    def __init__(self, number):
        self.number = number
        self.failures = []

    def fail(self, message):
        self.failures.append(message)


def run_child(args, rng, rnd, db_path, journal, intents, now, fresh):
    command = [sys.executable, os.path.abspath(__file__), "child", "--db", db_path,
               "--journal", journal, "--intents", intents, "--round", str(rnd.number),
               "--seed", str(rng.randrange(2 ** 32)), "--now", str(now)]
    if fresh:
        command.append("--fresh")
    if args.known_bugs:
        command.append("--known-bugs")
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    early = fresh or rng.random() < 0.1
    if early:
        delay = rng.uniform(0.0, 0.25 if fresh else 0.15)
    else:
        line = process.stdout.readline()  # "ready", or "" if it died
        if line.strip() != "ready":
            process.wait()
            rnd.fail(f"child did not get ready (exit {process.returncode}): "
                     f"{process.stderr.read()[-2000:]}")
            return None
        delay = rng.choice([rng.uniform(0.003, 0.05), rng.uniform(0.003, args.max_delay),
                            rng.uniform(0.003, args.max_delay)])
    time.sleep(delay)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait()
    stderr = process.stderr.read()
    process.stdout.close()
    process.stderr.close()
    if process.returncode != -signal.SIGKILL:
        rnd.fail(f"child exited with {process.returncode} before it was killed:\n{stderr[-3000:]}")
    return time.monotonic() - started


def check_round(args, rnd, db_path, journal_path, intents_path, all_intents, now, deep):
    """Reopens the file and checks it; returns nothing, records failures in rnd."""
    try:
        engine = stresslib.open_engine(db_path, now)
    except errors.BillingError as exc:
        rnd.fail(f"reopen failed: {exc!r}")
        return
    db = stresslib.sql_connect(db_path)
    try:
        for message in stresslib.check_verify(engine):
            rnd.fail(message)
        journal = read_journal(journal_path)
        round_intents = read_intents(intents_path)
        all_intents.update(round_intents)
        stored = {key: (operation, response) for key, operation, response in
                  db.execute("SELECT key, operation, response FROM idempotency")}
        # 2a. every journaled key was recorded, under its operation
        for key, operation in journal.items():
            if key not in stored:
                rnd.fail(f"journaled key {key} ({operation}) is not in the database")
            elif stored[key][0] != operation:
                rnd.fail(f"journaled key {key} is recorded as {stored[key][0]}, not {operation}")
        # 2b. replays return the stored response and change nothing
        this_round = [k for k in round_intents if k in journal]
        older = [k for k in journal if k not in round_intents and k in all_intents]
        sample = this_round + rnd_sample(older, 30, rnd.number)
        before = counts(db)
        for key in sample:
            function, request = all_intents[key]
            try:
                response = engine.call(function, request)
            except errors.BillingError as exc:
                rnd.fail(f"replay of journaled key {key} ({function}) failed: {exc!r}")
                continue
            if key in stored and response != json.loads(stored[key][1]):
                rnd.fail(f"replay of {key} returned another response than the stored one")
        after = counts(db)
        if after != before:
            rnd.fail(f"replaying {len(sample)} journaled keys changed audit/events counts "
                     f"{before} -> {after}")
        # 3. audit rows = keyed records, per operation
        for message in stresslib.check_audit_matches_idempotency(db):
            rnd.fail(message)
        # 4. no half-done operations
        for message in stresslib.check_structure(db):
            rnd.fail(message)
        # 4b. the in-flight top-ups: in the ledger exactly when their key was recorded
        topup_refs = {(a, r) for a, r in db.execute(
            "SELECT account_id, reference FROM ledger WHERE kind = 'TOPUP'")}
        for key, (function, request) in round_intents.items():
            if function == "billing_account_topup" and request["external_reference"] == f"ref-{key}":
                present = (request["account_id"], request["external_reference"]) in topup_refs
                if present != (key in stored):
                    rnd.fail(f"top-up {key}: in ledger {present}, key recorded {key in stored}")
        # 5. ledger = balance through the API
        failures, _ = stresslib.check_ledgers_through_api(engine, ACCOUNTS)
        for message in failures:
            rnd.fail(message)
        # 6. the file itself
        if deep:
            for message in stresslib.integrity(db):
                rnd.fail(message)
        return db.execute("SELECT max(recorded_at) FROM audit_log").fetchone()[0]
    finally:
        db.close()
        engine.close()


def rnd_sample(items, count, seed):
    if len(items) <= count:
        return list(items)
    return random.Random(seed).sample(items, count)


def remove_db(path):
    stresslib.remove_database(path)


class MainDatabase:
    """The shared database of a series of rounds, with its journal and the requests of its
    journaled keys. A new one starts every --rounds-per-db rounds, which keeps each file (and
    billing_verify, whose cost grows faster than the file) bounded in long runs."""

    def __init__(self, workdir, generation, url=None):
        self.path = stresslib.database_path(workdir, f"crash-{generation}", url)
        self.journal = os.path.join(workdir, f"journal-{generation}.log")
        remove_db(self.path)
        if os.path.exists(self.journal):
            os.remove(self.journal)
        with stresslib.open_engine(self.path, stresslib.START) as engine:
            stresslib.setup_world(engine, ACCOUNTS)
        self.intents = {request["idempotency_key"]: (function, request)
                        for function, request in setup_requests()}
        self.latest = stresslib.START
        self.failed = False
        self.keys = collections.Counter()

    def finish(self, keep):
        journal = read_journal(self.journal)
        self.keys.update(journal.values())
        with stresslib.open_engine(self.path, self.latest) as engine:
            checked = engine.verify()["checked"]
        if not self.failed and not keep:
            remove_db(self.path)
            os.remove(self.journal) if os.path.exists(self.journal) else None
        return len(journal), checked


def parent(args):
    seed = args.seed if args.seed is not None else random.randrange(2 ** 32)
    rng = random.Random(seed)
    workdir = args.workdir or tempfile.mkdtemp(prefix="billing-crash-")
    os.makedirs(workdir, exist_ok=True)
    print(f"crash_test: seed {seed}, {args.rounds} rounds, workdir {workdir}, "
          f"library {os.environ['BILLING_LIBRARY']} ({stresslib.billing.version()}), "
          f"{'PostgreSQL ' + args.database_url if args.database_url else 'SQLite files'}", flush=True)

    generation = 1
    main_db = MainDatabase(workdir, generation, args.database_url)
    passed = failed = 0
    journaled = 0
    by_operation = collections.Counter()
    started = time.monotonic()
    child_time = 0.0
    for number in range(1, args.rounds + 1):
        if args.rounds_per_db and number > 1 and (number - 1) % args.rounds_per_db == 0:
            count, _ = main_db.finish(args.keep)
            journaled += count
            by_operation.update(main_db.keys)
            generation += 1
            main_db = MainDatabase(workdir, generation, args.database_url)
        rnd = Round(number)
        fresh = args.fresh_every and number % args.fresh_every == 0
        if fresh:
            path = stresslib.database_path(workdir, f"fresh-{number}", args.database_url)
            journal = os.path.join(workdir, f"fresh-{number}.journal")
            intents = os.path.join(workdir, f"fresh-{number}.intents")
            now = stresslib.START
        else:
            path, journal = main_db.path, main_db.journal
            intents = os.path.join(workdir, f"intents-{number}.log")
            now = main_db.latest
        elapsed = run_child(args, rng, rnd, path, journal, intents, now, fresh)
        child_time += elapsed or 0
        suspicious = journal + ".suspicious"
        if os.path.exists(suspicious):
            with open(suspicious) as f:
                lines = f.readlines()
            os.remove(suspicious)
            if lines:
                rnd.fail(f"{len(lines)} refusals with a reason that names no business rule, "
                         f"first: {lines[0].strip()}")
        if fresh:
            fresh_intents = {}
            check_round(args, rnd, path, journal, intents, fresh_intents, now, deep=True)
            if not rnd.failures:
                remove_db(path)
                for leftover in (journal, intents):
                    if os.path.exists(leftover):
                        os.remove(leftover)
        else:
            deep = number % 10 == 0 or number == args.rounds
            main_db.latest = check_round(args, rnd, path, journal, intents, main_db.intents, now,
                                         deep) or main_db.latest
            if rnd.failures:
                main_db.failed = True
            elif not args.keep and os.path.exists(intents):
                os.remove(intents)
        if rnd.failures:
            failed += 1
            print(f"round {number}{' (fresh file)' if fresh else ''}: FAILED", flush=True)
            for message in rnd.failures[:20]:
                print(f"  {message}", flush=True)
        else:
            passed += 1
        if args.verbose:
            print(f"round {number}: {'ok' if not rnd.failures else 'failed'} "
                  f"({len(read_journal(main_db.journal))} journaled keys in {main_db.path})",
                  flush=True)

    count, checked = main_db.finish(args.keep)
    journaled += count
    by_operation.update(main_db.keys)
    total = time.monotonic() - started
    print(f"crash_test: {journaled} journaled keys over {args.rounds} rounds and {generation} "
          f"database(s) in {total:.1f} s (children {child_time:.1f} s); last database: {checked}",
          flush=True)
    print("crash_test: journaled operations: "
          + ", ".join(f"{op} {n}" for op, n in sorted(by_operation.items())), flush=True)
    if failed == 0 and not args.keep and not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"crash_test: files kept in {workdir}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    sub = parser.add_subparsers(dest="mode")
    c = sub.add_parser("child", allow_abbrev=False)
    c.add_argument("--db", required=True)
    c.add_argument("--journal", required=True)
    c.add_argument("--intents", required=True)
    c.add_argument("--round", type=int, required=True)
    c.add_argument("--seed", type=int, required=True)
    c.add_argument("--now", type=int, required=True)
    c.add_argument("--fresh", action="store_true")
    c.add_argument("--known-bugs", action="store_true")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--max-delay", type=float, default=1.0,
                        help="longest wait before the kill, seconds after the child is ready")
    parser.add_argument("--fresh-every", type=int, default=8,
                        help="every Nth round kills a child creating a fresh file (0: never)")
    parser.add_argument("--rounds-per-db", type=int, default=50,
                        help="start a new shared database every N rounds (0: never)")
    parser.add_argument("--workdir", help="keep the files here (default: a temporary directory)")
    parser.add_argument("--database-url", default=None,
                        help="a base postgresql:// URL: each database is a fresh schema there")
    parser.add_argument("--keep", action="store_true", help="keep the files even when all passed")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--known-bugs", action="store_true",
                        help="also run the triggers of the known library bugs (README.md): "
                             "split provisioning reports, RENEWAL_ONLY unsubscriptions")
    args = parser.parse_args()
    if args.mode == "child":
        try:
            return child(args)
        except Exception:
            traceback.print_exc()
            return 3
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())
