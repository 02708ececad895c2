"""Small LibCST expression builders and queries shared by the operators.

Precedence-aware parentheses (what an expression needs to take another's place), negation,
integer and float literals, ``± 1`` offsets, dotted names, and what an expression evidently
holds (an integer, a string, a sequence) by its shape and by what its names are seen to hold.
Statements in their blocks are in `policies.codemods.blocks`; names bound in scope in
`policies.codemods.scope`.
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal, InvalidOperation
from typing import Protocol

import libcst as cst

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


def required_precedence(old: cst.BaseExpression, parent: cst.CSTNode | None) -> int:
    """How tightly an expression in ``old``'s place under ``parent`` must bind (0: anything)."""
    match parent:
        case cst.BinaryOperation():
            level = binary_precedence(parent.operator)
            if isinstance(parent.operator, cst.Power):
                return level + 1 if old is parent.left else UNARY
            return level if old is parent.left else level + 1
        case cst.UnaryOperation(operator=cst.Not()):
            return 4
        case cst.UnaryOperation():
            return UNARY
        case cst.Comparison() | cst.ComparisonTarget():
            return 6
        case cst.BooleanOperation():
            return 4 if isinstance(parent.operator, cst.And) else 3
        case cst.Attribute() | cst.Subscript():
            return ATOM if old is parent.value else 0
        case cst.Call():
            return ATOM if old is parent.func else 0
        case cst.Await():
            return ATOM
        case cst.IfExp():
            return 1 if old is parent.orelse else 2
    return 0


def in_place_of(
    new: cst.BaseExpression, old: cst.BaseExpression, parent: cst.CSTNode | None
) -> cst.BaseExpression:
    """``new`` ready to take ``old``'s place: ``old``'s parentheses, or new ones if needed."""
    return parenthesize(with_outer_parens(new, old), required_precedence(old, parent))


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
    if expr.lpar:  # ``(m - n)`` + 1 is ``(m - n + 1)``
        inner = add_offset(expr.with_changes(lpar=(), rpar=()), delta)
        return inner.with_changes(lpar=expr.lpar, rpar=expr.rpar)
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


def dotted_name(expr: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a name or a chain of attributes on a name; None for any other code.

    Summaries name a callee only this way, never by a fragment such as ``{...}.get``.
    """
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        base = dotted_name(expr.value)
        return None if base is None else f"{base}.{expr.attr.value}"
    return None


def names_in(node: cst.CSTNode) -> set[str]:
    """Every name used in ``node``."""
    found: set[str] = set()

    class Names(cst.CSTVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            found.add(name.value)

    node.visit(Names())
    return found


# --- what an expression holds ----------------------------------------------------------------

INT_CALLS = frozenset({"len", "int", "ord", "hash"})
INT_METHODS = frozenset({"count", "index", "find", "rfind", "bit_length"})
STRING_CALLS = frozenset({"str", "chr", "bin", "hex", "oct", "repr", "input", "format"})
STRING_METHODS = frozenset(
    {"lower", "upper", "strip", "lstrip", "rstrip", "replace", "join", "format", "capitalize"}
    | {"title", "swapcase", "casefold", "zfill", "center", "ljust", "rjust"}
)
LIST_CALLS = frozenset({"sorted", "list", "tuple"})
LIST_METHODS = frozenset({"split", "rsplit", "splitlines"})
_INTEGRAL = (cst.Subtract, cst.FloorDivide, cst.Modulo, cst.Power, cst.LeftShift, cst.RightShift)


class NameKinds(Protocol):
    """Names known to hold integers, sequences and strings (see `policies.codemods.scope`)."""

    ints: Collection[str]
    sequences: Collection[str]
    strings: Collection[str]


def expression_kind(expr: cst.BaseExpression, names: NameKinds) -> str | None:
    """What ``expr`` evidently holds: ``"int"``, ``"str"``, ``"seq"`` (list, tuple, bytes) or None.

    Literals, displays, well-known builtins and methods, and names by ``names``; arithmetic
    with one integer operand and one unknown is taken as integer.
    """
    match expr:
        case cst.Integer():
            return "int"
        case cst.SimpleString():
            return "seq" if "b" in expr.prefix.lower() else "str"
        case cst.ConcatenatedString() | cst.FormattedString():
            return "str"
        case cst.List() | cst.Tuple() | cst.ListComp():
            return "seq"
        case cst.Name():
            return _name_kind(expr.value, names)
        case cst.Call():
            return _call_kind(expr)
        case cst.Subscript() if all(isinstance(e.slice, cst.Slice) for e in expr.slice):
            kind = expression_kind(expr.value, names)
            return kind if kind in ("str", "seq") else None
        case cst.UnaryOperation(operator=cst.Minus() | cst.Plus() | cst.BitInvert()):
            return "int" if expression_kind(expr.expression, names) == "int" else None
        case cst.BinaryOperation():
            return _binary_kind(expr, names)
    return None


def _name_kind(name: str, names: NameKinds) -> str | None:
    if name in names.ints:
        return None if name in names.sequences else "int"
    if name in names.strings:
        return "str"
    return "seq" if name in names.sequences else None


def _call_kind(call: cst.Call) -> str | None:
    func = call.func
    if isinstance(func, cst.Name):
        name = func.value
        if name in INT_CALLS or (name == "round" and len(call.args) == 1):
            return "int"
        return "str" if name in STRING_CALLS else "seq" if name in LIST_CALLS else None
    if isinstance(func, cst.Attribute):
        method = func.attr.value
        if method in INT_METHODS:
            return "int"
        return "str" if method in STRING_METHODS else "seq" if method in LIST_METHODS else None
    return None


def _binary_kind(expr: cst.BinaryOperation, names: NameKinds) -> str | None:
    left, right = expression_kind(expr.left, names), expression_kind(expr.right, names)
    kinds = {left, right}
    match expr.operator:
        case cst.Add():
            if kinds & {"str", "seq"}:
                return "str" if "str" in kinds else "seq"
        case cst.Multiply():
            if kinds in ({"str", "int"}, {"seq", "int"}):
                return (kinds - {"int"}).pop()
            return "int" if kinds == {"int"} else None
        case cst.Modulo() if left == "str":
            return "str"
        case cst.Divide():
            return None
        case _ if not isinstance(expr.operator, (*_INTEGRAL, cst.BitAnd, cst.BitOr, cst.BitXor)):
            return None
    return "int" if "int" in kinds and kinds <= {"int", None} else None
