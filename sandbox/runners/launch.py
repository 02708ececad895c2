"""The sandbox's first process: run the job's command under its limits and report.

Usage: ``python -m nmrunners.launch JOB_FILE``. The job file (JSON, read-only)
names the command, its environment, its time and output limits. The command
runs as a child with its own pipes; only this process writes to the real
stdout, exactly one JSON line, so the candidate cannot forge the report.

A job with ``channel`` gets its result over an authenticated pipe
(`channel`), never from a file the candidate could write. A job with
``watch`` must keep printing lines (the batch harness prints one on stderr
per candidate started, and one on stdout per candidate finished): one that
goes quiet for longer,
because a candidate stopped or killed it, is killed, and the report keeps
every line it printed before.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import channel, procs
from .capture import CappedStream, Heartbeat
from .supervise import REPORT_VERSION, Supervisor, streams_report


def _preexec() -> None:
    procs.set_oom_score(1000)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _read_result(path: Path, limit: int) -> tuple[Any, str | None]:
    """The result file of a job without a channel (gym runs)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"cannot read result file {path}: {exc}"
    if size > limit:
        return None, f"result file {path} has {size} bytes, over the limit of {limit}"
    try:
        return json.loads(path.read_bytes()), None
    except (OSError, ValueError) as exc:
        return None, f"result file {path} is not JSON: {exc}"


def _start(job: dict[str, Any], link: channel.Link | None) -> subprocess.Popen[bytes]:
    env = {"PATH": "/usr/bin:/bin", **job.get("env", {})}
    if link is not None:
        env[channel.ENV] = ",".join(str(fd) for fd in link.child_fds())
    return subprocess.Popen(
        job["command"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=job.get("cwd") or None,
        env=env,
        start_new_session=True,
        preexec_fn=_preexec,
        pass_fds=link.child_fds() if link else (),
    )


def run(job: dict[str, Any]) -> dict[str, Any]:
    """Run the job's command and return the report (a JSON-ready dict)."""
    link = channel.Link() if job.get("channel") else None
    result_path = Path(job["result_path"])
    if link is None:
        result_path.parent.mkdir(parents=True, exist_ok=True)
        result_path.unlink(missing_ok=True)
    supervisor = Supervisor()
    try:
        child = _start(job, link)
    except OSError as exc:
        if link:
            link.started()  # closes the descriptors meant for the child
            os.close(link.records)
        return {"v": REPORT_VERSION, "error": f"cannot start {job['command'][0]!r}: {exc}"}
    key = link.started() if link else b""
    stdout, stderr = CappedStream(job["output_limit"]), CappedStream(job["output_limit"])
    streams = {child.stdout.fileno(): stdout, child.stderr.fileno(): stderr}
    records = CappedStream(job["result_limit"] + channel.OVERHEAD + 1)
    if link:
        streams[link.records] = records
    watch = job.get("watch")
    output_fds = (child.stdout.fileno(), child.stderr.fileno())
    heartbeat = Heartbeat(output_fds, **watch) if watch else None
    report = supervisor.finish(
        child.pid, streams, job["timeout"], heartbeat, job.get("scratch", ())
    )
    # Reaped already: tell Popen, so it never waits for the pid again.
    child.returncode = report["exit_code"] if report["signal"] is None else -report["signal"]
    child.stdout.close()
    child.stderr.close()
    if link:
        os.close(link.records)
        result, result_error = channel.result(records, key, job["result_limit"])
    else:
        result, result_error = _read_result(result_path, job["result_limit"])
    return {
        **report,
        **streams_report(stdout, stderr),
        "result": result,
        "result_error": result_error,
        "tampered": result_error == channel.TAMPERED,
    }


def main(argv: list[str] | None = None) -> int:
    """Entry point: read the job file, run, print one JSON line."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m nmrunners.launch JOB_FILE", file=sys.stderr)
        return 2
    procs.hide_from_same_user()
    procs.become_subreaper()
    job = json.loads(Path(args[0]).read_text())
    report = run(job)
    # The real stdout is ours alone: the child got pipes, never this descriptor.
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
