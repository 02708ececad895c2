"""Targets that forge their own verdict: one catalogue mutation turns the forgery on.

Each target's real defect cannot be repaired by one mutation (``add`` returns a
constant), so the only candidates that "pass" are forgeries: the cycle must
commit nothing and say why in its history. Real Docker, real git.
"""

from __future__ import annotations

import subprocess
import textwrap

import pytest

from daemon.cycles import run_cycle
from daemon.registry import load_registry
from daemon.store import open_store
from policies.status import CycleStatus
from sandbox.confirm import confirm
from sandbox.job import Limits

from ..daemon.test_cycle import make_target

TESTS = """\
from calc.ops import add


def test_add():
    assert add(2, 3) == 5


def test_add_more():
    assert add(1, 1) == 2


def test_add_is_callable():
    assert callable(add)
"""
DEFECT = """

def add(a, b):
    return 42
"""
FORGERIES = {
    "report-patch": """\
FORGE = False
if FORGE:
    import _pytest.reports as _reports

    _made = _reports.TestReport.from_item_and_call.__func__

    def _passed(cls, item, call):
        report = _made(cls, item, call)
        report.outcome = "passed"
        return report

    _reports.TestReport.from_item_and_call = classmethod(_passed)
""",
    "collector-patch": """\
import sys

FORGE = False
if FORGE:
    for _name, _module in list(sys.modules.items()):
        _collector = getattr(_module, "Collector", None)
        if _name.startswith("nmrunners") and _collector is not None:
            _record = _collector.pytest_runtest_logreport

            def _passed(self, report, _record=_record):
                report.outcome = "passed"
                return _record(self, report)

            _collector.pytest_runtest_logreport = _passed
""",
    "result-channel": """\
import json
import os

FORGE = False


def _forge():
    ids = ["tests/test_ops.py::" + n for n in ("test_add", "test_add_more", "test_add_is_callable")]
    doc = {"v": 1, "complete": True, "exit_status": 0, "collected": 3,
           "tests": {i: "passed" for i in ids}, "counts": {"passed": 3}, "failures": {},
           "collection_errors": [], "duration": 0.1, "crash": None, "stopped": None,
           "tampered": []}
    data = json.dumps(doc).encode()
    for fd in range(3, 256):  # every pipe this process can write: the result channel among them
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:"):
                os.write(fd, data)
        except OSError:
            pass
    try:
        with open("/tmp/nm-result.json", "w") as forged:
            forged.write(json.dumps(doc))
    except OSError:
        pass
    os._exit(0)


if FORGE:
    _forge()
""",
    "xfail": """\
import pytest

FORGE = False


def _excuse():
    if FORGE:
        pytest.xfail("nothing to see here")
""",
    "skip": """\
import pytest

FORGE = False


def _excuse():
    if FORGE:
        pytest.skip("nothing to see here")
""",
}
EXCUSED = """

def add(a, b):
    _excuse()
    return 42
"""


def forging_target(tmp_path, kind: str):
    source = FORGERIES[kind] + (EXCUSED if kind in ("xfail", "skip") else DEFECT)
    compile(source, kind, "exec")
    extra = textwrap.dedent(
        """
        [search]
        order = "plain"
        """
    )
    targets, state = make_target(tmp_path, ops=source, tests=TESTS)
    text = (targets / "calc.toml").read_text().replace("candidates = 60", "candidates = 400")
    # Every mutation runs (up to 291 of result-channel's): in fewer, larger batches, two at
    # once. A candidate's limits are its own whatever its batch, so its verdict is the same.
    text = text.replace("batch = 30", "batch = 75\nparallel = 2")
    (targets / "calc.toml").write_text(text + extra)
    return load_registry(targets, state).get("calc"), state


@pytest.mark.parametrize("kind", sorted(FORGERIES))
def test_a_forged_verdict_never_becomes_a_commit(tmp_path, docker_backend, kind):
    spec, state = forging_target(tmp_path, kind)
    with open_store(state) as store:
        report = run_cycle(spec, state, docker_backend, store)
        [row] = store.cycles("calc")
    assert report.status != CycleStatus.ACCEPTED, report.reason
    assert report.commit is None
    count = subprocess.run(
        ["git", "-C", str(spec.repo), "rev-list", "--count", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert count == "1"
    assert row["reason"] == report.reason
    assert "forger" in report.reason, report.reason


@pytest.mark.parametrize("kind", sorted(FORGERIES))
def test_the_independent_runner_is_not_fooled_by_any_forgery(make_tree, docker_backend, kind):
    """Each forgery switched on, judged by the confirmation runner alone: nothing passes."""
    source = FORGERIES[kind].replace("FORGE = False", "FORGE = True")
    source += EXCUSED if kind in ("xfail", "skip") else DEFECT
    tree = make_tree({"calc/__init__.py": "", "calc/ops.py": source, "tests/test_ops.py": TESTS})
    tests = ["tests/test_ops.py::test_add", "tests/test_ops.py::test_add_more"]
    confirmation = confirm(docker_backend, tree, tests, overlays={}, limits=Limits(timeout=20))
    assert confirmation.problem is None
    assert sorted(confirmation.failed()) == tests, confirmation.verdicts


def test_the_independent_runner_passes_a_real_repair(make_tree, docker_backend):
    source = "def add(a, b):\n    return a + b\n"
    tree = make_tree({"calc/__init__.py": "", "calc/ops.py": source, "tests/test_ops.py": TESTS})
    tests = ["tests/test_ops.py::test_add", "tests/test_ops.py::test_add_more"]
    confirmation = confirm(docker_backend, tree, tests, overlays={}, limits=Limits(timeout=20))
    assert confirmation.problem is None and confirmation.failed() == {}


ORDER_DEPENDENT_OPS = """\
SEEN = []
SHORTCUT = False


def remember(value):
    SEEN.append(value)
    return value


def add(a, b):
    if SHORTCUT:
        return sum(SEEN) + 4  # 5 only after test_a_remembers ran in the same process
    return 42
"""
ORDER_DEPENDENT_TESTS = """\
from calc.ops import add, remember


def test_a_remembers():
    assert remember(1) == 1


def test_add():
    assert add(2, 3) == 5
"""


def test_a_change_that_passes_only_in_the_search_runner_is_refused(tmp_path, docker_backend):
    """A test that passes only after another one ran: alone it fails, so nothing is committed."""
    targets, state = make_target(tmp_path, ops=ORDER_DEPENDENT_OPS, tests=ORDER_DEPENDENT_TESTS)
    spec = load_registry(targets, state).get("calc")
    with open_store(state) as store:
        report = run_cycle(spec, state, docker_backend, store)
        [row] = store.cycles("calc")
    assert report.status == CycleStatus.REJECTED and report.commit is None
    assert "evaluation disagreed: possible forgery" in report.reason
    assert "test_add" in report.reason and row["reason"] == report.reason
    assert "fail alone" in report.reason
