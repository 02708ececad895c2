"""Statements of a function: delete one, copy one elsewhere, move one, swap break/continue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import libcst as cst

from policies.codemods.analysis import Context, snippet
from policies.codemods.base import Edit, SiteOperator
from policies.codemods.blocks import (
    bare,
    block_place,
    function_statements,
    has_comment,
    insert_statement,
    is_trivial,
    remove_statement,
)
from policies.codemods.nodes import BLOCK_STATEMENTS


class DeleteStatement(SiteOperator):
    """Delete one simple statement of a function.

    Each small statement of a function's code (``x = 1``, ``f(x)``, ``return x``; each part of
    ``a; b`` on its own) is a site, except docstrings and no-ops (``pass``, ``...``). A block
    left empty gets ``pass``; the comments above a deleted line stay where they were.
    """

    name = "delete-statement"
    description = "Delete one simple statement of a function (pass if the block would be empty)."
    node_types: ClassVar = (cst.BaseSmallStatement,)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The function's code without this small statement."""
        line = ctx.parent
        if ctx.function_node is None or isinstance(node, cst.Pass):
            return []
        if isinstance(node, cst.Expr) and is_trivial(cst.SimpleStatementLine(body=[node])):
            return []
        summary = f"delete {snippet(node).rstrip(';')}"
        if isinstance(line, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            rest = [small for small in line.body if small is not node]
            if rest:
                rest[-1] = rest[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
                return [Edit(line.with_changes(body=rest), summary, target=line)]
            if isinstance(line, cst.SimpleStatementSuite):
                return [Edit(line.with_changes(body=[cst.Pass()]), summary, target=line)]
        place = block_place(line, ctx, up=1)
        if place is None:
            return []
        return [Edit(remove_statement(place.block, place.index), summary, target=place.block)]


class CopyStatement(SiteOperator):
    """Insert a copy of a statement of the same function before another one (GenProg-style).

    Each statement of a function's code (simple or compound, docstring excepted) is a site:
    an insertion point just above it, below its comments. The variants are copies of the
    function's other simple statement lines, nearest first (then the earlier one), without
    their comments, each text once, at most eight; a copy of the statement itself or of the
    one just above is left out (it would only repeat a line).
    """

    name = "copy-statement"
    description = "Insert a copy of another statement of the same function before a statement."
    node_types: ClassVar = (cst.SimpleStatementLine, cst.BaseCompoundStatement)
    limit: ClassVar[int] = 8

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """Up to eight copies of other statements inserted above this one."""
        place = block_place(node, ctx)
        if place is None or place.index < place.first or ctx.function_node is None:
            return []
        here = ctx.line()
        above = place.block.body[place.index - 1] if place.index > 0 else None
        own = snippet(bare(node), 10_000)  # type: ignore[arg-type]
        candidates = sorted(
            (
                stmt
                for stmt in function_statements(ctx.function_node, ctx)
                if stmt is not node and stmt is not above
            ),
            key=lambda stmt: (abs(ctx.line(stmt) - here), ctx.line(stmt)),
        )
        edits: list[Edit] = []
        seen = {own, snippet(bare(above), 10_000) if above is not None else ""}
        for stmt in candidates:
            text = snippet(bare(stmt), 10_000)
            if text in seen:
                continue
            seen.add(text)
            new_block = insert_statement(place.block, place.index, bare(stmt))
            summary = f"insert {snippet(stmt)} before {snippet(node)}"
            edits.append(Edit(new_block, summary, target=place.block))
            if len(edits) == self.limit:
                break
        return edits


def _single_body(node: cst.CSTNode) -> cst.IndentedBlock | None:
    """The indented body of a loop, ``with`` or ``if`` without ``else``/``elif``, or None."""
    if not isinstance(node, BLOCK_STATEMENTS) or getattr(node, "orelse", None) is not None:
        return None
    return node.body if isinstance(node.body, cst.IndentedBlock) else None


class MoveStatement(SiteOperator):
    """Move a statement of a function by one place: up, out of its block, or into the one above.

    Each statement of a function's code is a site. Variants: *up* swaps it with the statement
    above (moving a statement down is moving the next one up, so it is not listed twice);
    *out* moves the last statement of a loop, ``with`` or ``if`` body (with at least two
    statements) to just after that compound statement; *in* moves a statement that follows a
    loop, ``with`` or ``if`` to the end of its body. The last two fix indentation bugs such as
    a ``return`` inside the loop it should follow. Blank lines stay in place; comment lines
    above a statement move with it.
    """

    name = "move-statement"
    description = (
        "Move a statement of a function up by one, out of its block, or into the block above."
    )
    node_types: ClassVar = (cst.SimpleStatementLine, cst.BaseCompoundStatement)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The up, out and in moves possible for this statement."""
        place = block_place(node, ctx)
        if place is None or place.index < place.first:
            return []
        assert isinstance(node, cst.BaseStatement)
        body = list(place.block.body)
        index = place.index
        text = snippet(node)
        edits = []
        if index > place.first:
            above = body[index - 1]
            if has_comment(node.leading_lines) or has_comment(above.leading_lines):
                body[index - 1 : index + 1] = [node, above]
            else:
                body[index - 1 : index + 1] = [
                    node.with_changes(leading_lines=above.leading_lines),
                    above.with_changes(leading_lines=node.leading_lines),
                ]
            summary = f"move {text} above {snippet(above)}"
            edits.append(Edit(place.with_body(body), summary, target=place.block))
            body = list(place.block.body)
        outer = ctx.ancestor(3)
        if (
            index == len(body) - 1
            and index > place.first
            and _single_body(place.owner) is place.block
            and isinstance(outer, cst.IndentedBlock)
        ):
            owner = place.owner.with_changes(body=place.with_body(body[:-1]))
            outer_body = list(outer.body)
            at = next(i for i, stmt in enumerate(outer_body) if stmt is place.owner)
            outer_body[at : at + 1] = [owner, node]
            summary = f"move {text} after the {snippet(place.owner)} block"
            edits.append(Edit(outer.with_changes(body=outer_body), summary, target=outer))
        if index > place.first:
            above = body[index - 1]
            inner = _single_body(above)
            if inner is not None:
                grown = above.with_changes(body=inner.with_changes(body=[*inner.body, node]))
                new_body = [*body[: index - 1], grown, *body[index + 1 :]]
                summary = f"move {text} into the {snippet(above)} block"
                edits.append(Edit(place.with_body(new_body), summary, target=place.block))
        return edits


class LoopControl(SiteOperator):
    """Replace ``break`` by ``continue`` or the other way round.

    Each ``break`` and ``continue`` is a site with one variant.
    """

    name = "loop-control"
    description = "Replace break by continue, or continue by break."
    node_types: ClassVar = (cst.Break, cst.Continue)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The other loop control statement."""
        if isinstance(node, cst.Break):
            return [Edit(cst.Continue(semicolon=node.semicolon), "use continue instead of break")]
        assert isinstance(node, cst.Continue)
        return [Edit(cst.Break(semicolon=node.semicolon), "use break instead of continue")]
