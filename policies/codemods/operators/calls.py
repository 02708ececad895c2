"""Calls and operands: swapped arguments, operands or elements; min/max, any/all; rounding."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

import libcst as cst

from policies.codemods.analysis import Context, snippet
from policies.codemods.base import Edit, SiteOperator
from policies.codemods.nodes import (
    DISPLAY_NODES,
    STRING_NODES,
    binary_precedence,
    dotted_name,
    is_literal_name,
    parenthesize,
)
from policies.codemods.operators.names import on_module
from policies.codemods.scope import Usage, usage

_NON_COMMUTATIVE = (
    cst.Subtract,
    cst.Divide,
    cst.FloorDivide,
    cst.Modulo,
    cst.Power,
    cst.LeftShift,
    cst.RightShift,
    cst.MatrixMultiply,
)
_MEMBERSHIP = (cst.In, cst.NotIn)
_WHOLE = 10_000
_SHORT = 30  # the longest snippet in a summary
_PART = 20  # the longest snippet of one of two parts of a summary
_SYMMETRIC = frozenset({"min", "max"})  # swapping their arguments changes nothing


class SwapArgs(SiteOperator):
    """Swap two adjacent arguments, operands or elements (PAR's parameter-order fix).

    A call with two or more leading positional arguments is a site; each adjacent pair
    (first and second, second and third...) is a variant, unless both are the same code
    (``min`` and ``max`` calls are left alone: their argument order does not matter). Only
    the argument values move: commas, spacing and comments stay. A non-commutative binary
    operation is a site with one variant, its operands swapped (parenthesized where
    precedence needs it): ``-``, ``/``, ``//``, ``%``, ``**``, ``<<``, ``>>``, ``@``, and ``+``
    when an operand is a string or a sequence (concatenation is not commutative); ``%``
    formatting of a string is left alone, and comparisons are `compare-swap`'s, except a lone
    membership test between values that may be strings (``x in s`` for ``s in x``: which
    string holds the other). A tuple or list display of two to four elements (``return a,
    b``, ``for i, x in ...``) is a site too, each adjacent pair of elements a variant; not a
    tuple of types (``except (A, B)``).
    """

    name = "swap-args"
    description = "Swap adjacent arguments of a call, operands of a - b or x in s, or two elements."
    node_types: ClassVar = (cst.Call, cst.BinaryOperation, cst.Comparison, cst.Tuple, cst.List)
    display_limit: ClassVar[int] = 4

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """Each adjacent pair of arguments or elements swapped, or the operands swapped."""
        if isinstance(node, cst.BinaryOperation):
            return self._operands(node, ctx)
        if isinstance(node, cst.Comparison):
            return _membership(node, ctx)
        if isinstance(node, cst.Tuple | cst.List):
            if not 2 <= len(node.elements) <= self.display_limit or _types(node):
                return []
            return _pairs(node, "elements", lambda a, b: f"swap the elements {a} and {b}")
        assert isinstance(node, cst.Call)
        if isinstance(node.func, cst.Name) and node.func.value in _SYMMETRIC:
            return []
        name = dotted_name(node.func)
        of = f"{name}(...)" if name and len(name) <= _SHORT else "the call"
        return _pairs(node, "args", lambda a, b: f"swap the arguments {a} and {b} of {of}")

    @staticmethod
    def _operands(node: cst.BinaryOperation, ctx: Context) -> list[Edit]:
        if isinstance(node.operator, cst.Add):
            names = usage(ctx)
            if not any(_is_sequence(operand, names) for operand in (node.left, node.right)):
                return []
        elif not isinstance(node.operator, _NON_COMMUTATIVE):
            return []
        if isinstance(node.operator, cst.Modulo) and isinstance(node.left, STRING_NODES):
            return []
        if snippet(node.left, _WHOLE) == snippet(node.right, _WHOLE):
            return []
        level = binary_precedence(node.operator)
        if isinstance(node.operator, cst.Power):  # right-associative; ``a ** -b`` is fine
            left, right = parenthesize(node.right, level + 1), parenthesize(node.left, level - 1)
        else:
            left, right = parenthesize(node.right, level), parenthesize(node.left, level + 1)
        summary = f"swap the operands of {snippet(node, _SHORT)}"
        return [Edit(node.with_changes(left=left, right=right), summary)]


def _membership(node: cst.Comparison, ctx: Context) -> list[Edit]:
    """``s in x`` for ``x in s`` when both may be strings.

    Not a collection, a number, or a call that gives anything but a string (``range(n)``).
    """
    if len(node.comparisons) != 1 or not isinstance(node.comparisons[0].operator, _MEMBERSHIP):
        return []
    left, right = node.left, node.comparisons[0].comparator
    names = usage(ctx)
    for operand in (left, right):
        if isinstance(operand, (*DISPLAY_NODES, cst.Integer, cst.Float)):
            return []
        kind = names.kind(operand)
        if kind not in ("str", None) or (isinstance(operand, cst.Call) and kind != "str"):
            return []
    if snippet(left, _WHOLE) == snippet(right, _WHOLE):
        return []
    # Operands of a comparison bind more tightly than it, or bring their own parentheses.
    target = node.comparisons[0].with_changes(comparator=left)
    new = node.with_changes(left=right, comparisons=[target])
    return [Edit(new, f"swap the operands of {snippet(node, _SHORT)}")]


_TYPES = frozenset({"int", "float", "str", "bytes", "bool", "list", "tuple", "dict", "set"})


def _types(node: cst.Tuple | cst.List) -> bool:
    """A tuple of types (``except (A, B)``, ``isinstance(x, (int, float))``): order is moot."""
    return all(
        isinstance(e.value, cst.Name) and (e.value.value in _TYPES or e.value.value[:1].isupper())
        for e in node.elements
    )


def _is_sequence(expr: cst.BaseExpression, names: Usage) -> bool:
    """A string or sequence: by evidence, or any slice ``x[a:b]``."""
    if names.kind(expr) in ("str", "seq"):
        return True
    return isinstance(expr, cst.Subscript) and any(
        isinstance(element.slice, cst.Slice) for element in expr.slice
    )


def _pairs(
    node: cst.Call | cst.Tuple | cst.List, field: str, summary: Callable[[str, str], str]
) -> list[Edit]:
    """Each adjacent pair of leading plain items (arguments or elements) of ``node`` swapped."""
    items = list(getattr(node, field))
    count = next(
        (
            i
            for i, item in enumerate(items)
            if getattr(item, "keyword", None) is not None
            or getattr(item, "star", "")
            or isinstance(item, cst.StarredElement)
        ),
        len(items),
    )
    edits = []
    for i in range(count - 1):
        first, second = items[i], items[i + 1]
        if snippet(first.value, _WHOLE) == snippet(second.value, _WHOLE):
            continue
        new_items = [*items]
        new_items[i] = first.with_changes(value=second.value)
        new_items[i + 1] = second.with_changes(value=first.value)
        text = summary(snippet(first.value, _PART), snippet(second.value, _PART))
        edits.append(Edit(node.with_changes(**{field: new_items}), text))
    return edits


_OPPOSITE_NAMES = {"min": "max", "max": "min", "any": "all", "all": "any"}
_OPPOSITE_METHODS = {
    "min": "max",
    "max": "min",
    "argmin": "argmax",
    "argmax": "argmin",
    "amin": "amax",
    "amax": "amin",
    "nanmin": "nanmax",
    "nanmax": "nanmin",
    "nanargmin": "nanargmax",
    "nanargmax": "nanargmin",
    "minimum": "maximum",
    "maximum": "minimum",
}


def _renamed(func: cst.BaseExpression, names: dict[str, str], methods: dict[str, str]) -> list[str]:
    if isinstance(func, cst.Name) and func.value in names:
        return [names[func.value]]
    if isinstance(func, cst.Attribute) and func.attr.value in methods:
        return [methods[func.attr.value]]
    return []


def _callee(func: cst.BaseExpression) -> str:
    """How a summary names a called function: its dotted name, else the method's name."""
    name = dotted_name(func)
    if name is not None and len(name) <= _SHORT:
        return name
    return func.attr.value if isinstance(func, cst.Attribute) else "the function"


def _with_name(func: cst.BaseExpression, name: str) -> cst.BaseExpression:
    if isinstance(func, cst.Name):
        return func.with_changes(value=name)
    assert isinstance(func, cst.Attribute)
    return func.with_changes(attr=func.attr.with_changes(value=name))


class MinMaxSwap(SiteOperator):
    """Call ``max`` instead of ``min``, ``all`` instead of ``any``; sort the other way.

    Calls of the builtins ``min``, ``max``, ``any``, ``all``, and of methods or module
    functions named ``min``/``max``, ``argmin``/``argmax``, ``amin``/``amax``,
    ``nanmin``/``nanmax``, ``minimum``/``maximum`` (NumPy, PyTorch), are sites with one
    variant: the opposite function. So are calls of ``sorted`` and of a ``.sort`` method (not
    a module's): ``reverse=True`` added, or a ``reverse=True`` dropped.
    """

    name = "minmax-swap"
    description = "Call max instead of min or all instead of any, or sort the other way round."
    node_types: ClassVar = (cst.Call,)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The opposite function of a min/max or any/all call; the opposite order of a sort."""
        assert isinstance(node, cst.Call)
        if _is_sort(node.func, ctx):
            edit = _reversed_sort(node)
            return [edit] if edit else []
        old = _callee(node.func)
        return [
            Edit(
                node.with_changes(func=_with_name(node.func, name)), f"call {name} instead of {old}"
            )
            for name in _renamed(node.func, _OPPOSITE_NAMES, _OPPOSITE_METHODS)
        ]


def _is_sort(func: cst.BaseExpression, ctx: Context) -> bool:
    """``sorted`` or a ``.sort`` method on anything but a module."""
    if isinstance(func, cst.Name):
        return func.value == "sorted"
    return (
        isinstance(func, cst.Attribute)
        and func.attr.value == "sort"
        and not on_module(func.value, ctx)
    )


def _reversed_sort(node: cst.Call) -> Edit | None:
    """The sort with ``reverse=True`` added, or without its ``reverse=True``."""
    args = list(node.args)
    where = [i for i, arg in enumerate(args) if arg.keyword and arg.keyword.value == "reverse"]
    if where:
        i = where[0]
        if not is_literal_name(args[i].value, "True"):
            return None
        if i == len(args) - 1 and i > 0:  # the previous argument takes its comma and layout
            args[i - 1] = args[i - 1].with_changes(comma=args[i].comma)
        del args[i]
        return Edit(node.with_changes(args=args), "sort in ascending order")
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    if args:
        args[-1] = args[-1].with_changes(comma=comma)
    reverse = cst.Arg(
        cst.Name("True"),
        keyword=cst.Name("reverse"),
        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
    )
    return Edit(node.with_changes(args=[*args, reverse]), "sort in descending order")


class BoundaryBuiltin(SiteOperator):
    """Round the other way: ``floor`` for ``ceil``, ``int`` for ``round``, and back.

    Calls of ``floor``/``ceil`` (by name or as ``math.floor``, ``np.ceil``...) get the other
    one; one-argument calls of ``round`` get ``int`` and one-argument calls of ``int`` get
    ``round`` (truncation against rounding to nearest).
    """

    name = "boundary-builtin"
    description = "Swap floor and ceil, or round and int, in a call."
    node_types: ClassVar = (cst.Call,)

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The other rounding function of a floor/ceil or round/int call."""
        assert isinstance(node, cst.Call)
        names = {"floor": "ceil", "ceil": "floor"}
        if len(node.args) == 1 and node.args[0].keyword is None and not node.args[0].star:
            names |= {"round": "int", "int": "round"}
        old = _callee(node.func)
        return [
            Edit(
                node.with_changes(func=_with_name(node.func, name)), f"call {name} instead of {old}"
            )
            for name in _renamed(node.func, names, {"floor": "ceil", "ceil": "floor"})
        ]
