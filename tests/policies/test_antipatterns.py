"""Each anti-pattern of search-based repair is seen in a before/after pair; real fixes show none."""

from __future__ import annotations

import textwrap

import pytest

from policies.antipatterns import anti_patterns

BEFORE = """
def find(xs, target):
    i = 0
    while i < len(xs):
        if xs[i] == target:
            return i
        i += 1
    raise KeyError(target)
"""

CASES = {
    "deletes a return or raise": BEFORE.replace("    raise KeyError(target)\n", ""),
    "deletes a condition": BEFORE.replace(
        "        if xs[i] == target:\n            return i\n", "        return i\n"
    ).replace("    raise KeyError(target)\n", "    return -1\n"),
    "removes a loop": BEFORE.replace("    while i < len(xs):\n", "    if i < len(xs):\n"),
    "inserts an early exit": BEFORE.replace("    i = 0\n", "    i = 0\n    return -1\n"),
    "makes a condition trivially true or false": BEFORE.replace("xs[i] == target", "True"),
    "replaces a statement by pass": BEFORE.replace("        i += 1\n", "        pass\n"),
    "no longer reads target": BEFORE.replace("xs[i] == target", "xs[i] == i").replace(
        "raise KeyError(target)", "raise KeyError(i)"
    ),
    "leaves code unreachable after a jump": BEFORE.replace(
        "            return i\n        i += 1\n", "            return i\n            i += 1\n"
    ),
    "deletes the update of a loop's counter": BEFORE.replace(
        "        i += 1\n", "        target += 1\n"
    ),
}


@pytest.mark.parametrize("pattern", sorted(CASES))
def test_each_anti_pattern_is_named(pattern):
    assert pattern in anti_patterns(textwrap.dedent(BEFORE), textwrap.dedent(CASES[pattern]))


@pytest.mark.parametrize(
    "fixed",
    [
        BEFORE.replace("i < len(xs)", "i <= len(xs)"),  # a changed comparison
        BEFORE.replace("i += 1", "i += 2"),  # a changed constant
        BEFORE.replace("    i = 0\n", "    i = 1\n"),
        BEFORE.replace("        i += 1\n", "        i += 1\n        i += 1\n"),  # an insertion
    ],
)
def test_edits_that_keep_the_shape_show_none(fixed):
    assert anti_patterns(textwrap.dedent(BEFORE), textwrap.dedent(fixed)) == []


def test_while_true_is_not_a_new_trivial_condition():
    source = "def f():\n    while True:\n        return 1\n"
    assert anti_patterns(source, source.replace("return 1", "return 2")) == []


def test_text_that_does_not_parse_shows_nothing():
    assert anti_patterns("x = (", "x = 1\n") == []
