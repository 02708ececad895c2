"""Structural growth and pruning of the policy's hidden layers, with a parsimony pressure.

After mutation a child may gain or lose one hidden neuron, or gain or lose a
hidden layer, each with its own small probability. The pressure against size
is a fitness penalty per parameter, applied at selection: a larger network
must earn its keep in return.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import network
from .genome import Genome


@dataclass(frozen=True)
class StructureOptions:
    """How often each structural edit is tried, the bounds, and the parsimony pressure."""

    add_neuron: float = 0.05
    """Probability that a child gains a neuron in a random hidden layer."""
    remove_neuron: float = 0.05
    """Probability that a child loses its least used neuron of a random hidden layer."""
    add_layer: float = 0.01
    """Probability that a child gains a hidden layer (identity-initialised)."""
    remove_layer: float = 0.01
    """Probability that a child loses a hidden layer (folded into the next)."""
    max_width: int = 64
    """No hidden layer grows wider."""
    max_layers: int = 3
    """No more hidden layers than this."""
    parsimony: float = 0.0
    """Fitness removed per policy parameter."""

    def __post_init__(self) -> None:
        probs = (self.add_neuron, self.remove_neuron, self.add_layer, self.remove_layer)
        if any(p < 0 for p in probs) or sum(probs) > 1:
            raise ValueError(f"structure probabilities must be >= 0 and sum to <= 1, got {probs}")
        if self.max_width < 1 or self.max_layers < 0 or self.parsimony < 0:
            raise ValueError(f"bad structure bounds: {self}")


def grow_or_prune(
    genome: Genome, options: StructureOptions, rng: np.random.Generator
) -> tuple[Genome, str | None]:
    """At most one structural edit of `genome`, and its name (None when none applied)."""
    spec, flat = genome.spec, genome.policy
    u = rng.random()
    edges = np.cumsum(
        [options.add_neuron, options.remove_neuron, options.add_layer, options.remove_layer]
    )
    layers = len(spec.hidden)
    op, new = None, None
    if u < edges[0] and layers:
        layer = int(rng.integers(layers))
        if spec.hidden[layer] < options.max_width:
            op, new = "add_neuron", network.add_neuron(spec, flat, layer, rng)
    elif u < edges[1] and layers:
        layer = int(rng.integers(layers))
        if spec.hidden[layer] > 1:
            op, new = "remove_neuron", network.remove_neuron(spec, flat, layer)
    elif u < edges[2] and layers < options.max_layers:
        position = int(rng.integers(layers + 1))
        if spec.sizes[position] <= options.max_width:
            op, new = "add_layer", network.add_layer(spec, flat, position)
    elif u < edges[3] and layers:
        op, new = "remove_layer", network.remove_layer(spec, flat, int(rng.integers(layers)))
    if new is None:
        return genome, None
    new_spec, new_flat = new
    return Genome(new_spec, new_flat, genome.mutator, genome.compat, genome.kind), op
