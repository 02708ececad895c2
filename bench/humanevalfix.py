"""The daemon's repair power on HumanEvalFix: 164 human-written bugs it has never seen.

``run``: each task becomes a bot as a new user would make it (a git repository with
``solution.py`` and a pytest suite split from the task's ``check``; see humanevalfix_tasks),
registered with the default settings, and gets forced cycles through the product's own
``run_cycle`` in the real sandbox, until a cycle commits nothing or every test passes. The
final committed tree is then judged in the sandbox on the full test: *plausible* when every
test passes, *exact* when its functions are the canonical fix's (AST-equal, docstrings
aside). A task whose final tree is committed but not plausible counts as a non-repair
commit; one whose cycle ended in error (or whose set-up failed) is lost, with its reason.
Each task has its own state directory: nothing is learned from one task for another.

``--tests example`` searches on the docstring's examples only and judges on the full test:
the share of example-passing repairs that also pass the full test is the overfitting figure.

``--record-candidates`` keeps each cycle's evaluated candidates (edit, score) in the JSON,
in the order they ran; with ``--alternatives N`` the search goes on N candidates past the
first repair's batch, so that selection rules can be compared on the same runs.

``reach`` needs no sandbox: whether one mutation of the buggy module is the canonical fix.

    python bench/humanevalfix.py run --sample 6 --seed 1 --json /tmp/hef6.json
    python bench/humanevalfix.py run --tasks Python/0,Python/10 --tests example
    python bench/humanevalfix.py run --alternatives 64 --record-candidates --json study.json
    python bench/humanevalfix.py reach [--json reach.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "bench"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from humanevalfix_tasks import (  # noqa: E402
    DATA,
    SOLUTION,
    TEST_FILE,
    Task,
    TaskError,
    buggy_module,
    choose,
    is_exact,
    load_tasks,
    progress_line,
    reach,
    reach_table,
    suite_of,
    summarise,
    table,
)

from daemon.cycles import run_cycle  # noqa: E402
from daemon.errors import Error as DaemonError  # noqa: E402
from daemon.ledger import open_ledger  # noqa: E402
from daemon.registry import TargetSpec, load_target  # noqa: E402
from daemon.store import Store, open_store  # noqa: E402
from policies.status import CycleStatus  # noqa: E402
from sandbox.backend import Backend, open_backend  # noqa: E402
from sandbox.errors import Error as SandboxError  # noqa: E402
from sandbox.evaluate import run_tests  # noqa: E402

STATE = ROOT / "state"
IDENTITY = ("-c", "user.name=HumanEvalFix user", "-c", "user.email=user@localhost")


@dataclass(frozen=True)
class Settings:
    """How each task is run: cycles at most, which tests the search sees, the sandbox."""

    cycles: int = 3
    tests: str = "full"
    backend: str = "docker"
    candidates: int | None = None
    """A `[budget] candidates` override; None keeps the default."""
    seconds: float | None = None
    """A `[budget] seconds` override; None keeps the default."""
    alternatives: int | None = None
    """A `[search] alternatives` override; None keeps the default."""
    record_candidates: bool = False
    """Keep each cycle's evaluated candidates in its record (for studies of selection)."""


# --- one task -------------------------------------------------------------------------------


def run_task(
    task: Task, settings: Settings, work: Path, backend: Backend | None = None
) -> dict[str, Any]:
    """Set the task up in `work`, run its cycles, judge the final tree; its record."""
    started = time.monotonic()
    record = _new_record(task, settings)
    try:
        spec, full = set_up(task, settings, work, record)
    except (TaskError, DaemonError, OSError, subprocess.CalledProcessError) as exc:
        _lose(record, f"set-up: {_one_line(exc)}")
    else:
        try:
            backend = backend or open_backend(work, settings.backend)
            run_cycles(spec, work, backend, settings, record)
            judge(task, spec, work, backend, full, record)
        except SandboxError as exc:
            _lose(record, f"sandbox: {_one_line(exc)}")
        except Exception as exc:  # a crash of the product (or of a half-made edit): say which
            _lose(record, f"crash: {type(exc).__name__}: {_one_line(exc)}")
    _repair_cost(record)
    record["wall_seconds"] = round(time.monotonic() - started, 1)
    return record


def _new_record(task: Task, settings: Settings) -> dict[str, Any]:
    return {
        "task_id": task.task_id,
        "bug_type": task.bug_type,
        "tests": settings.tests,
        "search_tests": None,
        "full_tests": None,
        "cycles": [],
        "commits": [],
        "search_pass": False,
        "plausible": False,
        "exact": False,
        "non_repair_commit": False,
        "lost": False,
        "reason": "",
        "judge": None,
        "candidates": 0,
        "sandbox_seconds": 0.0,
        "repair_candidates": None,
        "repair_sandbox_seconds": None,
    }


def _lose(record: dict[str, Any], reason: str) -> None:
    if not record["lost"]:
        record.update(lost=True, reason=reason)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def set_up(
    task: Task, settings: Settings, work: Path, record: dict[str, Any]
) -> tuple[TargetSpec, str]:
    """The task's repository and target file in `work`, loaded; and the full test file.

    Raises:
        TaskError: a test cannot be built from the task (the message names it).
        TargetError: the target file is refused.
    """
    field = "test" if settings.tests == "full" else "example_test"
    search, record["search_tests"] = suite_of(task, field)
    full, record["full_tests"] = suite_of(task, "test")
    repo = work / "bots" / task.slug
    _write(repo, {SOLUTION: buggy_module(task), TEST_FILE: search})
    git = ["git", "-C", str(repo)]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True, capture_output=True)
    subprocess.run([*git, "add", "-A"], check=True, capture_output=True)
    subprocess.run(
        [*git, *IDENTITY, "commit", "-q", "--no-verify", "-m", f"{task.task_id}: the bot"],
        check=True,
        capture_output=True,
    )
    target = work / "targets" / f"{task.slug}.toml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(target_toml(task.slug, repo, settings))
    return load_target(target, work), full


def target_toml(name: str, repo: Path, settings: Settings) -> str:
    """The target file: the required keys only, and a budget only when one is asked for."""
    lines = [
        f"name = {json.dumps(name)}",
        'kind = "code"',
        f"repo = {json.dumps(str(repo))}",
        f"files = [{json.dumps(SOLUTION)}]",
        'tests = ["tests"]',
    ]
    tables = {
        "budget": {"candidates": settings.candidates, "seconds": settings.seconds},
        "search": {"alternatives": settings.alternatives},
    }
    for section, keys in tables.items():
        if any(value is not None for value in keys.values()):
            lines += ["", f"[{section}]"]
            lines += [f"{key} = {value}" for key, value in keys.items() if value is not None]
    return "\n".join(lines) + "\n"


def _write(root: Path, files: dict[str, str]) -> None:
    """Write `files` under `root`, readable by the sandbox's user."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o644)
    for directory in [root, *{(root / rel).parent for rel in files}]:
        directory.chmod(0o755)


def run_cycles(
    spec: TargetSpec, work: Path, backend: Backend, settings: Settings, record: dict[str, Any]
) -> None:
    """Forced cycles until one commits nothing, every search test passes, or `cycles` ran."""
    with open_store(work) as store:
        for _ in range(settings.cycles):
            report = run_cycle(spec, work, backend, store)
            mutation = report.mutation or {}
            record["cycles"].append(
                {
                    "cycle": report.cycle,
                    "status": str(report.status),
                    "reason": report.reason,
                    "candidates": report.candidates,
                    "sandbox_seconds": round(report.sandbox_seconds, 2),
                    "seconds": round(report.seconds, 2),
                    "baseline_score": report.baseline_score,
                    "best_score": report.best_score,
                    "commit": report.commit,
                    "operator": mutation.get("operator"),
                    "summary": mutation.get("summary"),
                    **({"tried": _tried(store, spec.name)} if settings.record_candidates else {}),
                }
            )
            if report.status == CycleStatus.ERROR:
                _lose(record, report.reason)
            accepted = report.status == CycleStatus.ACCEPTED
            if accepted and (report.best_score or 0.0) >= 1.0:
                record["search_pass"] = True
            if not accepted or record["search_pass"]:
                return


def _tried(store: Store, target: str) -> list[dict[str, Any]]:
    """The last cycle's candidates in the order they were evaluated: edit and outcome."""
    cycle = store.cycles(target, 1)[0]["id"]
    keys = ("mutation", "valid", "score", "passed", "collected", "reason")
    return [{key: row[key] for key in keys} for row in store.candidates(cycle)]


def judge(
    task: Task,
    spec: TargetSpec,
    work: Path,
    backend: Backend,
    full: str,
    record: dict[str, Any],
) -> None:
    """Exactness of the committed solution, and its full test run in the sandbox."""
    ledger = open_ledger(spec)
    try:
        record["commits"] = [entry["subject"] for entry in reversed(ledger.log(spec.name))]
        final = ledger.read(SOLUTION)
    finally:
        ledger.close()
    record["exact"] = is_exact(final, task)
    if final == buggy_module(task):
        return  # nothing kept: the buggy code fails the full test by construction
    tree = work / "judge"
    _write(tree, {SOLUTION: final, TEST_FILE: full})
    run = run_tests(
        backend,
        tree,
        ["tests"],
        limits=spec.config.sandbox.limits(),
        name=f"{spec.name}-judge",
    )
    record["judge"] = {
        "valid": run.valid,
        "reason": run.reason,
        "passed": run.passed,
        "collected": run.collected,
    }
    complete = run.collected == record["full_tests"] and run.passed == run.collected
    record["plausible"] = run.valid and complete
    record["non_repair_commit"] = not record["plausible"]


def _repair_cost(record: dict[str, Any]) -> None:
    """Totals, and the candidates and sandbox time up to the cycle that made it plausible."""
    cycles = record["cycles"]
    record["candidates"] = sum(c["candidates"] for c in cycles)
    record["sandbox_seconds"] = round(sum(c["sandbox_seconds"] for c in cycles), 2)
    if not record["plausible"]:
        return
    accepted = [i for i, c in enumerate(cycles) if c["status"] == CycleStatus.ACCEPTED]
    last = accepted[-1] if accepted else len(cycles) - 1
    record["repair_candidates"] = sum(c["candidates"] for c in cycles[: last + 1])
    record["repair_sandbox_seconds"] = round(
        sum(c["sandbox_seconds"] for c in cycles[: last + 1]), 2
    )


def run_isolated(task: Task, settings: Settings) -> dict[str, Any]:
    """`run_task` in a fresh state directory under state/, removed afterwards."""
    STATE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=STATE, prefix=f"humanevalfix-{task.slug}-") as tmp:
        return run_task(task, settings, Path(tmp))


# --- many tasks -----------------------------------------------------------------------------


def run_all(tasks: list[Task], settings: Settings, jobs: int = 1) -> list[dict[str, Any]]:
    """Every task's record, in the tasks' order; a progress line per task on stderr."""
    records: dict[str, dict[str, Any]] = {}

    def done(record: dict[str, Any]) -> None:
        records[record["task_id"]] = record
        print(f"[{len(records)}/{len(tasks)}] {progress_line(record)}", file=sys.stderr, flush=True)

    if jobs <= 1:
        for task in tasks:
            done(run_isolated(task, settings))
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(run_isolated, task, settings): task for task in tasks}
            for future in as_completed(futures):
                done(future.result())
    return [records[task.task_id] for task in tasks]


# --- command line ---------------------------------------------------------------------------


def _selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=DATA, help="the HumanEvalFix JSONL file")
    parser.add_argument("--tasks", help="comma-separated task ids, e.g. Python/0,Python/10")
    parser.add_argument("--sample", type=int, metavar="N", help="a random sample of N tasks")
    parser.add_argument("--seed", type=int, default=0, help="seeds the sample (default 0)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write every record here")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="repair tasks with real cycles in the sandbox")
    _selection(run)
    run.add_argument("--cycles", type=int, default=3, help="cycles per task at most (3)")
    run.add_argument("--tests", choices=["full", "example"], default="full")
    run.add_argument("--jobs", type=int, default=1, help="tasks run at once, in processes")
    run.add_argument("--backend", choices=["docker", "bwrap"], default="docker")
    run.add_argument("--candidates", type=int, help="[budget] candidates (default: the target's)")
    run.add_argument("--seconds", type=float, help="[budget] seconds (default: the target's)")
    run.add_argument(
        "--alternatives", type=int, help="[search] alternatives (default: the target's)"
    )
    run.add_argument(
        "--record-candidates",
        action="store_true",
        help="keep every evaluated candidate of each cycle in the JSON records",
    )
    reach_cmd = commands.add_parser("reach", help="is the fix one mutation away? (no sandbox)")
    _selection(reach_cmd)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: ``run`` or ``reach``."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = _parser()
    args = parser.parse_args(argv)
    ids = [i.strip() for i in (args.tasks or "").split(",") if i.strip()]
    try:
        tasks = choose(load_tasks(args.data), ids, args.sample, args.seed)
    except (TaskError, OSError) as exc:
        parser.error(str(exc))
    if args.command == "reach":
        records = [reach(task) for task in tasks]
        print(reach_table(records))
        output: dict[str, Any] = {"tasks": records}
    else:
        settings = Settings(
            args.cycles,
            args.tests,
            args.backend,
            args.candidates,
            args.seconds,
            args.alternatives,
            args.record_candidates,
        )
        records = run_all(tasks, settings, args.jobs)
        summary = {"settings": asdict(settings), **summarise(records, args.tests == "example")}
        print(table(summary, records))
        output = {"summary": summary, "tasks": records}
    if args.json:
        args.json.write_text(json.dumps(output, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
