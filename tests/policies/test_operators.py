"""One or more before/after pairs per operator; the second of each keeps comments and spacing."""

from __future__ import annotations

from tests.policies.helpers import assert_mutates, assert_no_site, listed, mutants

# --- compare-swap ----------------------------------------------------------------------------


def test_compare_swap_boundary_first():
    before = "def over(x, limit):\n    return x > limit\n"
    after = "def over(x, limit):\n    return x >= limit\n"
    assert_mutates("compare-swap", before, after)


def test_compare_swap_keeps_spacing_and_comments():
    before = "def f(a, b):\n    # compare\n    if a<b :  # odd spacing\n        pass\n"
    after = "def f(a, b):\n    # compare\n    if a!=b :  # odd spacing\n        pass\n"
    assert_mutates("compare-swap", before, after, variant=3)


def test_compare_swap_each_link_of_a_chain_is_a_site():
    before = "ok = 0 <= x < 10\n"
    after = "ok = 0 <= x <= 10\n"
    assert_mutates("compare-swap", before, after, site=1)


def test_compare_swap_offers_the_five_others():
    summaries = [m.summary for m in listed("compare-swap", "def f(a, b):\n    return a == b\n")]
    assert summaries == [f"use {op} instead of == in f()" for op in ("!=", "<=", ">=", "<", ">")]


# --- arith-swap ------------------------------------------------------------------------------


def test_arith_swap_plus_minus():
    before = "def add(a, b):\n    return a - b\n"
    after = "def add(a, b):\n    return a + b\n"
    assert_mutates("arith-swap", before, after)


def test_arith_swap_augmented_keeps_comment():
    before = "total  -=  cost  # pay\n"
    after = "total  +=  cost  # pay\n"
    assert_mutates("arith-swap", before, after)


def test_arith_swap_floor_division():
    before = "half = n / 2\n"
    after = "half = n // 2\n"
    assert_mutates("arith-swap", before, after)


def test_arith_swap_leaves_string_operations_alone():
    assert_no_site("arith-swap", 'line = "-" * 40\nmsg = "%s!" % name\nhi = "a" + b\n')


# --- bool-swap -------------------------------------------------------------------------------


def test_bool_swap_or_to_and():
    before = "def f(a, b):\n    return a or b\n"
    after = "def f(a, b):\n    return a and b\n"
    assert_mutates("bool-swap", before, after)


def test_bool_swap_keeps_line_breaks_and_comments():
    before = "ok = (a  # first\n      and b)\n"
    after = "ok = (a  # first\n      or b)\n"
    assert_mutates("bool-swap", before, after)


# --- negate-condition ------------------------------------------------------------------------


def test_negate_condition_wraps_a_comparison():
    before = "def f(x):\n    if x > 0:\n        return 1\n"
    after = "def f(x):\n    if not (x > 0):\n        return 1\n"
    assert_mutates("negate-condition", before, after)


def test_negate_condition_removes_not_and_keeps_comment():
    before = "while not done:  # spin\n    step()\n"
    after = "while done:  # spin\n    step()\n"
    assert_mutates("negate-condition", before, after)


def test_negate_condition_elif_ternary_and_comprehension():
    before = "if a:\n    pass\nelif b:\n    pass\nx = [i for i in y if(i)] if c else 0\n"
    assert_mutates("negate-condition", before, before.replace("elif b", "elif not b"), site=1)
    assert_mutates("negate-condition", before, before.replace("if c", "if not c"), site=2)
    assert_mutates("negate-condition", before, before.replace("if(i)", "if not (i)"), site=3)


def test_negate_condition_leaves_while_true_alone():
    assert_no_site("negate-condition", "while True:\n    pass\n")


# --- constant-tweak --------------------------------------------------------------------------


def test_constant_tweak_variants_of_an_integer():
    results = mutants("constant-tweak", "RETRIES = 3\n")
    assert results == [f"RETRIES = {n}\n" for n in ("4", "2", "0", "1", "-3")]


def test_constant_tweak_keeps_style_and_comment():
    before = "size = 0x1F  # mask\n"
    after = "size = 0x20  # mask\n"
    assert_mutates("constant-tweak", before, after)


def test_constant_tweak_negative_literal_and_float():
    assert_mutates("constant-tweak", "x = -1\n", "x = 0\n")
    assert_mutates("constant-tweak", "tol = 0.5\n", "tol = 0.05\n", variant=5)


def test_constant_tweak_zero_drops_the_offset():
    before = "def last(xs):\n    return xs[len(xs) - 1]\n"
    after = "def last(xs):\n    return xs[len(xs)]\n"
    assert_mutates("constant-tweak", before, after, variant=1)


def test_constant_tweak_skips_docstrings():
    assert_no_site("constant-tweak", '"""Version 2 of 3."""\n\n\ndef f():\n    """Return 1."""\n')


# --- off-by-one ------------------------------------------------------------------------------


def test_off_by_one_folds_into_range_stop():
    before = "def f(n):\n    return list(range(n - 1))\n"
    after = "def f(n):\n    return list(range(n))\n"
    assert_mutates("off-by-one", before, after, site=1)


def test_off_by_one_range_start():
    before = "for i in range(n):\n    pass\n"
    assert_mutates("off-by-one", before, before.replace("range(n)", "range(1, n)"))
    before = "for i in range(1, n):  # from one\n    pass\n"
    assert_mutates("off-by-one", before, before.replace("range(1, n)", "range(n)"))


def test_off_by_one_slice_and_index_keep_spacing():
    before = "head = xs[ : k ]  # first k\n"
    after = "head = xs[ : k + 1 ]  # first k\n"
    assert_mutates("off-by-one", before, after)
    assert_mutates("off-by-one", "last = xs[0]\n", "last = xs[-1]\n", variant=1)


def test_off_by_one_skips_string_keys_and_types():
    assert_no_site("off-by-one", 'v = d["key"]\nT = list[int]\nU = Optional[str]\n')


# --- swap-args -------------------------------------------------------------------------------


def test_swap_args_adjacent_positions():
    before = "q, r = divmod(b, a)\n"
    after = "q, r = divmod(a, b)\n"
    assert_mutates("swap-args", before, after, site=1)  # site 0 swaps the targets q, r


def test_swap_args_keeps_layout_and_comments():
    before = "f(\n    first,  # one\n    second,  # two\n    third,\n)\n"
    after = "f(\n    first,  # one\n    third,  # two\n    second,\n)\n"
    assert_mutates("swap-args", before, after, variant=1)


def test_swap_args_operands_of_non_commutative_operators():
    assert_mutates("swap-args", "d = a - b\n", "d = b - a\n")
    assert_mutates("swap-args", "d = a - b * c\n", "d = b * c - a\n")
    assert_mutates("swap-args", "d = a * b - c\n", "d = c - a * b\n")
    assert_mutates("swap-args", "d = a - b - c\n", "d = c - (a - b)\n")


def test_swap_args_skips_keywords_min_max_and_commutative_operators():
    assert_no_site("swap-args", "f(a, key=b)\nm = min(a, b)\ns = a + b\np = a * b\n")


def test_swap_args_operands_of_a_membership_test_between_strings():
    before = "def f(strings, part):\n    return [x for x in strings if x in part]\n"
    after = "def f(strings, part):\n    return [x for x in strings if part in x]\n"
    assert_mutates("swap-args", before, after)
    assert_mutates("swap-args", "ok = a not in (b or c)\n", "ok = (b or c) not in a\n")
    assert_mutates("swap-args", "ok = x in s.lower()\n", "ok = s.lower() in x\n")


def test_swap_args_leaves_membership_in_collections_and_chains_alone():
    assert_no_site(
        "swap-args",
        "def f(x, xs):\n"
        "    n = len(xs)\n"
        "    return x in {1, 2}, 3 in x, x in range(n), x in xs, a in d.keys()\n"
        "    return a in b in c or a in a\n",
    )


# --- replace-name ----------------------------------------------------------------------------


def test_replace_name_parameter():
    before = "def area(width, height):\n    return width * width\n"
    after = "def area(width, height):\n    return width * height\n"
    assert_mutates("replace-name", before, after, site=1)


def test_replace_name_order_is_params_locals_then_module():
    source = "LIMIT = 3\n\n\ndef f(a, b):\n    c = a\n    return c\n"
    summaries = [m.summary for m in listed("replace-name", source) if m.line == 6]
    assert summaries == [f"use {n} instead of c in f()" for n in ("a", "b", "LIMIT")]


def test_replace_name_keeps_comments():
    before = "def f(a, b):\n    return (a  # the first\n            )\n"
    after = "def f(a, b):\n    return (b  # the first\n            )\n"
    assert_mutates("replace-name", before, after)


def test_replace_name_skips_builtins_self_keywords_and_stores():
    source = "def f(self, a, b):\n    x = len(a)\n    return self.g(key=True)\n"
    assert [m.summary for m in listed("replace-name", source)] == ["use b instead of a in f()"]


def test_replace_name_functions_for_functions():
    before = "def lo(x):\n    return x\n\n\ndef hi(x):\n    return lo(x)\n"
    after = "def lo(x):\n    return x\n\n\ndef hi(x):\n    return hi(x)\n"
    assert_mutates("replace-name", before, after, site=0)


# --- return-value ----------------------------------------------------------------------------


def test_return_value_none_first():
    before = "def f(a):\n    return a + 1\n"
    after = "def f(a):\n    return None\n"
    assert_mutates("return-value", before, after)


def test_return_value_negates_a_condition_keeping_comment():
    before = "def ok(a, b):\n    return a < b  # strict\n"
    after = "def ok(a, b):\n    return not (a < b)  # strict\n"
    assert_mutates("return-value", before, after, variant=1)


def test_return_value_other_parameter():
    before = "def pick(a, b):\n    return a\n"
    results = mutants("return-value", before)
    assert "def pick(a, b):\n    return b\n" in results
    assert "def pick(a, b):\n    return 0\n" in results


def test_return_value_spacing_of_parenthesized_value():
    before = "def f(a):\n    return(a)\n"
    after = "def f(a):\n    return None\n"
    assert_mutates("return-value", before, after)


# --- delete-statement ------------------------------------------------------------------------


def test_delete_statement_keeps_comment_above():
    before = "def f(a):\n    a.sort()\n    # done\n    b = 2\n    return a\n"
    after = "def f(a):\n    # done\n    b = 2\n    return a\n"
    assert_mutates("delete-statement", before, after)


def test_delete_statement_moves_comment_to_the_next_statement():
    before = "def f(a):\n    x = 1\n\n    # the answer\n    a = 2\n    return a\n"
    after = "def f(a):\n    x = 1\n\n    # the answer\n    return a\n"
    assert_mutates("delete-statement", before, after, site=1)


def test_delete_statement_empty_block_gets_pass():
    before = "def f(a):\n    for x in a:\n        print(x)\n"
    after = "def f(a):\n    for x in a:\n        pass\n"
    assert_mutates("delete-statement", before, after)


def test_delete_statement_one_of_a_semicolon_line():
    before = "def f():\n    a = 1; b = 2\n    return a\n"
    after = "def f():\n    a = 1\n    return a\n"
    assert_mutates("delete-statement", before, after, site=1)


def test_delete_statement_never_docstrings_or_module_code():
    assert_no_site("delete-statement", 'X = 1\n\n\ndef f():\n    """Doc."""\n    pass\n')


# --- copy-statement --------------------------------------------------------------------------


def test_copy_statement_inserts_a_nearby_statement():
    before = "def f(xs):\n    xs.sort()\n    n = len(xs)\n    return n\n"
    after = "def f(xs):\n    xs.sort()\n    n = len(xs)\n    xs.sort()\n    return n\n"
    assert_mutates("copy-statement", before, after, site=2)


def test_copy_statement_goes_below_the_comments_of_its_place():
    before = "def f(a):\n    b = a  # alias\n    c = b\n\n    # result\n    return c\n"
    after = "def f(a):\n    b = a  # alias\n    c = b\n\n    # result\n    b = a\n    return c\n"
    assert_mutates("copy-statement", before, after, site=2)


def test_copy_statement_bounded_and_skips_neighbours():
    body = "".join(f"    v{i} = {i}\n" for i in range(12))
    source = "def f():\n" + body
    counts = [len([m for m in listed("copy-statement", source) if m.site == s]) for s in range(12)]
    assert counts == [8] * 11 + [16]  # the last statement also has a place below it
    summaries = [m.summary for m in listed("copy-statement", source)]
    assert "insert a copy of `v0 = 0` before line 3 in f()" not in summaries


# --- move-statement --------------------------------------------------------------------------


def test_move_statement_up():
    before = "def f():\n    a = 1\n    b = 2\n"
    after = "def f():\n    b = 2\n    a = 1\n"
    assert_mutates("move-statement", before, after)


def test_move_statement_out_of_a_loop_keeps_comment():
    before = "def f(xs):\n    t = 0\n    for x in xs:\n        t += x\n        return t  # early\n"
    after = "def f(xs):\n    t = 0\n    for x in xs:\n        t += x\n    return t  # early\n"
    assert_mutates("move-statement", before, after, site=1, variant=1)


def test_move_statement_into_the_block_above():
    before = "def f(xs):\n    for x in xs:\n        x.a()\n    x.b()\n"
    after = "def f(xs):\n    for x in xs:\n        x.a()\n        x.b()\n"
    assert_mutates("move-statement", before, after, variant=1)


def test_move_statement_not_above_a_docstring():
    assert_no_site("move-statement", 'def f():\n    """Doc."""\n    return 1\n')


# --- guard -----------------------------------------------------------------------------------


def test_guard_drop_an_if():
    before = "def f(a):\n    if a > 0:\n        a = 0\n    return a\n"
    after = "def f(a):\n    a = 0\n    return a\n"
    assert_mutates("guard", before, after)


def test_guard_drop_keeps_comments():
    before = "def f(a):\n    # clamp\n    if a > 0:  # why\n        a = 0\n    return a\n"
    after = "def f(a):\n    # clamp\n    # why\n    a = 0\n    return a\n"
    assert_mutates("guard", before, after)


def test_guard_early_return_on_none_after_docstring():
    before = """
        def f(self, item):
            '''Doc.'''
            return item.name
    """
    after = """
        def f(self, item):
            '''Doc.'''
            if item is None:
                return None
            return item.name
    """
    assert_mutates("guard", before, after)


def test_guard_wraps_in_a_condition_of_the_function():
    before = "def f(a, b):\n    if a:\n        b += 1\n    b *= 2\n    return b\n"
    after = "def f(a, b):\n    if a:\n        b += 1\n    if a:\n        b *= 2\n    return b\n"
    assert_mutates("guard", before, after, site=1)
    negated = after.replace("    if a:\n        b *= 2", "    if not a:\n        b *= 2")
    assert_mutates("guard", before, negated, site=1, variant=1)


# --- is-in-negation --------------------------------------------------------------------------


def test_is_in_negation_is():
    before = "def f(x):\n    return x is None\n"
    after = "def f(x):\n    return x is not None\n"
    assert_mutates("is-in-negation", before, after)


def test_is_in_negation_not_in_keeps_spacing():
    before = "if key  not  in  seen:  # new\n    pass\n"
    after = "if key  in  seen:  # new\n    pass\n"
    assert_mutates("is-in-negation", before, after)


# --- minmax-swap -----------------------------------------------------------------------------


def test_minmax_swap_builtin():
    before = "def f(a, b):\n    return min(a, b)\n"
    after = "def f(a, b):\n    return max(a, b)\n"
    assert_mutates("minmax-swap", before, after)


def test_minmax_swap_any_all_and_methods():
    assert_mutates(
        "minmax-swap",
        "ok = any(\n    xs  # all of them?\n)\n",
        "ok = all(\n    xs  # all of them?\n)\n",
    )
    assert_mutates("minmax-swap", "i = scores.argmax(axis=1)\n", "i = scores.argmin(axis=1)\n")


def test_minmax_swap_sorts_the_other_way():
    assert_mutates(
        "minmax-swap", "ys = sorted(xs, key=len)\n", "ys = sorted(xs, key=len, reverse=True)\n"
    )
    assert_mutates("minmax-swap", "xs.sort()\n", "xs.sort(reverse=True)\n")
    assert_mutates("minmax-swap", "ys = sorted(xs, reverse=True)\n", "ys = sorted(xs)\n")
    before = "ys = sorted(\n    xs,\n    reverse=True,\n)\n"
    assert_mutates("minmax-swap", before, "ys = sorted(\n    xs,\n)\n")
    assert_no_site(
        "minmax-swap", "import numpy as np\n\nnp.sort(x)\nys = sorted(xs, reverse=flag)\n"
    )


# --- bool-literal, remove-unary, loop-control --------------------------------------------------


def test_bool_literal():
    assert_mutates(
        "bool-literal", "def f(x=True):\n    return x\n", "def f(x=False):\n    return x\n"
    )
    assert_mutates("bool-literal", "run(fast = False)  # slow\n", "run(fast = True)  # slow\n")


def test_remove_unary():
    assert_mutates("remove-unary", "d = -delta  # sign\n", "d = delta  # sign\n")
    assert_mutates("remove-unary", "ok = not (a and b)\n", "ok = (a and b)\n")
    assert_no_site("remove-unary", "x = -1\n")


def test_loop_control():
    before = "for x in xs:\n    if x:\n        break  # stop\n"
    after = "for x in xs:\n    if x:\n        continue  # stop\n"
    assert_mutates("loop-control", before, after)
    assert_mutates("loop-control", after, before)


# --- boundary-builtin, augassign-to-assign, replace-attribute ---------------------------------


def test_boundary_builtin():
    assert_mutates(
        "boundary-builtin", "n = math.ceil(a / b)  # pages\n", "n = math.floor(a / b)  # pages\n"
    )
    assert_mutates("boundary-builtin", "n = round(x)\n", "n = int(x)\n")
    assert_no_site("boundary-builtin", "n = round(x, 2)\nm = int(s, 16)\n")


def test_augassign_to_assign():
    before = "def f(xs):\n    t = 0\n    for x in xs:\n        t += x  # sum\n    return t\n"
    after = "def f(xs):\n    t = 0\n    for x in xs:\n        t = x  # sum\n    return t\n"
    assert_mutates("augassign-to-assign", before, after)
    assert_mutates("augassign-to-assign", after, before)


def test_augassign_to_assign_needs_a_value_already():
    assert_no_site("augassign-to-assign", "def f(xs):\n    t = 0\n    u = t\n")


def test_replace_attribute_same_object():
    before = """
        class Box:
            def area(self):
                return self.width * self.width  # square?

            def grow(self):
                self.height += 1
    """
    after = before.replace("self.width  #", "self.height  #")
    assert_mutates("replace-attribute", before, after, site=1)


def test_replace_attribute_methods_for_methods():
    source = "def f(p):\n    p.open()\n    p.close()\n    return p.name\n"
    summaries = [m.summary for m in listed("replace-attribute", source)]
    assert summaries == [
        "use p.close instead of p.open in f()",
        "use p.open instead of p.close in f()",
    ]
