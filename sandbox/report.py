"""Turn the launcher's report and what the backend saw into a `Result`.

One classification for every backend, so `timeout`, `oom` and `killed` mean the
same thing whether Docker or bubblewrap ran the job.
"""

from __future__ import annotations

import json
import signal as signals
from typing import Any

from .job import Outcome, Output, Result


def parse_report(stdout: bytes) -> dict[str, Any] | None:
    """The launcher's single JSON line, or None when it never wrote one."""
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith(b"{"):
            try:
                report = json.loads(line)
            except ValueError:
                return None
            return report if isinstance(report, dict) and report.get("v") == 1 else None
    return None


def _output(raw: dict[str, Any] | None) -> Output:
    if not raw:
        return Output()
    return Output(raw.get("text", ""), raw.get("total_bytes", 0), bool(raw.get("truncated")))


def classify(
    report: dict[str, Any] | None,
    *,
    wall_time: float,
    killed_for_time: bool = False,
    oom_killed: bool = False,
    launcher_error: str = "",
) -> Result:
    """Decide the outcome of one job.

    Args:
        report: the launcher's report, None if it wrote none.
        wall_time: seconds the backend measured, used when the report is missing.
        killed_for_time: the backend killed the whole sandbox at its deadline.
        oom_killed: the container state says the OOM killer struck.
        launcher_error: what the launcher printed on stderr, for the detail.
    """
    if report is None or "error" in report:
        return _unreported(report, wall_time, killed_for_time, oom_killed, launcher_error)

    hits: list[str] = []
    stdout, stderr = _output(report.get("stdout")), _output(report.get("stderr"))
    if stdout.truncated or stderr.truncated:
        hits.append("output")
    if report.get("pids_limit_hits"):
        hits.append("pids")
    if report.get("result_error"):
        hits.append("result")
    exit_code, sig = report.get("exit_code"), report.get("signal")
    oom = bool(report.get("oom_kills")) or oom_killed
    if report.get("timed_out") or killed_for_time:
        outcome, detail = Outcome.TIMEOUT, "ran past its time limit and was killed"
        hits.insert(0, "timeout")
    elif oom and (sig == signals.SIGKILL or exit_code != 0):
        outcome, detail = Outcome.OOM, "killed by the out-of-memory killer"
        hits.insert(0, "memory")
    elif sig is not None:
        outcome, detail = Outcome.KILLED, f"ended by signal {signals.Signals(sig).name}"
    elif exit_code == 0:
        outcome, detail = Outcome.OK, ""
    else:
        outcome, detail = Outcome.FAILED, f"exited with status {exit_code}"
    if report.get("result_error"):
        detail = "; ".join(filter(None, [detail, report["result_error"]]))
    return Result(
        outcome=outcome,
        exit_code=exit_code,
        wall_time=float(report.get("wall_time", wall_time)),
        stdout=stdout,
        stderr=stderr,
        peak_memory=report.get("peak_memory"),
        result=report.get("result"),
        signal=sig,
        limits_hit=tuple(hits),
        detail=detail,
    )


def _unreported(
    report: dict[str, Any] | None,
    wall_time: float,
    killed_for_time: bool,
    oom_killed: bool,
    launcher_error: str,
) -> Result:
    """The outcome of a job whose launcher wrote no report (or only an error)."""
    if killed_for_time:
        return Result(
            Outcome.TIMEOUT,
            None,
            wall_time,
            limits_hit=("timeout",),
            detail="the sandbox ran past its deadline and was killed",
        )
    if oom_killed:
        return Result(
            Outcome.OOM,
            None,
            wall_time,
            limits_hit=("memory",),
            detail="the sandbox ran out of memory before it could report",
        )
    why = (report or {}).get("error") or launcher_error.strip()[-2000:] or "no report"
    return Result(Outcome.ERROR, None, wall_time, detail=f"the sandbox failed: {why}")
