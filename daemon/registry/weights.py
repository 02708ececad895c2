"""A weights target: a torch network whose weights are evolved on a gymnasium environment.

See docs/weights.md.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from daemon.registry.sections import (
    CycleDuration,
    SandboxSpec,
    Schedule,
    TriggerSpec,
    _Strict,
    _Target,
)

if TYPE_CHECKING:  # numpy and the neuroevolution library load only when a weights target does
    from policies.neuro.config import EvolutionConfig
    from policies.neuro.structure import StructureOptions

ENTRY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")
WEIGHTS_SUFFIXES = (".safetensors", ".pt", ".pth")
FIXED_SHAPE = ("es", "cmaes")
"""Methods that search one distribution over a fixed network, with no genomes to cross."""
MIN_HOLDOUT = 30
"""Held-out episodes acceptance needs at least (`policies.neuro.accept.MIN_EPISODES`)."""


class EvaluationSpec(_Strict):
    """How weights are scored: episodes per genome, held-out episodes, episode length."""

    episodes: int = Field(5, ge=1, le=1000)
    """Training episodes per genome and generation (seeds drawn afresh each generation)."""
    holdout: int = Field(100, ge=MIN_HOLDOUT, le=10_000)
    """Held-out episodes (seeds never trained on) that decide acceptance, and as many again
    that verify a commit."""
    validation: int = Field(20, ge=0, le=1000)
    """Held-out episodes that pick the candidate among the run's finalists (0: the champion)."""
    max_steps: int | None = Field(None, gt=0)
    """Cut episodes at this many steps; unset keeps the environment's own limit."""


class StructureSpec(_Strict):
    """Structural growth and pruning of the hidden layers (`policies.neuro.structure`)."""

    add_neuron: float = Field(0.05, ge=0, le=1)
    """Probability that a child gains a neuron in a random hidden layer."""
    remove_neuron: float = Field(0.05, ge=0, le=1)
    """Probability that a child loses its least used neuron of a random hidden layer."""
    add_layer: float = Field(0.01, ge=0, le=1)
    remove_layer: float = Field(0.01, ge=0, le=1)
    max_width: int = Field(64, ge=1)
    max_layers: int = Field(3, ge=0)
    parsimony: float = Field(0.0, ge=0)
    """Training return removed per policy parameter: a larger network must earn its keep."""

    @model_validator(mode="after")
    def _probabilities(self) -> StructureSpec:
        edits = (self.add_neuron, self.remove_neuron, self.add_layer, self.remove_layer)
        if sum(edits) > 1:
            raise ValueError(f"the four edit probabilities must sum to <= 1, got {sum(edits):g}")
        return self

    def options(self) -> StructureOptions:
        """The library's options."""
        from policies.neuro.structure import StructureOptions

        return StructureOptions(**self.model_dump())


class EvolutionSpec(_Strict):
    """How a weights target's population is searched (`policies.neuro.config`)."""

    method: Literal["dualmixture", "gaussian", "es", "cmaes"] = "dualmixture"
    """dualmixture: self-referential mutators; gaussian: plain mutation; es: OpenAI-ES;
    cmaes: CMA-ES (pycma; a diagonal covariance above 2,000 parameters)."""
    population: int = Field(32, ge=3, le=10_000)
    seed: int = 0
    """Seeds each run, together with the number of the cycle that starts it."""
    elite: int = Field(2, ge=0)
    """Best genomes copied unchanged into the next generation."""
    parents: float = Field(0.25, gt=0, le=1)
    """Fraction of each species, best first, that may have children."""
    crossover: float = Field(0.0, ge=0, le=1)
    """Probability of a two-parent child (learned crossover with dualmixture)."""
    speciation: bool = False
    """Learned speciation by the genomes' compatibility networks."""
    structure: StructureSpec | None = None
    """Grow and prune hidden layers; leave the table out to keep the shape fixed."""
    sigma: float = Field(0.05, gt=0)
    """Mutation sigma (gaussian) or perturbation sigma (es)."""
    lr: float = Field(0.03, gt=0)
    """Step size (es)."""
    restarts: int = Field(0, ge=0, le=10)
    """cmaes: IPOP restarts at most, each with `growth` times the population, when the
    search stalls (0: none; the best genomes of earlier restarts are kept)."""
    stall: int = Field(20, ge=1)
    """cmaes: restart once the population's median return, averaged over this many
    generations, is no better than over as many before (or pycma's own criteria stop it)."""
    growth: int = Field(2, ge=1, le=4)
    """cmaes: factor of the population at each restart (2: IPOP-CMA-ES)."""

    @model_validator(mode="after")
    def _consistent(self) -> EvolutionSpec:
        if self.elite >= self.population:
            raise ValueError(f"elite {self.elite} must be below population {self.population}")
        if self.method in FIXED_SHAPE and (self.structure or self.speciation or self.crossover):
            raise ValueError(
                f"method {self.method!r} has a fixed shape and no genomes to cross: use "
                "dualmixture or gaussian for structure, speciation or crossover"
            )
        if self.restarts and self.method != "cmaes":
            raise ValueError(f"restarts are a cmaes option; method {self.method!r} has none")
        return self

    def config(self, **run: Any) -> EvolutionConfig:
        """The library's settings, with the run's budget and seed (`run`) added."""
        from policies.neuro.config import EvolutionConfig

        values = self.model_dump(exclude={"structure"})
        structure = self.structure.options() if self.structure else None
        try:
            return EvolutionConfig(**{**values, "structure": structure, **run})
        except ValueError as exc:
            raise ValueError(str(exc)) from None


class WeightsBudget(_Strict):
    """What one cycle of a weights target may spend on evolution: the first limit reached."""

    generations: int | None = Field(30, gt=0, le=1_000_000)
    seconds: CycleDuration = 600.0
    """Wall-clock seconds of evolution, over every resumption of an interrupted run."""
    env_steps: int | None = Field(None, gt=0)
    stop_at: float | None = None
    """Stop early once a generation's best training return reaches this (a solved task)."""


class AcceptanceSpec(_Strict):
    """When new weights replace the committed ones (`policies.neuro.accept`)."""

    margin: float = Field(0.0, ge=0)
    """Return the new weights must gain beyond the noise (lower confidence bound > margin)."""
    z: float = Field(1.96, gt=0)
    """Width of that bound in standard errors (1.96: about 97.5% one-sided)."""


def _entry(value: Any) -> str:
    if not isinstance(value, str) or not ENTRY.match(value):
        raise ValueError(f"expected 'module:Class' (e.g. 'policy:Policy'), got {value!r}")
    return value


def _weights_path(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a path inside the repository, got {value!r}")
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or not path.name:
        raise ValueError(f"expected a path inside the repository, got {value!r}")
    if path.suffix not in WEIGHTS_SUFFIXES:
        raise ValueError(
            f"expected a {', '.join(WEIGHTS_SUFFIXES)} file (safetensors, or a torch "
            f"state dict with a .json metadata file beside it), got {value!r}"
        )
    return str(path)


class WeightsTarget(_Target):
    """A torch network whose weights are evolved on a gymnasium environment."""

    kind: Literal["weights"]
    env: str = Field(min_length=1, pattern=r"^\S+$")
    """A gymnasium environment id, e.g. ``CartPole-v1``."""
    env_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Keyword arguments of ``gymnasium.make``."""
    network: Annotated[str, BeforeValidator(_entry)]
    """The torch module, ``module:Class`` in the repository, built as ``Class(**network_kwargs)``
    (the key was ``policy`` before; that name is still read, with a deprecation warning)."""
    network_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Constructor arguments; a weights file's own ``policy_kwargs`` metadata overrides them."""
    weights: Annotated[str, BeforeValidator(_weights_path)]
    """The weights file the target owns, relative to the repo (created by the first commit)."""
    schedule: Schedule = Schedule(every=3600.0)
    trigger: TriggerSpec = TriggerSpec(policy="change-rule")
    sandbox: SandboxSpec = SandboxSpec(memory="1g", timeout="300s", parallel=2)
    evaluation: EvaluationSpec = EvaluationSpec()
    budget: WeightsBudget = WeightsBudget()
    evolution: EvolutionSpec = EvolutionSpec()
    acceptance: AcceptanceSpec = AcceptanceSpec()

    @property
    def metadata(self) -> str | None:
        """The metadata file beside a torch state dict (``.json``); None for safetensors."""
        if self.weights.endswith(".safetensors"):
            return None
        return str(PurePosixPath(self.weights).with_suffix(".json"))

    @property
    def owned(self) -> list[str]:
        """The files the target's commits write: the weights, and their metadata if separate."""
        return [self.weights, *([self.metadata] if self.metadata else [])]
