"""One improvement cycle of a code target.

baseline (cached by tree hash) -> forced-fail probe -> mutations in the
search's order, in batches evaluated in the sandbox, within the budget -> when
none repairs, a search on from the best stepping stones (`stones`) -> the best
candidate that improves the score, breaks no passing test and does no harm
(`selection`) -> one commit -> verification of the committed tree in a fresh
sandbox (held-out tests included) -> a revert commit if that fails. See
docs/cycle.md.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daemon.cycles import candidates
from daemon.cycles.base import Cycle, CycleContext
from daemon.cycles.baseline import PROBE_SOURCE, Baseline
from daemon.cycles.confirmation import confirm_winner
from daemon.cycles.events import Evaluated, Phase
from daemon.cycles.report import CycleReport
from daemon.cycles.search import CandidateScheduler, Prioritised, improves, perfect
from daemon.cycles.selection import forgeries, select, why_refused
from daemon.cycles.stones import (
    apply_steps,
    echoes,
    stepping_stones,
    steps_summary,
    stone_baseline,
)
from policies.codemods import Mutation
from policies.localise import ochiai
from policies.ordering import Ordering, SearchContext, ordering_for
from policies.status import CycleStatus
from sandbox.evaluate import TestRun, run_batch, run_tests
from sandbox.job import Limits

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
        started = self.start()
        if isinstance(started, CycleReport):
            return started
        files, baseline = started
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
        if not self.stop.is_set() and not any(perfect(run) for run in runs.values()):
            pair = self.step(mutations, runs, order, sources, baseline)
            if pair is not None:
                return self.commit(*pair, sources, baseline)
        if self.stop.is_set():
            return self.report(
                CycleStatus.STOPPED,
                f"stopped after {self.counters.candidates} candidates; nothing committed",
            )
        if selection.winner is None:
            best = max((r.score for r in runs.values() if r.valid), default=baseline.score)
            self.counters.best_score = best
            return self.report(
                CycleStatus.REJECTED,
                f"none of {self.counters.candidates} candidates improved on "
                f"{baseline.score:.3f} without breaking a passing test (best valid score "
                f"{best:.3f})"
                + selection.refusals(mutations)
                + forgeries(mutations, runs, baseline),
            )
        mutation, run = selection.winner
        return self.commit((mutation,), run, sources, baseline)

    # --- baseline -----------------------------------------------------------------------

    def start(self) -> tuple[list[str], Baseline] | CycleReport:
        """The rewritable files and the committed tree's baseline, or why the cycle ends."""
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
        return files, baseline

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
        return candidates.enumerate_all(sources, self.spec.name, tuning=self.tuning)

    def scheduler(
        self,
        mutations: list[Mutation],
        baseline: Baseline,
        limit: int,
        limits: Limits,
        first: Sequence[Mutation] = (),
    ) -> CandidateScheduler[Mutation]:
        """The target's order over `mutations` (seeded per cycle, localised), within budget.

        `first` are handed out before the order's own choices. The budget's seconds
        are sandbox seconds of candidates (`searched`), so that it buys the same
        search whatever the parallelism; until some are recorded, a candidate is taken
        to cost what the baseline did, its hung tests at the candidates' `limits`.
        """
        estimate = baseline.duration + (limits.test_timeout or 0.0) * len(baseline.hung)
        suspiciousness = ochiai(baseline.coverage or {}, baseline.outcomes)
        seed = self.config.search.seed * 1_000_003 + self.number
        order = self.ordering.search(mutations, SearchContext(seed, suspiciousness))
        return CandidateScheduler(
            Prioritised(list(first), order) if first else order,
            batch=self.config.sandbox.batch,
            limit=limit,
            patience=self.config.search.patience,
            deadline=self.max_seconds,
            alternatives=self.config.search.alternatives,
            clock=lambda: self.searched,
            estimate=estimate,
        )

    def evaluate(
        self,
        mutations: list[Mutation],
        sources: dict[str, str],
        baseline: Baseline,
        *,
        first: Sequence[Mutation] = (),
        limit: int | None = None,
        changed: dict[str, str] | None = None,
    ) -> tuple[dict[int, TestRun], list[int]]:
        """Each evaluated mutation's run by index into `mutations`, and the search's order.

        Batches are taken from the scheduler one at a time, so a learned order sees
        the outcomes of earlier batches; no new batch starts once the budget is spent.
        `limit` caps the candidates (default: what the budget has left); `changed`
        are files every candidate carries besides its own (a stepping stone's).
        """
        snapshot = self.snapshot()
        if limit is None:
            limit = self.max_candidates - self.counters.candidates
        limits = baseline.candidate_limits(self.limits)
        scheduler = self.scheduler(mutations, baseline, limit, limits, first)
        index = {m: i for i, m in enumerate(mutations)}
        total = min(len(mutations), limit)
        runs: dict[int, TestRun] = {}
        lock = threading.Lock()  # batches finish on several threads
        stepped = {**sources, **(changed or {})}
        self.progress(Evaluated(0, total, baseline.score))

        def one_batch(batch: list[Mutation]) -> None:
            results = run_batch(
                self.backend,
                snapshot,
                candidates.overlays(batch, index, sources, changed),
                self.config.tests,
                limits=limits,
                min_collected=baseline.collected,
                name=f"{self.spec.name}-cycle{self.number}",
                must_pass=baseline.passing,
                baseline=baseline.outcomes,
                **self.batch_options(),
            )
            with lock:
                for mutation, run in zip(batch, results, strict=True):
                    runs[index[mutation]] = run
                    self.searched += run.result.wall_time
                    improved, repaired = self.judged(run, baseline)
                    settled = improved and self.committable(mutation, run, baseline, stepped)
                    scheduler.record(mutation, improved=improved, perfect=repaired, settled=settled)
                self.progress(Evaluated(len(runs), total, self.best(runs, baseline)))

        def worker() -> None:
            while not self.stop.is_set() and (batch := scheduler.take()):
                one_batch(batch)

        parallel = self.config.sandbox.parallel
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            for future in [pool.submit(worker) for _ in range(parallel)]:
                future.result()
        return runs, [index[m] for m in scheduler.settled() if index[m] in runs]

    # Hooks of the search that a tuning cycle (`daemon.cycles.objective`) changes.
    tuning = False  # whether tuning operators (scaling constants) are searched: not to repair

    def batch_options(self) -> dict[str, Any]:
        """Extra arguments of each batch's `run_batch`."""
        return {}

    def judged(self, run: TestRun, baseline: Baseline) -> tuple[bool, bool]:
        """Whether `run` improves on `baseline`, and whether it is a repair."""
        return improves(run, baseline), perfect(run)

    def committable(
        self, mutation: Mutation, run: TestRun, baseline: Baseline, sources: dict[str, str]
    ) -> bool:
        """Whether an improving candidate could be committed: it does no harm (`why_refused`)."""
        return why_refused(mutation, run, sources, baseline) is None

    def best(self, runs: dict[int, TestRun], baseline: Baseline) -> float:
        """The best score so far, for the progress stream."""
        return max([baseline.score, *(r.score for r in runs.values() if r.valid)])

    def record(
        self,
        mutations: list[Mutation],
        runs: dict[int, TestRun],
        refused: dict[int, str],
        after: Mutation | None = None,
        scores: dict[int, float] | None = None,
    ) -> None:
        """Count the candidates and their sandbox time, and store each one's outcome."""
        self.counters.candidates += len(runs)
        self.counters.sandbox_seconds += sum(r.result.wall_time for r in runs.values())
        self.store.add_candidates(
            self.context.cycle_id, candidates.rows(mutations, runs, refused, after, scores)
        )

    def step(
        self,
        mutations: list[Mutation],
        runs: dict[int, TestRun],
        order: list[int],
        sources: dict[str, str],
        baseline: Baseline,
    ) -> tuple[tuple[Mutation, Mutation], TestRun] | None:
        """A repair made of a stepping stone and one more edit, or None (see `stones`)."""
        stones = stepping_stones(runs, baseline, order)
        for number, index in enumerate(stones):
            left = self.max_candidates - self.counters.candidates
            if self.stop.is_set() or left <= 0 or self.searched > self.max_seconds:
                return None
            stone = mutations[index]
            log.info("%s: searching on from the stepping stone %s", self.spec.name, stone.summary)
            changed = apply_steps(sources, [stone])
            stepped = {**sources, **changed}
            second = self.mutations(stepped)
            others = [mutations[i] for i in stones if i != index]
            found, searched = self.evaluate(
                second,
                stepped,
                stone_baseline(baseline, runs[index]),
                first=echoes(second, others),
                limit=left // (len(stones) - number),
                changed=changed,
            )
            self.record(second, found, {}, after=stone)
            repairs = {i: run for i, run in found.items() if perfect(run)}
            winner = select(second, repairs, stepped, baseline, searched).winner
            if winner is not None:
                return (stone, winner[0]), winner[1]
        return None

    # --- commit and verification --------------------------------------------------------

    def commit(
        self,
        steps: tuple[Mutation, ...],
        run: TestRun,
        sources: dict[str, str],
        baseline: Baseline,
    ) -> CycleReport:
        """Confirm the winner independently; commit it with a readable message; verify.

        `steps` is one mutation, or a stepping stone and the mutation made on it.
        """
        last = steps[-1]
        self.counters.best_score = run.score
        stone = {"after": steps[0].to_dict()} if len(steps) > 1 else {}
        self.counters.mutation = {**last.to_dict(), **stone}
        changed = apply_steps(sources, steps)
        disagreement = confirm_winner(self, steps, changed, run, baseline)
        if disagreement:
            return self.report(CycleStatus.REJECTED, disagreement)
        subject = (
            f"{self.spec.name}: {steps_summary(steps)} (tests {baseline.passed}/"
            f"{baseline.collected} -> {run.passed}/{run.collected})"
        )
        return self.commit_verified(
            changed,
            subject,
            "\n".join(f"Operator: {m.operator} at {m.path}:{m.line}" for m in steps),
            {
                "Operator": " + ".join(m.operator for m in steps),
                "Site": "; ".join(
                    f"{m.path}:{m.line} (site {m.site}, variant {m.variant})" for m in steps
                ),
                "Score": f"{baseline.score:.3f} -> {run.score:.3f}",
                "Candidates": self.counters.candidates,
            },
        )

    def verify(self) -> str | None:
        """Why the committed tree fails verification (with held-out tests), or None."""
        return self.verify_tests(gain=True)

    def verify_tests(self, *, gain: bool) -> str | None:
        """Why the committed tree's tests (held-out ones too) fail verification, or None.

        No test that passed before may fail; with `gain` the score must also rise.
        """
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
        if gain and run.score <= reference.score:
            return f"score {run.score:.3f} is not above {reference.score:.3f}"
        return None
