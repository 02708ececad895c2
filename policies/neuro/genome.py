"""A genome: the policy's weights, the mutator that rewrites them, and an optional judge of kin.

Three flat float32 vectors: `policy` (an MLP of `spec`), `mutator` (the weights of
the network that mutates this whole genome, its own weights included; empty for
mutators without weights) and `compat` (the compatibility network used for
speciation, or empty). A mutator reads and writes the concatenation of the
three, so self-reference needs no special case.

Files are safetensors (no pickle: loading one cannot run code) with the shape
and mutator kind in the header's metadata, written to a temporary name and
renamed, so a crash never leaves half a genome. Save then load gives the same
bits.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from policies.errors import WeightsFileError

from .network import MLPSpec

FORMAT = "neuromutant-genome"
VERSION = 1


def _vector(value: Any) -> np.ndarray:
    array = np.ascontiguousarray(value, dtype=np.float32).ravel()
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class Genome:
    """One member of a population; immutable (mutation makes a new one)."""

    spec: MLPSpec
    policy: np.ndarray
    mutator: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    compat: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    kind: str = "none"
    """Which mutator the `mutator` vector belongs to (``dualmixture``, ``gaussian``, ...)."""

    def __post_init__(self) -> None:
        for name in ("policy", "mutator", "compat"):
            object.__setattr__(self, name, _vector(getattr(self, name)))
        if self.policy.size != self.spec.size:
            raise ValueError(
                f"policy has {self.policy.size} weights; {self.spec} needs {self.spec.size}"
            )

    @property
    def policy_kwargs(self) -> dict[str, Any]:
        """Constructor arguments of the target's policy class for this genome's shape."""
        return self.spec.kwargs()

    @property
    def sizes(self) -> tuple[int, int, int]:
        """Lengths of the policy, mutator and compat parts."""
        return self.policy.size, self.mutator.size, self.compat.size

    def vector(self) -> np.ndarray:
        """The whole genome as one vector: policy, then mutator, then compat."""
        return np.concatenate([self.policy, self.mutator, self.compat])

    def with_vector(self, vector: np.ndarray) -> Genome:
        """The same kind of genome with its three parts taken from `vector`."""
        p, m, _ = self.sizes
        return Genome(self.spec, vector[:p], vector[p : p + m], vector[p + m :], self.kind)

    def same_bits(self, other: Genome) -> bool:
        """True when both genomes are identical to the last bit."""
        return (
            self.spec == other.spec
            and self.kind == other.kind
            and all(
                a.tobytes() == b.tobytes()
                for a, b in zip(
                    (self.policy, self.mutator, self.compat),
                    (other.policy, other.mutator, other.compat),
                    strict=True,
                )
            )
        )

    # --- plain data, for checkpoints ---------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Arrays and plain values (see `checkpoint`)."""
        return {
            "spec": self.spec.to_dict(),
            "kind": self.kind,
            "policy": self.policy,
            "mutator": self.mutator,
            "compat": self.compat,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Genome:
        """Inverse of `to_state`."""
        return cls(
            MLPSpec.from_dict(state["spec"]),
            state["policy"],
            state["mutator"],
            state["compat"],
            state["kind"],
        )

    # --- files ---------------------------------------------------------------------------

    def save(self, path: Path | str, metadata: dict[str, str] | None = None) -> None:
        """Write the genome to `path` (safetensors), atomically."""
        from safetensors.numpy import save

        header = {
            **(metadata or {}),
            "format": FORMAT,
            "version": str(VERSION),
            "spec": json.dumps(self.spec.to_dict()),
            "kind": self.kind,
        }
        tensors = {"policy": self.policy, "mutator": self.mutator, "compat": self.compat}
        write_atomic(Path(path), save(tensors, metadata=header))

    @classmethod
    def load(cls, path: Path | str) -> Genome:
        """Read a genome written by `save`.

        Raises:
            WeightsFileError: the file is missing, corrupt, or not a genome this version reads.
        """
        tensors, meta = read_safetensors(path)
        if meta.get("format") != FORMAT:
            raise WeightsFileError(path, f"not a genome file (format {meta.get('format')!r})")
        check_version(path, meta)
        try:
            spec = MLPSpec.from_dict(json.loads(meta["spec"]))
            return cls(spec, tensors["policy"], tensors["mutator"], tensors["compat"], meta["kind"])
        except (KeyError, ValueError, TypeError) as exc:
            raise WeightsFileError(path, f"inconsistent genome: {exc}") from None


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_safetensors(path: Path | str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Tensors and header metadata of a safetensors file, or a `WeightsFileError` saying why not."""
    from safetensors import SafetensorError
    from safetensors.numpy import load

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise WeightsFileError(path, exc.strerror or str(exc)) from None
    try:
        tensors = load(data)
        size = int.from_bytes(data[:8], "little")
        meta = json.loads(data[8 : 8 + size]).get("__metadata__") or {}
    except (SafetensorError, ValueError, UnicodeDecodeError) as exc:
        raise WeightsFileError(path, f"not a readable safetensors file ({exc})") from None
    return tensors, meta


def check_version(path: Path | str, meta: dict[str, str]) -> None:
    """Refuse files from a newer version than this code reads."""
    try:
        version = int(meta.get("version", "0"))
    except ValueError:
        raise WeightsFileError(path, f"bad version {meta.get('version')!r}") from None
    if version > VERSION:
        raise WeightsFileError(path, f"written by a newer version ({version} > {VERSION})")
