"""Where Neuromutant keeps its runtime state.

In order: an explicit path, ``$NEUROMUTANT_STATE``, systemd's
``$STATE_DIRECTORY`` when run as a service, else ``state/`` of the checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

from daemon.errors import StateDirError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def state_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The state directory, created if missing."""
    raw = (
        explicit
        or os.environ.get("NEUROMUTANT_STATE")
        or os.environ.get("STATE_DIRECTORY", "").split(":")[0]
        or PROJECT_ROOT / "state"
    )
    path = Path(raw).expanduser().resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateDirError(str(path), exc.strerror or str(exc)) from exc
    if not os.access(path, os.W_OK):
        raise StateDirError(str(path), "not writable by this user")
    return path


def targets_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The folder of target files: explicit, ``$NEUROMUTANT_TARGETS``, else ``targets/``."""
    raw = explicit or os.environ.get("NEUROMUTANT_TARGETS") or PROJECT_ROOT / "targets"
    return Path(raw).expanduser().resolve()
