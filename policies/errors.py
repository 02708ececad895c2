"""Every error the policies raise, in one tree; each names the file, field or site it is about."""

from __future__ import annotations

from pathlib import Path


class Error(Exception):
    """Root of every policies error: `nmctl` prints these on one line."""


class MutationError(Error):
    """A mutation that cannot be made.

    Raised for an unknown operator, a site or variant that does not exist, a source that does not
    parse, or a result that does not compile.
    """


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
