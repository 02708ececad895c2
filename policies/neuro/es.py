"""OpenAI-ES (Salimans et al., 2017): the standard evolution strategy baseline.

A search distribution N(center, sigma^2 I) over the policy's weights. Each
generation evaluates the center and k antithetic pairs center +- sigma*eps;
the fitness-weighted sum of the eps (centered ranks, so only the order of
returns matters) estimates the gradient, and Adam moves the center. No
mutator, no structure: the shape is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .genome import Genome
from .network import MLPSpec
from .strategy import Searcher, centered_ranks


@dataclass(frozen=True)
class ESOptions:
    """Options of OpenAI-ES."""

    population: int = 65
    """Center plus (population - 1) // 2 antithetic pairs."""
    sigma: float = 0.05
    """Standard deviation of the perturbations."""
    lr: float = 0.03
    """Adam's step size."""
    weight_decay: float = 0.005
    """L2 pull of the center toward zero, as in the paper."""
    beta1: float = 0.9
    beta2: float = 0.999

    def __post_init__(self) -> None:
        if self.population < 3 or self.sigma <= 0 or self.lr <= 0:
            raise ValueError(f"need population >= 3, sigma > 0, lr > 0: {self}")


class OpenAIES(Searcher):
    """The strategy; genomes carry only a policy (kind ``es``)."""

    kind = "es"

    def __init__(
        self,
        spec: MLPSpec,
        options: ESOptions | None = None,
        seed: int = 0,
        initial: np.ndarray | None = None,
    ) -> None:
        """Start at `initial` policy weights, or at fresh ones."""
        super().__init__(seed)
        self.spec = spec
        self.options = options or ESOptions()
        self.center = (spec.init(self.rng) if initial is None else initial).astype(np.float64)
        self.m = np.zeros_like(self.center)
        self.v = np.zeros_like(self.center)
        self._eps: np.ndarray | None = None

    @property
    def pairs(self) -> int:
        """Antithetic pairs per generation."""
        return (self.options.population - 1) // 2

    def _genome(self, weights: np.ndarray) -> Genome:
        return Genome(self.spec, weights.astype(np.float32), kind="es")

    def ask(self) -> list[Genome]:
        """The center, then center + sigma*eps and center - sigma*eps for each pair."""
        if self._eps is None:
            self._eps = self.rng.standard_normal((self.pairs, self.center.size))
        sigma = self.options.sigma
        out = [self._genome(self.center)]
        for eps in self._eps:
            out += [
                self._genome(self.center + sigma * eps),
                self._genome(self.center - sigma * eps),
            ]
        return out

    def tell(self, fitness: np.ndarray) -> dict[str, float]:
        """One Adam step along the estimated gradient of the mean return."""
        opts = self.options
        f = np.asarray(fitness, dtype=np.float64)
        f = np.where(np.isfinite(f), f, np.min(f[np.isfinite(f)], initial=0.0) - 1.0)
        asked = self.ask()
        top = int(np.argmax(f))
        self._best = (asked[top], float(f[top]))
        ranks = centered_ranks(f[1:])
        weights = ranks[0::2] - ranks[1::2]
        grad = weights @ self._eps / (2 * self.pairs * opts.sigma) - opts.weight_decay * self.center
        self.generation += 1
        t = self.generation
        self.m = opts.beta1 * self.m + (1 - opts.beta1) * grad
        self.v = opts.beta2 * self.v + (1 - opts.beta2) * grad**2
        m_hat = self.m / (1 - opts.beta1**t)
        v_hat = self.v / (1 - opts.beta2**t)
        self.center = self.center + opts.lr * m_hat / (np.sqrt(v_hat) + 1e-8)
        self._eps = None
        return {"sigma": opts.sigma, "grad_norm": float(np.linalg.norm(grad))}

    def state_dict(self) -> dict[str, Any]:
        """Center, Adam moments, pending perturbations, random state."""
        return {
            **self._common_state(),
            "center": self.center,
            "m": self.m,
            "v": self.v,
            "eps": self._eps,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a state."""
        self._load_common(state)
        self.center, self.m, self.v = state["center"], state["m"], state["v"]
        self._eps = state["eps"]
