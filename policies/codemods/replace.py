"""Replace exactly one node of a tree, keeping every other node (and byte) as it was."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import libcst as cst

from policies.errors import MutationError


def replace_child(parent: cst.CSTNode, old: cst.CSTNode, new: cst.CSTNode) -> cst.CSTNode:
    """``parent`` with its direct child ``old`` (by identity) replaced by ``new``."""
    for field in dataclasses.fields(parent):
        value = getattr(parent, field.name)
        if value is old:
            return parent.with_changes(**{field.name: new})
        if isinstance(value, list | tuple) and any(item is old for item in value):
            items = [new if item is old else item for item in value]
            return parent.with_changes(**{field.name: type(value)(items)})
    raise MutationError(
        f"internal error: {type(old).__name__} is not a child of {type(parent).__name__}"
    )


def replace_in_chain(
    chain: Sequence[cst.CSTNode], target: cst.CSTNode, replacement: cst.CSTNode
) -> cst.Module:
    """The module (``chain[0]``) with ``target``, a node of ``chain``, replaced.

    Only the nodes on the chain from the module down to ``target`` are rebuilt, so the cost
    does not grow with the number of sites, and no other node changes.
    """
    index = next((i for i, node in enumerate(chain) if node is target), None)
    if index is None:
        raise MutationError("internal error: the edit's target is not on the site's path")
    new = replacement
    for depth in range(index - 1, -1, -1):
        new = replace_child(chain[depth], chain[depth + 1], new)
    if not isinstance(new, cst.Module):
        raise MutationError("internal error: an edit replaced the whole module")
    return new
