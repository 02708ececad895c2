"""CMA-ES (Hansen and Ostermeier, 2001) through pycma: the standard strong baseline.

A search distribution N(mean, sigma^2 C) over the policy's weights whose
covariance C and step size sigma adapt to the landscape (evolution paths,
rank-mu update, cumulative step-size adaptation). ``cma.CMAEvolutionStrategy``
does the work; it minimises, so fitness is negated. Each generation evaluates
the mean (pycma's recommended solution, and the "center" a cycle keeps as a
finalist, as the ES does) plus ``population - 1`` samples. Above
`DIAGONAL_ABOVE` parameters, the full C (n^2 memory, an n^3 eigendecomposition)
gives way to the separable variant, a diagonal C (``CMA_diagonal``), linear in
n. No mutator, no structure: the shape is fixed.

Checkpoints are replays, not snapshots. pycma keeps its state in dozens of
attributes (paths, sampler, eigensystem bookkeeping, histories) that change
between releases, and checkpoints here hold only arrays and JSON (no pickle).
So the state holds what determines the run: the start (mean, sigma, options,
random state) and every fitness vector told. A resume rebuilds the strategy
and replays ask/tell, which reproduces it bit for bit, since sampling draws only
from the strategy's own generator (never numpy's global one). Replay costs what
the run's own ask/tell cost, without episodes (one BLAS thread): about 3 ms a
generation for CartPole's 114 weights, 0.1 s for LunarLander's 1,476 with the
full covariance, 5 ms for them diagonal. The replayed random state and mean are
checked against the recorded ones; a mismatch (another pycma, numpy or BLAS) is
logged and the run goes on from the replayed, equally valid, distribution.

IPOP-CMA-ES (Auger and Hansen, 2005), where `CMAOptions.restarts` allows it:
when the population's median return, averaged over `CMAOptions.stall`
generations, is no better than over the `stall` generations before, or pycma's
own criteria stop it (step size collapsed, flat
fitness...), the search starts again with `growth` times the population, from
the run's start (the committed weights) or, for a run from random weights, from
fresh random ones. A larger population searches more globally and escapes the
local optima (a lander that only crashes) a single run stays in. Restarts are
decided from the told fitness alone, so a replay decides them again, identically;
the best genomes of earlier restarts are the evolution loop's to keep (its
champion and its best validated genome).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from .genome import Genome
from .network import MLPSpec
from .strategy import Searcher

log = logging.getLogger(__name__)

DIAGONAL_ABOVE = 2_000
"""Above this many parameters the covariance is diagonal (separable CMA-ES) by default:
a full one costs about 0.1 s a generation at 1,476 weights, 1.2 s at 5,000."""


@dataclass(frozen=True)
class CMAOptions:
    """Options of CMA-ES."""

    population: int = 33
    """The mean plus (population - 1) samples, pycma's lambda."""
    sigma: float = 0.05
    """Initial step size; CMA-ES adapts it."""
    diagonal: bool | None = None
    """Diagonal covariance (separable CMA-ES); None: above `DIAGONAL_ABOVE` parameters."""
    restarts: int = 0
    """IPOP: restarts at most, each with `growth` times the population (0: never restart)."""
    stall: int = 20
    """Restart when the population's median return, averaged over this many generations,
    is no better than over as many before (so never before twice this many)."""
    growth: int = 2
    """Factor of the population at each restart (2: IPOP; 1: plain restarts)."""

    def __post_init__(self) -> None:
        if self.population < 3 or not self.sigma > 0:
            raise ValueError(f"need population >= 3 and sigma > 0: {self}")
        if self.restarts < 0 or self.stall < 1 or self.growth < 1:
            raise ValueError(f"need restarts >= 0, stall >= 1 and growth >= 1: {self}")

    def population_after(self, restarts: int) -> int:
        """The population after `restarts` restarts."""
        return self.population * self.growth**restarts

    def separable(self, size: int) -> bool:
        """Whether a policy of `size` parameters gets the diagonal variant."""
        return size > DIAGONAL_ABOVE if self.diagonal is None else self.diagonal


class CMAES(Searcher):
    """The strategy; genomes carry only a policy (kind ``cmaes``)."""

    kind = "cmaes"

    def __init__(
        self,
        spec: MLPSpec,
        options: CMAOptions | None = None,
        seed: int = 0,
        initial: np.ndarray | None = None,
    ) -> None:
        """Start at `initial` policy weights, or at fresh ones drawn like the other methods'."""
        super().__init__(seed)
        self.spec = spec
        self.options = options or CMAOptions()
        start = spec.init(self.rng) if initial is None else initial
        self.x0 = np.asarray(start, dtype=np.float64).copy()
        if self.x0.size != spec.size:
            raise ValueError(f"{self.x0.size} initial weights do not fit {spec}")
        self.diagonal = self.options.separable(spec.size)
        self.from_random = initial is None
        self._start_rng = self.rng.bit_generator.state
        self.told = np.zeros(0)
        """Every told fitness value, generation after generation (sizes follow the restarts)."""
        self._pending: list[np.ndarray] | None = None
        self._begin()

    @property
    def population(self) -> int:
        """Genomes of the current generation: the initial population, grown by each restart."""
        return self.options.population_after(self.restarts)

    def _begin(self) -> None:
        """Generation 0 of the run: no restart yet, the search centred on `x0`."""
        self.restarts = 0
        self._medians: list[float] = []
        self.es = self._fresh(self.x0)

    def _randn(self, lam: int, n: int) -> np.ndarray:
        return self.rng.standard_normal((lam, n))

    def _fresh(self, start: np.ndarray) -> Any:
        """A fresh pycma strategy at `start`, sampling from `self.rng` (never np.random)."""
        import cma  # the weights extra; imported here so the package loads without it

        opts = {
            "popsize": self.population - 1,
            "CMA_diagonal": self.diagonal,
            "randn": self._randn,
            "seed": np.nan,
            "verbose": -9,  # pycma's silence: no prints, no files
            "verb_disp": 0,
            "verb_log": 0,
            "verb_time": False,
        }
        return cma.CMAEvolutionStrategy(start.copy(), self.options.sigma, opts)

    def _genome(self, weights: np.ndarray) -> Genome:
        return Genome(self.spec, weights.astype(np.float32), kind="cmaes")

    def _samples(self) -> list[np.ndarray]:
        if self._pending is None:
            self._pending = [np.asarray(x) for x in self.es.ask()]
        return self._pending

    def ask(self) -> list[Genome]:
        """The mean, then pycma's `population - 1` samples."""
        return [self._genome(self.es.mean), *(self._genome(x) for x in self._samples())]

    def _step(self, fitness: np.ndarray) -> None:
        """Tell pycma the samples' fitness (the mean's excluded), negated: it minimises.

        Then restart if the search stalled: a run and its replay decide alike.
        """
        self.es.tell(self._samples(), list(-fitness[1:]))
        self._pending = None
        if self._stalled(fitness):
            self._restart()

    def _stalled(self, fitness: np.ndarray) -> bool:
        """Whether a restart is due: the median return stopped rising, or pycma stops.

        The population's median, averaged over a window of `stall` generations and
        compared with the window before: a best of a few noisy episodes keeps rising
        by luck, and a record of single medians, set once by luck, ends slow but real
        progress (measured: a lander seed that solved without restarts lost it).
        """
        if self.restarts >= self.options.restarts:
            return False
        self._medians.append(float(np.median(fitness)))
        window = self.options.stall
        if len(self._medians) >= 2 * window:
            recent, before = self._medians[-window:], self._medians[-2 * window : -window]
            if np.mean(recent) <= np.mean(before):
                return True
        return bool(self.es.stop())

    def _restart(self) -> None:
        """A new search with a larger population, from the run's start or fresh random weights."""
        self.restarts += 1
        self._medians = []
        start = self.spec.init(self.rng) if self.from_random else self.x0
        self.es = self._fresh(np.asarray(start, dtype=np.float64))
        log.info("CMA-ES restart %d: population %d", self.restarts, self.population)

    def tell(self, fitness: np.ndarray) -> dict[str, float]:
        """Update mean, covariance and step size from the ranking of the samples."""
        f = np.asarray(fitness, dtype=np.float64)
        if f.size != self.population:
            raise ValueError(f"{f.size} fitness values for {self.population} genomes")
        f = np.where(np.isfinite(f), f, np.min(f[np.isfinite(f)], initial=0.0) - 1.0)
        asked = self.ask()
        top = int(np.argmax(f))
        self._best = (asked[top], float(f[top]))
        self.told = np.concatenate([self.told, f])
        self._step(f)
        self.generation += 1
        stats = {
            "sigma": float(self.es.sigma),
            "step": float(np.mean(self.es.stds)),
            "diagonal": float(self.diagonal),
        }
        if self.options.restarts:
            stats.update(restarts=float(self.restarts), population=float(self.population))
        return stats

    def state_dict(self) -> dict[str, Any]:
        """The start, every told fitness vector, and the mean and random state to check."""
        return {
            **self._common_state(),
            "x0": self.x0,
            "sigma0": self.options.sigma,
            "population": self.options.population,
            "diagonal": self.diagonal,
            "max_restarts": self.options.restarts,
            "stall": self.options.stall,
            "growth": self.options.growth,
            "from_random": self.from_random,
            "restarts": self.restarts,
            "start_rng": self._start_rng,
            "told": self.told,
            "pending": self._pending is not None,
            "mean": np.asarray(self.es.mean, dtype=np.float64),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Rebuild from the start and replay every told generation."""
        self._load_common(state)
        recorded_rng = self.rng.bit_generator.state
        self.x0 = np.asarray(state["x0"], dtype=np.float64)
        if self.x0.size != self.spec.size:
            raise ValueError(f"a state of {self.x0.size} weights cannot resume {self.spec}")
        self.diagonal = bool(state["diagonal"])
        self.options = _options(state)
        self.from_random = bool(state.get("from_random", False))
        self._start_rng = state["start_rng"]
        self.told = np.asarray(state["told"], dtype=np.float64).reshape(-1)
        self._replay(bool(state["pending"]))
        same_rng = self.rng.bit_generator.state == recorded_rng
        same_restarts = self.restarts == int(state.get("restarts", 0))
        if not (same_rng and same_restarts and np.array_equal(self.es.mean, state["mean"])):
            log.warning("CMA-ES replay diverged from the checkpoint (another pycma or numpy?)")

    def _replay(self, pending: bool) -> None:
        """Rebuild pycma's state after the told generations (and the pending samples, if any)."""
        self.rng.bit_generator.state = self._start_rng
        self._pending = None
        self._begin()
        done = 0
        while done < self.told.size:  # each generation as large as the restarts made it
            size = self.population
            if done + size > self.told.size:
                raise ValueError(f"{self.told.size} told values do not fill whole generations")
            self._step(self.told[done : done + size])
            done += size
        if pending:
            self._samples()


def _options(state: dict[str, Any]) -> CMAOptions:
    """The run's own options, as its state recorded them (states before restarts have none)."""
    return CMAOptions(
        population=int(state["population"]),
        sigma=float(state["sigma0"]),
        diagonal=bool(state["diagonal"]),
        restarts=int(state.get("max_restarts", 0)),
        stall=int(state.get("stall", CMAOptions.stall)),
        growth=int(state.get("growth", CMAOptions.growth)),
    )
