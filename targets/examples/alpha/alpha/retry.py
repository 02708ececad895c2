"""Retry scheduling for upstream calls: which failures to retry, and when.

Delays grow exponentially from ``base_delay`` and are capped at ``max_delay``.
Jitter is opt-in and always drawn from a `random.Random` the caller passes in,
so a schedule is reproducible from its seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# Statuses worth retrying: timeouts, throttling, and transient upstream failures.
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a failed call.

    Attributes:
        max_retries: Retries after the first attempt (so at most
            ``max_retries + 1`` attempts in all).
        base_delay: Seconds before the first retry.
        multiplier: Factor by which each delay exceeds the one before.
        max_delay: Upper bound on any single delay, in seconds.
        jitter: Fraction of each delay to randomise, both ways; 0 disables it.
    """

    max_retries: int = 3
    base_delay: float = 0.5
    multiplier: float = 2.0
    max_delay: float = 30.0
    jitter: float = 0.0

    def delay(self, retry: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``retry``.

        Args:
            retry: The retry, counted from 1.
            rng: Source of jitter; without one no jitter is applied.

        Returns:
            The delay in seconds, capped at ``max_delay``.

        Raises:
            ValueError: If ``retry`` is below 1.
        """
        if retry < 1:
            raise ValueError("retries are counted from 1")
        delay = min(self.base_delay * self.multiplier ** (retry - 1), self.max_delay)
        if self.jitter and rng is not None:
            spread = delay * self.jitter
            delay = rng.uniform(delay - spread, delay + spread)
        return delay


def backoff_schedule(policy: RetryPolicy, rng: random.Random | None = None) -> list[float]:
    """The delays before each retry the policy allows, in order.

    Args:
        policy: The retry policy.
        rng: Source of jitter, passed on to `RetryPolicy.delay`.

    Returns:
        One delay per retry: ``policy.max_retries`` of them.
    """
    return [policy.delay(n + 1, rng) for n in range(policy.max_retries - 1)]


def should_retry(status: int, attempts: int, policy: RetryPolicy) -> bool:
    """Whether a call that just failed with ``status`` deserves another attempt.

    Args:
        status: The HTTP status of the failed attempt.
        attempts: Attempts made so far, the failed one included.
        policy: The retry policy.

    Returns:
        True if the status is transient and the policy has retries left.
    """
    return status in RETRYABLE_STATUSES and attempts <= policy.max_retries


def parse_retry_after(value: str | None) -> float | None:
    """Read a ``Retry-After`` header given in seconds.

    Args:
        value: The header's value, if the response had one.

    Returns:
        The seconds the server asks us to wait, or None when the header is
        missing, is an HTTP date, or is not a non-negative number.
    """
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if seconds < 0 or seconds != seconds:  # reject negatives and NaN
        return None
    return seconds


def next_attempt_at(
    now: float,
    retry: int,
    policy: RetryPolicy,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """When to send retry number ``retry`` of a call that failed at ``now``.

    The server's ``Retry-After`` wins when it asks for a longer wait than the
    policy's backoff, but never beyond the policy's ``max_delay``.

    Args:
        now: The time of the failure, in seconds.
        retry: The retry about to be scheduled, counted from 1.
        policy: The retry policy.
        retry_after: Seconds the server asked us to wait, if it did.
        rng: Source of jitter for the backoff.

    Returns:
        The time at which to send the retry.
    """
    wait = policy.delay(retry, rng)
    if retry_after is not None:
        wait = max(wait, min(retry_after, policy.max_delay))
    return now + wait
