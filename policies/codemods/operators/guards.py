"""Guards: drop an ``if`` around code, add one, or return early when a parameter is None."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import libcst as cst

from policies.codemods.analysis import Context, snippet
from policies.codemods.base import Edit, SiteOperator
from policies.codemods.blocks import block_place, function_conditions, insert_statement, is_trivial
from policies.codemods.nodes import is_literal_name, negate

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
    * *early return*: before the first statement of a function, ``if p is None: return None``
      for each of its first three ordinary parameters (``self``/``cls`` excepted): the missing
      None check behind an ``AttributeError`` on None;
    * *wrap*: a simple statement becomes ``if c:`` around it, where ``c`` is one of the two
      conditions the same function tests elsewhere (``if``/``elif``/``while``) nearest to it,
      or its negation; conditions already guarding the statement are left out.
    """

    name = "guard"
    description = (
        "Drop an if around code, wrap a statement in a condition of the function, "
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
        summary = f"drop the guard if {snippet(node.test)}"
        return Edit(block.with_changes(body=body), summary, target=block)

    def _wraps(
        self,
        node: cst.SimpleStatementLine,
        ctx: Context,
        block: cst.IndentedBlock,
        index: int,
        function: cst.FunctionDef,
    ) -> list[Edit]:
        guarding = {
            snippet(parent.test, _WHOLE) for parent in ctx.ancestors if isinstance(parent, cst.If)
        }
        here = ctx.line()
        chosen: dict[str, cst.BaseExpression] = {}
        for test in sorted(
            function_conditions(function, ctx), key=lambda t: (abs(ctx.line(t) - here), ctx.line(t))
        ):
            text = snippet(test, _WHOLE)
            if text in guarding or text in chosen or is_literal_name(test):
                continue
            chosen[text] = test
            if len(chosen) == self.condition_limit:
                break
        edits = []
        for test in chosen.values():
            for condition in (test, negate(test)):
                guarded = cst.If(
                    test=condition,
                    body=cst.IndentedBlock(body=[node.with_changes(leading_lines=())]),
                    leading_lines=node.leading_lines,
                )
                body = [*block.body[:index], guarded, *block.body[index + 1 :]]
                summary = f"run {snippet(node)} only if {snippet(condition)}"
                edits.append(Edit(block.with_changes(body=body), summary, target=block))
        return edits
