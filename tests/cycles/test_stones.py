"""Stepping stones chosen, combined and described without a sandbox."""

from __future__ import annotations

from daemon.cycles.baseline import Baseline
from daemon.cycles.stones import (
    apply_steps,
    echoes,
    stepping_stones,
    steps_summary,
    stone_baseline,
)
from policies.codemods import Mutation, enumerate_mutations
from sandbox.evaluate import TestRun
from sandbox.job import Outcome, Result

SOURCE = "def add(a, b):\n    return a - b\n\n\ndef twice(x):\n    return x * 3\n"
TESTS = ("t_add", "t_twice", "t_same")
BASELINE = Baseline(1 / 3, 1, 3, ["t_same"], outcomes=dict.fromkeys(TESTS, "failed"))


def run(*passing: str) -> TestRun:
    tests = {t: "passed" if t in passing else "failed" for t in TESTS}
    return TestRun(Result(Outcome.FAILED, 1, 0.1), tests, len(TESTS), True)


def mutation(summary: str) -> Mutation:
    return next(m for m in enumerate_mutations(SOURCE, "m.py") if m.summary == summary)


def test_stones_are_improving_runs_best_first_then_in_search_order():
    runs = {
        0: run("t_same"),  # no progress
        1: run("t_add"),  # breaks t_same: never a stone
        2: run("t_same", "t_twice"),
        3: run("t_same", "t_add"),
        4: run("t_same", "t_add", "t_twice"),
    }
    assert stepping_stones(runs, BASELINE, [0, 1, 3, 2, 4]) == [4, 3, 2]
    assert stepping_stones(runs, BASELINE, [0, 1, 3, 2, 4], limit=2) == [4, 3]


def test_a_stone_raises_the_bar_to_what_it_passes():
    stone = stone_baseline(BASELINE, run("t_same", "t_add"))
    assert stone.passing == ["t_add", "t_same"] and stone.score == 2 / 3
    assert stone.outcomes == BASELINE.outcomes  # skipped tests stay out of the score


def test_two_steps_apply_in_turn_and_name_the_place_once():
    first = mutation("use + instead of - in add()")
    second = mutation("use 2 instead of 3 in twice()")
    assert apply_steps({"m.py": SOURCE}, [first, second]) == {
        "m.py": SOURCE.replace("a - b", "a + b").replace("x * 3", "x * 2")
    }
    assert steps_summary([first, second]) == (
        "use + instead of - in add(); use 2 instead of 3 in twice()"
    )
    same_place = mutation("use b instead of a in add()")
    assert steps_summary([first, same_place]) == (
        "use + instead of - and use b instead of a in add()"
    )


def test_echoes_are_the_same_edit_found_again_after_a_stone():
    first = mutation("use + instead of - in add()")
    stepped = apply_steps({"m.py": SOURCE}, [first])["m.py"]
    again = enumerate_mutations(stepped, "m.py")
    other = mutation("use 2 instead of 3 in twice()")
    assert [m.summary for m in echoes(again, [other])] == [other.summary]
