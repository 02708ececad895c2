"""Run a target's pytest suite in a sandbox, alone or as a batch of candidates.

A run is judged only from the runner's structured result, which comes back
over an authenticated channel (`runners.channel`). A run that did not finish,
collected fewer tests than the baseline, failed to collect, or sent a forged
result counts as invalid and scores zero, whatever its exit status says; only
a test that ran and passed counts as a pass (`TestRun`). A candidate that
kills or stops the batch harness fails alone, and the rest of its batch runs
again (`run_batch`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .backend import Backend
from .batch_rounds import run_rounds
from .job import SRC, WORK, Job, Limits, Outcome, Result, Watch
from .report import collection_error
from .runners.objective import check as check_objective
from .runners.overlay import check_overlay_paths

BATCH_STARTUP = 30.0
"""Seconds a batch may spend importing its harness before the first candidate."""
STALL_GRACE = 5.0
"""Seconds past a candidate's time limit for the harness to clean up and report it."""
DATA_SHARE_PERCENT = 75
"""The heap a test process may take, as a share of the sandbox's memory: past it a test
fails alone with MemoryError (`runners.procs.limit_data`) before the memory limit kills
the whole session."""
PYTEST_ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONHASHSEED": "0"}


@dataclass(frozen=True)
class Candidate:
    """One variant of the target: files that replace the tree's, as data."""

    id: str
    overlays: Mapping[str, str] = field(default_factory=dict)


NOT_COUNTED = frozenset({"skipped", "xfailed"})
"""Baseline outcomes that take a test out of the score: it does not run as a real check."""


@dataclass(frozen=True)
class TestRun:
    """A pytest run judged as data.

    Only a test that ran and passed counts as a pass: skipped, xfailed,
    xpassed and error never do, whoever raised them (the code under test can
    call ``pytest.skip`` or ``pytest.xfail``). The score is the fraction of
    the runnable tests that passed, where a test skipped or xfailed at
    baseline (`excluded`) is not runnable and counts neither way, so a target
    whose runnable tests all pass scores 1. A test is excluded only by the
    baseline's outcome, never by this run's: a candidate that skips a test
    that failed at baseline keeps it in the denominator, and one that passed
    at baseline and ends any other way now is broken (not in `passing()`).
    """

    __test__ = False  # a result, not a test class, whatever pytest's name patterns say

    result: Result
    tests: Mapping[str, str]
    """Node id -> passed, failed, error, skipped, xfailed or xpassed."""
    collected: int
    valid: bool
    """The run finished, reported, and collected at least what the baseline did."""
    reason: str = ""
    """Why the run is invalid, or empty."""
    excluded: frozenset[str] = frozenset()
    """Tests skipped or xfailed at baseline: not in the score."""

    @property
    def passed(self) -> int:
        """Runnable tests that passed."""
        return sum(1 for n, o in self.tests.items() if o == "passed" and n not in self.excluded)

    @property
    def runnable(self) -> int:
        """Collected tests less those excluded at baseline: the score's denominator."""
        return self.collected - len(self.excluded & self.tests.keys())

    @property
    def score(self) -> float:
        """Fraction of runnable tests that passed; 0 for an invalid run or no runnable test."""
        if not self.valid or self.runnable <= 0:
            return 0.0
        return self.passed / self.runnable

    def passing(self) -> frozenset[str]:
        """Node ids that passed, for the non-regression check."""
        return frozenset(n for n, o in self.tests.items() if o == "passed")

    @property
    def coverage(self) -> dict[str, Any] | None:
        """Lines each test executed, when the run was asked to record them."""
        doc = self.result.result if isinstance(self.result.result, dict) else {}
        return doc.get("coverage")

    def _objective(self) -> dict[str, Any]:
        doc = self.result.result if isinstance(self.result.result, dict) else {}
        found = doc.get("objective") or {}
        if found and not self.valid:  # scored in the sandbox, refused here: no scores
            return {**found, "scores": None, "error": f"not scored: {self.reason}"}
        return found

    @property
    def scores(self) -> tuple[float, ...] | None:
        """One gym return per seed, or one metric value per call; None: not scored, or failed."""
        scores = self._objective().get("scores")
        return None if scores is None else tuple(float(s) for s in scores)

    @property
    def objective_error(self) -> str:
        """Why the candidate has no scores ("" when scored, or when the job had no objective)."""
        return str(self._objective().get("error") or "")

    @property
    def env_steps(self) -> int:
        """Environment steps its gym scoring took, even if it failed; 0 for a metric or unscored."""
        return int(self._objective().get("steps") or 0)

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "valid": self.valid,
            "reason": self.reason,
            "score": self.score,
            "collected": self.collected,
            "passed": self.passed,
            "excluded": sorted(self.excluded),
            "tests": dict(self.tests),
            "sandbox": self.result.to_dict(),
        }


def _invalid(result: Result, doc: dict[str, Any] | None, min_collected: int) -> str:
    """Why a run cannot be judged on its tests, or ""."""
    collected = int(doc.get("collected", 0)) if doc else 0
    if result.outcome not in (Outcome.OK, Outcome.FAILED):
        return f"{result.outcome.value}: {result.detail}"
    if "scratch" in result.limits_hit:
        return result.detail
    if doc is None:
        why = result.detail or "did the code exit at import?"
        return f"the run ended before the runner reported ({why})"
    if doc.get("tampered"):
        return f"the runner was tampered with (possible forgery): {'; '.join(doc['tampered'][:3])}"
    if doc.get("stopped"):
        return f"stopped at {doc['stopped']}, which passed at baseline and did not pass now"
    if doc.get("collection_errors"):  # before the exit status: pytest ends with 2 then
        return f"collection failed in {collection_error(doc['collection_errors'][0])}"
    if not doc.get("complete"):
        return f"the pytest session did not finish ({doc.get('crash') or 'interrupted'})"
    if doc.get("exit_status") not in (0, 1):
        return f"pytest ended with status {doc.get('exit_status')}, not a completed run"
    if collected < min_collected:
        return f"collected {collected} tests, fewer than the baseline's {min_collected}"
    return ""


def judge(
    result: Result,
    min_collected: int = 0,
    *,
    baseline: Mapping[str, str] | None = None,
    must_pass: Iterable[str] = (),
) -> TestRun:
    """Read a runner result into a `TestRun`, invalid unless everything checks out.

    Args:
        result: what the sandbox returned.
        min_collected: the baseline's count of collected tests.
        baseline: the baseline's outcome of each test (`TestRun.tests`): its skipped
            and xfailed tests are excluded from the score. None: this run is the
            baseline, and its own skipped and xfailed tests are excluded.
        must_pass: tests that passed at baseline; one that did not pass now
            (skipped or xfailed by the code under test, say) makes the run invalid.
    """
    doc = result.result if isinstance(result.result, dict) else None
    tests = dict(doc.get("tests", {})) if doc else {}
    collected = int(doc.get("collected", 0)) if doc else 0
    reason = _invalid(result, doc, min_collected)
    broken = sorted(t for t in must_pass if tests.get(t, "passed") != "passed")
    if not reason and broken:
        reason = f"{broken[0]} passed at baseline and is now {tests[broken[0]]}"
    reference = tests if baseline is None else baseline
    excluded = frozenset(n for n, o in reference.items() if o in NOT_COUNTED)
    return TestRun(result, tests, collected, not reason, reason, excluded)


def _payload(
    args: Sequence[str],
    limits: Limits,
    must_pass: Iterable[str] = (),
    coverage: Sequence[str] = (),
) -> dict[str, Any]:
    payload = {
        "src": SRC,
        "args": list(args),
        "must_pass": sorted(must_pass),
        "test_timeout": limits.test_timeout,
        "data_limit": limits.memory * DATA_SHARE_PERCENT // 100,
    }
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
    limits = limits or Limits()
    return Job(
        tree=tree,
        command=["{python}", "-m", "nmrunners.pytest_run", "/sandbox/job/job.json"],
        overlays=overlays,
        limits=limits,
        env=PYTEST_ENV,
        payload=_payload(args, limits, coverage=coverage),
        name=name,
        channel=True,
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
    baseline: Mapping[str, str] | None = None,
) -> TestRun:
    """Run the tests once in a fresh sandbox; `coverage` as for `pytest_job`.

    `baseline` as for `judge`: without it, this run is judged as a baseline.
    """
    job = pytest_job(tree, args, overlays, limits, name, coverage)
    return judge(backend.run(job), min_collected, baseline=baseline)


def batch_job(
    tree: Path,
    candidates: Sequence[Candidate],
    args: Sequence[str] = (),
    limits: Limits | None = None,
    preload: Sequence[str] = (),
    name: str = "batch",
    must_pass: Iterable[str] = (),
    objective: Mapping[str, Any] | None = None,
) -> Job:
    """A job that runs the tests once per candidate, forked from one warm harness.

    `limits.timeout` is per candidate; the sandbox as a whole gets the sum. A
    candidate's run stops at the first test of `must_pass` that fails. The
    harness prints a line as each candidate starts and ends: one silent for a
    candidate's time limit and `STALL_GRACE` more is killed as stuck. With an
    `objective` (see `runners.objective.check`), a candidate whose tests all
    pass is scored too, within the objective's ``timeout`` more (and a grace).
    """
    limits = limits or Limits()
    for candidate in candidates:
        check_overlay_paths(candidate.overlays)
    spec = check_objective(objective) if objective else None
    each = limits.timeout + (spec["timeout"] + STALL_GRACE if spec else 0.0)
    payload = {
        **_payload(args, limits, must_pass),
        "scratch": WORK,
        "wipe": ["/tmp", "/dev/shm"],
        "candidate_timeout": limits.timeout,
        "output_limit": limits.output,
        "result_limit": limits.result,
        "preload": list(preload),
        "candidates": [{"id": c.id, "overlays": dict(c.overlays)} for c in candidates],
        **({"objective": spec} if spec else {}),
    }
    count = max(1, len(candidates))
    whole = dataclasses.replace(
        limits,
        timeout=BATCH_STARTUP + each * count,
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
        watch=Watch(first=BATCH_STARTUP + each, between=each + STALL_GRACE),
    )


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
    baseline: Mapping[str, str] | None = None,
    objective: Mapping[str, Any] | None = None,
) -> list[TestRun]:
    """Run every candidate's tests in one sandbox; one judged run per candidate.

    With `must_pass` (the baseline's passing tests), a candidate that fails one
    of them stops there and is judged invalid: it could never be accepted.
    `baseline` is the baseline's outcome of each test (see `judge`); without
    it no test is excluded from the score, which is safe but harsh when the
    baseline skipped some.

    With an `objective`, each candidate whose tests all pass is scored as
    well (`TestRun.scores`). A candidate that kills or stops the harness fails alone
    (`HARNESS_KILLED`); the candidates after it run again in a new sandbox,
    each at most once more.
    """
    if not candidates:
        return []
    must_pass = frozenset(must_pass)

    def job(batch: list[Candidate], attempt: int) -> Job:
        suffix = "-rerun" if attempt else ""
        return batch_job(tree, batch, args, limits, preload, name + suffix, must_pass, objective)

    results = run_rounds(backend, candidates, job)
    reference = baseline if baseline is not None else {}
    return [
        judge(results[i], min_collected, baseline=reference, must_pass=must_pass)
        for i in range(len(candidates))
    ]
