"""One improvement cycle of a code target (weights targets: `daemon.cycles.weights`).

baseline (cached by tree hash) -> forced-fail probe -> mutations in order, within
the budget -> batches evaluated in the sandbox -> the best candidate that improves
the score and breaks no passing test -> one commit -> verification of the
committed tree in a fresh sandbox -> a revert commit if that fails. Everything
is recorded in the store; the repository is touched only by the ledger.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from daemon.ledger import Ledger, LedgerError, format_message, open_ledger
from daemon.locks import target_lock
from daemon.registry import TargetSpec
from daemon.store import Store
from policies.codemods import Mutation, MutationError, apply_mutation, enumerate_mutations
from policies.localise import ochiai
from policies.ordering import Ordering, Search, SearchContext, ordering_for
from policies.preferences import OperatorPreferences
from sandbox.backend import Backend
from sandbox.evaluate import Candidate, TestRun, run_batch, run_tests

log = logging.getLogger(__name__)

TIMEOUT_FACTOR = 10.0
MIN_CANDIDATE_TIMEOUT = 2.0
"""A candidate may take ten times the baseline's test time (at least 2 s, at most the
target's own timeout) before it counts as hung: mutants that loop forever are common."""

PROBE_SOURCE = "raise ImportError('neuromutant forced-fail probe: deliberately broken')\n"

Progress = Callable[..., None]
"""Called as ``progress(event, **data)``: 'phase' (name), 'evaluated' (done, total, best)."""


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


@dataclass
class CycleReport:
    """What one cycle did, for `nmctl cycle` and the daemon's log."""

    target: str
    cycle: int
    status: str
    """accepted, rejected, reverted, waiting or error."""
    reason: str
    baseline_score: float | None = None
    best_score: float | None = None
    candidates: int = 0
    sandbox_seconds: float = 0.0
    commit: str | None = None
    revert: str | None = None
    mutation: dict[str, Any] | None = None
    seconds: float = 0.0
    recovered: list[str] = field(default_factory=list)
    evolution: dict[str, Any] | None = None
    """A weights target's run: method, generations, env steps, run directory and curve."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)


def run_cycle(
    spec: TargetSpec,
    state: Path,
    backend: Backend,
    store: Store,
    *,
    forced: bool = True,
    budget: float = 1.0,
    ordering: Ordering | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> CycleReport:
    """Run one cycle of `spec` under its lock; never leaves the repository dirty.

    `budget` is the share of the target's budget (candidates and seconds) this cycle
    may spend, as the trigger policy decided. Without `ordering`, the target's own
    (``[search] order``) is used, and a learned order's operator preferences are
    read from the store and saved back. Setting `stop` ends the cycle early: no
    new batch starts and nothing is committed. A weights target (``kind =
    "weights"``) runs `daemon.cycles.weights.WeightsCycle` instead, under the same
    lock, recovery and record; its share scales generations, env steps and seconds.
    """
    if not 0.0 < budget <= 1.0:
        raise ValueError(f"budget share must be in (0, 1], got {budget}")
    preferences = None
    weights = spec.config.kind == "weights"
    if ordering is None and not weights:
        preferences = load_preferences(store, spec.name)
        ordering = ordering_for(spec.config.search.order, preferences)
    with target_lock(state, spec.name):
        ledger = open_ledger(spec)
        recovered = ledger.recover()
        cycle_id, number = store.start_cycle(spec.name, forced=forced, head=ledger.head())
        context = CycleContext(
            spec,
            state,
            backend,
            store,
            ledger,
            cycle_id,
            number,
            progress or (lambda *a, **k: None),
            stop or threading.Event(),
            budget,
        )
        if weights:
            from daemon.cycles.weights import WeightsCycle

            cycle: _Cycle | WeightsCycle = WeightsCycle(context)
        else:
            cycle = _Cycle(context, ordering)
        try:
            report = cycle.run()
        except Exception as exc:
            log.exception("%s: cycle %d failed", spec.name, number)
            report = cycle.report("error", f"{type(exc).__name__}: {exc}")
        if preferences is not None:
            store.save_policy_state(spec.name, "operators", preferences.to_dict())
        report.recovered = recovered
        store.end_cycle(
            cycle_id,
            report.status,
            report.reason,
            baseline_score=report.baseline_score,
            best_score=report.best_score,
            candidates=report.candidates,
            sandbox_seconds=report.sandbox_seconds,
            commit_sha=report.commit,
        )
        return report


def load_preferences(store: Store, target: str) -> OperatorPreferences:
    """A target's operator preferences, with the prior pooled from every other target."""
    others = [s for t, s in store.policy_states("operators").items() if t != target]
    return OperatorPreferences.from_dict(store.policy_state(target, "operators"), others)


@dataclass(frozen=True)
class CycleContext:
    """What a cycle is given: the target, where things are, and its number and share."""

    spec: TargetSpec
    state: Path
    backend: Backend
    store: Store
    ledger: Ledger
    cycle_id: int
    number: int
    progress: Progress
    stop: threading.Event
    share: float = 1.0
    """The share of the target's budget this cycle may spend."""


class CycleBase:
    """What every kind of cycle shares: its facts, its report, and the revert of a failed commit."""

    def __init__(self, context: CycleContext) -> None:
        self.spec, self.config = context.spec, context.spec.config
        self.state, self.backend = context.state, context.backend
        self.store, self.ledger = context.store, context.ledger
        self.cycle_id, self.number = context.cycle_id, context.number
        self.progress, self.stop, self.share = context.progress, context.stop, context.share
        self.limits = self.config.sandbox.limits()
        self.started = time.monotonic()
        self.fields: dict[str, Any] = {}

    def report(self, status: str, reason: str) -> CycleReport:
        """The cycle's report so far, ending with `status` for `reason`."""
        return CycleReport(
            self.spec.name,
            self.number,
            status,
            reason,
            seconds=time.monotonic() - self.started,
            **self.fields,
        )

    def snapshot_path(self, tree: str) -> Path:
        """Where the tree `tree` is exported for the sandbox."""
        return self.state / "snapshots" / self.spec.name / tree

    def revert_unverified(self, sha: str, subject: str, problem: str) -> CycleReport:
        """Revert commit `sha` (history kept) because its verification found `problem`."""
        revert_subject = f'Revert "{subject}"'
        revert = self.ledger.revert(
            sha,
            format_message(
                revert_subject,
                f"This reverts commit {sha}.\n\nVerification failed: {problem}",
                {
                    "Target": self.spec.name,
                    "Cycle": self.number,
                    "Reverts": sha,
                    "Reason": problem.splitlines()[0][:200],
                },
            ),
        )
        self.fields["revert"] = revert
        self.store.add_commit(self.spec.name, self.cycle_id, revert, "revert", revert_subject)
        return self.report("reverted", f"verification of {sha[:12]} failed: {problem}")


class _Cycle(CycleBase):
    def __init__(self, context: CycleContext, ordering: Ordering) -> None:
        super().__init__(context)
        self.ordering = ordering
        self.max_candidates = max(1, round(self.config.budget.candidates * self.share))
        self.max_seconds = self.config.budget.seconds * self.share

    def run(self) -> CycleReport:
        files = self.ledger.files(self.config.files)
        if not files:
            return self.report(
                "error",
                f"no tracked Python file matches files = "
                f"{list(self.config.files)} in {self.spec.repo}",
            )
        dirty = self.ledger.dirty(files)
        if dirty:
            return self.report(
                "waiting",
                f"uncommitted changes in {', '.join(dirty)}: commit "
                "or stash them; this cycle touched nothing",
            )
        baseline = self.baseline(files, self.config.tests)
        if isinstance(baseline, CycleReport):
            return baseline
        self.fields["baseline_score"] = baseline.score
        if baseline.score >= 1.0:
            return self.report(
                "rejected", f"all {baseline.collected} tests pass already; nothing to repair"
            )
        sources = {path: self.ledger.read(path) for path in files}
        mutations = self.mutations(sources)
        runs = self.evaluate(mutations, sources, baseline)
        if self.stop.is_set():
            return self.report(
                "stopped", f"stopped after {len(runs)} candidates; nothing committed"
            )
        winner = self.select(mutations, runs, sources, baseline)
        if winner is None:
            best = max((r.score for r in runs.values() if r.valid), default=baseline.score)
            self.fields["best_score"] = best
            return self.report(
                "rejected",
                f"none of {len(runs)} candidates improved on "
                f"{baseline.score:.3f} without breaking a passing test "
                f"(best valid score {best:.3f})",
            )
        return self.commit_and_verify(winner, sources, baseline, len(runs))

    # --- baseline -----------------------------------------------------------------------

    def baseline(self, files: list[str], args: Sequence[str]) -> Baseline | CycleReport:
        self.progress("phase", name="baseline")
        tree = self.ledger.tree()
        key = json.dumps([list(args), files])
        cached = self.store.baseline(self.spec.name, tree, key)
        if cached is not None:
            return Baseline(**cached)
        snapshot = self.ledger.snapshot(self.snapshot_path(tree))
        run = run_tests(
            self.backend,
            snapshot,
            args,
            limits=self.limits,
            name=f"{self.spec.name}-baseline",
            coverage=files,
        )
        self.fields["sandbox_seconds"] = run.result.wall_time
        if not run.valid:
            return self.report("error", f"the baseline run of {tree[:12]} is invalid: {run.reason}")
        baseline = Baseline.of(run)
        probe = run_tests(
            self.backend,
            snapshot,
            args,
            limits=self.limits,
            overlays={path: PROBE_SOURCE for path in files},
            name=f"{self.spec.name}-probe",
        )
        self.fields["sandbox_seconds"] += probe.result.wall_time
        baseline.probe_passed = probe.passed if probe.valid else 0
        if baseline.passed and baseline.probe_passed >= baseline.passed:
            return self.report(
                "error",
                f"the tests do not exercise {', '.join(files)}: with every one of those files "
                f"broken, {baseline.probe_passed} tests still pass (baseline: {baseline.passed})",
            )
        self.store.save_baseline(self.spec.name, tree, key, asdict(baseline))
        return baseline

    # --- candidates ---------------------------------------------------------------------

    def mutations(self, sources: dict[str, str]) -> list[Mutation]:
        self.progress("phase", name="mutations")
        every: list[Mutation] = []
        for path, source in sources.items():
            try:
                every += enumerate_mutations(source, path)
            except MutationError as exc:
                log.warning("%s: skipping %s: %s", self.spec.name, path, exc)
        return every

    def search(self, mutations: list[Mutation], baseline: Baseline) -> Search:
        """The target's order over `mutations`, seeded per cycle, localised by coverage."""
        suspiciousness = ochiai(baseline.coverage or {}, baseline.outcomes)
        seed = self.config.search.seed * 1_000_003 + self.number
        return self.ordering.search(mutations, SearchContext(seed, suspiciousness))

    def evaluate(
        self, mutations: list[Mutation], sources: dict[str, str], baseline: Baseline
    ) -> dict[int, TestRun]:
        """Each evaluated mutation's run, by index into `mutations`, in search order.

        Batches are taken from the search one at a time, so a learned order sees the
        outcomes of earlier batches; no new batch starts once the budget is spent.
        """
        snapshot = self.snapshot_path(self.ledger.tree())
        search = self.search(mutations, baseline)
        index = {m: i for i, m in enumerate(mutations)}
        total = min(len(mutations), self.max_candidates)
        deadline = self.started + self.max_seconds
        scaled = max(MIN_CANDIDATE_TIMEOUT, TIMEOUT_FACTOR * baseline.duration)
        limits = dataclasses.replace(self.limits, timeout=min(self.limits.timeout, scaled))
        runs: dict[int, TestRun] = {}
        handed_out = 0
        limit = self.max_candidates  # lowered to `patience` past the first improvement
        lock = threading.Lock()  # batches finish on several threads
        self.progress("evaluated", done=0, total=total, best=baseline.score)

        def take() -> list[int]:
            nonlocal handed_out
            with lock:
                perfect = any(r.valid and r.score >= 1.0 for r in runs.values())
                if perfect or self.stop.is_set() or time.monotonic() > deadline:
                    return []  # a candidate passes every test, we are stopping, or time is up
                size = min(self.config.sandbox.batch, limit - handed_out)
                batch = [index[m] for m in search.next(size)] if size > 0 else []
                handed_out += len(batch)
                return batch

        def worker() -> None:
            while indices := take():
                one_batch(indices)

        def one_batch(indices: list[int]) -> None:
            nonlocal limit
            candidates = [
                Candidate(
                    str(i),
                    {mutations[i].path: apply_mutation(sources[mutations[i].path], mutations[i])},
                )
                for i in indices
            ]
            results = run_batch(
                self.backend,
                snapshot,
                candidates,
                self.config.tests,
                limits=limits,
                min_collected=baseline.collected,
                name=f"{self.spec.name}-cycle{self.number}",
                must_pass=baseline.passing,
            )
            with lock:
                for i, run in zip(indices, results, strict=True):
                    runs[i] = run
                    improved = improves(run, baseline)
                    search.observe(mutations[i], improved)
                    if improved:
                        limit = min(limit, handed_out + self.config.search.patience)
                best = max([baseline.score, *(r.score for r in runs.values() if r.valid)])
                self.progress("evaluated", done=len(runs), total=total, best=best)

        with ThreadPoolExecutor(max_workers=self.config.sandbox.parallel) as pool:
            for future in [pool.submit(worker) for _ in range(self.config.sandbox.parallel)]:
                future.result()
        self.fields["candidates"] = len(runs)
        self.fields["sandbox_seconds"] = self.fields.get("sandbox_seconds", 0.0) + sum(
            r.result.wall_time for r in runs.values()
        )
        self.store.add_candidates(
            self.cycle_id,
            [
                {
                    "mutation": mutations[i].to_dict(),
                    "outcome": runs[i].result.outcome.value,
                    "valid": runs[i].valid,
                    "score": runs[i].score,
                    "passed": runs[i].passed,
                    "collected": runs[i].collected,
                    "wall_time": runs[i].result.wall_time,
                    "reason": runs[i].reason,
                }
                for i in runs
            ],
        )
        return runs

    def select(
        self,
        mutations: list[Mutation],
        runs: dict[int, TestRun],
        sources: dict[str, str],
        baseline: Baseline,
    ) -> tuple[Mutation, TestRun] | None:
        """Improves the score, keeps every passing test; ties go to the smaller diff."""
        eligible = []
        for index, run in sorted(runs.items()):
            if improves(run, baseline):
                mutation = mutations[index]
                new = apply_mutation(sources[mutation.path], mutation)
                eligible.append(
                    (
                        -run.score,
                        diff_size(sources[mutation.path], new),
                        run.result.wall_time,
                        index,
                        mutation,
                        run,
                    )
                )
        if not eligible:
            return None
        *_, mutation, run = min(eligible, key=lambda e: e[:4])
        return mutation, run

    # --- commit, verify, revert ---------------------------------------------------------

    def commit_and_verify(
        self,
        winner: tuple[Mutation, TestRun],
        sources: dict[str, str],
        baseline: Baseline,
        tried: int,
    ) -> CycleReport:
        mutation, run = winner
        self.fields.update(best_score=run.score, mutation=mutation.to_dict())
        subject = (
            f"{self.spec.name}: {mutation.summary} "
            f"(tests {baseline.passed}/{baseline.collected} -> "
            f"{run.passed}/{run.collected})"
        )
        body = f"Operator: {mutation.operator} at {mutation.path}:{mutation.line}"
        message = format_message(
            subject,
            body,
            {
                "Target": self.spec.name,
                "Cycle": self.number,
                "Operator": mutation.operator,
                "Site": f"{mutation.path}:{mutation.line} (site {mutation.site}, "
                f"variant {mutation.variant})",
                "Score": f"{baseline.score:.3f} -> {run.score:.3f}",
                "Candidates": tried,
            },
        )
        self.progress("phase", name="commit")
        new_source = apply_mutation(sources[mutation.path], mutation)
        try:
            sha = self.ledger.commit_file(mutation.path, new_source, message)
        except LedgerError as exc:
            return self.report("waiting", f"not committed: {exc}")
        self.fields["commit"] = sha
        self.store.add_commit(self.spec.name, self.cycle_id, sha, "accept", subject)
        problem = self.verify(baseline)
        if problem is None:
            return self.report("accepted", f"{subject} [{sha[:12]}]")
        return self.revert_unverified(sha, subject, problem)

    def verify(self, before: Baseline) -> str | None:
        """Why the committed tree fails verification (with held-out tests), or None."""
        self.progress("phase", name="verify")
        args = [*self.config.tests, *self.config.held_out]
        reference = before
        if self.config.held_out:
            parent = self.ledger.repo.head.commit.parents[0].hexsha
            snapshot = self.ledger.snapshot(self.snapshot_path(self.ledger.tree(parent)), parent)
            reference_run = run_tests(
                self.backend, snapshot, args, limits=self.limits, name=f"{self.spec.name}-reference"
            )
            if not reference_run.valid:
                return f"the held-out reference run is invalid: {reference_run.reason}"
            reference = Baseline.of(reference_run)
        snapshot = self.ledger.snapshot(self.snapshot_path(self.ledger.tree()))
        run = run_tests(
            self.backend,
            snapshot,
            args,
            limits=self.limits,
            min_collected=reference.collected,
            name=f"{self.spec.name}-verify",
        )
        self.fields["sandbox_seconds"] = (
            self.fields.get("sandbox_seconds", 0.0) + run.result.wall_time
        )
        if not run.valid:
            return f"the committed tree's run is invalid: {run.reason}"
        broken = sorted(set(reference.passing) - run.passing())
        if broken:
            return f"{len(broken)} test(s) that passed before now fail: {', '.join(broken[:5])}"
        if run.score <= reference.score:
            return f"score {run.score:.3f} is not above {reference.score:.3f}"
        return None


def improves(run: TestRun, baseline: Baseline) -> bool:
    """A valid run that scores above the baseline and keeps every test that passed."""
    return run.valid and run.score > baseline.score and set(baseline.passing) <= run.passing()


def diff_size(old: str, new: str) -> int:
    """Changed lines between two sources: ties go to the smaller edit."""
    return sum(
        1
        for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    )
