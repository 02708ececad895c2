"""Serve a candidate's source to the import system without writing it to disk.

The tree is mounted read-only and shared by every candidate of a batch, so a
candidate's version of a module reaches Python as data: a meta-path finder
answers for the overlaid files with a loader that returns the candidate's
bytes, skips bytecode caches, and puts the source in `linecache` so tracebacks
and `inspect` show the code that really ran.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import linecache
import os
import sys
from collections.abc import Mapping

TEST_FILE_NAMES = ("conftest.py",)


def is_test_file(relpath: str) -> bool:
    """Tests and conftest files are never part of a candidate."""
    name = os.path.basename(relpath)
    return name in TEST_FILE_NAMES or name.startswith("test_") or name.endswith("_test.py")


def check_overlay_paths(overlays: Mapping[str, str]) -> None:
    """Refuse overlay paths that escape the tree or replace a test or conftest file."""
    for relpath in overlays:
        norm = os.path.normpath(relpath)
        if os.path.isabs(relpath) or norm.startswith(".."):
            raise ValueError(f"overlay path {relpath!r} is not inside the tree")
        if is_test_file(norm):
            raise ValueError(f"overlay path {relpath!r} is a test or conftest file")


class _OverlayLoader(importlib.machinery.SourceFileLoader):
    def __init__(self, fullname: str, path: str, source: bytes) -> None:
        super().__init__(fullname, path)
        self._source = source

    def get_data(self, path: str) -> bytes:
        if path == self.path:
            return self._source
        return super().get_data(path)

    def path_stats(self, path: str) -> dict[str, float]:
        # No stats means no bytecode cache: the original's .pyc must never be used.
        raise OSError("overlaid source has no bytecode cache")

    def set_data(self, path: str, data: bytes, *, _mode: int = 0o666) -> None:
        return None


class OverlayFinder(importlib.abc.MetaPathFinder):
    """Finds modules as usual, then swaps in the candidate's source for overlaid files."""

    def __init__(self, files: Mapping[str, str]) -> None:
        self.files = {os.path.realpath(path): source.encode() for path, source in files.items()}

    def find_spec(self, fullname, path, target=None):  # noqa: D102 - importlib protocol
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.origin is None:
            return None
        source = self.files.get(os.path.realpath(spec.origin))
        if source is None:
            return None
        spec.loader = _OverlayLoader(fullname, spec.origin, source)
        spec.cached = None
        return spec


def install(root: str, overlays: Mapping[str, str]) -> OverlayFinder:
    """Make `overlays` (paths relative to `root`) shadow the tree's files for imports."""
    check_overlay_paths(overlays)
    files = {os.path.join(root, rel): source for rel, source in overlays.items()}
    finder = OverlayFinder(files)
    sys.meta_path.insert(0, finder)
    for path, source in files.items():
        lines = source.splitlines(keepends=True)
        linecache.cache[path] = (len(source), None, lines, path)
    return finder
