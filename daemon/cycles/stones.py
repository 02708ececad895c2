"""Stepping stones: repairs that need two edits, reached within one cycle.

A single edit that makes progress (a test that failed now passes, none that
passed breaks) may be half of a repair that needs two token changes. When no
single edit repairs the target, the cycle takes the best few such stones in
turn, applies each, and searches the single edits of the result: first those
that repeat another stone's edit (combining edits that each made progress),
then the rest in the target's order. A pair is kept only when it passes every
test: a stone alone is committed only if the single-edit selection chose it,
under the do-no-harm rule.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from daemon.cycles.baseline import Baseline
from daemon.cycles.search import improves
from policies.codemods import Mutation, apply_mutation
from sandbox.evaluate import TestRun

STONES = 3
"""Stones tried per cycle, best first: each gets an equal share of what budget is left."""
PLACES = (" in ", " at ")
"""How a mutation's summary says where it is: ``in clamp()``, ``at module level``."""


def stepping_stones(
    runs: Mapping[int, TestRun], baseline: Baseline, order: Sequence[int], limit: int = STONES
) -> list[int]:
    """The best `limit` stones (indices): improving runs, highest score first, then search order."""
    rank = {index: position for position, index in enumerate(order)}
    stones = [index for index in order if improves(runs[index], baseline)]
    return sorted(stones, key=lambda index: (-runs[index].score, rank[index]))[:limit]


def stone_baseline(baseline: Baseline, run: TestRun) -> Baseline:
    """What a stone's second edits are judged against: they must keep every test it passes."""
    return dataclasses.replace(
        baseline, score=run.score, passed=run.passed, passing=sorted(run.passing())
    )


def echoes(mutations: Sequence[Mutation], stones: Sequence[Mutation]) -> list[Mutation]:
    """The mutations that make the same edit as one of `stones`, at the same place."""
    wanted = {(stone.path, stone.operator, stone.summary) for stone in stones}
    return [m for m in mutations if (m.path, m.operator, m.summary) in wanted]


def apply_steps(sources: Mapping[str, str], steps: Sequence[Mutation]) -> dict[str, str]:
    """The new text of each file the steps change, each step applied to the previous result."""
    texts = dict(sources)
    for step in steps:
        texts[step.path] = apply_mutation(texts[step.path], step)
    return {path: texts[path] for path in dict.fromkeys(step.path for step in steps)}


def steps_summary(steps: Sequence[Mutation]) -> str:
    """The steps' summaries joined, the place named once when they share it.

    ``use <= instead of < and use high instead of low in clamp()``.
    """
    first, *rest = [step.summary for step in steps]
    for summary in rest:
        place = max(first.rfind(marker) for marker in PLACES)
        if place > 0 and summary.endswith(first[place:]):
            first = f"{first[:place]} and {summary}"
        else:
            first = f"{first}; {summary}"
    return first
