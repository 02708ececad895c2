"""Hostile candidates against each real backend: each is contained and classified.

Nothing here is mocked: Docker tests run real containers, bwrap tests real
namespaces. Where bubblewrap cannot do what Docker does (no cgroup: memory is
an address-space rlimit, no pids accounting), the test says so and asserts
what bubblewrap does instead.
"""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

import pytest

from sandbox.job import SRC, WORK, Job, Limits, Outcome

from ..conftest import CALC

SMALL = Limits(timeout=20.0, memory=256 * 1024**2, pids=64, output=4096)


def run(backend, tree: Path, code: str, **limits) -> object:
    fields = {**SMALL.__dict__, **limits}
    return backend.run(Job(tree=tree, command=["{python}", "-c", code], limits=Limits(**fields)))


@pytest.fixture
def tree(make_tree):
    return make_tree(CALC)


def test_a_plain_job_succeeds(backend, tree):
    result = run(backend, tree, "import os; print(os.getuid(), sorted(os.listdir('/sandbox/src')))")
    assert result.outcome is Outcome.OK, result.detail
    assert result.stdout.text == "65534 ['calc', 'tests']\n"
    assert result.peak_memory and result.peak_memory > 1024**2


def test_infinite_loop_times_out(backend, tree):
    result = run(backend, tree, "while True: pass", timeout=1.5)
    assert result.outcome is Outcome.TIMEOUT
    assert "timeout" in result.limits_hit
    assert 1.5 <= result.wall_time < 10


@pytest.mark.slow  # waits out its 4 s timeout, then checks the host still forks
def test_fork_bomb_is_contained(backend, tree):
    code = "import os\nwhile True:\n    try: os.fork()\n    except OSError: pass"
    result = run(backend, tree, code, timeout=4.0, pids=32)
    assert result.outcome in (Outcome.TIMEOUT, Outcome.FAILED)
    if backend.name == "docker":
        assert "pids" in result.limits_hit  # the pids cgroup refused forks
    pid = os.fork()  # the host can still make processes
    if pid == 0:
        os._exit(0)
    assert os.waitpid(pid, 0)[1] == 0
    assert run(backend, tree, "print('still fine')").stdout.text == "still fine\n"


def test_memory_bomb(backend, tree):
    code = "x = []\nwhile True: x.append(bytearray(16 * 2**20))"
    result = run(backend, tree, code, memory=192 * 1024**2)
    if backend.name == "docker":
        assert result.outcome is Outcome.OOM
        assert "memory" in result.limits_hit
    else:  # bubblewrap: an address-space rlimit makes the allocation fail instead
        assert result.outcome is Outcome.FAILED
        assert "MemoryError" in result.stderr.text


def test_huge_output_is_capped_and_marked(backend, tree):
    code = "import sys\nfor _ in range(800): sys.stdout.write('y' * 65536)\nprint('end')"
    result = run(backend, tree, code, output=10_000)
    assert result.outcome is Outcome.OK
    assert result.stdout.truncated and "output" in result.limits_hit
    assert len(result.stdout.text) == 10_000
    assert result.stdout.total_bytes == 800 * 65536 + 4
    assert "truncated" in str(result.stdout)


def test_no_network(backend, tree):
    """The only interface is loopback, and the host's loopback is not it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    port = listener.getsockname()[1]
    code = (
        "import socket\n"
        "print(sorted(name for _, name in socket.if_nameindex()))\n"
        f"socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
    )
    result = run(backend, tree, code)
    assert result.stdout.text == "['lo']\n"
    assert result.outcome is Outcome.FAILED
    assert "ConnectionRefusedError" in result.stderr.text
    with pytest.raises(BlockingIOError):
        listener.accept()  # nothing reached the host
    listener.close()


def test_cannot_write_outside_the_work_dir(backend, tree, tmp_path):
    canary = Path.home() / f".neuromutant-canary-{uuid.uuid4().hex}"
    canary.write_text("untouched")
    try:
        targets = [f"{SRC}/calc/ops.py", "/etc/passwd", "/usr/evil", str(canary), str(tree / "x")]
        code = (
            "import sys\n"
            f"open('{WORK}/scratch.txt', 'w').write('mine')\n"
            f"for path in {targets!r}:\n"
            "    try:\n"
            "        open(path, 'w').write('pwned')\n"
            "        print('WROTE', path)\n"
            "    except OSError as exc:\n"
            "        print('refused', path, type(exc).__name__)\n"
        )
        result = run(backend, tree, code)
        assert result.outcome is Outcome.OK, result.stderr
        assert "WROTE" not in result.stdout.text.replace(f"WROTE {canary}", "")
        assert canary.read_text() == "untouched"
        assert "a - b" in (tree / "calc/ops.py").read_text()
        assert not (tree / "x").exists()
    finally:
        canary.unlink()


def test_host_secret_is_not_visible(backend, tree):
    secret = Path.home() / f".neuromutant-secret-{uuid.uuid4().hex}"
    secret.write_text("hunter2")
    try:
        code = f"print(open({str(secret)!r}).read())"
        result = run(backend, tree, code)
        assert result.outcome is Outcome.FAILED
        assert "FileNotFoundError" in result.stderr.text
        assert "hunter2" not in result.stdout.text + result.stderr.text
    finally:
        secret.unlink()


def test_a_crashing_command_is_killed_by_its_signal(backend, tree):
    result = run(backend, tree, "import os; os.abort()")
    assert result.outcome is Outcome.KILLED
    assert result.signal == 6


def test_a_straggler_process_does_not_outlive_the_job(backend, tree):
    code = (
        "import os, subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'],"
        " start_new_session=True)\n"
        "print('left a child behind')\n"
    )
    result = run(backend, tree, code, timeout=10.0)
    assert result.outcome is Outcome.OK
    assert result.wall_time < 10.0
