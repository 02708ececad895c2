"""Conditions made stricter or looser: a term added to a test, or one of its terms dropped.

TBar's "mutate conditional expression" templates and PAR's "expression adder/remover" fix a
condition that misses a case, or tests one too many, by one term. ACS and Nopol build the
added terms from the predicates and variables in scope; here they come from the function's
own other conditions and from a few simple tests of the names the condition already uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import libcst as cst

from policies.codemods.analysis import Context, snippet
from policies.codemods.base import Edit, SiteOperator
from policies.codemods.blocks import (
    function_conditions,
    function_returns,
    has_comment_inside,
    local_names,
    loop_targets,
    names_in,
)
from policies.codemods.nodes import is_literal_name, negate, parenthesize, with_outer_parens
from policies.codemods.operators.logic import CONDITIONAL, with_test
from policies.codemods.operators.returns import is_boolean
from policies.codemods.scope import parameters, visible_bindings

_WHOLE = 10_000  # a snippet length that never truncates
_Term = tuple[cst.BaseExpression, str, str]  # the new test, the added text, "to" or "before"
_AND, _OR = 3, 2  # the precedence of ``and`` and ``or`` operands


def _join(left: cst.BaseExpression, right: cst.BaseExpression, conj: bool) -> cst.BaseExpression:
    """``left and right`` (or ``or``), parenthesized where precedence needs it."""
    level = _AND if conj else _OR
    operator = cst.And() if conj else cst.Or()
    return cst.BooleanOperation(
        left=parenthesize(left, level), operator=operator, right=parenthesize(right, level)
    )


def _compare(name: str, operator: cst.BaseCompOp, right: str) -> cst.Comparison:
    target = cst.ComparisonTarget(operator, cst.Name(right))
    return cst.Comparison(left=cst.Name(name), comparisons=[target])


def _terms(expr: cst.BaseExpression) -> set[str]:
    """The texts of the operands of ``expr``'s ``and``/``or`` chain, and its own text."""
    found = {snippet(expr, _WHOLE)}
    if isinstance(expr, cst.BooleanOperation):
        found |= _terms(expr.left) | _terms(expr.right)
    return found


class _AccessedNames(cst.CSTVisitor):
    """Names an expression indexes or reads an attribute of: what a guard protects."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if isinstance(node.value, cst.Name):
            self.found.append(node.value.value)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name):
            self.found.append(node.value.value)


class AddCondition(SiteOperator):
    """Add a term to a condition: ``t and u``, ``t or u``, ``x is None or t``, ``t and p(x)``.

    Sites are the tests of ``if``, ``elif``, ``while``, conditional expressions and
    comprehension filters in a function (``while True`` excepted). The added terms, in
    order: the two conditions of the same function nearest to it, joined with ``and`` and
    with ``or``; for up to two local variables the test indexes or reads an attribute of,
    ``x and t`` and ``not x or t``, and for the first one ``x is not None and t`` and
    ``x is None or t`` (PAR's null checker); ``t and p(x)`` for up to two one-argument
    functions in scope that return a boolean, applied to the test's first local variable;
    and inside two nested loops, ``t and a != b`` of their variables. Terms the test already
    has are left out.
    """

    name = "add-condition"
    coarse = True
    description = "Add a term to a condition with and or or, from the function's own tests."
    node_types: ClassVar = CONDITIONAL
    limit: ClassVar[int] = 2

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The test with each added term."""
        function = ctx.function_node
        test = node.test  # type: ignore[attr-defined]
        if function is None or is_literal_name(test):
            return []
        have = _terms(test)
        new: list[_Term] = []
        for other in self._conditions(function, ctx, have):
            conj, disj = parenthesize(other, _AND), parenthesize(other, _OR)
            new += [
                (_join(test, other, True), f"and {snippet(conj, 26)}", "to"),
                (_join(test, other, False), f"or {snippet(disj, 26)}", "to"),
            ]
        names = local_names(function, ctx) | set(loop_targets(ctx))
        new += self._guards(test, names, have)
        new += self._predicates(test, function, ctx, names, have)
        targets = loop_targets(ctx)
        if len(targets) >= 2:
            pair = _compare(targets[1], cst.NotEqual(), targets[0])
            if snippet(pair, _WHOLE) not in have:
                new.append((_join(test, pair, True), f"and {snippet(pair, 26)}", "to"))
        return [
            Edit(with_test(node, condition), f"add `{term}` {where} the condition")
            for condition, term, where in new
        ]

    def _conditions(
        self, function: cst.FunctionDef, ctx: Context, have: set[str]
    ) -> list[cst.BaseExpression]:
        here = ctx.line()
        chosen: dict[str, cst.BaseExpression] = {}
        for other in sorted(
            function_conditions(function, ctx), key=lambda t: (abs(ctx.line(t) - here), ctx.line(t))
        ):
            text = snippet(other, _WHOLE)
            if text in have or text in chosen or is_literal_name(other):
                continue
            if isinstance(other, cst.BooleanOperation) and not _terms(other).isdisjoint(have):
                continue
            chosen[text] = other
            if len(chosen) == self.limit:
                break
        return list(chosen.values())

    def _guards(
        self, test: cst.BaseExpression, names: frozenset[str], have: set[str]
    ) -> list[_Term]:
        collector = _AccessedNames()
        test.visit(collector)
        accessed = [name for name in dict.fromkeys(collector.found) if name in names]
        found = []
        for index, name in enumerate(accessed[: self.limit]):
            forms = [(cst.Name(name), True), (negate(cst.Name(name)), False)]
            if index == 0:
                forms += [
                    (_compare(name, cst.IsNot(), "None"), True),
                    (_compare(name, cst.Is(), "None"), False),
                ]
            for term, conj in forms:
                if snippet(term, _WHOLE) not in have:
                    text = f"{snippet(term, 26)} {'and' if conj else 'or'}"
                    found.append((_join(term, test, conj), text, "before"))
        return found

    def _predicates(
        self,
        test: cst.BaseExpression,
        function: cst.FunctionDef,
        ctx: Context,
        names: frozenset[str],
        have: set[str],
    ) -> list[_Term]:
        used = [name for name in names_in(test) if name in names]
        if not used:
            return []
        found = []
        for predicate in _predicates(function, ctx)[: self.limit]:
            arg = cst.Arg(cst.Name(used[0]))
            call = cst.Call(func=cst.Name(predicate), args=[arg])
            if snippet(call, _WHOLE) not in have:
                found.append((_join(test, call, True), f"and {snippet(call, 26)}", "to"))
        return found


def _predicates(function: cst.FunctionDef, ctx: Context) -> list[str]:
    """The functions in scope, other than ``function``, of one argument that return booleans."""

    def compute() -> list[str]:
        found = []
        for binding in visible_bindings(ctx):
            candidate = binding.node
            if binding.kind != "function" or candidate is function:
                continue
            assert isinstance(candidate, cst.FunctionDef)
            params = parameters(candidate)
            returns = function_returns(candidate, ctx)
            if (
                len(params) == 1
                and not params[0].star
                and returns
                and all(r.value is not None and is_boolean(r.value) for r in returns)
            ):
                found.append(binding.name)
        return found

    return ctx.analysis.memo(("predicates", function), compute)


class DropCondition(SiteOperator):
    """Drop one operand of ``and``/``or``: ``a and b`` becomes ``a``, or ``b`` (PAR, TBar).

    Each ``and``/``or`` operator of a function is a site, unless a comment is inside it; the
    variants keep its left and its right operand. In a chain ``a and b and c`` the two
    operators are separate sites, so each operand can be dropped on its own: an extra test
    that rejects what it should accept, or accepts what it should reject.
    """

    name = "drop-condition"
    coarse = True
    description = "Drop one operand of and or or, keeping the other."
    node_types: ClassVar = (cst.BooleanOperation,)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The left operand alone, then the right one."""
        assert isinstance(node, cst.BooleanOperation)
        if ctx.function_node is None or has_comment_inside(node):
            return []
        word = "and" if isinstance(node.operator, cst.And) else "or"
        return [
            Edit(with_outer_parens(node.left, node), f"drop `{word} {snippet(node.right, 26)}`"),
            Edit(with_outer_parens(node.right, node), f"drop `{snippet(node.left, 26)} {word}`"),
        ]
