"""Limits per test: a test that runs too long or eats memory fails alone; the session goes on.

A buggy program that loops forever (or grows a list forever) in one test
would otherwise run the whole session into its time or memory limit, and a
run killed so reports nothing: a baseline with one runaway test would be
invalid, and the cycle could try nothing.

Time: each phase of a test (setup, call, teardown) runs under a real-time
timer; when it fires, `TestTimeout` is raised in the test's own frame, where
pytest records it as that test's failure. It derives from `BaseException`, so
the code under test's ``except Exception`` cannot swallow it. Once a test has
run out of time, the later ones share what is left of the session's own limit,
so that a program whose every test hangs still ends with a report.

Memory: during those phases the process's heap is capped (soft RLIMIT_DATA),
so a runaway allocation raises MemoryError in the test; between tests the cap
is lifted, so pytest and this runner can still report a failure whose
traceback holds the runaway data.

Code that blocks the signal, swallows even `BaseException`, or raises its own
soft limit runs on into the session's limits, which still kill the run.
"""

from __future__ import annotations

import contextlib
import resource
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

MIN_SHARE = 0.2
"""The least seconds a test gets once earlier tests ran out of time."""
MARGIN = 0.1
"""The share of the session's limit kept back for the report, once tests ran out of time."""


class TestTimeout(BaseException):
    """A test ran past its time limit."""

    __test__ = False  # not a test class, whatever pytest's name patterns say


class Deadline:
    """Arms a timer (and a heap cap) around each phase of a test; remembers what it stopped."""

    def __init__(
        self,
        seconds: float | None,
        *,
        session: float | None = None,
        heap: int | None = None,
    ) -> None:
        """`seconds` per test, within a session limited to `session` seconds from now."""
        self.seconds = seconds if seconds and seconds > 0 else None
        self.heap = heap if heap and heap > 0 else None
        self.ends = time.monotonic() + session * (1 - MARGIN) if session else None
        self.tests_left: int | None = None
        self.expired: list[str] = []
        self._current: str | None = None
        self._limit = 0.0

    def collected(self, count: int) -> None:
        """The session will run `count` tests (for sharing what time is left)."""
        self.tests_left = count

    def finished(self) -> None:
        """One test is done."""
        if self.tests_left:
            self.tests_left -= 1

    @contextlib.contextmanager
    def phase(self, nodeid: str) -> Iterator[None]:
        """Run one phase of test `nodeid` under the limits (none set: just run it)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        with self._heap_capped(), self._timed(nodeid):
            yield

    def limit(self) -> float | None:
        """Seconds the next phase may take: `seconds`, or a share of what is left after hangs."""
        if self.seconds is None or not self.expired or self.ends is None:
            return self.seconds
        share = (self.ends - time.monotonic()) / max(1, self.tests_left or 1)
        return min(self.seconds, max(MIN_SHARE, share))

    @contextlib.contextmanager
    def _timed(self, nodeid: str) -> Iterator[None]:
        limit = self.limit()
        if limit is None:
            yield
            return
        self._current, self._limit = nodeid, limit
        previous = signal.signal(signal.SIGALRM, self._expire)
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            yield
        finally:
            self._current = None  # first: a late signal then raises nothing
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    @contextlib.contextmanager
    def _heap_capped(self) -> Iterator[None]:
        if self.heap is None:
            yield
            return
        soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        capped = self.heap if hard == resource.RLIM_INFINITY else min(self.heap, hard)
        try:
            resource.setrlimit(resource.RLIMIT_DATA, (capped, hard))
        except (ValueError, OSError):  # the heap is over it already: leave it
            yield
            return
        try:
            yield
        finally:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))

    def _expire(self, signum: int, frame: Any) -> None:
        nodeid = self._current
        if nodeid is None:  # the phase was ending as the timer fired
            return
        if nodeid not in self.expired:
            self.expired.append(nodeid)
        raise TestTimeout(f"the test ran past its time limit of {self._limit:.3g} s")
