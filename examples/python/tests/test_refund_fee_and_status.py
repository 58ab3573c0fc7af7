"""Two documented rules of unsubscription, pinned through Python against the real library:
the handling fee kept when consumption and the formula fee together exceed what was paid
(§5.7: fee kept = min(formula fee, paid − consumed), so refund + consumed + fee = paid), and
REFUNDING, which is never a resting status (refunds are credited in the transaction that
completes the unsubscription).
"""

from helpers import START, assert_verified, at, buy, cash, events, resource
from test_refunds import entry, period_of, shop


def test_the_fee_kept_is_what_consumption_leaves(fast_engine):
    """The EVS of §5.7 (100.00 paid, bought 2024-01-01 10:30, 758 hours) unsubscribed on
    2024-01-30 14:40: 700 hours used ⇒ consumed 100.00 × 700 / 758 = 92.35; the formula fee
    10.00 would exceed the 7.65 left, so the fee kept is 7.65 and the refund 0."""
    engine = shop(fast_engine)
    [disk] = buy(engine, "evs.100")
    engine.set_clock(at(2024, 1, 30, 14, 40))
    quote = engine.refund_quote("a1", [disk])
    period = period_of(quote)
    assert (period["start"], period["paid_amount_fen"]) == (START, 10_000)
    assert (period["total_units"], period["used_units"]) == (758, 700)
    assert period["consumed_fen"] == 9_235
    assert period["fee_rate_bp"] == 1_000  # the formula's fee would be 1 000
    assert period["fee_fen"] == 765 and period["refund_fen"] == 0
    assert period["refund_fen"] + period["consumed_fen"] + period["fee_fen"] == period["paid_amount_fen"]
    [source] = period["by_source"]
    assert (source["paid_fen"], source["refund_fen"], source["consumed_fen"], source["fee_fen"]) == (
        10_000, 0, 9_235, 765)
    assert entry(quote)["refund_fen"] == 0 and quote["total_refund_fen"] == 0

    before = cash(engine)
    done = engine.resources_unsubscribe("customer", "a1", [disk], quote_id=quote["quote_id"])
    assert done["order"]["status"] == "COMPLETED" and done["order"]["amounts"]["cash_fen"] == 0
    assert cash(engine) == before
    assert resource(engine, disk)["status"] == "UNSUBSCRIBED"
    assert_verified(engine)


def test_refunding_is_never_a_resting_status(fast_engine):
    engine = shop(fast_engine)
    engine.update_config({"large_refund_threshold_fen": 1_000}, actor="ops")
    [disk] = buy(engine, "evs.100")
    engine.set_clock(at(2024, 1, 15, 18, 40))
    pending = engine.resources_unsubscribe("customer", "a1", [disk])["order"]
    assert pending["status"] == "PENDING_REVIEW"
    assert engine.orders("a1", status="REFUNDING")["orders"] == []
    before = cash(engine)

    approved = engine.order_review("manager", "a1", pending["order_id"], "APPROVE")["order"]
    # Approval passes through REFUNDING and completes in the same call: the refund is
    # already on the balance when the call returns.
    assert approved["status"] == "COMPLETED"
    assert cash(engine) == before + 4_462
    changes = [(e["data"]["from"], e["data"]["to"]) for e in events(engine, "order.status_changed", pending["order_id"])]
    assert changes[-2:] == [("PENDING_REVIEW", "REFUNDING"), ("REFUNDING", "COMPLETED")]
    assert engine.orders("a1", status="REFUNDING")["orders"] == []
    assert all(o["status"] != "REFUNDING" for o in engine.iter_orders("a1"))
    assert_verified(engine)
