"""Spectrum-based fault localisation: how suspicious each line is, from which tests ran it.

Ochiai's measure, ``ef / sqrt(F * (ef + ep))``: `ef` and `ep` are the failing and
passing tests that executed the line, `F` all failing tests. A line every
failing test runs and no passing test does scores 1; a line no failing test
runs scores 0. Lines run at import or collection count as run by every test.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

Line = tuple[str, int]
"""(path relative to the repository, 1-based line)."""

PASSED = frozenset({"passed", "xfailed"})
FAILED = frozenset({"failed", "error", "xpassed"})


def ochiai(coverage: Mapping[str, Any], outcomes: Mapping[str, str]) -> dict[Line, float]:
    """Suspiciousness of every covered line, from a coverage document and test outcomes.

    `coverage` is what the sandbox's line coverage records: ``{"setup": {path:
    [lines]}, "tests": {nodeid: {path: [lines]}}}``; `outcomes` maps node ids to
    passed, failed, error, skipped, ... Skipped tests say nothing and are left out.
    """
    failing = {t for t, o in outcomes.items() if o in FAILED}
    passing = {t for t, o in outcomes.items() if o in PASSED}
    if not failing:
        return {}
    ef: dict[Line, int] = {}
    ep: dict[Line, int] = {}
    for test, files in coverage.get("tests", {}).items():
        counts = ef if test in failing else ep if test in passing else None
        if counts is None:
            continue
        for line in _lines(files):
            counts[line] = counts.get(line, 0) + 1
    for line in _lines(coverage.get("setup", {})):
        ef[line], ep[line] = len(failing), len(passing)
    return {
        line: ef.get(line, 0) / math.sqrt(len(failing) * (ef.get(line, 0) + ep.get(line, 0)))
        for line in {*ef, *ep}
    }


def ranked(suspiciousness: Mapping[Line, float]) -> list[tuple[Line, float]]:
    """Lines from most to least suspicious; ties in file and line order."""
    return sorted(suspiciousness.items(), key=lambda item: (-item[1], item[0]))


def _lines(files: Mapping[str, list[int]]) -> set[Line]:
    return {(path, line) for path, lines in files.items() for line in lines}
