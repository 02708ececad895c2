"""Evaluate many candidates of one target in one sandbox: ``python -m nmrunners.batch JOB``.

pytest (and any modules named in ``preload``) is imported once; each candidate
then runs in a forked child with its own scratch directory, its source given as
data through the import overlay, its own time limit and its own outcome. After
each child the harness kills every process it left, removes the IPC objects it
made (`ipc`), wipes the shared scratch filesystems, and only then starts the
next, so candidates cannot reach each other.

A child sends its result to the harness over an authenticated channel
(`channel`) whose key the harness makes after the fork; a record the child's
code forged fails its MAC and fails the candidate. The harness prints a line
on stderr when it starts a candidate, and the candidate's report, in the same
shape as the launcher's report, on stdout when it finishes: children never
hold those descriptors (theirs is a pipe of their own) and cannot open them
through /proc. The launcher watches those lines: a harness killed or stopped
by a candidate is caught quickly, and the lines it printed tell the host which
candidate was running.

With an ``objective`` in the payload, a candidate whose tests all passed is then
scored in a second forked child (`objective`), cleaned up after like the first;
the harness alone writes the ``objective`` part of the candidate's result.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import inspect
import json
import os
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from . import channel, ipc, objective, overlay, procs
from .capture import CappedStream
from .pytest_session import Prepared, per_test_limits, prepare, run_session
from .supervise import Supervisor, streams_report


def _warm_up(payload: dict[str, Any]) -> Prepared | None:
    """Import what every child needs; returns the prepared pytest session, or None."""
    import pytest  # noqa: F401 - imported once here so children inherit it

    if payload.get("objective", {}).get("kind") == "gym":  # before the tree is on sys.path
        objective.warm_up(payload["objective"])
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
    limits: dict[str, Any],
    out_fd: int,
    channel_fds: tuple[int, int],
) -> None:
    """Runs in the forked child; never returns."""
    status = 3
    try:
        send = channel.sender(*channel_fds)  # first: nothing of the candidate is imported yet
        procs.confine(src, overlays, scratch, out_fd)
        result = run_session(src, args, scratch, prepared, must_pass, limits=limits)
        send("result", result)
        send("end", None)
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
    job: dict[str, Any],
    index: int,
    candidate: dict[str, Any],
    prepared: Prepared | None,
    slate: ipc.Slate,
) -> dict[str, Any]:
    """Fork, run one candidate's tests, clean up after it, and report like the launcher does."""
    payload = job["payload"]
    scratch = os.path.join(payload["scratch"], f"c{index}")
    out_r, out_w = os.pipe()
    link = channel.Link()
    slate.snapshot()
    supervisor = Supervisor()
    pid = os.fork()
    if pid == 0:
        os.close(out_r)
        link.in_child()
        _child(
            payload["src"],
            payload.get("args", []),
            candidate.get("overlays", {}),
            scratch,
            prepared,
            frozenset(payload.get("must_pass", ())),
            per_test_limits(payload, payload["candidate_timeout"]),
            out_w,
            link.child_fds(),
        )
    os.close(out_w)
    key = link.started()
    output = CappedStream(payload["output_limit"])
    records = CappedStream(payload["result_limit"] + channel.OVERHEAD + 1)
    report = supervisor.finish(
        pid,
        {out_r: output, link.records: records},
        payload["candidate_timeout"],
        scratch=[payload["scratch"], *payload.get("wipe", [])],
    )
    os.close(out_r)
    os.close(link.records)
    slate.clean()
    result, result_error = channel.result(records, key, payload["result_limit"])
    if isinstance(result, dict):
        result.pop("objective", None)  # only the harness says what a candidate scored
        if payload.get("objective"):
            started = time.monotonic()
            result["objective"] = _score(payload, index, candidate, report, result, slate)
            report["wall_time"] += time.monotonic() - started  # a candidate's time is both
    return {
        **report,
        **streams_report(output),
        "id": candidate["id"],
        "n": index,
        "result": result,
        "result_error": result_error,
        "tampered": result_error == channel.TAMPERED,
    }


def _score(
    payload: dict[str, Any],
    index: int,
    candidate: dict[str, Any],
    report: dict[str, Any],
    result: dict[str, Any],
    slate: ipc.Slate,
) -> dict[str, Any]:
    """Score a candidate whose tests all passed, then clean up as after its tests."""
    passed = (
        report["exit_code"] == 0
        and not report["timed_out"]
        and result.get("exit_status") == 0
        and result.get("complete")
        and not (result.get("stopped") or result.get("tampered") or result.get("collection_errors"))
    )
    if not passed:
        return {"scores": None, "error": objective.NOT_SCORED, "steps": 0}
    _wipe([payload["scratch"], *payload.get("wipe", [])])  # a fresh slate, as for the next one
    slate.snapshot()
    try:
        return objective.score(
            payload["objective"],
            payload["src"],
            candidate.get("overlays", {}),
            os.path.join(payload["scratch"], f"c{index}-score"),
            payload.get("data_limit"),
        )
    finally:
        procs.kill_descendants()
        slate.clean()


def _emit(report: dict[str, Any], fd: int = 1) -> None:
    # Straight to the fd: pytest's prepared capture has replaced sys.stdout in this process.
    data = (json.dumps(report) + "\n").encode()
    while data:
        data = data[os.write(fd, data) :]


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
    slate = ipc.Slate()
    for index, candidate in enumerate(payload["candidates"]):
        # On stderr, so stdout holds only reports: progress, and who runs should we die.
        _emit({"start": index, "id": candidate["id"]}, fd=2)
        report = run_candidate(job, index, candidate, prepared, slate)
        _wipe([payload["scratch"], *payload.get("wipe", [])])
        _emit(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
