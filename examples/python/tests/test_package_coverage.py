"""Package coverage is decided by the usage's own time (§2.4), whatever the order of usage
reports and scheduler runs, through Python against the real library.

Two accounts buy the same package and the same pay-per-use bucket; both report usage of
the package's last valid hour after it ended, one before the scheduler has expired the
package and one after. Both must be covered alike.
"""

from helpers import HOUR, M1, at, customer
from test_usage import product

def setup(engine, account_id):
    customer(engine, account_id)
    order = engine.order_create("buyer", account_id, [{"product_id": "obs.100g", "period": M1}],
                                auto_pay=True)["order"]
    [pack] = [r["resource_id"] for r in order["resources"]]
    order = engine.order_create("buyer", account_id, [{"product_id": "obs.std"}])["order"]
    [bucket] = [r["resource_id"] for r in order["resources"]]
    engine.resource_report("host", account_id, [{"resource_id": bucket, "outcome": "SUCCEEDED"}])
    return pack, bucket


def last_hour(engine, account_id, bucket):
    """50 units stored in the package's last valid hour (2024-02-01 23:00-24:00)."""
    response = engine.usage_report("meter", account_id, [{
        "usage_id": "late", "resource_id": bucket, "quantity": 50,
        "start": at(2024, 2, 1, 23), "end": at(2024, 2, 2)}])
    [line] = response["results"][0]["lines"]
    return line["covered"] // HOUR, line["overage"] // HOUR, response["charged_fen"]


def test_usage_in_the_last_valid_hour_is_covered_after_the_package_expired(engine_at):
    engine = engine_at(at(2024, 1, 1, 10))
    product(engine, "obs.std", "OBS", hourly_price_microfen=1_000_000)  # 1 fen a unit-hour
    product(engine, "obs.100g", "OBS", "PACKAGE", monthly_price_fen=900,
            package={"kind": "CAPACITY", "quota": 100, "applies_to": ["OBS"]})
    pack_a, bucket_a = setup(engine, "a1")
    pack_b, bucket_b = setup(engine, "a2")
    assert engine.resource_get("a1", pack_a)["resource"]["expire_at"] == at(2024, 2, 1, 23, 59, 59)

    # a2 reports after the package's end, before the scheduler has run.
    engine.set_clock(at(2024, 2, 2, 0, 30))
    assert engine.resource_get("a2", pack_b)["resource"]["status"] == "IN_USE"
    assert last_hour(engine, "a2", bucket_b) == (50, 0, 0)
    # The scheduler runs and expires the packages; a1 reports after it.
    while engine.scheduler_run("scheduler")["has_more"]:
        pass
    assert engine.resource_get("a1", pack_a)["resource"]["status"] == "EXPIRED"
    engine.set_clock(at(2024, 2, 2, 1))
    assert last_hour(engine, "a1", bucket_a) == (50, 0, 0)
    # After the end, usage is charged whatever the status says.
    after = engine.usage_report("meter", "a1", [{
        "usage_id": "after", "resource_id": bucket_a, "quantity": 50,
        "start": at(2024, 2, 2), "end": at(2024, 2, 2, 1)}])
    assert after["charged_fen"] == 50
    report = engine.verify()
    assert report["ok"] is True and report["breaches"] == [], report
