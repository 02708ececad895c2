"""alpha: helpers for an API gateway.

* :mod:`alpha.ratelimit` - token buckets, sliding windows and rate strings.
* :mod:`alpha.pricing` - graduated usage pricing, plans, discounts and quotes.
* :mod:`alpha.retry` - retry policies, backoff schedules and Retry-After handling.

Nothing here reads the clock: every time-dependent call takes ``now`` (seconds
on any monotonic origin) so that callers and tests decide what time it is.
"""

from alpha.pricing import Discount, Plan, Quote, Tier, quote, tiered_cost
from alpha.ratelimit import SlidingWindowLog, TokenBucket, parse_rate
from alpha.retry import RetryPolicy, backoff_schedule, next_attempt_at

__all__ = [
    "Discount",
    "Plan",
    "Quote",
    "RetryPolicy",
    "SlidingWindowLog",
    "Tier",
    "TokenBucket",
    "backoff_schedule",
    "next_attempt_at",
    "parse_rate",
    "quote",
    "tiered_cost",
]

__version__ = "1.4.2"
