"""Rate limiting primitives: a token bucket, a sliding-window log and rate strings.

Every method that depends on time takes ``now`` (seconds, any monotonic origin)
as an argument; nothing here reads the clock itself.
"""

from __future__ import annotations

import re
from collections import deque

# Seconds in each unit accepted by `parse_rate`, under every spelling we accept.
_UNIT_SECONDS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1.0),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60.0),
    **dict.fromkeys(("h", "hr", "hour", "hours"), 3600.0),
    **dict.fromkeys(("d", "day", "days"), 86400.0),
}
_PERIOD = re.compile(r"(\d*(?:\.\d+)?)\s*([a-z]+)")


def parse_rate(spec: str) -> tuple[int, float]:
    """Parse a rate such as ``"100/min"``, ``"5 / 10s"`` or ``"1000/hour"``.

    Args:
        spec: A count, a slash, and a period: an optional multiplier followed
            by a unit (s, min, h, d, or their long names).

    Returns:
        The pair ``(count, period_in_seconds)``.

    Raises:
        ValueError: If the text is not a rate, or the count or period is not positive.
    """
    count_text, sep, period_text = spec.partition("/")
    match = _PERIOD.fullmatch(period_text.strip().lower())
    if not sep or not count_text.strip().isdigit() or match is None:
        raise ValueError(f"a rate looks like '100/min', not {spec!r}")
    multiplier_text, unit = match.groups()
    if unit not in _UNIT_SECONDS:
        raise ValueError(f"unknown time unit {unit!r} in {spec!r}")
    count = int(count_text)
    period = float(multiplier_text or 1) * _UNIT_SECONDS[unit]
    if count <= 0 or period <= 0:
        raise ValueError(f"a rate must be positive, not {spec!r}")
    return count, period


class TokenBucket:
    """A bucket of up to ``capacity`` tokens, refilled continuously at ``rate`` per second.

    A request costs tokens; it is allowed when the bucket holds enough of them.
    A new bucket starts full, so a client may burst up to ``capacity`` at once.
    """

    def __init__(self, capacity: float, rate: float, now: float = 0.0) -> None:
        if capacity <= 0 or rate <= 0:
            raise ValueError("capacity and rate must be positive")
        self.capacity = float(capacity)
        self.rate = float(rate)
        self.tokens = float(capacity)
        self.updated = now

    @classmethod
    def from_rate(cls, spec: str, now: float = 0.0) -> TokenBucket:
        """A bucket for a rate string: ``"60/min"`` holds 60 tokens and refills 1 per second.

        Args:
            spec: A rate in the format of `parse_rate`.
            now: The time the bucket is created (it starts full).

        Returns:
            The new bucket.
        """
        count, period = parse_rate(spec)
        return cls(count, count / period, now)

    def _refill(self, now: float) -> None:
        # A clock that steps backwards must not drain or overfill the bucket.
        elapsed = now - self.updated
        if elapsed > 0:
            self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
            self.updated = now

    def available(self, now: float) -> float:
        """Tokens in the bucket at ``now``.

        Args:
            now: The current time in seconds.

        Returns:
            The number of tokens available, possibly fractional.
        """
        self._refill(now)
        return self.tokens

    def try_acquire(self, now: float, cost: float = 1.0) -> bool:
        """Take ``cost`` tokens if the bucket holds that many.

        Args:
            now: The current time in seconds.
            cost: Tokens the request costs.

        Returns:
            True if the request is allowed (and the tokens were taken), else False.

        Raises:
            ValueError: If the cost could never be paid, being above the capacity.
        """
        if cost > self.capacity:
            raise ValueError(f"cost {cost} exceeds the bucket's capacity {self.capacity}")
        self._refill(now)
        if self.tokens > cost:
            self.tokens -= cost
            return True
        return False

    def wait_time(self, now: float, cost: float = 1.0) -> float:
        """Seconds to wait from ``now`` until a request of ``cost`` would be allowed.

        Args:
            now: The current time in seconds.
            cost: Tokens the request costs.

        Returns:
            The wait in seconds; 0.0 if the request would be allowed now.
        """
        self._refill(now)
        missing = cost - self.tokens
        return max(0.0, missing / self.rate)


class SlidingWindowLog:
    """Allow at most ``limit`` events in any window of ``window`` seconds.

    The log keeps the time of each allowed event; an event stops counting
    ``window`` seconds after it happened.
    """

    def __init__(self, limit: int, window: float) -> None:
        if limit <= 0 or window <= 0:
            raise ValueError("limit and window must be positive")
        self.limit = limit
        self.window = window
        self._events: deque[float] = deque()

    def _evict(self, now: float) -> None:
        while self._events and self._events[0] <= now - self.window:
            self._events.popleft()

    def hit(self, now: float) -> bool:
        """Record an event at ``now`` if the window has room for it.

        Args:
            now: The current time in seconds.

        Returns:
            True if the event is allowed (and recorded), else False.
        """
        self._evict(now)
        if len(self._events) < self.limit:
            self._events.append(now)
            return True
        return False

    def remaining(self, now: float) -> int:
        """Events still allowed in the window ending at ``now``.

        Args:
            now: The current time in seconds.

        Returns:
            How many more events `hit` would allow right now.
        """
        self._evict(now)
        return self.limit - len(self._events)

    def reset_at(self, now: float) -> float | None:
        """When the next slot frees up, for a caller that is being refused.

        Args:
            now: The current time in seconds.

        Returns:
            The time at which the oldest counted event expires, or None when
            an event would be allowed right now.
        """
        self._evict(now)
        if len(self._events) < self.limit:
            return None
        return self._events[0] + self.window
