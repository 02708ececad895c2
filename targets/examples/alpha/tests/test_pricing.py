import pytest
from alpha.pricing import (
    Discount,
    Plan,
    Quote,
    Tier,
    apply_discount,
    billable_requests,
    prorate,
    quote,
    tiered_cost,
    to_cents,
)

STARTER = Plan("starter", monthly_fee=49.0, included=25_000)


def test_to_cents_rounds_to_two_places():
    assert to_cents(12.3456) == 12.35
    assert to_cents(0.004) == 0.0
    assert to_cents(7.0) == 7.0


def test_tiered_cost_within_the_first_band():
    assert tiered_cost(0) == 0.0
    assert tiered_cost(5_000) == pytest.approx(5.0)


def test_tiered_cost_at_and_past_a_band_boundary():
    assert tiered_cost(10_000) == pytest.approx(10.0)
    assert tiered_cost(10_001) == pytest.approx(10.0008)


def test_tiered_cost_spans_every_band():
    # 10k at $0.001, 90k at $0.0008, 50k at $0.0005
    assert tiered_cost(150_000) == pytest.approx(10.0 + 72.0 + 25.0)


def test_tiered_cost_with_custom_tiers():
    tiers = (Tier(100, 0.0), Tier(None, 0.01))
    assert tiered_cost(100, tiers) == 0.0
    assert tiered_cost(250, tiers) == pytest.approx(1.5)


def test_tiered_cost_rejects_negative_or_uncovered_usage():
    with pytest.raises(ValueError):
        tiered_cost(-1)
    with pytest.raises(ValueError):
        tiered_cost(101, (Tier(100, 0.01),))


def test_billable_requests_counts_the_overage():
    assert billable_requests(1_500, 1_000) == 500


def test_billable_requests_within_the_allowance_is_zero():
    assert billable_requests(200, 1_000) == 0
    assert billable_requests(1_000, 1_000) == 0


def test_apply_discount_takes_a_percentage_off():
    assert apply_discount(200.0, Discount("SAVE10", 10)) == pytest.approx(20.0)


def test_apply_discount_needs_the_minimum_spend():
    code = Discount("BIG20", 20, min_spend=100.0)
    assert apply_discount(99.99, code) == 0.0
    assert apply_discount(100.0, code) == pytest.approx(20.0)
    assert apply_discount(100.0, None) == 0.0


def test_apply_discount_never_exceeds_the_amount():
    assert apply_discount(30.0, Discount("FREE", 150)) == pytest.approx(30.0)


def test_prorate_charges_for_active_days():
    assert prorate(30.0, 15, 30) == pytest.approx(15.0)
    assert prorate(30.0, 0, 30) == 0.0
    assert prorate(30.0, 30, 30) == pytest.approx(30.0)


def test_prorate_rejects_impossible_day_counts():
    with pytest.raises(ValueError):
        prorate(30.0, 31, 30)
    with pytest.raises(ValueError):
        prorate(30.0, -1, 30)


def test_quote_within_the_allowance_is_the_plan_fee():
    assert quote(20_000, STARTER) == Quote(plan_fee=49.0, usage=0.0, discount=0.0, total=49.0)


def test_quote_charges_usage_beyond_the_allowance():
    assert quote(26_000, STARTER) == Quote(plan_fee=49.0, usage=1.0, discount=0.0, total=50.0)


def test_quote_applies_a_discount_to_the_whole_bill():
    plan = Plan("team", monthly_fee=100.0, included=1_000)
    result = quote(1_000, plan, Discount("LAUNCH15", 15))
    assert result == Quote(plan_fee=100.0, usage=0.0, discount=15.0, total=85.0)


def test_quote_rounds_a_prorated_fee_to_cents():
    plan = Plan("hobby", monthly_fee=10.0, included=0)
    result = quote(0, plan, days_active=10, days_in_month=31)
    assert result == Quote(plan_fee=3.23, usage=0.0, discount=0.0, total=3.23)
