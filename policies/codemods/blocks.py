"""Statements in their blocks: where a statement sits, how to insert, remove or copy one.

Also what a function's own code holds (statements, conditions, returns) and the names a
statement uses, which the statement and condition operators copy, rename and recombine.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import libcst as cst

from policies.codemods.analysis import Context, is_docstring
from policies.codemods.nodes import STRING_NODES
from policies.codemods.scope import scope_bindings


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


class _CommentFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def visit_Comment(self, node: cst.Comment) -> None:
        self.found = True


def has_comment_inside(node: cst.CSTNode) -> bool:
    """Whether ``node`` holds a comment (those on the lines above a statement left out)."""
    if isinstance(node, cst.BaseStatement):
        node = node.with_changes(leading_lines=())
    finder = _CommentFinder()
    node.visit(finder)
    return finder.found


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


def function_returns(function: cst.FunctionDef, ctx: Context) -> list[cst.Return]:
    """The ``return`` statements of ``function``'s own code, in source order."""

    def compute() -> list[cst.Return]:
        collector = _ReturnCollector(function)
        function.visit(collector)
        return collector.found

    return ctx.analysis.memo(("returns", function), compute)


class _ReturnCollector(cst.CSTVisitor):
    """The ``return`` statements of one function's own code (not of nested definitions)."""

    def __init__(self, root: cst.CSTNode) -> None:
        super().__init__()
        self.root = root
        self.found: list[cst.Return] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return node is self.root

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Return(self, node: cst.Return) -> None:
        self.found.append(node)


# --- names in statements ---------------------------------------------------------------------


class _NameCollector(cst.CSTVisitor):
    """The variable names a node reads or writes, in order (not attribute names or keywords)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._skipped: set[int] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._skipped.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._skipped.add(id(node.keyword))

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self._skipped:
            self.found.append(node.value)


def names_in(node: cst.CSTNode) -> list[str]:
    """The variable names ``node`` uses, each once, in order of first use."""
    collector = _NameCollector()
    node.visit(collector)
    return list(dict.fromkeys(collector.found))


def local_names(function: cst.FunctionDef, ctx: Context) -> frozenset[str]:
    """The parameters and variables of ``function`` (``self`` and ``cls`` left out)."""

    def compute() -> frozenset[str]:
        return frozenset(
            binding.name
            for binding in scope_bindings(function, ctx)
            if binding.kind in ("param", "variable") and binding.name not in ("self", "cls")
        )

    return ctx.analysis.memo(("locals", function), compute)


class _Renamer(cst.CSTTransformer):
    """Replaces one variable name by another everywhere in a node, as `names_in` reads them."""

    def __init__(self, old: str, new: str) -> None:
        super().__init__()
        self.old, self.new = old, new

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        if updated_node.value == self.old:
            return updated_node.with_changes(value=self.new)
        return updated_node

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.Attribute:
        return updated_node.with_changes(attr=original_node.attr)

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        return updated_node.with_changes(keyword=original_node.keyword)


def rename(node: cst.BaseStatement, old: str, new: str, ctx: Context) -> cst.BaseStatement:
    """``node`` with every use of the variable ``old`` made a use of ``new`` (computed once)."""

    def compute() -> cst.BaseStatement:
        return cst.ensure_type(node.visit(_Renamer(old, new)), cst.BaseStatement)

    return ctx.analysis.memo(("rename", node, old, new), compute)


def assigned_name(statement: cst.BaseStatement) -> str | None:
    """The variable a one-statement line assigns (``x = ...``, ``x += ...``), or None."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        target: cst.BaseExpression | None = small.targets[0].target
    elif isinstance(small, cst.AugAssign | cst.AnnAssign):
        target = small.target
    else:
        target = None
    return target.value if isinstance(target, cst.Name) else None


def subject(statement: cst.BaseStatement, function: cst.FunctionDef, ctx: Context) -> str | None:
    """The variable a one-statement line works on, or None.

    The variable it assigns (``x = ...``, ``x += ...``), or for an expression statement
    its first variable (``xs`` of ``xs.append(v)``); a parameter or variable of ``function``.
    """
    name = assigned_name(statement)
    if name is None and isinstance(statement, cst.SimpleStatementLine):
        small = statement.body[0] if len(statement.body) == 1 else None
        if isinstance(small, cst.Expr):
            name = next(iter(names_in(small)), None)
    return name if name in local_names(function, ctx) else None


def while_names(ctx: Context, function: cst.FunctionDef) -> list[str]:
    """The local names the ``while`` loops around the context's node test, innermost first.

    What a loop's missing statement most often updates: without it the loop never ends.
    """
    found: list[str] = []
    for ancestor in reversed(ctx.ancestors):
        if ancestor is function:
            break
        if isinstance(ancestor, cst.While):
            found += names_in(ancestor.test)
    names = local_names(function, ctx)
    return [name for name in dict.fromkeys(found) if name in names]


def loop_targets(ctx: Context) -> list[str]:
    """The plain names the loops around the context's node bind, innermost first.

    ``for`` statements of the enclosing function and ``for`` clauses of the enclosing
    comprehensions both count; tuple targets do not.
    """
    found = []
    for ancestor in reversed(ctx.ancestors):
        if isinstance(ancestor, cst.FunctionDef | cst.ClassDef):
            break
        if isinstance(ancestor, cst.For | cst.CompFor) and isinstance(ancestor.target, cst.Name):
            found.append(ancestor.target.value)
    return list(dict.fromkeys(found))
