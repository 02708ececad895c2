"""Which evaluated candidate a code cycle commits: the best that does no harm.

`select` keeps the improving candidates (`search.improves`) that are repairs, or
partial improvements without an anti-pattern (`search.refusal`), and ranks them
by failing tests, the new code they bring (`search.novelty`) and the search's
order, never by run time. The forgery clauses name candidates the runner caught
forging, for the cycle's reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from daemon.cycles.baseline import Baseline
from daemon.cycles.search import improves, novelty, refusal
from policies.codemods import Mutation, apply_mutation
from sandbox.evaluate import TestRun


@dataclasses.dataclass(frozen=True)
class Selection:
    """The candidate a cycle commits, if any, and the improving ones it refused, and why."""

    winner: tuple[Mutation, TestRun] | None
    refused: dict[int, str]
    """Index into the mutations -> why that improving candidate may not be committed."""

    def refusals(self, mutations: list[Mutation]) -> str:
        """A clause for the cycle's reason naming the refused candidates ('' if none)."""
        if not self.refused:
            return ""
        index, why = next(iter(self.refused.items()))
        return (
            f"; {len(self.refused)} improving candidate(s) refused to do no harm "
            f"(first: {mutations[index].summary}: {why})"
        )


def select(
    mutations: list[Mutation],
    runs: dict[int, TestRun],
    sources: dict[str, str],
    baseline: Baseline,
    order: Sequence[int] | None = None,
) -> Selection:
    """The best improving candidate that does no harm (`refusal`).

    Best is the fewest failing tests, then the least new code (`novelty`), then the
    nearest alternative (each operator lists its variants at a site nearest first:
    `!=` for `==` before `<`), then the earliest in the search's `order` (indices into
    `mutations`; enumeration order by default): never the run time, so that reruns
    pick the same winner. Runs outside a
    given `order` are not candidates (the scheduler's `settled` leaves out batches that
    were in flight when a repair came).
    """
    rank = {index: position for position, index in enumerate(order or sorted(runs))}
    eligible, refused = [], {}
    for index, run in sorted(runs.items(), key=lambda item: rank.get(item[0], len(rank))):
        if index not in rank or not improves(run, baseline):
            continue
        mutation = mutations[index]
        why = why_refused(mutation, run, sources, baseline)
        if why is not None:
            refused[index] = why
            continue
        old = sources[mutation.path]
        new = novelty(old, apply_mutation(old, mutation))
        eligible.append((-run.score, new, mutation.variant, rank[index], index))
    if not eligible:
        return Selection(None, refused)
    index = min(eligible)[-1]
    return Selection((mutations[index], runs[index]), refused)


def why_refused(
    mutation: Mutation, run: TestRun, sources: dict[str, str], baseline: Baseline
) -> str | None:
    """Why an improving `mutation` of `sources` may not be committed (`refusal`), or None."""
    old = sources[mutation.path]
    failing_here = baseline.running(mutation.path, mutation.line) - run.passing()
    return refusal(run, old, apply_mutation(old, mutation), failing_here - baseline.excluded())


FORGERY_SIGNS = ("forgery", "tampered")
"""Words of a run's reason that say the runner caught the candidate forging its result."""
EXCUSES = frozenset({"skipped", "xfailed"})
"""Outcomes a test that failed at baseline can only reach by code under test raising them."""


def forgery(run: TestRun, baseline: Baseline) -> str | None:
    """Why `run` looks forged: the runner caught it, or it excused its own failures."""
    if any(sign in run.reason for sign in FORGERY_SIGNS):
        return run.reason[:200]
    excused = sorted(
        test
        for test, outcome in run.tests.items()
        if outcome in EXCUSES and baseline.outcomes.get(test) in ("failed", "error")
    )
    if excused:
        return f"{excused[0]} failed before and now calls itself {run.tests[excused[0]]}"
    return None


def forgeries(mutations: list[Mutation], runs: dict[int, TestRun], baseline: Baseline) -> str:
    """A clause naming the candidates refused as forgeries, for the cycle's reason ('' if none)."""
    caught = [(i, why) for i, r in sorted(runs.items()) if (why := forgery(r, baseline))]
    if not caught:
        return ""
    index, why = caught[0]
    return f"; {len(caught)} refused as forgeries (first: {mutations[index].summary}: {why})"
