"""Where Neuromutant keeps its runtime state, and who may read it.

In order: an explicit path, ``$NEUROMUTANT_STATE``, systemd's
``$STATE_DIRECTORY`` when run as a service, else ``state/`` of the checkout.

The state folder holds the bots' code and their whole history, so it is private:
created 0700, its database 0600. ``$NEUROMUTANT_STATE_GROUP`` names a group that
may read it too: the folder is then created 2750 and given to that group (the
setgid bit hands the group on to what is made inside), the database 0640. A
folder that already exists is never changed, only warned about when it is open
to every user. The sandbox needs no access to it: Docker and bubblewrap bind-mount
each snapshot directly, without the sandbox user walking the parent folders.
"""

from __future__ import annotations

import grp
import logging
import os
import stat
from pathlib import Path

from daemon.errors import StateDirError

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STATE_GROUP = "NEUROMUTANT_STATE_GROUP"
"""The environment variable naming the group that may read the state folder."""


def state_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The state directory, created private if missing."""
    raw = (
        explicit
        or os.environ.get("NEUROMUTANT_STATE")
        or os.environ.get("STATE_DIRECTORY", "").split(":")[0]
        or PROJECT_ROOT / "state"
    )
    path = Path(raw).expanduser().resolve()
    try:
        if path.is_dir():
            _warn_if_public(path)
        else:
            _create_private(path)
    except OSError as exc:
        raise StateDirError(str(path), exc.strerror or str(exc)) from exc
    if not os.access(path, os.W_OK):
        raise StateDirError(str(path), "not writable by this user")
    return path


def state_group() -> str | None:
    """The group named by ``$NEUROMUTANT_STATE_GROUP``, or None for a private state."""
    return os.environ.get(STATE_GROUP, "").strip() or None


def private_mode(directory: bool = False) -> int:
    """The mode of a state file (or folder) we create: 0600/0700, or 0640/2750 with a group."""
    if state_group() is None:
        return 0o700 if directory else 0o600
    return 0o2750 if directory else 0o640


def _create_private(path: Path) -> None:
    """Make the state folder (parents as usual), closed to others, given to the group."""
    group = state_group()
    gid = None
    if group is not None:
        try:
            gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
        except KeyError:
            raise StateDirError(str(path), f"${STATE_GROUP} names no group {group!r}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.mkdir(mode=0o700, exist_ok=True)
    if gid is not None:
        os.chown(path, -1, gid)
    os.chmod(path, private_mode(directory=True))


def _warn_if_public(path: Path) -> None:
    """A state folder the user made is theirs to set; say so when anyone can read it."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o005:
        log.warning(
            "state directory %s is open to every user (mode %o): it holds the bots' code and "
            "history; close it with chmod o-rwx %s (or set $%s for a group)",
            path,
            mode,
            path,
            STATE_GROUP,
        )


def targets_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The folder of target files: explicit, ``$NEUROMUTANT_TARGETS``, else ``targets/``."""
    raw = explicit or os.environ.get("NEUROMUTANT_TARGETS") or PROJECT_ROOT / "targets"
    return Path(raw).expanduser().resolve()
