"""Evaluate many candidates of one target in one sandbox: ``python -m nmrunners.batch JOB``.

pytest (and any modules named in ``preload``) is imported once; each candidate
then runs in a forked child with its own scratch directory, its source given as
data through the import overlay, its own time limit and its own outcome. After
each child the harness kills every process it left, wipes the shared scratch
filesystems, and only then starts the next, so candidates cannot reach each
other. The result file holds one report per candidate, in the same shape as
the launcher's report, and is rewritten after every candidate so a batch cut
short still returns what it finished.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import resource
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

from . import overlay, procs
from .capture import CappedStream, drain, pump
from .pytest_session import run_session


def _warm_up(preload: list[str]) -> None:
    import pytest  # noqa: F401 - imported once here so children inherit it
    from _pytest.config import get_config

    get_config()  # imports every built-in plugin module
    for name in preload:
        # A module that fails here fails again in the child, where it counts.
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def _child(
    src: str, args: list[str], overlays: dict[str, str], scratch: str, out_fd: int, result_fd: int
) -> None:
    """Runs in the forked child; never returns."""
    status = 3
    try:
        os.setsid()
        procs.set_oom_score(1000)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        os.makedirs(os.path.join(scratch, "tmp"))
        os.chdir(scratch)
        os.environ["TMPDIR"] = os.path.join(scratch, "tmp")
        os.environ["HOME"] = scratch
        sys.path.insert(0, src)
        overlay.install(src, overlays)
        result = run_session(src, args, scratch)
        data = json.dumps(result).encode()
        while data:
            data = data[os.write(result_fd, data) :]
        status = result["exit_status"] if isinstance(result["exit_status"], int) else 3
    finally:
        os._exit(status)


def _wipe(paths: list[str], keep: str) -> None:
    for root in paths:
        for entry in Path(root).iterdir() if os.path.isdir(root) else ():
            if str(entry) == keep:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def run_candidate(job: dict[str, Any], index: int, candidate: dict[str, Any]) -> dict[str, Any]:
    """Fork, run one candidate's tests, and report like the launcher does."""
    payload = job["payload"]
    scratch = os.path.join(payload["scratch"], f"c{index}")
    out_r, out_w = os.pipe()
    res_r, res_w = os.pipe()
    oom_before = procs.oom_kills() or 0
    pids_before = procs.pids_limit_hits() or 0
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(out_r)
        os.close(res_r)
        _child(
            payload["src"],
            payload.get("args", []),
            candidate.get("overlays", {}),
            scratch,
            out_w,
            res_w,
        )
    os.close(out_w)
    os.close(res_w)
    output = CappedStream(payload["output_limit"])
    result_stream = CappedStream(payload["result_limit"] + 1)
    streams = {out_r: output, res_r: result_stream}
    in_time = pump(streams, started + payload["candidate_timeout"], pid)
    if not in_time:
        for kill in (os.killpg, os.kill):
            with contextlib.suppress(ProcessLookupError):
                kill(pid, signal.SIGKILL)
    _, code, usage = os.wait4(pid, 0)
    ended = time.monotonic()
    procs.kill_descendants()
    drain(streams)
    os.close(out_r)
    os.close(res_r)
    result, result_error = None, None
    if result_stream.total > payload["result_limit"]:
        result_error = f"result over the limit of {payload['result_limit']} bytes"
    elif result_stream.total:
        try:
            result = json.loads(bytes(result_stream.kept))
        except ValueError as exc:
            result_error = f"result is not JSON: {exc}"
    return {
        "v": 1,
        "id": candidate["id"],
        "exit_code": os.WEXITSTATUS(code) if os.WIFEXITED(code) else None,
        "signal": os.WTERMSIG(code) if os.WIFSIGNALED(code) else None,
        "timed_out": not in_time,
        "wall_time": ended - started,
        "peak_memory": usage.ru_maxrss * 1024,
        "oom_kills": (procs.oom_kills() or 0) - oom_before,
        "pids_limit_hits": (procs.pids_limit_hits() or 0) - pids_before,
        "stdout": output.to_dict(),
        "stderr": CappedStream(0).to_dict(),
        "result": result,
        "result_error": result_error,
    }


def main(argv: list[str] | None = None) -> int:
    """Entry point: run every candidate of the job file in turn."""
    args = sys.argv[1:] if argv is None else argv
    job = json.loads(Path(args[0]).read_text())
    payload = job["payload"]
    procs.become_subreaper()
    for candidate in payload["candidates"]:
        overlay.check_overlay_paths(candidate.get("overlays", {}))
    _warm_up(payload.get("preload", []))
    result_path = job["result_path"]
    reports: list[dict[str, Any]] = []
    for index, candidate in enumerate(payload["candidates"]):
        reports.append(run_candidate(job, index, candidate))
        _wipe([os.path.join(payload["scratch"]), *payload.get("wipe", [])], keep=result_path)
        tmp = f"{result_path}.part"
        Path(tmp).write_text(json.dumps({"v": 1, "candidates": reports}))
        os.replace(tmp, result_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
