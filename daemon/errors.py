"""Every error the daemon and its CLI raise, in one tree.

`nmctl` and `nmd` catch `Error` and print its message on one line (the
traceback only with ``--debug``); anything else is a bug and keeps its traceback.
Each subclass says when it is raised and builds its own message from its fields.
"""

from __future__ import annotations

import difflib
from pathlib import Path


class Error(Exception):
    """Root of every daemon error."""


class StateDirError(Error):
    """The state directory cannot be created or written."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"state directory {path}: {reason} (set --state or NEUROMUTANT_STATE)")
        self.path = path


class TargetError(Error):
    """A target file is missing, unreadable, not TOML, or fails validation."""

    def __init__(self, path: Path | str, field: str | None, message: str) -> None:
        where = f"{path}: {field}: " if field else f"{path}: "
        super().__init__(where + message)
        self.path = str(path)
        self.field = field


class UnknownTarget(Error):
    """No target has this name; suggests the closest names."""

    def __init__(self, name: str, known: list[str]) -> None:
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        listed = ", ".join(sorted(known)) or "none"
        super().__init__(f"no target named {name!r} (registered: {listed}).{hint}")
        self.name = name


class LedgerError(Error):
    """The repository cannot be used as a target's ledger (missing, detached, conflicting)."""


class StoreVersionError(Error):
    """The database was written by a newer Neuromutant."""


class TargetBusy(Error):
    """Another process is running a cycle of this target."""

    def __init__(self, name: str, holder: str) -> None:
        super().__init__(f"a cycle of {name!r} is already running ({holder}); wait for it to end")
        self.name = name


class NotRunning(Error):
    """No nmd answers on the control socket."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"nmd is not running (no answer on {path})")
        self.path = path


class SocketDenied(Error):
    """The user may not open nmd's control socket (`group`: the group that owns it)."""

    def __init__(self, path: Path, group: str | None) -> None:
        join = f"join its group {group!r} (sudo usermod -aG {group} $USER)" if group else ""
        super().__init__(
            f"cannot reach nmd's socket at {path}: permission denied; "
            f"{join + ' and log in again, ' if join else ''}or run nmctl with sudo"
        )
        self.path = Path(path)


class AlreadyRunning(Error):
    """Another nmd holds this state directory."""

    def __init__(self, state: Path, holder: str) -> None:
        super().__init__(
            f"another nmd ({holder}) already runs on {state}; stop it first, "
            "or give this one another --state"
        )


class SettingsError(Error):
    """The settings file is unreadable, not TOML, or has a field it should not."""

    def __init__(self, path: Path | str, field: str | None, message: str) -> None:
        where = f"{path}: {field}: " if field else f"{path}: "
        super().__init__(where + message)
        self.path = str(path)
        self.field = field


class ClusterError(Error):
    """The Ray cluster cannot be reached or used; the message says which and why."""
