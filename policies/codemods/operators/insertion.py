"""Statements copied from elsewhere in the same function: inserted, or put in place of another.

GenProg repairs a program by inserting and replacing statements with copies of statements of
the same program; SimFix and ssFix adapt such a copy to its new place by renaming a variable.
Both are here, bounded: copies come from the nearest statements first, and a renamed copy
only takes a name an enclosing ``while`` tests, or the replaced statement's own.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import ClassVar

import libcst as cst

from policies.codemods.analysis import Context, snippet
from policies.codemods.base import Edit, SiteOperator
from policies.codemods.blocks import (
    BlockPlace,
    bare,
    block_place,
    function_statements,
    insert_statement,
    rename,
    subject,
    while_names,
)

_WHOLE = 10_000  # a snippet length that never truncates
_ENDS_BLOCK = (cst.Return, cst.Raise, cst.Continue, cst.Break)


def _text(statement: cst.BaseStatement) -> str:
    return snippet(bare(statement), _WHOLE)


def _nearest(
    statements: Sequence[cst.SimpleStatementLine], line: int, ctx: Context
) -> list[cst.SimpleStatementLine]:
    """The statements sorted by their distance to ``line``, the earlier one first on a tie."""
    return sorted(statements, key=lambda stmt: (abs(ctx.line(stmt) - line), ctx.line(stmt)))


def _ends_block(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and isinstance(
        statement.body[-1], _ENDS_BLOCK
    )


class CopyStatement(SiteOperator):
    """Insert a copy of a statement of the same function (GenProg insertion, SimFix renaming).

    Each statement of a function's code (docstring excepted) is a site: an insertion point
    just above it, below its comments. The last statement of a block, unless it is a
    ``return``/``raise``/``continue``/``break``, also has one just below it (the missing last
    step of a loop), when the block is a loop's or the function's body or has two statements
    or more (below the only statement of an ``if`` is mostly the same as above it). At each
    point the variants are copies of the function's other simple statement lines, nearest
    first (then the earlier one), without their comments, each text once, at most eight; a
    copy of the statement itself or of the one just above is left out (it would only repeat
    a line). Inside a ``while`` loop, up to three more copies have their subject (the
    variable they assign, or the first one of an expression statement) renamed to a name the
    loop tests, nearest first: ``i -= 1`` becomes the missing ``div -= 1`` of a
    ``while div:`` loop that never ends.
    """

    name = "copy-statement"
    coarse = True
    description = "Insert a copy of a statement of the same function, maybe with a name renamed."
    node_types: ClassVar = (cst.SimpleStatementLine, cst.BaseCompoundStatement)
    limit: ClassVar[int] = 8
    renamed_limit: ClassVar[int] = 3

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """Copies inserted above this statement, and below it when it ends its block."""
        place = block_place(node, ctx)
        function = ctx.function_node
        if place is None or place.index < place.first or function is None:
            return []
        body = place.block.body
        above = body[place.index - 1] if place.index > place.first else None
        line = ctx.line()
        edits = self._copies(place, place.index, (node, above), line, ctx, function)
        at_end = place.index == len(body) - 1 and not _ends_block(node)
        loop = place.owner is function or isinstance(place.owner, cst.For | cst.While)
        if at_end and (loop or place.index > place.first):
            edits += self._copies(place, len(body), (node,), line, ctx, function)
        return edits

    def _copies(
        self,
        place: BlockPlace,
        at: int,
        neighbours: tuple[cst.CSTNode | None, ...],
        line: int,
        ctx: Context,
        function: cst.FunctionDef,
    ) -> list[Edit]:
        """The plain then the renamed copies inserted at index ``at`` of the block."""
        if at == place.index:
            where = f"before line {line}"
        elif isinstance(place.block.body[-1], cst.SimpleStatementLine):
            where = f"after line {line}"
        else:
            where = f"after the block at line {line}"
        statements = function_statements(function, ctx)
        seen = {_text(stmt) for stmt in neighbours if stmt is not None}  # type: ignore[arg-type]
        edits: list[Edit] = []
        others = [s for s in statements if all(s is not n for n in neighbours)]
        for stmt in _nearest(others, line, ctx):
            text = _text(stmt)
            if text in seen:
                continue
            seen.add(text)
            summary = f"insert a copy of `{snippet(stmt, 30)}` {where}"
            edits.append(self._insert(place, at, bare(stmt), summary))
            if len(edits) == self.limit:
                break
        seen |= {_text(stmt) for stmt in statements}
        renamed = 0
        for copy in self._renamed(statements, line, ctx, function):
            text = _text(copy)
            if renamed == self.renamed_limit:
                break
            if text in seen:
                continue
            seen.add(text)
            renamed += 1
            summary = f"insert `{snippet(copy, 30)}` {where}"
            edits.append(self._insert(place, at, bare(copy), summary))
        return edits

    @staticmethod
    def _insert(place: BlockPlace, at: int, statement: cst.BaseStatement, summary: str) -> Edit:
        return Edit(insert_statement(place.block, at, statement), summary, target=place.block)

    @staticmethod
    def _renamed(
        statements: Sequence[cst.SimpleStatementLine],
        line: int,
        ctx: Context,
        function: cst.FunctionDef,
    ) -> Iterator[cst.BaseStatement]:
        """Copies whose subject is renamed to a name an enclosing ``while`` loop tests."""
        wanted = while_names(ctx, function)[:2]
        ranked = []
        for stmt in statements if wanted else ():
            old = subject(stmt, function, ctx)
            for new in wanted:
                if old is not None and new != old:
                    ranked.append((abs(ctx.line(stmt) - line), ctx.line(stmt), stmt, old, new))
        ranked.sort(key=lambda item: item[:2])
        for *_, stmt, old, new in ranked:
            yield rename(stmt, old, new, ctx)


_KINDS = (cst.Assign, cst.AugAssign, cst.AnnAssign, cst.Expr, cst.Return)


class ReplaceStatement(SiteOperator):
    """Replace a statement by an adapted copy of a similar one of the function (GenProg, SimFix).

    Each one-statement line of a function (an assignment, an expression such as a call, a
    ``return``) is a site. Its variants are copies of the function's other lines of the same
    kind (``=`` and ``+=`` alike), nearest first, at most four. A copy's subject (the variable
    it assigns, or the first one of an expression statement) is renamed to the replaced
    statement's own: ``x = g(b)`` in place of ``x = f(a)``, or of ``y = g(b)`` renamed;
    ``out.append(b)`` in place of ``out.add(a)``; a ``return`` takes another one's value. The
    replaced line keeps its comments.
    """

    name = "replace-statement"
    coarse = True
    description = "Replace a statement by a copy of a similar statement of the same function."
    node_types: ClassVar = (cst.SimpleStatementLine,)
    limit: ClassVar[int] = 4

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """Up to four adapted copies of similar statements in place of this one."""
        assert isinstance(node, cst.SimpleStatementLine)
        place = block_place(node, ctx)
        function = ctx.function_node
        if place is None or place.index < place.first or function is None:
            return []
        if len(node.body) != 1 or not isinstance(node.body[0], _KINDS):
            return []
        seen = {_text(node)}
        edits = []
        for stmt in _nearest(function_statements(function, ctx), ctx.line(), ctx):
            copy = self._adapted(node, stmt, ctx, function)
            if copy is None or _text(copy) in seen:
                continue
            seen.add(_text(copy))
            new = copy.with_changes(
                leading_lines=node.leading_lines, trailing_whitespace=node.trailing_whitespace
            )
            summary = f"replace line {ctx.line()} by `{snippet(copy, 30)}`"
            edits.append(Edit(new, summary))
            if len(edits) == self.limit:
                break
        return edits

    @staticmethod
    def _adapted(
        node: cst.SimpleStatementLine,
        other: cst.SimpleStatementLine,
        ctx: Context,
        function: cst.FunctionDef,
    ) -> cst.SimpleStatementLine | None:
        """``other`` made to fit in place of ``node``, or None when it is not alike."""
        if other is node or len(other.body) != 1:
            return None
        small, kind = other.body[0], type(node.body[0])
        if type(small) is not kind and not {type(small), kind} <= {cst.Assign, cst.AugAssign}:
            return None
        if kind is cst.Return:
            return None if small.value is None else bare(other)  # type: ignore[attr-defined]
        old, new = subject(other, function, ctx), subject(node, function, ctx)
        if old is None or new is None:
            return None
        copy = other if old == new else rename(other, old, new, ctx)
        return cst.ensure_type(bare(copy), cst.SimpleStatementLine)
