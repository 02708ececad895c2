"""Statements of a function: delete one, move one, swap break/continue.

Copies of statements (GenProg insertion and replacement) are in `insertion`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import libcst as cst

from policies.codemods.analysis import Context, snippet
from policies.codemods.base import Edit, SiteOperator
from policies.codemods.blocks import (
    block_place,
    has_comment,
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
    coarse = True
    description = "Delete one simple statement of a function (pass if the block would be empty)."
    node_types: ClassVar = (cst.BaseSmallStatement,)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The function's code without this small statement."""
        line = ctx.parent
        if ctx.function_node is None or isinstance(node, cst.Pass):
            return []
        if isinstance(node, cst.Expr) and is_trivial(cst.SimpleStatementLine(body=[node])):
            return []
        summary = f"delete {snippet(node, 30).rstrip(';')}"
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
    coarse = True
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
        text = snippet(node, 30)
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
            summary = f"move {text} above {snippet(above, 24)}"
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
            summary = f"move {text} after the {snippet(place.owner, 24)} block"
            edits.append(Edit(outer.with_changes(body=outer_body), summary, target=outer))
        if index > place.first:
            above = body[index - 1]
            inner = _single_body(above)
            if inner is not None:
                grown = above.with_changes(body=inner.with_changes(body=[*inner.body, node]))
                new_body = [*body[: index - 1], grown, *body[index + 1 :]]
                summary = f"move {text} into the {snippet(above, 24)} block"
                edits.append(Edit(place.with_body(new_body), summary, target=place.block))
        return edits


class HoistStatement(SiteOperator):
    """Move a statement across the top of a block: out above it, or in at its start (GenProg).

    Each statement of a function's code is a site. Variants: *hoist* moves the first
    statement of a loop, ``with`` or ``if`` body (of at least two statements) to just above
    that compound statement: an initialisation that should run once, not every iteration;
    *sink* moves a statement just above a loop, ``with`` or ``if`` (without ``else``) to the
    start of its body: a reset that belongs to every iteration. `move-statement` moves
    statements across the bottom of a block. Comment lines above a statement move with it;
    blank lines stay.
    """

    name = "hoist-statement"
    coarse = True
    description = "Move the first statement of a block above it, or the one above a block into it."
    node_types: ClassVar = (cst.SimpleStatementLine, cst.BaseCompoundStatement)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The hoist and sink moves possible for this statement."""
        place = block_place(node, ctx)
        if place is None or place.index < place.first:
            return []
        assert isinstance(node, cst.BaseStatement)
        edits = []
        body = list(place.block.body)
        outer = ctx.ancestor(3)
        if (
            place.index == place.first
            and len(body) - place.first >= 2
            and _single_body(place.owner) is place.block
            and isinstance(outer, cst.IndentedBlock)
        ):
            owner = cst.ensure_type(place.owner, cst.BaseCompoundStatement)
            rest = [*body[: place.index], *body[place.index + 1 :]]
            own = tuple(node.leading_lines) if has_comment(node.leading_lines) else ()
            moved = node.with_changes(leading_lines=(*owner.leading_lines, *own))
            shrunk = owner.with_changes(body=place.with_body(rest), leading_lines=())
            outer_body = list(outer.body)
            at = next(i for i, stmt in enumerate(outer_body) if stmt is owner)
            outer_body[at : at + 1] = [moved, shrunk]
            summary = f"move `{snippet(node, 30)}` above its `{snippet(owner, 24)}` block"
            edits.append(Edit(outer.with_changes(body=outer_body), summary, target=outer))
        below = body[place.index + 1] if place.index + 1 < len(body) else None
        inner = _single_body(below) if below is not None else None
        if below is not None and inner is not None:
            if has_comment(node.leading_lines):
                moved, lines = node, tuple(below.leading_lines)
            else:
                moved = node.with_changes(leading_lines=())
                lines = (*node.leading_lines, *below.leading_lines)
            grown = below.with_changes(
                body=inner.with_changes(body=[moved, *inner.body]), leading_lines=lines
            )
            new_body = [*body[: place.index], grown, *body[place.index + 2 :]]
            summary = f"move `{snippet(node, 30)}` to the top of `{snippet(below, 24)}`"
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
