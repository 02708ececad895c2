"""The searcher: proposes a population, is told its fitness, proposes the next.

Every search method (the genetic algorithm with any mutator, the evolution
strategy) has the same interface, so the evolution loop, checkpoints and
benchmarks treat them alike. A strategy owns its random generator and puts it
in `state_dict`, so a run restored from a checkpoint continues bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .genome import Genome
from .mutator import Mutator
from .network import MLPSpec
from .speciation import init_compat, speciate
from .structure import StructureOptions, grow_or_prune


class Strategy(Protocol):
    """A search method: ``ask`` for genomes, ``tell`` their fitness, repeat."""

    generation: int

    def ask(self) -> list[Genome]:
        """The genomes to evaluate now (the same list until `tell`)."""
        ...

    def tell(self, fitness: np.ndarray) -> dict[str, float]:
        """Fitness (mean return) of each asked genome; numbers for the training curve."""
        ...

    def best(self) -> tuple[Genome, float]:
        """The best genome of the last told generation and its fitness."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: arrays and plain values."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from `state_dict`'s output."""
        ...


@dataclass(frozen=True)
class GAOptions:
    """Options of the genetic algorithm."""

    population: int = 64
    elite: int = 2
    """Best genomes copied unchanged into the next generation (and evaluated again)."""
    parents: float = 0.25
    """Fraction of each species, best first, that may have children."""
    crossover: float = 0.0
    """Probability that a child has two parents (learned crossover with DualMixture)."""
    speciation: bool = False
    """Split the population by the genomes' compatibility networks, with fitness sharing."""
    structure: StructureOptions | None = None
    """Grow and prune hidden layers; None keeps the shape fixed."""

    def __post_init__(self) -> None:
        if self.population < 2 or not 0 <= self.elite < self.population:
            raise ValueError(f"need population >= 2 and 0 <= elite < population: {self}")
        if not 0 < self.parents <= 1 or not 0 <= self.crossover <= 1:
            raise ValueError(f"parents must lie in (0, 1] and crossover in [0, 1]: {self}")


def centered_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks scaled to [-0.5, 0.5], ties broken by position (stable)."""
    ranks = np.empty(values.size)
    ranks[np.argsort(values, kind="stable")] = np.arange(values.size)
    return ranks / max(1, values.size - 1) - 0.5


def _quotas(weights: np.ndarray, total: int) -> np.ndarray:
    """Split `total` in proportion to `weights`, by largest remainders."""
    share = weights / weights.sum() * total
    quota = np.floor(share).astype(int)
    for i in np.argsort(-(share - quota), kind="stable")[: total - quota.sum()]:
        quota[i] += 1
    return quota


class Searcher:
    """What every strategy here shares: a generation count, a random generator, the best."""

    kind = ""
    """Tag of the state dicts, so one method's state is never loaded into another."""

    def __init__(self, seed: int) -> None:
        """A generator seeded with `seed`."""
        self.rng = np.random.default_rng(seed)
        self.generation = 0
        self._best: tuple[Genome, float] | None = None

    def best(self) -> tuple[Genome, float]:
        """Best genome of the last told generation, and its fitness."""
        if self._best is None:
            raise RuntimeError("best() before the first tell()")
        return self._best

    def _common_state(self) -> dict[str, Any]:
        best = None if self._best is None else [self._best[0].to_state(), self._best[1]]
        return {
            "kind": self.kind,
            "generation": self.generation,
            "rng": self.rng.bit_generator.state,
            "best": best,
        }

    def _load_common(self, state: dict[str, Any]) -> None:
        if state.get("kind") != self.kind:
            raise ValueError(f"a {state.get('kind')!r} state cannot resume a {self.kind!r} run")
        self.generation = int(state["generation"])
        self.rng.bit_generator.state = state["rng"]
        best = state["best"]
        self._best = None if best is None else (Genome.from_state(best[0]), float(best[1]))


class GeneticStrategy(Searcher):
    """Truncation selection with elitism; children made by the genome's mutator."""

    kind = "ga"

    def __init__(
        self,
        spec: MLPSpec,
        mutator: Mutator,
        options: GAOptions | None = None,
        seed: int = 0,
        initial: np.ndarray | None = None,
        ancestor: Genome | None = None,
    ) -> None:
        """Start a population: random, or around `initial` policy weights (kept as member 0).

        With `ancestor` (a genome of an earlier run, same mutator kind), member 0
        inherits its mutator and compatibility networks, so mutators keep evolving
        from run to run; with `initial`, the rest of the population are its children.
        """
        super().__init__(seed)
        self.mutator = mutator
        self.options = options or GAOptions()
        first = mutator.new(spec, self.rng, initial)
        if self.options.speciation:
            first = Genome(
                first.spec, first.policy, first.mutator, init_compat(self.rng), first.kind
            )
        if ancestor is not None:
            if ancestor.kind != first.kind or ancestor.mutator.size != first.mutator.size:
                raise ValueError(
                    f"an ancestor with a {ancestor.kind!r} mutator of {ancestor.mutator.size} "
                    f"weights cannot seed a {first.kind!r} run ({first.mutator.size})"
                )
            compat = ancestor.compat if ancestor.compat.size == first.compat.size else first.compat
            first = Genome(first.spec, first.policy, ancestor.mutator, compat, first.kind)
        if initial is None:
            population = [first] + [
                self._with_compat(mutator.new(spec, self.rng))
                for _ in range(self.options.population - 1)
            ]
        else:
            population = [first] + [
                mutator.mutate(first, self.rng)[0] for _ in range(self.options.population - 1)
            ]
        self.population: list[Genome] = population

    def _with_compat(self, genome: Genome) -> Genome:
        if not self.options.speciation:
            return genome
        return Genome(
            genome.spec, genome.policy, genome.mutator, init_compat(self.rng), genome.kind
        )

    def ask(self) -> list[Genome]:
        """The current population."""
        return list(self.population)

    def tell(self, fitness: np.ndarray) -> dict[str, float]:
        """Select, then breed the next population."""
        opts = self.options
        raw = np.asarray(fitness, dtype=np.float64)
        raw = np.where(np.isfinite(raw), raw, -np.inf)
        if len(raw) != len(self.population):
            raise ValueError(f"{len(raw)} fitness values for {len(self.population)} genomes")
        sizes = np.array([g.policy.size for g in self.population], dtype=np.float64)
        parsimony = opts.structure.parsimony if opts.structure else 0.0
        adjusted = raw - parsimony * sizes
        order = np.argsort(-adjusted, kind="stable")
        self._best = (self.population[order[0]], float(raw[order[0]]))
        species = speciate(self.population, order) if opts.speciation else [list(order)]
        # Fitness sharing: a species' share of children follows its mean rank, not its size.
        rank_weight = np.empty(len(raw))
        rank_weight[order] = np.linspace(1.0, 1.0 / len(raw), len(raw))
        quota = _quotas(
            np.array([rank_weight[s].mean() for s in species]), opts.population - opts.elite
        )
        children: list[Genome] = [self.population[i] for i in order[: opts.elite]]
        mutation_stats: list[dict[str, float]] = []
        structural = 0
        for members, count in zip(species, quota, strict=True):
            parents = members[: max(1, int(np.ceil(opts.parents * len(members))))]
            for _ in range(count):
                parent = self.population[parents[self.rng.integers(len(parents))]]
                mate = None
                if len(parents) > 1 and self.rng.random() < opts.crossover:
                    mate = self.population[parents[self.rng.integers(len(parents))]]
                child, stats = self.mutator.mutate(parent, self.rng, mate)
                if opts.structure:
                    child, op = grow_or_prune(child, opts.structure, self.rng)
                    structural += op is not None
                children.append(child)
                mutation_stats.append(stats)
        self.population = children
        self.generation += 1
        out = dict(self.mutator.stats(children))
        for key in ("escaped", "crossed"):
            values = [s[key] for s in mutation_stats if key in s]
            if values:
                out[f"{key}_rate"] = float(np.mean(values))
        out["species"] = float(len(species))
        out["params"] = float(np.mean([g.policy.size for g in children]))
        out["structural_edits"] = float(structural)
        return out

    def state_dict(self) -> dict[str, Any]:
        """Generation, random state, population, best."""
        return {**self._common_state(), "population": [g.to_state() for g in self.population]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a state."""
        self._load_common(state)
        self.population = [Genome.from_state(g) for g in state["population"]]
