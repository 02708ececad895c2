"""A code target's baseline: the committed tree judged once, and cached by its tree hash.

Besides the score, a baseline keeps what the search needs: which tests passed
(none of them may break), how long the session took (candidates get a time
limit scaled from it), each test's outcome and the lines each test ran (fault
localisation). A forced-fail probe, the rewritable files all replaced by a
module that raises, checks that the tests exercise those files at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.evaluate import TestRun

PROBE_SOURCE = "raise ImportError('neuromutant forced-fail probe: deliberately broken')\n"


@dataclass
class Baseline:
    """A judged run of the committed tree, as cached in the store."""

    score: float
    passed: int
    collected: int
    passing: list[str]
    duration: float = 0.0
    """Seconds the pytest session took: candidates get a time limit scaled from it."""
    probe_passed: int | None = None
    outcomes: dict[str, str] = field(default_factory=dict)
    coverage: dict[str, Any] | None = None
    """Lines of the rewritable files each test ran, for fault localisation."""

    @classmethod
    def of(cls, run: TestRun) -> Baseline:
        """From a valid run."""
        duration = float((run.result.result or {}).get("duration", 0.0))
        return cls(
            run.score,
            run.passed,
            run.collected,
            sorted(run.passing()),
            duration,
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
