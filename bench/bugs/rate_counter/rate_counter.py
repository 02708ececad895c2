"""Counting events over a sliding time window; times are passed in, in seconds."""

from collections import deque


class RateCounter:
    """Events of the last `window` seconds."""

    def __init__(self, window):
        if window <= 0:
            raise ValueError(f"window must be positive, got {window}")
        self.window = window
        self._events = deque()

    def record(self, now, count=1):
        """Record `count` events at time `now` (times never go backwards)."""
        if self._events and now < self._events[-1][0]:
            raise ValueError("time went backwards")
        self._events.append((now, count))
        self._prune(now)

    def _prune(self, now):
        while self._events and self._events[0][0] - now >= self.window:
            self._events.popleft()

    def total(self, now):
        """Events in the window that ends at `now`."""
        self._prune(now)
        return sum(count for _, count in self._events)

    def rate(self, now):
        """Events per second over the window."""
        return self.total(now) / self.window

    def last_seen(self):
        """The time of the latest event, or None."""
        return self._events[-1][0] if self._events else None


def peak(counts, window):
    """The most events in any window, for a list of (time, count) events in time order."""
    counter = RateCounter(window)
    best = 0
    for now, count in counts:
        counter.record(now, count)
        best = max(best, counter.total(now))
    return best
