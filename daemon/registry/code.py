"""A code target: a Python module in a git repository, judged by its pytest suite."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from daemon.registry.sections import Budget, SearchSpec, _Target


class CodeTarget(_Target):
    """A Python module in a git repository with a pytest suite."""

    kind: Literal["code"] = "code"
    files: tuple[str, ...] = Field(min_length=1)
    """Globs, relative to the repo, of what may be rewritten; tests never are."""
    tests: tuple[str, ...] = ("tests",)
    """pytest arguments, relative to the repo."""
    held_out: tuple[str, ...] = ()
    """pytest arguments run only when verifying an accepted change."""
    budget: Budget = Budget()
    search: SearchSpec = SearchSpec()
