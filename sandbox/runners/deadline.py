"""A time limit per test: a test that runs too long fails alone, and the session goes on.

A buggy program that loops forever in one test would otherwise run the whole
session into its limit, and a run killed so reports nothing: a baseline with
one hanging test would be invalid, and the cycle could try nothing. Each
phase of a test (setup, call, teardown) runs under a real-time timer; when it
fires, `TestTimeout` is raised in the test's own frame, where pytest records
it as that test's failure. It derives from `BaseException` so that the code
under test's ``except Exception`` cannot swallow it; code that swallows even
that, or blocks the signal, runs on into the session's limit, which still
kills the run.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any


class TestTimeout(BaseException):
    """A test ran past its time limit."""

    __test__ = False  # not a test class, whatever pytest's name patterns say


class Deadline:
    """Arms SIGALRM around each phase of a test; remembers the tests it stopped."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds if seconds and seconds > 0 else None
        self.expired: list[str] = []
        self._current: str | None = None

    @contextlib.contextmanager
    def phase(self, nodeid: str) -> Iterator[None]:
        """Run one phase of test `nodeid` under the limit (no limit: just run it)."""
        if self.seconds is None or threading.current_thread() is not threading.main_thread():
            yield
            return
        self._current = nodeid
        previous = signal.signal(signal.SIGALRM, self._expire)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        try:
            yield
        finally:
            self._current = None  # first: a late signal then raises nothing
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    def _expire(self, signum: int, frame: Any) -> None:
        nodeid = self._current
        if nodeid is None:  # the phase was ending as the timer fired
            return
        if nodeid not in self.expired:
            self.expired.append(nodeid)
        raise TestTimeout(f"the test ran past its time limit of {self.seconds:g} s")
