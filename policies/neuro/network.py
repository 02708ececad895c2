"""The policy network's shape, and the structural edits evolution may make to it.

A policy is an MLP of linear layers (tanh between them) whose parameters are
kept as one flat float32 vector in ``torch.nn.Module.parameters()`` order:
weight (out x in) then bias, layer by layer. That order is what the gym runner
assigns, so a flat vector evolved here fits the target's own module. The edits
return a new spec and vector: adding a neuron or removing an unused one keeps
the function exactly; adding or removing a layer keeps it approximately.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from policies.errors import StructureError


@dataclass(frozen=True)
class MLPSpec:
    """Sizes of an MLP: observation in, hidden layers, one output per action."""

    obs_dim: int
    act_dim: int
    hidden: tuple[int, ...] = (16,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        if self.obs_dim < 1 or self.act_dim < 1 or any(h < 1 for h in self.hidden):
            raise StructureError(f"every layer needs at least one unit: {self}")

    @property
    def sizes(self) -> list[int]:
        """Widths from input to output."""
        return [self.obs_dim, *self.hidden, self.act_dim]

    def shapes(self) -> list[tuple[tuple[int, int], tuple[int]]]:
        """(weight shape, bias shape) of each linear layer, in order."""
        return [((b, a), (b,)) for a, b in itertools.pairwise(self.sizes)]

    @property
    def size(self) -> int:
        """Number of parameters."""
        return sum(b * a + b for a, b in itertools.pairwise(self.sizes))

    def kwargs(self) -> dict[str, Any]:
        """Constructor arguments of the target's policy class for this shape."""
        return {"obs_dim": self.obs_dim, "act_dim": self.act_dim, "hidden": list(self.hidden)}

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return self.kwargs()

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> MLPSpec:
        """Inverse of `to_dict`."""
        return cls(int(raw["obs_dim"]), int(raw["act_dim"]), tuple(raw.get("hidden", ())))

    def init(self, rng: np.random.Generator) -> np.ndarray:
        """Fresh weights, uniform in +-1/sqrt(fan_in) as torch's Linear draws them."""
        parts = []
        for w_shape, b_shape in self.shapes():
            bound = 1.0 / np.sqrt(w_shape[1])
            parts.append(rng.uniform(-bound, bound, size=w_shape).ravel())
            parts.append(rng.uniform(-bound, bound, size=b_shape))
        return np.concatenate(parts).astype(np.float32)

    def unflatten(self, flat: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """(weight, bias) copies of each layer from a flat vector."""
        if flat.size != self.size:
            raise StructureError(f"{flat.size} weights do not fit {self}, which has {self.size}")
        layers, at = [], 0
        for w_shape, b_shape in self.shapes():
            w = flat[at : at + w_shape[0] * w_shape[1]].reshape(w_shape).copy()
            at += w.size
            b = flat[at : at + b_shape[0]].copy()
            at += b.size
            layers.append((w, b))
        return layers

    def forward(self, flat: np.ndarray, obs: np.ndarray) -> np.ndarray:
        """Outputs for a batch of observations; the same function as the torch module."""
        x = np.asarray(obs, dtype=np.float32)
        layers = self.unflatten(flat)
        for i, (w, b) in enumerate(layers):
            x = x @ w.T + b
            if i < len(layers) - 1:
                x = np.tanh(x)
        return x


def flatten(layers: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Inverse of `MLPSpec.unflatten`."""
    return np.concatenate([p.ravel() for w, b in layers for p in (w, b)]).astype(np.float32)


def _check_hidden(spec: MLPSpec, layer: int) -> None:
    if not 0 <= layer < len(spec.hidden):
        raise StructureError(f"hidden layer {layer}: {spec} has {len(spec.hidden)} hidden layers")


def add_neuron(
    spec: MLPSpec, flat: np.ndarray, layer: int, rng: np.random.Generator, scale: float = 0.1
) -> tuple[MLPSpec, np.ndarray]:
    """One more unit in hidden `layer`: random weights in, zero weights out (same function)."""
    _check_hidden(spec, layer)
    layers = spec.unflatten(flat)
    w, b = layers[layer]
    layers[layer] = (
        np.vstack([w, rng.normal(0.0, scale, size=(1, w.shape[1]))]),
        np.append(b, 0.0),
    )
    w2, b2 = layers[layer + 1]
    layers[layer + 1] = (np.hstack([w2, np.zeros((w2.shape[0], 1))]), b2)
    hidden = list(spec.hidden)
    hidden[layer] += 1
    return MLPSpec(spec.obs_dim, spec.act_dim, tuple(hidden)), flatten(layers)


def remove_neuron(
    spec: MLPSpec, flat: np.ndarray, layer: int, unit: int | None = None
) -> tuple[MLPSpec, np.ndarray]:
    """Drop one unit of hidden `layer`: `unit`, or the one with the weakest outgoing weights."""
    _check_hidden(spec, layer)
    if spec.hidden[layer] < 2:
        raise StructureError(f"hidden layer {layer} of {spec} has one unit left; remove the layer")
    layers = spec.unflatten(flat)
    w, b = layers[layer]
    w2, b2 = layers[layer + 1]
    if unit is None:
        unit = int(np.argmin(np.abs(w2).sum(axis=0)))
    layers[layer] = (np.delete(w, unit, axis=0), np.delete(b, unit))
    layers[layer + 1] = (np.delete(w2, unit, axis=1), b2)
    hidden = list(spec.hidden)
    hidden[layer] -= 1
    return MLPSpec(spec.obs_dim, spec.act_dim, tuple(hidden)), flatten(layers)


def add_layer(spec: MLPSpec, flat: np.ndarray, position: int) -> tuple[MLPSpec, np.ndarray]:
    """Insert a hidden layer before layer `position` with identity weights: about the same function.

    The new layer is as wide as its input; tanh makes it an identity only near zero.
    """
    if not 0 <= position <= len(spec.hidden):
        raise StructureError(f"layer position {position}: {spec} has {len(spec.hidden) + 1} layers")
    layers = spec.unflatten(flat)
    width = spec.sizes[position]
    layers.insert(position, (np.eye(width), np.zeros(width)))
    hidden = list(spec.hidden)
    hidden.insert(position, width)
    return MLPSpec(spec.obs_dim, spec.act_dim, tuple(hidden)), flatten(layers)


def remove_layer(spec: MLPSpec, flat: np.ndarray, layer: int) -> tuple[MLPSpec, np.ndarray]:
    """Remove hidden `layer`, folding it into the next one as if its tanh were linear."""
    _check_hidden(spec, layer)
    layers = spec.unflatten(flat)
    w, b = layers[layer]
    w2, b2 = layers[layer + 1]
    layers[layer : layer + 2] = [(w2 @ w, w2 @ b + b2)]
    hidden = list(spec.hidden)
    del hidden[layer]
    return MLPSpec(spec.obs_dim, spec.act_dim, tuple(hidden)), flatten(layers)
