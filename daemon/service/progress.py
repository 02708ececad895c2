"""A running cycle's progress as nmd keeps it: one log line every 10 s, and a view for status.

A cycle tells its progress through its `Progress` callback, often many times a
second (every batch of candidates) or not for minutes (a long generation, a
baseline). `ProgressLog` wraps that callback: it keeps the latest event for
`nmctl status`, and writes a line to the daemon's log at most every
`PROGRESS_EVERY` seconds; the daemon's heartbeat asks it again when a line is
due, so a cycle that says nothing new still shows it is alive. The clock is
injected, so that tests need not wait.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from daemon.cycles.events import Evaluated, Event, Generation, Phase, Progress, ignore, to_dict
from daemon.service.eta import Budget, remaining

log = logging.getLogger("nmd")

PROGRESS_EVERY = 10.0
"""Seconds between two progress lines of one cycle in the daemon's log."""


class ProgressLog:
    """Keeps a running cycle's latest progress, and logs it every `interval` seconds.

    Args:
        target: the target's name, for the log line.
        budget: the cycle's limits, for its remaining time.
        forward: where every event goes on to (a client's socket), unchanged.
        interval: seconds between two log lines.
        clock: monotonic seconds (a fake one in tests).
        logger: where the lines go.
    """

    def __init__(
        self,
        target: str,
        budget: Budget,
        *,
        forward: Progress = ignore,
        interval: float = PROGRESS_EVERY,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger = log,
    ) -> None:
        self.target, self.budget, self.forward = target, budget, forward
        self.interval, self.clock, self.logger = interval, clock, logger
        self.started = self.logged = clock()
        self.phase = "starting"
        self.last: Evaluated | Generation | None = None
        self.searching: float | None = None
        """When a code cycle's first candidates came back (the start of its pace)."""
        self._lock = threading.Lock()  # a code cycle's batches report from several threads

    def __call__(self, event: Event) -> None:
        """Keep `event`, pass it on, and log a line if one is due."""
        with self._lock:
            match event:
                case Phase(name=name):
                    self.phase = name
                case Evaluated():
                    if self.searching is None:
                        self.searching = self.clock()
                    self.last = event
                case Generation():
                    self.last = event
        self.forward(event)
        self.heartbeat()

    def heartbeat(self) -> bool:
        """Log the progress line if `interval` seconds passed since the last; whether it did."""
        with self._lock:
            now = self.clock()
            if now - self.logged < self.interval:
                return False
            self.logged = now
            line = self.line(now)
        self.logger.info("%s: %s", self.target, line)
        return True

    def due(self) -> float:
        """When the next line is due, on the clock."""
        return self.logged + self.interval

    def line(self, now: float | None = None) -> str:
        """The progress as one log line: what it did, at what pace, and what is left."""
        now = self.clock() if now is None else now
        elapsed = now - self.started
        parts = [self.phase]
        match self.last:
            case Evaluated() as event:
                parts.append(self._code(event, now))
            case Generation() as event:
                parts.append(self._weights(event))
        parts.append(f"{duration(elapsed)} elapsed")
        left = self.eta(now)
        if left is not None:
            parts.append(f"about {duration(left)} left")
        return ", ".join(parts)

    def _code(self, event: Evaluated, now: float) -> str:
        searched = now - self.searching if self.searching is not None else 0.0
        rate = f", {event.done / searched * 60:.0f} candidates/min" if searched > 0 else ""
        return f"{event.done}/{event.total} candidates tried, best {event.best:.3f}{rate}"

    def _weights(self, event: Generation) -> str:
        total = f"/{event.total}" if event.total else ""
        rate = event.env_steps / event.wall_time if event.wall_time > 0 else 0.0
        return (
            f"generation {event.generation}{total}, {event.env_steps:,} env steps, "
            f"best {_number(event.best)}, mean {_number(event.mean)}, {rate:,.0f} steps/s"
        )

    def eta(self, now: float | None = None) -> float | None:
        """Seconds left by the budget and the pace so far; None once finishing up."""
        now = self.clock() if now is None else now
        searched = None if self.searching is None else now - self.searching
        return remaining(self.budget, self.last, now - self.started, searched, self.phase)

    def view(self) -> dict[str, Any]:
        """What `nmctl status` shows of the cycle: phase, latest event, elapsed, left."""
        now = self.clock()
        with self._lock:
            left = self.eta(now)
            return {
                "phase": self.phase,
                "event": None if self.last is None else to_dict(self.last),
                "elapsed": round(now - self.started, 1),
                "eta": None if left is None else round(left, 1),
            }

    def summary(self) -> str:
        """A few words for another request's queued line: "generation 23/60", "baseline"."""
        match self.last:
            case Generation(generation=generation, total=total) if self.phase == "evolve":
                return f"generation {generation}" + (f"/{total}" if total else "")
            case Evaluated(done=done, total=total) if self.phase == "mutations":
                return f"{done}/{total} candidates"
        return self.phase


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def duration(seconds: float) -> str:
    """Seconds for a person: 45s, 3m10s, 1h05m."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
