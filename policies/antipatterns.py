"""The anti-patterns of search-based repair: edits that pass tests by removing behaviour.

Tan et al. ("Anti-patterns in search-based program repair", FSE 2016) list
generic transformations that search-based repair tools use to make a failing
test pass without repairing anything: deleting a return or a raise, deleting
a condition or a loop, inserting an early exit (or moving one up, leaving
code unreachable), making a condition trivially true or false, replacing a
statement by ``pass``, deleting the update of a loop's counter; and, in the
same spirit, an edit after which a function no longer reads one of its own
variables or parameters (its value no longer matters). A change that
passes every test is a repair whatever its shape; a change that only passes
more tests is committed only when it shows none of these (docs/cycle.md).
The check compares the two sources' syntax, not the operator that made the
edit, so it holds for every operator, present and future.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator

EXITS = (ast.Return, ast.Raise)
JUMPS = (ast.Return, ast.Raise, ast.Break, ast.Continue)
LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.comprehension)


def anti_patterns(old: str, new: str) -> list[str]:
    """What `new` does, as an edit of `old`, that the anti-patterns forbid; [] when nothing.

    Both are the whole text of one file. A text that does not parse shows nothing
    (it cannot pass a test either).
    """
    try:
        old_tree, new_tree = ast.parse(old), ast.parse(new)
    except (SyntaxError, ValueError, RecursionError):
        return []
    before, after = _shape(old_tree), _shape(new_tree)
    found = []
    if after["exit"] < before["exit"]:
        found.append("deletes a return or raise")
    if after["condition"] < before["condition"]:
        found.append("deletes a condition")
    if after["loop"] < before["loop"]:
        found.append("removes a loop")
    if after["jump"] > before["jump"]:
        found.append("inserts an early exit")
    if after["trivial"] > before["trivial"]:
        found.append("makes a condition trivially true or false")
    if after["pass"] > before["pass"]:
        found.append("replaces a statement by pass")
    if after["counter"] < before["counter"]:
        found.append("deletes the update of a loop's counter")
    if after["dead"] > before["dead"]:
        found.append("leaves code unreachable after a jump")
    unread = _unread(_reads(old_tree), _reads(new_tree))
    if unread:
        found.append(f"no longer reads {', '.join(unread)}")
    return found


def _shape(tree: ast.Module) -> Counter[str]:
    """The counts the anti-patterns compare."""
    shape: Counter[str] = Counter()
    for node in ast.walk(tree):
        shape["exit"] += isinstance(node, EXITS)
        shape["jump"] += isinstance(node, JUMPS)
        shape["loop"] += isinstance(node, LOOPS)
        shape["pass"] += isinstance(node, ast.Pass)
        if isinstance(node, ast.If | ast.IfExp | ast.While | ast.Assert):
            shape["condition"] += 1
            shape["trivial"] += _is_constant(node.test)
        elif isinstance(node, ast.comprehension):
            shape["condition"] += len(node.ifs)
            shape["trivial"] += sum(_is_constant(test) for test in node.ifs)
        elif isinstance(node, ast.BoolOp):
            shape["trivial"] += sum(_is_constant(value) for value in node.values)
        if isinstance(node, ast.While):
            shape["counter"] += _counter_updates(node)
        for body in _blocks(node):
            shape["dead"] += _unreachable(body)
    return shape


def _blocks(node: ast.AST) -> Iterator[list[ast.stmt]]:
    """The statement lists directly under `node` (bodies, else branches, handlers' bodies)."""
    for name in ("body", "orelse", "finalbody"):
        block = getattr(node, name, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            yield block


def _unreachable(body: list[ast.stmt]) -> int:
    """Statements of a block that follow a return, raise, break or continue in it."""
    for position, statement in enumerate(body):
        if isinstance(statement, JUMPS):
            return len(body) - position - 1
    return 0


def _is_constant(test: ast.expr) -> bool:
    """A test whose truth cannot change: a literal.

    ``while True`` is written so on purpose, and counts the same before and after an edit.
    """
    return isinstance(test, ast.Constant)


def _counter_updates(loop: ast.While) -> int:
    """Assignments in the loop's body to a name its condition reads."""
    tested = {n.id for n in ast.walk(loop.test) if isinstance(n, ast.Name)}
    return sum(1 for name in _assigned(loop.body) if name in tested)


def _assigned(body: list[ast.stmt]) -> Iterator[str]:
    for statement in body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.NamedExpr):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    yield from (n.id for n in ast.walk(target) if isinstance(n, ast.Name))


def _reads(tree: ast.Module) -> dict[str, set[str]]:
    """Each function's own variables (parameters, assigned names) that it reads, by name."""
    found: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            own = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
            own |= set(_assigned(node.body))
            read = {
                n.id
                for n in ast.walk(node)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
            }
            found.setdefault(node.name, set()).update(own & read)
    return found


def _unread(before: dict[str, set[str]], after: dict[str, set[str]]) -> list[str]:
    """Variables a function read before the edit and no longer does: behaviour dropped."""
    return sorted(
        name for function, names in before.items() for name in names - after.get(function, names)
    )
