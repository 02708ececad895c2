"""A code target's baseline: the committed tree judged once, and cached by its tree hash.

Besides the score, a baseline keeps what the search needs: which tests passed
(none of them may break), how long the session took (candidates get a time
limit scaled from it), each test's outcome and the lines each test ran (fault
localisation). A forced-fail probe, the rewritable files all replaced by a
module that raises, checks that the tests exercise those files at all.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from sandbox.evaluate import NOT_COUNTED, TestRun
from sandbox.job import Limits

PROBE_SOURCE = "raise ImportError('neuromutant forced-fail probe: deliberately broken')\n"
TIMEOUT_FACTOR = 10.0
MIN_CANDIDATE_TIMEOUT = 2.0
MIN_TEST_TIMEOUT = 1.0
"""A candidate's session may take ten times the baseline's (at least 2 s), and each of its
tests ten times the baseline's slowest (at least 1 s): mutants that loop are common."""


@dataclass
class Baseline:
    """A judged run of the committed tree, as cached in the store."""

    score: float
    passed: int
    collected: int
    passing: list[str]
    duration: float = 0.0
    """Seconds the pytest session took, less its tests that ran out of time: candidates get
    a time limit scaled from it."""
    slowest: float = 0.0
    """Seconds of the slowest test that finished in time: each test of a candidate gets a
    limit scaled from it."""
    hung: list[str] = field(default_factory=list)
    """Tests stopped by the per-test limit: they fail, and the session went on."""
    probe_passed: int | None = None
    outcomes: dict[str, str] = field(default_factory=dict)
    coverage: dict[str, Any] | None = None
    """Lines of the rewritable files each test ran, for fault localisation."""

    @classmethod
    def of(cls, run: TestRun) -> Baseline:
        """From a valid run."""
        document = run.result.result or {}
        durations = {str(k): float(v) for k, v in document.get("durations", {}).items()}
        hung = sorted(str(test) for test in document.get("timed_out", []))
        lost = sum(durations.get(test, 0.0) for test in hung)
        finished = [seconds for test, seconds in durations.items() if test not in hung]
        return cls(
            run.score,
            run.passed,
            run.collected,
            sorted(run.passing()),
            max(0.0, float(document.get("duration", 0.0)) - lost),
            slowest=max(finished, default=0.0),
            hung=hung,
            outcomes=dict(run.tests),
            coverage=run.coverage,
        )

    def untested(self, files: list[str]) -> str | None:
        """Why the tests do not exercise `files` (the probe passed as much), or None."""
        if self.passed and (self.probe_passed or 0) >= self.passed:
            return (
                f"the tests do not exercise {', '.join(files)}: with every one of those files "
                f"broken, {self.probe_passed} tests still pass (baseline: {self.passed})"
            )
        return None

    def running(self, path: str, line: int) -> set[str]:
        """The tests that ran `line` of `path` (empty when no coverage was recorded)."""
        tests = (self.coverage or {}).get("tests", {})
        return {test for test, files in tests.items() if line in files.get(path, ())}

    def excluded(self) -> set[str]:
        """Tests skipped or xfailed here: out of every score."""
        return {test for test, outcome in self.outcomes.items() if outcome in NOT_COUNTED}

    def candidate_limits(self, limits: Limits) -> Limits:
        """`limits` narrowed for candidates, scaled from this baseline's own timings.

        A test the baseline lost to its per-test limit may hang in a candidate too: the
        session gets room for each such test to run into its limit and fail alone.
        """
        test = limits.test_timeout
        if test is not None:
            test = min(test, max(MIN_TEST_TIMEOUT, TIMEOUT_FACTOR * self.slowest))
        session = max(MIN_CANDIDATE_TIMEOUT, TIMEOUT_FACTOR * self.duration)
        session += (test or 0.0) * len(self.hung)
        return dataclasses.replace(limits, timeout=min(limits.timeout, session), test_timeout=test)
