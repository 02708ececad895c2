"""Per-test line coverage of the rewritable files, for fault localisation.

A `sys.settrace` hook that only follows frames of the watched files, so the rest of
the session (pytest, the standard library, the tests themselves) costs one cheap
call per function entry. Lines run outside any test (imports, collection, module
constants) go to ``setup``: every test depends on them.
"""

from __future__ import annotations

import os
import sys
import threading
from types import FrameType
from typing import Any

import pytest


class LineCoverage:
    """A pytest plugin recording the watched files' lines each test executes."""

    def __init__(self, src: str, files: list[str]) -> None:
        self.watched = {os.path.join(src, f): f for f in files}
        self.watched.update({os.path.realpath(p): f for p, f in list(self.watched.items())})
        self.setup: set[tuple[str, int]] = set()
        self.current = self.setup
        self.per_test: dict[str, set[tuple[str, int]]] = {}

    def _call(self, frame: FrameType, event: str, arg: Any) -> Any:
        path = self.watched.get(frame.f_code.co_filename)
        if path is None:
            return None
        if frame.f_lineno:  # a module's frame starts at line 0
            self.current.add((path, frame.f_lineno))
        return self._line

    def _line(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            self.current.add((self.watched[frame.f_code.co_filename], frame.f_lineno))
        return self._line

    def start(self) -> None:
        """Trace from now on, in this thread and in threads started later."""
        sys.settrace(self._call)
        threading.settrace(self._call)

    def stop(self) -> None:
        """Stop tracing."""
        sys.settrace(None)
        threading.settrace(None)  # type: ignore[arg-type]

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: Any, nextitem: Any) -> Any:  # noqa: D102
        self.current = self.per_test.setdefault(item.nodeid, set())
        try:
            yield
        finally:
            self.current = self.setup

    def document(self) -> dict[str, Any]:
        """``{"setup": {path: [lines]}, "tests": {nodeid: {path: [lines]}}}``."""
        return {
            "setup": _by_file(self.setup),
            "tests": {nodeid: _by_file(lines) for nodeid, lines in self.per_test.items()},
        }


def _by_file(lines: set[tuple[str, int]]) -> dict[str, list[int]]:
    files: dict[str, list[int]] = {}
    for path, line in sorted(lines):
        files.setdefault(path, []).append(line)
    return files
