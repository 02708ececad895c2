"""The weights file a weights target owns and commits: the policy's state dict, by name.

A plain safetensors file that the target's own code can load without
Neuromutant (``safetensors.torch.load_file`` then ``load_state_dict``), with
metadata saying which class and constructor arguments it fits. The parameter
names come from the target's module as the sandbox described it (`layout`), so
a genome's flat vector maps onto them in ``parameters()`` order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import WeightsFileError
from .genome import check_version, read_safetensors, write_atomic

FORMAT = "neuromutant-weights"
Layout = Sequence[tuple[str, Sequence[int]]]
"""(parameter name, shape) in ``parameters()`` order, as the gym runner's describe reports."""


@dataclass(frozen=True)
class WeightsFile:
    """The tensors of a weights file and what they fit."""

    tensors: Mapping[str, np.ndarray]
    policy_kwargs: Mapping[str, Any] = field(default_factory=dict)
    """Constructor arguments of the policy class these tensors fit."""
    metadata: Mapping[str, str] = field(default_factory=dict)


def to_named(flat: np.ndarray, layout: Layout) -> dict[str, np.ndarray]:
    """Split a flat vector into named tensors, in layout order."""
    total = sum(int(np.prod(shape)) for _, shape in layout)
    if flat.size != total:
        raise ValueError(f"{flat.size} weights do not fit a layout of {total} parameters")
    named, at = {}, 0
    for name, shape in layout:
        count = int(np.prod(shape))
        named[name] = np.asarray(flat[at : at + count], dtype=np.float32).reshape(shape)
        at += count
    return named


def to_flat(tensors: Mapping[str, np.ndarray], layout: Layout) -> np.ndarray:
    """Join named tensors into a flat vector in layout order; names and shapes must match."""
    missing = [name for name, _ in layout if name not in tensors]
    extra = sorted(set(tensors) - {name for name, _ in layout})
    if missing or extra:
        raise ValueError(
            f"tensor names do not fit the policy: missing {missing}, unexpected {extra}"
        )
    parts = []
    for name, shape in layout:
        if tuple(tensors[name].shape) != tuple(shape):
            raise ValueError(f"{name} has shape {tuple(tensors[name].shape)}, not {tuple(shape)}")
        parts.append(np.asarray(tensors[name], dtype=np.float32).ravel())
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def save_weights(path: Path | str, weights: WeightsFile) -> None:
    """Write a weights file atomically (temporary file, then rename)."""
    from safetensors.numpy import save

    meta = {
        **weights.metadata,
        "format": FORMAT,
        "version": "1",
        "policy_kwargs": json.dumps(dict(weights.policy_kwargs)),
    }
    tensors = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in weights.tensors.items()}
    write_atomic(Path(path), save(tensors, metadata=meta))


def load_weights(path: Path | str) -> WeightsFile:
    """Read a weights file written by `save_weights`, or any safetensors state dict.

    Raises:
        WeightsFileError: the file is missing, corrupt, has no tensors, or is from a newer version.
    """
    tensors, meta = read_safetensors(path)
    check_version(path, meta)
    if not tensors:
        raise WeightsFileError(path, "it holds no tensors")
    try:
        kwargs = json.loads(meta.get("policy_kwargs", "{}"))
    except ValueError:
        raise WeightsFileError(path, "its policy_kwargs metadata is not JSON") from None
    return WeightsFile(tensors, kwargs, meta)
