"""HumanEvalFix tasks as a new user's bot (a module, a pytest suite, the reference fix); records.

A task of ``python.jsonl`` (see its README) becomes ``solution.py`` (the declaration and the
buggy body: a complete module) and ``tests/test_solution.py``, where the task's
``check(candidate)`` is split into one pytest test per behaviour: each top-level ``assert``
(or compound statement holding asserts, such as a ``for`` loop of them) becomes a test,
preceded by the setup statements of ``check`` before it. Exactness compares function ASTs
with the canonical solution, docstrings stripped. Nothing here runs task code. The tables
at the end read the per-task records that bench/humanevalfix.py writes.
"""

from __future__ import annotations

import ast
import builtins
import copy
import json
import random
import statistics
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from policies.codemods import MutationError, apply_mutation, enumerate_mutations  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "humanevalfix" / "python.jsonl"
SOLUTION = "solution.py"
TEST_FILE = "tests/test_solution.py"
TEST_SOURCES = ("test", "example_test")
"""The task fields a suite can be built from: the full test, or the docstring's examples."""
FUNCTIONS = ast.FunctionDef | ast.AsyncFunctionDef


class TaskError(Exception):
    """A task cannot be set up; the message names the task and says why."""


@dataclass(frozen=True)
class Task:
    """One HumanEvalFix task, with the fields a repair and its judge use."""

    task_id: str
    entry_point: str
    prompt: str
    declaration: str
    buggy_solution: str
    canonical_solution: str
    test: str
    example_test: str
    bug_type: str

    @property
    def slug(self) -> str:
        """A target name for it: ``Python/12`` -> ``python-12``."""
        return self.task_id.lower().replace("/", "-")

    @classmethod
    def of(cls, data: dict[str, Any]) -> Task:
        """The task of one JSON line."""
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


def load_tasks(path: Path = DATA) -> list[Task]:
    """Every task of the data file, in its order."""
    with open(path, encoding="utf-8") as file:
        return [Task.of(json.loads(line)) for line in file if line.strip()]


def choose(
    tasks: list[Task], ids: Sequence[str] = (), sample: int | None = None, seed: int = 0
) -> list[Task]:
    """The named tasks, or a seeded random sample of `sample`, else all; in dataset order.

    Raises:
        TaskError: naming the ids that are not in the data.
    """
    if ids:
        known = {t.task_id for t in tasks}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise TaskError(f"no task is called {', '.join(unknown)}")
        tasks = [t for t in tasks if t.task_id in set(ids)]
    if sample is not None and sample < len(tasks):
        picked = set(random.Random(seed).sample(range(len(tasks)), sample))
        tasks = [t for i, t in enumerate(tasks) if i in picked]
    return tasks


# --- the module and its tests ---------------------------------------------------------------


def buggy_module(task: Task) -> str:
    """``solution.py`` as the user has it: declaration and buggy body, with missing imports."""
    return _with_prompt_imports(task, task.declaration + task.buggy_solution)


def canonical_module(task: Task) -> str:
    """The reference fix as a module."""
    return _with_prompt_imports(task, task.declaration + task.canonical_solution)


def _with_prompt_imports(task: Task, source: str) -> str:
    """`source` with the prompt's imports it lacks put first (the README allows for it)."""
    prompt = _parse(task, task.prompt + "    pass\n", "prompt")
    have = {ast.dump(n) for n in _parse(task, source, "solution").body}
    missing = [
        ast.unparse(n)
        for n in prompt.body
        if isinstance(n, ast.Import | ast.ImportFrom) and ast.dump(n) not in have
    ]
    return "".join(f"{line}\n" for line in missing) + source


def _parse(task: Task, source: str, what: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as exc:
        raise TaskError(f"{task.task_id}: its {what} does not parse: {exc}") from None


def suite_of(task: Task, field: str = "test") -> tuple[str, int]:
    """The pytest file made from the task's `field` (test or example_test), and its test count.

    Raises:
        TaskError: the field is empty, does not parse, has no single ``check(param)``, or
            ``check`` holds no assert.
    """
    text = getattr(task, field)
    if not text.strip():
        raise TaskError(f"{task.task_id}: its {field} is empty")
    module = _parse(task, text, field)
    checks = [n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == "check"]
    if len(checks) != 1 or len(checks[0].args.args) != 1:
        raise TaskError(f"{task.task_id}: its {field} has no single `def check(candidate)`")
    check = checks[0]
    param = check.args.args[0].arg
    tests = split_check(check)
    if not tests:
        raise TaskError(f"{task.task_id}: check() of its {field} holds no assert")
    prelude = module.body[: module.body.index(check)]
    imports = _imports(task, module, param)
    width = max(2, len(str(len(tests))))
    functions = [_test_function(f"test_{i:0{width}d}", body) for i, body in enumerate(tests, 1)]
    out = ast.Module(body=[*imports, *prelude, *functions], type_ignores=[])
    header = f'"""{task.task_id} ({field}): one test per assert of its check()."""\n\n'
    return header + ast.unparse(ast.fix_missing_locations(out)) + "\n", len(tests)


def split_check(check: ast.FunctionDef) -> list[list[ast.stmt]]:
    """The body of each test: setup statements so far, then one assert (or block of them)."""
    setup: list[ast.stmt] = []
    tests: list[list[ast.stmt]] = []
    for statement in check.body:
        if _holds_assert(statement):
            tests.append([*copy.deepcopy(setup), statement])
        else:
            setup.append(statement)
    return tests


def _holds_assert(statement: ast.stmt) -> bool:
    if isinstance(statement, FUNCTIONS | ast.ClassDef):
        return False  # a helper defined in check() is setup, whatever it holds
    return any(isinstance(node, ast.Assert) for node in ast.walk(statement))


def _test_function(name: str, body: list[ast.stmt]) -> ast.FunctionDef:
    function = ast.parse(f"def {name}():\n    pass\n").body[0]
    assert isinstance(function, ast.FunctionDef)
    function.body = body
    return function


def _imports(task: Task, tests: ast.Module, param: str) -> list[ast.stmt]:
    """The function under test bound to check's parameter, and the module's names it uses.

    HumanEval runs a check in the solution's namespace, so a test may call a helper of the
    solution (``poly``, ``encode_cyclic``) without importing it.
    """
    solution = _parse(task, buggy_module(task), "solution")
    entry = task.entry_point
    lines = [f"from solution import {entry}" + (f" as {param}" if param != entry else "")]
    used = _free_names(tests) & _top_level_names(solution)
    shared = sorted(used - {param, entry})
    if shared:
        lines.append(f"from solution import {', '.join(shared)}")
    return ast.parse("\n".join(lines)).body


def _free_names(module: ast.Module) -> set[str]:
    """Names read but never bound anywhere in `module` (a coarse, scope-blind view)."""
    loaded, bound = set(), set()
    for node in ast.walk(module):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.alias):
            bound.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, FUNCTIONS | ast.ClassDef):
            bound.add(node.name)
    return loaded - bound - set(dir(builtins))


def _top_level_names(module: ast.Module) -> set[str]:
    names = set()
    for node in module.body:
        if isinstance(node, FUNCTIONS | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {a.asname or a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


# --- exactness and reach --------------------------------------------------------------------


def function_dumps(source: str) -> dict[str, str] | None:
    """Each top-level function's AST dump, docstrings stripped; None if it does not parse."""
    try:
        module = ast.parse(source)
    except SyntaxError:
        return None
    for node in ast.walk(module):
        if isinstance(node, FUNCTIONS | ast.ClassDef) and _docstring(node.body):
            node.body = node.body[1:] or [ast.Pass()]
    return {n.name: ast.dump(n) for n in module.body if isinstance(n, FUNCTIONS)}


def _docstring(body: list[ast.stmt]) -> bool:
    first = body[0] if body else None
    return (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )


def is_exact(source: str, task: Task) -> bool:
    """Whether `source` has the canonical solution's functions, the entry point among them."""
    dumps = function_dumps(source)
    canonical = function_dumps(canonical_module(task))
    return dumps is not None and task.entry_point in dumps and dumps == canonical


def reach(task: Task) -> dict[str, Any]:
    """Whether one mutation of the buggy module gives the canonical one, and how many there are."""
    source = buggy_module(task)
    record: dict[str, Any] = {"task_id": task.task_id, "bug_type": task.bug_type}
    try:
        mutations = enumerate_mutations(source, SOLUTION)
    except MutationError as exc:
        return {**record, "mutations": 0, "exact": [], "reachable": False, "error": str(exc)}
    canonical = function_dumps(canonical_module(task))
    exact = [
        f"{m.operator}@{m.line}: {m.summary}"
        for m in mutations
        if function_dumps(apply_mutation(source, m)) == canonical
    ]
    return {**record, "mutations": len(mutations), "exact": exact, "reachable": bool(exact)}


def reach_table(records: Iterable[dict[str, Any]]) -> str:
    """Reachability in one edit, and the mutation counts, by bug type and in total."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(record["bug_type"], []).append(record)
    rows = [f"{'bug type':18} {'tasks':>5} {'reach':>5} {'mean':>7} {'median':>7} {'max':>6}"]
    everything = [r for group in groups.values() for r in group]
    for name, group in [*sorted(groups.items()), ("total", everything)]:
        counts = [r["mutations"] for r in group]
        rows.append(
            f"{name:18} {len(group):>5} {sum(r['reachable'] for r in group):>5} "
            f"{statistics.mean(counts):>7.1f} {statistics.median(counts):>7.1f} {max(counts):>6}"
        )
    return "\n".join(rows)


# --- the records of a run ------------------------------------------------------------------


def progress_line(record: dict[str, Any]) -> str:
    """One task's outcome in a line, for stderr as each task ends."""
    if record["lost"]:
        verdict = f"LOST ({record['reason'][:160]})"
    elif record["plausible"]:
        verdict = "plausible, exact" if record["exact"] else "plausible"
    elif record["non_repair_commit"]:
        verdict = "non-repair commit"
    else:
        verdict = "not repaired"
    statuses = ", ".join(c["status"] for c in record["cycles"]) or "no cycle"
    return (
        f"{record['task_id']} ({record['bug_type']}): {verdict}; cycles: {statuses}; "
        f"{record['candidates']} candidates, {record['sandbox_seconds']:.0f} s sandbox, "
        f"{record['wall_seconds']:.0f} s"
    )


def summarise(records: Sequence[dict[str, Any]], examples: bool = False) -> dict[str, Any]:
    """Counts by bug type and in total, and the median cost of a repair.

    With `examples` (the search saw only the docstring's examples), also the overfitting
    figure: of the repairs that pass every example, how many pass the full test.
    """
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(record["bug_type"], []).append(record)
    groups = {**dict(sorted(groups.items())), "total": list(records)}
    repaired = [r for r in records if r["plausible"]]
    summary: dict[str, Any] = {
        "by_bug_type": {name: _counts(group) for name, group in groups.items()},
        "median_repair_candidates": _median([r["repair_candidates"] for r in repaired]),
        "median_repair_sandbox_seconds": _median([r["repair_sandbox_seconds"] for r in repaired]),
        "wall_seconds": round(sum(r["wall_seconds"] for r in records), 1),
    }
    if examples:
        visible = [r for r in records if r["search_pass"]]
        summary["example_repairs"] = len(visible)
        summary["example_repairs_passing_full"] = sum(r["plausible"] for r in visible)
    return summary


def _counts(group: list[dict[str, Any]]) -> dict[str, int]:
    return {
        "tasks": len(group),
        "plausible": sum(r["plausible"] for r in group),
        "exact": sum(r["exact"] for r in group),
        "non_repair_commits": sum(r["non_repair_commit"] for r in group),
        "lost": sum(r["lost"] for r in group),
    }


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def table(summary: dict[str, Any], records: Sequence[dict[str, Any]]) -> str:
    """The summary as text: counts by bug type, medians, overfitting, each lost task's reason."""
    columns = ("tasks", "plausible", "exact", "non_repair_commits", "lost")
    heads = ("tasks", "plausible", "exact", "non-repair", "lost")
    rows = [f"{'bug type':18} " + " ".join(f"{h:>10}" for h in heads)]
    for name, counts in summary["by_bug_type"].items():
        rows.append(f"{name:18} " + " ".join(f"{counts[c]:>10}" for c in columns))
    if summary["median_repair_candidates"] is not None:
        rows.append(
            f"median per plausible repair: {summary['median_repair_candidates']} candidates, "
            f"{summary['median_repair_sandbox_seconds']} s sandbox"
        )
    rows.append(f"wall time, all tasks: {summary['wall_seconds']} s")
    if "example_repairs" in summary:
        rows.append(
            f"overfitting: {summary['example_repairs_passing_full']} of "
            f"{summary['example_repairs']} repairs passing the examples pass the full test"
        )
    rows += [f"lost {r['task_id']}: {r['reason']}" for r in records if r["lost"]]
    return "\n".join(rows)
