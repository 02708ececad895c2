"""bench/humanevalfix.py: tasks split into pytest suites, exactness, reach, and one real run."""

from __future__ import annotations

import ast
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import humanevalfix
from humanevalfix_tasks import (
    Task,
    TaskError,
    buggy_module,
    canonical_module,
    choose,
    is_exact,
    load_tasks,
    reach,
    suite_of,
    summarise,
    table,
)

SAMPLE = Path(__file__).parent / "data" / "humanevalfix_sample.jsonl"
"""The tasks these tests name, copied from the dataset (see data/README.md): no skips."""
TASKS = {task.task_id: task for task in load_tasks(SAMPLE)}


def check_body(task: Task, field: str = "test") -> list[ast.stmt]:
    module = ast.parse(getattr(task, field))
    return next(n for n in module.body if isinstance(n, ast.FunctionDef)).body


def functions_of(text: str) -> list[ast.FunctionDef]:
    return [n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef)]


@pytest.mark.parametrize("task_id", ["Python/0", "Python/12", "Python/151"])
def test_each_top_level_assert_becomes_one_test(task_id: str) -> None:
    task = TASKS[task_id]
    text, count = suite_of(task)
    asserts = [s for s in check_body(task) if isinstance(s, ast.Assert)]
    functions = functions_of(text)
    assert count == len(functions) == len(asserts)
    assert [f.name for f in functions] == [f"test_{i:02d}" for i in range(1, count + 1)]
    assert [ast.dump(f.body[-1]) for f in functions] == [ast.dump(a) for a in asserts]
    assert f"from solution import {task.entry_point}\n" in text
    compile(text, "test_solution.py", "exec")


def test_setup_lines_before_an_assert_are_kept_in_its_test() -> None:
    functions = functions_of(suite_of(TASKS["Python/151"])[0])
    last = functions[-1]
    assert [type(s).__name__ for s in last.body] == ["Assign", "Assign", "Assert"]
    assert ast.unparse(last.body[0]) == "lst = list(range(-99, 100, 2))"
    assert all(len(f.body) == 1 for f in functions[:-1])  # no setup before the others


def test_a_loop_of_asserts_is_one_test_after_the_plain_asserts() -> None:
    task = TASKS["Python/44"]
    functions = functions_of(suite_of(task)[0])
    plain = [s for s in check_body(task) if isinstance(s, ast.Assert)]
    assert len(functions) == len(plain) + 1
    assert isinstance(functions[-1].body[0], ast.For)


def test_a_check_with_only_a_loop_keeps_its_setup_and_imports_the_helpers_it_calls() -> None:
    text, count = suite_of(TASKS["Python/32"])
    (only,) = functions_of(text)
    assert count == 1
    assert [type(s).__name__ for s in only.body] == [
        "Import",
        "Import",
        "Assign",
        "Import",
        "For",
    ]
    assert "from solution import poly\n" in text  # HumanEval runs check in the module's scope


def test_module_code_before_check_is_kept_and_the_parameter_is_bound() -> None:
    task = dataclasses.replace(
        TASKS["Python/2"],
        test="import math\nLIMIT = 3\n\ndef check(candidate):\n"
        "    x = 1\n    assert candidate(3.5) == 0.5\n    y = 2\n    assert math.isclose(x, 1)\n"
        "    print('done')\n\ncheck(truncate_number)\n",
    )
    text, count = suite_of(task)
    module = ast.parse(text)
    assert count == 2
    assert "from solution import truncate_number as candidate" in text
    assert [ast.unparse(n) for n in module.body[1:4]] == [
        "from solution import truncate_number as candidate",
        "import math",
        "LIMIT = 3",
    ]
    first, second = functions_of(text)
    assert [ast.unparse(s) for s in second.body[:2]] == ["x = 1", "y = 2"]
    assert len(first.body) == 2


def test_every_task_builds_a_solution_and_a_full_suite_that_compile() -> None:
    for task in TASKS.values():
        compile(buggy_module(task), f"{task.task_id}:solution.py", "exec")
        text, count = suite_of(task)
        compile(text, f"{task.task_id}:test_solution.py", "exec")
        assert count >= 1


@pytest.mark.parametrize(("task_id", "why"), [("Python/38", "is empty"), ("Python/119", "parse")])
def test_a_task_without_usable_examples_says_which_and_why(task_id: str, why: str) -> None:
    with pytest.raises(TaskError, match=f"{task_id}: its example_test .*{why}"):
        suite_of(TASKS[task_id], "example_test")


@pytest.mark.parametrize("task_id", ["Python/0", "Python/10", "Python/32", "Python/99"])
def test_the_canonical_fix_is_exact_and_the_buggy_code_is_not(task_id: str) -> None:
    task = TASKS[task_id]
    assert is_exact(canonical_module(task), task)
    assert not is_exact(buggy_module(task), task)


def test_exactness_ignores_docstrings_and_formatting_but_not_helpers() -> None:
    task = TASKS["Python/32"]  # find_zero and its helper poly
    canonical = canonical_module(task)
    documented = canonical.replace(
        "def find_zero(xs: list):\n", 'def find_zero(xs: list):\n    """Doc."""\n'
    )
    assert documented != canonical and is_exact(documented, task)
    assert is_exact(canonical.replace("    ", "        ") + "\n\n", task)
    assert not is_exact(canonical.replace("math.pow(x, i)", "math.pow(x, i + 1)"), task)
    assert not is_exact("x = (", task)


def test_reach_finds_a_one_edit_fix_and_counts_the_mutations() -> None:
    record = reach(TASKS["Python/2"])  # `number % 1.0 + 1.0`: the fix drops `+ 1.0`
    assert record["reachable"] and record["mutations"] > len(record["exact"]) >= 1
    assert any("1.0" in line for line in record["exact"])


def test_reach_says_no_when_the_fix_needs_more_than_one_edit() -> None:
    task = dataclasses.replace(
        TASKS["Python/2"],
        declaration="def f(x):\n",
        buggy_solution="    return x\n",
        canonical_solution="    y = sorted(x, reverse=True)\n    return y[::2] + [len(x)]\n",
        entry_point="f",
    )
    record = reach(task)
    assert record["mutations"] >= 1 and not record["reachable"] and record["exact"] == []


def test_the_reach_command_reports_by_bug_type(tmp_path: Path, capsys) -> None:
    out = tmp_path / "reach.json"
    tasks = "Python/2,Python/4,Python/12"
    argv = ["reach", "--data", str(SAMPLE), "--tasks", tasks, "--json", str(out)]
    assert humanevalfix.main(argv) == 0
    records = json.loads(out.read_text())["tasks"]
    assert [r["task_id"] for r in records] == tasks.split(",")
    assert all(r["mutations"] > 0 for r in records)
    printed = capsys.readouterr().out
    assert "total" in printed and TASKS["Python/2"].bug_type in printed


def test_a_seeded_sample_repeats_and_unknown_tasks_are_named() -> None:
    tasks = list(TASKS.values())
    first = choose(tasks, sample=6, seed=1)
    assert first == choose(tasks, sample=6, seed=1) and len(first) == 6
    assert first == sorted(first, key=tasks.index)
    with pytest.raises(TaskError, match="Python/999"):
        choose(tasks, ["Python/0", "Python/999"])


def test_the_target_is_registered_with_default_settings(tmp_path: Path) -> None:
    settings = humanevalfix.Settings()
    record = humanevalfix._new_record(TASKS["Python/12"], settings)
    spec, full = humanevalfix.set_up(TASKS["Python/12"], settings, tmp_path, record)
    text = spec.source.read_text()
    assert [line.split(" =")[0] for line in text.splitlines()] == [
        "name",
        "kind",
        "repo",
        "files",
        "tests",
    ]
    default = type(spec.config)(name=spec.name, repo=spec.config.repo, files=("solution.py",))
    assert spec.config == default
    log = subprocess.run(
        ["git", "-C", str(spec.repo), "log", "--format=%s"], capture_output=True, text=True
    )
    assert log.stdout.splitlines() == ["Python/12: the bot"]
    assert (spec.repo / "solution.py").read_text() == buggy_module(TASKS["Python/12"])
    assert (spec.repo / "tests" / "test_solution.py").read_text() == full
    assert record["search_tests"] == record["full_tests"] > 1


def test_a_budget_is_written_only_when_asked_for(tmp_path: Path) -> None:
    settings = humanevalfix.Settings(candidates=10, tests="example")
    record = humanevalfix._new_record(TASKS["Python/0"], settings)
    spec, full = humanevalfix.set_up(TASKS["Python/0"], settings, tmp_path, record)
    assert "[budget]\ncandidates = 10\n" in spec.source.read_text()
    assert spec.config.budget.candidates == 10
    assert (spec.repo / "tests" / "test_solution.py").read_text() != full
    assert (record["search_tests"], record["full_tests"]) == (2, 7)


def test_alternatives_are_written_to_the_search_table(tmp_path: Path) -> None:
    settings = humanevalfix.Settings(alternatives=64)
    record = humanevalfix._new_record(TASKS["Python/0"], settings)
    spec, _ = humanevalfix.set_up(TASKS["Python/0"], settings, tmp_path, record)
    assert "[budget]" not in spec.source.read_text()
    assert spec.config.search.alternatives == 64


def record(bug: str, **fields) -> dict:
    base = {
        "task_id": "t",
        "bug_type": bug,
        "plausible": False,
        "exact": False,
        "non_repair_commit": False,
        "lost": False,
        "reason": "",
        "search_pass": False,
        "repair_candidates": None,
        "repair_sandbox_seconds": None,
        "wall_seconds": 1.0,
    }
    return {**base, **fields}


def test_the_summary_counts_by_bug_type_and_gives_the_overfitting_figure() -> None:
    records = [
        record(
            "a",
            plausible=True,
            exact=True,
            search_pass=True,
            repair_candidates=10,
            repair_sandbox_seconds=4.0,
        ),
        record(
            "a", plausible=True, search_pass=True, repair_candidates=30, repair_sandbox_seconds=8.0
        ),
        record("a", non_repair_commit=True, search_pass=True),
        record("b", lost=True, reason="the baseline run is invalid"),
    ]
    summary = summarise(records, examples=True)
    assert summary["by_bug_type"]["a"] == {
        "tasks": 3,
        "plausible": 2,
        "exact": 1,
        "non_repair_commits": 1,
        "lost": 0,
    }
    assert summary["by_bug_type"]["total"]["lost"] == 1
    assert summary["median_repair_candidates"] == 20
    assert summary["median_repair_sandbox_seconds"] == 6.0
    assert (summary["example_repairs"], summary["example_repairs_passing_full"]) == (3, 2)
    text = table(summary, records)
    assert "2 of 3 repairs passing the examples" in text
    assert "lost t: the baseline run is invalid" in text


@pytest.mark.slow
def test_one_task_end_to_end_in_docker(docker_backend, tmp_path: Path) -> None:
    settings = humanevalfix.Settings(cycles=1, record_candidates=True)
    result = humanevalfix.run_task(TASKS["Python/2"], settings, tmp_path, docker_backend)
    assert not result["lost"], result["reason"]
    (cycle,) = result["cycles"]
    assert cycle["status"] == "accepted" and cycle["best_score"] == 1.0
    assert cycle["candidates"] >= 1 and cycle["sandbox_seconds"] > 0 and cycle["operator"]
    tried = {row["mutation"]["summary"]: row for row in cycle["tried"]}
    assert len(cycle["tried"]) == cycle["candidates"]
    assert tried[cycle["summary"]]["score"] == 1.0  # the winner is among them, a repair
    assert result["plausible"] and result["search_pass"] and not result["non_repair_commit"]
    assert result["judge"] == {"valid": True, "reason": "", "passed": 3, "collected": 3}
    assert result["commits"] == [cycle["reason"].rsplit(" [", 1)[0]]
    assert result["repair_candidates"] == result["candidates"] == cycle["candidates"]
    assert result["repair_sandbox_seconds"] == cycle["sandbox_seconds"]
    assert isinstance(result["exact"], bool) and result["wall_seconds"] > 0
    assert (result["task_id"], result["bug_type"]) == ("Python/2", "excess logic")
