"""Statements in their blocks: where a statement sits, and how to insert, remove or copy one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import libcst as cst

from policies.codemods.analysis import Context, is_docstring
from policies.codemods.nodes import STRING_NODES


@dataclass(frozen=True)
class BlockPlace:
    """A statement of a function's code, directly in an indented block.

    Attributes:
        block: The block.
        index: The statement's index in ``block.body``.
        owner: The node whose body the block is (a function, loop, ``if``...).
        first: The index of the block's first statement that is not a docstring.
    """

    block: cst.IndentedBlock
    index: int
    owner: cst.CSTNode

    @property
    def first(self) -> int:
        """The index of the block's first statement that is not a docstring."""
        body = self.block.body
        return 1 if body and is_docstring(body[0], self.block, self.owner) else 0

    def with_body(self, body: Sequence[cst.BaseStatement]) -> cst.IndentedBlock:
        """The block with a new body."""
        return self.block.with_changes(body=tuple(body))


def block_place(node: cst.CSTNode, ctx: Context, up: int = 0) -> BlockPlace | None:
    """Where statement ``node`` sits, when it is directly in an indented block of a function.

    Args:
        node: The statement: the context's node, or its ancestor ``up`` levels up.
        ctx: The context of the site.
        up: How many levels above the context's node the statement is.
    """
    block, owner = ctx.ancestor(1 + up), ctx.ancestor(2 + up)
    if ctx.function_node is None or not isinstance(block, cst.IndentedBlock) or owner is None:
        return None
    index = next((i for i, stmt in enumerate(block.body) if stmt is node), None)
    if index is None:
        return None
    return BlockPlace(block, index, owner)


def is_trivial(statement: cst.BaseStatement) -> bool:
    """Whether a statement does nothing: ``pass``, ``...`` or a bare string."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    return all(
        isinstance(small, cst.Pass)
        or (isinstance(small, cst.Expr) and isinstance(small.value, (cst.Ellipsis, *STRING_NODES)))
        for small in statement.body
    )


def pass_line(leading_lines: Sequence[cst.EmptyLine] = ()) -> cst.SimpleStatementLine:
    """A ``pass`` statement line."""
    return cst.SimpleStatementLine(body=[cst.Pass()], leading_lines=leading_lines)


def has_comment(lines: Iterable[cst.EmptyLine]) -> bool:
    """Whether any of these lines holds a comment."""
    return any(line.comment is not None for line in lines)


def remove_statement(block: cst.IndentedBlock, index: int) -> cst.IndentedBlock:
    """``block`` without statement ``index``; its comments stay, an empty block gets ``pass``.

    The comment and blank lines above the removed statement move to the statement that now
    takes its place; after the last statement only the comments remain (in the block footer).
    """
    body = list(block.body)
    removed = body.pop(index)
    lines = tuple(removed.leading_lines)
    if not body:
        return block.with_changes(body=(pass_line(lines),))
    if index < len(body):
        after = body[index]
        body[index] = after.with_changes(leading_lines=(*lines, *after.leading_lines))
        return block.with_changes(body=tuple(body))
    comments = tuple(line for line in lines if line.comment is not None)
    return block.with_changes(body=tuple(body), footer=(*comments, *block.footer))


def insert_statement(
    block: cst.IndentedBlock, index: int, statement: cst.BaseStatement
) -> cst.IndentedBlock:
    """``block`` with ``statement`` inserted just above the code of statement ``index``.

    The comment and blank lines above statement ``index`` end up above the inserted one.
    """
    body = list(block.body)
    if index == len(body):
        body.append(statement)
        return block.with_changes(body=tuple(body))
    before = body[index]
    body[index : index + 1] = [
        statement.with_changes(leading_lines=before.leading_lines),
        before.with_changes(leading_lines=()),
    ]
    return block.with_changes(body=tuple(body))


def bare(statement: cst.BaseStatement) -> cst.BaseStatement:
    """A copy of ``statement`` without the comments and blank lines above it or after it."""
    if isinstance(statement, cst.SimpleStatementLine):
        return statement.with_changes(
            leading_lines=(), trailing_whitespace=cst.TrailingWhitespace()
        )
    return statement.with_changes(leading_lines=())


class _StatementCollector(cst.CSTVisitor):
    """Statement lines of one function's own code, in source order (not nested definitions)."""

    def __init__(self, root: cst.CSTNode) -> None:
        super().__init__()
        self.root = root
        self.found: list[cst.SimpleStatementLine] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return node is self.root

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
        self.found.append(node)
        return False


def function_statements(function: cst.FunctionDef, ctx: Context) -> list[cst.SimpleStatementLine]:
    """The statement lines of ``function``'s own code, in order, docstring and no-ops left out."""

    def compute() -> list[cst.SimpleStatementLine]:
        collector = _StatementCollector(function)
        function.visit(collector)
        body = function.body
        return [
            stmt
            for stmt in collector.found
            if not is_trivial(stmt)
            and not (isinstance(body, cst.IndentedBlock) and is_docstring(stmt, body, function))
        ]

    return ctx.analysis.memo(("statements", function), compute)


class _TestCollector(cst.CSTVisitor):
    """The tests of ``if``, ``elif`` and ``while`` statements in one function's own code."""

    def __init__(self, root: cst.CSTNode) -> None:
        super().__init__()
        self.root = root
        self.found: list[cst.BaseExpression] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return node is self.root

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_If(self, node: cst.If) -> None:
        self.found.append(node.test)

    def visit_While(self, node: cst.While) -> None:
        self.found.append(node.test)


def function_conditions(function: cst.FunctionDef, ctx: Context) -> list[cst.BaseExpression]:
    """The conditions tested in ``function``'s own code, in source order."""

    def compute() -> list[cst.BaseExpression]:
        collector = _TestCollector(function)
        function.visit(collector)
        return collector.found

    return ctx.analysis.memo(("conditions", function), compute)


# --- scopes ----------------------------------------------------------------------------------
