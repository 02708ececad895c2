"""Ochiai fault localisation, on coverage recorded in a real sandbox."""

from __future__ import annotations

import math

from policies.localise import ochiai, ranked
from sandbox.evaluate import run_tests

# The textbook example (Jones & Harrold's `mid`): line 7 should be ``m = x``.
MID = """\
def mid(x, y, z):
    m = z
    if y < z:
        if x < y:
            m = y
        elif x < z:
            m = y
    else:
        if x > y:
            m = y
        elif x > z:
            m = x
    return m
"""
DEFECT = ("mid.py", 7)
TESTS = """\
from mid import mid


def test_3_3_5():
    assert mid(3, 3, 5) == 3


def test_1_2_3():
    assert mid(1, 2, 3) == 2


def test_3_2_1():
    assert mid(3, 2, 1) == 2


def test_5_5_5():
    assert mid(5, 5, 5) == 5


def test_5_3_4():
    assert mid(5, 3, 4) == 4


def test_2_1_3():
    assert mid(2, 1, 3) == 2
"""


def test_the_defective_line_ranks_first_on_the_textbook_example(docker_backend, make_tree):
    tree = make_tree({"mid.py": MID, "test_mid.py": TESTS})
    run = run_tests(docker_backend, tree, ["test_mid.py"], coverage=["mid.py"])
    assert run.valid, run.reason
    assert [t for t, o in run.tests.items() if o == "failed"] == ["test_mid.py::test_2_1_3"]
    scores = ochiai(run.coverage, run.tests)
    (top, score), (_, runner_up) = ranked(scores)[:2]
    assert top == DEFECT
    assert score == 1 / math.sqrt(2) > runner_up  # run by the failing test and one passing


def test_lines_no_failing_test_runs_score_zero_and_setup_lines_count_for_all():
    coverage = {
        "setup": {"m.py": [1]},
        "tests": {
            "t::fail": {"m.py": [2, 3]},
            "t::pass": {"m.py": [2, 4]},
            "t::skip": {"m.py": [5]},
        },
    }
    outcomes = {"t::fail": "failed", "t::pass": "passed", "t::skip": "skipped"}
    scores = ochiai(coverage, outcomes)
    assert scores[("m.py", 3)] == 1.0
    assert scores[("m.py", 4)] == 0.0
    assert scores[("m.py", 2)] == scores[("m.py", 1)] == 1 / math.sqrt(2)
    assert ("m.py", 5) not in scores  # only a skipped test ran it
    assert ochiai(coverage, {"t::fail": "passed", "t::pass": "passed"}) == {}
