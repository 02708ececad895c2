"""Selection rules replayed on a recorded HumanEvalFix run: which repair would each rule keep?

Reads the JSON of ``bench/humanevalfix.py run --alternatives N --record-candidates``:
every first cycle's candidates, in the order they ran, with their scores. For each
tie-break rule among candidates that pass every test, and each number of
alternatives k <= N searched past the batch of the first repair, it replays the
first cycle's choice and counts the plausible and exact repairs and the median
candidates per repair. Tasks repaired only in a later cycle keep their recorded
outcome. The replay is exact for the first cycle with one sandbox at a time
(`sandbox.parallel` 1, the default on two cores): the order up to any point does
not depend on what came after it.

    python bench/hef_selection.py study.json [--batch 16] [--json out.json]
"""

from __future__ import annotations

import argparse
import difflib
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from humanevalfix_tasks import DATA, buggy_module, is_exact, load_tasks  # noqa: E402

from daemon.cycles.search import novelty, tokens  # noqa: E402
from policies.codemods import Mutation, apply_mutation  # noqa: E402

Repair = dict[str, Any]
"""One candidate that passes every test: its position and measures of its change."""

RULES: dict[str, Callable[[Repair], tuple[int, ...]]] = {
    "least new code": lambda r: (r["novelty"], r["position"]),
    "fewest changed tokens": lambda r: (r["tokens"], r["position"]),
    "least new code, then nearest variant (shipped)": lambda r: (
        r["novelty"],
        r["variant"],
        r["position"],
    ),
    "least new code, then tokens": lambda r: (r["novelty"], r["tokens"], r["position"]),
    "fewest changed lines, then new code": lambda r: (r["lines"], r["novelty"], r["position"]),
    "search order only": lambda r: (r["position"],),
    "an exact one if any (the ceiling)": lambda r: (not r["exact"], r["position"]),
}
ALTERNATIVES = (0, 8, 16, 32, 64)


def changed(old: list[str], new: list[str]) -> int:
    """Items replaced, inserted or deleted between two sequences."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return sum(
        max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal"
    )


def first_cycle_repairs(record: dict[str, Any], source: str, task: Any) -> list[Repair] | None:
    """The first cycle's repairs in search order; None when it recorded no candidates."""
    cycles = record["cycles"]
    if not cycles or "tried" not in cycles[0]:
        return None
    repairs = []
    for position, row in enumerate(cycles[0]["tried"]):
        mutation = row["mutation"]
        if "after" in mutation or not (row["valid"] and row["score"] >= 1.0):
            continue  # not a repair, or one made on a stepping stone
        new = apply_mutation(source, Mutation(**mutation))
        repairs.append(
            {
                "position": position,
                "variant": mutation["variant"],
                "novelty": novelty(source, new),
                "tokens": changed(tokens(source), tokens(new)),
                "lines": changed(source.splitlines(), new.splitlines()),
                "exact": is_exact(new, task),
            }
        )
    return repairs


def replay(
    tasks: list[tuple[dict[str, Any], list[Repair] | None, int]],
    rule: Callable[[Repair], tuple[int, ...]],
    alternatives: int,
    batch: int,
) -> dict[str, Any]:
    """Plausible and exact repairs, and median candidates per repair, under one rule."""
    plausible = exact = 0
    spent: list[float] = []
    for record, repairs, tried in tasks:
        if repairs:
            end = -(-(repairs[0]["position"] + 1) // batch) * batch
            window = [r for r in repairs if r["position"] < end + alternatives]
            plausible += 1
            exact += min(window, key=rule)["exact"]
            spent.append(min(end + alternatives, tried))
        elif record["plausible"]:  # repaired in a later cycle: as recorded
            plausible += 1
            exact += record["exact"]
            spent.append(record["repair_candidates"])
    median = statistics.median(spent) if spent else None
    return {"plausible": plausible, "exact": exact, "median_candidates": median}


def main(argv: list[str] | None = None) -> int:
    """Entry point: the table of rules by alternatives."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a run's JSON, made with --record-candidates")
    parser.add_argument("--batch", type=int, default=16, help="the run's sandbox.batch (16)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the results here")
    parser.add_argument("--data", type=Path, default=DATA, help="the HumanEvalFix JSONL file")
    args = parser.parse_args(argv)
    records = json.loads(args.run.read_text())["tasks"]
    known = {task.task_id: task for task in load_tasks(args.data)}
    tasks = []
    for record in records:
        task = known[record["task_id"]]
        repairs = first_cycle_repairs(record, buggy_module(task), task)
        tried = len(record["cycles"][0].get("tried", [])) if record["cycles"] else 0
        tasks.append((record, repairs, tried))
    recorded = max((t for _, r, t in tasks if r), default=0)
    results = []
    print(f"{'rule':48} {'alternatives':>12} {'plausible':>9} {'exact':>6} {'median':>7}")
    for name, rule in RULES.items():
        for k in ALTERNATIVES:
            result = {"rule": name, "alternatives": k, **replay(tasks, rule, k, args.batch)}
            results.append(result)
            print(
                f"{name:48} {k:>12} {result['plausible']:>9} {result['exact']:>6} "
                f"{result['median_candidates']:>7}"
            )
    if recorded and recorded < max(ALTERNATIVES):
        print(f"note: at most {recorded} candidates recorded per cycle", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
