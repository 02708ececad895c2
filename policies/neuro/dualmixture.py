"""DualMixture: a self-referential mutator that rewrites the whole genome, itself included.

The genome's vector (policy, then this mutator's own weights, then the
compatibility network) is cut into chunks of 64 weights. For each chunk:

1. an **encoder** maps the 64 weights to an 8-number code;
2. a **corrector** compares the code with a learned **reference** (their
   difference, plus a little noise and whether the chunk is policy or not),
   and outputs a drift for each of the 64 weights;
3. the delta is ``scale * tanh(drift + gain * noise)``: a mixture of the learned
   drift and fresh noise, **bounded** by the scale. Policy weights and mutator
   weights have **separate scales**, both evolved; the mutator's control genes
   (scales, escape, gain) move at a bounded multiple of the mutator scale so
   that they can evolve within a few dozen generations.

With probability ``p_escape``, itself a gene, the policy's learned delta is
replaced by a plain **Gaussian escape** (an evolved sigma), a way out when the
learned drift is stuck. Because the mutator's weights are among those it
rewrites, a child's mutator is its parent's mutator as rewritten by that same
parent: selection on the policy's fitness carries the mutators that made good
children along with them.

**Learned crossover**: with a mate, each chunk of the child is
``alpha * a + (1 - alpha) * b``, ``alpha`` computed by a small head from both
parents' codes, so the mutator sees both parents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .genome import Genome
from .network import MLPSpec

CHUNK = 64
CODE = 8
NOISE = 4
HIDDEN = 16
MAX_DELTA = 0.5
"""No non-escape delta is larger than this, whatever the genes say."""
CONTROL_RATE = 20.0
"""Control genes move this many times the mutator scale (capped at MAX_DELTA)."""
P_ESCAPE = (0.001, 0.5)
"""Bounds of the escape probability."""

LAYOUT: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("enc_w", (CODE, CHUNK)),
    ("enc_b", (CODE,)),
    ("ref", (CODE,)),
    ("cor_w1", (HIDDEN, CODE + NOISE + 1)),
    ("cor_b1", (HIDDEN,)),
    ("cor_w2", (CHUNK, HIDDEN)),
    ("cor_b2", (CHUNK,)),
    ("mix_w", (2 * CODE,)),
    ("mix_b", (1,)),
    ("control", (5,)),  # scale_policy, scale_mutator, escape, escape_sigma, noise_gain (raw)
)
SIZE = sum(int(np.prod(shape)) for _, shape in LAYOUT)
CONTROL = SIZE - 5
"""Index of the first control gene within the mutator vector."""


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def _sigmoid(x: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class Controls:
    """The mutator's control genes, decoded into the numbers they stand for."""

    scale_policy: float
    scale_mutator: float
    escape_p: float
    escape_sigma: float
    noise_gain: float

    @classmethod
    def decode(cls, raw: np.ndarray) -> Controls:
        """From the five raw genes."""
        r = raw.astype(np.float64)
        return cls(
            scale_policy=float(MAX_DELTA * _sigmoid(r[0])),
            scale_mutator=float(MAX_DELTA * _sigmoid(r[1])),
            escape_p=float(np.clip(_sigmoid(r[2]), *P_ESCAPE)),
            escape_sigma=float(np.exp(np.clip(r[3], -6.0, 0.0))),
            noise_gain=float(np.exp(np.clip(r[4], -3.0, 2.0))),
        )


@dataclass(frozen=True)
class DualMixture:
    """The mutator object holds only initial values; its weights live in each genome."""

    scale_policy: float = 0.15
    scale_mutator: float = 0.01
    escape_p: float = 0.05
    escape_sigma: float = 0.3
    kind: str = "dualmixture"

    def __post_init__(self) -> None:
        for name in ("scale_policy", "scale_mutator"):
            value = getattr(self, name)
            if not 0 < value < MAX_DELTA:
                raise ValueError(f"{name} must lie in (0, {MAX_DELTA}), got {value}")
        if not P_ESCAPE[0] <= self.escape_p <= P_ESCAPE[1]:
            raise ValueError(f"escape_p must lie in {P_ESCAPE}, got {self.escape_p}")

    # --- weights -----------------------------------------------------------------------

    def init_params(self, rng: np.random.Generator) -> np.ndarray:
        """Initial mutator weights: small drift, so it starts close to bounded noise."""
        parts = {
            "enc_w": rng.normal(0.0, 1.0 / np.sqrt(CHUNK), (CODE, CHUNK)),
            "enc_b": np.zeros(CODE),
            "ref": rng.normal(0.0, 0.1, CODE),
            "cor_w1": rng.normal(0.0, 1.0 / np.sqrt(CODE + NOISE + 1), (HIDDEN, CODE + NOISE + 1)),
            "cor_b1": np.zeros(HIDDEN),
            "cor_w2": rng.normal(0.0, 0.05, (CHUNK, HIDDEN)),
            "cor_b2": np.zeros(CHUNK),
            "mix_w": rng.normal(0.0, 0.1, 2 * CODE),
            "mix_b": np.zeros(1),
            "control": np.array(
                [
                    _logit(self.scale_policy / MAX_DELTA),
                    _logit(self.scale_mutator / MAX_DELTA),
                    _logit(self.escape_p),
                    float(np.log(self.escape_sigma)),
                    0.0,
                ]
            ),
        }
        return np.concatenate([parts[name].ravel() for name, _ in LAYOUT]).astype(np.float32)

    @staticmethod
    def unpack(mutator: np.ndarray) -> dict[str, np.ndarray]:
        """The named weights of a mutator vector (float64 copies)."""
        if mutator.size != SIZE:
            raise ValueError(f"a DualMixture mutator has {SIZE} weights, got {mutator.size}")
        out, at = {}, 0
        for name, shape in LAYOUT:
            count = int(np.prod(shape))
            out[name] = mutator[at : at + count].astype(np.float64).reshape(shape)
            at += count
        return out

    def new(
        self, spec: MLPSpec, rng: np.random.Generator, policy: np.ndarray | None = None
    ) -> Genome:
        """A first-generation genome."""
        weights = spec.init(rng) if policy is None else policy
        return Genome(spec, weights, self.init_params(rng), kind=self.kind)

    # --- mutation ----------------------------------------------------------------------

    @staticmethod
    def _chunks(x: np.ndarray) -> np.ndarray:
        padded = np.zeros(-(-x.size // CHUNK) * CHUNK)
        padded[: x.size] = x
        return padded.reshape(-1, CHUNK)

    @staticmethod
    def _encode(w: dict[str, np.ndarray], chunks: np.ndarray) -> np.ndarray:
        return np.tanh(chunks @ w["enc_w"].T + w["enc_b"])

    def crossover(self, parent: Genome, mate: Genome) -> np.ndarray:
        """The blended vector of two parents of the same shape, per chunk, as `parent` sees it."""
        w = self.unpack(parent.mutator)
        a, b = parent.vector().astype(np.float64), mate.vector().astype(np.float64)
        ca, cb = self._chunks(a), self._chunks(b)
        ea, eb = self._encode(w, ca), self._encode(w, cb)
        alpha = _sigmoid(np.hstack([ea - eb, (ea + eb) / 2 - w["ref"]]) @ w["mix_w"] + w["mix_b"])
        return (alpha[:, None] * ca + (1.0 - alpha[:, None]) * cb).ravel()[: a.size]

    def mutate(
        self, parent: Genome, rng: np.random.Generator, mate: Genome | None = None
    ) -> tuple[Genome, dict[str, float]]:
        """A child: the parent's mutator rewrites the (crossed) genome, its own weights included."""
        w = self.unpack(parent.mutator)
        ctl = Controls.decode(w["control"])
        crossed = mate is not None and mate.spec == parent.spec and mate.sizes == parent.sizes
        x = self.crossover(parent, mate) if crossed else parent.vector().astype(np.float64)
        n, n_policy = x.size, parent.policy.size
        chunks = self._chunks(x)
        pos = np.arange(chunks.size)
        tag = (pos >= n_policy).reshape(chunks.shape).mean(axis=1, keepdims=True)
        # Encoder, then the corrector compares each chunk's code with the reference.
        code = self._encode(w, chunks)
        z = rng.standard_normal((chunks.shape[0], NOISE))
        hidden = np.tanh(np.hstack([code - w["ref"], z, tag]) @ w["cor_w1"].T + w["cor_b1"])
        drift = hidden @ w["cor_w2"].T + w["cor_b2"]
        noise = rng.standard_normal(chunks.shape)
        unit = np.tanh(drift + ctl.noise_gain * noise).ravel()[:n]
        # Separate scales: policy, mutator (and compat) weights, and the control genes.
        scale = np.where(pos[:n] < n_policy, ctl.scale_policy, ctl.scale_mutator)
        control = slice(n_policy + CONTROL, n_policy + SIZE)
        scale[control] = min(MAX_DELTA, ctl.scale_mutator * CONTROL_RATE)
        delta = unit * scale
        # The Gaussian escape, with the genome's own probability.
        escaped = bool(rng.random() < ctl.escape_p)
        if escaped:
            delta[:n_policy] = rng.normal(0.0, ctl.escape_sigma, n_policy)
        child = parent.with_vector((x + delta).astype(np.float32))
        return child, {
            "escaped": float(escaped),
            "crossed": float(crossed),
            "delta_policy": float(np.sqrt(np.mean(delta[:n_policy] ** 2))),
            "delta_mutator": float(np.sqrt(np.mean(delta[n_policy:] ** 2))),
        }

    def stats(self, genomes: list[Genome]) -> dict[str, float]:
        """Means of the decoded control genes over a population."""
        controls = [Controls.decode(g.mutator[CONTROL:SIZE]) for g in genomes if g.mutator.size]
        if not controls:
            return {}
        return {
            name: float(np.mean([getattr(c, name) for c in controls]))
            for name in ("escape_p", "scale_policy", "scale_mutator", "escape_sigma", "noise_gain")
        }
