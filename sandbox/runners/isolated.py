"""Run each named test alone, in its own process: ``python -m nmrunners.isolated JOB``.

The independent verifier of an accepted change. It shares nothing with the
search runners (`batch`, `pytest_run`) but pytest and the signed result
channel (`channel`): this parent never imports code under test; each test
runs in a fresh child (`isolated_child`) whose verdict is taken from the
test's own call (did the setup, the test function and the teardown return
without an exception?), not from pytest's reports or our collector, and
comes back over the channel, whose key the child reads before importing
anything of the target. A test passes only if its child sent a valid signed
record saying so, then a valid end record, and exited. A forgery aimed at the search runner
(patched reports or collector, a forged result file, a pipe found through
/proc/self/fd, ``pytest.xfail()`` or ``pytest.skip()`` from code under test,
``os._exit`` after writing results) fails here, and the cycle refuses the
change: "evaluation disagreed: possible forgery".
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import channel, procs

CHILD_GRACE = 5.0
"""Seconds a child may take beyond the per-test limit (interpreter and pytest start-up)."""
RECORD_LIMIT = 64 * 1024
"""Bytes of records read from one child; more is a forgery or a flood."""


def run_one(job_path: str, nodeid: str, timeout: float) -> dict[str, Any]:
    """Run one test in a fresh child; its verdict, or why there is none."""
    link = channel.Link()  # the same signed channel as the launcher's, one per child
    command = [sys.executable, "-m", "nmrunners.isolated_child", job_path, nodeid]
    env = {**os.environ, channel.ENV: ",".join(str(fd) for fd in link.child_fds())}
    started = time.monotonic()
    child = subprocess.Popen(
        command,
        env=env,
        pass_fds=link.child_fds(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    key = link.started()  # made now, after the start: the child never copied it
    data, timed_out = _read(link.records, child, timeout + CHILD_GRACE)
    _kill_group(child)
    verdict = _judge(nodeid, channel.receive(data, key), child.returncode, timed_out)
    verdict["seconds"] = round(time.monotonic() - started, 3)
    return verdict


def _read(fd: int, child: subprocess.Popen[bytes], limit: float) -> tuple[bytes, bool]:
    """Everything the child writes on `fd`, up to `RECORD_LIMIT`, within `limit` seconds."""
    deadline = time.monotonic() + limit
    chunks, size = [], 0
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while size <= RECORD_LIMIT:
            left = deadline - time.monotonic()
            if left <= 0:
                os.close(fd)
                return b"".join(chunks), True
            if not selector.select(left):
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    os.close(fd)
    try:
        child.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return b"".join(chunks), True
    return b"".join(chunks), False


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    """End the child and everything it started (it leads its own session)."""
    with contextlib.suppress(OSError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()


def _judge(
    nodeid: str,
    received: tuple[dict[str, Any], str | None],
    status: int | None,
    timed_out: bool,
) -> dict[str, Any]:
    """The verdict on one test from its child's checked records and its exit."""
    bodies, error = received
    if timed_out:
        return {"passed": False, "reason": "ran past its time limit"}
    if error is not None:
        return {"passed": False, "reason": error}
    result = bodies.get("result")
    if not isinstance(result, dict) or "end" not in bodies:
        return {"passed": False, "reason": "the test's process ended without a complete verdict"}
    if result.get("test") != nodeid:
        return {"passed": False, "reason": f"a verdict for another test ({result.get('test')})"}
    if status != 0:
        return {"passed": False, "reason": f"its process exited with status {status}"}
    return {"passed": bool(result.get("passed")), "reason": str(result.get("reason", ""))}


def main(argv: list[str] | None = None) -> int:
    """Entry point: every test of the payload, alone; the verdicts over the channel."""
    send = channel.sender_from_env()  # the launcher's channel: no file a child could forge
    procs.hide_from_same_user()  # no child may open our descriptors through /proc
    args = sys.argv[1:] if argv is None else argv
    job = json.loads(Path(args[0]).read_text())
    payload = job["payload"]
    timeout = float(payload.get("test_timeout", 60.0))
    verdicts = {nodeid: run_one(args[0], nodeid, timeout) for nodeid in payload["tests"]}
    send("result", {"v": 1, "isolated": verdicts})
    send("end", None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
