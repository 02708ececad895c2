"""A code cycle's candidates as the sandbox and the store see them.

`overlays` turns mutations into what a sandbox run carries (each candidate's
file, beside the files of the stepping stone it was made on); `rows` turns
evaluated candidates into the store's records.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from policies.codemods import Mutation, MutationError, apply_mutation, enumerate_mutations
from sandbox.evaluate import Candidate, TestRun

log = logging.getLogger(__name__)


def enumerate_all(sources: Mapping[str, str], target: str, *, tuning: bool) -> list[Mutation]:
    """Every mutation of `sources` (path -> text); a file libcst cannot parse is skipped."""
    every: list[Mutation] = []
    for path, source in sources.items():
        try:
            every += enumerate_mutations(source, path, tuning=tuning)
        except MutationError as exc:
            log.warning("%s: skipping %s: %s", target, path, exc)
    return every


def overlays(
    batch: Sequence[Mutation],
    index: Mapping[Mutation, int],
    sources: Mapping[str, str],
    changed: Mapping[str, str] | None = None,
) -> list[Candidate]:
    """One sandbox candidate per mutation, named by its index, carrying `changed` too."""
    return [
        Candidate(str(index[m]), {**(changed or {}), m.path: apply_mutation(sources[m.path], m)})
        for m in batch
    ]


def rows(
    mutations: Sequence[Mutation],
    runs: Mapping[int, TestRun],
    refused: Mapping[int, str],
    after: Mutation | None = None,
    scores: Mapping[int, float] | None = None,
) -> list[dict[str, Any]]:
    """The store's record of each evaluated candidate.

    A candidate refused by the selection keeps its refusal as its reason; one made
    on a stepping stone names it (``after``). `scores` replace the tests' score
    (a tuning cycle's objective).
    """
    scores = scores or {}
    stone = {"after": after.to_dict()} if after else {}
    return [
        {
            "mutation": {**mutations[i].to_dict(), **stone},
            "outcome": run.result.outcome.value,
            "valid": run.valid,
            "score": scores.get(i, run.score),
            "passed": run.passed,
            "collected": run.collected,
            "wall_time": run.result.wall_time,
            "reason": refused.get(i, run.reason),
        }
        for i, run in runs.items()
    ]
