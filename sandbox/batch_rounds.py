"""A batch of candidates run to the end, whatever one of them does to its harness.

The harness prints a report line on stdout per finished candidate and a start
line on stderr per started one (`runners.batch`). From those lines a host tells
which candidates finished and which one was running when the harness died or
stalled: that one fails alone (`HARNESS_KILLED`), and the candidates after it
run once more in a new sandbox (`run_rounds`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from .backend import Backend
from .job import Job, Outcome, Result
from .report import classify

HARNESS_KILLED = "killed or stopped its test harness"
T = TypeVar("T")


def _lines(text: str) -> Iterator[dict[str, Any]]:
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue  # a line cut by the output limit, or not one of ours
        if isinstance(value, dict):
            yield value


def batch_progress(result: Result, count: int) -> tuple[dict[int, Result], int | None]:
    """The candidates (by position) a batch finished, and the one it was running at its end.

    The harness prints a report line on stdout per finished candidate and a
    start line on stderr per started one: a candidate started but not
    finished was running when the harness died or stalled.
    """
    finished: dict[int, Result] = {}
    for report in _lines(result.stdout.text):
        index = report.get("n")
        if report.get("v") == 1 and isinstance(index, int) and 0 <= index < count:
            finished.setdefault(index, classify(report, wall_time=report.get("wall_time", 0.0)))
    started = [line["start"] for line in _lines(result.stderr.text) if "start" in line]
    running = [i for i in started if isinstance(i, int) and 0 <= i < count and i not in finished]
    return finished, running[0] if running else None


def _batch_detail(result: Result) -> str:
    """How a batch ended, for the candidates it did not finish."""
    errors = [line for line in result.stderr.text.splitlines() if not line.startswith("{")]
    detail = result.detail or "\n".join(errors)[-500:] or "no report"
    return f"{result.outcome.value}: {detail}"


def unfinished(result: Result) -> Result:
    """The result of a candidate the batch `result` never reached."""
    why = _batch_detail(result)
    return Result(
        Outcome.ERROR, None, 0.0, detail=f"the batch ended before this candidate finished ({why})"
    )


def run_rounds(
    backend: Backend,
    candidates: Sequence[T],
    job: Callable[[list[T], int], Job],
) -> dict[int, Result]:
    """Each candidate's result (by position), running the unfinished ones once more.

    A second sandbox is worth it only when the first got going (a harness that
    failed to start would fail again); the candidate it was running then fails alone.
    """
    results: dict[int, Result] = {}
    pending = list(range(len(candidates)))
    for attempt in range(2):
        result = backend.run(job([candidates[i] for i in pending], attempt))
        finished, running = batch_progress(result, len(pending))
        results.update({pending[k]: r for k, r in finished.items()})
        if running is not None:
            detail = f"{HARNESS_KILLED} ({_batch_detail(result)})"
            results[pending[running]] = Result(Outcome.FAILED, None, 0.0, detail=detail)
        left = [i for i in pending if i not in results]
        if attempt or not left or not (finished or running is not None):
            results.update({i: unfinished(result) for i in left})
            break
        pending = left
    return results
