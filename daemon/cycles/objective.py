"""One tuning cycle of a code target whose objective is a gym return or a metric.

The tests are the hard constraint, the objective the score (docs/objectives.md):
baseline tests, which must all pass -> the committed code scored on the
cycle's training seeds -> hill climbing: the mutations of the current code
(tuning operators included) in batches, each scored only when its tests all
pass; the best that beats the current training mean is applied and the search
starts again from there, until no mutation gains or the budget is spent -> the
last `finalists` points of the climb and the committed code re-scored on
held-out seeds -> the best one committed only if the lower confidence bound of
its paired gain clears the margin (`policies.neuro.accept.compare`) ->
verification in a fresh sandbox: every test, and a gain over the previous code
on fresh held-out seeds -> a revert commit if either fails.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from daemon.cycles.baseline import Baseline
from daemon.cycles.code import CodeCycle
from daemon.cycles.events import Phase
from daemon.cycles.report import CycleReport
from daemon.cycles.scoring import Steps, document, runs_of, scoring_seeds, shown, unscored, values
from daemon.cycles.stones import apply_steps, steps_summary
from daemon.registry.objective import GymObjective, MetricObjective, ScoredObjective
from policies.neuro.accept import Verdict, compare
from policies.status import CycleStatus
from sandbox.evaluate import Candidate, TestRun, run_batch

if TYPE_CHECKING:
    from daemon.cycles.base import CycleContext

log = logging.getLogger(__name__)

NOISE_Z = 1.0
"""Standard errors a training gain must clear to be a step of the climb."""


class ObjectiveCycle(CodeCycle):
    """A code cycle that climbs an objective under the tests (see the module's docstring)."""

    tuning = True

    def __init__(self, context: CycleContext) -> None:
        super().__init__(context)
        objective = self.config.objective
        if not isinstance(objective, GymObjective | MetricObjective):
            raise TypeError(f"{self.spec.name}: objective kind {objective.kind!r} is not scored")
        self.objective: ScoredObjective = objective
        self.seeds = scoring_seeds(objective, self.number)
        self.current: np.ndarray | None = None
        """The current code's training scores, seed by seed: a step must beat them (`gains`)."""
        self.previous: dict[str, str] = {}
        """The committed files a commit replaces, as they were: verification's reference."""
        self.counters.objective = {
            "kind": objective.kind,
            "unit": objective.unit,
            "climb": [],
            "env_steps": 0,
        }

    def run(self) -> CycleReport:
        """Baseline, the committed code's score, the climb, held-out acceptance, commit."""
        started = self.start()
        if isinstance(started, CycleReport):
            return started
        files, baseline = started
        unit = self.objective.unit
        if baseline.score < 1.0:
            return self.report(
                CycleStatus.ERROR,
                f"{baseline.collected - baseline.passed} of {baseline.collected} tests fail on "
                f"the committed code: a target tuned for its {unit} must pass all its tests "
                'first (repair it with [objective] kind = "tests")',
            )
        sources = {path: self.ledger.read(path) for path in files}
        start = self.score([{}], "training")[0]
        first = values(self.objective, start)
        if first is None:
            return self.report(
                CycleStatus.ERROR, f"the committed code cannot be scored: {unscored(start)}"
            )
        self.current = first
        self.counters.baseline_score = self.counters.best_score = self.level
        climb = self.climb(sources, baseline)
        if self.stop.is_set():
            return self.report(
                CycleStatus.STOPPED,
                f"stopped after {self.counters.candidates} candidates; nothing committed",
            )
        if not climb:
            return self.report(
                CycleStatus.REJECTED,
                f"none of {self.counters.candidates} candidates beat the committed code's "
                f"training {unit} {shown(self.objective, self.level)} with every test passing",
            )
        return self.accept(climb, sources)

    # --- the search's hooks ---------------------------------------------------------------

    def batch_options(self) -> dict[str, Any]:
        """Every candidate of the search is scored on the training seeds."""
        return {"objective": document(self.objective, self.seeds["training"])}

    def judged(self, run: TestRun, baseline: Baseline) -> tuple[bool, bool]:
        """Improved: a training mean above the current code's; never a finished repair."""
        scores = values(self.objective, run)
        return scores is not None and self.gains(scores), False

    def committable(
        self, mutation: object, run: TestRun, baseline: Baseline, sources: dict[str, str]
    ) -> bool:
        """Every gain counts: a climb step is judged by its score, not by the repair rules."""
        return True

    def gains(self, scores: np.ndarray) -> bool:
        """Whether `scores` beat the current code's on the same seeds by more than the noise.

        The paired gain's lower bound, one standard error below its mean, must be above
        zero: a climb on training episodes would otherwise take steps that are luck.
        """
        if self.current is None or scores.shape != self.current.shape:
            return False
        gain = scores - self.current
        spread = gain.std(ddof=1) / math.sqrt(gain.size) if gain.size > 1 else 0.0
        return float(gain.mean()) - NOISE_Z * spread > 0.0

    def best(self, runs: dict[int, TestRun], baseline: Baseline) -> float:
        """The best training mean so far, in the objective's own sign."""
        means = [v.mean() for r in runs.values() if (v := values(self.objective, r)) is not None]
        return float(max([self.level, *means])) * self.objective.sign

    @property
    def level(self) -> float:
        """The training mean the climb must beat: the current code's."""
        return -math.inf if self.current is None else float(self.current.mean())

    # --- the climb ------------------------------------------------------------------------

    def climb(self, sources: dict[str, str], baseline: Baseline) -> list[Steps]:
        """Hill climbing from the committed code: each point one more edit, each a gain."""
        points: list[Steps] = []
        steps: Steps = ()
        while not self.stop.is_set() and self.budget_left():
            changed = apply_steps(sources, steps)
            current = {**sources, **changed}
            mutations = self.mutations(current)
            runs, order = self.evaluate(mutations, current, baseline, changed=changed or None)
            self.account["env_steps"] += sum(run.env_steps for run in runs.values())
            scored = {
                i: v for i, run in runs.items() if (v := values(self.objective, run)) is not None
            }
            means = {i: float(v.mean()) for i, v in scored.items()}
            refused = {i: unscored(run) for i, run in runs.items() if i not in means}
            self.record(mutations, runs, refused, steps[-1] if steps else None, means)
            rank = {index: position for position, index in enumerate(order)}
            gains = [i for i, v in scored.items() if self.gains(v)]
            if not gains:
                break
            best = min(gains, key=lambda i: (-means[i], rank[i]))
            log.info(
                "%s: %s: training %s %s -> %s",
                self.spec.name,
                mutations[best].summary,
                self.objective.unit,
                shown(self.objective, self.level),
                shown(self.objective, means[best]),
            )
            steps = (*steps, mutations[best])
            self.counters.best_score = means[best]
            self.current = scored[best]
            training = shown(self.objective, means[best])
            self.account["climb"].append({"summary": mutations[best].summary, "training": training})
            points.append(steps)
        return points

    @property
    def account(self) -> dict[str, Any]:
        """The report's account of the objective (`Counters.objective`)."""
        assert self.counters.objective is not None  # set in __init__
        return self.counters.objective

    def budget_left(self) -> bool:
        """Whether the budget allows another round of the climb."""
        return self.searched < self.max_seconds and self.counters.candidates < self.max_candidates

    # --- scoring, acceptance, commit, verification ----------------------------------------

    def score(self, trees: list[dict[str, str]], stage: str) -> list[TestRun]:
        """Each tree (files over the committed snapshot) tested and scored, in one sandbox."""
        assert self.baseline_run is not None  # set by `start`
        baseline = self.baseline_run
        runs = run_batch(
            self.backend,
            self.snapshot(),
            [Candidate(f"{stage}{i}", tree) for i, tree in enumerate(trees)],
            self.config.tests,
            limits=baseline.candidate_limits(self.limits),
            min_collected=baseline.collected,
            name=f"{self.spec.name}-{stage}",
            must_pass=baseline.passing,
            baseline=baseline.outcomes,
            objective=document(self.objective, self.seeds[stage]),
        )
        self.counters.sandbox_seconds += sum(run.result.wall_time for run in runs)
        self.account["env_steps"] += sum(run.env_steps for run in runs)
        return runs

    def accept(self, climb: list[Steps], sources: dict[str, str]) -> CycleReport:
        """Re-score the climb's last points and the committed code on held-out seeds."""
        self.progress(Phase("holdout"))
        finalists = climb[-self.objective.finalists :]
        trees = [{}, *(apply_steps(sources, point) for point in finalists)]
        runs = self.score(trees, "acceptance")
        incumbent = values(self.objective, runs[0])
        if incumbent is None:
            return self.report(
                CycleStatus.ERROR,
                f"the committed code cannot be scored on held-out seeds: {unscored(runs[0])}",
            )
        scored = [
            (point, scores)
            for point, run in zip(finalists, runs[1:], strict=True)
            if (scores := values(self.objective, run)) is not None
        ]
        if not scored:
            return self.report(
                CycleStatus.REJECTED,
                f"no change of the climb could be scored on held-out seeds: {unscored(runs[-1])}",
            )
        point, scores = max(scored, key=lambda item: float(item[1].mean()))
        verdict = compare(scores, incumbent, margin=self.objective.margin)
        self.counters.baseline_score = verdict.incumbent_mean
        self.counters.best_score = verdict.candidate_mean
        moved = self.moved(verdict, len(scores))
        if not verdict.accepted:
            return self.report(
                CycleStatus.REJECTED,
                f"{steps_summary(point)}: {moved}, not above the noise ({verdict.reason})",
            )
        return self.commit_point(point, verdict, sources, len(scores))

    def moved(self, verdict: Verdict, count: int) -> str:
        """What moved, for a person: ``return 143.2 -> 171.8 over 100 held-out episodes``."""
        old = shown(self.objective, verdict.incumbent_mean)
        new = shown(self.objective, verdict.candidate_mean)
        return f"{self.objective.unit} {old} -> {new} over {runs_of(self.objective, count)}"

    def commit_point(
        self, steps: Steps, verdict: Verdict, sources: dict[str, str], count: int
    ) -> CycleReport:
        """Commit the point's edits, saying what each gained in training and what held out."""
        changed = apply_steps(sources, steps)
        self.previous = {path: sources[path] for path in changed}
        what = steps_summary(steps[:2]) + (f" and {len(steps) - 2} more" if len(steps) > 2 else "")
        moved = self.moved(verdict, count)
        self.counters.mutation = {
            **steps[-1].to_dict(),
            "steps": [m.to_dict() for m in steps],
        }
        lines = [f"{moved}; lower bound of the gain {verdict.lower_bound:.2f} > margin "]
        lines[0] += f"{self.objective.margin}.\n\nEdits, each a gain on the training seeds:"
        lines += [f"- {m.summary} ({m.operator} at {m.path}:{m.line})" for m in steps]
        return self.commit_verified(
            changed,
            f"{self.spec.name}: {what} ({moved})",
            "\n".join(lines),
            {
                "Operator": " + ".join(m.operator for m in steps),
                "Score": f"{shown(self.objective, verdict.incumbent_mean)} -> "
                f"{shown(self.objective, verdict.candidate_mean)}",
                "Objective": self.objective.kind,
                "Held-Out": count,
                "Candidates": self.counters.candidates,
            },
        )

    def verify(self) -> str | None:
        """Every test passes, and the committed code beats the previous on fresh seeds."""
        problem = self.verify_tests(gain=False)
        if problem is not None:
            return problem
        self.progress(Phase("verify-score"))
        mine, theirs = self.score([{}, self.previous], "verification")
        new, old = values(self.objective, mine), values(self.objective, theirs)
        if new is None:
            return f"the committed code cannot be scored: {unscored(mine)}"
        if old is None:
            return f"the previous code cannot be scored: {unscored(theirs)}"
        margin = self.objective.margin
        if float(new.mean() - old.mean()) <= margin:
            count = runs_of(self.objective, len(new))
            return (
                f"in verification ({count}), the committed code scored "
                f"{shown(self.objective, float(new.mean()))}, the previous code "
                f"{shown(self.objective, float(old.mean()))}: not above by the margin {margin}"
            )
        return None
