"""Run each named test alone, in its own process: ``python -m nmrunners.isolated JOB``.

The independent verifier of an accepted change. It shares nothing with the
search runners (`batch`, `pytest_run`) but pytest itself: this parent never
imports code under test; each test runs in a fresh child (`isolated_child`)
whose verdict is taken from the test's own call (did the setup, the test
function and the teardown return without an exception?), not from pytest's
reports or our collector, and comes back over a pipe as records signed with a
key the child read from another pipe before importing anything of the
target. A test passes only if its child sent a valid signed record saying so,
then a valid end record, and exited. A forgery aimed at the search runner
(patched reports or collector, a forged result file, a pipe found through
/proc/self/fd, ``pytest.xfail()`` or ``pytest.skip()`` from code under test,
``os._exit`` after writing results) fails here, and the cycle refuses the
change: "evaluation disagreed: possible forgery".
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
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


def sign(key: bytes, body: dict[str, Any]) -> str:
    """One record line: the body as canonical JSON and its HMAC-SHA256."""
    text = json.dumps(body, sort_keys=True)
    mac = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
    return json.dumps({"body": text, "mac": mac}) + "\n"


def verified(key: bytes, line: str) -> dict[str, Any] | None:
    """The body of a record line whose MAC is valid, else None."""
    try:
        record = json.loads(line)
        text, mac = record["body"], record["mac"]
        good = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
        return json.loads(text) if hmac.compare_digest(good, str(mac)) else None
    except (ValueError, KeyError, TypeError):
        return None


def run_one(job_path: str, nodeid: str, timeout: float) -> dict[str, Any]:
    """Run one test in a fresh child; its verdict, or why there is none."""
    key = secrets.token_bytes(32)
    key_read, key_write = os.pipe()
    out_read, out_write = os.pipe()
    os.write(key_write, key)
    os.close(key_write)
    command = [sys.executable, "-m", "nmrunners.isolated_child", job_path, nodeid,
               str(key_read), str(out_write)]  # fmt: skip
    started = time.monotonic()
    child = subprocess.Popen(
        command,
        pass_fds=(key_read, out_write),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    os.close(key_read)
    os.close(out_write)
    data, timed_out = _read(out_read, child, timeout + CHILD_GRACE)
    _kill_group(child)
    lines = data.decode("utf-8", "replace").splitlines()
    verdict = _judge(key, nodeid, lines, child.returncode, timed_out)
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
    key: bytes, nodeid: str, lines: list[str], status: int | None, timed_out: bool
) -> dict[str, Any]:
    """The verdict on one test from its child's records and exit."""
    if timed_out:
        return {"passed": False, "reason": "ran past its time limit"}
    bodies = [verified(key, line) for line in lines]
    if any(body is None for body in bodies):
        return {"passed": False, "reason": "a record with a bad signature: possible forgery"}
    results = [b for b in bodies if b and b.get("kind") == "result"]
    ends = [b for b in bodies if b and b.get("kind") == "end"]
    if len(results) != 1 or len(ends) != 1 or bodies[-1] is not ends[0]:
        return {"passed": False, "reason": "the test's process ended without a complete verdict"}
    result = results[0]
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
