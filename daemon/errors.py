"""Errors raised by the daemon and its CLI."""

from __future__ import annotations


class Error(Exception):
    """Root of every daemon error; `nmctl` prints these without a traceback."""


class StateDirError(Error):
    """The state directory cannot be created or written."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"state directory {path}: {reason} (set --state or NEUROMUTANT_STATE)")
        self.path = path
