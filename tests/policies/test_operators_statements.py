"""The condition and statement fix patterns: before/after pairs, what is not offered, summaries."""

from __future__ import annotations

import re
import textwrap
from collections import Counter

from policies.codemods import Mutation, enumerate_mutations
from tests.policies.helpers import assert_mutates, assert_no_site, listed, mutants


def offered(operator: str, source: str, summary: str) -> Mutation:
    """The mutation of ``operator`` in ``source`` with this summary (`` in f()`` left out)."""
    found = [m for m in listed(operator, textwrap.dedent(source)) if m.summary.startswith(summary)]
    assert len(found) == 1, [m.summary for m in listed(operator, textwrap.dedent(source))]
    return found[0]


def assert_offers(operator: str, before: str, after: str, summary: str) -> Mutation:
    """The edit with ``summary`` turns ``before`` into ``after`` (see `assert_mutates`)."""
    mutation = offered(operator, before, summary)
    return assert_mutates(operator, before, after, mutation.site, mutation.variant)


# --- add-condition ---------------------------------------------------------------------------


def test_add_condition_conjunct_from_another_condition():
    before = "def f(a, n):\n    if a > 0:\n        n += 1\n    while n < 9:\n        n *= 2\n"
    after = before.replace("if a > 0:", "if a > 0 and n < 9:")
    assert_offers("add-condition", before, after, "add `and n < 9` to the condition")
    after = before.replace("if a > 0:", "if a > 0 or n < 9:")
    assert_offers("add-condition", before, after, "add `or n < 9` to the condition")


def test_add_condition_parenthesizes_an_or_and_keeps_the_comment():
    before = (
        "def f(a, b, c):\n    if a or b:  # either\n        return 1\n    if c:\n        return 2\n"
    )
    after = before.replace("if a or b:", "if (a or b) and c:")
    assert_offers("add-condition", before, after, "add `and c` to the condition")


def test_add_condition_summary_shows_the_parentheses():
    before = "def f(a, b, c):\n    if a:\n        return 1\n    if b or c:\n        return 2\n"
    after = before.replace("if a:", "if a and (b or c):")
    assert_offers("add-condition", before, after, "add `and (b or c)` to the condition")


def test_add_condition_guards_an_access():
    before = "def f(xs):\n    if xs[0] > 0:\n        return 1\n"
    after = "def f(xs):\n    if xs and xs[0] > 0:\n        return 1\n"
    assert_offers("add-condition", before, after, "add `xs and` before the condition")
    after = "def f(xs):\n    if xs is None or xs[0] > 0:\n        return 1\n"
    assert_offers("add-condition", before, after, "add `xs is None or` before the condition")


def test_add_condition_predicate_of_the_module():
    before = """
        def is_even(k):
            return k % 2 == 0


        def f(n):
            if n > 0:
                return n
            return 0
    """
    after = before.replace("if n > 0:", "if n > 0 and is_even(n):")
    assert_offers("add-condition", before, after, "add `and is_even(n)` to the condition")


def test_add_condition_pair_of_nested_loops_in_a_comprehension():
    before = "def f(xs):\n    return [(a, b) for a in xs for b in xs if a < b + 2]\n"
    after = "def f(xs):\n    return [(a, b) for a in xs for b in xs if a < b + 2 and a != b]\n"
    assert_offers("add-condition", before, after, "add `and a != b` to the condition")


def test_add_condition_ternary_spacing():
    before = "def f(a, b):\n    if b:\n        a += 1\n    return 1 if(a) else 2\n"
    after = "def f(a, b):\n    if b:\n        a += 1\n    return 1 if (a) and b else 2\n"
    assert_offers("add-condition", before, after, "add `and b` to the condition")


def test_add_condition_not_outside_functions_nor_while_true():
    assert_no_site("add-condition", "if x[0]:\n    y = 1\n")
    assert_no_site("add-condition", "def f():\n    while True:\n        pass\n")


# --- drop-condition --------------------------------------------------------------------------


def test_drop_condition_each_operand_of_a_chain():
    before = "def f(n):\n    return n % 2 == 0 and n >= 8 and n <= 8\n"
    results = mutants("drop-condition", before)
    assert "def f(n):\n    return n % 2 == 0 and n >= 8\n" in results
    assert "def f(n):\n    return n % 2 == 0 and n <= 8\n" in results
    assert "def f(n):\n    return n >= 8 and n <= 8\n" in results


def test_drop_condition_keeps_parentheses_and_the_header_comment():
    before = "def f(a, b):\n    while (a and b):  # both\n        a -= 1\n"
    after = "def f(a, b):\n    while (b):  # both\n        a -= 1\n"
    assert_offers("drop-condition", before, after, "drop `a and`")


def test_drop_condition_not_with_a_comment_inside_nor_outside_functions():
    assert_no_site("drop-condition", "def f(a, b):\n    return (a  # first\n            or b)\n")
    assert_no_site("drop-condition", "ok = a or b\n")


# --- negate-condition: operands and branches -------------------------------------------------


def test_negate_condition_an_operand():
    before = "def f(a, job):\n    return a and job.done()\n"
    after = "def f(a, job):\n    return a and not job.done()\n"
    assert_offers("negate-condition", before, after, "negate job.done()")


def test_negate_condition_leaves_comparison_operands_to_compare_swap():
    source = "def f(a, b):\n    return a < 1 and b > 2\n"
    assert listed("negate-condition", source) == []


def test_negate_condition_swaps_the_branches_of_an_if_else():
    before = """
        def f(a, b):
            if a <= b:  # smaller
                return b
            else:
                # the other one
                return a
    """
    after = """
        def f(a, b):
            if a <= b:  # smaller
                # the other one
                return a
            else:
                return b
    """
    assert_offers("negate-condition", before, after, "swap the branches of if a <= b")


def test_negate_condition_drops_not_rather_than_swapping():
    before = "def f(a):\n    if not a:\n        return 1\n    else:\n        return 2\n"
    after = "def f(a):\n    if a:\n        return 1\n    else:\n        return 2\n"
    assert_offers("negate-condition", before, after, "drop not from the condition not a")


# --- bool-swap throughout, flip-returns ------------------------------------------------------


def test_bool_swap_a_whole_chain():
    before = "def f(a, b, c):\n    return a == 1 and b == 2 and c == 3\n"
    after = "def f(a, b, c):\n    return a == 1 or b == 2 or c == 3\n"
    assert_offers("bool-swap", before, after, "use or instead of and throughout")
    assert len(listed("bool-swap", before)) == 3  # one per operator, one for the chain


def test_flip_returns_every_boolean_return_of_the_function():
    before = """
        def has_zero(xs):
            def check(x):
                return True
            for x in xs:
                if x == 0:
                    return True  # found
            return False
    """
    after = """
        def has_zero(xs):
            def check(x):
                return True
            for x in xs:
                if x == 0:
                    return False  # found
            return True
    """
    mutation = assert_offers("flip-returns", before, after, "swap True and False in every return")
    assert (mutation.line, mutation.function) == (7, "has_zero")


def test_flip_returns_needs_both_values():
    assert_no_site("flip-returns", "def f(x):\n    if x:\n        return True\n    return True\n")


# --- copy-statement --------------------------------------------------------------------------


def test_copy_statement_renamed_to_the_variable_of_a_while_loop():
    before = """
        def f(n, i):
            out = ''
            while n:
                out += 'x'
            i -= 1
            return out
    """
    after = """
        def f(n, i):
            out = ''
            while n:
                out += 'x'
                n -= 1
            i -= 1
            return out
    """
    assert_offers("copy-statement", before, after, "insert `n -= 1` after line 5")


def test_copy_statement_after_the_last_statement_of_a_loop():
    before = "def f(xs):\n    t = []\n    for x in xs:\n        x.close()\n    t.append(x)\n"
    after = (
        "def f(xs):\n    t = []\n    for x in xs:\n        x.close()\n        t.append(x)\n"
        "    t.append(x)\n"
    )
    assert_offers("copy-statement", before, after, "insert a copy of `t.append(x)` after line 4")


def test_copy_statement_nothing_below_a_return_or_renamed_outside_while():
    source = "def f(xs):\n    t = 0\n    for x in xs:\n        t += x\n    return t\n"
    summaries = [m.summary for m in listed("copy-statement", source)]
    assert not any("after line 5" in s for s in summaries)
    assert all(s.startswith("insert a copy of") for s in summaries)


def test_copy_statement_summaries_name_the_copy_and_the_line():
    source = "def f():\n" + "".join(f"    v{i} = {i}\n" for i in range(4))
    summaries = [m.summary for m in listed("copy-statement", source)]
    assert "insert a copy of `v0 = 0` before line 4 in f()" in summaries
    assert "insert a copy of `v0 = 0` after line 5 in f()" in summaries


# --- replace-statement -----------------------------------------------------------------------


def test_replace_statement_renames_the_copy_to_the_same_target():
    before = "def f(a, b):\n    x = a * 2\n    y = b - 1  # shift\n    return x + y\n"
    after = "def f(a, b):\n    x = a * 2\n    y = a * 2  # shift\n    return x + y\n"
    assert_offers("replace-statement", before, after, "replace line 3 by `y = a * 2`")


def test_replace_statement_expression_keeps_the_receiver():
    before = "def f(xs, ys):\n    out = []\n    out.append(xs)\n    ys.extend(out)\n"
    after = "def f(xs, ys):\n    out = []\n    out.extend(out)\n    ys.extend(out)\n"
    assert_offers("replace-statement", before, after, "replace line 3 by `out.extend(out)`")


def test_replace_statement_return_takes_another_value():
    before = "def f(a):\n    if a:\n        return []\n    return a\n"
    after = "def f(a):\n    if a:\n        return []\n    return []\n"
    assert_offers("replace-statement", before, after, "replace line 4 by `return []`")


def test_replace_statement_not_outside_functions_or_unlike_statements():
    assert_no_site("replace-statement", "x = 1\ny = 2\n")
    assert_no_site("replace-statement", "def f(a):\n    a.run()\n    return a\n")


# --- move-statement and hoist-statement ------------------------------------------------------


def test_hoist_statement_out_of_a_loop_keeps_comments():
    before = (
        "def f(xs):\n    # sum\n    for x in xs:\n        # start\n        t = 0\n        t += x\n"
    )
    after = "def f(xs):\n    # sum\n    # start\n    t = 0\n    for x in xs:\n        t += x\n"
    assert_offers("hoist-statement", before, after, "move `t = 0` above its `for x in xs` block")


def test_hoist_statement_sink_into_a_loop():
    before = "def f(xs):\n    t = 0\n\n    for x in xs:\n        t += x\n    return t\n"
    after = "def f(xs):\n\n    for x in xs:\n        t = 0\n        t += x\n    return t\n"
    summary = "move `t = 0` to the top of `for x in xs`"
    assert_offers("hoist-statement", before, after, summary)


def test_hoist_statement_not_the_only_statement_nor_into_an_if_else():
    source = "def f(a):\n    for x in a:\n        x.b()\n    n = 1\n    if n:\n        n = 2\n"
    assert [
        m.summary for m in listed("hoist-statement", source + "    else:\n        n = 3\n")
    ] == []


def test_move_statement_still_swaps_and_crosses_the_bottom_of_a_block():
    before = "def f(xs):\n    for x in xs:\n        x.a()\n        x.b()\n    x.c()\n"
    summaries = [m.summary for m in listed("move-statement", before)]
    assert summaries == [
        "move x.b() above x.a() in f()",
        "move x.b() after the for x in xs block in f()",
        "move x.c() above for x in xs in f()",
        "move x.c() into the for x in xs block in f()",
    ]


# --- early-exit ------------------------------------------------------------------------------


def test_early_exit_empty_input_at_the_top():
    before = '''
        def f(xs, n):
            """Doc."""
            if n < 0:
                return []
            return [x * n for x in xs]
    '''
    after = '''
        def f(xs, n):
            """Doc."""
            if not xs:
                return []
            if n < 0:
                return []
            return [x * n for x in xs]
    '''
    assert_offers("early-exit", before, after, "insert `if not xs: return []` at the top")


def test_early_exit_continue_at_the_top_of_a_loop():
    before = textwrap.dedent(
        """\
        def f(xs):
            t = 0
            for x in xs:
                t += x
                if x < 0:
                    t = 0
            return t
        """
    )
    after = before.replace(
        "for x in xs:\n", "for x in xs:\n        if x < 0:\n            continue\n"
    )
    assert_offers("early-exit", before, after, "insert `if x < 0: continue` at the top of the loop")


def test_early_exit_top_uses_only_parameters():
    source = "def f(xs):\n    t = len(xs)\n    if t > 2:\n        return t\n    return 0\n"
    summaries = [m.summary for m in listed("early-exit", source)]
    assert summaries == ["insert `if not xs: return 0` at the top in f()"]


def test_early_exit_not_below_the_first_statement_nor_outside_functions():
    assert_no_site("early-exit", "for x in xs:\n    if x:\n        pass\n")
    assert_no_site("early-exit", "def f(a):\n    a.b()\n    with a:\n        a.c()\n")


# --- guard: delete, pairs of loop variables --------------------------------------------------


def test_guard_deletes_a_special_case():
    before = "def f(n):\n    # small\n    if n == 2:\n        return 2\n    return n * 2\n"
    after = "def f(n):\n    # small\n    return n * 2\n"
    assert_offers("guard", before, after, "delete the `if n == 2` block")


def test_guard_does_not_delete_comments():
    source = "def f(n):\n    if n == 2:  # why\n        n = 1\n    return n\n"
    assert not any("delete" in m.summary for m in listed("guard", source))


def test_guard_wraps_in_a_pair_test_of_nested_loops():
    before = textwrap.dedent(
        """\
        def f(xs, ys):
            r = set()
            for a in xs:
                for b in ys:
                    r.add(a)
            return r
        """
    )
    after = before.replace(
        "            r.add(a)\n", "            if a == b:\n                r.add(a)\n"
    )
    assert_offers("guard", before, after, "run `r.add(a)` only if `a == b`")


# --- summaries -------------------------------------------------------------------------------

MINE = (
    "add-condition",
    "drop-condition",
    "negate-condition",
    "bool-swap",
    "flip-returns",
    "copy-statement",
    "replace-statement",
    "move-statement",
    "hoist-statement",
    "early-exit",
    "guard",
    "delete-statement",
    "return-value",
)

LONG = """
def is_ok(value):
    return value > 0


def summarise(collection_of_numbers, another_rather_long_parameter):
    accumulated_total_of_everything = 0
    for element_of_the_collection in collection_of_numbers:
        if element_of_the_collection > another_rather_long_parameter and element_of_the_collection:
            accumulated_total_of_everything += element_of_the_collection * 1000000
        else:
            accumulated_total_of_everything -= another_rather_long_parameter
    while accumulated_total_of_everything > 10 and another_rather_long_parameter < 1000000:
        accumulated_total_of_everything //= another_rather_long_parameter + 1234567
    if accumulated_total_of_everything == 0:
        return False
    return True
"""


def test_summaries_are_short_single_lines_that_say_where_once():
    found = enumerate_mutations(LONG, "m.py", MINE)
    assert {m.operator for m in found} == set(MINE)
    for mutation in found:
        summary = mutation.summary
        assert "\n" not in summary
        where = f" in {mutation.function}()"
        assert summary.endswith(where), summary
        assert not re.search(r"\bin [\w.]+\(\)", summary.removesuffix(where)), summary
        assert len(summary.removesuffix(where)) <= 80, summary
        for code in re.findall(r"`([^`]*)`", summary):
            assert len(code) <= 30, summary


def test_totals_stay_bounded_on_a_small_function():
    found = enumerate_mutations(LONG, "m.py", MINE)
    assert len(found) < 250
    assert max(Counter((m.operator, m.site) for m in found).values()) <= 2 * (8 + 3)
    assert enumerate_mutations(LONG, "m.py", MINE) == found  # deterministic
