"""Repair rate and sandbox runs to the first repair, per candidate order, on the bug suite.

Each program of bench/bugs is repaired under each strategy — learned (fault
localisation times operator preferences), uniform random, plain enumeration —
with the same budget of candidate runs, for several seeds. A strategy walks its
search a batch at a time and ends a round as a cycle does: at a candidate that
passes every test, or `patience` candidates past the first that improves the
score without breaking a passing test; the best of those is kept, and a new
round starts from it (a program with two defects needs two rounds). The program
counts as repaired when every test passes; its runs are those spent until then.
The strategies never read bug.toml.

Every candidate runs once, in the Docker sandbox, and its outcome is cached
(outcomes are deterministic): all mutations of each program as shipped, in
batches of 50 on two sandboxes at once, and those of later versions (after a
kept improvement) as strategies ask for them. Strategies and seeds replay the
cache, so each is charged exactly the runs its own order would have made. The
learned strategy carries its operator preferences from program to program (in
a seeded order), as the daemon pools them across targets.

    python bench/repair.py [--budget 300] [--seeds 5] [--batch 10] [--json out.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bugsuite import Program, load_suite  # noqa: E402

from daemon.cycles.baseline import Baseline  # noqa: E402
from daemon.cycles.search import CandidateScheduler, improves  # noqa: E402
from daemon.cycles.selection import select  # noqa: E402
from policies.codemods import Mutation, apply_mutation, enumerate_mutations  # noqa: E402
from policies.localise import ochiai  # noqa: E402
from policies.ordering import SearchContext, ordering_for  # noqa: E402
from policies.preferences import OperatorPreferences  # noqa: E402
from sandbox.docker_backend import DockerBackend  # noqa: E402
from sandbox.evaluate import Candidate, run_batch, run_tests  # noqa: E402
from sandbox.job import Limits  # noqa: E402

STRATEGIES = ("learned", "random", "plain")
CACHE_VERSION = 1
PREFETCH_BATCH = 50
SANDBOXES = 2


@dataclass
class Evaluator:
    """Runs candidates of a program in the sandbox, once each; remembers every outcome."""

    backend: DockerBackend
    cache_path: Path
    cache: dict[str, Any] = field(default_factory=dict)
    runs: int = 0
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.cache_path.exists():
            data = json.loads(self.cache_path.read_text())
            if data.get("v") == CACHE_VERSION:
                self.cache = data["entries"]

    def save(self) -> None:
        tmp = self.cache_path.with_suffix(".part")
        tmp.write_text(json.dumps({"v": CACHE_VERSION, "entries": self.cache}))
        os.replace(tmp, self.cache_path)

    def baseline(self, program: Program, sources: dict[str, str]) -> Baseline:
        """The cycle's baseline of this version of the program (cached as plain data)."""
        key = _key(program, sources, "baseline")
        if key not in self.cache:
            run = run_tests(
                self.backend,
                program.directory,
                program.tests,
                overlays=_changed(program, sources),
                coverage=program.files,
                name=f"repair-{program.name}-baseline",
            )
            if not run.valid:
                raise SystemExit(f"{program.name}: the baseline run is invalid: {run.reason}")
            base = Baseline.of(run)
            self.cache[key] = {
                "score": base.score,
                "collected": base.collected,
                "passing": base.passing,
                "outcomes": base.outcomes,
                "coverage": base.coverage,
                "duration": base.duration,
            }
        cached = self.cache[key]
        return Baseline(
            cached["score"],
            len(cached["passing"]),  # the tests that passed, each once
            cached["collected"],
            list(cached["passing"]),
            cached["duration"],
            outcomes=dict(cached["outcomes"]),
            coverage=cached["coverage"],
        )

    def outcomes(
        self, program: Program, sources: dict[str, str], base: Baseline, batch: Sequence[Mutation]
    ) -> list[dict[str, Any]]:
        """Each mutation's outcome: {"improves", "score", "seconds"}."""
        keys = [_key(program, sources, _mutation_key(m)) for m in batch]
        if any(k not in self.cache for k in keys):
            self.prefetch(program, sources, base, batch)
        return [self.cache[k] for k in keys]

    def prefetch(
        self,
        program: Program,
        sources: dict[str, str],
        base: Baseline,
        mutations: Sequence[Mutation],
    ) -> None:
        """Evaluate the mutations not cached yet, in batches on parallel sandboxes."""
        missing = [
            m for m in mutations if _key(program, sources, _mutation_key(m)) not in self.cache
        ]
        chunks = [missing[i : i + PREFETCH_BATCH] for i in range(0, len(missing), PREFETCH_BATCH)]
        with ThreadPoolExecutor(SANDBOXES) as pool:
            for chunk, runs in zip(
                chunks,
                pool.map(lambda c: self._run(program, sources, base, c), chunks),
                strict=True,
            ):
                for mutation, run in zip(chunk, runs, strict=True):
                    self.runs += 1
                    self.seconds += run.result.wall_time
                    self.cache[_key(program, sources, _mutation_key(mutation))] = {
                        "improves": improves(run, base),
                        "score": run.score,
                        "seconds": run.result.wall_time,
                    }
        if missing:
            self.save()

    def _run(
        self, program: Program, sources: dict[str, str], base: Baseline, chunk: list[Mutation]
    ) -> list[Any]:
        candidates = [
            Candidate(str(i), _changed(program, {**sources, m.path: _apply(sources, m)}))
            for i, m in enumerate(chunk)
        ]
        return run_batch(
            self.backend,
            program.directory,
            candidates,
            program.tests,
            limits=Limits(timeout=max(2.0, 10 * base.duration)),
            min_collected=base.collected,
            must_pass=base.passing,
            baseline=base.outcomes,
            name=f"repair-{program.name}",
        )


def _apply(sources: dict[str, str], mutation: Mutation) -> str:
    return apply_mutation(sources[mutation.path], mutation)


def _changed(program: Program, sources: dict[str, str]) -> dict[str, str]:
    return {p: s for p, s in sources.items() if s != program.sources()[p]}


def _mutation_key(m: Mutation) -> str:
    return f"{m.path}:{m.operator}:{m.site}:{m.variant}"


def _key(program: Program, sources: dict[str, str], what: str) -> str:
    digest = hashlib.sha256(json.dumps(sorted(sources.items())).encode()).hexdigest()[:16]
    return f"{program.name}:{digest}:{what}"


@dataclass
class Attempt:
    """One strategy on one program with one seed."""

    program: str
    kind: str
    strategy: str
    seed: int
    repaired: bool
    runs: int
    """Candidate runs spent: to the repair when repaired, else all the budget used."""
    rounds: int
    seconds: float


@dataclass(frozen=True)
class Timing:
    """The part of a sandbox `Result` that the cycle's selection reads."""

    wall_time: float


@dataclass(frozen=True)
class Replayed:
    """A cached outcome, read as the parts of a `TestRun` that the cycle's rules look at.

    The cache keeps the verdict of `improves` (taken on the real run when it was
    evaluated), the score and the wall time, not each test's outcome: an improving
    replay is valid and passes the baseline's passing tests, any other is invalid, so
    `improves` and `select` reach on the replay the verdicts they reached on the run.
    """

    score: float
    valid: bool
    result: Timing
    kept: frozenset[str]

    @classmethod
    def of(cls, outcome: dict[str, Any], base: Baseline) -> Replayed:
        improved = bool(outcome["improves"])
        kept = frozenset(base.passing) if improved else frozenset()
        return cls(outcome["score"], improved, Timing(outcome["seconds"]), kept)

    def passing(self) -> frozenset[str]:
        return self.kept


def attempt(
    evaluator: Evaluator,
    program: Program,
    strategy: str,
    seed: int,
    budget: int,
    batch: int,
    patience: int,
    preferences: OperatorPreferences | None,
) -> Attempt:
    """Repair `program` under `strategy` within `budget` candidate runs.

    Each round is a code cycle's search and selection, run by the cycle's own
    `CandidateScheduler` and `select` on cached outcomes: batches within what is
    left of the budget, `patience` candidates past the batch of the first
    improvement, a stop at a candidate passing every test. A round's runs are
    charged up to that candidate: the runs to the repair.
    """
    sources = dict(program.sources())
    spent, rounds, seconds = 0, 0, 0.0
    order = ordering_for(strategy, preferences)
    while True:
        base = evaluator.baseline(program, sources)
        if base.score >= 1.0 or spent >= budget:
            break
        rounds += 1
        mutations = [m for p, s in sources.items() for m in enumerate_mutations(s, p)]
        if rounds == 1:
            evaluator.prefetch(program, sources, base, mutations)
        context = SearchContext(
            seed * 1_000_003 + rounds, ochiai(base.coverage or {}, base.outcomes)
        )
        scheduler = CandidateScheduler(
            order.search(mutations, context),
            batch=batch,
            limit=budget - spent,
            patience=patience,
            deadline=math.inf,  # the bench counts candidates, not seconds
        )
        index = {m: i for i, m in enumerate(mutations)}
        runs: dict[int, Replayed] = {}
        stopped = False  # at a candidate passing every test: no more runs are charged
        while taken := scheduler.take():
            outcomes = evaluator.outcomes(program, sources, base, taken)
            for mutation, outcome in zip(taken, outcomes, strict=True):
                run = runs[index[mutation]] = Replayed.of(outcome, base)
                perfect = run.valid and run.score >= 1.0
                scheduler.record(mutation, improved=improves(run, base), perfect=perfect)
                if not stopped:
                    spent += 1
                    seconds += outcome["seconds"]
                    stopped = perfect
        # Replayed runs stand in for the `TestRun`s a cycle hands to `select`.
        searched = [index[m] for m in scheduler.settled()]
        winner = select(mutations, runs, sources, base, searched).winner  # type: ignore[arg-type]
        if winner is None:
            break
        kept = winner[0]
        sources[kept.path] = _apply(sources, kept)
    repaired = evaluator.baseline(program, sources).score >= 1.0
    return Attempt(program.name, program.kind, strategy, seed, repaired, spent, rounds, seconds)


def run(
    evaluator: Evaluator,
    suite: list[Program],
    strategies: Sequence[str],
    seeds: int,
    budget: int,
    batch: int,
    patience: int,
    progress: bool,
) -> list[Attempt]:
    """Every strategy on every program for every seed."""
    attempts = []
    for seed in range(seeds):
        programs = list(suite)
        random.Random(seed).shuffle(programs)  # the order the learned preferences travel in
        for strategy in strategies:
            pooled: dict[str, dict[str, Any]] = {}
            for program in programs:
                preferences = None
                if strategy == "learned":
                    preferences = OperatorPreferences.from_dict(None, pooled.values())
                result = attempt(
                    evaluator, program, strategy, seed, budget, batch, patience, preferences
                )
                if preferences is not None:
                    pooled[program.name] = preferences.to_dict()
                attempts.append(result)
                evaluator.save()
                if progress:
                    print(
                        f"seed {seed} {strategy:8} {program.name:24} "
                        f"{'repaired' if result.repaired else 'not repaired':12} "
                        f"runs {result.runs:4}   (sandbox runs so far: {evaluator.runs})",
                        file=sys.stderr,
                        flush=True,
                    )
    return attempts


def summarise(attempts: list[Attempt], strategies: Sequence[str], budget: int) -> dict[str, Any]:
    """Per strategy: repair rate of the repairable programs, runs to repair, budget kept."""
    summary = {}
    for strategy in strategies:
        mine = [a for a in attempts if a.strategy == strategy]
        repairable = [a for a in mine if a.kind != "unfixable"]
        repaired = [a for a in repairable if a.repaired]
        runs = [a.runs for a in repaired]
        summary[strategy] = {
            "attempts": len(repairable),
            "repaired": len(repaired),
            "repair_rate": len(repaired) / len(repairable) if repairable else 0.0,
            "median_runs": statistics.median(runs) if runs else None,
            "mean_runs": statistics.fmean(runs) if runs else None,
            "unfixable_max_runs": max(
                (a.runs for a in mine if a.kind == "unfixable"), default=None
            ),
            "unfixable_repaired": sum(1 for a in mine if a.kind == "unfixable" and a.repaired),
            "budget_respected": all(a.runs <= budget for a in mine),
            "candidate_seconds": sum(a.seconds for a in mine),
        }
    return summary


def table(summary: dict[str, Any], budget: int) -> str:
    """The summary as a text table."""
    lines = [
        f"{'strategy':10} {'repaired':>12} {'rate':>6} {'median runs':>12} {'mean runs':>10} "
        f"{'unfixable runs':>15}"
    ]
    for strategy, s in summary.items():
        median = f"{s['median_runs']:.1f}" if s["median_runs"] is not None else "-"
        mean = f"{s['mean_runs']:.1f}" if s["mean_runs"] is not None else "-"
        unfixable = f"{s['unfixable_max_runs']}/{budget}"
        lines.append(
            f"{strategy:10} {s['repaired']:>5}/{s['attempts']:<6} {s['repair_rate']:>6.0%} "
            f"{median:>12} {mean:>10} {unfixable:>15}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=300, help="candidate runs per program")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=10, help="candidates per search step")
    parser.add_argument(
        "--patience", type=int, default=50, help="candidates past the first improvement"
    )
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--only", action="append", help="a program of the suite (repeatable)")
    parser.add_argument("--cache", type=Path, default=ROOT / "state" / "bench" / "repair.json")
    parser.add_argument("--json", type=Path, help="write the summary and attempts here")
    parser.add_argument("--quiet", action="store_true", help="no per-attempt progress")
    args = parser.parse_args()
    strategies = [s for s in args.strategies.split(",") if s]
    for strategy in strategies:
        ordering_for(strategy)  # an unknown name fails before any sandbox starts
    suite = [p for p in load_suite() if not args.only or p.name in args.only]
    if not suite:
        parser.error(f"no program of the suite is called {', '.join(args.only)}")
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    evaluator = Evaluator(DockerBackend(args.cache.parent), args.cache)
    started = time.monotonic()
    attempts = run(
        evaluator,
        suite,
        strategies,
        args.seeds,
        args.budget,
        args.batch,
        args.patience,
        not args.quiet,
    )
    summary = summarise(attempts, strategies, args.budget)
    print(table(summary, args.budget))
    print(
        f"{len(suite)} programs x {args.seeds} seeds, budget {args.budget} runs, batch "
        f"{args.batch}, patience {args.patience}; {evaluator.runs} new sandbox runs "
        f"({evaluator.seconds:.0f} s) in "
        f"{time.monotonic() - started:.0f} s on {platform.node()} ({os.cpu_count()} cores)"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "summary": summary,
                    "attempts": [a.__dict__ for a in attempts],
                    "budget": args.budget,
                    "patience": args.patience,
                    "seeds": args.seeds,
                    "batch": args.batch,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
