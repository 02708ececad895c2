"""Run a target's tests once, with the job's overlays: ``python -m nmrunners.pytest_run JOB``.

Sends the session's result document to the launcher over the authenticated
channel (`channel`), whose key it reads before anything of the tree is
imported; no result file exists for the code under test to forge. The exit
status is pytest's, so a plain reading of the job's outcome is already
meaningful.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from . import channel, overlay
from .pytest_session import per_test_limits, run_session


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    send = channel.sender_from_env()  # first: nothing of the tree is imported yet
    args = sys.argv[1:] if argv is None else argv
    job = json.loads(Path(args[0]).read_text())
    payload = job["payload"]
    src = payload["src"]
    sys.path.insert(0, src)
    overlay.install(src, job.get("overlays", {}))
    scratch = os.getcwd()
    must_pass = frozenset(payload.get("must_pass", ()))
    result = run_session(
        src,
        payload.get("args", []),
        scratch,
        must_pass=must_pass,
        coverage=payload.get("coverage"),
        limits=per_test_limits(payload, job.get("timeout")),
    )
    send("result", result)
    send("end", None)
    return result["exit_status"] if isinstance(result["exit_status"], int) else 3


if __name__ == "__main__":
    sys.exit(main())
