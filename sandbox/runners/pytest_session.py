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

import contextlib
import os
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .deadline import Deadline
from .integrity import Seal
from .linecov import LineCoverage
from .overlay import is_test_file

RESULT_VERSION = 1
MAX_PRECOMPILED = 2000
"""Test files whose rewritten code the harness keeps for its children."""
VALUE_OPTIONS = frozenset(
    {"-k", "-m", "-p", "-W", "-o", "-r", "--maxfail", "--tb", "--durations", "--durations-min",
     "--import-mode", "--capture", "--color", "--show-capture", "--log-level", "--override-ini",
     "--pythonwarnings"}
)  # fmt: skip
"""pytest options whose value (the next argument) is an expression or a word, never a path:
the same list as `daemon.registry.code.VALUE_OPTIONS`, which runners may not import."""
DETAIL_LIMIT = 2000
"""Characters kept of each failure's report."""


class Collector:
    """A pytest plugin that records collection and per-test outcomes.

    Given `must_pass` (the tests that passed at baseline), it stops the session
    at the first of them that fails: such a candidate can never be accepted, so
    running the rest of its tests would only cost time.
    """

    def __init__(
        self,
        must_pass: frozenset[str] = frozenset(),
        seal: Seal | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        self.must_pass = must_pass
        self.seal = seal
        self.deadline = deadline or Deadline(None)
        self.durations: dict[str, float] = {}
        self.pluginmanager: Any = None
        self.tampered: list[str] = []
        self.stopped: str | None = None
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

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: Any) -> None:  # noqa: D102 - pytest hook
        self.pluginmanager = session.config.pluginmanager
        if self.seal is not None:
            self.seal.seal_hooks(self.pluginmanager)

    def pytest_collection_finish(self, session: Any) -> None:  # noqa: D102 - pytest hook
        self.collected = len(session.items)
        self.deadline.collected(self.collected)
        if self.seal is not None:  # conftest files may add hooks while collecting; nothing else
            strangers = _foreign_hooks(self.pluginmanager, self.seal)
            self.note_tampering(strangers)
            self.seal.seal_hooks(self.pluginmanager)
            self.check()

    def check(self) -> None:
        """Compare the runner with its seal; a change stops the session as a forgery."""
        if self.seal is not None:
            self.note_tampering(self.seal.broken(self.pluginmanager))

    def note_tampering(self, found: list[str]) -> None:
        """Record what code under test changed in the runner, and stop the session."""
        new = [f for f in found if f not in self.tampered]
        if new:
            self.tampered += new
            self.stopped = self.stopped or "the runner was tampered with"

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item: Any) -> Any:  # noqa: D102 - pytest hook
        with self.deadline.phase(item.nodeid):
            yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: Any) -> Any:  # noqa: D102 - pytest hook
        with self.deadline.phase(item.nodeid):
            yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_teardown(self, item: Any, nextitem: Any) -> Any:  # noqa: D102
        with self.deadline.phase(item.nodeid):
            yield

    def pytest_runtest_logreport(self, report: Any) -> None:  # noqa: D102 - pytest hook
        self.check()
        nodeid, previous = report.nodeid, self.tests.get(report.nodeid)
        self.durations[nodeid] = self.durations.get(nodeid, 0.0) + float(report.duration)
        if report.when == "teardown":
            self.deadline.finished()
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
        lost = self.tests.get(nodeid) not in (None, "passed")  # failed, or excused itself
        if lost and nodeid in self.must_pass and self.stopped is None:
            self.stopped = nodeid

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: Any, nextitem: Any) -> bool | None:  # noqa: D102
        # Once stopped, every later test is "handled" without running: cheaper than
        # session.shouldstop, whose interruption pytest renders as a traceback.
        return True if self.stopped else None

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
            "stopped": self.stopped,
            "tampered": self.tampered,
            "durations": self.durations,
            "timed_out": list(self.deadline.expired),
        }


def pytest_argv(src: str, args: list[str], scratch: str) -> list[str]:
    """The pytest command line: test paths are relative to the tree `src`."""
    targets, option_value = [], False
    for arg in args:  # a path is made absolute; an option's value (`-k EXPR`) is left alone
        targets.append(arg if arg.startswith("-") or option_value else os.path.join(src, arg))
        option_value = arg in VALUE_OPTIONS
    targets = targets or [src]
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
    _precompile_tests(src, args, config)
    return Prepared(config, session)


def _test_files(src: str, args: list[str]) -> list[Path]:
    found: list[Path] = []
    for arg in args or ["."]:
        if arg.startswith("-"):
            continue
        path = Path(src) / arg.split("::")[0]
        candidates = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        found += [p for p in candidates if is_test_file(p.name)]
    return found[:MAX_PRECOMPILED]


def _precompile_tests(src: str, args: list[str], config: Any) -> None:
    """Rewrite the test files' asserts once here, not in every child.

    pytest caches rewritten test modules as .pyc next to them, which a read-only
    tree forbids, so each child would parse and rewrite every test file again:
    more than half of a candidate's time on a 50-test suite. Test files are
    never part of a candidate, so their rewritten code is the same for all.
    """
    try:
        from _pytest.assertion import rewrite
    except ImportError:
        return
    original = getattr(rewrite, "_rewrite_test", None)
    if original is None:
        return
    cache: dict[str, Any] = {}
    for path in _test_files(src, args):
        with contextlib.suppress(Exception):  # a broken test file fails in the child
            cache[str(path)] = original(path, config)

    def rewrite_test(fn: Any, config: Any) -> Any:
        return cache.get(str(fn)) or original(fn, config)

    rewrite._rewrite_test = rewrite_test


def _run_prepared(prepared: Prepared) -> int:
    """The rest of pytest's `wrap_session`: collect, run, finish, unconfigure."""
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
        except (KeyboardInterrupt, pytest.exit.Exception):  # session.Interrupted among them
            session.exitstatus = pytest.ExitCode.INTERRUPTED
            excinfo = pytest.ExceptionInfo.from_current()
            config.hook.pytest_keyboard_interrupt(excinfo=excinfo)
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
    src: str,
    args: list[str],
    scratch: str,
    prepared: Prepared | None = None,
    must_pass: frozenset[str] = frozenset(),
    coverage: list[str] | None = None,
    limits: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run pytest on `args` and return the result document.

    With `prepared` (in a forked child), only collection and the run remain;
    with `must_pass`, the run stops at the first of those tests to fail; with
    `coverage` (files relative to `src`), the document gets each test's lines;
    with `limits` (``test_timeout`` and ``heap`` per test, ``session`` seconds in
    all), a test running longer or eating more fails alone (`deadline`).
    """
    limits = limits or {}
    deadline = Deadline(
        limits.get("test_timeout"), session=limits.get("session"), heap=limits.get("heap")
    )
    collector = Collector(must_pass, seal_runner(), deadline)
    seal = collector.seal
    plugins: list[Any] = [collector]
    lines = LineCoverage(src, coverage) if coverage else None
    if lines:
        plugins.append(lines)
        lines.start()
    started = time.monotonic()
    crash = None
    status: int | None = None
    try:
        if prepared is None:
            status = int(pytest.main(pytest_argv(src, args, scratch), plugins=plugins))
        else:
            for plugin in plugins:
                prepared.config.pluginmanager.register(plugin)
            status = _run_prepared(prepared)
    except BaseException as exc:  # the code under test may raise SystemExit at import
        where = traceback.format_exc(limit=-3)[-DETAIL_LIMIT:]
        status, crash = None, f"{type(exc).__name__}: {exc}\n{where}"
    finally:
        if lines:
            lines.stop()
    assert seal is not None
    # Before trusting its data; pytest has unconfigured (undone its own patches) by now.
    collector.note_tampering(seal.broken(removals=False))
    document = collector.document(status, crash, time.monotonic() - started)
    if lines:
        document["coverage"] = lines.document()
    return document


def seal_runner() -> Seal:
    """A seal over pytest's verdict machinery and this runner's own modules and collector."""
    ours = [name for name in sys.modules if name.startswith("nmrunners")]
    guarded = {name: sys.modules[name] for name in ours}
    return Seal({"Collector": Collector, **guarded}, modules=["pytest", "_pytest", *ours])


def _foreign_hooks(pluginmanager: Any, seal: Seal) -> list[str]:
    """Outcome hooks added during collection by anything but a conftest file."""
    found = []
    for hook, before in seal.hooks.items():
        caller = getattr(pluginmanager.hook, hook)
        for impl in caller.get_hookimpls():
            if id(impl.function) in before:
                continue
            origin = getattr(impl.plugin, "__file__", "") or ""
            if not origin.endswith("conftest.py"):
                found.append(f"a {hook} hook was added by {impl.plugin_name}")
    return found


def per_test_limits(payload: dict[str, Any], session: float | None) -> dict[str, Any]:
    """The per-test limits of a job's payload, within a session of `session` seconds."""
    return {
        "test_timeout": payload.get("test_timeout"),
        "heap": payload.get("data_limit"),
        "session": session,
    }
