"""Run a pytest session in this process and describe it as data.

The outcome of every test comes from pytest's own report hooks, never from the
terminal output, which the code under test could print to. A session that does
not reach its end (the candidate exits at import, say) is marked incomplete.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import Any

RESULT_VERSION = 1


class Collector:
    """A pytest plugin that records collection and per-test outcomes."""

    def __init__(self) -> None:
        self.tests: dict[str, str] = {}
        self.collected = 0
        self.collection_errors: list[dict[str, str]] = []
        self.finished = False
        self.exit_status: int | None = None

    def pytest_collectreport(self, report: Any) -> None:  # noqa: D102 - pytest hook
        if report.failed:
            self.collection_errors.append(
                {"nodeid": report.nodeid, "error": str(report.longrepr)[-4000:]}
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

    def pytest_sessionfinish(self, session: Any, exitstatus: int) -> None:  # noqa: D102
        self.finished = True
        self.exit_status = int(exitstatus)


def run_session(src: str, args: list[str], scratch: str) -> dict[str, Any]:
    """Run pytest on `args` (relative to the tree `src`) and return the result document."""
    import pytest

    collector = Collector()
    targets = [a if a.startswith("-") else os.path.join(src, a) for a in args] or [src]
    argv = [
        "--rootdir",
        src,
        "-p",
        "no:cacheprovider",
        "-q",
        "--basetemp",
        os.path.join(scratch, "pytest-tmp"),
        *targets,
    ]
    started = time.monotonic()
    crash = None
    try:
        status = int(pytest.main(argv, plugins=[collector]))
    except BaseException as exc:  # the code under test may raise SystemExit at import
        status, crash = None, f"{type(exc).__name__}: {exc}"
    return {
        "v": RESULT_VERSION,
        "complete": collector.finished and crash is None,
        "exit_status": collector.exit_status if status is None else status,
        "collected": collector.collected,
        "tests": collector.tests,
        "counts": dict(Counter(collector.tests.values())),
        "collection_errors": collector.collection_errors,
        "duration": time.monotonic() - started,
        "crash": crash,
    }
