"""The catalogue as a whole: discovery, enumeration, replay, errors, and repairs it can make."""

from __future__ import annotations
import __future__

import ast
import doctest
import json
import re
import textwrap

import libcst as cst
import pytest

import policies.codemods
from policies.codemods import (
    Mutation,
    MutationError,
    Operator,
    apply_mutation,
    catalogue,
    enumerate_mutations,
)
from policies.codemods.analysis import analyse
from policies.codemods.catalogue import _compile_problem, clear_caches
from tests.policies.sample import SAMPLE

REQUIRED = {
    "compare-swap",
    "arith-swap",
    "bool-swap",
    "negate-condition",
    "constant-tweak",
    "off-by-one",
    "swap-args",
    "replace-name",
    "return-value",
    "delete-statement",
    "copy-statement",
    "move-statement",
    "guard",
    "is-in-negation",
    "minmax-swap",
}


@pytest.fixture(scope="module")
def sample_mutations() -> list[Mutation]:
    return enumerate_mutations(SAMPLE, "shop/inventory.py")


@pytest.fixture(scope="module")
def sample_results(sample_mutations: list[Mutation]) -> list[str]:
    return [apply_mutation(SAMPLE, m) for m in sample_mutations]


# --- the catalogue ---------------------------------------------------------------------------


def test_catalogue_has_the_required_operators_sorted():
    operators = catalogue()
    assert set(operators) >= REQUIRED
    assert list(operators) == sorted(operators)


def test_every_operator_is_described():
    for name, operator in catalogue().items():
        assert isinstance(operator, Operator)
        assert operator.name == name
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", name)
        assert operator.description.endswith(".")
        assert operator.description.count(". ") == 0, name  # one sentence
        assert type(operator).__doc__


def test_catalogue_returns_a_fresh_dict():
    catalogue().clear()
    assert set(catalogue()) >= REQUIRED


def test_package_example_runs():
    assert doctest.testmod(policies.codemods).failed == 0


# --- round trip on a realistic module --------------------------------------------------------


@pytest.mark.parametrize("name", sorted(catalogue()))
def test_finding_sites_changes_nothing(name: str):
    module = cst.parse_module(SAMPLE)
    found = catalogue()[name].mutations(module, "shop/inventory.py")
    assert module.code == SAMPLE
    assert [(m.site, m.variant) for m in found] == sorted((m.site, m.variant) for m in found)


def test_every_operator_has_sites_in_the_sample(sample_mutations: list[Mutation]):
    repairing = {name for name, operator in catalogue().items() if not operator.tuning}
    assert {m.operator for m in sample_mutations} == repairing
    tuned = enumerate_mutations(SAMPLE, "shop/inventory.py", tuning=True)
    assert {m.operator for m in tuned} == set(catalogue())


def test_sample_mutations_compile_and_differ(sample_results: list[str]):
    assert len(set(sample_results)) == len(sample_results)  # no two give the same text
    for result in sample_results:
        assert result != SAMPLE
        compile(result, "shop/inventory.py", "exec")


def test_sample_mutations_are_single_local_edits(
    sample_mutations: list[Mutation], sample_results: list[str]
):
    original = SAMPLE.splitlines()
    for mutation, result in zip(sample_mutations, sample_results, strict=True):
        lines = result.splitlines()
        # Everything above the mutated line's statement is untouched, and nothing moved far.
        prefix = 0
        while prefix < min(len(original), len(lines)) and original[prefix] == lines[prefix]:
            prefix += 1
        assert prefix >= mutation.line - 8, mutation
        assert abs(len(lines) - len(original)) <= 2, mutation


def test_sample_docstrings_are_never_touched(sample_results: list[str]):
    tree = ast.parse(SAMPLE)
    scopes = [
        n for n in ast.walk(tree) if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef)
    ]
    docstrings = [
        f'"""{ast.get_docstring(n, clean=False)}"""' for n in scopes if ast.get_docstring(n)
    ]
    assert len(docstrings) == 5
    for result in sample_results:
        for docstring in docstrings:
            assert result.count(docstring) == SAMPLE.count(docstring)


def test_sample_comments_are_kept_except_by_deletions(
    sample_mutations: list[Mutation], sample_results: list[str]
):
    comments = [line.split("#", 1)[1] for line in SAMPLE.splitlines() if "  # " in line]
    for mutation, result in zip(sample_mutations, sample_results, strict=True):
        if mutation.operator in ("delete-statement", "copy-statement"):
            continue
        for comment in comments:
            assert comment in result, mutation


def test_applying_twice_gives_the_same_text(
    sample_mutations: list[Mutation], sample_results: list[str]
):
    clear_caches()
    again = [apply_mutation(SAMPLE, m) for m in sample_mutations]
    assert again == sample_results


def test_enumeration_is_deterministic(
    sample_mutations: list[Mutation], caplog: pytest.LogCaptureFixture
):
    clear_caches()
    assert enumerate_mutations(SAMPLE, "shop/inventory.py") == sample_mutations
    assert caplog.records == []  # no operator failed


def test_a_failing_operator_is_skipped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    def boom(self, node, ctx):
        raise RuntimeError("boom")

    clear_caches()
    monkeypatch.setattr(type(catalogue()["bool-swap"]), "edits", boom)
    found = enumerate_mutations("ok = a or b < c\n", "m.py")
    clear_caches()
    assert {m.operator for m in found} == {"compare-swap"}
    assert "m.py: operator bool-swap failed; skipped" in caplog.text


def test_enumeration_order_is_operator_site_variant(sample_mutations: list[Mutation]):
    keys = [(m.operator, m.site, m.variant) for m in sample_mutations]
    assert keys == sorted(keys)


FAST_PATH_SOURCES = [
    SAMPLE,
    "def f(a, b):\r\n\tif a < b:  # c\r\n\t\treturn a - b\r\n\treturn (b +\r\n\t\t1)\r\n",
    "def g(x):\n    y = [\n        x + 1,\n        x * 2,  # two\n    ]\n    return y[0]",
    "def h(a, b):\n    if a:\n        pass\n    elif b < 1:\n        a = 1; b += 2\n"
    "    else:\n        return f(a, b)\n    while a:\n        break\n",
    textwrap.dedent(
        """\
        from __future__ import annotations


        class Counter:
            def make(self, start):
                count = start

                def step(by=1):
                    nonlocal count
                    count += by
                    return count

                return step

            async def drain(self, queue):
                while queue:
                    item = await queue.get()
                    if item is None:
                        break
                return item
        """
    ),
]


@pytest.mark.parametrize("index", range(len(FAST_PATH_SOURCES)))
def test_enumeration_fast_paths_agree_with_a_full_rewrite(index: int):
    """Enumeration splices the new code into the old text and compiles only the outermost
    function (or statement) around the edit; both must agree with regenerating and compiling
    the whole module, as `apply` and `apply_mutation` do."""
    source = FAST_PATH_SOURCES[index]
    module = cst.parse_module(source)
    flags = analyse(module).future_flags
    for operator in catalogue().values():
        for mutation, make in operator.checked_candidates(module, "m.py"):
            text, unit = make()
            assert text == operator.apply(module, mutation.site, mutation.variant).code, mutation
            assert unit in text or unit.startswith("if 1:\n")
            whole = _compile_problem(text, "m.py") is None
            assert (_compile_problem(unit, "m.py", flags) is None) == whole, mutation


def test_future_flags():
    module = cst.parse_module("from __future__ import annotations, division\nx = 1\n")
    expected = __future__.annotations.compiler_flag | __future__.division.compiler_flag
    assert analyse(module).future_flags == expected


def test_line_endings_and_tabs_are_kept():
    source = "def f(a, b):\r\n\tif a < b:\r\n\t\treturn a\r\n\treturn b\r\n"
    for mutation in enumerate_mutations(source, "m.py"):
        result = apply_mutation(source, mutation)
        assert "\n" not in result.replace("\r\n", ""), mutation
        assert "    " not in result, mutation


# --- mutations as data -----------------------------------------------------------------------


def test_mutation_fields_for_a_method():
    source = textwrap.dedent(
        """\
        class Limiter:
            def allow(self, n, limit):
                return n < limit
        """
    )
    first = enumerate_mutations(source, "alpha/limiter.py", ["compare-swap"])[0]
    assert first == Mutation(
        path="alpha/limiter.py",
        operator="compare-swap",
        site=0,
        variant=0,
        line=3,
        function="Limiter.allow",
        summary="use <= instead of < in Limiter.allow()",
    )


def test_mutation_dict_round_trip(sample_mutations: list[Mutation]):
    for mutation in sample_mutations[:50]:
        data = json.loads(json.dumps(mutation.to_dict()))
        assert Mutation.from_dict(data) == mutation
    assert Mutation.from_dict({**sample_mutations[0].to_dict(), "extra": 1}) == sample_mutations[0]


def test_mutation_from_dict_names_missing_fields():
    with pytest.raises(MutationError, match=re.escape("mutation data lacks site, variant")):
        Mutation.from_dict(
            {"path": "a.py", "operator": "x", "line": 1, "function": None, "summary": ""}
        )


def test_module_level_and_signature_summaries():
    source = "RATE = 3\n\n\ndef f(x=1):\n    return x\n"
    summaries = [m.summary for m in enumerate_mutations(source, "m.py", ["constant-tweak"])]
    assert "use 4 instead of 3 at module level" in summaries
    assert "use 2 instead of 1 in the signature of f()" in summaries


# --- errors ----------------------------------------------------------------------------------


def test_enumerate_syntax_error_names_the_path():
    with pytest.raises(MutationError, match=re.escape("pkg/broken.py: syntax error at line 2: ")):
        enumerate_mutations("x = 1\ndef f(:\n    pass\n", "pkg/broken.py")


def test_apply_syntax_error_names_the_path():
    mutation = Mutation("pkg/broken.py", "compare-swap", 0, 0, 1, None, "")
    with pytest.raises(MutationError, match=re.escape("pkg/broken.py: syntax error at line 1")):
        apply_mutation("if x <\n", mutation)


def test_unknown_operator():
    mutation = Mutation("a.py", "no-such-op", 0, 0, 1, None, "")
    with pytest.raises(MutationError, match=re.escape("unknown mutation operator 'no-such-op'")):
        apply_mutation("x = 1\n", mutation)
    with pytest.raises(MutationError, match=re.escape("unknown mutation operator 'nope'")):
        enumerate_mutations("x = 1\n", "a.py", ["bool-swap", "nope"])


def test_site_out_of_range():
    mutation = Mutation("a.py", "compare-swap", 7, 0, 1, None, "")
    with pytest.raises(
        MutationError, match=re.escape("a.py: compare-swap: no site 7 (there are 1)")
    ):
        apply_mutation("ok = a < b\n", mutation)


def test_variant_out_of_range():
    mutation = Mutation("a.py", "bool-swap", 0, 1, 1, None, "")
    message = "a.py: bool-swap: site 0 has no variant 1 (there are 1)"
    with pytest.raises(MutationError, match=re.escape(message)):
        apply_mutation("ok = a or b\n", mutation)


def test_result_that_does_not_compile_is_refused():
    # Moving ``break`` out of its loop parses but does not compile: never listed, refused.
    source = "def f(xs):\n    for x in xs:\n        x.close()\n        break\n"
    operator = catalogue()["move-statement"]
    offered = operator.mutations(cst.parse_module(source), "a.py")
    out = next(m for m in offered if m.summary.startswith("move break after"))
    assert out not in enumerate_mutations(source, "a.py")
    message = (
        "a.py: move-statement site 0 variant 1 gives code that does not compile: "
        "syntax error at line 4: 'break' outside loop"
    )
    assert (out.site, out.variant) == (0, 1)
    with pytest.raises(MutationError, match=re.escape(message)):
        apply_mutation(source, out)


def test_no_sites_means_no_mutations():
    assert enumerate_mutations("", "empty.py") == []
    assert enumerate_mutations('"""Only a docstring: 1 < 2."""\n', "doc.py") == []
    assert enumerate_mutations("import os\n", "imports.py") == []


def test_operator_filter():
    source = "def f(a, b):\n    return a < b or a > 2\n"
    found = enumerate_mutations(source, "m.py", ["bool-swap", "minmax-swap"])
    assert [m.operator for m in found] == ["bool-swap"]


# --- repairs ---------------------------------------------------------------------------------

REPAIRS = {
    "boundary": (
        "def over(x, limit):\n    if x > limit:\n        return True\n    return False\n",
        "def over(x, limit):\n    if x >= limit:\n        return True\n    return False\n",
    ),
    "range": (
        "def squares(n):\n    return [i * i for i in range(n - 1)]\n",
        "def squares(n):\n    return [i * i for i in range(n)]\n",
    ),
    "operator": (
        "def add(a, b):\n    return a - b  # the defect\n",
        "def add(a, b):\n    return a + b  # the defect\n",
    ),
    "min-max": (
        "def billable(used, included):\n    return min(0, used - included)\n",
        "def billable(used, included):\n    return max(0, used - included)\n",
    ),
    "constant": (
        "def to_cents(amount):\n    return round(amount, 3)\n",
        "def to_cents(amount):\n    return round(amount, 2)\n",
    ),
    "return-in-loop": (
        "def total(xs):\n    t = 0\n    for x in xs:\n        t += x\n        return t\n",
        "def total(xs):\n    t = 0\n    for x in xs:\n        t += x\n    return t\n",
    ),
    "wrong-attribute": (
        "class R:\n    def area(self):\n        return self.w * self.w\n\n    h = w = 1\n",
        "class R:\n    def area(self):\n        return self.w * self.h\n\n    h = w = 1\n",
    ),
    "last-index": (
        "def last(xs):\n    return xs[len(xs)]\n",
        "def last(xs):\n    return xs[len(xs) - 1]\n",
    ),
    "accumulate": (
        "def total(xs):\n    t = 0\n    for x in xs:\n        t = x\n    return t\n",
        "def total(xs):\n    t = 0\n    for x in xs:\n        t += x\n    return t\n",
    ),
    "none-check": (
        "def name(user):\n    return user.name\n",
        "def name(user):\n    if user is None:\n        return None\n    return user.name\n",
    ),
    "and-or": (
        "def valid(a, b):\n    return a > 0 or b > 0\n",
        "def valid(a, b):\n    return a > 0 and b > 0\n",
    ),
    "swapped-args": (
        "def ratio(a, b):\n    return divide(b, a)\n",
        "def ratio(a, b):\n    return divide(a, b)\n",
    ),
    "break-continue": (
        "def evens(xs):\n    out = []\n    for x in xs:\n        if x % 2:\n            break\n"
        "        out.append(x)\n    return out\n",
        "def evens(xs):\n    out = []\n    for x in xs:\n        if x % 2:\n            continue\n"
        "        out.append(x)\n    return out\n",
    ),
}


@pytest.mark.parametrize("name", sorted(REPAIRS))
def test_the_fix_of_a_one_line_bug_is_enumerated(name: str):
    buggy, fixed = REPAIRS[name]
    results = [apply_mutation(buggy, m) for m in enumerate_mutations(buggy, "bug.py")]
    assert fixed in results


# --- limits ----------------------------------------------------------------------------------


def test_a_capped_enumeration_samples_every_operator_across_the_file(
    sample_mutations: list[Mutation], caplog: pytest.LogCaptureFixture
):
    capped = enumerate_mutations(SAMPLE, "shop/inventory.py", max_mutations=40)
    assert 0 < len(capped) <= 40
    assert "shop/inventory.py: " in caplog.text and "over the limit of 40" in caplog.text
    assert len({m.operator for m in capped}) >= len({m.operator for m in sample_mutations}) // 2
    assert max(m.line for m in capped) > 0.8 * max(m.line for m in sample_mutations)
    assert [apply_mutation(SAMPLE, m) for m in capped]  # each replays
    assert enumerate_mutations(SAMPLE, "shop/inventory.py", max_mutations=40) == capped


def test_a_cap_above_the_count_changes_nothing(sample_mutations: list[Mutation]):
    assert enumerate_mutations(SAMPLE, "shop/inventory.py", max_mutations=10**6) == sample_mutations


def test_the_source_size_limit_is_an_argument_or_the_environment(monkeypatch: pytest.MonkeyPatch):
    source = "x = 1 < 2\n" * 200  # 2000 bytes
    monkeypatch.setenv("NEUROMUTANT_MAX_SOURCE_FILE", "1k")
    message = "m.py: 2.0 KiB is over the limit of 1 KiB for a rewritable file"
    with pytest.raises(MutationError, match=re.escape(message)):
        enumerate_mutations(source, "m.py")
    assert enumerate_mutations(source, "m.py", ["compare-swap"], max_bytes=2000)
    monkeypatch.setenv("NEUROMUTANT_MAX_SOURCE_FILE", "lots")
    with pytest.raises(MutationError, match=r"^\$NEUROMUTANT_MAX_SOURCE_FILE='lots': expected"):
        enumerate_mutations(source, "m.py")
