"""Expression fix patterns: names, calls, subscripts, integers, operands, wraps, slices, literals.

One or more before/after pairs per variant kind, what must not be offered, and the summaries.
"""

from __future__ import annotations

import re

from policies.codemods import enumerate_mutations
from tests.policies.helpers import assert_mutates, assert_no_site, listed, mutants

# --- replace-name ----------------------------------------------------------------------------


def test_replace_name_comprehension_variable_is_a_site_and_an_alternative():
    before = "def f(xs, n):\n    return [y * y for y in xs]\n"
    after = "def f(xs, n):\n    return [y * n for y in xs]\n"
    assert after in mutants("replace-name", before)
    summaries = [m.summary for m in listed("replace-name", before)]
    assert summaries[0] == "use xs instead of y in f()"


def test_replace_name_lambda_parameter_and_augmented_target():
    before = "def f(n, depth):\n    g = lambda a: a + 1\n    depth -= 1\n    return g\n"
    assert "def f(n, depth):\n    g = lambda a: n + 1\n    depth -= 1\n    return g\n" in (
        mutants("replace-name", before)
    )
    after = "def f(n, depth):\n    g = lambda a: a + 1\n    n -= 1\n    return g\n"
    assert after in mutants("replace-name", before)


def test_replace_name_never_a_local_bound_later():
    source = "def f(a):\n    b = a\n    c = b\n    return c\n"
    summaries = [m.summary for m in listed("replace-name", source) if m.line == 2]
    assert summaries == []  # b and c are not bound yet where a is read


def test_replace_name_later_local_is_fine_in_a_loop():
    source = "def f(xs):\n    for x in xs:\n        print(last)\n        last = x\n"
    assert "use x instead of last in f()" in [m.summary for m in listed("replace-name", source)]


def test_replace_name_keeps_kinds_apart():
    source = "def f(xs):\n    n = len(xs)\n    for x in xs[1:]:\n        pass\n    return n\n"
    summaries = [m.summary for m in listed("replace-name", source) if m.line == 5]
    assert summaries == ["use x instead of n in f()"]  # not the sequence xs


def test_replace_name_augmented_target_only_by_own_names():
    source = "TOTAL = 0\n\n\ndef f(a):\n    b = a\n    b += 1\n    return b\n"
    summaries = [m.summary for m in listed("replace-name", source) if m.line == 6]
    assert summaries == ["use a instead of b in f()"]  # never TOTAL += 1: it would be local


# --- replace-attribute -----------------------------------------------------------------------


def test_replace_attribute_on_any_object():
    before = "def f(p):\n    return p.box.width + p.box.height\n"
    after = "def f(p):\n    return p.box.height + p.box.height\n"
    assert_mutates("replace-attribute", before, after)


def test_replace_attribute_from_elsewhere_in_the_module():
    before = "def f(x):\n    return x.endswith('a')\n\n\ndef g(y):\n    return y.startswith('b')\n"
    after = before.replace("x.endswith", "x.startswith")
    assert_mutates("replace-attribute", before, after)


def test_replace_attribute_not_from_modules_or_self():
    source = (
        "import math\n\n\nclass A:\n    def f(self, p):\n        return self.x + math.pi + p.y\n"
    )
    summaries = [m.summary for m in listed("replace-attribute", source)]
    assert "use self.y instead of self.x in A.f()" not in summaries
    assert not any("math.x" in s or "math.y" in s or "p.pi" in s for s in summaries)


# --- replace-call and replace-subscript ------------------------------------------------------


def test_replace_call_same_callee_other_arguments():
    before = 'def f(ch):\n    return chr(ord(ch) - ord("a") + ord(ch))\n'
    after = 'def f(ch):\n    return chr(ord(ch) - ord("a") + ord("a"))\n'
    assert after in mutants("replace-call", before)


def test_replace_call_same_arguments_other_callee():
    before = "def f(xs):\n    a = g(xs)\n    return h(xs)\n"
    after = "def f(xs):\n    a = g(xs)\n    return g(xs)\n"
    assert_mutates("replace-call", before, after, site=1)


def test_replace_call_another_function_of_the_same_kind():
    before = "def f(s, x):\n    n = len(s)\n    return int(x)\n"
    after = "def f(s, x):\n    n = len(s)\n    return len(x)\n"
    assert_mutates("replace-call", before, after, site=1)
    assert_no_site("replace-call", "def f(s):\n    n = len(s)\n    return sorted(s)\n")


def test_replace_call_only_in_functions():
    assert_no_site("replace-call", "a = g(1)\nb = g(2)\n")


def test_replace_subscript_same_object_then_same_index():
    before = "def f(xs, ys, i, j):\n    a = xs[j]\n    return xs[i] + ys[i]\n"
    results = mutants("replace-subscript", before)
    assert "def f(xs, ys, i, j):\n    a = xs[j]\n    return xs[j] + ys[i]\n" in results
    assert "def f(xs, ys, i, j):\n    a = xs[j]\n    return ys[i] + ys[i]\n" in results


# --- off-by-one on integer values ------------------------------------------------------------


def test_off_by_one_call_argument_and_returned_value():
    before = "def f(n: int):\n    return f(n - 1)\n"
    assert_mutates("off-by-one", before, "def f(n: int):\n    return f(n)\n")
    before = "def size(xs):\n    return len(xs)  # count\n"
    after = "def size(xs):\n    return len(xs) - 1  # count\n"
    assert_mutates("off-by-one", before, after, variant=1)


def test_off_by_one_len_inside_an_expression_gets_parentheses():
    before = "def mid(xs):\n    k = len(xs) // 2\n    return k\n"
    after = "def mid(xs):\n    k = (len(xs) - 1) // 2\n    return k\n"
    assert_mutates("off-by-one", before, after, variant=1)


def test_off_by_one_a_difference_is_taken_whole_inside_its_parentheses():
    before = "def avg(s, m, n):\n    for i in range(n, m):\n        pass\n    return s / (m - n)\n"
    after = before.replace("(m - n)", "(m - n + 1)")
    assert after in mutants("off-by-one", before)
    source = "def g(t, i):\n    return [len(t) - i, x + y]\n"
    assert [m.summary for m in listed("off-by-one", source)] == [
        "use len(t) - i + 1 instead of len(t) - i in g()",
        "use len(t) - i - 1 instead of len(t) - i in g()",
    ]


def test_off_by_one_comparison_gets_only_the_new_shift():
    source = "def f(i, xs):\n    return i < len(xs)\n"
    assert [m.summary for m in listed("off-by-one", source)] == [
        "use len(xs) - 1 instead of len(xs) in f()"
    ]
    source = "def f(k, n):\n    return k == n + 1\n"
    assert [m.summary for m in listed("off-by-one", source)] == [
        "use n + 2 instead of n + 1 in f()",
        "use n instead of n + 1 in f()",
    ]


def test_off_by_one_leaves_literals_and_unknown_values_alone():
    assert_no_site("off-by-one", "def f(a, b):\n    g(3)\n    return a.x, h(b)\n")


# --- delete-operand and insert-operand -------------------------------------------------------


def test_delete_operand_left_and_right():
    before = "def f(x, y):\n    return x + y + y\n"
    assert_mutates("delete-operand", before, "def f(x, y):\n    return x + y\n")
    assert_mutates("delete-operand", before, "def f(x, y):\n    return y + y\n", site=1, variant=1)
    before = "s = (a + b) * c  # sum\n"
    assert_mutates("delete-operand", before, "s = (a) * c  # sum\n", site=1)


def test_delete_operand_keeps_precedence():
    assert_mutates("delete-operand", "d = a - (b - c)\n", "d = a - (c)\n", site=1, variant=1)
    assert_mutates("delete-operand", "d = -(a + b)\n", "d = -(a)\n")


def test_delete_operand_not_string_formatting():
    assert_no_site("delete-operand", 'msg = "%s!" % name\n')


def test_insert_operand_numbers():
    before = "def f(a: int, b: int):\n    return a * 2\n"
    assert_mutates("insert-operand", before, "def f(a: int, b: int):\n    return a * 2 + b\n")
    after = "def f(a: int, b: int):\n    return a * 2 - b\n"
    assert_mutates("insert-operand", before, after, variant=1)


def test_insert_operand_strings_both_sides():
    before = "def f(name: str, sep: str):\n    return name.upper()\n"
    after = "def f(name: str, sep: str):\n    return sep + name.upper()\n"
    assert_mutates("insert-operand", before, after, variant=1)


def test_insert_operand_not_literals_or_unknown_values():
    assert_no_site("insert-operand", "def f(a, n: int):\n    g(a)\n    return 3\n")


# --- wrap-call and unwrap-call ---------------------------------------------------------------


def test_wrap_call_difference():
    before = "def gap(a, b):\n    d = a - b  # distance\n    return d\n"
    after = "def gap(a, b):\n    d = abs(a - b)  # distance\n    return d\n"
    assert_mutates("wrap-call", before, after)
    after = "def gap(a, b):\n    d = max(0, a - b)  # distance\n    return d\n"
    assert_mutates("wrap-call", before, after, variant=1)


def test_wrap_call_running_maximum():
    before = "def top(xs):\n    best = 0\n    for x in xs:\n        best = x\n    return best\n"
    after = before.replace("best = x", "best = max(best, x)")
    assert_mutates("wrap-call", before, after)


def test_wrap_call_not_sets_strings_or_first_assignments():
    source = "def f(a, b):\n    s = set(a) - set(b)\n    t = 'x' - b\n    u = a\n"
    assert_no_site("wrap-call", source)


def test_unwrap_call_builtin_module_function_and_method():
    before = "import math\n\n\ndef f(x, s):\n    return int(math.sqrt(x)), s.strip().lower()\n"
    results = mutants("unwrap-call", before)
    assert before.replace("int(math.sqrt(x))", "math.sqrt(x)") in results
    assert before.replace("math.sqrt(x)", "x") in results
    assert before.replace("s.strip().lower()", "s.strip()") in results
    assert before.replace("s.strip().lower()", "s.lower()") in results


def test_unwrap_call_not_statements_self_modules_or_literals():
    source = (
        "import os\n\n\ndef f(self, xs):\n"
        '    print(xs)\n    return self.g(), os.getcwd(), " ".join(xs)\n'
    )
    assert_no_site("unwrap-call", source)


# --- add-slice and remove-slice --------------------------------------------------------------


def test_add_slice_variants():
    before = "def f(text: str, k: int):\n    return check(text)\n"
    results = mutants("add-slice", before)
    assert [r.split("return ")[1] for r in results] == [
        "check(text[1:])\n",
        "check(text[::-1])\n",
        "check(text[k:])\n",
        "check(text[:k])\n",
    ]


def test_add_slice_comprehension_and_no_reverse_where_order_does_not_matter():
    before = "def f(xs):\n    return sorted([x * 2 for x in xs])\n"
    after = "def f(xs):\n    return sorted([x * 2 for x in xs][1:])\n"
    assert_mutates("add-slice", before, after, site=1)
    assert before.replace("xs])", "xs][::-1])") not in mutants("add-slice", before)


def test_add_slice_only_sequences_read_whole():
    source = "def f(n: int, s: str):\n    return n + 1, len(s), s.upper(), s[0], 3 < n, s == 'a'\n"
    found = [m.summary for m in listed("add-slice", source)]
    assert found == [
        f"take {part} of {value} in f()"
        for value in ("s.upper()", "s")
        for part in ("[1:]", "[::-1]", "[n:]", "[:n]")
    ]


def test_remove_slice():
    before = "def f(xs, a, b):\n    return xs[a:b]\n"
    assert_mutates("remove-slice", before, "def f(xs, a, b):\n    return xs\n")
    assert_mutates("remove-slice", before, "def f(xs, a, b):\n    return xs[:b]\n", variant=1)
    assert_no_site("remove-slice", "def f(xs, a):\n    xs[a:] = []\n    return xs[a]\n")


# --- swap-args -------------------------------------------------------------------------------


def test_swap_args_concatenation_of_strings_and_slices():
    assert_mutates("swap-args", 's = "db" + tail\n', 's = tail + "db"\n')
    before = "def rot(s, k):\n    return s[:k] + s[k:]\n"
    after = "def rot(s, k):\n    return s[k:] + s[:k]\n"
    assert_mutates("swap-args", before, after)


def test_swap_args_elements_of_tuples_and_lists():
    before = "def f(xs):\n    return [min(xs), xs.index(min(xs))]\n"
    after = "def f(xs):\n    return [xs.index(min(xs)), min(xs)]\n"
    assert_mutates("swap-args", before, after)
    before = "for i, x in enumerate(xs):\n    pass\n"
    assert_mutates("swap-args", before, "for x, i in enumerate(xs):\n    pass\n")


def test_swap_args_not_commutative_or_long_displays():
    assert_no_site("swap-args", "s = a + b\nt = (1, 2, 3, 4, 5)\nu = (x, x)\nv = (int, Foo)\n")


# --- replace-literal -------------------------------------------------------------------------


def test_replace_literal_string_shapes_and_module_strings():
    before = "def f(words):\n    return ''.join(words) + 'd'\n\n\nEND = 'db'\n"
    assert_mutates("replace-literal", before, before.replace("''.join", "' '.join"))
    assert_mutates("replace-literal", before, before.replace("+ 'd'", "+ 'db'"), site=1, variant=1)


def test_replace_literal_integers():
    before = "def f(x):\n    return x % 24\n\n\nSIZE = 26\n"
    results = mutants("replace-literal", before)
    assert results == [before.replace("% 24", "% -1"), before.replace("% 24", "% 26")]


def test_replace_literal_list_shapes_and_constant_names():
    assert_mutates("replace-literal", "def f():\n    return []\n", "def f():\n    return [[]]\n")
    assert_mutates("replace-literal", "def f():\n    return [[]]\n", "def f():\n    return []\n")
    before = "def f(a, b):\n    return None\n"
    assert_mutates("replace-literal", before, "def f(a, b):\n    return a\n")


def test_replace_literal_not_module_tables_messages_fstrings_or_none_tests():
    source = (
        '"""Doc."""\n__all__ = ["f"]\n\n\ndef f(x, n=3):\n'
        '    """Doc 2."""\n    log(f"{x}-y", "a long message here")\n    return x is None\n'
    )
    assert_no_site("replace-literal", source)


# --- replace-method --------------------------------------------------------------------------


def test_replace_method_nearest_sibling_first():
    before = "def flip(s):\n    return s.lower()\n"
    assert mutants("replace-method", before) == [
        before.replace("lower", other) for other in ("upper", "swapcase", "casefold", "capitalize")
    ]
    mutation = assert_mutates(
        "replace-method",
        "ok = [x for x in xs if x.endswith(prefix)]\n",
        "ok = [x for x in xs if x.startswith(prefix)]\n",
    )
    assert mutation.summary == "call x.startswith instead of x.endswith at module level"


def test_replace_method_predicates_and_methods_passed_on():
    before = "n = sum(ord(c) for c in s if c.islower())\nt = sorted(words, key=str.lower)\n"
    assert_mutates("replace-method", before, before.replace("islower", "isupper"))
    assert_mutates("replace-method", before, before.replace("str.lower", "str.upper"), site=1)


def test_replace_method_not_on_modules_nor_other_methods():
    source = "import os.path\n\nhead, tail = os.path.split(p)\nobj.frobnicate()\nx.lower = 1\n"
    assert_no_site("replace-method", source)


# --- summaries -------------------------------------------------------------------------------

EXPRESSION_OPERATORS = [
    "add-slice",
    "boundary-builtin",
    "constant-tweak",
    "delete-operand",
    "insert-operand",
    "minmax-swap",
    "off-by-one",
    "remove-slice",
    "replace-attribute",
    "replace-call",
    "replace-literal",
    "replace-method",
    "replace-name",
    "replace-subscript",
    "swap-args",
    "unwrap-call",
    "wrap-call",
]

SUMMARY_SOURCE = """\
import math


def gcd(a, b):
    while b:
        a, b = b, a % b
    r = {1: 2}.get(a, b) + {1: 3}.get(b, a) + max(a, b) - max(b, r)
    s = [i for i in range(a)][0] + math.floor(a / b) - len(str(a)) + str(a)[1:][0]
    t = a.lower() + b.upper() + sorted(str(b))[0]
    return gcd(a % b, b) + r + s, [] if t else None
"""


def test_summaries_name_the_place_once_and_no_fragment_as_a_name():
    found = enumerate_mutations(SUMMARY_SOURCE, "m.py", EXPRESSION_OPERATORS)
    assert {m.operator for m in found} == set(EXPRESSION_OPERATORS)
    for mutation in found:
        summary = mutation.summary
        assert summary.endswith(" in gcd()"), summary
        assert summary.count(" in gcd()") == 1, summary
        assert "\n" not in summary
        assert not re.search(r"\.\.\.\(|\}\(|\]\(", summary), summary  # no ``{...}.get(``
    summaries = {m.summary for m in found if m.operator == "swap-args"}
    assert "swap the arguments a % b and b of gcd(...) in gcd()" in summaries
    assert "swap the arguments a and b of the call in gcd()" in summaries


def test_summary_snippets_are_short():
    source = (
        "def f(alpha, beta, gamma):\n"
        "    return (compute(alpha, beta) - combine(beta, gamma)) * merge(gamma, alpha, beta)\n"
    )
    for mutation in enumerate_mutations(source, "m.py", EXPRESSION_OPERATORS):
        assert len(mutation.summary.removesuffix(" in f()")) <= 2 * 30 + 40, mutation.summary
        assert "compute(alpha, beta) - combine(beta" not in mutation.summary  # 34 characters
