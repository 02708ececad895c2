"""Confirm a winning candidate independently: each test it newly passes, alone, in a fresh sandbox.

The search runs candidates through one runner (`nmrunners.batch`); what it
reports could have been forged by the code under test. Before a change is
committed, every test that passes only because of it is run again in a fresh
sandbox by a runner that shares nothing with the search but pytest
(`nmrunners.isolated`): one process per test, the verdict from the test's own
call, signed records. A test that fails there was not really repaired.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .backend import Backend
from .job import SRC, Job, Limits, Outcome
from .runners.overlay import check_overlay_paths

STARTUP = 30.0
"""Seconds the verifier may spend starting before its first test."""
PER_TEST_OVERHEAD = 10.0
"""Seconds each test's fresh interpreter and pytest may take beyond the test's own limit."""
ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONHASHSEED": "0"}


@dataclass(frozen=True)
class Confirmation:
    """Each test's verdict when run alone, and why the run as a whole failed (if it did)."""

    verdicts: Mapping[str, Mapping[str, Any]]
    problem: str | None = None
    wall_time: float = 0.0

    def failed(self) -> dict[str, str]:
        """The tests that did not pass alone, with why."""
        return {
            t: str(v.get("reason", "")) for t, v in self.verdicts.items() if not v.get("passed")
        }

    def disagreement(self) -> str | None:
        """Why the tests did not all pass alone, in words, or None when they did."""
        if self.problem is not None:
            return self.problem
        failed = self.failed()
        if not failed:
            return None
        test, reason = next(iter(failed.items()))
        return f"{len(failed)} of {len(self.verdicts)} test(s) fail alone ({test}: {reason})"


def isolated_job(
    tree: Path, tests: Sequence[str], overlays: Mapping[str, str], limits: Limits, name: str
) -> Job:
    """A job that runs each of `tests` alone, with `overlays` in place."""
    check_overlay_paths(overlays)
    whole = dataclasses.replace(
        limits, timeout=STARTUP + len(tests) * (limits.timeout + PER_TEST_OVERHEAD)
    )
    return Job(
        tree=tree,
        command=["{python}", "-m", "nmrunners.isolated", "/sandbox/job/job.json"],
        overlays=dict(overlays),
        limits=whole,
        env=ENV,
        payload={"src": SRC, "tests": list(tests), "test_timeout": limits.timeout},
        name=name,
        channel=True,
    )


def confirm(
    backend: Backend,
    tree: Path,
    tests: Sequence[str],
    *,
    overlays: Mapping[str, str],
    limits: Limits,
    name: str = "confirm",
) -> Confirmation:
    """Run each of `tests` alone on `tree` with `overlays`, in one fresh sandbox."""
    if not tests:
        return Confirmation({})
    result = backend.run(isolated_job(tree, tests, overlays, limits, name))
    document = result.result if isinstance(result.result, dict) else {}
    verdicts = document.get("isolated")
    if result.outcome is not Outcome.OK or not isinstance(verdicts, dict):
        why = result.detail or result.outcome.value
        return Confirmation({}, f"the independent run did not complete: {why}", result.wall_time)
    missing = [t for t in tests if t not in verdicts]
    if missing:
        return Confirmation(verdicts, f"no verdict for {missing[0]}", result.wall_time)
    return Confirmation(verdicts, None, result.wall_time)
