"""constant-scale: the tuning operator that scales number literals by 0.5, 0.9, 1.1 and 2."""

from __future__ import annotations

import re
import textwrap
from decimal import Decimal

import libcst as cst
import pytest

from policies.codemods import apply_mutation, catalogue, enumerate_mutations
from tests.policies.helpers import assert_no_site, listed
from tests.policies.sample import SAMPLE

NAME = "constant-scale"

LITERALS = textwrap.dedent(
    """\
    MASK = 0xFF
    SIZES = [1_000, 3, -7, 2 ** 10, -(25), 10 ** -3]
    EPS = 1e-8
    BIG = 123456789012345678901234567890
    GAINS = (0.3, -0.35, 12.5, 3.14159, 1., .5, 2.5e3, -0.0)


    def act(obs, gain=0.5, *, steps: int = 200) -> int:
        \"\"\"Push right when the pole leans right by 0.05 or more.\"\"\"
        if obs[2] * gain > 0.05 or -obs[3] < -1.5:
            return 1 .real
        return int(obs[0] / 4.8) % 2
    """
)


def scaled(before: str) -> list[str]:
    """The distinct, compiling results of constant-scale on ``before``, in order."""
    before = textwrap.dedent(before)
    mutations = enumerate_mutations(before, "m.py", [NAME], tuning=True)
    return [apply_mutation(before, m) for m in mutations]


def summaries(source: str) -> list[str]:
    return [m.summary for m in enumerate_mutations(source, "m.py", [NAME], tuning=True)]


def test_an_integer_is_halved_and_doubled_where_tweaks_do_not_reach():
    # 10 * 0.9 and 10 * 1.1 are constant-tweak's 9 and 11.
    assert scaled("RETRIES = 10\n") == ["RETRIES = 5\n", "RETRIES = 20\n"]
    assert scaled("N = 100\n") == [f"N = {n}\n" for n in (50, 90, 110, 200)]


def test_integers_round_to_the_nearest_and_keep_their_style():
    assert scaled("n = 5\n") == ["n = 3\n", "n = 10\n"]  # 2.5 -> 3; 4.5 -> 5 and 5.5 -> 6 left
    assert scaled("MASK = 0xFF\n") == [f"MASK = {n}\n" for n in ("0x80", "0xE6", "0x119", "0x1FE")]


def test_a_float_is_scaled_exactly():
    assert scaled("lr = 0.3\n") == [f"lr = {v}\n" for v in ("0.15", "0.27", "0.33", "0.6")]


def test_floats_print_readably_with_at_most_four_digits():
    assert scaled("a = 0.35\n") == [f"a = {v}\n" for v in ("0.175", "0.315", "0.385", "0.7")]
    assert scaled("b = 12.5\n") == [f"b = {v}\n" for v in ("6.25", "11.25", "13.75", "25.0")]
    assert scaled("k = 3.14159\n") == [f"k = {v}\n" for v in ("1.571", "2.827", "3.456", "6.283")]
    assert scaled("eps = 1e-8\n") == [f"eps = {v}\n" for v in ("5e-9", "9e-9", "1.1e-8", "2e-8")]


def test_negative_literals_are_scaled_with_their_sign():
    assert scaled("x = -40\n") == [f"x = {n}\n" for n in (-20, -36, -44, -80)]
    assert scaled("y = -0.5\n") == [f"y = {v}\n" for v in ("-0.25", "-0.45", "-0.55", "-1.0")]
    assert summaries("x = -40\n")[0] == "scale -40 to -20 at module level"


def test_a_float_in_a_comparison_names_its_function():
    source = "def act(obs):\n    return 1 if obs[2] > 0.3 else 0\n"
    assert summaries(source) == [
        "scale 2 to 4 in act()",
        "scale 0.3 to 0.15 in act()",
        "scale 0.3 to 0.27 in act()",
        "scale 0.3 to 0.33 in act()",
        "scale 0.3 to 0.6 in act()",
    ]
    after = "def act(obs):\n    return 1 if obs[2] > 0.33 else 0\n"
    assert scaled(source)[3] == after


def test_a_default_argument_is_scaled_as_constant_tweak_tweaks_it():
    source = "def act(obs, gain=0.5):\n    return obs * gain\n"
    assert "use 1.5 instead of 0.5 in the signature of act()" in [
        m.summary for m in enumerate_mutations(source, "m.py", ["constant-tweak"])
    ]
    assert summaries(source) == [
        "scale 0.5 to 0.25 in the signature of act()",
        "scale 0.5 to 0.45 in the signature of act()",
        "scale 0.5 to 0.55 in the signature of act()",  # 0.5 * 2 is constant-tweak's 1.0
    ]


def test_values_with_nothing_to_scale_and_skipped_places_are_no_sites():
    assert_no_site(NAME, "x = 0\ny = 1\nz = 0.0\nw = -0.0\n")
    docstrings = '"""Version 20 of 30."""\n\n\ndef f(x: Literal[50]) -> None:\n    """20."""\n'
    assert_no_site(NAME, docstrings)
    assert_no_site(NAME, "from m import f\nx: Annotated[int, 40] = f()\n")


def test_a_parenthesized_literal_keeps_its_parentheses_apart_from_its_sign():
    assert scaled("x = -(10)\n") == ["x = -(5)\n", "x = -(20)\n"]


@pytest.mark.parametrize("source", [LITERALS, SAMPLE])
def test_no_variant_duplicates_constant_tweak_or_another_variant(source: str):
    module = cst.parse_module(source)

    def texts(name: str) -> list[str]:
        operator = catalogue()[name]
        return [operator.apply(module, m.site, m.variant).code for m in listed(name, source)]

    mine = texts(NAME)
    assert mine and len(set(mine)) == len(mine)
    assert source not in mine
    assert not set(mine) & set(texts("constant-tweak"))


def test_every_variant_compiles_and_enumeration_keeps_them_all():
    offered = listed(NAME, LITERALS)
    for mutation in offered:
        compile(apply_mutation(LITERALS, mutation), "m.py", "exec")
    assert enumerate_mutations(LITERALS, "m.py", [NAME], tuning=True) == offered


def test_scaled_floats_are_float_literals_of_at_most_four_significant_digits():
    for mutation in listed(NAME, LITERALS):
        match = re.fullmatch(r"scale (\S+) to (\S+) .*", mutation.summary)
        assert match, mutation.summary
        old, new = match.groups()
        if re.search(r"[.eE]", old):
            assert re.search(r"[.eE]", new), mutation.summary  # 25.0, not 25
            digits = re.sub(r"[eE].*|[^0-9]", "", new).strip("0")
            assert len(digits) <= 4, mutation.summary
            assert Decimal(repr(float(new))) == Decimal(new), mutation.summary  # reads back


def test_tuning_operators_are_enumerated_only_when_asked():
    source = "def act(obs, gain=0.5):\n    return 1 if obs[2] * gain > 0.3 else 0\n"
    operators = catalogue()
    assert operators[NAME].tuning
    assert [name for name, op in operators.items() if op.tuning] == [NAME]
    repair = enumerate_mutations(source, "m.py")
    tune = enumerate_mutations(source, "m.py", tuning=True)
    assert NAME not in {m.operator for m in repair}
    assert [m for m in tune if m.operator != NAME] == repair
    assert {m.operator for m in tune} - {m.operator for m in repair} == {NAME}
    assert enumerate_mutations(source, "m.py", [NAME]) == []  # named, still left out
