"""Run a pytest session in this process and describe it as data.

The outcome of every test comes from pytest's own report hooks, never from the
terminal output, which the code under test could print to. A session that does
not reach its end (the candidate exits at import, say) is marked incomplete.

For batches, `prepare` parses the command line, loads the plugins and the
initial conftests, configures and starts the session once in the harness; each
forked child then only collects, runs and finishes. That more than halves the
cost of a candidate. It leans on pytest internals (`_prepareconfig`), so any
failure to prepare falls back to a full `pytest.main` per child.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .overlay import is_test_file

RESULT_VERSION = 1
DETAIL_LIMIT = 2000
"""Characters kept of each failure's report."""


class Collector:
    """A pytest plugin that records collection and per-test outcomes."""

    def __init__(self) -> None:
        self.tests: dict[str, str] = {}
        self.failures: dict[str, str] = {}
        self.collected = 0
        self.collection_errors: list[dict[str, str]] = []
        self.finished = False
        self.exit_status: int | None = None

    def pytest_collectreport(self, report: Any) -> None:  # noqa: D102 - pytest hook
        if report.failed:
            self.collection_errors.append(
                {"nodeid": report.nodeid, "error": str(report.longrepr)[-4 * DETAIL_LIMIT :]}
            )

    def pytest_collection_finish(self, session: Any) -> None:  # noqa: D102 - pytest hook
        self.collected = len(session.items)

    def pytest_runtest_logreport(self, report: Any) -> None:  # noqa: D102 - pytest hook
        nodeid, previous = report.nodeid, self.tests.get(report.nodeid)
        if report.when == "call":
            if hasattr(report, "wasxfail"):
                outcome = "xfailed" if report.skipped else "xpassed"
            else:
                outcome = report.outcome
            self.tests[nodeid] = "error" if previous == "error" else outcome
        elif report.failed:
            self.tests[nodeid] = "error"
        elif report.skipped and previous is None:
            self.tests[nodeid] = "skipped"
        if report.failed:
            self.failures[nodeid] = report.longreprtext[-DETAIL_LIMIT:]

    def pytest_sessionfinish(self, session: Any, exitstatus: int) -> None:  # noqa: D102
        self.finished = True
        self.exit_status = int(exitstatus)

    def document(self, status: int | None, crash: str | None, duration: float) -> dict[str, Any]:
        """The result document of the session."""
        return {
            "v": RESULT_VERSION,
            "complete": self.finished and crash is None,
            "exit_status": self.exit_status if status is None else status,
            "collected": self.collected,
            "tests": self.tests,
            "counts": dict(Counter(self.tests.values())),
            "failures": self.failures,
            "collection_errors": self.collection_errors,
            "duration": duration,
            "crash": crash,
        }


def pytest_argv(src: str, args: list[str], scratch: str) -> list[str]:
    """The pytest command line: test paths are relative to the tree `src`."""
    targets = [a if a.startswith("-") else os.path.join(src, a) for a in args] or [src]
    return [
        "--rootdir", src,
        "-p", "no:cacheprovider",
        "-q",
        "--tb=native",  # cheaper than pytest's own traceback rendering, and as telling
        "--basetemp", os.path.join(scratch, "pytest-tmp"),
        *targets,
    ]  # fmt: skip


@dataclass
class Prepared:
    """A configured pytest session, started in the harness, for forked children to run."""

    config: Any
    session: Any


def _tree_modules(src: str) -> list[str]:
    root = os.path.realpath(src) + os.sep
    return [
        name
        for name, module in list(sys.modules.items())
        if os.path.realpath(getattr(module, "__file__", None) or "").startswith(root)
    ]


def prepare(src: str, args: list[str], scratch: str) -> Prepared | None:
    """Configure pytest and start its session once; None when that is unsafe or fails.

    Unsafe means preparing imported a module of the tree that is not a test or
    conftest file (a conftest that imports the code under test): children must
    import the candidate's version, so every module of the tree is then
    forgotten and each child runs pytest from the start.
    """
    try:
        from _pytest.config import _prepareconfig
        from _pytest.main import Session

        config = _prepareconfig(pytest_argv(src, args, scratch), plugins=[])
        config._do_configure()
        session = Session.from_config(config)
        session.exitstatus = 0
        config.hook.pytest_sessionstart(session=session)
    except Exception:
        return None
    modules = _tree_modules(src)
    if any(not is_test_file(sys.modules[name].__file__) for name in modules):
        config._ensure_unconfigure()
        for name in modules:
            del sys.modules[name]
        return None
    return Prepared(config, session)


def _run_prepared(prepared: Prepared) -> int:
    """The rest of pytest's `wrap_session`: collect, run, finish, unconfigure."""
    import pytest

    config, session = prepared.config, prepared.session
    try:
        try:
            config.hook.pytest_collection(session=session)
            config.hook.pytest_runtestloop(session=session)
            if session.testsfailed:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
            elif session.testscollected == 0:
                session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED
        except session.Failed:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        except (KeyboardInterrupt, pytest.exit.Exception, session.Interrupted):
            session.exitstatus = pytest.ExitCode.INTERRUPTED
        except BaseException:
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
            raise
    finally:
        try:
            config.hook.pytest_sessionfinish(session=session, exitstatus=session.exitstatus)
        finally:
            config._ensure_unconfigure()
    return int(session.exitstatus)


def run_session(
    src: str, args: list[str], scratch: str, prepared: Prepared | None = None
) -> dict[str, Any]:
    """Run pytest on `args` and return the result document.

    With `prepared` (in a forked child), only collection and the run remain.
    """
    import pytest

    collector = Collector()
    started = time.monotonic()
    crash = None
    status: int | None = None
    try:
        if prepared is None:
            status = int(pytest.main(pytest_argv(src, args, scratch), plugins=[collector]))
        else:
            prepared.config.pluginmanager.register(collector, "neuromutant-collector")
            status = _run_prepared(prepared)
    except BaseException as exc:  # the code under test may raise SystemExit at import
        status, crash = None, f"{type(exc).__name__}: {exc}"
    return collector.document(status, crash, time.monotonic() - started)
