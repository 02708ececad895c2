"""Hostile examples and repositories: copies never follow links, state stays private.

Tests run as root, so a "root-only" file is readable anyway: what is checked is
that the link to it is refused and nothing of it is copied, not that reading fails.
"""

from __future__ import annotations

import grp
import logging
import os
import stat
import subprocess
from pathlib import Path

import pytest

from daemon.errors import StateDirError
from daemon.ledger import Identity, Ledger, LedgerError
from daemon.paths import STATE_GROUP, state_dir
from daemon.store import open_store
from sandbox.bwrap_backend import BwrapBackend
from sandbox.docker_backend import DockerBackend
from sandbox.evaluate import run_tests

from ..conftest import CALC

SECRET = "root-only secret\n"


@pytest.fixture(autouse=True)
def no_state_group(monkeypatch):
    monkeypatch.delenv(STATE_GROUP, raising=False)


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "host" / "shadow"
    path.parent.mkdir()
    path.write_text(SECRET)
    path.chmod(0o600)
    return path


@pytest.fixture
def example(tmp_path: Path) -> Path:
    root = tmp_path / "example"
    for rel, text in CALC.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def git(path: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def create(tmp_path: Path, example: Path) -> Ledger:
    return Ledger.create_from(tmp_path / "bots" / "calc", example, "calc", Identity())


def assert_nothing_made(tmp_path: Path) -> None:
    bots = tmp_path / "bots"
    assert not bots.exists() or list(bots.iterdir()) == []  # no repo, no half-made staging


# --- example copies ------------------------------------------------------------------


@pytest.mark.parametrize("relative", [False, True], ids=["absolute", "relative"])
def test_a_link_to_a_root_only_host_file_is_refused_and_nothing_is_made(
    tmp_path, example, secret, relative
):
    target = os.path.relpath(secret, example / "calc") if relative else str(secret)
    (example / "calc" / "data.txt").symlink_to(target)
    with pytest.raises(LedgerError) as raised:
        create(tmp_path, example)
    message = str(raised.value)
    assert "calc/data.txt" in message and target in message and "outside" in message
    assert_nothing_made(tmp_path)


def test_a_link_to_a_folder_holding_the_example_is_refused(tmp_path, example):
    (example / "calc" / "up").symlink_to("../..")  # above it: the folder with the state
    with pytest.raises(LedgerError, match=r"calc/up is a link to \.\./\.\., outside"):
        create(tmp_path, example)
    (example / "calc" / "up").unlink()
    (example / "calc" / "root").symlink_to("..")  # the example itself: an endless tree
    with pytest.raises(LedgerError, match=r"calc/root -> \.\. points to a folder that holds it"):
        create(tmp_path, example)
    assert_nothing_made(tmp_path)


def test_a_link_loop_is_refused(tmp_path, example):
    (example / "a").symlink_to("b")
    (example / "b").symlink_to("a")
    with pytest.raises(LedgerError, match=r"(a -> b|b -> a) is a link loop"):
        create(tmp_path, example)
    assert_nothing_made(tmp_path)


def test_folder_links_that_lead_into_each_other_are_refused(tmp_path, example):
    (example / "x").mkdir()
    (example / "y").mkdir()
    (example / "x" / "to_y").symlink_to("../y")
    (example / "y" / "to_x").symlink_to("../x")  # x/to_y/to_x/to_y/... never ends
    with pytest.raises(LedgerError, match="loop of folder links"):
        create(tmp_path, example)
    assert_nothing_made(tmp_path)


def test_a_fifo_is_refused_without_blocking(tmp_path, example):
    os.mkfifo(example / "calc" / "pipe")  # opening it to copy would wait for a writer
    with pytest.raises(LedgerError, match="calc/pipe is a FIFO"):
        create(tmp_path, example)
    assert_nothing_made(tmp_path)


def test_a_link_inside_the_example_stays_a_link(tmp_path, example):
    (example / "calc" / "alias.py").symlink_to("ops.py")
    (example / "lib").symlink_to("calc")
    ledger = create(tmp_path, example)
    alias = ledger.path / "calc" / "alias.py"
    assert alias.is_symlink() and os.readlink(alias) == "ops.py"
    assert os.readlink(ledger.path / "lib") == "calc"
    assert git(ledger.path, "ls-files", "-s", "calc/alias.py").startswith("120000 ")
    assert git(ledger.path, "status", "--porcelain") == ""
    snapshot = ledger.snapshot(tmp_path / "snap")
    assert os.readlink(snapshot / "calc" / "alias.py") == "ops.py"
    assert (snapshot / "lib" / "ops.py").read_text() == CALC["calc/ops.py"]


def test_the_copy_keeps_the_examples_modes_and_is_closed_to_others(tmp_path, example):
    (example / "calc" / "ops.py").chmod(0o640)
    (example / "calc").chmod(0o750)
    (example / "run.sh").write_text("#!/bin/sh\n")
    (example / "run.sh").chmod(0o4755)  # setuid: never on a copy root makes
    ledger = create(tmp_path, example)
    assert stat.S_IMODE((ledger.path / "calc" / "ops.py").stat().st_mode) == 0o640
    assert stat.S_IMODE((ledger.path / "calc").stat().st_mode) == 0o750
    assert stat.S_IMODE((ledger.path / "run.sh").stat().st_mode) == 0o755
    assert stat.S_IMODE(ledger.path.stat().st_mode) & 0o007 == 0


def test_the_examples_git_folder_and_its_hooks_are_not_copied(tmp_path, example):
    git(example, "init", "-q")
    hook = example / ".git" / "hooks" / "post-commit"
    pwned = tmp_path / "pwned"
    hook.write_text(f"#!/bin/sh\ntouch {pwned}\n")
    hook.chmod(0o755)
    ledger = create(tmp_path, example)
    assert not pwned.exists()
    assert git(ledger.path, "rev-list", "--count", "HEAD") == "1"


# --- snapshots -----------------------------------------------------------------------


@pytest.mark.parametrize("target", ["../../../neuromutant.db", "/etc/shadow"])
def test_a_snapshot_with_a_link_out_of_the_tree_is_refused(tmp_path, example, target):
    ledger = create(tmp_path, example)
    (ledger.path / "calc" / "db").symlink_to(target)  # committed by a human, say
    git(ledger.path, "add", "-A")
    git(ledger.path, "-c", "user.name=h", "-c", "user.email=h@x", "commit", "-qm", "link")
    dest = tmp_path / "snapshots" / "calc" / "tree"
    with pytest.raises(LedgerError, match=f"calc/db is a link to {target}, outside"):
        ledger.snapshot(dest)
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []  # no staging left either


# --- an empty repository -------------------------------------------------------------


def test_a_repository_without_a_commit_is_a_clear_error_and_nothing_changes(tmp_path):
    repo = tmp_path / "empty"
    git(tmp_path, "init", "-q", str(repo))
    (repo / "bot.py").write_text("x = 1\n")
    before = sorted(p.relative_to(repo) for p in repo.rglob("*"))
    ledger = Ledger(repo)
    calls = [
        ledger.head,
        ledger.tree,
        ledger.recover,
        lambda: ledger.files(["*.py"]),
        lambda: ledger.log("bot"),
        lambda: ledger.read("bot.py"),
        lambda: ledger.changed_since("HEAD"),
        lambda: ledger.snapshot(tmp_path / "snap"),
        lambda: ledger.commit_file("bot.py", "x = 2\n", "msg"),
    ]
    for call in calls:
        with pytest.raises(LedgerError, match="has no commit yet: commit the bot's code first"):
            call()
    assert sorted(p.relative_to(repo) for p in repo.rglob("*")) == before
    assert (repo / "bot.py").read_text() == "x = 1\n"
    assert not (tmp_path / "snap").exists()


# --- a private state folder ----------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_state_folder_its_database_and_bot_copies_are_private(tmp_path, example):
    state = state_dir(tmp_path / "state")
    assert mode(state) == 0o700
    with open_store(state) as store:
        store.start_cycle("calc", forced=True, head="h")
        files = [state / f"neuromutant.db{s}" for s in ("", "-wal", "-shm")]
        assert [mode(f) for f in files] == [0o600] * 3
    ledger = Ledger.create_from(state / "bots" / "calc", example, "calc", Identity())
    assert mode(ledger.path) & 0o007 == 0


def test_a_state_group_can_read_the_state(tmp_path, monkeypatch):
    group = grp.getgrgid(os.getgid()).gr_name
    monkeypatch.setenv(STATE_GROUP, group)
    state = state_dir(tmp_path / "state")
    assert mode(state) == 0o2750 and state.stat().st_gid == os.getgid()
    with open_store(state) as store:
        store.start_cycle("calc", forced=True, head="h")
        assert mode(state / "neuromutant.db") == mode(state / "neuromutant.db-wal") == 0o640


def test_an_unknown_state_group_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv(STATE_GROUP, "no-such-group-here")
    with pytest.raises(StateDirError, match=f"\\${STATE_GROUP} names no group"):
        state_dir(tmp_path / "state")
    assert not (tmp_path / "state").exists()


def test_a_world_readable_state_folder_of_the_user_is_warned_about_not_changed(tmp_path, caplog):
    mine = tmp_path / "mine"
    mine.mkdir()
    mine.chmod(0o755)
    with caplog.at_level(logging.WARNING, logger="daemon.paths"):
        assert state_dir(mine) == mine
    assert f"state directory {mine} is open to every user" in caplog.text
    assert mode(mine) == 0o755


def test_an_existing_open_database_is_closed_to_others(tmp_path):
    state = state_dir(tmp_path / "state")
    open_store(state).close()
    (state / "neuromutant.db").chmod(0o644)
    open_store(state).close()
    assert mode(state / "neuromutant.db") == 0o600


# --- the real sandboxes still read snapshots under a 0700 state folder ------------------


@pytest.mark.parametrize("backend", ["docker", "bwrap"])  # marked docker or bwrap by conftest
def test_a_cycle_runs_in_the_sandbox_with_a_private_state_folder(
    request, tmp_path, example, backend
):
    state = state_dir(tmp_path / "state")
    assert mode(state) == 0o700
    if backend == "docker":
        backend = DockerBackend(state, client=request.getfixturevalue("docker_client"))
    else:
        request.getfixturevalue("bwrap_backend")  # marks the test and checks bwrap works
        backend = BwrapBackend(state)
    ledger = Ledger.create_from(state / "bots" / "calc", example, "calc", Identity())
    snapshot = ledger.snapshot(state / "snapshots" / "calc" / ledger.tree())
    run = run_tests(backend, snapshot, ["tests"])
    assert run.valid, run.reason
    assert run.collected == 2
    assert dict(run.tests) == {
        "tests/test_ops.py::test_add": "failed",
        "tests/test_ops.py::test_mul": "passed",
    }
