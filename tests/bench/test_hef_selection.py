"""The selection replay of bench/hef_selection.py on hand-made records: no sandbox."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import hef_selection
from humanevalfix_tasks import buggy_module, load_tasks

RULE = hef_selection.RULES["least new code"]
SAMPLE = Path(__file__).parent / "data" / "humanevalfix_sample.jsonl"
"""The tasks these tests name, copied from the dataset (see data/README.md)."""


def repair(position: int, novelty: int, exact: bool) -> dict:
    return {"position": position, "novelty": novelty, "tokens": 1, "lines": 1, "exact": exact}


def test_alternatives_widen_the_choice_past_the_first_repairs_batch():
    record = {"plausible": True, "exact": False, "repair_candidates": 64}
    repairs = [repair(3, 2, False), repair(20, 1, True)]  # the better one in the next batch
    tasks = [(record, repairs, 64)]
    assert hef_selection.replay(tasks, RULE, 0, 16) == {
        "plausible": 1,
        "exact": 0,
        "median_candidates": 16,
    }
    assert hef_selection.replay(tasks, RULE, 8, 16)["exact"] == 1  # 20 < 16 + 8
    assert hef_selection.replay(tasks, RULE, 64, 16)["median_candidates"] == 64  # all recorded


def test_a_task_repaired_in_a_later_cycle_keeps_its_recorded_outcome():
    later = ({"plausible": True, "exact": True, "repair_candidates": 40}, [], 40)
    never = ({"plausible": False, "exact": False, "repair_candidates": None}, None, 0)
    assert hef_selection.replay([later, never], RULE, 16, 16) == {
        "plausible": 1,
        "exact": 1,
        "median_candidates": 40,
    }


def test_recorded_candidates_are_measured_against_the_buggy_module():
    task = next(t for t in load_tasks(SAMPLE) if t.task_id == "Python/0")
    source = buggy_module(task)
    cycle = {"tried": [{"mutation": {"path": "solution.py"}, "valid": 0, "score": 0.0}]}
    assert hef_selection.first_cycle_repairs({"cycles": [cycle]}, source, task) == []
    assert hef_selection.first_cycle_repairs({"cycles": []}, source, task) is None
    assert hef_selection.changed(["a", "b", "c"], ["a", "x", "c", "d"]) == 2
