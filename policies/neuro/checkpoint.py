"""Checkpoints of a run: nested plain data with numpy arrays, in one file, written atomically.

The file is an ``.npz`` without pickles: the arrays as members, and the rest
(numbers, strings, lists, dicts, random-generator states) as one JSON member
in which each array is a reference. Arrays keep their dtype and bits, so a run
restored from it continues exactly as if it had never stopped.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from policies.errors import WeightsFileError

from .genome import write_atomic

VERSION = 1
_STATE = "__state__"


def _pack(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, np.ndarray):
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {"__array__": key}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _pack(v, arrays) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_pack(v, arrays) for v in value]
    return value


def _unpack(value: Any, arrays: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            return arrays[value["__array__"]]
        return {k: _unpack(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_unpack(v, arrays) for v in value]
    return value


def save_checkpoint(path: Path | str, state: dict[str, Any]) -> None:
    """Write `state` to `path`, atomically (temporary file, then rename)."""
    arrays: dict[str, np.ndarray] = {}
    doc = {"version": VERSION, "state": _pack(state, arrays)}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays, **{_STATE: np.frombuffer(json.dumps(doc).encode(), np.uint8)})
    write_atomic(Path(path), buffer.getvalue())


def load_checkpoint(path: Path | str) -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint`.

    Raises:
        WeightsFileError: the file is missing, corrupt, or from a newer version.
    """
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise WeightsFileError(path, "no such file") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise WeightsFileError(path, f"not a readable checkpoint ({exc})") from None
    try:
        doc = json.loads(arrays.pop(_STATE).tobytes())
    except (KeyError, ValueError) as exc:
        raise WeightsFileError(path, f"not a checkpoint ({exc})") from None
    if int(doc.get("version", 0)) > VERSION:
        raise WeightsFileError(path, f"written by a newer version ({doc['version']} > {VERSION})")
    return _unpack(doc["state"], arrays)
