"""The weights file a weights target owns and commits: the policy's state dict, by name.

Two formats, both loadable by the target's own code without Neuromutant:

- ``*.safetensors``: the tensors, and metadata in the file's header saying which
  class and constructor arguments they fit (``safetensors.torch.load_file`` then
  ``load_state_dict``);
- ``*.pt`` / ``*.pth``: a torch state dict (``torch.save``), with the same
  metadata as JSON in a file beside it (``policy.pt`` -> ``policy.json``). It is
  read with ``torch.load(weights_only=True)``, which unpickles tensors only.

The parameter names come from the target's module as the sandbox described it
(`layout`), so a genome's flat vector maps onto them in ``parameters()`` order.
`encode_weights` gives the bytes of the file(s), for a commit; `save_weights`
writes them atomically.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from policies.errors import WeightsFileError

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


TORCH_SUFFIXES = (".pt", ".pth")


def metadata_path(path: Path | str) -> Path | None:
    """The JSON metadata file beside a torch state dict; None for safetensors (in the header)."""
    path = Path(path)
    return path.with_suffix(".json") if path.suffix in TORCH_SUFFIXES else None


def _metadata(weights: WeightsFile) -> dict[str, str]:
    return {
        **{str(k): str(v) for k, v in weights.metadata.items()},
        "format": FORMAT,
        "version": "1",
        "policy_kwargs": json.dumps(dict(weights.policy_kwargs)),
    }


def encode_weights(path: Path | str, weights: WeightsFile) -> dict[Path, bytes]:
    """The bytes of the weights file at `path` (and of its metadata file, if separate)."""
    path = Path(path)
    meta = _metadata(weights)
    tensors = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in weights.tensors.items()}
    side = metadata_path(path)
    if side is None:
        from safetensors.numpy import save

        return {path: save(tensors, metadata=meta)}
    import torch

    buffer = io.BytesIO()
    torch.save({k: torch.from_numpy(v.copy()) for k, v in tensors.items()}, buffer)
    doc = {**meta, "policy_kwargs": dict(weights.policy_kwargs)}
    return {path: buffer.getvalue(), side: (json.dumps(doc, indent=2) + "\n").encode()}


def save_weights(path: Path | str, weights: WeightsFile) -> None:
    """Write a weights file (and its metadata file, if separate), each atomically."""
    for where, data in encode_weights(path, weights).items():
        write_atomic(where, data)


def _why(exc: Exception) -> str:
    """Torch's reason in a few words (its weights-only errors run to a page)."""
    text = str(exc)
    marker = "WeightsUnpickler error:"
    if marker in text:
        detail = text.split(marker, 1)[1].split("Check the documentation", 1)[0].strip()
        return f"refused by the weights-only unpickler: {detail}"
    return text.strip().splitlines()[0][:200] if text.strip() else type(exc).__name__


def _read_torch(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    import pickle

    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise WeightsFileError(path, "no such file") from None
    except (OSError, RuntimeError, ValueError, EOFError, pickle.UnpicklingError) as exc:
        raise WeightsFileError(path, f"not a readable torch state dict ({_why(exc)})") from None
    if not isinstance(state, Mapping) or not all(
        isinstance(v, torch.Tensor) for v in state.values()
    ):
        raise WeightsFileError(path, "not a state dict (a mapping of names to tensors)")
    tensors = {str(k): v.detach().cpu().float().numpy() for k, v in state.items()}
    side = metadata_path(path)
    meta: dict[str, Any] = {}
    if side is not None and side.exists():
        try:
            meta = json.loads(side.read_text())
        except (OSError, ValueError) as exc:
            raise WeightsFileError(side, f"not readable JSON metadata ({exc})") from None
        if not isinstance(meta, dict):
            raise WeightsFileError(side, "the metadata is not a JSON object")
    return tensors, meta


def load_weights(path: Path | str) -> WeightsFile:
    """Read a weights file written by `save_weights`, or any safetensors or torch state dict.

    Raises:
        WeightsFileError: the file is missing, corrupt, has no tensors, or is from a newer version.
    """
    path = Path(path)
    if path.suffix in TORCH_SUFFIXES:
        tensors, raw = _read_torch(path)
        kwargs = raw.get("policy_kwargs", {})
        meta = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}
        check_version(metadata_path(path) or path, meta)
        if not isinstance(kwargs, dict):
            raise WeightsFileError(path, "its policy_kwargs metadata is not a JSON object")
    else:
        tensors, meta = read_safetensors(path)
        check_version(path, meta)
        try:
            kwargs = json.loads(meta.get("policy_kwargs", "{}"))
        except ValueError:
            raise WeightsFileError(path, "its policy_kwargs metadata is not JSON") from None
    if not tensors:
        raise WeightsFileError(path, "it holds no tensors")
    return WeightsFile(tensors, kwargs, meta)
