"""The evolution loop: ask, evaluate, tell, record; checkpointed every generation.

Three things are kept apart: the problem (`evaluate`, which plays episodes:
in-process for a benchmark, in the sandbox for the daemon), the searcher (a
`Strategy`), and observers (progress bar, logs) called after each generation.
After every generation the loop writes a checkpoint (the strategy's state,
its own random state, the history) atomically, and the training curve as CSV
and PNG. Started again on the same run directory, it resumes from the last
checkpoint and produces exactly the generations an uninterrupted run would.

Training episodes use seeds below `HOLDOUT`, drawn afresh each generation;
seeds from `HOLDOUT` up are never trained on and serve for acceptance.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from . import curve
from .checkpoint import load_checkpoint, save_checkpoint
from .genome import Genome
from .strategy import Strategy

log = logging.getLogger(__name__)

HOLDOUT = 2**30
"""Training seeds lie in [0, HOLDOUT); seeds from HOLDOUT up are held out."""
CHECKPOINT = "checkpoint.npz"
CURVE_CSV = "curve.csv"
CURVE_PNG = "curve.png"


def holdout_seeds(count: int, start: int = 0) -> list[int]:
    """`count` seeds no training episode ever uses."""
    return [HOLDOUT + start + i for i in range(count)]


class Evaluation(Protocol):
    """What an evaluation returns (`sandbox.gym_eval.GymEvaluation` is one)."""

    @property
    def returns(self) -> np.ndarray:
        """Shape [genomes, seeds]; NaN where a genome could not be run."""
        ...

    @property
    def env_steps(self) -> int:
        """Environment steps this evaluation took."""
        ...


Evaluate = Callable[[Sequence[Genome], Sequence[int]], Evaluation]
Observer = Callable[["GenerationRecord"], None]
Validate = Callable[[Genome], float]
"""A genome's mean return on held-out validation episodes."""


@dataclass(frozen=True)
class Budget:
    """When a run stops: the first limit reached (None: no such limit)."""

    generations: int | None = None
    seconds: float | None = None
    """Wall-clock seconds over all resumptions of the run."""
    env_steps: int | None = None
    target: float | None = None
    """Stop once a generation's best training return reaches this (and, where the run
    validates, that genome's mean on the validation episodes too)."""

    def __post_init__(self) -> None:
        if self.generations is None and self.seconds is None and self.env_steps is None:
            raise ValueError("a budget needs at least one of generations, seconds, env_steps")

    def reason(self, generation: int, wall: float, steps: int, best: float) -> str | None:
        """Why the run must stop now, or None."""
        if self.generations is not None and generation >= self.generations:
            return f"{generation} generations"
        if self.seconds is not None and wall >= self.seconds:
            return f"{wall:.0f}s of wall-clock time"
        if self.env_steps is not None and steps >= self.env_steps:
            return f"{steps} environment steps"
        if self.target is not None and best >= self.target:
            return f"reached the target return {self.target}"
        return None


@dataclass(frozen=True)
class GenerationRecord:
    """One generation of a run, as the curve and the observers see it."""

    generation: int
    """Generations done, this one included."""
    env_steps: int
    """Environment steps since the run began."""
    wall_time: float
    """Seconds since the run began, over all resumptions."""
    best: float
    mean: float
    median: float
    best_so_far: float
    stats: Mapping[str, float] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """A flat row for the CSV."""
        base = {k: getattr(self, k) for k in curve.BASE}
        return {**base, **self.stats}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> GenerationRecord:
        """Inverse of `row`."""
        stats = {k: v for k, v in row.items() if k not in curve.BASE}
        return cls(**{k: row[k] for k in curve.BASE}, stats=stats)


@dataclass(frozen=True)
class RunResult:
    """How a run ended."""

    champion: Genome
    """The genome with the best training fitness of the whole run."""
    champion_fitness: float
    history: list[GenerationRecord]
    stopped: str
    """Which budget limit ended the run."""
    resumed_at: int = 0
    """The generation the run resumed from (0: a fresh start)."""
    validated: Genome | None = None
    """The genome with the best validation mean of the run, where the run validated any."""

    @property
    def env_steps(self) -> int:
        """Environment steps of the whole run."""
        return self.history[-1].env_steps if self.history else 0


def _finite_stats(stats: Mapping[str, float]) -> dict[str, float]:
    return {k: float(v) for k, v in stats.items() if math.isfinite(float(v))}


def evolve(
    strategy: Strategy,
    evaluate: Evaluate,
    budget: Budget,
    *,
    episodes: int = 5,
    seed: int = 0,
    run_dir: Path | str | None = None,
    observers: Sequence[Observer] = (),
    plot_every: int = 10,
    title: str = "",
    validate: Validate | None = None,
    final_plot: bool = True,
) -> RunResult:
    """Run generations until the budget is spent; resume from `run_dir`'s checkpoint if any.

    Args:
        strategy: the searcher, freshly built with the run's settings.
        evaluate: genomes and seeds -> returns per genome and seed (and env steps).
        budget: when to stop.
        episodes: training episodes per genome and generation.
        seed: seeds the loop's own generator (training seeds); the strategy has its own.
        run_dir: where the checkpoint and the curve go; None keeps nothing.
        observers: called with each generation's record; an observer's error is logged.
        plot_every: redraw the PNG every this many generations (and at the end).
        final_plot: draw the PNG at the end (a caller may draw it later, off its path).
        title: the PNG's title.
        validate: when a generation's best reaches the budget's target, that genome's
            mean on held-out episodes, which must reach it too before the run stops: a
            best of a few training episodes is often luck. Its value is kept in the
            history (``validated``), so a resumed run decides as the first one did.
    """
    directory = Path(run_dir) if run_dir is not None else None
    rng = np.random.default_rng(seed)
    run = _Run()
    if directory is not None and (directory / CHECKPOINT).exists():
        run = _resume(directory, strategy, rng)
    started = time.monotonic() - run.elapsed
    while True:
        last_best = _reached(run.history[-1]) if run.history else -math.inf
        stopped = budget.reason(len(run.history), time.monotonic() - started, run.steps, last_best)
        if stopped:
            break
        check = None if budget.target is None else validate
        record = _generation(strategy, evaluate, rng, episodes, run, started, check, budget.target)
        if directory is not None:
            _checkpoint(directory, strategy, rng, run, plot_every, title)
        for observer in observers:
            try:
                observer(record)
            except Exception:
                log.exception("observer %r failed at generation %d", observer, record.generation)
    if directory is not None and run.history and final_plot:
        curve.write_png(directory / CURVE_PNG, [r.row() for r in run.history], title)
    if run.champion is None:
        run.champion, run.champion_fitness = strategy.ask()[0], -math.inf
    return RunResult(
        run.champion, run.champion_fitness, run.history, stopped, run.resumed_at, run.validated
    )


def _reached(record: GenerationRecord) -> float:
    """What the budget's target is checked against: the validated best where there is one."""
    return min(record.best, record.stats.get("validated", math.inf))


@dataclass
class _Run:
    """Where a run stands: its history, env steps and time so far, and its champion."""

    history: list[GenerationRecord] = field(default_factory=list)
    steps: int = 0
    elapsed: float = 0.0
    champion: Genome | None = None
    champion_fitness: float = -math.inf
    resumed_at: int = 0
    validated: Genome | None = None
    validated_mean: float = -math.inf


def _resume(directory: Path, strategy: Strategy, rng: np.random.Generator) -> _Run:
    """The run as its checkpoint left it; the strategy and `rng` are restored in place."""
    state = load_checkpoint(directory / CHECKPOINT)
    strategy.load_state_dict(state["strategy"])
    rng.bit_generator.state = state["rng"]
    history = [GenerationRecord.from_row(r) for r in state["history"]]
    log.info("resuming %s at generation %d", directory, len(history))
    validated = state.get("validated")
    return _Run(
        history,
        int(state["env_steps"]),
        float(state["wall_time"]),
        Genome.from_state(state["champion"]),
        float(state["champion_fitness"]),
        len(history),
        None if validated is None else Genome.from_state(validated),
        float(state.get("validated_mean", -math.inf)),
    )


def _generation(
    strategy: Strategy,
    evaluate: Evaluate,
    rng: np.random.Generator,
    episodes: int,
    run: _Run,
    started: float,
    validate: Validate | None = None,
    target: float | None = None,
) -> GenerationRecord:
    """Ask, evaluate on fresh training seeds, tell; the champion and history updated.

    A best that reaches `target` is validated (`validate`), its mean kept in the stats.
    """
    genomes = strategy.ask()
    seeds = rng.integers(0, HOLDOUT, size=episodes).tolist()
    evaluation = evaluate(genomes, seeds)
    with np.errstate(invalid="ignore"):
        fitness = np.asarray(evaluation.returns, dtype=np.float64).mean(axis=1)
    fitness = np.where(np.isnan(fitness), -np.inf, fitness)
    stats = strategy.tell(fitness)
    run.steps += int(evaluation.env_steps)
    top = int(np.argmax(fitness))
    if fitness[top] > run.champion_fitness or run.champion is None:
        run.champion, run.champion_fitness = genomes[top], float(fitness[top])
    finite = fitness[np.isfinite(fitness)]
    stats = _finite_stats(stats)
    if validate is not None and target is not None and fitness[top] >= target:
        stats["validated"] = float(validate(genomes[top]))
        if stats["validated"] > run.validated_mean:  # kept, whatever happens next
            run.validated, run.validated_mean = genomes[top], stats["validated"]
        if stats["validated"] >= target:  # the run ends with it: it is the champion
            run.champion, run.champion_fitness = genomes[top], float(fitness[top])
    record = GenerationRecord(
        generation=len(run.history) + 1,
        env_steps=run.steps,
        wall_time=time.monotonic() - started,
        best=float(fitness[top]),
        mean=float(finite.mean()) if finite.size else -math.inf,
        median=float(np.median(finite)) if finite.size else -math.inf,
        best_so_far=run.champion_fitness,
        stats=stats,
    )
    run.history.append(record)
    return record


def _checkpoint(
    directory: Path,
    strategy: Strategy,
    rng: np.random.Generator,
    run: _Run,
    plot_every: int,
    title: str,
) -> None:
    """Save everything a resumed run needs, and the curve so far."""
    record = run.history[-1]
    assert run.champion is not None  # set by the first generation
    save_checkpoint(
        directory / CHECKPOINT,
        {
            "generation": record.generation,
            "env_steps": run.steps,
            "wall_time": record.wall_time,
            "rng": rng.bit_generator.state,
            "history": [r.row() for r in run.history],
            "strategy": strategy.state_dict(),
            "champion": run.champion.to_state(),
            "champion_fitness": run.champion_fitness,
            **(
                {}
                if run.validated is None
                else {"validated": run.validated.to_state(), "validated_mean": run.validated_mean}
            ),
        },
    )
    rows = [r.row() for r in run.history]
    curve.write_csv(directory / CURVE_CSV, rows)
    if plot_every and record.generation % plot_every == 0:
        curve.write_png(directory / CURVE_PNG, rows, title)
