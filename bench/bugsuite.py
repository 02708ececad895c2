"""The bug suite of bench/bugs: small programs with injected defects, and a check of each.

A program is a directory ``bench/bugs/NAME`` holding ``NAME.py`` (the defective code, the
only file a repair may rewrite), ``test_NAME.py`` (its pytest suite) and ``bug.toml`` (what
the defects are, for reports and for this check only: repair strategies never read it).

``check`` validates every program through the Docker sandbox, never running a mutant on the
host: the baseline must have failing and passing tests, then every single mutation that
`enumerate_mutations` lists is run, and the program must behave as its kind says.

* single: at least one single mutation makes every test pass, the declared one among them;
* double: none does, but the declared fix of each defect leaves exactly the other defect's
  tests failing, and after the first fix a second single mutation makes every test pass;
* unfixable: no single mutation makes every test pass.

    python bench/bugsuite.py check [--only NAME ...] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from daemon.cycles.baseline import Baseline  # noqa: E402
from daemon.cycles.search import improves  # noqa: E402
from policies.codemods import Mutation, apply_mutation, catalogue, enumerate_mutations  # noqa: E402
from sandbox.backend import Backend, open_backend  # noqa: E402
from sandbox.evaluate import Candidate, TestRun, run_batch, run_tests  # noqa: E402
from sandbox.job import Limits  # noqa: E402

SUITE = Path(__file__).resolve().parent / "bugs"
KINDS = ("single", "double", "unfixable")
DEFECTS = {"single": (1, 1), "double": (2, 2), "unfixable": (1, None)}
"""The least and most defects each kind declares (None: no upper bound)."""
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
BATCH = 25
"""Candidates per sandbox, as a cycle batches them."""
TIMEOUT_FACTOR = 10.0
MIN_TIMEOUT = 2.0
"""A candidate may take ten times the baseline's test time, at least 2 s (as in a cycle)."""
PASSED = ("passed", "xfailed")


class SuiteError(Exception):
    """A program of the suite is malformed; the message names the file and the field."""


@dataclass(frozen=True)
class Defect:
    """One injected defect, as bug.toml declares it.

    Attributes:
        line: The 1-based line of the defect in the program's file.
        function: The qualified name of the enclosing function (``"Account.withdraw"``), or
            None at module level.
        operator: The mutation operator whose single edit at that line repairs it; None for
            the defects of an unfixable program.
        what: A sentence on what is wrong and what is right.
    """

    line: int
    function: str | None
    operator: str | None
    what: str


@dataclass(frozen=True)
class Program:
    """One program of the suite.

    Attributes:
        name: The program's name, also its module's name.
        directory: The program's directory: the tree its tests run in.
        files: The files a repair may rewrite, relative to the directory.
        tests: The pytest arguments, relative to the directory.
        kind: "single", "double" or "unfixable".
        description: One line on what goes wrong.
        defects: The declared defects.
    """

    name: str
    directory: Path
    files: tuple[str, ...]
    tests: tuple[str, ...]
    kind: str
    description: str
    defects: tuple[Defect, ...]

    def sources(self) -> dict[str, str]:
        """The text of each rewritable file, by its path relative to the directory."""
        return {path: (self.directory / path).read_text() for path in self.files}


def load_suite(root: Path = SUITE) -> list[Program]:
    """Every program under ``root`` (each subdirectory is one), sorted by name.

    Raises:
        SuiteError: If a program is malformed; the message names the file.
    """
    if not root.is_dir():
        raise SuiteError(f"{root}: the bug suite directory does not exist")
    return [
        load_program(path)
        for path in sorted(root.iterdir())
        if path.is_dir() and not path.name.startswith((".", "_"))
    ]


def load_program(directory: Path) -> Program:
    """The program in ``directory``, its bug.toml checked.

    Raises:
        SuiteError: If a file is missing, bug.toml does not parse, or a field is missing,
            unknown or wrong; the message names the file and the field.
    """
    name = directory.name
    if not NAME.match(name):
        raise SuiteError(f"{directory}: a program's name must be lower_snake_case, not {name!r}")
    module, tests, meta_path = (
        directory / f"{name}.py",
        directory / f"test_{name}.py",
        directory / "bug.toml",
    )
    for path in (module, tests, meta_path):
        if not path.is_file():
            raise SuiteError(f"{path}: missing (a program has {name}.py, test_{name}.py, bug.toml)")
    try:
        meta = tomllib.loads(meta_path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise SuiteError(f"{meta_path}: not valid TOML: {exc}") from None
    lines = len(module.read_text().splitlines())
    kind = _field(meta_path, meta, "kind", str)
    if kind not in KINDS:
        raise SuiteError(f"{meta_path}: kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    description = _field(meta_path, meta, "description", str)
    _no_other_keys(meta_path, meta, {"kind", "description", "defects"}, "")
    entries = _field(meta_path, meta, "defects", list)
    low, high = DEFECTS[kind]
    if len(entries) < low or (high is not None and len(entries) > high):
        expected = str(low) if low == high else f"at least {low}"
        raise SuiteError(
            f"{meta_path}: defects: a {kind} program declares {expected} [[defects]], "
            f"got {len(entries)}"
        )
    defects = tuple(_defect(meta_path, entry, i, kind, lines) for i, entry in enumerate(entries, 1))
    if kind == "double" and defects[0].function == defects[1].function:
        raise SuiteError(
            f"{meta_path}: defects: the two defects of a double program must be in different "
            f"functions, both are in {defects[0].function}"
        )
    return Program(
        name=name,
        directory=directory,
        files=(module.name,),
        tests=(tests.name,),
        kind=kind,
        description=description,
        defects=defects,
    )


def _field(path: Path, table: dict[str, Any], key: str, kind: type, where: str = "") -> Any:
    if key not in table:
        raise SuiteError(f"{path}: {where}{key}: missing")
    value = table[key]
    if not isinstance(value, kind) or isinstance(value, bool) or value in ("", []):
        raise SuiteError(
            f"{path}: {where}{key}: expected a non-empty {kind.__name__}, got {value!r}"
        )
    return value


def _no_other_keys(path: Path, table: dict[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise SuiteError(
            f"{path}: {where}unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})"
        )


def _defect(path: Path, entry: Any, index: int, kind: str, lines: int) -> Defect:
    where = f"defects[{index}]."
    if not isinstance(entry, dict):
        raise SuiteError(f"{path}: {where[:-1]}: expected a table, got {entry!r}")
    _no_other_keys(path, entry, {"line", "function", "operator", "what"}, where)
    line = _field(path, entry, "line", int, where)
    if not 1 <= line <= lines:
        raise SuiteError(f"{path}: {where}line: {line} is not a line of the program (1 to {lines})")
    function = _field(path, entry, "function", str, where) if "function" in entry else None
    operator = None
    if kind == "unfixable":
        if "operator" in entry:
            raise SuiteError(
                f"{path}: {where}operator: an unfixable defect has no repairing operator"
            )
    else:
        operator = _field(path, entry, "operator", str, where)
        if operator not in catalogue():
            raise SuiteError(
                f"{path}: {where}operator: no mutation operator is called {operator!r} "
                f"(known: {', '.join(catalogue())})"
            )
    return Defect(line, function, operator, _field(path, entry, "what", str, where))


# --- the check ----------------------------------------------------------------------------


@dataclass
class Report:
    """What the check found for one program."""

    name: str
    kind: str
    collected: int = 0
    failing: list[str] = field(default_factory=list)
    """Tests failing at baseline."""
    mutations: int = 0
    repairs: list[str] = field(default_factory=list)
    """Single mutations after which every test passes, as ``operator@line: summary``."""
    improving: int = 0
    """Single mutations that fix some failing tests and break no passing one."""
    second_mutations: int = 0
    """Double programs: mutations of the program with its first defect fixed."""
    second_repairs: list[str] = field(default_factory=list)
    """Double programs: those that then make every test pass."""
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the program behaves as its kind says."""
        return not self.problems


Progress = Callable[[str], None]


def check_program(
    program: Program, backend: Backend, batch: int = BATCH, progress: Progress | None = None
) -> Report:
    """Run the program's baseline and every single mutation in the sandbox, and judge them."""
    say = progress or (lambda _: None)
    started = time.monotonic()
    report = Report(program.name, program.kind)
    sources = program.sources()
    base = _baseline(program, backend, {}, report)
    if base is None:
        report.seconds = time.monotonic() - started
        return report
    report.collected = base.collected
    report.failing = sorted(_failing(base))
    if not report.failing:
        report.problems.append("no test fails at baseline")
    if not base.passing():
        report.problems.append("no test passes at baseline")
    mutations = _mutations(sources)
    report.mutations = len(mutations)
    say(
        f"{program.name}: {len(report.failing)} of {base.collected} tests fail; "
        f"{len(mutations)} mutations"
    )
    runs = _evaluate(program, backend, sources, mutations, base, batch, say)
    repairs = [m for m, run in zip(mutations, runs, strict=True) if _repaired(run, base)]
    report.repairs = [_describe(m) for m in repairs]
    report.improving = sum(1 for run in runs if _improves(run, base))
    if program.kind == "single":
        if not repairs:
            report.problems.append("no single mutation makes every test pass")
        elif not any(_is_declared(m, program.defects[0]) for m in repairs):
            report.problems.append(
                f"the declared fix ({program.defects[0].operator} at line "
                f"{program.defects[0].line}) is not among the {len(repairs)} repairs"
            )
    elif program.kind == "unfixable":
        if repairs:
            report.problems.append(
                f"{len(repairs)} single mutation(s) make every test pass, e.g. {report.repairs[0]}"
            )
    else:
        if repairs:
            report.problems.append(
                f"{len(repairs)} single mutation(s) repair both defects, e.g. {report.repairs[0]}"
            )
        _check_double(program, backend, sources, mutations, runs, base, batch, say, report)
    report.seconds = time.monotonic() - started
    return report


def _check_double(
    program: Program,
    backend: Backend,
    sources: dict[str, str],
    mutations: list[Mutation],
    runs: list[TestRun],
    base: TestRun,
    batch: int,
    say: Progress,
    report: Report,
) -> None:
    """Each declared fix leaves the other defect's tests failing; then one more edit repairs."""
    failing = _failing(base)
    fixes: list[tuple[Mutation, frozenset[str]]] = []
    for defect in program.defects:
        found = [
            (m, frozenset(_failing(run)))
            for m, run in zip(mutations, runs, strict=True)
            if _is_declared(m, defect) and _improves(run, base)
        ]
        if not found:
            report.problems.append(
                f"no {defect.operator} mutation at line {defect.line} fixes some failing tests "
                "without breaking others"
            )
            return
        # The most complete of them: a site can have partial fixes too (another bound).
        fixes.append(min(found, key=lambda pair: len(pair[1])))
    (first, left_by_first), (_, left_by_second) = fixes
    if left_by_first & left_by_second or left_by_first | left_by_second != failing:
        report.problems.append(
            "the defects' tests overlap: the first fix leaves "
            f"{sorted(left_by_first)} failing, the second {sorted(left_by_second)}"
        )
    fixed = {first.path: apply_mutation(sources[first.path], first)}
    second_base = _baseline(program, backend, fixed, report)
    if second_base is None:
        return
    second = _mutations({**sources, **fixed})
    report.second_mutations = len(second)
    say(
        f"{program.name}: with {_describe(first)} applied, "
        f"{len(_failing(second_base))} tests fail; {len(second)} mutations"
    )
    second_runs = _evaluate(
        program, backend, {**sources, **fixed}, second, second_base, batch, say, fixed
    )
    repairs = [m for m, run in zip(second, second_runs, strict=True) if _repaired(run, second_base)]
    report.second_repairs = [_describe(m) for m in repairs]
    if not repairs:
        report.problems.append("after the first fix, no single mutation makes every test pass")
    elif not any(_is_declared(m, program.defects[1]) for m in repairs):
        report.problems.append(
            f"after the first fix, the declared fix of the second defect "
            f"({program.defects[1].operator} at line {program.defects[1].line}) does not repair"
        )


def _baseline(
    program: Program, backend: Backend, overlays: dict[str, str], report: Report
) -> TestRun | None:
    run = run_tests(
        backend,
        program.directory,
        program.tests,
        overlays=overlays,
        name=f"bugsuite-{program.name}-baseline",
    )
    if not run.valid:
        which = "baseline" if not overlays else "run with the first fix"
        report.problems.append(f"the {which} is invalid: {run.reason}")
        return None
    return run


def _mutations(sources: dict[str, str]) -> list[Mutation]:
    return [m for path, source in sources.items() for m in enumerate_mutations(source, path)]


def _evaluate(
    program: Program,
    backend: Backend,
    sources: dict[str, str],
    mutations: list[Mutation],
    base: TestRun,
    batch: int,
    say: Progress,
    fixed: dict[str, str] | None = None,
) -> list[TestRun]:
    """Every mutation's run, a batch of candidates per sandbox, as a cycle runs them."""
    duration = float((base.result.result or {}).get("duration", 0.0))
    limits = Limits(timeout=max(MIN_TIMEOUT, TIMEOUT_FACTOR * duration))
    runs: list[TestRun] = []
    for start in range(0, len(mutations), batch):
        chunk = mutations[start : start + batch]
        candidates = [
            Candidate(
                str(start + i),
                {**(fixed or {}), m.path: apply_mutation(sources[m.path], m)},
            )
            for i, m in enumerate(chunk)
        ]
        runs += run_batch(
            backend,
            program.directory,
            candidates,
            program.tests,
            limits=limits,
            min_collected=base.collected,
            must_pass=base.passing(),
            baseline=dict(base.tests),
            name=f"bugsuite-{program.name}",
        )
        repaired = sum(1 for run in runs if _repaired(run, base))
        say(f"{program.name}: {len(runs)}/{len(mutations)} run, {repaired} repair(s)")
    return runs


def _failing(run: TestRun) -> set[str]:
    return {test for test, outcome in run.tests.items() if outcome not in PASSED}


def _repaired(run: TestRun, base: TestRun) -> bool:
    return run.valid and run.collected >= base.collected and not _failing(run)


def _improves(run: TestRun, base: TestRun) -> bool:
    """An improvement as a cycle judges one that also fixes a failing test.

    `improves` (a valid run, a higher score, every passing test kept) alone would also
    count a candidate that only collects more tests, which pass: the score rises while
    every test that failed still fails. The check counts fixes of the program, so it
    adds `_fixes_failing`; when a run collects the baseline's tests, the two agree.
    """
    return improves(run, Baseline.of(base)) and _fixes_failing(run, base)


def _fixes_failing(run: TestRun, base: TestRun) -> bool:
    """Some test that failed at baseline no longer fails, and no other test fails."""
    return _failing(run) < _failing(base)


def _is_declared(mutation: Mutation, defect: Defect) -> bool:
    return mutation.operator == defect.operator and mutation.line == defect.line


def _describe(mutation: Mutation) -> str:
    return f"{mutation.operator}@{mutation.line}: {mutation.summary}"


# --- command line -------------------------------------------------------------------------


def _table(reports: Sequence[Report]) -> str:
    lines = [
        f"{'program':18} {'kind':9} {'failing':>9} {'mutations':>9} {'repairs':>7} "
        f"{'improving':>9} {'2nd':>9}  status"
    ]
    for r in reports:
        second = f"{len(r.second_repairs)}/{r.second_mutations}" if r.kind == "double" else "-"
        status = "ok" if r.ok else "FAIL: " + "; ".join(r.problems)
        lines.append(
            f"{r.name:18} {r.kind:9} {len(r.failing):>3}/{r.collected:<5} {r.mutations:>9} "
            f"{len(r.repairs):>7} {r.improving:>9} {second:>9}  {status}"
        )
    bad = sum(1 for r in reports if not r.ok)
    runs = sum(r.mutations + r.second_mutations for r in reports)
    seconds = sum(r.seconds for r in reports)
    lines.append(
        f"{len(reports)} programs, {bad} failing their kind; {runs} sandboxed mutation runs "
        f"in {seconds:.0f} s"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: ``check`` the suite through the sandbox."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="validate every program through the sandbox")
    check.add_argument("--only", action="append", metavar="NAME", help="one program (repeatable)")
    check.add_argument("--json", action="store_true", help="print the reports as JSON")
    check.add_argument("--batch", type=int, default=BATCH, help="candidates per sandbox")
    check.add_argument(
        "--state",
        type=Path,
        default=ROOT / "state" / "bench",
        help="where sandbox jobs are staged (must be visible to the Docker daemon)",
    )
    args = parser.parse_args(argv)
    try:
        suite = load_suite()
    except SuiteError as exc:
        print(f"bugsuite: {exc}", file=sys.stderr)
        return 2
    if args.only:
        unknown = sorted(set(args.only) - {p.name for p in suite})
        if unknown:
            parser.error(f"no program of the suite is called {', '.join(unknown)}")
        suite = [p for p in suite if p.name in args.only]
    args.state.mkdir(parents=True, exist_ok=True)
    backend = open_backend(args.state, "docker")
    reports = []
    for i, program in enumerate(suite, 1):
        print(f"[{i}/{len(suite)}] {program.name} ({program.kind})", file=sys.stderr, flush=True)
        report = check_program(
            program,
            backend,
            args.batch,
            lambda line: print(f"  {line}", file=sys.stderr, flush=True),
        )
        verdict = "ok" if report.ok else "FAIL: " + "; ".join(report.problems)
        print(
            f"  {program.name}: {len(report.repairs)} repair(s) of {report.mutations}; "
            f"{verdict} ({report.seconds:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
        reports.append(report)
    if args.json:
        print(json.dumps([{**asdict(r), "ok": r.ok} for r in reports], indent=2))
    else:
        print(_table(reports))
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
