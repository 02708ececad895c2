"""What a mutator is, and plain Gaussian mutation, the baseline every learned one must beat.

A mutator turns a parent genome (and, for crossover, a second parent) into a
child. Its own weights, if it has any, travel in the genome's `mutator` vector,
so a mutator object holds only fixed hyper-parameters and every child is a
pure function of the parents and the random generator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .genome import Genome
from .network import MLPSpec


class Mutator(Protocol):
    """Makes children; `stats` summarises what evolution did to the mutators of a population."""

    kind: str

    def new(
        self, spec: MLPSpec, rng: np.random.Generator, policy: np.ndarray | None = None
    ) -> Genome:
        """A first-generation genome: `policy` (or fresh weights) and initial mutator weights."""
        ...

    def mutate(
        self, parent: Genome, rng: np.random.Generator, mate: Genome | None = None
    ) -> tuple[Genome, dict[str, float]]:
        """A child of `parent` (crossed with `mate` when given), and numbers about this mutation."""
        ...

    def stats(self, genomes: list[Genome]) -> dict[str, float]:
        """Population-level numbers for the training curve (e.g. mean escape probability)."""
        ...


@dataclass(frozen=True)
class GaussianMutator:
    """Adds N(0, sigma^2) to every weight; with a mate, each weight comes from either parent."""

    sigma: float = 0.05
    kind: str = "gaussian"

    def __post_init__(self) -> None:
        if not self.sigma > 0:
            raise ValueError(f"sigma must be positive, got {self.sigma}")

    def new(
        self, spec: MLPSpec, rng: np.random.Generator, policy: np.ndarray | None = None
    ) -> Genome:
        """A genome with no mutator weights."""
        return Genome(spec, spec.init(rng) if policy is None else policy, kind=self.kind)

    def mutate(
        self, parent: Genome, rng: np.random.Generator, mate: Genome | None = None
    ) -> tuple[Genome, dict[str, float]]:
        """Uniform crossover (when the shapes agree), then Gaussian noise on everything."""
        x = parent.vector().astype(np.float64)
        if mate is not None and mate.sizes == parent.sizes and mate.spec == parent.spec:
            x = np.where(rng.random(x.size) < 0.5, x, mate.vector())
        x = x + rng.normal(0.0, self.sigma, size=x.size)
        return parent.with_vector(x.astype(np.float32)), {"sigma_policy": self.sigma}

    def stats(self, genomes: list[Genome]) -> dict[str, float]:
        """The fixed sigma."""
        return {"sigma_policy": self.sigma}
