"""The MLP spec matches the target's torch module; structural edits keep (or nearly keep) it."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from policies.neuro import MLPSpec, StructureError
from policies.neuro.network import add_layer, add_neuron, remove_layer, remove_neuron

EXAMPLE = Path(__file__).parents[3] / "targets" / "examples" / "cartpole"
SPEC = MLPSpec(4, 2, (6, 5))
OBS = np.random.default_rng(3).normal(size=(32, 4)).astype(np.float32)


def test_the_flat_order_is_the_modules_parameter_order():
    sys.path.insert(0, str(EXAMPLE))
    try:
        from policy import Policy
    finally:
        sys.path.remove(str(EXAMPLE))
    flat = SPEC.init(np.random.default_rng(0))
    module = Policy(**SPEC.kwargs())
    assert sum(p.numel() for p in module.parameters()) == SPEC.size
    torch.nn.utils.vector_to_parameters(torch.from_numpy(flat), module.parameters())
    with torch.no_grad():
        expected = module(torch.from_numpy(OBS)).numpy()
    np.testing.assert_allclose(SPEC.forward(flat, OBS), expected, rtol=1e-5, atol=1e-6)


def test_adding_a_neuron_keeps_the_function():
    flat = SPEC.init(np.random.default_rng(0))
    spec, grown = add_neuron(SPEC, flat, 1, np.random.default_rng(1))
    assert spec.hidden == (6, 6) and grown.size == spec.size
    np.testing.assert_allclose(spec.forward(grown, OBS), SPEC.forward(flat, OBS), atol=1e-6)


def test_removing_an_unused_neuron_keeps_the_function():
    flat = SPEC.init(np.random.default_rng(0))
    spec, grown = add_neuron(SPEC, flat, 0, np.random.default_rng(1))
    spec2, pruned = remove_neuron(spec, grown, 0)  # the weakest: the new, unused one
    assert spec2 == SPEC
    np.testing.assert_allclose(spec2.forward(pruned, OBS), SPEC.forward(flat, OBS), atol=1e-6)


def test_adding_then_removing_a_layer_round_trips_the_shape():
    flat = SPEC.init(np.random.default_rng(0)) * 0.1  # small: tanh is near linear
    spec, deeper = add_layer(SPEC, flat, 2)
    assert spec.hidden == (6, 5, 5)
    np.testing.assert_allclose(spec.forward(deeper, OBS), SPEC.forward(flat, OBS), atol=0.02)
    spec2, shallower = remove_layer(spec, deeper, 2)
    assert spec2 == SPEC
    np.testing.assert_allclose(spec2.forward(shallower, OBS), SPEC.forward(flat, OBS), atol=0.02)


def test_the_last_neuron_is_not_removed():
    spec = MLPSpec(4, 2, (1,))
    with pytest.raises(StructureError, match="one unit left"):
        remove_neuron(spec, spec.init(np.random.default_rng(0)), 0)
