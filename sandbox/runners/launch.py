"""The sandbox's first process: run the job's command under its limits and report.

Usage: ``python -m nmrunners.launch JOB_FILE``. The job file (JSON, read-only)
names the command, its environment, its time and output limits. The command
runs as a child with its own pipes; only this process writes to the real
stdout, exactly one JSON line, so the candidate cannot forge the report.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import procs
from .capture import CappedStream
from .supervise import REPORT_VERSION, Supervisor, streams_report


def _preexec() -> None:
    procs.set_oom_score(1000)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _read_result(path: Path, limit: int) -> tuple[Any, str | None]:
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


def run(job: dict[str, Any]) -> dict[str, Any]:
    """Run the job's command and return the report (a JSON-ready dict)."""
    result_path = Path(job["result_path"])
    result_path.parent.mkdir(parents=True, exist_ok=True)
    result_path.unlink(missing_ok=True)
    env = {"PATH": "/usr/bin:/bin", **job.get("env", {})}
    supervisor = Supervisor()
    try:
        child = subprocess.Popen(
            job["command"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=job.get("cwd") or None,
            env=env,
            start_new_session=True,
            preexec_fn=_preexec,
        )
    except OSError as exc:
        return {"v": REPORT_VERSION, "error": f"cannot start {job['command'][0]!r}: {exc}"}
    stdout, stderr = CappedStream(job["output_limit"]), CappedStream(job["output_limit"])
    streams = {child.stdout.fileno(): stdout, child.stderr.fileno(): stderr}
    report = supervisor.finish(child.pid, streams, job["timeout"])
    # Reaped already: tell Popen, so it never waits for the pid again.
    child.returncode = report["exit_code"] if report["signal"] is None else -report["signal"]
    child.stdout.close()
    child.stderr.close()
    result, result_error = _read_result(result_path, job["result_limit"])
    return {
        **report,
        **streams_report(stdout, stderr),
        "result": result,
        "result_error": result_error,
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
