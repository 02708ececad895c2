"""The bug suite of bench/bugs: it loads, its metadata holds, and its check runs in the sandbox."""

from __future__ import annotations

import ast
import re
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from policies.codemods import enumerate_mutations
from sandbox import evaluate
from sandbox.job import Outcome, Result

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import bugsuite
from bugsuite import SuiteError, check_program, load_program, load_suite

SUITE = load_suite()


def program_ids(program: bugsuite.Program) -> str:
    return program.name


def test_the_suite_has_the_declared_mix():
    kinds = Counter(program.kind for program in SUITE)
    assert len(SUITE) >= 25
    assert kinds == {"single": 24, "double": 4, "unfixable": 4}
    operators = Counter(d.operator for p in SUITE for d in p.defects if d.operator)
    assert len(operators) >= 10
    assert sum(operators.values()) == 24 + 2 * 4


def test_program_names_are_distinct_modules():
    names = [program.name for program in SUITE]
    assert len(set(names)) == len(names)
    assert all(program.files == (f"{program.name}.py",) for program in SUITE)


@pytest.mark.parametrize("program", SUITE, ids=program_ids)
def test_files_parse_and_have_the_expected_size(program):
    source = (program.directory / program.files[0]).read_text()
    ast.parse(source)
    assert 20 <= len(source.splitlines()) <= 90
    tests = ast.parse((program.directory / program.tests[0]).read_text())
    names = [node.name for node in tests.body if isinstance(node, ast.FunctionDef)]
    assert 6 <= sum(1 for name in names if name.startswith("test_")) <= 20


@pytest.mark.parametrize("program", SUITE, ids=program_ids)
def test_declared_defects_are_where_an_operator_can_reach(program):
    source = program.sources()[program.files[0]]
    mutations = enumerate_mutations(source, program.files[0])
    for defect in program.defects:
        assert source.splitlines()[defect.line - 1].strip()
        if defect.operator is None:
            continue
        on_line = [m for m in mutations if m.line == defect.line and m.operator == defect.operator]
        assert on_line, f"{program.name}: no {defect.operator} mutation on line {defect.line}"
        assert {m.function for m in on_line} == {defect.function}


def test_double_defects_are_in_different_functions():
    for program in SUITE:
        if program.kind == "double":
            assert len({d.function for d in program.defects}) == 2


GOOD_TOML = """\
kind = "single"
description = "add() subtracts."

[[defects]]
line = 3
function = "add"
operator = "arith-swap"
what = "a - b should be a + b"
"""
TINY = '''\
def add(a, b):
    """The sum of a and b."""
    return a - b
'''


def write_program(root: Path, toml: str, name: str = "tiny") -> Path:
    directory = root / name
    directory.mkdir(parents=True)
    (directory / f"{name}.py").write_text(TINY)
    (directory / f"test_{name}.py").write_text(f"from {name} import add\n")
    (directory / "bug.toml").write_text(toml)
    return directory


def test_a_good_program_loads(tmp_path):
    program = load_program(write_program(tmp_path, GOOD_TOML))
    assert program.kind == "single"
    assert program.tests == ("test_tiny.py",)
    assert program.defects[0] == bugsuite.Defect(3, "add", "arith-swap", "a - b should be a + b")
    assert program.sources() == {"tiny.py": TINY}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('kind = "single"', 'kind = "triple"', "kind: expected one of single, double, unfixable"),
        ('kind = "single"', 'kind = "double"', "defects: a double program declares 2"),
        ("line = 3", "line = 4", "defects[1].line: 4 is not a line of the program (1 to 3)"),
        ("line = 3", 'line = "3"', "defects[1].line: expected a non-empty int"),
        ('operator = "arith-swap"', 'operator = "arith"', "no mutation operator is called 'arith'"),
        ('what = "a - b should be a + b"\n', "", "defects[1].what: missing"),
        ('description = "add() subtracts."', 'colour = "red"', "description: missing"),
        ("[[defects]]", 'colour = "red"\n[[defects]]', "unknown key 'colour'"),
        ('kind = "single"', 'kind = "unfixable"', "defects[1].operator: an unfixable defect"),
        ("line = 3", "line = 3\nline = 3", "not valid TOML"),
    ],
)
def test_a_malformed_bug_toml_names_the_file(tmp_path, old, new, message):
    directory = write_program(tmp_path, GOOD_TOML.replace(old, new))
    with pytest.raises(SuiteError, match=re.escape(f"{directory / 'bug.toml'}: ")) as caught:
        load_suite(tmp_path)
    assert message in str(caught.value)


def test_a_missing_test_file_is_named(tmp_path):
    directory = write_program(tmp_path, GOOD_TOML)
    (directory / "test_tiny.py").unlink()
    with pytest.raises(SuiteError, match=re.escape(f"{directory / 'test_tiny.py'}: missing")):
        load_suite(tmp_path)


DOUBLE_SOURCE = textwrap.dedent(
    '''\
    def add(a, b):
        """The sum of a and b."""
        return a - b


    def is_even(n):
        """Whether n is even."""
        return n % 2 == 1
    '''
)
DOUBLE_TESTS = textwrap.dedent(
    """\
    from pair import add, is_even


    def test_add():
        assert add(2, 3) == 5


    def test_add_zero():
        assert add(7, 0) == 7


    def test_even():
        assert is_even(4)
        assert not is_even(5)
    """
)
DOUBLE_TOML = """\
kind = "double"
description = "add() subtracts; is_even() tests for odd."

[[defects]]
line = 3
function = "add"
operator = "arith-swap"
what = "a - b should be a + b"

[[defects]]
line = 8
function = "is_even"
operator = "compare-swap"
what = "== 1 should be != 1"
"""


@pytest.mark.docker
def test_check_of_a_double_program_in_the_sandbox(docker_backend, tmp_path):
    directory = tmp_path / "pair"
    directory.mkdir()
    (directory / "pair.py").write_text(DOUBLE_SOURCE)
    (directory / "test_pair.py").write_text(DOUBLE_TESTS)
    (directory / "bug.toml").write_text(DOUBLE_TOML)
    for path in (tmp_path, directory):
        path.chmod(0o755)
    lines = []
    report = check_program(load_program(directory), docker_backend, progress=lines.append)
    assert report.problems == []
    assert report.failing == ["test_pair.py::test_add", "test_pair.py::test_even"]
    assert report.repairs == []
    assert report.improving >= 2
    assert "arith-swap@3: use + instead of - in add()" not in report.second_repairs
    assert "compare-swap@8: use != instead of == in is_even()" in report.second_repairs
    assert any("mutations" in line for line in lines)


def judged(outcomes: dict[str, str], valid: bool = True) -> evaluate.TestRun:
    result = Result(Outcome.FAILED, 1, 0.5, result={"duration": 0.1})
    return evaluate.TestRun(result, outcomes, len(outcomes), valid)


BASE = {"a": "passed", "b": "passed", "c": "failed", "d": "failed"}


@pytest.mark.parametrize(
    ("outcomes", "valid", "expected"),
    [
        ({**BASE, "c": "passed"}, True, True),
        ({**BASE, "c": "passed", "d": "passed"}, True, True),
        ({**BASE, "c": "xfailed"}, True, False),  # an xfail is never a pass
        (BASE, True, False),
        ({**BASE, "c": "passed"}, False, False),
        ({**BASE, "c": "passed", "d": "passed", "a": "failed"}, True, False),
        ({**BASE, "c": "skipped"}, True, False),
        ({**BASE, "c": "passed", "e": "passed"}, True, True),
        # More tests collected: a higher score, but no fix unless a failing test passes.
        ({**BASE, "e": "passed", "f": "passed"}, True, False),
        ({**BASE, "c": "passed", "e": "passed", "f": "passed", "g": "failed"}, True, False),
    ],
)
def test_an_improvement_is_the_cycles_and_fixes_a_failing_test(outcomes, valid, expected):
    assert bugsuite._improves(judged(outcomes, valid), judged(BASE)) is expected
