"""The winner of a code cycle confirmed before it is committed: a forgery is caught here.

The tests a winning change newly passes are run again, alone, in a fresh
sandbox; a disagreement with the search means the candidate's outcome cannot be
trusted (it passed only beside other tests, or forged its result).
"""

from __future__ import annotations

import logging

from daemon.cycles.base import Cycle
from daemon.cycles.baseline import Baseline
from daemon.cycles.events import Phase
from daemon.cycles.stones import steps_summary
from policies.codemods import Mutation
from sandbox.confirm import confirm
from sandbox.evaluate import TestRun

log = logging.getLogger(__name__)


def confirm_winner(
    cycle: Cycle,
    steps: tuple[Mutation, ...],
    changed: dict[str, str],
    run: TestRun,
    baseline: Baseline,
) -> str | None:
    """Why the tests the winner newly passes do not pass alone, in a fresh sandbox, or None.

    A disagreement with the search is taken as a forgery: nothing is committed and
    the operator that produced the change is penalised in the cycle's learned order.
    """
    newly = sorted(run.passing() - set(baseline.passing))
    if not newly:
        return None
    cycle.progress(Phase("confirm"))
    confirmation = confirm(
        cycle.backend,
        cycle.snapshot(),
        newly,
        overlays=changed,
        limits=cycle.limits,
        name=f"{cycle.spec.name}-confirm",
    )
    cycle.counters.sandbox_seconds += confirmation.wall_time
    why = confirmation.disagreement()
    if why is None:
        return None
    preferences = getattr(cycle.ordering, "preferences", None)
    if preferences is not None:
        preferences.update(steps[-1].operator, False)
    summary = steps_summary(steps)
    log.warning("%s: %s refused: %s", cycle.spec.name, summary, why)
    return f"evaluation disagreed: possible forgery: {summary}: {why}"
