r"""Mutation operators: single edits of Python source that keep its formatting and comments.

>>> from policies.codemods import enumerate_mutations, apply_mutation
>>> source = "def clamp(x, limit):\n    return x if x < limit else limit\n"
>>> mutations = enumerate_mutations(source, "clamp.py", ["compare-swap"])
>>> mutations[0].summary
'use <= instead of < in clamp()'
>>> print(apply_mutation(source, mutations[0]), end="")
def clamp(x, limit):
    return x if x <= limit else limit
"""

from policies.codemods.base import Mutation, MutationError, Operator
from policies.codemods.catalogue import apply_mutation, catalogue, enumerate_mutations

__all__ = [
    "Mutation",
    "MutationError",
    "Operator",
    "apply_mutation",
    "catalogue",
    "enumerate_mutations",
]
