"""The daemon's own settings file: where its Ray cluster is, and what to do without it.

``settings.toml`` in the state folder (or ``$NEUROMUTANT_SETTINGS``)::

    [cluster]
    address = "auto"        # or "HOST:PORT" of the head; absent: no cluster
    unreachable = "local"   # or "fail": a cycle that cannot reach it fails

``$NEUROMUTANT_RAY_ADDRESS`` sets the address too, over the file's. A missing
file means no cluster; a wrong one is an error that names the file and field.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from daemon.errors import SettingsError

SETTINGS = "NEUROMUTANT_SETTINGS"
ADDRESS = "NEUROMUTANT_RAY_ADDRESS"
FILE = "settings.toml"
UNREACHABLE = ("local", "fail")
_ADDRESS = re.compile(r"^(auto|[A-Za-z0-9.\-\[\]:]+:\d{1,5})$")


@dataclass(frozen=True)
class ClusterSettings:
    """Where the cluster is, and what a cycle does when it cannot reach it."""

    address: str | None = None
    """"auto" (the cluster this machine joined), "HOST:PORT", or None: no cluster."""
    unreachable: str = "local"
    """"local": evaluate here, with one warning line; "fail": the cycle fails."""
    source: str = "defaults"
    """Where the settings were read, for messages."""


def settings_path(state: Path) -> Path:
    """The settings file: ``$NEUROMUTANT_SETTINGS``, else ``settings.toml`` in the state folder."""
    return Path(os.environ.get(SETTINGS) or Path(state) / FILE)


def load_cluster(state: Path) -> ClusterSettings:
    """The cluster settings of the daemon whose state folder is `state`.

    Raises:
        SettingsError: the file cannot be read or a field is wrong; names both.
    """
    path = settings_path(state)
    table: dict[str, object] = {}
    if path.is_file():
        try:
            document = tomllib.loads(path.read_text())
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(path, None, f"cannot read it: {exc}") from None
        unknown = sorted(set(document) - {"cluster"})
        if unknown:
            raise SettingsError(path, unknown[0], "unknown section; expected [cluster]")
        table = document.get("cluster", {})
        if not isinstance(table, dict):
            raise SettingsError(path, "cluster", "expected a table")
    settings = _validated(table, path)
    if os.environ.get(ADDRESS):
        address = _address(os.environ[ADDRESS], f"${ADDRESS}", None)
        settings = ClusterSettings(address, settings.unreachable, f"${ADDRESS} and {path}")
    return settings


def _validated(table: dict[str, object], path: Path) -> ClusterSettings:
    unknown = sorted(set(table) - {"address", "unreachable"})
    if unknown:
        raise SettingsError(
            path, f"cluster.{unknown[0]}", "unknown field; expected address, unreachable"
        )
    address = table.get("address")
    if address is not None:
        address = _address(address, path, "cluster.address")
    unreachable = table.get("unreachable", "local")
    if unreachable not in UNREACHABLE:
        raise SettingsError(
            path, "cluster.unreachable", f"expected 'local' or 'fail', got {unreachable!r}"
        )
    return ClusterSettings(address, str(unreachable), str(path))


def _address(value: object, where: Path | str, field: str | None) -> str:
    if not isinstance(value, str) or not _ADDRESS.match(value.strip()):
        raise SettingsError(where, field, f'expected "auto" or "HOST:PORT", got {value!r}')
    return value.strip()
