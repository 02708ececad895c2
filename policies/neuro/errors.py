"""Errors of the neuroevolution package; each names the file or field it is about."""

from __future__ import annotations

from pathlib import Path


class Error(Exception):
    """Root of every neuroevolution error."""


class WeightsFileError(Error):
    """A genome, weights or checkpoint file cannot be read: missing, corrupt, or of another kind.

    Raised before anything is replaced, so what was committed or saved stays as it was.
    """

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"cannot load {path}: {reason}")
        self.path = Path(path)
        self.reason = reason


class ConfigError(Error, ValueError):
    """An evolution setting has a value we cannot use."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        super().__init__(f"evolution setting {field!r}: expected {expected}, got {value!r}")
        self.field = field
        self.value = value


class StructureError(Error, ValueError):
    """A structural operation does not apply to this network (no such layer, last neuron)."""
