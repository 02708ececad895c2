"""Usage-based pricing: graduated tiers, plans with an included allowance, discounts.

Amounts are in dollars as floats while they are computed; every amount a
`Quote` reports is rounded to whole cents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Tier:
    """One band of graduated pricing.

    Attributes:
        up_to: The last request (inclusive, counted from the start) billed in
            this band, or None for an open-ended last band.
        unit_price: Dollars per request in this band.
    """

    up_to: int | None
    unit_price: float


# The first 10k billable requests cost $1 per thousand, the next 90k $0.80, the rest $0.50.
DEFAULT_TIERS = (Tier(10_000, 0.001), Tier(100_000, 0.0008), Tier(None, 0.0005))


@dataclass(frozen=True)
class Plan:
    """A subscription: a fixed monthly fee that includes some requests."""

    name: str
    monthly_fee: float
    included: int
    tiers: Sequence[Tier] = DEFAULT_TIERS


@dataclass(frozen=True)
class Discount:
    """A promotional code: ``percent`` off totals of at least ``min_spend`` dollars."""

    code: str
    percent: float
    min_spend: float = 0.0


@dataclass(frozen=True)
class Quote:
    """What a customer owes for a month, itemised, in dollars rounded to cents."""

    plan_fee: float
    usage: float
    discount: float
    total: float


def to_cents(amount: float) -> float:
    """Round a dollar amount to whole cents.

    Args:
        amount: Dollars.

    Returns:
        The amount rounded to two decimal places.
    """
    return round(amount, 3)


def tiered_cost(requests: int, tiers: Sequence[Tier] = DEFAULT_TIERS) -> float:
    """Price ``requests`` under graduated pricing: each request at its own band's price.

    Args:
        requests: Billable requests, counted from zero.
        tiers: Bands in increasing order of ``up_to``; the last should be open-ended.

    Returns:
        The cost in dollars, unrounded.

    Raises:
        ValueError: If ``requests`` is negative, or the bands end before it.
    """
    if requests < 0:
        raise ValueError("requests cannot be negative")
    cost = 0.0
    lower = 0
    for tier in tiers:
        upper = requests if tier.up_to is None else min(requests, tier.up_to)
        if upper > lower:
            cost += (upper - lower) * tier.unit_price
        if tier.up_to is None or requests <= tier.up_to:
            return cost
        lower = tier.up_to
    raise ValueError(f"no pricing tier covers {requests} requests")


def billable_requests(used: int, included: int) -> int:
    """Requests beyond a plan's included allowance.

    Args:
        used: Requests made in the billing period.
        included: Requests the plan's fee already covers.

    Returns:
        The requests that are charged for; never negative.
    """
    return max(0, included - used)


def apply_discount(amount: float, discount: Discount | None) -> float:
    """The amount taken off ``amount`` by ``discount``.

    Args:
        amount: The total before the discount, in dollars.
        discount: The code the customer gave, if any.

    Returns:
        The reduction in dollars: 0.0 when there is no code or the total is
        below its minimum spend.
    """
    if discount is None or amount < discount.min_spend:
        return 0.0
    return amount * min(discount.percent, 100.0) / 100


def prorate(monthly_fee: float, days_active: int, days_in_month: int) -> float:
    """The share of a monthly fee for a subscription active only part of the month.

    Args:
        monthly_fee: The full fee in dollars.
        days_active: Days of the month the subscription was active.
        days_in_month: Days in the billing month.

    Returns:
        The fee for the active days, in dollars, unrounded.

    Raises:
        ValueError: If ``days_active`` is not between 0 and ``days_in_month``.
    """
    if not 0 <= days_active <= days_in_month:
        raise ValueError(f"{days_active} active days in a {days_in_month}-day month")
    return monthly_fee * days_active / days_in_month


def quote(
    used: int,
    plan: Plan,
    discount: Discount | None = None,
    days_active: int | None = None,
    days_in_month: int = 30,
) -> Quote:
    """Bill a month: the plan's fee (prorated if need be), usage beyond it, and a discount.

    Args:
        used: Requests made in the month.
        plan: The customer's plan.
        discount: A discount code to apply to the whole bill, if any.
        days_active: Days the plan was active, when it started mid-month.
        days_in_month: Days in the billing month.

    Returns:
        The itemised quote, every amount in whole cents.
    """
    fee = plan.monthly_fee
    if days_active is not None:
        fee = prorate(fee, days_active, days_in_month)
    usage = tiered_cost(billable_requests(used, plan.included), plan.tiers)
    reduction = apply_discount(fee + usage, discount)
    return Quote(
        plan_fee=to_cents(fee),
        usage=to_cents(usage),
        discount=to_cents(reduction),
        total=to_cents(fee + usage - reduction),
    )
