"""The runner's own integrity: what code under test must not change, checked as tests run.

Code under test runs in the runner's process, so it can reach every object the
runner uses to decide a verdict: pytest's report classes and hooks, the
runner's collector, `sys.modules`. A `Seal` records the identity of each of
those objects (and of each function in their classes) before any code under
test is imported; `broken` names whatever has changed since. A run whose seal
is broken is a forgery: it scores nothing, whatever it reported.

This is one layer, not a proof: code that knows this module can undo its
patches before the check, or patch the check itself. The verdict channel
(`launch`) and the independent verification of an accepted change in a fresh
sandbox (`isolated`) are the other layers (docs/sandbox.md, threat model).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable
from typing import Any

WATCHED: dict[str, tuple[str, ...]] = {
    "_pytest.reports": ("TestReport", "CollectReport", "BaseReport"),
    "_pytest.runner": (
        "call_and_report",
        "runtestprotocol",
        "pytest_runtest_makereport",
        "CallInfo",
        "call_runtest_hook",
        "check_interactive_exception",
    ),
    "_pytest.skipping": (
        "pytest_runtest_makereport",
        "pytest_runtest_setup",
        "pytest_runtest_call",
        "evaluate_xfail_marks",
        "evaluate_skip_marks",
    ),
    "_pytest.python": ("pytest_pyfunc_call", "Function"),
    "_pytest.outcomes": ("skip", "xfail", "fail", "exit", "Skipped", "XFailed", "Failed"),
    "_pytest.main": ("Session",),
    "pluggy": ("HookimplMarker", "PluginManager"),
}
"""Objects of pytest (module -> names) whose replacement could forge an outcome."""
HOOKS = (
    "pytest_runtest_protocol",
    "pytest_runtest_makereport",
    "pytest_runtest_logreport",
    "pytest_report_teststatus",
    "pytest_runtest_call",
    "pytest_pyfunc_call",
)
"""Hooks whose implementations decide or carry a test's outcome."""

Fingerprint = dict[str, int]


def _members(owner: Any) -> Iterable[tuple[str, Any]]:
    """A class's own attributes, or a module's functions and classes, by name."""
    if isinstance(owner, type):
        yield from vars(owner).items()
    else:
        for name, value in vars(owner).items():
            if callable(value) or isinstance(value, type):
                yield name, value


def _fingerprint(objects: dict[str, Any]) -> Fingerprint:
    """The identity of each object, and of each member of the classes and modules among them."""
    prints: Fingerprint = {}
    for label, obj in objects.items():
        prints[label] = id(obj)
        if isinstance(obj, type) or type(obj).__name__ == "module":
            for name, member in _members(obj):
                prints[f"{label}.{name}"] = id(member)
    return prints


class Seal:
    """What the runner relies on, as it was before code under test could touch it."""

    def __init__(self, guarded: dict[str, Any], modules: Iterable[str] = ()) -> None:
        """Seal pytest's verdict machinery, `guarded` (label -> class or module) and `modules`.

        `modules` are names whose entry in `sys.modules` must stay the same module object.
        """
        watched = {}
        for module_name, names in WATCHED.items():
            module = importlib.import_module(module_name)
            for name in names:
                if hasattr(module, name):
                    watched[f"{module_name}.{name}"] = getattr(module, name)
        self.objects = {**watched, **guarded}
        self.prints = _fingerprint(self.objects)
        self.modules = {name: id(sys.modules[name]) for name in modules if name in sys.modules}
        self.hooks: dict[str, list[int]] = {}

    def _shadows(self, label: str) -> bool:
        """Whether a member added to a sealed class overrides one of its bases' members.

        pytest itself caches flags on its classes; only an override can change behaviour.
        """
        owner_label, _, name = label.rpartition(".")
        owner = self.objects.get(owner_label)
        if not isinstance(owner, type):
            return False
        return any(name in vars(base) for base in owner.__mro__[1:])

    def seal_hooks(self, pluginmanager: Any) -> None:
        """Record the implementations of the outcome hooks (once pytest has set them up)."""
        self.hooks = _hook_impls(pluginmanager)

    def broken(self, pluginmanager: Any = None, *, removals: bool = True) -> list[str]:
        """What changed since the seal was made, as short descriptions; [] if nothing.

        `removals=False` ignores members that are gone: pytest removes its own
        patches when a session is unconfigured, so a check after that counts
        only replacements and additions.
        """
        now = _fingerprint(self.objects)
        changed = [f"{label} was replaced" for label, ident in self.prints.items()
                   if now.get(label, None if removals else ident) != ident]  # fmt: skip
        changed += [f"{label} was added" for label in now.keys() - self.prints.keys()
                    if self._shadows(label)]  # fmt: skip
        for name, ident in self.modules.items():
            if id(sys.modules.get(name)) != ident:
                changed.append(f"sys.modules[{name!r}] was replaced")
        if pluginmanager is not None and self.hooks:
            for hook, impls in _hook_impls(pluginmanager).items():
                if impls != self.hooks.get(hook):
                    changed.append(f"the implementations of hook {hook} changed")
        return sorted(changed)


def _hook_impls(pluginmanager: Any) -> dict[str, list[int]]:
    """The identity of each implementation of each outcome hook, in call order."""
    found = {}
    for hook in HOOKS:
        caller = getattr(pluginmanager.hook, hook, None)
        if caller is not None:
            found[hook] = [id(impl.function) for impl in caller.get_hookimpls()]
    return found
