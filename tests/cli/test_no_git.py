"""The CLI reaches git only through the ledger: no GitPython, no `.repo` in daemon/cli."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CLI = Path(__file__).resolve().parents[2] / "daemon" / "cli"
MODULES = sorted(CLI.glob("*.py"))


def imported(tree: ast.AST) -> set[str]:
    """Every module an import statement in `tree` names."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_there_are_modules_to_check():
    assert {p.name for p in MODULES} >= {"main.py", "history.py", "options.py"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_module_imports_git(path):
    tree = ast.parse(path.read_text(), str(path))
    assert not {n for n in imported(tree) if n == "git" or n.startswith("git.")}


PATHS = {"spec", "args"}
"""Names whose ``.repo`` is a path, not a git handle: a `TargetSpec`, and --repo of `args`."""


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_module_touches_a_repo_handle(path):
    tree = ast.parse(path.read_text(), str(path))
    handles = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and (
            node.attr == "git"
            or (
                node.attr == "repo"
                and not (isinstance(node.value, ast.Name) and node.value.id in PATHS)
            )
        )
    ]
    assert not handles, f"{path.name}: a git handle (.repo, .git) at lines {handles}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_command_modules_import_no_other_command_module(path):
    shared = {"daemon.cli.options", "daemon.cli.progress"}
    tree = ast.parse(path.read_text(), str(path))
    if path.name == "main.py":
        return  # main assembles the command modules
    cli = {n for n in imported(tree) if n.startswith("daemon.cli")}
    from_package = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "daemon.cli"
        for alias in node.names
    }
    assert cli - {"daemon.cli"} <= shared
    assert {f"daemon.cli.{n}" for n in from_package} <= shared
