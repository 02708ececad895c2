"""Bad input from a hostile or careless target: a clear error naming what is wrong, and no change.

The target files' own validation is tested in tests/daemon/test_targets.py and
`nmctl targets` in tests/daemon/test_targets_cmd.py; here are the daemon's
answer to a forced cycle it cannot run, `nmctl cycle` without Docker, and a
baseline that does not even collect.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from daemon.errors import Error, TargetBusy
from daemon.locks import target_lock
from daemon.service import control
from daemon.service.scheduler import Service
from policies.status import CycleStatus

from ..daemon.test_cycle import cycle, git, make_target

GHOST = 'name = "ghost"\nrepo = "{state}/bots/ghost"\nfiles = ["g/*.py"]\n'
BROKEN_OPS = "def add(a, b):\n    return a +\n\n\ndef scale(values, factor):\n    return values\n"


def service(targets: Path, state: Path, backend: object) -> Service:
    """A daemon's scheduler on `targets`, loaded but not started (no threads)."""
    service = Service(state, targets, backend)
    service.reload()
    return service


def ghost(tmp_path: Path) -> tuple[Path, Path]:
    """A target whose repository is missing, with no example to recreate it from."""
    targets, state = tmp_path / "targets", tmp_path / "state"
    targets.mkdir()
    state.mkdir()
    (targets / "ghost.toml").write_text(GHOST)
    return targets, state


def test_a_forced_cycle_of_a_missing_repository_says_so_in_one_log_line(
    tmp_path, local_backend, caplog
):
    targets, state = ghost(tmp_path)
    nmd = service(targets, state, local_backend)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="nmd"), pytest.raises(Error) as caught:
        nmd.handle({"cmd": "cycle", "name": "ghost"}, lambda event: None)
    missing = f"its repository {state / 'bots' / 'ghost'} is missing"
    assert str(caught.value) == f"ghost: {missing} (and it has no example to recreate it from)"
    assert [r.getMessage() for r in caplog.records] == [str(caught.value)]
    assert list(state.iterdir()) == []  # no repository, no lock, no database
    assert not nmd.targets["ghost"].running


def test_the_client_gets_that_error_as_json(tmp_path, local_backend):
    targets, state = ghost(tmp_path)
    server = control.Server(tmp_path / "nmd.sock", service(targets, state, local_backend).handle)
    server.start()
    try:
        answers = list(control.request(tmp_path / "nmd.sock", {"cmd": "cycle", "name": "ghost"}))
    finally:
        server.close()
    [answer] = answers
    assert answer["ok"] is False
    assert answer["error"].startswith(f"ghost: its repository {state / 'bots' / 'ghost'}")
    assert "already running" not in answer["error"] and "stopping" not in answer["error"]


def test_already_running_is_said_only_when_a_cycle_runs(tmp_path, local_backend):
    targets, state = make_target(tmp_path)
    nmd = service(targets, state, local_backend)
    with target_lock(state, "calc"), pytest.raises(TargetBusy) as caught:
        nmd.handle({"cmd": "cycle", "name": "calc"}, lambda event: None)
    assert "a cycle of 'calc' is already running" in str(caught.value)
    assert "stopping" not in str(caught.value)
    assert not (state / "bots" / "calc").exists()  # the lock was tried first: nothing made


def test_stopping_is_said_only_when_nmd_stops(tmp_path, local_backend):
    targets, state = make_target(tmp_path)
    nmd = service(targets, state, local_backend)
    nmd.stopping.set()
    with pytest.raises(Error) as caught:
        nmd.handle({"cmd": "cycle", "name": "calc"}, lambda event: None)
    assert str(caught.value) == "calc: nmd is stopping; no new cycle starts"
    assert list(state.iterdir()) == []


def nmctl(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "daemon.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def test_a_local_cycle_without_docker_is_one_error_line_or_json(tmp_path):
    no_docker = {"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}
    state = tmp_path / "state"
    scripted = nmctl("cycle", "alpha", "--local", "--json", "--state", str(state), env=no_docker)
    assert scripted.returncode == 1
    answer = json.loads(scripted.stdout)
    assert answer["ok"] is False and "no Docker daemon answers" in answer["error"]
    text = nmctl("cycle", "alpha", "--local", "--state", str(state), env=no_docker)
    assert text.returncode == 1 and text.stdout == ""
    [line] = text.stderr.splitlines()
    assert line.startswith("nmctl: no Docker daemon answers")
    assert not (state / "bots" / "alpha").exists()  # the example was not even copied


def test_a_baseline_that_does_not_collect_changes_nothing(tmp_path, local_backend):
    targets, state = make_target(tmp_path, ops=BROKEN_OPS)
    report, spec = cycle(targets, state, local_backend)
    assert report.status == CycleStatus.ERROR and report.commit is None
    assert git(spec.repo, "rev-list", "--count", "HEAD") == "1"
    assert git(spec.repo, "status", "--porcelain") == ""


def test_a_syntax_error_at_baseline_names_the_file_and_line(tmp_path, docker_backend):
    targets, state = make_target(tmp_path, ops=BROKEN_OPS)
    report, _ = cycle(targets, state, docker_backend)  # the sandbox's own paths in the report
    assert "calc/ops.py:2" in report.reason and "SyntaxError" in report.reason


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"cmd": "cycle", "name": ["x"]}, "'name' must be a target's name, got list"),
        ({"cmd": "pause"}, "'name' must be a target's name, got NoneType"),
        ({"cmd": "log", "name": "calc", "limit": "x"}, "'limit' must be a number of commits"),
        ({"cmd": "log", "name": "calc", "limit": 10**9}, "'limit' must be a number of commits"),
    ],
)
def test_a_malformed_control_request_is_an_error_not_a_crash(tmp_path, request_, message):
    targets, state = make_target(tmp_path)
    with pytest.raises(Error, match=re.escape(message)):
        service(targets, state, backend=None).handle(request_, lambda event: None)
