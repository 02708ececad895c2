"""What a tuning cycle scores with: its seeds, the sandbox's objective document, the scores.

Gym objectives train on a block of seeds of their own per cycle, below
`policies.neuro.evolve.HOLDOUT`; acceptance and verification use the cycle's
held-out blocks above it (`daemon.cycles.network.cycle_seeds`), so no decision
reuses an episode the search saw. A metric has no seeds: its stages differ in
how many times the function is called. Scores are maximised: a minimised
metric's values are negated here and shown in their own sign (`shown`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from daemon.cycles.network import cycle_seeds
from daemon.registry.objective import GymObjective, ScoredObjective
from policies.codemods import Mutation
from sandbox.evaluate import TestRun

Steps = tuple[Mutation, ...]
"""A point of a tuning cycle's climb: the edits made so far, in order."""


def scoring_seeds(objective: ScoredObjective, number: int) -> dict[str, list[int]]:
    """Cycle `number`'s seeds (gym) or repetitions (metric) of each stage."""
    if isinstance(objective, GymObjective):
        first = number * objective.episodes
        held = cycle_seeds(number, objective.holdout, 0)
        return {
            "training": list(range(first, first + objective.episodes)),
            "acceptance": held["acceptance"],
            "verification": held["verification"],
        }
    return {
        "training": list(range(objective.repeat)),
        "acceptance": list(range(objective.holdout)),
        "verification": list(range(objective.holdout)),
    }


def document(objective: ScoredObjective, seeds: list[int]) -> dict[str, Any]:
    """The objective as the sandbox's batch harness reads it (`sandbox.runners.objective`)."""
    if isinstance(objective, GymObjective):
        return {
            "kind": "gym",
            "env": objective.env,
            "entry": objective.entry,
            "seeds": seeds,
            "timeout": objective.timeout,
        }
    return {
        "kind": "metric",
        "entry": objective.entry,
        "repeat": len(seeds),
        "timeout": objective.timeout,
    }


def values(objective: ScoredObjective, run: TestRun) -> np.ndarray | None:
    """A run's scores, to be maximised; None when it was not scored (why: `unscored`)."""
    if not run.valid or run.scores is None:
        return None
    return objective.sign * np.asarray(run.scores, dtype=np.float64)


def unscored(run: TestRun) -> str:
    """Why a run has no scores."""
    return run.reason if not run.valid else run.objective_error or "no scores came back"


def shown(objective: ScoredObjective, value: float | None) -> str:
    """A maximised score in the objective's own sign and precision."""
    if value is None:
        return "none"
    value *= objective.sign
    return f"{value:.1f}" if isinstance(objective, GymObjective) else f"{value:.4g}"


def runs_of(objective: ScoredObjective, count: int) -> str:
    """How held-out scoring is counted: ``100 held-out episodes``, ``30 runs``."""
    return f"{count} held-out episodes" if isinstance(objective, GymObjective) else f"{count} runs"
