"""Whole code cycles on real git repositories, with candidates run by the local fake backend.

The fake (`tests/fakes/local_backend.py`) runs the real runners in a plain
subprocess with no isolation, so selection, commit, verification, revert and
recovery are tested in seconds; the same cycles with the real Docker sandbox
are tested in tests/daemon/test_cycle.py.
"""

from __future__ import annotations

import subprocess

import pytest

from daemon.cycles import baseline, code, run_cycle
from daemon.cycles.code import CodeCycle
from daemon.cycles.search import CandidateScheduler
from daemon.ledger import Identity, format_message, open_ledger
from daemon.registry import load_registry
from daemon.store import open_store
from policies.status import CycleStatus

from ..daemon.test_cycle import make_target


def git(repo, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


def cycle(tmp_path, local_backend, **options):
    targets, state = make_target(tmp_path)
    spec = load_registry(targets, state).get("calc")
    with open_store(state) as store:
        report = run_cycle(spec, state, local_backend, store, **options)
        rows = store.cycles("calc")
    return spec, report, rows


def test_a_repair_is_one_commit_and_the_tree_stays_clean(tmp_path, local_backend):
    spec, report, rows = cycle(tmp_path, local_backend)
    assert report.status == CycleStatus.ACCEPTED, report.reason
    assert report.baseline_score < report.best_score == 1.0
    assert git(spec.repo, "rev-list", "--count", "HEAD").strip() == "2"
    assert git(spec.repo, "status", "--porcelain") == ""
    assert "return a + b" in (spec.repo / "calc" / "ops.py").read_text()
    assert [r["status"] for r in rows] == ["accepted"]
    assert open_ledger(spec).log("calc")[0]["trailers"]["Cycle"] == "1"


@pytest.mark.slow  # a cycle, its commit and the revert: about 3 s
def test_a_failed_verification_is_reverted_with_history_kept(tmp_path, local_backend, monkeypatch):
    monkeypatch.setattr(CodeCycle, "verify", lambda self: "a test failed on the second run")
    spec, report, _ = cycle(tmp_path, local_backend)
    assert report.status == CycleStatus.REVERTED
    assert "a test failed on the second run" in report.reason
    assert git(spec.repo, "rev-list", "--count", "HEAD").strip() == "3"
    assert "return a - b" in (spec.repo / "calc" / "ops.py").read_text()  # as before
    assert git(spec.repo, "status", "--porcelain") == ""
    [revert, accept] = open_ledger(spec).log("calc")
    assert revert["trailers"]["Reverts"] == accept["sha"] and accept["reverted"]


def test_a_cycle_stops_before_its_first_batch_and_commits_nothing(tmp_path, local_backend):
    import threading

    stop = threading.Event()
    stop.set()
    spec, report, _ = cycle(tmp_path, local_backend, stop=stop)
    assert report.status == CycleStatus.STOPPED and report.commit is None
    assert git(spec.repo, "rev-list", "--count", "HEAD").strip() == "1"


def test_uncommitted_edits_make_the_cycle_wait_and_touch_nothing(tmp_path, local_backend):
    targets, state = make_target(tmp_path)
    spec = load_registry(targets, state).get("calc")
    open_ledger(spec)  # made from the example
    edited = spec.repo / "calc" / "ops.py"
    edited.write_text(edited.read_text() + "# a human's edit\n")
    with open_store(state) as store:
        report = run_cycle(spec, state, local_backend, store)
    assert report.status == CycleStatus.WAITING and "calc/ops.py" in report.reason
    assert edited.read_text().endswith("# a human's edit\n")


def test_a_commit_cut_short_by_a_crash_is_finished_before_the_cycle(tmp_path, local_backend):
    targets, state = make_target(tmp_path)
    spec = load_registry(targets, state).get("calc")
    ledger = open_ledger(spec)
    path = spec.repo / "calc" / "ops.py"
    old = path.read_text()
    message = format_message("calc: a repair", "", {"Target": "calc", "Cycle": 0})
    ledger.commit_file("calc/ops.py", old.replace("a - b", "a + b"), message)
    path.write_text(old)  # as if killed between moving the branch and writing the file
    with open_store(state) as store:
        report = run_cycle(spec, state, local_backend, store)
    assert any("cut short by a crash" in action for action in report.recovered)
    assert "a + b" in path.read_text()
    assert report.status == CycleStatus.REJECTED  # all tests pass once the commit is finished


def test_a_share_of_the_budget_caps_the_candidates(tmp_path, local_backend):
    _, report, _ = cycle(tmp_path, local_backend, share=0.05)  # 60 * 0.05 = 3 candidates
    assert report.candidates <= 3


def test_a_share_outside_zero_to_one_is_refused(tmp_path, local_backend):
    with pytest.raises(ValueError, match="budget share"):
        cycle(tmp_path, local_backend, share=1.5)


@pytest.mark.slow  # two whole cycles: about 3 s
def test_the_identity_of_commits_comes_from_the_target(tmp_path, local_backend):
    spec, _, _ = cycle(tmp_path, local_backend)
    author = git(spec.repo, "log", "-1", "--format=%an <%ae>").strip()
    assert author == f"{Identity().name} <{Identity().email}>"


HANGING_OPS = """\
def add(a, b):
    while a != b:  # loops forever unless a == b
        a -= 1
    return a + b


def scale(values, factor):
    return [v * factor for v in values]
"""
HANGING_TESTS = """\
from calc.ops import add, scale


def test_add_same():
    assert add(2, 2) == 4


def test_add_hangs():
    assert add(1, 3) == 4


def test_scale():
    assert scale([1, 2], 3) == [3, 6]
"""


@pytest.mark.slow  # waits out per-test limits: about 7 s
def test_a_hanging_test_fails_alone_and_the_cycle_goes_on(tmp_path, local_backend, monkeypatch):
    monkeypatch.setattr(baseline, "MIN_TEST_TIMEOUT", 0.2)  # mutants that hang cost less
    extra = 'test_timeout = "1s"\n'  # a [sandbox] key: TARGET ends in that table
    targets, state = make_target(tmp_path, HANGING_OPS, HANGING_TESTS)
    toml = targets / "calc.toml"
    toml.write_text(toml.read_text() + extra)
    estimates = []

    def scheduler(*args, **kwargs):
        estimates.append(kwargs["estimate"])
        return CandidateScheduler(*args, **kwargs)

    monkeypatch.setattr(code, "CandidateScheduler", scheduler)
    spec = load_registry(targets, state).get("calc")
    with open_store(state) as store:
        report = run_cycle(spec, state, local_backend, store)
    assert report.baseline_score == 2 / 3, report.reason
    assert report.status == CycleStatus.ACCEPTED, report.reason
    assert report.best_score == 1.0
    # Until candidates are timed, one costs what the baseline did: its hung test included.
    assert estimates and estimates[0] >= 0.2


TWO_BUGS = """\
def add(a, b):
    return a - b


def scale(values, factor):
    return [v * factor * 2 for v in values]
"""
TWO_BUGS_TESTS = """\
from calc.ops import add, scale


def test_add():
    assert add(2, 3) == 5


def test_add_zero_right():
    assert add(3, 0) == 3


def test_scale():
    assert scale([1, 2], 3) == [3, 6]
"""


@pytest.mark.slow  # a whole catalogue, then its pairs: about 7 s
def test_two_edits_that_each_make_progress_are_combined_into_one_repair(tmp_path, local_backend):
    targets, state = make_target(tmp_path, TWO_BUGS, TWO_BUGS_TESTS)
    toml = targets / "calc.toml"
    toml.write_text(toml.read_text().replace("candidates = 60", "candidates = 2000"))
    spec = load_registry(targets, state).get("calc")
    with open_store(state) as store:
        report = run_cycle(spec, state, local_backend, store)
    assert report.status == CycleStatus.ACCEPTED, report.reason
    assert report.best_score == 1.0  # both defects in one cycle, not a partial commit
    source = (spec.repo / "calc" / "ops.py").read_text()
    assert "return a + b" in source and "v * factor" in source
    subject = git(spec.repo, "log", "-1", "--format=%s").strip()
    assert " and " in subject or "; " in subject, subject
    assert report.mutation["after"]["path"] == "calc/ops.py"


@pytest.mark.slow  # 32 candidates in two batches: about 8 s
def test_alternatives_run_past_the_repairs_batch_and_a_repair_still_wins(tmp_path, local_backend):
    """The fake local backend stands in for the sandbox: only the scheduler's limit is tested."""
    _, plain, _ = cycle(tmp_path / "plain", local_backend)
    targets, state = make_target(tmp_path / "wide", extra="[search]\nalternatives = 2\n")
    spec = load_registry(targets, state).get("calc")
    with open_store(state) as store:
        wide = run_cycle(spec, state, local_backend, store)
    assert plain.status == wide.status == CycleStatus.ACCEPTED
    assert plain.candidates == 30  # the repair came in the first batch (of 30, of 34 in all)
    assert wide.candidates == 32  # then two more
    assert "return a + b" in (spec.repo / "calc" / "ops.py").read_text()
