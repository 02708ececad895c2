"""A code target: a Python module in a git repository, judged by its pytest suite.

Every path a code target names stays inside its repository: `files` globs, and
the path arguments of `tests` and `held_out` (pytest arguments, where options
such as ``-x`` or ``-k EXPR`` are fine, but ``/etc`` or ``../other`` are not).
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Literal

from pydantic import Field, field_validator

from daemon.registry.objective import Objective, TestsObjective
from daemon.registry.sections import Budget, SearchSpec, _Target

VALUE_OPTIONS = frozenset(
    {
        "-k",
        "-m",
        "-p",
        "-W",
        "-o",
        "-r",
        "--maxfail",
        "--tb",
        "--durations",
        "--durations-min",
        "--import-mode",
        "--capture",
        "--color",
        "--show-capture",
        "--log-level",
        "--override-ini",
        "--pythonwarnings",
    }
)
"""pytest options whose value is an expression or a word, never a path: not checked."""


def outside(path: str) -> bool:
    """Whether `path` (relative to the repository) would leave it: absolute, or with '..'."""
    pure = PurePosixPath(path.split("::", 1)[0])
    return pure.is_absolute() or ".." in pure.parts


def check_pytest_args(args: tuple[str, ...]) -> None:
    """Refuse a path argument outside the repository, and an option left without its value.

    Raises:
        ValueError: naming the argument.
    """
    expects_value = None
    for arg in args:
        if expects_value is not None:
            expects_value = None  # an expression (`-k "a or b"`), not a path
            continue
        option, equals, value = arg.partition("=")
        if arg.startswith("-"):
            if option in VALUE_OPTIONS:
                expects_value = None if equals else option
            elif equals and outside(value):
                raise ValueError(f"{arg!r}: {value!r} is outside the repository")
            continue
        if outside(arg):
            raise ValueError(
                f"{arg!r} is outside the repository: test paths are relative to it "
                "(no absolute path, no '..')"
            )
    if expects_value is not None:
        raise ValueError(f"{expects_value!r} needs a value after it")


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
    objective: Objective = TestsObjective()
    """What a better version is: more tests passing (repair), or a higher return or metric
    with every test passing (tuning; see `daemon.registry.objective`)."""

    @field_validator("files")
    @classmethod
    def _files_inside(cls, globs: tuple[str, ...]) -> tuple[str, ...]:
        for glob in globs:
            if outside(glob):
                raise ValueError(
                    f"{glob!r} is outside the repository: globs are relative to it "
                    "(no absolute path, no '..')"
                )
        return globs

    @field_validator("tests", "held_out")
    @classmethod
    def _tests_inside(cls, args: tuple[str, ...]) -> tuple[str, ...]:
        check_pytest_args(args)
        return args
