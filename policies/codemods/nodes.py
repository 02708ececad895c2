"""Small LibCST builders and queries shared by the operators.

Expressions: precedence-aware parentheses, negation, integer literals and ``± 1`` offsets.
Statements: the statements of a function's blocks, deleting or inserting one while keeping
the comments around it. Scopes: the names a function or module binds, in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import libcst as cst

from policies.codemods.base import Context, is_docstring

ATOM = 20
"""Precedence of atoms: names, literals, calls, subscripts and parenthesized expressions."""

_BINARY_PRECEDENCE: dict[type[cst.BaseBinaryOp], int] = {
    cst.BitOr: 6,
    cst.BitXor: 7,
    cst.BitAnd: 8,
    cst.LeftShift: 9,
    cst.RightShift: 9,
    cst.Add: 10,
    cst.Subtract: 10,
    cst.Multiply: 11,
    cst.Divide: 11,
    cst.FloorDivide: 11,
    cst.Modulo: 11,
    cst.MatrixMultiply: 11,
    cst.Power: 13,
}
UNARY = 12
"""Precedence of ``-x``, ``+x`` and ``~x``."""

LITERAL_NAMES = frozenset({"True", "False", "None"})
STRING_NODES = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)
DISPLAY_NODES = (
    cst.List,
    cst.Tuple,
    cst.Set,
    cst.Dict,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
    cst.GeneratorExp,
)
BLOCK_STATEMENTS = (cst.For, cst.While, cst.With, cst.If)
"""Compound statements with one indented body that a statement can move into or out of."""


def precedence(expr: cst.BaseExpression) -> int:
    """How tightly ``expr`` binds, higher is tighter (Python's operator precedence table)."""
    if getattr(expr, "lpar", ()):
        return ATOM
    match expr:
        case cst.Tuple():
            return -2
        case cst.NamedExpr() | cst.Yield():
            return -1
        case cst.Lambda():
            return 0
        case cst.IfExp():
            return 1
        case cst.BooleanOperation(operator=cst.Or()):
            return 2
        case cst.BooleanOperation():
            return 3
        case cst.UnaryOperation(operator=cst.Not()):
            return 4
        case cst.Comparison():
            return 5
        case cst.BinaryOperation():
            return _BINARY_PRECEDENCE[type(expr.operator)]
        case cst.UnaryOperation():
            return UNARY
        case cst.Await():
            return 14
    return ATOM


def binary_precedence(operator: cst.BaseBinaryOp) -> int:
    """The precedence of a binary operator."""
    return _BINARY_PRECEDENCE[type(operator)]


def parenthesize(expr: cst.BaseExpression, minimum: int = ATOM) -> cst.BaseExpression:
    """``expr``, in parentheses when it binds less tightly than ``minimum``."""
    if precedence(expr) >= minimum:
        return expr
    return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def with_outer_parens(expr: cst.BaseExpression, like: cst.BaseExpression) -> cst.BaseExpression:
    """``expr`` taking the place of ``like``: it keeps ``like``'s parentheses if it has none."""
    if like.lpar and not expr.lpar:
        return expr.with_changes(lpar=like.lpar, rpar=like.rpar)
    return expr


def negate(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``not (expr)``, or the operand when ``expr`` already is a ``not``."""
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
        return with_outer_parens(expr.expression, expr)
    return cst.UnaryOperation(operator=cst.Not(), expression=parenthesize(expr))


def is_literal_name(expr: cst.CSTNode, *values: str) -> bool:
    """Whether ``expr`` is the name ``True``, ``False`` or ``None`` (or one of ``values``)."""
    return isinstance(expr, cst.Name) and expr.value in (values or LITERAL_NAMES)


def int_value(expr: cst.BaseExpression) -> int | None:
    """The value of an integer literal, ``-`` literal included; None for anything else."""
    if isinstance(expr, cst.Integer):
        value = expr.evaluated_value
        return value if isinstance(value, int) else None
    if (
        isinstance(expr, cst.UnaryOperation)
        and isinstance(expr.operator, cst.Minus)
        and isinstance(expr.expression, cst.Integer)
        and not expr.expression.lpar
    ):
        inner = int_value(expr.expression)
        return None if inner is None else -inner
    return None


def format_int(value: int, like: str = "") -> str:
    """A non-negative integer written the way ``like`` was (hex, octal, binary, ``_`` groups)."""
    prefix = like[:2].lower()
    if prefix == "0x":
        digits = format(value, "X" if like[2:] != like[2:].lower() else "x")
        return like[:2] + digits
    if prefix in ("0o", "0b"):
        return like[:2] + format(value, prefix[1])
    if "_" in like:
        return f"{value:_}"
    return str(value)


def make_int(value: int, like: str = "") -> cst.BaseExpression:
    """An integer literal for ``value``; a negative one is ``-`` applied to a literal."""
    literal = cst.Integer(format_int(abs(value), like))
    if value < 0:
        return cst.UnaryOperation(operator=cst.Minus(), expression=literal)
    return literal


def float_value(expr: cst.BaseExpression) -> Decimal | None:
    """The exact decimal value of a float literal (``-`` literal included), or None."""
    if isinstance(expr, cst.Float):
        try:
            return Decimal(expr.value.replace("_", ""))
        except InvalidOperation:  # pragma: no cover - the parser accepted it
            return None
    if (
        isinstance(expr, cst.UnaryOperation)
        and isinstance(expr.operator, cst.Minus)
        and isinstance(expr.expression, cst.Float)
        and not expr.expression.lpar
    ):
        inner = float_value(expr.expression)
        return None if inner is None else -inner
    return None


def make_float(value: Decimal, like: str = "") -> cst.BaseExpression:
    """A float literal for ``value``; in exponent form when ``like`` was and it is far from 1."""
    magnitude = abs(value).normalize()
    if "e" in like.lower() and magnitude and not -4 < magnitude.adjusted() < 6:
        text = format(magnitude, "e")
        mantissa, _, exponent = text.partition("e")
        text = f"{mantissa}e{int(exponent)}"
    else:
        text = format(magnitude, "f")
        if "." not in text:
            text += ".0"
    literal = cst.Float(text)
    if value < 0:
        return cst.UnaryOperation(operator=cst.Minus(), expression=literal)
    return literal


def add_offset(expr: cst.BaseExpression, delta: int) -> cst.BaseExpression:
    """``expr + delta``, folded into a literal or an existing ``± k`` where there is one.

    ``n`` + 1 is ``n + 1``; ``n - 1`` + 1 is ``n``; ``3`` - 1 is ``2``; ``i + 1`` - 2 is
    ``i - 1``.
    """
    value = int_value(expr)
    if value is not None:
        like = expr.value if isinstance(expr, cst.Integer) else ""
        return with_outer_parens(make_int(value + delta, like), expr)
    if (
        isinstance(expr, cst.BinaryOperation)
        and isinstance(expr.operator, cst.Add | cst.Subtract)
        and isinstance(expr.right, cst.Integer)
        and not expr.right.lpar
    ):
        sign = 1 if isinstance(expr.operator, cst.Add) else -1
        offset = sign * int(expr.right.evaluated_value) + delta
        if offset == 0:
            return with_outer_parens(expr.left, expr)
        operator_type = cst.Add if offset > 0 else cst.Subtract
        operator = operator_type(
            whitespace_before=expr.operator.whitespace_before,
            whitespace_after=expr.operator.whitespace_after,
        )
        right = cst.Integer(format_int(abs(offset), expr.right.value))
        return expr.with_changes(operator=operator, right=right)
    operator = cst.Add() if delta > 0 else cst.Subtract()
    return cst.BinaryOperation(
        left=parenthesize(expr, 10), operator=operator, right=cst.Integer(str(abs(delta)))
    )


# --- statements ------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Binding:
    """A name bound in a scope.

    Attributes:
        name: The name.
        kind: ``"param"``, ``"variable"``, ``"function"``, ``"class"`` or ``"import"``.
        node: The node that binds it first.
    """

    name: str
    kind: str
    node: cst.CSTNode


def target_names(target: cst.BaseExpression) -> list[cst.Name]:
    """The names an assignment target binds (through tuples, lists and stars)."""
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, cst.Tuple | cst.List):
        return [name for element in target.elements for name in target_names(element.value)]
    if isinstance(target, cst.StarredElement):
        return target_names(target.value)
    return []


class _BindingCollector(cst.CSTVisitor):
    """Names bound by one scope's own code, in source order."""

    def __init__(self, root: cst.CSTNode) -> None:
        super().__init__()
        self.root = root
        self.found: list[Binding] = []

    def add(self, target: cst.BaseExpression, kind: str = "variable") -> None:
        self.found.extend(Binding(name.value, kind, name) for name in target_names(target))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        if node is self.root:
            return True
        self.found.append(Binding(node.name.value, "function", node))
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        if node is self.root:
            return True
        self.found.append(Binding(node.name.value, "class", node))
        return False

    def visit_Parameters(self, node: cst.Parameters) -> bool:
        return False

    def visit_Decorator(self, node: cst.Decorator) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ListComp(self, node: cst.ListComp) -> bool:
        return False

    def visit_SetComp(self, node: cst.SetComp) -> bool:
        return False

    def visit_DictComp(self, node: cst.DictComp) -> bool:
        return False

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
        return False

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            if alias.asname is not None:
                self.add(alias.asname.name, "import")  # type: ignore[arg-type]
            else:
                head = alias.name
                while isinstance(head, cst.Attribute):
                    head = head.value  # type: ignore[assignment]
                self.add(head, "import")
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                name = alias.asname.name if alias.asname is not None else alias.name
                self.add(name, "import")  # type: ignore[arg-type]
        return False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.add(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.add(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.add(node.target)

    def visit_For(self, node: cst.For) -> None:
        self.add(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self.add(node.asname.name)  # type: ignore[arg-type]

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self.add(node.name.name)  # type: ignore[arg-type]

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.add(node.target)


def parameters(function: cst.FunctionDef) -> list[cst.Param]:
    """A function's parameters in signature order, ``*args`` and ``**kwargs`` included."""
    params = function.params
    found = [*params.posonly_params, *params.params]
    if isinstance(params.star_arg, cst.Param):
        found.append(params.star_arg)
    found += params.kwonly_params
    if params.star_kwarg is not None:
        found.append(params.star_kwarg)
    return found


def scope_bindings(
    scope: cst.Module | cst.FunctionDef | cst.ClassDef, ctx: Context
) -> list[Binding]:
    """The names ``scope`` binds, each once (its first binding), in order: parameters first."""

    def compute() -> list[Binding]:
        found: list[Binding] = []
        if isinstance(scope, cst.FunctionDef):
            found += [Binding(param.name.value, "param", param) for param in parameters(scope)]
        collector = _BindingCollector(scope)
        scope.visit(collector)
        seen: set[str] = set()
        unique = []
        for binding in [*found, *collector.found]:
            if binding.name not in seen:
                seen.add(binding.name)
                unique.append(binding)
        return unique

    return ctx.analysis.memo(("bindings", scope), compute)


def visible_bindings(ctx: Context) -> list[Binding]:
    """The names visible at the context's node, innermost scope first, each once.

    The function's own names, then those of enclosing functions, then the module's (a class
    body's names are visible only directly in that body, as in Python).
    """
    scopes: list[cst.Module | cst.FunctionDef | cst.ClassDef] = []
    for depth, scope in enumerate(reversed(ctx.scopes)):
        if isinstance(scope, cst.FunctionDef) or depth == 0:
            scopes.append(scope)
    scopes.append(ctx.module)
    seen: set[str] = set()
    found = []
    for scope in scopes:
        for binding in scope_bindings(scope, ctx):
            if binding.name not in seen:
                seen.add(binding.name)
                found.append(binding)
    return found
