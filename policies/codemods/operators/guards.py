"""Guards: drop or delete an ``if``, wrap code in one, or leave a function or loop early."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import libcst as cst

from policies.codemods.analysis import Context, snippet
from policies.codemods.base import Edit, SiteOperator
from policies.codemods.blocks import (
    block_place,
    function_conditions,
    function_returns,
    has_comment_inside,
    insert_statement,
    is_trivial,
    local_names,
    loop_targets,
    names_in,
    remove_statement,
)
from policies.codemods.nodes import is_literal_name, negate
from policies.codemods.scope import parameters

_WHOLE = 10_000  # a snippet length that never truncates


def _none_guard(name: str) -> cst.If:
    """``if name is None: return None`` as an indented two-line statement."""
    test = cst.Comparison(
        left=cst.Name(name), comparisons=[cst.ComparisonTarget(cst.Is(), cst.Name("None"))]
    )
    body = cst.IndentedBlock(body=[cst.SimpleStatementLine(body=[cst.Return(cst.Name("None"))])])
    return cst.If(test=test, body=body)


class Guard(SiteOperator):
    """Add or drop a guard around a function's code.

    Sites are the statements of a function's code (docstring excepted), with these variants:

    * *drop*: an ``if`` without ``else``/``elif`` is replaced by its body, which then always
      runs (a wrong or needless check);
    * *delete*: such an ``if`` (without comments inside) is deleted with its body, a special
      case that should not be there (TBar's removal of a buggy statement);
    * *early return*: before the first statement of a function, ``if p is None: return None``
      for each of its first three ordinary parameters (``self``/``cls`` excepted): the missing
      None check behind an ``AttributeError`` on None;
    * *wrap*: a simple statement becomes ``if c:`` around it, where ``c`` is one of the two
      conditions the same function tests elsewhere (``if``/``elif``/``while``) nearest to it,
      or its negation; conditions already guarding the statement are left out. Inside two
      nested loops, ``a != b`` and ``a == b`` of their variables are conditions too (pairs
      of a collection with itself: an element is not its own partner).
    """

    name = "guard"
    coarse = True
    description = (
        "Drop or delete an if, wrap a statement in a condition of the function, "
        "or return early when a parameter is None."
    )
    node_types: ClassVar = (cst.SimpleStatementLine, cst.BaseCompoundStatement)
    parameter_limit: ClassVar[int] = 3
    condition_limit: ClassVar[int] = 2

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """Drop, early-return and wrap variants at a statement of a function."""
        place = block_place(node, ctx)
        function = ctx.function_node
        if place is None or function is None or place.index < place.first:
            return []
        assert isinstance(node, cst.BaseStatement)
        edits = []
        if isinstance(node, cst.If) and node.orelse is None:
            edits.append(self._drop(node, place.block, place.index))
            if not has_comment_inside(node):
                new_block = remove_statement(place.block, place.index)
                summary = f"delete the `if {snippet(node.test, 24)}` block"
                edits.append(Edit(new_block, summary, target=place.block))
        if place.block is function.body and place.index == place.first:
            params = function.params
            names = [
                param.name.value
                for param in (*params.posonly_params, *params.params, *params.kwonly_params)
                if param.name.value not in ("self", "cls")
            ]
            for name in names[: self.parameter_limit]:
                new_block = insert_statement(place.block, place.index, _none_guard(name))
                edits.append(
                    Edit(new_block, f"return None when {name} is None", target=place.block)
                )
        if isinstance(node, cst.SimpleStatementLine) and not is_trivial(node):
            edits += self._wraps(node, ctx, place.block, place.index, function)
        return edits

    @staticmethod
    def _drop(node: cst.If, block: cst.IndentedBlock, index: int) -> Edit:
        if isinstance(node.body, cst.IndentedBlock):
            inner = list(node.body.body)
            comment = node.body.header.comment
            if comment is not None:  # ``if c:  # why`` keeps its comment, on a line of its own
                lines = (*node.leading_lines, cst.EmptyLine(comment=comment))
                node = node.with_changes(leading_lines=lines)
        else:  # ``if c: x = 1`` on one line
            inner = [
                cst.SimpleStatementLine(
                    body=node.body.body, trailing_whitespace=node.body.trailing_whitespace
                )
            ]
        inner[0] = inner[0].with_changes(
            leading_lines=(*node.leading_lines, *inner[0].leading_lines)
        )
        body = [*block.body[:index], *inner, *block.body[index + 1 :]]
        summary = f"drop the guard if {snippet(node.test, 30)}"
        return Edit(block.with_changes(body=body), summary, target=block)

    def _wraps(
        self,
        node: cst.SimpleStatementLine,
        ctx: Context,
        block: cst.IndentedBlock,
        index: int,
        function: cst.FunctionDef,
    ) -> list[Edit]:
        guarding = _guarding(ctx, (cst.If,))
        nearest = _nearest_conditions(function, ctx, guarding)
        chosen = dict(list(nearest.items())[: self.condition_limit])
        conditions = [new for test in chosen.values() for new in (test, negate(test))]
        targets = loop_targets(ctx)
        if len(targets) >= 2:
            for operator in (cst.NotEqual(), cst.Equal()):
                target = cst.ComparisonTarget(operator, cst.Name(targets[0]))
                pair = cst.Comparison(left=cst.Name(targets[1]), comparisons=[target])
                if snippet(pair, _WHOLE) not in guarding | set(chosen):
                    conditions.append(pair)
        edits = []
        for condition in conditions:
            guarded = cst.If(
                test=condition,
                body=cst.IndentedBlock(body=[node.with_changes(leading_lines=())]),
                leading_lines=node.leading_lines,
            )
            body = [*block.body[:index], guarded, *block.body[index + 1 :]]
            summary = f"run `{snippet(node, 30)}` only if `{snippet(condition, 30)}`"
            edits.append(Edit(block.with_changes(body=body), summary, target=block))
        return edits


class _SequenceParams(cst.CSTVisitor):
    """Names a function iterates, measures with ``len`` or indexes: its sequences."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def _add(self, expr: cst.BaseExpression) -> None:
        if isinstance(expr, cst.Name):
            self.found.append(expr.value)

    def visit_For(self, node: cst.For) -> None:
        self._add(node.iter)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._add(node.iter)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self._add(node.value)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "len" and len(node.args) == 1:
            self._add(node.args[0].value)


def _early_exit(test: cst.BaseExpression, action: cst.BaseSmallStatement) -> cst.If:
    """``if test: action`` as an indented two-line statement."""
    body = cst.IndentedBlock(body=[cst.SimpleStatementLine(body=[action])])
    return cst.If(test=test, body=body)


class EarlyExit(SiteOperator):
    """Leave early when a condition holds: ``if c: return v``, ``continue`` or ``break`` (PAR).

    PAR's null-checker and TBar's guard templates insert an early exit before the code that
    fails on an edge case. Sites are the first statement of a function's body and of each
    loop body in it (docstring excepted). At the top of a function the conditions are
    ``not p`` for up to two parameters it iterates, indexes or measures with ``len`` (the
    empty input), then up to two conditions the function tests elsewhere that use no local
    variable but its parameters; the exits are ``return v`` for up to two values the function
    returns elsewhere that use no local variable but its parameters (``[]``, ``0``, ``n``). At
    the top of a loop body the conditions are the two conditions of the function nearest to
    it (those around it left out), and the exits ``continue``, ``break`` and ``return`` of
    the first such value.
    """

    name = "early-exit"
    coarse = True
    description = (
        "Insert if c: return v (or continue, break) at the top of a function or loop body."
    )
    node_types: ClassVar = (cst.SimpleStatementLine, cst.BaseCompoundStatement)
    limit: ClassVar[int] = 2

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """Each condition with each exit, inserted above this statement."""
        place = block_place(node, ctx)
        function = ctx.function_node
        if place is None or function is None or place.index != place.first:
            return []
        params = {param.name.value for param in parameters(function)}
        values = self._values(function, ctx, params)
        if place.block is function.body:
            tests = self._parameter_tests(function, params)
            tests += self._conditions(function, ctx, params)
            actions: list[cst.BaseSmallStatement] = [cst.Return(value) for value in values]
            where = "at the top"
        elif isinstance(place.owner, cst.For | cst.While) and place.owner.body is place.block:
            tests = self._conditions(function, ctx, None)
            actions = [cst.Continue(), cst.Break(), *[cst.Return(v) for v in values[:1]]]
            where = "at the top of the loop"
        else:
            return []
        edits = []
        for test in tests:
            for action in actions:
                guard = _early_exit(test, action)
                new_block = insert_statement(place.block, place.index, guard)
                line = cst.If(test=test, body=cst.SimpleStatementSuite(body=[action]))
                text = snippet(line, 30)
                edits.append(Edit(new_block, f"insert `{text}` {where}", target=place.block))
        return edits

    def _parameter_tests(
        self, function: cst.FunctionDef, params: set[str]
    ) -> list[cst.BaseExpression]:
        collector = _SequenceParams()
        function.body.visit(collector)
        names = [name for name in dict.fromkeys(collector.found) if name in params]
        return [negate(cst.Name(name)) for name in names[: self.limit]]

    def _conditions(
        self, function: cst.FunctionDef, ctx: Context, params: set[str] | None
    ) -> list[cst.BaseExpression]:
        """The nearest conditions of the function; with ``params``, only those it can test."""
        guarding = _guarding(ctx, (cst.If, cst.While))
        locals_ = local_names(function, ctx)
        tests = list(_nearest_conditions(function, ctx, guarding).values())
        if params is not None:
            tests = [t for t in tests if set(names_in(t)) & locals_ <= params]
        return tests[: self.limit]

    def _values(
        self, function: cst.FunctionDef, ctx: Context, params: set[str]
    ) -> list[cst.BaseExpression]:
        """Up to two values the function returns that need no local variable but parameters."""
        locals_ = local_names(function, ctx)
        found: dict[str, cst.BaseExpression] = {}
        for statement in function_returns(function, ctx):
            value = statement.value
            if value is None or set(names_in(value)) & (locals_ - params):
                continue
            found.setdefault(snippet(value, _WHOLE), value)
        return list(found.values())[: self.limit]


def _guarding(ctx: Context, kinds: tuple[type[cst.If] | type[cst.While], ...]) -> set[str]:
    """The texts of the tests of the node's enclosing ifs (or loops) of `kinds`."""
    return {snippet(p.test, _WHOLE) for p in ctx.ancestors if isinstance(p, kinds)}


def _nearest_conditions(
    function: cst.FunctionDef, ctx: Context, guarding: set[str]
) -> dict[str, cst.BaseExpression]:
    """The function's conditions by text, nearest the node first, each once.

    Literal tests and those in `guarding` (the node's own enclosing tests) are left out.
    """
    here = ctx.line()
    found: dict[str, cst.BaseExpression] = {}
    for test in sorted(
        function_conditions(function, ctx), key=lambda t: (abs(ctx.line(t) - here), ctx.line(t))
    ):
        text = snippet(test, _WHOLE)
        if text not in guarding and text not in found and not is_literal_name(test):
            found[text] = test
    return found
