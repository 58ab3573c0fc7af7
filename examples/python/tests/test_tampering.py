"""Changes made to the database outside the library (issue 13, items 3 and 4): each one is
reported by billing_verify with the table and key it touched, and the chain's head kept by the
host detects a cut or rolled-back chain. Each case edits its own copy of one populated database
directly (sqlite3 on a file, psql on a PostgreSQL schema), as an attacker with write access to
the database would. Under BILLING_TEST_DATABASE_URL the copy is a fresh schema holding the
populated file's rows as stored (billing_engine_copy), so both backends face the same attacks
on the same rows. One case stays on SQLite: an older copy of the file put in place."""

import json
import shutil

import pytest

import billing
from helpers import FAST_HASHING, ON_POSTGRES, START, new_database, sql_execute, sql_rows, sql_text

PASSWORD = "Correct-Horse-9"
M1 = {"unit": "MONTH", "count": 1}


def populate(path):
    """A file with configuration, a product, an account with a top-up (keyed), a paid order,
    a completed refund, and an active platform account. Returns what the cases need."""
    with billing.Engine(path, clock="manual", now=START) as engine:
        engine.update_config(FAST_HASHING, actor="ops")
        engine.product_put("catalog", {"product_id": "evs.100", "product_type": "EVS", "billing_mode": "PREPAID",
                                       "monthly_price_fen": 10_000})
        engine.account_put("kyc", "a1", type="ENTERPRISE", realname_verified=True, level="V3")
        engine.topup("pay", "a1", 100_000, "alipay-1", idempotency_key="k-top")
        kept = engine.order_create("buyer", "a1", [{"product_id": "evs.100", "period": M1}], auto_pay=True)["order"]
        refunded = engine.order_create("buyer", "a1", [{"product_id": "evs.100", "period": M1}], auto_pay=True)["order"]
        resource = refunded["resources"][0]["resource_id"]
        engine.resource_report("host", "a1", [{"resource_id": resource, "outcome": "SUCCEEDED"}])
        refund = engine.resources_unsubscribe("buyer", "a1", [resource])
        platform = engine.platform_apply("applicant", "a1", "alice", "alice@example.com", "138 0013 8000",
                                         contact_name="Alice")["platform_account"]["platform_account_id"]
        token = engine.platform_approve("approver", platform)["password_set_token"]
        engine.platform_activate("applicant", token, PASSWORD)
        assert engine.verify()["breaches"] == []
        return {"order": kept["order_id"], "refund_order": refund["order"]["order_id"], "platform": platform,
                "head": engine.audit_head()}


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("tamper") / "original.sqlite")
    facts = populate(path)
    return path, facts


@pytest.fixture
def copy(original, tmp_path):
    """A fresh copy of the populated database, and what populate returned. On SQLite the file
    copied; under BILLING_TEST_DATABASE_URL its rows copied as stored into a fresh schema
    (billing_engine_copy: ids, documents, audit chain and row digests unchanged), where verify
    checks the same chain and the head populate took before the copy is the copy's head."""
    path, facts = original
    if ON_POSTGRES:
        target = new_database(tmp_path, "tampered")
        with billing.Engine(path, clock="manual", now=START) as source:
            source.copy(target)
        return target, facts
    target = str(tmp_path / "billing.sqlite")
    shutil.copyfile(path, target)
    return target, facts


def edit(path, *statements):
    """Statements in one transaction outside the library: sqlite3 on a file, psql on a URL."""
    sql_execute(path, *statements)


def edit_field(path, table, column, where, field, value):
    """Sets one top-level field of a stored JSON document by a text replace() of its
    `"field":value` in the compact JSON the library stores: both backends have replace() and
    store the same text, where SQLite's json_set and PostgreSQL's jsonb_set would each rewrite
    the document in their own form. Checks that exactly that field changed."""
    (stored,), = sql_rows(path, f"SELECT {column} FROM {table} WHERE {where}")
    document = json.loads(stored)
    before = f'"{field}":{json.dumps(document[field], separators=(",", ":"))}'
    after = f'"{field}":{json.dumps(value, separators=(",", ":"))}'
    assert before != after and stored.count(before) == 1, (before, stored)
    edit(path, f"UPDATE {table} SET {column} = replace({column}, {sql_text(before)}, {sql_text(after)}) WHERE {where}")
    (changed,), = sql_rows(path, f"SELECT {column} FROM {table} WHERE {where}")
    assert json.loads(changed) == {**document, field: value}, changed


def scalar(path, sql):
    return sql_rows(path, sql)[0][0]


def breaches(path, **verify):
    with billing.Engine(path, clock="manual", now=START) as engine:
        report = engine.verify(**verify)
    assert report["ok"] is (report["breaches"] == [])
    return report["breaches"]


def reported(found, check, table, key):
    return any(b["check"] == check and b.get("table") == table and b.get("key") == key for b in found)


def test_the_untouched_file_verifies_and_its_head_is_the_last_seal(copy):
    """The head is the last seal, which lists the last audit row of every scope (each account,
    each actor without one): the chain is per scope, with no global last row to wait for."""
    path, facts = copy
    assert breaches(path, audit_head=facts["head"]) == []
    assert facts["head"]["position"] == scalar(path, "SELECT max(position) FROM audit_seals")
    assert facts["head"]["digest"] == scalar(path, "SELECT hash FROM audit_seals ORDER BY position DESC LIMIT 1")
    heads = json.loads(scalar(path, "SELECT heads FROM audit_seals ORDER BY position DESC LIMIT 1"))
    last = dict(sql_rows(path, "SELECT scope, max(id) FROM audit_log GROUP BY scope"))
    assert {scope: row for scope, row, _ in heads} == last
    assert {"account:a1", "actor:catalog", "actor:ops"} <= set(last)


def test_an_edited_product_price(copy):
    path, _ = copy
    edit_field(path, "products", "document", "id = 'evs.100'", "monthly_price_fen", 1)
    found = breaches(path)
    assert reported(found, "row_tampered", "products", ["evs.100"]), found
    assert any(b["subject"] == "products evs.100" for b in found)


@pytest.mark.parametrize("field, value", [("five_day_quota_per_year", 1000), ("handling_fee_beyond_table_bp", 0)])
def test_an_edited_configuration_value(copy, field, value):
    path, _ = copy
    edit_field(path, "config", "document", "1 = 1", field, value)
    assert reported(breaches(path), "row_tampered", "config", [1])


def test_an_edited_event(copy):
    path, _ = copy
    seq = scalar(path, "SELECT seq FROM events WHERE type = 'account.topped_up'")
    edit_field(path, "events", "data", f"seq = {seq}", "amount_fen", 1)
    assert reported(breaches(path), "row_tampered", "events", [seq])


def test_reordered_events(copy):
    """An event's outbox position is not in its row digest (a sealer may give it after the
    operation's audit row): where positions are given at insert (SQLite) verify checks that
    they follow the order events were written in; where a sealer gives them (PostgreSQL)
    verify checks each against the sealer's chained records, which the copy made for the
    positions it brought (outbox_seals)."""
    path, _ = copy
    first, second = scalar(path, "SELECT min(seq) FROM events"), scalar(path, "SELECT max(seq) FROM events")
    edit(path, f"UPDATE events SET position = -1 WHERE seq = {first}",
         f"UPDATE events SET position = {first} WHERE seq = {second}",
         f"UPDATE events SET position = {second} WHERE seq = {first}")
    found = breaches(path)
    assert reported(found, "row_tampered", "events", [second]), found
    edit(path, f"UPDATE events SET position = NULL WHERE seq = {first}")
    assert reported(breaches(path), "row_tampered", "events", [first])


@pytest.mark.skipif(not ON_POSTGRES, reason="the records of event positions are PostgreSQL's (SQLite gives "
                                           "positions at insert and keeps none)")
def test_removed_or_edited_outbox_records(copy):
    """On PostgreSQL the sealer (here the copy) records which event got which position: a
    record removed leaves its events at positions no record gave, and a record edited to
    agree with a swap no longer links."""
    path, _ = copy
    (seal, first, seqs), = sql_rows(path, "SELECT seal, first_position, seqs FROM outbox_seals")
    seqs = json.loads(seqs)
    a, b = seqs[0], seqs[-1]
    edit(path, f"UPDATE events SET position = -1 WHERE seq = {a}",
         f"UPDATE events SET position = {first} WHERE seq = {b}",
         f"UPDATE events SET position = {first + len(seqs) - 1} WHERE seq = {a}",
         f"UPDATE outbox_seals SET seqs = {sql_text(json.dumps([b] + seqs[1:-1] + [a], separators=(',', ':')))}")
    found = breaches(path)
    assert reported(found, "row_tampered", "outbox_seals", [seal]), found
    assert not any(b.get("table") == "events" for b in found), found
    edit(path, "DELETE FROM outbox_seals")
    found = breaches(path)
    assert reported(found, "row_tampered", "events", [a]) and reported(found, "row_tampered", "events", [b]), found


@pytest.mark.skipif(not ON_POSTGRES, reason="the sealer counts on from stored positions on PostgreSQL only (SQLite "
                                           "gives positions at insert)")
def test_positions_near_the_greatest_integer(copy):
    """A position or a record edited to near the greatest integer: numbering new events is
    refused with a storage error (nothing traps, nothing is numbered) and verify reports them."""
    path, _ = copy
    last = scalar(path, "SELECT max(seq) FROM events")
    edit(path, f"UPDATE events SET position = 9223372036854775807 WHERE seq = {last}")
    with billing.Engine(path, clock="manual", now=START) as engine:
        engine.topup("pay", "a1", 100, "r-max")
        with pytest.raises(billing.errors.StorageError) as refused:
            engine.events()
        assert refused.value.reason == "stored_value_unreadable"
        found = engine.verify()["breaches"]
    assert reported(found, "row_tampered", "events", [last]), found
    assert scalar(path, "SELECT count(*) FROM events WHERE position IS NULL") == 1
    edit(path, "UPDATE outbox_seals SET first_position = 9223372036854775807")
    assert reported(breaches(path), "row_tampered", "outbox_seals", [1])


def test_an_edited_idempotency_response(copy):
    path, _ = copy
    edit(path, "UPDATE idempotency SET response = replace(response, '100000', '900000') WHERE key = 'k-top'")
    assert reported(breaches(path), "row_tampered", "idempotency", ["account:a1", "k-top"])


def test_a_replaced_password_hash(copy):
    path, facts = copy
    # An argon2id string whose password the attacker knows.
    edit(path, "UPDATE platform_accounts SET password_hash = '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$attacker' "
               f"WHERE id = '{facts['platform']}'")
    assert reported(breaches(path), "row_tampered", "platform_accounts", [facts["platform"]])


def test_a_deleted_payment_with_a_raised_balance(copy):
    path, facts = copy
    (ledger_id, amount), = sql_rows(path, f"SELECT id, amount FROM ledger WHERE kind = 'PAYMENT' AND order_id = '{facts['order']}'")
    edit(path, f"DELETE FROM ledger WHERE id = {ledger_id}",
         f"UPDATE accounts SET cash_balance = cash_balance - ({amount}) WHERE id = 'a1'")
    found = breaches(path)
    # The balance equals the ledger again: only coverage and reconciliation can tell.
    assert not any(b["check"] == "cash_ledger" for b in found)
    assert reported(found, "row_tampered", "ledger", [ledger_id]), found
    assert reported(found, "row_tampered", "accounts", ["a1"])
    assert reported(found, "ledger_reconciliation", "orders", [facts["order"]])


def test_a_forged_top_up_with_a_matching_balance(copy):
    path, _ = copy
    edit(path, "INSERT INTO ledger (account_id, fund, kind, amount, balance_after, reference, order_id, recorded_at) "
               f"SELECT 'a1', 'CASH', 'TOPUP', 50000, cash_balance + 50000, 'forged-1', NULL, {START} FROM accounts WHERE id = 'a1'",
         "UPDATE accounts SET cash_balance = cash_balance + 50000 WHERE id = 'a1'")
    forged = scalar(path, "SELECT id FROM ledger WHERE reference = 'forged-1'")
    found = breaches(path)
    assert not any(b["check"] == "cash_ledger" for b in found)
    assert reported(found, "ledger_reconciliation", "ledger", [forged]), found
    assert reported(found, "row_tampered", "ledger", [forged])


def test_a_forged_refund_with_a_matching_balance(copy):
    path, facts = copy
    edit(path, "INSERT INTO ledger (account_id, fund, kind, amount, balance_after, reference, order_id, recorded_at) "
               f"SELECT 'a1', 'CASH', 'REFUND', 7000, cash_balance + 7000, NULL, '{facts['refund_order']}', {START} "
               "FROM accounts WHERE id = 'a1'",
         "UPDATE accounts SET cash_balance = cash_balance + 7000 WHERE id = 'a1'")
    forged = scalar(path, "SELECT max(id) FROM ledger")
    found = breaches(path)
    assert not any(b["check"] == "cash_ledger" for b in found)
    assert reported(found, "ledger_reconciliation", "orders", [facts["refund_order"]]), found
    assert reported(found, "row_tampered", "ledger", [forged])


def test_an_edited_funding_split(copy):
    path, facts = copy
    edit(path, f"UPDATE orders SET cash = cash - 1000, voucher = voucher + 1000 WHERE id = '{facts['order']}'")
    found = breaches(path)
    assert reported(found, "ledger_reconciliation", "orders", [facts["order"]]), found
    assert reported(found, "row_tampered", "orders", [facts["order"]])


def test_a_cut_audit_tail_is_found_with_the_kept_head(copy):
    path, facts = copy
    edit(path, "DELETE FROM audit_log WHERE id > (SELECT max(id) - 3 FROM audit_log)")
    found = breaches(path, audit_head=facts["head"])
    assert any(b["check"] == "audit_head" and b["subject"] == str(facts["head"]["position"]) for b in found), found
    # The digests the deleted rows wrote are no longer listed by the chain.
    assert any(b["check"] == "row_tampered" for b in found)


def test_null_hashes_then_an_edit(copy):
    path, _ = copy
    edit(path, "UPDATE audit_log SET hash = NULL")
    edit_field(path, "products", "document", "id = 'evs.100'", "monthly_price_fen", 1)
    found = breaches(path)
    assert any(b["check"] == "audit_chain" and b["subject"] == "1" for b in found), found
    assert reported(found, "row_tampered", "products", ["evs.100"])


def test_an_edited_digest_is_not_the_chains(copy):
    """Editing a row and its recorded digest together: the chain still lists the old digest."""
    path, _ = copy
    edit_field(path, "products", "document", "id = 'evs.100'", "monthly_price_fen", 1)
    edit(path, "UPDATE row_digests SET digest = 'f' || substr(digest, 2) WHERE table_name = 'products'")
    assert reported(breaches(path), "row_tampered", "products", ["evs.100"])


@pytest.mark.sqlite_only("puts an older copy of the file's bytes in place of the file")
def test_an_older_copy_of_the_file_is_found_with_the_kept_head(original, tmp_path):
    """The whole file replaced by an older copy passes every other check: only a head kept
    outside the file tells."""
    source, _ = original
    path = str(tmp_path / "billing.sqlite")
    older = str(tmp_path / "older.sqlite")
    shutil.copyfile(source, path)
    shutil.copyfile(source, older)
    with billing.Engine(path, clock="manual", now=START) as engine:
        engine.topup("pay", "a1", 5_000, "alipay-2")
        head = engine.audit_head()
    shutil.copyfile(older, path)
    assert breaches(path) == []
    found = breaches(path, audit_head=head)
    assert [b["check"] for b in found] == ["audit_head"], found


def test_a_bad_head_request_is_refused(copy):
    path, _ = copy
    with billing.Engine(path, clock="manual", now=START) as engine:
        for head in ({"position": -1, "digest": "x"}, {"position": 1}, {"position": 1, "digest": "x", "more": 1}):
            with pytest.raises(billing.errors.InvalidArgument):
                engine.verify(audit_head=head)
        with pytest.raises(billing.errors.InvalidArgument):
            engine.call("billing_audit_head", {"position": 1})


def test_idempotency_keys_are_scoped_to_the_account(engine):
    """Issue 13 item 7: another account reusing a key neither conflicts nor sees the first
    account's operation; within one account the key still means one request."""
    for account in ("a1", "a2"):
        engine.account_put("kyc", account, type="PERSONAL")
    first = engine.topup("pay", "a1", 1_000, "ref-a1", idempotency_key="pay-1")
    second = engine.topup("pay", "a2", 2_500, "ref-a2", idempotency_key="pay-1")
    assert first["topup"]["account_id"] == "a1" and second["topup"]["account_id"] == "a2"
    assert second["account"]["cash_balance_fen"] == 2_500
    # A replay in each scope answers with that scope's first response.
    assert engine.topup("pay", "a2", 2_500, "ref-a2", idempotency_key="pay-1") == second
    assert engine.topup("pay", "a1", 1_000, "ref-a1", idempotency_key="pay-1") == first
    # Another request with the key in the same account is refused, naming no other account.
    with pytest.raises(billing.errors.Conflict) as refused:
        engine.topup("pay", "a2", 3_000, "ref-a2b", idempotency_key="pay-1")
    assert refused.value.reason == "idempotency_key_reused" and "a1" not in refused.value.message
    # Operations about no account are scoped to their actor.
    engine.update_config({"auto_renew_hour": 4}, actor="ops-1", idempotency_key="cfg-1")
    changed = engine.update_config({"auto_renew_hour": 5}, actor="ops-2", idempotency_key="cfg-1")
    assert changed["configuration"]["auto_renew_hour"] == 5
    assert engine.verify()["breaches"] == []


def test_a_keyed_chain_needs_its_key(tmp_path):
    """With the host's audit_key the links are keyed: a handle without it reads and verifies
    (counting the links it could not check) but may not write, and a link made unkeyed is
    found by a handle with the key."""
    path = new_database(tmp_path, "keyed")
    key = "5a" * 32
    with billing.Engine(path, clock="manual", now=START, audit_key=key) as engine:
        engine.account_put("kyc", "a1", type="PERSONAL")
        engine.topup("pay", "a1", 500, "r-1")
        assert engine.audit_head()["digest"].startswith("k:")
        engine.events()  # numbers the events: on PostgreSQL one keyed outbox record
        assert engine.verify()["breaches"] == []
    with billing.Engine(path, clock="manual", now=START) as keyless:
        with pytest.raises(billing.errors.Refused) as refused:
            keyless.topup("pay", "a1", 1, "r-2")
        assert refused.value.reason == "audit_key_required"
        report = keyless.verify()
        # Every keyed link it could not check: audit rows, audit seals, outbox records.
        keyed = {table: scalar(path, f"SELECT count(*) FROM {table} WHERE hash LIKE 'k:%'")
                 for table in ("audit_log", "audit_seals", "outbox_seals")}
        assert keyed["outbox_seals"] == (1 if ON_POSTGRES else 0)
        assert report["ok"] is True and report["checked"]["audit_links_unchecked"] == sum(keyed.values()) > 0
    with billing.Engine(path, clock="manual", now=START, audit_key="a5" * 32) as other:
        with pytest.raises(billing.errors.Refused) as refused:
            other.topup("pay", "a1", 1, "r-3")
        assert refused.value.reason == "audit_key_mismatch"
    with pytest.raises(billing.errors.InvalidArgument):
        billing.Engine(path, audit_key="not hex")
    # Rewritten without the key: the last link is no longer keyed.
    edit(path, "UPDATE audit_log SET hash = substr(hash, 3) WHERE id = (SELECT max(id) FROM audit_log)")
    with billing.Engine(path, clock="manual", now=START, audit_key=key) as engine:
        found = engine.verify()["breaches"]
    assert any(b["check"] == "audit_chain" for b in found), found
