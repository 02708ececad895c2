"""One test, alone: ``python -m nmrunners.isolated_child JOB NODEID``.

Started by `isolated` for each test it verifies, with a signed result channel
(`channel`) whose key is read before anything of the target is imported.
The verdict comes from the test's own phases: the setup, the call and the
teardown each returned without raising (a ``pytest.skip()`` or
``pytest.xfail()`` raised by code under test is an exception like any other,
so it is not a pass), the runner's seal still holds, and the call happened at
all. One result record and the end record go over the channel.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from . import channel, overlay
from .integrity import Seal

PHASES = ("setup", "call", "teardown")


class Verdict:
    """A pytest plugin that watches each phase of the one test for an exception."""

    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid
        self.ran: set[str] = set()
        self.errors: list[str] = []

    def _watch(self, phase: str, item: Any) -> Any:
        if item.nodeid != self.nodeid:
            self.errors.append(f"another test ran: {item.nodeid}")
        try:
            result = yield
        except BaseException as exc:
            self.errors.append(f"{phase}: {type(exc).__name__}: {str(exc)[:300]}")
            raise
        self.ran.add(phase)
        return result

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: Any) -> Any:  # noqa: D102 - pytest hook
        return (yield from self._watch("setup", item))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: Any) -> Any:  # noqa: D102 - pytest hook
        return (yield from self._watch("call", item))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_teardown(self, item: Any, nextitem: Any) -> Any:  # noqa: D102
        return (yield from self._watch("teardown", item))

    def outcome(self, seal: Seal) -> tuple[bool, str]:
        """Passed or not, and why not."""
        broken = seal.broken()
        if broken:
            return False, f"the runner was tampered with: {'; '.join(broken[:3])}"
        if self.errors:
            return False, self.errors[0]
        missing = [p for p in PHASES if p not in self.ran]
        if missing:
            return False, f"never completed its {', '.join(missing)}"
        return True, ""


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    send = channel.sender_from_env()  # first: nothing of the target is imported yet
    job_path, nodeid = sys.argv[1:] if argv is None else argv
    job = json.loads(Path(job_path).read_text())
    src, scratch = job["payload"]["src"], os.getcwd()
    seal = Seal({"Verdict": Verdict, "channel": channel})
    verdict = Verdict(nodeid)
    sys.path.insert(0, src)
    overlay.install(src, job.get("overlays", {}))
    argv_ = ["--rootdir", src, "-p", "no:cacheprovider", "-q", "--tb=no",
             "--basetemp", os.path.join(scratch, f"isolated-{os.getpid()}"),
             os.path.join(src, nodeid)]  # fmt: skip
    try:
        pytest.main(argv_, plugins=[verdict])
    except BaseException as exc:  # code under test may raise SystemExit at import
        verdict.errors.append(f"the session ended early: {type(exc).__name__}")
    passed, reason = verdict.outcome(seal)
    send("result", {"test": nodeid, "passed": passed, "reason": reason})
    send("end", None)
    os._exit(0)  # no exit handlers of the code under test after the verdict


if __name__ == "__main__":
    sys.exit(main())
