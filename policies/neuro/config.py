"""A run's settings as a target file states them, checked once, and the strategy they build.

The daemon's ``[evolution]`` table of a weights target maps onto `EvolutionConfig`
field for field; unknown keys are refused with a suggestion.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from policies.errors import ConfigError

from .cmaes import CMAES, CMAOptions
from .dualmixture import DualMixture
from .es import ESOptions, OpenAIES
from .evolve import Budget
from .genome import Genome
from .mutator import GaussianMutator
from .network import MLPSpec
from .strategy import GAOptions, GeneticStrategy, Strategy
from .structure import StructureOptions

METHODS = ("dualmixture", "gaussian", "es", "cmaes")
FIXED_SHAPE = ("es", "cmaes")
"""Methods that search a fixed shape: no structure, speciation or crossover."""


@dataclass(frozen=True)
class EvolutionConfig:
    """How a weights target is evolved."""

    method: str = "dualmixture"
    """``dualmixture`` (self-referential), ``gaussian`` (baseline), ``es`` (OpenAI-ES) or
    ``cmaes`` (CMA-ES)."""
    population: int = 64
    generations: int | None = 50
    seconds: float | None = None
    """Wall-clock cap of one run."""
    env_steps: int | None = None
    episodes: int = 5
    """Training episodes per genome and generation."""
    target: float | None = None
    """Stop early once a generation's best training return reaches this."""
    seed: int = 0
    elite: int = 2
    parents: float = 0.25
    crossover: float = 0.0
    """Probability of a two-parent child (learned crossover for ``dualmixture``)."""
    speciation: bool = False
    """Learned speciation by the genomes' compatibility networks."""
    structure: StructureOptions | None = None
    """Growth and pruning of hidden layers, with its parsimony pressure; None: fixed shape."""
    sigma: float = 0.05
    """Mutation sigma (``gaussian``), perturbation sigma (``es``), initial step size (``cmaes``)."""
    lr: float = 0.03
    """Step size (``es``)."""
    diagonal: bool | None = None
    """``cmaes``: diagonal covariance (separable); None: above 2,000 parameters."""
    restarts: int = 0
    """``cmaes``: IPOP restarts at most on a stalled search (0: none)."""
    stall: int = 20
    """``cmaes``: a restart once the median return, averaged over this many generations,
    is no better than over as many before."""
    growth: int = 2
    """``cmaes``: factor of the population at each restart."""

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError("method", self.method, f"one of {', '.join(METHODS)}")
        if self.population < 3:
            raise ConfigError("population", self.population, "at least 3")
        if self.episodes < 1:
            raise ConfigError("episodes", self.episodes, "at least 1")
        if self.method in FIXED_SHAPE and (self.structure or self.speciation or self.crossover):
            raise ConfigError(
                "method",
                self.method,
                "dualmixture or gaussian for structure, "
                f"speciation or crossover ({self.method} has a fixed shape)",
            )

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> EvolutionConfig:
        """From a target file's table; refuses unknown keys."""
        known = {f.name for f in fields(cls)}
        values = dict(raw)
        for key in values:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ConfigError(key, values[key], f"a known setting{hint}")
        if isinstance(values.get("structure"), Mapping):
            try:
                values["structure"] = StructureOptions(**values["structure"])
            except (TypeError, ValueError) as exc:
                raise ConfigError("structure", values["structure"], str(exc)) from None
        try:
            return cls(**values)
        except TypeError as exc:
            raise ConfigError("evolution", raw, str(exc)) from None

    def budget(self) -> Budget:
        """The run's stopping rule."""
        return Budget(self.generations, self.seconds, self.env_steps, self.target)

    def strategy(
        self, spec: MLPSpec, initial: np.ndarray | None = None, ancestor: Genome | None = None
    ) -> Strategy:
        """A fresh strategy for a policy of shape `spec`, starting at `initial` weights if given.

        `ancestor` hands its evolved mutator on (`GeneticStrategy`); the ES and CMA-ES
        have none and ignore it.
        """
        if self.method == "es":
            options = ESOptions(population=self.population, sigma=self.sigma, lr=self.lr)
            return OpenAIES(spec, options, seed=self.seed, initial=initial)
        if self.method == "cmaes":
            cma = CMAOptions(
                population=self.population,
                sigma=self.sigma,
                diagonal=self.diagonal,
                restarts=self.restarts,
                stall=self.stall,
                growth=self.growth,
            )
            return CMAES(spec, cma, seed=self.seed, initial=initial)
        mutator = DualMixture() if self.method == "dualmixture" else GaussianMutator(self.sigma)
        options = GAOptions(
            population=self.population,
            elite=self.elite,
            parents=self.parents,
            crossover=self.crossover,
            speciation=self.speciation,
            structure=self.structure,
        )
        return GeneticStrategy(
            spec, mutator, options, seed=self.seed, initial=initial, ancestor=ancestor
        )
