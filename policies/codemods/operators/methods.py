"""Sibling methods of builtin types: ``s.upper()`` for ``s.lower()``, ``keys`` for ``items``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import libcst as cst
from libcst.metadata import ExpressionContext

from policies.codemods.analysis import Context
from policies.codemods.base import Edit, SiteOperator
from policies.codemods.nodes import dotted_name
from policies.codemods.operators.names import on_module

# Methods of str, list, dict and set grouped by what they take and give, so that each may
# stand for another of its family and still run. Within a family, nearer is likelier: the
# opposite of a method sits next to it.
FAMILIES: tuple[tuple[str, ...], ...] = (
    ("lower", "upper", "swapcase", "casefold", "capitalize", "title"),
    ("strip", "lstrip", "rstrip"),
    ("islower", "isupper", "isalpha", "isdigit", "isalnum", "isspace", "isnumeric", "isdecimal"),
    ("startswith", "endswith"),
    ("find", "rfind", "index", "rindex"),
    ("split", "rsplit"),
    ("partition", "rpartition"),
    ("ljust", "rjust", "center"),
    ("removeprefix", "removesuffix"),
    ("append", "extend"),
    ("keys", "values", "items"),
    ("union", "intersection", "difference", "symmetric_difference"),
    ("issubset", "issuperset", "isdisjoint"),
)
_FAMILY_OF = {name: family for family in FAMILIES for name in family}
_SHORT = 30  # the longest snippet in a summary


def siblings(method: str, limit: int) -> list[str]:
    """The other methods of ``method``'s family, nearest first (then in family order)."""
    family = _FAMILY_OF.get(method, ())
    if not family:
        return []
    here = family.index(method)
    others = sorted((abs(i - here), i, name) for i, name in enumerate(family) if i != here)
    return [name for *_, name in others[:limit]]


class ReplaceMethod(SiteOperator):
    """Call a sibling method of a builtin type: ``s.upper()`` for ``s.lower()``.

    PAR's method replacer and TBar's mutate-method-invocation pattern (the "function misuse"
    bugs of the literature) for Python's builtin types, whose receiver is rarely known before
    run time: a method is replaced by another of its family (`FAMILIES`: the same arguments,
    the same kind of result), nearest first, at most four. Sites are attribute reads of a
    family's method (called, or passed on as ``key=str.lower``) on anything but an imported
    module (``os.path.split`` is not ``str.split``).
    """

    name = "replace-method"
    description = "Call a sibling method of a builtin type, such as s.upper() for s.lower()."
    node_types: ClassVar = (cst.Attribute,)
    limit: ClassVar[int] = 4

    def edits(self, node: cst.CSTNode, ctx: Context) -> Sequence[Edit]:
        """The method's siblings, nearest first."""
        assert isinstance(node, cst.Attribute)
        method = node.attr.value
        if method not in _FAMILY_OF or ctx.expression_context() is not ExpressionContext.LOAD:
            return []
        if on_module(node.value, ctx):
            return []
        base = dotted_name(node.value)
        shown = f"{base}." if base and len(base) <= _SHORT else "."
        return [
            Edit(
                node.with_changes(attr=node.attr.with_changes(value=other)),
                f"call {shown}{other} instead of {shown}{method}",
            )
            for other in siblings(method, self.limit)
        ]
