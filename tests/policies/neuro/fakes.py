"""A cheap, deterministic stand-in for gym episodes, for loop and strategy tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from policies.neuro import MLPSpec

SPEC = MLPSpec(4, 2, (8,))


@dataclass(frozen=True)
class FakeEvaluation:
    returns: np.ndarray
    env_steps: int


def target_return(genomes, seeds) -> FakeEvaluation:
    """Return = closeness of the first weights to 0.5, plus noise fixed by the seed."""
    rows = []
    for genome in genomes:
        base = -float(np.sum((genome.policy[:10].astype(np.float64) - 0.5) ** 2))
        rows.append([base + np.random.default_rng(s).normal(0, 0.01) for s in seeds])
    return FakeEvaluation(np.array(rows), 10 * len(genomes) * len(seeds))
