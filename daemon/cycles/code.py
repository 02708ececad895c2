"""One improvement cycle of a code target.

baseline (cached by tree hash) -> forced-fail probe -> mutations in the
search's order, in batches evaluated in the sandbox, within the budget -> the
best candidate that improves the score and breaks no passing test -> one
commit -> verification of the committed tree in a fresh sandbox (held-out
tests included) -> a revert commit if that fails. See docs/cycle.md.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daemon.cycles.base import Cycle, CycleContext
from daemon.cycles.baseline import PROBE_SOURCE, Baseline
from daemon.cycles.events import Evaluated, Phase
from daemon.cycles.report import CycleReport
from daemon.cycles.search import CandidateScheduler, diff_size, improves, refusal
from policies.codemods import Mutation, MutationError, apply_mutation, enumerate_mutations
from policies.localise import ochiai
from policies.ordering import Ordering, SearchContext, ordering_for
from policies.status import CycleStatus
from sandbox.confirm import confirm
from sandbox.evaluate import Candidate, TestRun, run_batch, run_tests

if TYPE_CHECKING:
    from daemon.registry import CodeTarget

log = logging.getLogger(__name__)

SCORING = 3
"""Version of the scoring rule in cached baselines (2: skipped and xfailed tests are out;
3: per-test time limits, each test's timing kept)."""


class CodeCycle(Cycle):
    """One cycle of a `CodeTarget` (see the module's docstring)."""

    config: CodeTarget

    def __init__(self, context: CycleContext) -> None:
        super().__init__(context)
        self.ordering: Ordering = context.ordering or ordering_for(self.config.search.order)
        self.max_candidates = max(1, round(self.config.budget.candidates * self.share))
        self.max_seconds = self.config.budget.seconds * self.share
        self.baseline_run: Baseline | None = None
        self.searched = 0.0
        """Sandbox seconds the candidates evaluated so far took."""

    def run(self) -> CycleReport:
        """Baseline, search, selection, and a verified commit of the winner."""
        files = self.ledger.files(self.config.files)
        if not files:
            return self.report(
                CycleStatus.ERROR,
                f"no tracked Python file matches files = "
                f"{list(self.config.files)} in {self.spec.repo}",
            )
        waiting = self.waiting_for_edits(files)
        if waiting:
            return waiting
        baseline = self.baseline(files)
        if isinstance(baseline, CycleReport):
            return baseline
        self.baseline_run = baseline
        self.counters.baseline_score = baseline.score
        if baseline.score >= 1.0:
            return self.report(
                CycleStatus.REJECTED,
                f"all {baseline.collected} tests pass already; nothing to repair",
            )
        sources = {path: self.ledger.read(path) for path in files}
        mutations = self.mutations(sources)
        runs, order = self.evaluate(mutations, sources, baseline)
        selection = select(mutations, runs, sources, baseline, order)
        self.record(mutations, runs, selection.refused)
        if self.stop.is_set():
            return self.report(
                CycleStatus.STOPPED, f"stopped after {len(runs)} candidates; nothing committed"
            )
        if selection.winner is None:
            best = max((r.score for r in runs.values() if r.valid), default=baseline.score)
            self.counters.best_score = best
            return self.report(
                CycleStatus.REJECTED,
                f"none of {len(runs)} candidates improved on {baseline.score:.3f} without "
                f"breaking a passing test (best valid score {best:.3f})"
                + selection.refusals(mutations)
                + forgeries(mutations, runs, baseline),
            )
        return self.commit(*selection.winner, sources, baseline, len(runs))

    # --- baseline -----------------------------------------------------------------------

    def baseline(self, files: list[str]) -> Baseline | CycleReport:
        """The committed tree's baseline, from the cache or from two sandbox runs."""
        self.progress(Phase("baseline"))
        args, tree = self.config.tests, self.ledger.tree()
        key = json.dumps([list(args), files, SCORING])
        cached = self.store.baseline(self.spec.name, tree, key)
        if cached is not None:
            return Baseline(**cached)
        snapshot = self.snapshot()
        name = self.spec.name
        run = self.run_tests(snapshot, args, name=f"{name}-baseline", coverage=files)
        if not run.valid:
            return self.report(
                CycleStatus.ERROR, f"the baseline run of {tree[:12]} is invalid: {run.reason}"
            )
        baseline = Baseline.of(run)
        broken = {path: PROBE_SOURCE for path in files}
        probe = self.run_tests(snapshot, args, name=f"{name}-probe", overlays=broken)
        baseline.probe_passed = probe.passed if probe.valid else 0
        untested = baseline.untested(files)
        if untested:
            return self.report(CycleStatus.ERROR, untested)
        self.store.save_baseline(self.spec.name, tree, key, asdict(baseline))
        return baseline

    def run_tests(self, snapshot: Path, args: Sequence[str], **options: Any) -> TestRun:
        """One fresh sandbox run of the tests, its time counted against the cycle."""
        run = run_tests(self.backend, snapshot, args, limits=self.limits, **options)
        self.counters.sandbox_seconds += run.result.wall_time
        return run

    # --- candidates ---------------------------------------------------------------------

    def mutations(self, sources: dict[str, str]) -> list[Mutation]:
        """Every mutation of the rewritable files; a file libcst cannot parse is skipped."""
        self.progress(Phase("mutations"))
        every: list[Mutation] = []
        for path, source in sources.items():
            try:
                every += enumerate_mutations(source, path)
            except MutationError as exc:
                log.warning("%s: skipping %s: %s", self.spec.name, path, exc)
        return every

    def scheduler(
        self, mutations: list[Mutation], baseline: Baseline
    ) -> CandidateScheduler[Mutation]:
        """The target's order over `mutations` (seeded per cycle, localised), within budget.

        The budget's seconds are sandbox seconds of candidates (`searched`), so that it
        buys the same search whatever the parallelism.
        """
        suspiciousness = ochiai(baseline.coverage or {}, baseline.outcomes)
        seed = self.config.search.seed * 1_000_003 + self.number
        order = self.ordering.search(mutations, SearchContext(seed, suspiciousness))
        return CandidateScheduler(
            order,
            batch=self.config.sandbox.batch,
            limit=self.max_candidates,
            patience=self.config.search.patience,
            deadline=self.max_seconds,
            clock=lambda: self.searched,
        )

    def evaluate(
        self, mutations: list[Mutation], sources: dict[str, str], baseline: Baseline
    ) -> tuple[dict[int, TestRun], list[int]]:
        """Each evaluated mutation's run by index into `mutations`, and the search's order.

        Batches are taken from the scheduler one at a time, so a learned order sees
        the outcomes of earlier batches; no new batch starts once the budget is spent.
        """
        snapshot = self.snapshot()
        scheduler = self.scheduler(mutations, baseline)
        index = {m: i for i, m in enumerate(mutations)}
        total = min(len(mutations), self.max_candidates)
        limits = baseline.candidate_limits(self.limits)
        runs: dict[int, TestRun] = {}
        lock = threading.Lock()  # batches finish on several threads
        self.progress(Evaluated(0, total, baseline.score))

        def one_batch(batch: list[Mutation]) -> None:
            candidates = [
                Candidate(str(index[m]), {m.path: apply_mutation(sources[m.path], m)})
                for m in batch
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
                baseline=baseline.outcomes,
            )
            with lock:
                for mutation, run in zip(batch, results, strict=True):
                    runs[index[mutation]] = run
                    self.searched += run.result.wall_time
                    perfect = run.valid and run.score >= 1.0
                    scheduler.record(mutation, improved=improves(run, baseline), perfect=perfect)
                best = max([baseline.score, *(r.score for r in runs.values() if r.valid)])
                self.progress(Evaluated(len(runs), total, best))

        def worker() -> None:
            while not self.stop.is_set() and (batch := scheduler.take()):
                one_batch(batch)

        parallel = self.config.sandbox.parallel
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            for future in [pool.submit(worker) for _ in range(parallel)]:
                future.result()
        return runs, [index[m] for m in scheduler.taken if index[m] in runs]

    def record(
        self, mutations: list[Mutation], runs: dict[int, TestRun], refused: dict[int, str]
    ) -> None:
        """Count the candidates and their sandbox time, and store each one's outcome.

        A candidate refused by the selection keeps its refusal as its reason.
        """
        self.counters.candidates = len(runs)
        self.counters.sandbox_seconds += sum(r.result.wall_time for r in runs.values())
        self.store.add_candidates(
            self.context.cycle_id,
            [
                {
                    "mutation": mutations[i].to_dict(),
                    "outcome": run.result.outcome.value,
                    "valid": run.valid,
                    "score": run.score,
                    "passed": run.passed,
                    "collected": run.collected,
                    "wall_time": run.result.wall_time,
                    "reason": refused.get(i, run.reason),
                }
                for i, run in runs.items()
            ],
        )

    # --- commit and verification --------------------------------------------------------

    def commit(
        self,
        mutation: Mutation,
        run: TestRun,
        sources: dict[str, str],
        baseline: Baseline,
        tried: int,
    ) -> CycleReport:
        """Confirm the winner independently; commit it with a readable message; verify."""
        self.counters.best_score = run.score
        self.counters.mutation = mutation.to_dict()
        new_source = apply_mutation(sources[mutation.path], mutation)
        disagreement = self.confirm(mutation, new_source, run, baseline)
        if disagreement:
            return self.report(CycleStatus.REJECTED, disagreement)
        subject = (
            f"{self.spec.name}: {mutation.summary} (tests {baseline.passed}/"
            f"{baseline.collected} -> {run.passed}/{run.collected})"
        )
        site = f"{mutation.path}:{mutation.line}"
        return self.commit_verified(
            {mutation.path: new_source},
            subject,
            f"Operator: {mutation.operator} at {site}",
            {
                "Operator": mutation.operator,
                "Site": f"{site} (site {mutation.site}, variant {mutation.variant})",
                "Score": f"{baseline.score:.3f} -> {run.score:.3f}",
                "Candidates": tried,
            },
        )

    def confirm(
        self, mutation: Mutation, new_source: str, run: TestRun, baseline: Baseline
    ) -> str | None:
        """Why the tests the winner newly passes do not pass alone, in a fresh sandbox, or None.

        A disagreement with the search is taken as a forgery: nothing is committed and
        the operator that produced the change is penalised.
        """
        newly = sorted(run.passing() - set(baseline.passing))
        if not newly:
            return None
        self.progress(Phase("confirm"))
        confirmation = confirm(
            self.backend,
            self.snapshot(),
            newly,
            overlays={mutation.path: new_source},
            limits=self.limits,
            name=f"{self.spec.name}-confirm",
        )
        self.counters.sandbox_seconds += confirmation.wall_time
        failed = confirmation.failed()
        if confirmation.problem is None and not failed:
            return None
        preferences = getattr(self.ordering, "preferences", None)
        if preferences is not None:
            preferences.update(mutation.operator, False)
        if confirmation.problem is not None:
            why = confirmation.problem
        else:
            test, reason = next(iter(failed.items()))
            why = (
                f"{len(failed)} of {len(newly)} newly passing test(s) fail alone ({test}: {reason})"
            )
        log.warning("%s: %s refused: %s", self.spec.name, mutation.summary, why)
        return f"evaluation disagreed: possible forgery: {mutation.summary}: {why}"

    def verify(self) -> str | None:
        """Why the committed tree fails verification (with held-out tests), or None."""
        assert self.baseline_run is not None  # set before any commit
        args = [*self.config.tests, *self.config.held_out]
        reference = self.baseline_run
        if self.config.held_out:
            parent = self.ledger.parent()
            assert parent is not None  # the commit just made has one
            before = self.run_tests(self.snapshot(parent), args, name=f"{self.spec.name}-reference")
            if not before.valid:
                return f"the held-out reference run is invalid: {before.reason}"
            reference = Baseline.of(before)
        run = self.run_tests(
            self.snapshot(),
            args,
            min_collected=reference.collected,
            name=f"{self.spec.name}-verify",
            baseline=reference.outcomes,
        )
        if not run.valid:
            return f"the committed tree's run is invalid: {run.reason}"
        broken = sorted(set(reference.passing) - run.passing())
        if broken:
            return f"{len(broken)} test(s) that passed before now fail: {', '.join(broken[:5])}"
        if run.score <= reference.score:
            return f"score {run.score:.3f} is not above {reference.score:.3f}"
        return None


@dataclasses.dataclass(frozen=True)
class Selection:
    """The candidate a cycle commits, if any, and the improving ones it refused, and why."""

    winner: tuple[Mutation, TestRun] | None
    refused: dict[int, str]
    """Index into the mutations -> why that improving candidate may not be committed."""

    def refusals(self, mutations: list[Mutation]) -> str:
        """A clause for the cycle's reason naming the refused candidates ('' if none)."""
        if not self.refused:
            return ""
        index, why = next(iter(self.refused.items()))
        return (
            f"; {len(self.refused)} improving candidate(s) refused to do no harm "
            f"(first: {mutations[index].summary}: {why})"
        )


def select(
    mutations: list[Mutation],
    runs: dict[int, TestRun],
    sources: dict[str, str],
    baseline: Baseline,
    order: Sequence[int] | None = None,
) -> Selection:
    """The best improving candidate that does no harm (`refusal`).

    Best is the fewest failing tests, then the smallest diff, then the earliest in
    the search's `order` (indices into `mutations`; enumeration order by default):
    never the run time, so that reruns pick the same winner.
    """
    rank = {index: position for position, index in enumerate(order or sorted(runs))}
    eligible, refused = [], {}
    for index, run in sorted(runs.items(), key=lambda item: rank.get(item[0], len(rank))):
        if not improves(run, baseline):
            continue
        mutation = mutations[index]
        old = sources[mutation.path]
        new = apply_mutation(old, mutation)
        why = refusal(run, old, new)
        if why is not None:
            refused[index] = why
            continue
        eligible.append((-run.score, diff_size(old, new), rank.get(index, len(rank)), index))
    if not eligible:
        return Selection(None, refused)
    index = min(eligible)[-1]
    return Selection((mutations[index], runs[index]), refused)


FORGERY_SIGNS = ("forgery", "tampered")
"""Words of a run's reason that say the runner caught the candidate forging its result."""
EXCUSES = frozenset({"skipped", "xfailed"})
"""Outcomes a test that failed at baseline can only reach by code under test raising them."""


def forgery(run: TestRun, baseline: Baseline) -> str | None:
    """Why `run` looks forged: the runner caught it, or it excused its own failures."""
    if any(sign in run.reason for sign in FORGERY_SIGNS):
        return run.reason[:200]
    excused = sorted(
        test
        for test, outcome in run.tests.items()
        if outcome in EXCUSES and baseline.outcomes.get(test) in ("failed", "error")
    )
    if excused:
        return f"{excused[0]} failed before and now calls itself {run.tests[excused[0]]}"
    return None


def forgeries(mutations: list[Mutation], runs: dict[int, TestRun], baseline: Baseline) -> str:
    """A clause naming the candidates refused as forgeries, for the cycle's reason ('' if none)."""
    caught = [(i, why) for i, r in sorted(runs.items()) if (why := forgery(r, baseline))]
    if not caught:
        return ""
    index, why = caught[0]
    return f"; {len(caught)} refused as forgeries (first: {mutations[index].summary}: {why})"
