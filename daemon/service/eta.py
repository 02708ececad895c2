"""How long a running cycle has left: its progress so far, extrapolated, capped by its budget.

A cycle stops at the first limit it reaches, so its remaining time is the least
of the times each limit needs at the pace seen so far: candidates for a code
cycle; generations, environment steps and wall-clock seconds for a weights
cycle. It is an estimate for a person deciding whether to wait, not a promise:
a code cycle often ends early (a perfect candidate, patience spent).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from daemon.cycles.events import Evaluated, Event, Generation
from daemon.registry import TargetSpec, WeightsTarget

FINISHING = ("accept", "select", "commit", "verify", "confirm")
"""Phases after the search: short, and not measured by the budget."""


@dataclass(frozen=True)
class Budget:
    """What one cycle may spend, its share applied: the limits the estimate extrapolates to."""

    kind: str
    seconds: float
    generations: int | None = None
    env_steps: int | None = None

    @classmethod
    def of(cls, spec: TargetSpec, share: float = 1.0) -> Budget:
        """The budget of a cycle of `spec` given `share` of it (as the cycle scales it)."""
        config = spec.config
        seconds = float(config.budget.seconds) * share
        if not isinstance(config, WeightsTarget):  # sandbox seconds, over parallel sandboxes
            return cls("code", seconds / config.sandbox.parallel)

        def scaled(limit: int | None) -> int | None:
            return None if limit is None else max(1, math.ceil(limit * share))

        budget = config.budget
        return cls("weights", seconds, scaled(budget.generations), scaled(budget.env_steps))


def remaining(
    budget: Budget,
    event: Event | None,
    elapsed: float,
    searching: float | None = None,
    phase: str | None = None,
) -> float | None:
    """Seconds the cycle has left, or None once it is past its search (finishing up).

    Args:
        budget: the cycle's limits.
        event: its latest `Evaluated` or `Generation` (None: none yet).
        elapsed: seconds since the cycle started.
        searching: seconds since a code cycle evaluated its first candidates (its pace).
        phase: the phase it is in.
    """
    if phase in FINISHING:
        return None
    if isinstance(event, Generation):
        return _weights(budget, event)
    left = max(0.0, budget.seconds - elapsed)
    if isinstance(event, Evaluated) and event.done > 0 and searching:
        pace = searching / event.done
        left = min(left, pace * max(0, event.total - event.done))
    return left


def _weights(budget: Budget, event: Generation) -> float:
    """The least time any of a weights cycle's limits needs, at the run's pace so far."""
    wall = max(event.wall_time, 1e-9)
    options = [max(0.0, budget.seconds - event.wall_time)]
    total = event.total or budget.generations
    if total and event.generation > 0:
        options.append(wall / event.generation * max(0, total - event.generation))
    if budget.env_steps and event.env_steps > 0:
        options.append(wall / event.env_steps * max(0, budget.env_steps - event.env_steps))
    return min(options)
