"""Genome and weights files: bit-exact round trips; clear errors that leave files alone."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from policies.neuro import (
    DualMixture,
    Genome,
    MLPSpec,
    WeightsFile,
    WeightsFileError,
    load_weights,
    save_weights,
)
from policies.neuro.speciation import init_compat
from policies.neuro.weights import to_flat, to_named

SPEC = MLPSpec(4, 2, (16, 8))


def a_genome() -> Genome:
    rng = np.random.default_rng(7)
    policy = SPEC.init(rng)
    policy[:4] = [-0.0, np.float32(1e-45), np.finfo(np.float32).max, np.nan]  # awkward bits
    return Genome(SPEC, policy, DualMixture().init_params(rng), init_compat(rng), "dualmixture")


def test_a_genome_round_trips_bit_exactly(tmp_path):
    genome = a_genome()
    genome.save(tmp_path / "g.safetensors")
    back = Genome.load(tmp_path / "g.safetensors")
    assert back.same_bits(genome)
    assert back.spec == SPEC and back.kind == "dualmixture"
    assert back.vector().tobytes() == genome.vector().tobytes()


def test_a_genome_without_mutator_round_trips(tmp_path):
    genome = Genome(SPEC, SPEC.init(np.random.default_rng(0)), kind="es")
    genome.save(tmp_path / "g.safetensors")
    assert Genome.load(tmp_path / "g.safetensors").same_bits(genome)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "not a readable safetensors file"),
        (b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all", "not a readable safetensors file"),
    ],
)
def test_a_corrupt_genome_file_is_a_clear_error(tmp_path, content, why):
    path = tmp_path / "g.safetensors"
    path.write_bytes(content)
    with pytest.raises(WeightsFileError, match=re.escape(f"cannot load {path}: {why}")):
        Genome.load(path)


def test_a_missing_file_is_named(tmp_path):
    path = tmp_path / "absent.safetensors"
    with pytest.raises(WeightsFileError, match=re.escape(f"cannot load {path}: No such file")):
        Genome.load(path)


def test_a_weights_file_is_not_a_genome(tmp_path):
    path = tmp_path / "w.safetensors"
    save_weights(path, WeightsFile({"w": np.zeros(3)}))
    with pytest.raises(WeightsFileError, match="not a genome file"):
        Genome.load(path)


def test_a_newer_genome_is_refused(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "g.safetensors"
    save_file(
        {"policy": np.zeros(1, np.float32)}, path, {"format": "neuromutant-genome", "version": "9"}
    )
    with pytest.raises(WeightsFileError, match=re.escape("newer version (9 > 1)")):
        Genome.load(path)


def test_named_weights_round_trip_and_map_to_flat(tmp_path):
    layout = [
        ("layers.0.weight", [16, 4]),
        ("layers.0.bias", [16]),
        ("layers.1.weight", [8, 16]),
        ("layers.1.bias", [8]),
        ("layers.2.weight", [2, 8]),
        ("layers.2.bias", [2]),
    ]
    flat = SPEC.init(np.random.default_rng(1))
    path = tmp_path / "weights.safetensors"
    save_weights(path, WeightsFile(to_named(flat, layout), SPEC.kwargs(), {"env": "CartPole-v1"}))
    loaded = load_weights(path)
    assert to_flat(loaded.tensors, layout).tobytes() == flat.tobytes()
    assert loaded.policy_kwargs == SPEC.kwargs()
    assert loaded.metadata["env"] == "CartPole-v1"


def test_a_torch_state_dict_with_its_metadata_file_round_trips(tmp_path):
    import torch

    flat = SPEC.init(np.random.default_rng(2))
    layout = [(f"p{i}", [n]) for i, n in enumerate([flat.size])]
    path = tmp_path / "policy.pt"
    save_weights(path, WeightsFile(to_named(flat, layout), SPEC.kwargs(), {"env": "CartPole-v1"}))
    assert json.loads((tmp_path / "policy.json").read_text())["policy_kwargs"] == SPEC.kwargs()
    assert torch.load(path, weights_only=True)["p0"].numpy().tobytes() == flat.tobytes()
    loaded = load_weights(path)
    assert to_flat(loaded.tensors, layout).tobytes() == flat.tobytes()
    assert loaded.policy_kwargs == SPEC.kwargs() and loaded.metadata["env"] == "CartPole-v1"
    path.write_bytes(b"not a state dict")
    with pytest.raises(WeightsFileError, match="not a readable torch state dict"):
        load_weights(path)


def test_a_weights_file_that_fails_to_load_leaves_the_committed_one(tmp_path):
    committed = tmp_path / "weights.safetensors"
    save_weights(committed, WeightsFile({"w": np.arange(3.0)}))
    before = committed.read_bytes()
    broken = tmp_path / "candidate.safetensors"
    broken.write_bytes(before[: len(before) // 2])  # cut short, as by a crash mid-copy
    with pytest.raises(WeightsFileError, match=re.escape(f"cannot load {broken}")):
        load_weights(broken)
    with pytest.raises(TypeError):  # a write that fails part way
        save_weights(committed, WeightsFile({"w": np.arange(3.0), "bad": object()}))
    assert committed.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "candidate.safetensors",
        "weights.safetensors",
    ]
