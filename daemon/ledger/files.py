"""File-system facts the ledger needs beside git: open locks and sandbox-readable trees."""

from __future__ import annotations

import os
from pathlib import Path


def open_by_any_process(path: Path) -> bool:
    """Whether a live process holds `path` open (git keeps index.lock open while it works)."""
    target = str(path.resolve())
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            links = list(fd_dir.iterdir())
        except OSError:
            continue
        for link in links:
            try:
                if os.readlink(link) == target:
                    return True
            except OSError:
                continue
    return False


def readable_by_all(root: Path) -> None:
    """Let the sandbox's unprivileged user read the tree (it runs as uid 65534)."""
    for directory, _, names in os.walk(root):
        os.chmod(directory, os.stat(directory).st_mode | 0o755)
        for name in names:
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode | 0o444)
