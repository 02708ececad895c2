"""The git ledger on real repositories: one commit per change, reverts, crash safety."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

from daemon.ledger import Identity, Ledger, LedgerError, format_message

BUGGY = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"


@pytest.fixture
def ledger(tmp_path) -> Ledger:
    example = tmp_path / "example"
    (example / "calc").mkdir(parents=True)
    (example / "tests").mkdir()
    (example / "calc" / "__init__.py").write_text("")
    (example / "calc" / "ops.py").write_text(BUGGY)
    (example / "tests" / "test_ops.py").write_text("from calc.ops import add\n")
    return Ledger.create_from(tmp_path / "repo", example, "calc", Identity())


def git(ledger: Ledger, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ledger.path), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def message(cycle: int = 1) -> str:
    return format_message(
        "calc: use + in add()",
        "Operator: arith-swap at calc/ops.py:2",
        {"Target": "calc", "Cycle": cycle, "Score": "0.500 -> 1.000"},
    )


def test_a_change_is_exactly_one_commit_with_trailers(ledger):
    before = git(ledger, "rev-list", "--count", "HEAD")
    sha = ledger.commit_file("calc/ops.py", FIXED, message())
    assert int(git(ledger, "rev-list", "--count", "HEAD")) == int(before) + 1
    assert git(ledger, "status", "--porcelain") == ""
    assert (ledger.path / "calc/ops.py").read_text() == FIXED
    assert git(ledger, "log", "-1", "--format=%an <%ae>") == "Neuromutant <neuromutant@localhost>"
    trailers = git(ledger, "log", "-1", "--format=%(trailers:key=Neuromutant-Score,valueonly)")
    assert trailers == "0.500 -> 1.000"
    [entry] = ledger.log("calc")
    assert entry["sha"] == sha and entry["trailers"]["Cycle"] == "1"


def test_a_revert_is_a_commit_that_restores_the_file(ledger):
    sha = ledger.commit_file("calc/ops.py", FIXED, message())
    ledger.revert(sha, format_message('Revert "x"', "", {"Target": "calc", "Reverts": sha}))
    assert (ledger.path / "calc/ops.py").read_text() == BUGGY
    assert git(ledger, "status", "--porcelain") == ""
    entries = ledger.log("calc")
    assert [e["reverted"] for e in entries] == [False, True]


def test_a_dirty_file_is_never_touched(ledger):
    (ledger.path / "calc/ops.py").write_text(BUGGY + "# human edit\n")
    head = ledger.head()
    with pytest.raises(LedgerError, match="has uncommitted changes"):
        ledger.commit_file("calc/ops.py", FIXED, message())
    assert (ledger.path / "calc/ops.py").read_text() == BUGGY + "# human edit\n"
    assert ledger.head() == head


def test_a_stale_index_lock_is_removed_but_not_a_live_one(ledger):
    lock = ledger.path / ".git" / "index.lock"
    lock.write_text("")
    with open(lock):  # held open, as git does while it works
        assert ledger.recover() == []
        assert lock.exists()
    assert ledger.recover() == ["removed a stale .git/index.lock"]
    assert not lock.exists()


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from daemon.ledger import Identity, Ledger, format_message
    ledger = Ledger(Path(sys.argv[1]), Identity())
    original = ledger._git
    def deadly(*args, **kwargs):
        if args[0] == sys.argv[2] == "checkout":  # die just before writing the work tree
            os.kill(os.getpid(), signal.SIGKILL)
        out = original(*args, **kwargs)
        if args[0] == sys.argv[2]:  # die just after this step
            os.kill(os.getpid(), signal.SIGKILL)
        return out
    ledger._git = deadly
    msg = format_message("calc: use +", "", {"Target": "calc", "Cycle": 1})
    if sys.argv[3] == "code":
        ledger.commit_file("calc/ops.py", "def add(a, b):\\n    return a + b\\n", msg)
    elif sys.argv[3] == "weights":
        ledger.commit_files({"w/policy.pt": bytes(range(256)), "w/policy.json": "{}\\n"}, msg)
    else:  # revert the weights commit sys.argv[3]
        ledger.revert(sys.argv[3], msg)
    """
)


@pytest.mark.parametrize(
    "point", ["hash-object", "read-tree", "write-tree", "commit-tree", "update-ref", "checkout"]
)
def test_kill_9_during_a_commit_leaves_a_clean_repo(ledger, point):
    head = ledger.head()
    done = subprocess.run([sys.executable, "-c", KILLER, str(ledger.path), point, "code"])
    assert done.returncode == -signal.SIGKILL
    ledger = Ledger(ledger.path, Identity())
    ledger.recover()
    assert git(ledger, "status", "--porcelain") == ""
    assert not (ledger.path / ".git" / "index.lock").exists()
    on_disk = (ledger.path / "calc/ops.py").read_text()
    if point in ("update-ref", "checkout"):  # the branch moved: the commit stands, file follows
        assert ledger.head() != head and on_disk == FIXED
    else:  # nothing visible happened
        assert ledger.head() == head and on_disk == BUGGY
    git(ledger, "fsck", "--no-dangling")


def test_snapshot_is_the_committed_tree_readable_by_all(ledger, tmp_path):
    (ledger.path / "calc/ops.py").write_text("uncommitted")
    snap = ledger.snapshot(tmp_path / "snap")
    assert (snap / "calc/ops.py").read_text() == BUGGY
    assert (snap / "calc").stat().st_mode & 0o005 == 0o005


def test_files_never_include_tests(ledger):
    assert ledger.files(["**/*.py", "*/*.py"]) == ["calc/__init__.py", "calc/ops.py"]


WEIGHTS = bytes(range(256)) * 4  # not text: no byte of it may be mangled
METADATA = '{"policy_kwargs": {"hidden": [4]}}\n'


def test_binary_files_are_one_commit_and_a_revert_removes_what_it_added(ledger):
    head = ledger.head()
    sha = ledger.commit_files({"w/policy.pt": WEIGHTS, "w/policy.json": METADATA}, message())
    assert git(ledger, "show", "--name-only", "--format=", sha).split() == [
        "w/policy.json",
        "w/policy.pt",
    ]
    assert (ledger.path / "w/policy.pt").read_bytes() == WEIGHTS
    assert git(ledger, "status", "--porcelain") == ""
    revert = ledger.revert(sha, format_message('Revert "x"', "", {"Target": "calc"}))
    assert not (ledger.path / "w").exists()
    assert git(ledger, "status", "--porcelain") == ""
    assert git(ledger, "rev-parse", f"{revert}^{{tree}}") == git(
        ledger, "rev-parse", f"{head}^{{tree}}"
    )


def test_an_untracked_file_where_a_file_would_go_is_never_overwritten(ledger):
    (ledger.path / "w").mkdir()
    (ledger.path / "w/policy.pt").write_bytes(b"a human's weights")
    head = ledger.head()
    with pytest.raises(LedgerError, match="has uncommitted changes"):
        ledger.commit_files({"w/policy.pt": WEIGHTS}, message())
    assert (ledger.path / "w/policy.pt").read_bytes() == b"a human's weights"
    assert ledger.head() == head


@pytest.mark.parametrize("point", ["hash-object", "write-tree", "update-ref", "checkout"])
def test_kill_9_during_a_commit_of_weights_leaves_a_clean_repo(ledger, point):
    head = ledger.head()
    done = subprocess.run([sys.executable, "-c", KILLER, str(ledger.path), point, "weights"])
    assert done.returncode == -signal.SIGKILL
    ledger = Ledger(ledger.path, Identity())
    ledger.recover()
    assert git(ledger, "status", "--porcelain") == ""
    on_disk = (ledger.path / "w/policy.pt").read_bytes() if (ledger.path / "w").exists() else None
    if point in ("update-ref", "checkout"):  # the commit stands, and both files follow it
        assert ledger.head() != head and on_disk == bytes(range(256))
        assert (ledger.path / "w/policy.json").read_text() == "{}\n"
    else:
        assert ledger.head() == head and on_disk is None
    git(ledger, "fsck", "--no-dangling")


def test_kill_9_during_a_revert_that_removes_files_leaves_a_clean_repo(ledger):
    sha = ledger.commit_files({"w/policy.pt": WEIGHTS, "w/policy.json": METADATA}, message())
    done = subprocess.run([sys.executable, "-c", KILLER, str(ledger.path), "update-ref", sha])
    assert done.returncode == -signal.SIGKILL
    ledger = Ledger(ledger.path, Identity())
    assert ledger.recover() == [
        f"wrote w/policy.json of {ledger.head()[:12]}, cut short by a crash",
        f"wrote w/policy.pt of {ledger.head()[:12]}, cut short by a crash",
    ]
    assert not (ledger.path / "w/policy.pt").exists()
    assert git(ledger, "status", "--porcelain") == ""
