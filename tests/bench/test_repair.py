"""bench/repair.py's rounds: the cycle's scheduler and selection, on hand-made cached outcomes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from daemon.cycles.baseline import Baseline
from policies.codemods import Mutation, apply_mutation, enumerate_mutations
from policies.preferences import OperatorPreferences

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import repair
from bugsuite import Program
from repair import attempt

PATH = "tiny.py"
SOURCE = """\
def add(a, b):
    total = a + b
    return total


def scale(x):
    return x * 2
"""
MUTATIONS = enumerate_mutations(SOURCE, PATH)
"""In enumeration order: the plain strategy's search order."""
ONE_LINE = next(i for i, m in enumerate(MUTATIONS) if m.summary.startswith("delete total"))
"""`delete total = a + b`: a diff of one line (most mutations change one: two lines)."""
MISS = {"improves": False, "score": 0.3, "seconds": 1.0}


def better(score: float, seconds: float = 1.0) -> dict[str, Any]:
    return {"improves": True, "score": score, "seconds": seconds}


def version(*indices: int) -> str:
    """SOURCE with the mutations at `indices` applied, each to the previous version."""
    text = SOURCE
    for index in indices:
        text = apply_mutation(text, enumerate_mutations(text, PATH)[index])
    return text


class FakeEvaluator:
    """Cached outcomes by version (the file's text) and mutation index; no sandbox."""

    def __init__(
        self,
        outcomes: dict[str, dict[int, dict[str, Any]]],
        scores: dict[str, float] | None = None,
    ) -> None:
        self.table = outcomes
        self.scores = scores or {}
        self.asked: list[tuple[str, int]] = []
        self.baselines: list[str] = []

    def baseline(self, program: Program, sources: dict[str, str]) -> Baseline:
        text = sources[PATH]
        self.baselines.append(text)
        passing = ["test_tiny.py::test_a", "test_tiny.py::test_b"]
        return Baseline(self.scores.get(text, 0.5), len(passing), 4, passing, 0.1)

    def prefetch(self, *args: Any) -> None:
        pass

    def outcomes(
        self, program: Program, sources: dict[str, str], base: Baseline, batch: list[Mutation]
    ) -> list[dict[str, Any]]:
        text = sources[PATH]
        mutations = enumerate_mutations(text, PATH)
        found = []
        for mutation in batch:
            index = mutations.index(mutation)
            self.asked.append((text, index))
            found.append(self.table.get(text, {}).get(index, MISS))
        return found

    def indices(self, text: str = SOURCE) -> list[int]:
        """The mutations of `text` evaluated, in the order they were asked for."""
        return [index for asked, index in self.asked if asked == text]

    def kept(self) -> str:
        """The version the first round kept (the next baseline judged)."""
        return self.baselines[1]


@pytest.fixture
def program(tmp_path: Path) -> Program:
    (tmp_path / PATH).write_text(SOURCE)
    return Program("tiny", tmp_path, (PATH,), ("test_tiny.py",), "single", "tiny", ())


def run(
    evaluator: FakeEvaluator,
    program: Program,
    *,
    budget: int = 300,
    batch: int = 5,
    patience: int = 3,
    strategy: str = "plain",
    preferences: OperatorPreferences | None = None,
) -> repair.Attempt:
    return attempt(evaluator, program, strategy, 0, budget, batch, patience, preferences)


def test_the_budget_caps_the_candidates(program):
    evaluator = FakeEvaluator({})
    result = run(evaluator, program, budget=17)
    assert evaluator.indices() == list(range(17))  # batches of 5, 5, 5 and the 2 left
    assert (result.repaired, result.runs, result.rounds) == (False, 17, 1)
    assert result.seconds == 17.0


def test_a_search_ends_when_its_mutations_run_out(program):
    evaluator = FakeEvaluator({})
    result = run(evaluator, program, budget=300)
    assert evaluator.indices() == list(range(len(MUTATIONS)))
    assert (result.repaired, result.runs, result.rounds) == (False, len(MUTATIONS), 1)


def test_patience_counts_past_the_batch_of_the_first_improvement(program):
    # The improvement is the 7th candidate, in the batch of 6 to 10: 3 more are tried.
    evaluator = FakeEvaluator({SOURCE: {6: better(0.75)}})
    result = run(evaluator, program, budget=20, patience=3)
    assert evaluator.indices() == list(range(13))
    assert evaluator.kept() == version(6)
    # The second round starts from the kept version with what is left of the budget.
    assert evaluator.indices(version(6)) == list(range(7))
    assert (result.repaired, result.runs, result.rounds) == (False, 20, 2)


def test_without_patience_the_round_ends_with_the_batch(program):
    evaluator = FakeEvaluator({SOURCE: {6: better(0.75)}, version(6): {0: better(0.8)}})
    result = run(evaluator, program, budget=20, patience=0)
    assert evaluator.indices() == list(range(10))
    assert evaluator.indices(version(6)) == list(range(5))
    assert evaluator.indices(version(6, 0)) == list(range(5))
    assert (result.repaired, result.runs, result.rounds) == (False, 20, 3)


def test_a_perfect_candidate_ends_the_search_and_its_runs_count_to_it(program):
    # Found in the second batch: the whole batch ran (as in a cycle), 8 runs are charged.
    outcomes = {SOURCE: {2: better(0.75, seconds=2.0), 7: better(1.0, seconds=3.0)}}
    evaluator = FakeEvaluator(outcomes, {version(7): 1.0})
    result = run(evaluator, program, patience=50)
    assert evaluator.indices() == list(range(10))
    assert evaluator.kept() == version(7)
    assert (result.repaired, result.runs, result.rounds) == (True, 8, 1)
    assert result.seconds == 6 * 1.0 + 2.0 + 3.0


def test_a_repaired_program_needs_two_rounds_when_it_has_two_defects(program):
    outcomes = {SOURCE: {3: better(0.75)}, version(3): {12: better(1.0)}}
    evaluator = FakeEvaluator(outcomes, {version(3): 0.75, version(3, 12): 1.0})
    result = run(evaluator, program, patience=2)
    assert evaluator.indices() == list(range(7))
    assert evaluator.indices(version(3)) == list(range(15))
    assert (result.repaired, result.runs, result.rounds) == (True, 7 + 13, 2)


@pytest.mark.parametrize(
    ("candidates", "winner"),
    [
        ({1: better(0.75), 3: better(0.8)}, 3),  # the highest score
        ({1: better(0.8), ONE_LINE: better(0.8)}, 1),  # a smaller diff that drops code: refused
        ({1: better(0.8), 4: better(0.8)}, 4),  # the one bringing less new code
        ({1: better(0.8, seconds=2.0), 2: better(0.8, seconds=1.0)}, 1),  # never the faster
        ({1: better(0.8), 3: better(0.8)}, 1),  # then the first enumerated
        ({1: {**better(0.9), "improves": False}, 4: better(0.8)}, 4),  # only improvements
    ],
)
def test_the_round_keeps_what_a_cycle_selects(program, candidates, winner):
    evaluator = FakeEvaluator({SOURCE: candidates}, {version(winner): 1.0})
    result = run(evaluator, program, patience=10)
    assert evaluator.kept() == version(winner)
    assert result.repaired


def test_no_improvement_keeps_nothing(program):
    evaluator = FakeEvaluator({SOURCE: {4: {"improves": False, "score": 0.9, "seconds": 1.0}}})
    result = run(evaluator, program, budget=12)
    assert evaluator.baselines == [SOURCE, SOURCE]  # the round's, then the final judgement
    assert (result.repaired, result.runs, result.rounds) == (False, 12, 1)


def test_the_learned_order_is_told_each_outcome(program):
    preferences = OperatorPreferences()
    evaluator = FakeEvaluator({SOURCE: {i: better(0.75) for i in range(len(MUTATIONS))}})
    run(evaluator, program, budget=6, batch=3, strategy="learned", preferences=preferences)
    assert len(evaluator.indices()) == 6
    assert sum(arm.tried for arm in preferences.arms.values()) == 6
    assert sum(arm.improved for arm in preferences.arms.values()) == 6
