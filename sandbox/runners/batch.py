"""Evaluate many candidates of one target in one sandbox: ``python -m nmrunners.batch JOB``.

pytest (and any modules named in ``preload``) is imported once; each candidate
then runs in a forked child with its own scratch directory, its source given as
data through the import overlay, its own time limit and its own outcome. After
each child the harness kills every process it left, wipes the shared scratch
filesystems, and only then starts the next, so candidates cannot reach each
other. Each candidate's report, in the same shape as the launcher's report,
is one JSON line on the harness's stdout: children never hold that descriptor
(theirs is a pipe of their own) and cannot open it through /proc, and a batch
cut short still returns the lines it finished.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import inspect
import json
import os
import resource
import shutil
import sys
import traceback
from pathlib import Path
from typing import Any

from . import overlay, procs
from .capture import CappedStream
from .pytest_session import Prepared, prepare, run_session
from .supervise import Supervisor, streams_report


def _warm_up(payload: dict[str, Any]) -> Prepared | None:
    """Import what every child needs; returns the prepared pytest session, or None."""
    import pytest  # noqa: F401 - imported once here so children inherit it

    for name in payload.get("preload", []):
        # A module that fails here fails again in the child, where it counts.
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    sys.path.insert(0, payload["src"])
    # The prepared session keeps copies of fds 1 and 2 for pytest's terminal output:
    # point them at /dev/null, so children report only through their result pipe.
    saved = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        prepared = prepare(payload["src"], payload.get("args", []), payload["scratch"])
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)
    if prepared is None:  # each child runs pytest.main: import its plugins here, once
        from _pytest.config import get_config

        get_config()
    # Fill inspect's module-by-file cache once: rendering a failure walks every module.
    inspect.getmodule(compile("", "<warm-up>", "exec"), "<warm-up>")
    gc.freeze()  # children then skip the harness's objects when collecting garbage
    return prepared


def _child(
    src: str,
    args: list[str],
    overlays: dict[str, str],
    scratch: str,
    prepared: Prepared | None,
    must_pass: frozenset[str],
    out_fd: int,
    result_fd: int,
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
        overlay.install(src, overlays)
        result = run_session(src, args, scratch, prepared, must_pass)
        data = json.dumps(result).encode()
        while data:
            data = data[os.write(result_fd, data) :]
        status = result["exit_status"] if isinstance(result["exit_status"], int) else 3
    except BaseException:  # the harness itself failed: say why on the candidate's output
        os.write(out_fd, traceback.format_exc().encode(errors="replace"))
    finally:
        os._exit(status)


def _mount_points() -> set[str]:
    points = set()
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            # Field 5 is the mount point, with spaces and the like escaped in octal.
            point = line.split()[4]
            points.add(point.encode().decode("unicode_escape"))
    return points


def _wipe(roots: list[str]) -> None:
    """Empty each root, sparing mount points (a virtual environment mounted under /tmp)."""
    mounts = _mount_points()

    def empty(directory: str) -> None:
        for entry in os.scandir(directory):
            if entry.path in mounts:
                continue
            if any(m.startswith(entry.path + "/") for m in mounts):
                empty(entry.path)
            elif entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)

    for root in roots:
        if os.path.isdir(root):
            empty(root)


def run_candidate(
    job: dict[str, Any], index: int, candidate: dict[str, Any], prepared: Prepared | None
) -> dict[str, Any]:
    """Fork, run one candidate's tests, and report like the launcher does."""
    payload = job["payload"]
    scratch = os.path.join(payload["scratch"], f"c{index}")
    out_r, out_w = os.pipe()
    res_r, res_w = os.pipe()
    supervisor = Supervisor()
    pid = os.fork()
    if pid == 0:
        os.close(out_r)
        os.close(res_r)
        _child(
            payload["src"],
            payload.get("args", []),
            candidate.get("overlays", {}),
            scratch,
            prepared,
            frozenset(payload.get("must_pass", ())),
            out_w,
            res_w,
        )
    os.close(out_w)
    os.close(res_w)
    output = CappedStream(payload["output_limit"])
    result_stream = CappedStream(payload["result_limit"] + 1)
    report = supervisor.finish(
        pid, {out_r: output, res_r: result_stream}, payload["candidate_timeout"]
    )
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
        **report,
        **streams_report(output),
        "id": candidate["id"],
        "result": result,
        "result_error": result_error,
    }


def _emit(report: dict[str, Any]) -> None:
    # Straight to fd 1: pytest's prepared capture has replaced sys.stdout in this process.
    data = (json.dumps(report) + "\n").encode()
    while data:
        data = data[os.write(1, data) :]


def main(argv: list[str] | None = None) -> int:
    """Entry point: run every candidate of the job file in turn, one report line each."""
    args = sys.argv[1:] if argv is None else argv
    job = json.loads(Path(args[0]).read_text())
    payload = job["payload"]
    procs.hide_from_same_user()  # our stdout carries the reports: no candidate may reach it
    procs.become_subreaper()
    for candidate in payload["candidates"]:
        overlay.check_overlay_paths(candidate.get("overlays", {}))
    prepared = _warm_up(payload)
    for index, candidate in enumerate(payload["candidates"]):
        report = run_candidate(job, index, candidate, prepared)
        _wipe([payload["scratch"], *payload.get("wipe", [])])
        _emit(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
