"""The host's Python runtime, as the offline sandbox image borrows it.

The offline image holds no Python of its own: the host's interpreter prefix and
virtual environment are bind-mounted read-only at the same paths, so the
sandbox runs exactly the packages the host has, with no registry involved.
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import UnsafeMount
from .job import JOB, LIB, SRC, WORK

RESERVED = ("/sandbox", "/proc", "/sys", "/dev", "/etc")


@dataclass(frozen=True)
class Runtime:
    """A Python interpreter and the host directories it needs, read-only."""

    python: str
    """Path of the interpreter, valid on the host and inside the sandbox."""
    mounts: tuple[str, ...]
    """Host directories bind-mounted read-only at the same path."""

    @property
    def key(self) -> str:
        """Names this runtime (interpreter and mounts): one offline image per runtime."""
        text = "\0".join((self.python, *self.mounts))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def fingerprint(self) -> str:
        """Changes when the interpreter or the installed packages change.

        Cheap on purpose (a few stats), so set-up can tell in milliseconds
        whether the offline image must be rebuilt.
        """
        digest = hashlib.sha256(self.python.encode())
        for mount in self.mounts:
            digest.update(mount.encode())
            for probe in _site_dirs(Path(mount)):
                digest.update(f"{probe}:{probe.stat().st_mtime_ns}".encode())
        return digest.hexdigest()[:16]


def _site_dirs(prefix: Path) -> list[Path]:
    """Directories whose mtime moves when a package is installed or removed."""
    return sorted(p for p in prefix.glob("lib/python3*/site-packages") if p.is_dir())


def current_runtime() -> Runtime:
    """The runtime of this process: its interpreter, base prefix and virtual environment."""
    prefixes = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    mounts = _outermost(sorted(prefixes))
    for mount in mounts:
        check_mountable(mount)
    # One name for the interpreter however it was started (python, python3, python3.11).
    python = os.path.join(sys.prefix, "bin", "python3")
    if not os.path.exists(python):
        python = sys.executable
    return Runtime(python=python, mounts=tuple(mounts))


def _outermost(paths: list[str]) -> list[str]:
    kept: list[str] = []
    for path in paths:
        if not any(path == k or path.startswith(k + "/") for k in kept):
            kept.append(path)
    return kept


def check_mountable(path: str) -> None:
    """Refuse a host path that would hide or be hidden by the sandbox's own paths."""
    if path == "/" or any(path == r or path.startswith(r + "/") for r in RESERVED):
        raise UnsafeMount(
            f"cannot mount {path} into the sandbox: it lies under one of {', '.join(RESERVED)}; "
            "put the Python prefix or virtual environment elsewhere"
        )
    for inner in (SRC, WORK, JOB, LIB):
        if inner.startswith(path + "/"):
            raise UnsafeMount(f"cannot mount {path} into the sandbox: it would hide {inner}")
