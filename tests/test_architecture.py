"""The import structure the architecture promises, checked from the source.

No import circle among the project's modules; `sandbox/` and `policies/` never
import `daemon/`; the in-container runners import nothing of the project; a
code cycle never loads torch and a weights cycle never loads libcst.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("daemon", "sandbox", "policies")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `name` imports (the nearest existing module of each import)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            names = [f"{base}.{alias.name}" for alias in node.names]
            if node.module:  # `from . import x` imports x, not the package's own code
                names.append(base)
        else:
            continue
        for imported in names:
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                found.add(imported)
    return found


def graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_circles_are_found_when_there_are_some():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_of_the_project_is_in_an_import_circle():
    assert circles(graph()) == []


def test_sandbox_and_policies_never_import_the_daemon():
    upward = {
        (name, imported)
        for name, imported_set in graph().items()
        if not name.startswith("daemon")
        for imported in imported_set
        if imported.startswith("daemon")
    }
    assert upward == set()


def test_the_runners_inside_the_sandbox_import_nothing_of_the_project():
    runners = {n: i for n, i in graph().items() if n.startswith("sandbox.runners")}
    outside = {(n, i) for n, imported in runners.items() for i in imported}
    assert {(n, i) for n, i in outside if not i.startswith("sandbox.runners")} == set()


@pytest.mark.parametrize(
    ("module", "never"),
    [
        ("daemon.cycles.code", ("torch", "gymnasium", "matplotlib", "safetensors")),
        ("daemon.cycles.weights", ("libcst",)),
        ("daemon.service.nmd", ("torch", "gymnasium", "libcst")),
        ("daemon.cli.main", ("torch", "gymnasium", "libcst")),
    ],
)
def test_a_process_imports_only_what_it_runs(module, never):
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        f"print(' '.join(m for m in {never!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.split() == []
