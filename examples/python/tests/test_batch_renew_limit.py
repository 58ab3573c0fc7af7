"""max_batch_renew through the ABI: up to 1,000 (the guide's batch renewal), refused above
with out_of_range naming the field, and renew/quote requests bounded by the setting, not by
a smaller fixed cap."""

import pytest

from billing import errors

LIMIT = 1000


def test_max_batch_renew_takes_up_to_the_guides_limit(engine):
    assert engine.config()["max_batch_renew"] == 10
    with pytest.raises(errors.InvalidArgument) as refused:
        engine.update_config({"max_batch_renew": LIMIT + 1}, actor="ops")
    assert refused.value.reason == "out_of_range"
    assert "max_batch_renew" in refused.value.message
    assert engine.config()["max_batch_renew"] == 10
    assert engine.update_config({"max_batch_renew": LIMIT}, actor="ops")["configuration"]["max_batch_renew"] == LIMIT


def test_renew_requests_are_bounded_by_the_setting(engine):
    engine.account_put("kyc", "a1", type="ENTERPRISE", realname_verified=True, level="V3")
    ids = [f"RS{n:012d}" for n in range(1, 251)]
    # At the default of 10, 250 ids are too many for the setting.
    for call in (lambda: engine.renewal_quote("a1", ids),
                 lambda: engine.resources_renew("c", "a1", ids)):
        with pytest.raises(errors.InvalidArgument) as refused:
            call()
        assert refused.value.reason == "too_many_items"
    # Raised to 1,000, the same request is read whole and reaches the resources themselves.
    engine.update_config({"max_batch_renew": LIMIT}, actor="ops")
    for call in (lambda: engine.renewal_quote("a1", ids),
                 lambda: engine.resources_renew("c", "a1", ids)):
        with pytest.raises(errors.NotFound) as missing:
            call()
        assert missing.value.reason == "resource_not_found"
    # Past 1,000 the request itself is refused, whatever the setting.
    with pytest.raises(errors.InvalidArgument) as past:
        engine.resources_renew("c", "a1", [f"RS{n:012d}" for n in range(1, LIMIT + 2)])
    assert past.value.reason == "too_many_items"
