"""`nmctl sandbox` as a user runs it: a real process, real Docker, real exit codes."""

from __future__ import annotations

import ctypes
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

NMCTL = [sys.executable, "-m", "daemon.cli.main"]


def nmctl(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*NMCTL, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        **kwargs,
    )


def test_check_reports_each_step(docker_client, state):
    done = nmctl("sandbox", "check", "--json", "--state", str(state))
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True
    assert [s["step"] for s in report["steps"]] == ["docker", "image", "backend", "trivial job"]


def test_check_without_a_docker_daemon_says_so(state):
    done = nmctl(
        "sandbox",
        "check",
        "--state",
        str(state),
        env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"},
    )
    assert done.returncode == 1
    assert "FAIL docker: no Docker daemon answers" in done.stdout


def test_check_can_fall_back_to_bubblewrap_when_allowed(state):
    done = nmctl(
        "sandbox",
        "check",
        "--allow-bwrap",
        "--json",
        "--state",
        str(state),
        env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"},
    )
    report = json.loads(done.stdout)
    assert report["ok"] is True
    assert "bwrap (WEAKER isolation)" in [s["detail"] for s in report["steps"]]
    assert "WEAKER than Docker" in done.stderr


def test_check_with_a_missing_image_says_how_to_build_it(docker_client, state):
    done = nmctl("sandbox", "check", "--image", "neuromutant-sandbox:absent", "--state", str(state))
    assert done.returncode == 1
    assert "FAIL image: sandbox image 'neuromutant-sandbox:absent' not found" in done.stdout
    assert "nmctl sandbox build --offline" in done.stdout


def _without_file_permission_override() -> None:
    """Drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, so even root obeys file modes."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        libc.prctl(24, capability, 0, 0, 0)  # PR_CAPBSET_DROP


def test_check_without_permission_on_the_socket_says_so(state, tmp_path):
    sock_path = tmp_path / "docker.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(sock_path))
    listener.listen()
    os.chown(sock_path, 12345, 12345)
    sock_path.chmod(0o600)
    done = nmctl(
        "sandbox",
        "check",
        "--state",
        str(state),
        env={"DOCKER_HOST": f"unix://{sock_path}"},
        preexec_fn=_without_file_permission_override,
    )
    listener.close()
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"permission denied on the Docker socket {sock_path}" in done.stdout


def test_run_prints_the_structured_result(docker_client, state, tmp_path: Path):
    tree = tmp_path / "tree"
    tree.mkdir(mode=0o755)
    (tree / "hello.txt").write_text("hi from the tree")
    done = nmctl(
        "sandbox",
        "run",
        "--json",
        "--tree",
        str(tree),
        "--timeout",
        "20s",
        "--state",
        str(state),
        "--",
        "{python}",
        "-c",
        "print(open('/sandbox/src/hello.txt').read())",
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["outcome"] == "ok"
    assert result["stdout"]["text"] == "hi from the tree\n"


def test_run_exit_status_follows_the_outcome(docker_client, state):
    done = nmctl(
        "sandbox",
        "run",
        "--timeout",
        "1s",
        "--state",
        str(state),
        "--",
        "{python}",
        "-c",
        "while True: pass",
    )
    assert done.returncode == 1
    assert "[timeout]" in done.stdout


def test_bad_limits_name_the_option(state):
    done = nmctl("sandbox", "run", "--memory", "lots", "--state", str(state), "--", "true")
    assert done.returncode == 1
    assert "sandbox limit 'memory'" in done.stderr


def test_nmd_help():
    done = subprocess.run(
        [sys.executable, "-m", "daemon.service.nmd", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "The Neuromutant daemon" in done.stdout


def test_run_on_a_tree_the_sandbox_user_cannot_read_says_so(docker_client, state, tmp_path):
    tree = tmp_path / "private"
    tree.mkdir(mode=0o700)
    done = nmctl("sandbox", "run", "--tree", str(tree), "--state", str(state), "--", "true")
    assert done.returncode == 1
    assert f"the tree {tree} is not readable by the sandbox user" in done.stdout
