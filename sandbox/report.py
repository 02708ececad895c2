"""Turn the launcher's report and what the backend saw into a `Result`.

One classification for every backend, so `timeout`, `oom` and `killed` mean the
same thing whether Docker or bubblewrap ran the job.
"""

from __future__ import annotations

import json
import re
import signal as signals
from collections.abc import Mapping
from typing import Any

from .job import SRC, Outcome, Output, Result

SCRATCH_FULL = "wrote more than the sandbox's scratch space"


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
    if report.get("result_error") and not report.get("tampered"):
        hits.append("result")
    exit_code, sig = report.get("exit_code"), report.get("signal")
    outcome, detail = _outcome(report, killed_for_time, oom_killed, hits)
    if report.get("tampered") and outcome in (Outcome.OK, Outcome.FAILED):
        outcome, detail = Outcome.FAILED, ""  # the result error says why
    if report.get("scratch_full"):
        hits.append("scratch")
        full = f"{SCRATCH_FULL} ({report['scratch_full']})"
        if outcome in (Outcome.OK, Outcome.FAILED):
            outcome, detail = Outcome.FAILED, ""
        detail = "; ".join(filter(None, [full, detail]))
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


def _outcome(
    report: dict[str, Any], killed_for_time: bool, oom_killed: bool, hits: list[str]
) -> tuple[Outcome, str]:
    """How the command ended, from its exit and the limits it hit (`hits` gains those)."""
    exit_code, sig = report.get("exit_code"), report.get("signal")
    oom = bool(report.get("oom_kills")) or oom_killed
    if report.get("timed_out") or killed_for_time:
        hits.insert(0, "timeout")
        return Outcome.TIMEOUT, "ran past its time limit and was killed"
    if report.get("stalled"):
        return Outcome.KILLED, "stopped making progress (printed no line in time) and was killed"
    if oom and (sig == signals.SIGKILL or exit_code != 0):
        hits.insert(0, "memory")
        return Outcome.OOM, "killed by the out-of-memory killer"
    if sig is not None:
        return Outcome.KILLED, f"ended by signal {signals.Signals(sig).name}"
    if exit_code == 0:
        return Outcome.OK, ""
    return Outcome.FAILED, f"exited with status {exit_code}"


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


_FRAME = re.compile(
    r'File "(?P<a>[^"]+)", line (?P<b>\d+)|^(?P<c>\S[^\n:]*\.py):(?P<d>\d+): in ', re.M
)


def _in_tree(path: str) -> str | None:
    """`path` relative to the tree, or None when it is not one of the tree's files."""
    for prefix in (f"{SRC}/", "../src/"):  # absolute, or relative to the work directory
        if path.startswith(prefix):
            return path[len(prefix) :]
    return None


def collection_error(error: Mapping[str, str]) -> str:
    """What failed to collect, and where in the tree: ``tests/t.py: calc/ops.py:2: SyntaxError``."""
    text = error.get("error", "")
    spots = [(_in_tree(m["a"] or m["c"]), m["b"] or m["d"]) for m in _FRAME.finditer(text)]
    places = [f"{path}:{line}" for path, line in spots if path]
    lines = [line for line in text.splitlines() if line.strip()]
    raised = [line[1:].strip() for line in lines if line.startswith("E ")]
    what = (raised[-1] if raised else lines[-1].strip() if lines else "")[:300]
    detail = ": ".join(part for part in (places[-1] if places else "", what) if part)
    return (error.get("nodeid") or "the session") + (f": {detail}" if detail else "")
