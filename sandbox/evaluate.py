"""Run a target's pytest suite in a sandbox, alone or as a batch of candidates.

A run is judged only from the runner's structured result. A run that did not
finish, collected fewer tests than the baseline, or failed to collect counts
as invalid and scores zero, whatever its exit status says.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .backend import Backend
from .job import SRC, WORK, Job, Limits, Outcome, Result
from .report import classify
from .runners.overlay import check_overlay_paths

BATCH_STARTUP = 30.0
"""Seconds a batch may spend importing its harness before the first candidate."""
PYTEST_ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONHASHSEED": "0"}


@dataclass(frozen=True)
class Candidate:
    """One variant of the target: files that replace the tree's, as data."""

    id: str
    overlays: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TestRun:
    """A pytest run judged as data."""

    result: Result
    tests: Mapping[str, str]
    """Node id -> passed, failed, error, skipped, xfailed or xpassed."""
    collected: int
    valid: bool
    """The run finished, reported, and collected at least what the baseline did."""
    reason: str = ""
    """Why the run is invalid, or empty."""

    @property
    def passed(self) -> int:
        """Tests that passed (xfailed counts as passed: it behaved as declared)."""
        return sum(1 for o in self.tests.values() if o in ("passed", "xfailed"))

    @property
    def score(self) -> float:
        """Fraction of collected tests that passed; 0 for an invalid run."""
        if not self.valid or not self.collected:
            return 0.0
        return self.passed / self.collected

    def passing(self) -> frozenset[str]:
        """Node ids that passed, for the non-regression check."""
        return frozenset(n for n, o in self.tests.items() if o in ("passed", "xfailed"))

    @property
    def coverage(self) -> dict[str, Any] | None:
        """Lines each test executed, when the run was asked to record them."""
        doc = self.result.result if isinstance(self.result.result, dict) else {}
        return doc.get("coverage")

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "valid": self.valid,
            "reason": self.reason,
            "score": self.score,
            "collected": self.collected,
            "passed": self.passed,
            "tests": dict(self.tests),
            "sandbox": self.result.to_dict(),
        }


def judge(result: Result, min_collected: int = 0) -> TestRun:
    """Read a runner result into a `TestRun`, invalid unless everything checks out."""
    doc = result.result if isinstance(result.result, dict) else None
    tests = dict(doc.get("tests", {})) if doc else {}
    collected = int(doc.get("collected", 0)) if doc else 0
    reason = ""
    if result.outcome not in (Outcome.OK, Outcome.FAILED):
        reason = f"{result.outcome.value}: {result.detail}"
    elif doc is None:
        reason = "the run ended before the runner reported (did the code exit at import?)"
    elif doc.get("stopped"):
        reason = f"stopped at {doc['stopped']}, which passed at baseline and failed"
    elif not doc.get("complete"):
        reason = f"the pytest session did not finish ({doc.get('crash') or 'interrupted'})"
    elif doc.get("exit_status") not in (0, 1):
        reason = f"pytest ended with status {doc.get('exit_status')}, not a completed run"
    elif doc.get("collection_errors"):
        first = doc["collection_errors"][0]
        reason = f"collection failed in {first['nodeid'] or 'the session'}"
    elif collected < min_collected:
        reason = f"collected {collected} tests, fewer than the baseline's {min_collected}"
    return TestRun(result, tests, collected, valid=not reason, reason=reason)


def _payload(
    args: Sequence[str], must_pass: Iterable[str] = (), coverage: Sequence[str] = ()
) -> dict[str, Any]:
    payload = {"src": SRC, "args": list(args), "must_pass": sorted(must_pass)}
    if coverage:
        payload["coverage"] = list(coverage)
    return payload


def pytest_job(
    tree: Path,
    args: Sequence[str] = (),
    overlays: Mapping[str, str] | None = None,
    limits: Limits | None = None,
    name: str = "pytest",
    coverage: Sequence[str] = (),
) -> Job:
    """A job that runs the tree's tests once, with `overlays` in place.

    With `coverage` (files relative to the tree), the result records the lines of
    those files that each test executed.
    """
    overlays = dict(overlays or {})
    check_overlay_paths(overlays)
    return Job(
        tree=tree,
        command=["{python}", "-m", "nmrunners.pytest_run", "/sandbox/job/job.json"],
        overlays=overlays,
        limits=limits or Limits(),
        env=PYTEST_ENV,
        payload=_payload(args, coverage=coverage),
        name=name,
    )


def run_tests(
    backend: Backend,
    tree: Path,
    args: Sequence[str] = (),
    *,
    overlays: Mapping[str, str] | None = None,
    limits: Limits | None = None,
    min_collected: int = 0,
    name: str = "pytest",
    coverage: Sequence[str] = (),
) -> TestRun:
    """Run the tests once in a fresh sandbox; `coverage` as for `pytest_job`."""
    job = pytest_job(tree, args, overlays, limits, name, coverage)
    return judge(backend.run(job), min_collected)


def batch_job(
    tree: Path,
    candidates: Sequence[Candidate],
    args: Sequence[str] = (),
    limits: Limits | None = None,
    preload: Sequence[str] = (),
    name: str = "batch",
    must_pass: Iterable[str] = (),
) -> Job:
    """A job that runs the tests once per candidate, forked from one warm harness.

    `limits.timeout` is per candidate; the sandbox as a whole gets the sum. A
    candidate's run stops at the first test of `must_pass` that fails.
    """
    limits = limits or Limits()
    for candidate in candidates:
        check_overlay_paths(candidate.overlays)
    payload = {
        **_payload(args, must_pass),
        "scratch": WORK,
        "wipe": ["/tmp", "/dev/shm"],
        "candidate_timeout": limits.timeout,
        "output_limit": limits.output,
        "result_limit": limits.result,
        "preload": list(preload),
        "candidates": [{"id": c.id, "overlays": dict(c.overlays)} for c in candidates],
    }
    count = max(1, len(candidates))
    whole = dataclasses.replace(
        limits,
        timeout=BATCH_STARTUP + limits.timeout * count,
        # The reports travel on the harness's stdout: room for each one, escaped.
        output=count * 2 * (limits.output + limits.result) + 1024**2,
    )
    return Job(
        tree=tree,
        command=["{python}", "-m", "nmrunners.batch", "/sandbox/job/job.json"],
        limits=whole,
        env=PYTEST_ENV,
        payload=payload,
        name=name,
    )


def split_batch(result: Result, candidates: Sequence[Candidate]) -> list[Result]:
    """One `Result` per candidate, in order; candidates the batch never finished get `error`.

    The harness prints one report line per finished candidate.
    """
    reports: dict[str, dict[str, Any]] = {}
    for line in result.stdout.text.splitlines():
        try:
            report = json.loads(line)
        except ValueError:
            continue  # a line cut by the output limit
        if isinstance(report, dict) and report.get("v") == 1:
            reports.setdefault(report.get("id"), report)
    results = []
    for candidate in candidates:
        report = reports.get(candidate.id)
        if report is None:
            detail = result.detail or result.stderr.text[-500:] or "no report"
            why = f"{result.outcome.value}: {detail}"
            results.append(
                Result(
                    Outcome.ERROR,
                    None,
                    0.0,
                    detail=f"the batch ended before this candidate finished ({why})",
                )
            )
        else:
            results.append(classify(report, wall_time=report.get("wall_time", 0.0)))
    return results


def run_batch(
    backend: Backend,
    tree: Path,
    candidates: Sequence[Candidate],
    args: Sequence[str] = (),
    *,
    limits: Limits | None = None,
    min_collected: int = 0,
    preload: Sequence[str] = (),
    name: str = "batch",
    must_pass: Iterable[str] = (),
) -> list[TestRun]:
    """Run every candidate's tests in one sandbox; one judged run per candidate.

    With `must_pass` (the baseline's passing tests), a candidate that fails one
    of them stops there and is judged invalid: it could never be accepted.
    """
    if not candidates:
        return []
    job = batch_job(tree, candidates, args, limits, preload, name, must_pass)
    result = backend.run(job)
    return [judge(r, min_collected) for r in split_batch(result, candidates)]
